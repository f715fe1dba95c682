"""A month of the model, and a run of months, as one function of arrays (ODD section 3).

:func:`run_months` runs the phases of the process overview in order, month after month,
calling the submodels of :mod:`ci_sim.model.kernels`; the numba engine compiles it with them
(:mod:`ci_sim.model.engines`), so a whole run is one compiled call, and the python engine runs
the very same code as plain Python, the readable specification. The Mesa model
(:mod:`ci_sim.model.model`) builds the state once, then calls :func:`run_months` for one
month per ``step()`` or for a whole run.

The state is grouped in named tuples of arrays, updated in place: :class:`Field` (one row per
organization), :class:`Ties` (meeting lists, trust and working groups), :class:`Population`
(needs and indicators), :class:`Landscape` (the problem's NK landscape and the agenda's view),
:class:`Plays` (players' choices) and the scalars of :data:`CLOCK`. The month's parameters
are a :class:`Rules` tuple of numbers. Random numbers are computed where they are used, from
the ``keys`` of the month's processes (:data:`~ci_sim.model.kernels.PROCESSES`, one unsigned
64-bit key each) and a counter (:func:`~ci_sim.model.kernels.uniform`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ci_sim.model.kernels import (act, agenda_knowledge, allocate_effort, allocate_funding,
                                  commit, gini, grow_capacity, learn_agenda, learn_from_peers,
                                  measure, mobilize, needle_knowledge, normal, payoff,
                                  prevailing_practice, program_quality, respond, set_priorities,
                                  socialize, strategy_scores, turbulence, turn_over, uniform,
                                  update_trust,
                                  AGENDA_OBSERVATION, INDICATOR_SHOCKS, MEASUREMENT_NOISE)
from ci_sim.model.metrics import GATEWAY_LEVELS, METRICS

#: Scalars of the run's state, held in one float array (``clock``) by these indices.
CLOCK = ("month", "backbone_staff", "public_will", "policy", "mean_trust", "meeting_rate",
         "participation", "gateway", "partner_ties", "start_outcome")
MONTH, BACKBONE_STAFF, PUBLIC_WILL, POLICY, MEAN_TRUST, MEETING_RATE, PARTICIPATION, \
    GATEWAY, PARTNER_TIES, START_OUTCOME = range(len(CLOCK))
#: Backbone functions' support, by index (the order of ``params.BACKBONE_FUNCTIONS``).
VISION, ACTIVITIES, MEASUREMENT, WILL, POLICY_WORK, RESOURCES = range(6)
#: Columns of a month's metrics (the order of :data:`~ci_sim.model.metrics.METRICS`).
OUTCOME, IMPROVING, ALIGNMENT, TRUST, DUPLICATION, FUNDING_GINI, BACKBONE_SPEND, GATEWAY_COLUMN, \
    STRATEGY_SCORE, AGENDA_KNOWLEDGE, PARTICIPATION_COLUMN, MONEY_GIVEN, MONEY_RECEIVED = \
    range(len(METRICS))
#: Column of ``GATEWAY_LEVELS`` for the outcome's gain since the start.
GAIN_COLUMN = len(METRICS)
STEPS_PER_YEAR = 12


class Field(NamedTuple):
    """The organizations: one row each, in the order of the Mesa agents."""

    grantee: np.ndarray  #: bool: not a funder
    public: np.ndarray  #: 1.0 for public agencies
    volunteers: np.ndarray  #: 1.0 for sectors residents volunteer with
    funder_shares: np.ndarray  #: each funder's share of the pool (funders only)
    base_capacity: np.ndarray  #: own staff, FTE
    staff_base: np.ndarray  #: own staff this month, with volunteers and public budgets, FTE
    capacity: np.ndarray  #: staff, FTE
    funding: np.ndarray  #: grants last month, money units
    credit: np.ndarray  #: claimable credit: work x quality x fit
    work: np.ndarray  #: FTE on programs this month
    pull: np.ndarray  #: the agenda's pull on the organization's effort, 0..1
    socialization: np.ndarray  #: monthly socialization probability
    fit: np.ndarray  #: context fit of its programs, 0..1
    commitment: np.ndarray  #: commitment to the agenda, 0..1
    participating: np.ndarray  #: 1.0 at the table
    at_table: np.ndarray  #: bool: a grantee at the table
    threshold: np.ndarray  #: its threshold for taking part (7.4)
    stake: np.ndarray  #: how much the problem concerns its mission, 0..1
    mission: np.ndarray  #: n x indicators: what it cares about
    effort: np.ndarray  #: n x indicators: its effort's shares
    beliefs: np.ndarray  #: n x choices, int8 -1/0/+1: its strategy
    before: np.ndarray  #: the strategy at the start of the month
    scored: np.ndarray  #: the strategies ``score`` belongs to
    score: np.ndarray  #: payoff of its strategy / best payoff
    performance: np.ndarray  #: score ** score_exponent
    quality: np.ndarray  #: its programs' quality, 0..1
    adaptive: np.ndarray  #: 1.0: adaptive mindset (learns from peers)
    relationships: np.ndarray  #: 1.0: relationship mindset
    context: np.ndarray  #: 1.0: context expertise
    hoards: np.ndarray  #: 1.0: a grantee claiming credit (no shared-credit mindset)
    claims: np.ndarray  #: credit claimed this month (hoards, or the player's choice)
    attends: np.ndarray  #: bool: at the table and attending meetings this month
    shares: np.ndarray  #: 1.0: shares its data this month
    actions: np.ndarray  #: March's program: this period's actions
    action_score: np.ndarray  #: March's program: their performance (right - wrong) / N
    known_score: np.ndarray  #: its results as seen: the score smoothed over the delay (7.6)
    trial_choice: np.ndarray  #: int64: the choice a running variation flipped (-1: none)
    trial_value: np.ndarray  #: int8: the view the variation holds on that choice
    trial_base: np.ndarray  #: its results as seen when the variation began
    trial_age: np.ndarray  #: months the variation has run


class Ties(NamedTuple):
    """Who meets whom, and trust per tie (:mod:`ci_sim.model.trust`)."""

    network_neighbours: np.ndarray  #: n x network slots, padded with -1
    network_degree: np.ndarray  #: network neighbours of each organization
    neighbours: np.ndarray  #: meeting lists: network neighbours, then working-group mates
    degree: np.ndarray  #: valid slots of each meeting list
    trust: np.ndarray  #: trust of i in ``neighbours[i, d]``, 0..1 (NaN in unused slots)
    met: np.ndarray  #: bool: whether i met ``neighbours[i, d]`` this month
    group: np.ndarray  #: working group of each organization (-1: none)
    group_order: np.ndarray  #: its place in the order partners are dealt into groups
    stored_keys: np.ndarray  #: former group ties i * n + j, sorted (first ``stored[0]``)
    stored_trust: np.ndarray  #: trust i had in j when that tie last ended
    stored: np.ndarray  #: int64[1]: entries in use in the store
    dealt_area: np.ndarray  #: int64 n: area when groups last formed (-1 off the table, -2 never)
    group_scratch: np.ndarray  #: int64 3 x n: working space for forming groups


class Population(NamedTuple):
    """The population's needs and its indicators."""

    needs: np.ndarray  #: real needs over indicators (sum 1)
    priorities: np.ndarray  #: the agenda's priorities
    backbone_priorities: np.ndarray  #: the backbone's own priorities
    indicators: np.ndarray  #: true levels, 0..1
    lift: np.ndarray  #: what the field's work has added to each indicator
    pipeline: np.ndarray  #: effort on its way to the indicators (delay)
    background: np.ndarray  #: where each indicator would be without the field
    trend: np.ndarray  #: each indicator's own monthly trend
    recent_measured: np.ndarray  #: 12 x indicators: the last 12 months' measurements
    launch_measured: np.ndarray  #: the launch year's measurement
    recent: np.ndarray  #: working space: mean of ``recent_measured``
    shocks: np.ndarray  #: working space: this month's shock to each indicator


class Landscape(NamedTuple):
    """The problem's NK landscape (Kauffman 1993) and the agenda's view of it."""

    deps: np.ndarray  #: choices x (K + 1): the choices each contribution depends on
    table: np.ndarray  #: contributions
    flip: np.ndarray  #: int8: relabelling of each choice by turbulence
    best: float  #: best payoff
    code: np.ndarray  #: int8: the agenda's view (March's code)
    prevailing: np.ndarray  #: int8: the field's prevailing practice on each choice
    across: bool  #: some contributions depend on choices across organizations


class Plays(NamedTuple):
    """Players' choices (ODD 7.21): NaN where the model's rule decides, else 0 or 1."""

    claims_credit: np.ndarray
    attends_meetings: np.ndarray
    shares_data: np.ndarray
    follows_agenda: np.ndarray
    grants: np.ndarray  #: share of the program pool each grantee gets from playing funders
    moved: np.ndarray  #: float[1]: share of the program pool playing funders direct


class Rules(NamedTuple):
    """The month's parameters, as plain numbers (ODD section 7; a year without an event is
    ``inf``)."""

    n_grantees: float
    pool: float  #: money funders give per month before shocks
    funding_years: float
    renewal: float
    funding_cut_year: float
    cut_fraction: float
    funder_withdraws_year: float
    fte_cost: float
    rewards_attribution: float
    silver_buckshot: float
    backbone_share: float  #: 0 without a backbone
    backbone_cut_year: float
    half_staff: float
    staff_cost: float
    hiring_months: float
    max_effect: float
    imposes_agenda: float
    systems_months: float
    function_weights: np.ndarray  #: share of backbone staff on each of the six functions
    urgency: float
    champion: float
    champion_leaves_year: float
    mobilization_months: float
    common_agenda: float
    shared_measurement: float
    continuous_communication: float
    mutually_reinforcing: float
    inclusive_decisions: float
    priority_months: float
    self_organized_efficacy: float
    working_group_size: int
    group_slots: int
    groups_month: int
    regroup_months: int
    transaction_cost: float
    setup_cost: float
    setup_months: float
    adjust_months: float
    switching_cost: float
    growth_limit: float
    socialization_rate: float
    agenda_learning_rate: float
    imitation_rate: float
    evidence_fidelity: float
    exploration_rate: float
    turnover: float
    results_lag: float  #: months results take to show (0: strategies judged at once)
    march: bool  #: March's program (``initial_beliefs = "march"``)
    needle: bool  #: a needle landscape
    turbulence: float
    strategy_dependence: float
    score_exponent: float
    shock_sd: float
    measurement_noise: float
    context_gap: float
    indicator_scale: float
    absorptive_capacity: float
    scale_threshold: float
    delay_months: float
    coupling: float
    responsiveness: float
    decay: float
    build_rate: float
    negativity_bias: float
    violation_rate: float
    trust_initial: float


def run_months(months, field, ties, population, landscape, keys, plays, rules, clock, history):
    """Run up to ``months`` months, writing month k's metrics to ``history[k]``.

    Returns the months run: fewer when the trust store has no room left for a regrouping's
    new pairs (:func:`store_room`), so that the caller can enlarge it and go on.
    """
    n = field.grantee.shape[0]
    for k in range(months):
        if ties.stored_keys.shape[0] - ties.stored[0] < n * rules.group_slots:
            return k
        run_month(field, ties, population, landscape, keys, plays, rules, clock,
                  history[k])
    return months


def run_month(field, ties, population, landscape, keys, plays, rules, clock, metrics):
    """One month: the phases of ODD section 3 in order; the month's metrics go to
    ``metrics`` (in the order of METRICS)."""
    month = int(clock[MONTH])
    year = month / STEPS_PER_YEAR
    support = np.empty(6)
    pool, budget = fund_backbone(rules, field, clock, year, support)
    mobilize_partners(field, ties, keys, rules, clock, month, year, pool)
    organize(field, ties, rules, clock, month)
    efficacy = np.empty(3)
    setup_left, measurement, communication, reinforce, inclusion = set_conditions(
        field, rules, clock, month, support, efficacy)
    play_choices(field, plays)
    learn(field, ties, landscape, keys, month, rules, efficacy, setup_left, measurement,
          communication)
    build_trust(field, ties, keys, month, rules, clock)
    target_effort(field, population, rules, reinforce, inclusion)
    duplication = respond_to_effort(field, population, keys, rules, reinforce, month)
    program_pool = pool - budget
    funding_gini = allocate_funding(field, population.priorities, program_pool,
                                    rules.silver_buckshot, 1 + 2 * rules.rewards_attribution)
    if plays.moved[0] > 0.0:
        funding_gini = direct_grants(field, plays, program_pool)
    change_systems(field, rules, clock, support)
    clock[MONTH] = month + 1
    for k in range(population.recent.shape[0]):
        total = 0.0
        for r in range(STEPS_PER_YEAR):
            total += population.recent_measured[r, k]
        population.recent[k] = total / STEPS_PER_YEAR
    received = 0.0
    for i in range(field.funding.shape[0]):
        received += field.funding[i]
    observe(field, population, landscape, rules, clock, population.recent, metrics,
            duplication, funding_gini, budget, pool, received + budget)


def fund_backbone(rules, field, clock, year, support):
    """Phase 1 (ODD 7.2-7.3): each backbone function's support from last month's staff
    (saturating with its staff relative to the field it serves), the month's pool and the
    backbone's budget; staff follow the budget. Writes ``support``; returns (pool, budget)."""
    half = rules.half_staff * rules.n_grantees / 100
    for f in range(6):
        support[f] = 1 - math.exp(-clock[BACKBONE_STAFF] * rules.function_weights[f] / half)
    pool = month_pool(rules, field, year, support[RESOURCES])
    share = rules.backbone_share if year < rules.backbone_cut_year else 0.0
    budget = share * pool
    hire = 1.0 if rules.hiring_months < 1 else 1 / rules.hiring_months
    clock[BACKBONE_STAFF] += hire * (budget / rules.staff_cost - clock[BACKBONE_STAFF])
    return pool, budget


def month_pool(rules, field, year, resources_support):
    """Money funders give this month: committed, then renewed (more with the backbone's
    work on resources), minus shocks (ODD 7.3)."""
    pool = rules.pool
    if year >= rules.funding_years:
        pool *= rules.renewal + (1 - rules.renewal) * rules.max_effect * resources_support
    if year >= rules.funding_cut_year:
        pool *= 1 - rules.cut_fraction
    if year >= rules.funder_withdraws_year:
        pool *= 1 - field.funder_shares.max()
    return pool


def mobilize_partners(field, ties, keys, rules, clock, month, year, pool):
    """Phase 2 (ODD 7.4): organizations decide whether to take part, each against its own
    threshold, moved by urgency, the champion, their peers and the money available."""
    champion = rules.champion if year < rules.champion_leaves_year else 0.0
    adequacy = min(1.0, pool / max(rules.pool, 1e-9))
    clock[PARTICIPATION] = mobilize(field, ties, rules.urgency, champion, adequacy,
                                    min(1.0, 1 / rules.mobilization_months), keys, month)
    for i in range(field.grantee.shape[0]):
        field.at_table[i] = field.grantee[i] and field.participating[i] > 0.5


def organize(field, ties, rules, clock, month):
    """Phase III (ODD 7.5a), organize for impact: once the strategic direction is set,
    partners at the table form working groups around the areas they work on, each of at
    most ``working_group_size``, and meet within them; the groups are reviewed every
    ``regroup_months``. An area's partners are dealt in a fixed random order into as few
    groups as the size allows (Hanleybrown, Kania & Kramer 2012)."""
    if (rules.group_slots == 0 or rules.common_agenda <= 0 or month < rules.groups_month
            or (month - rules.groups_month) % rules.regroup_months):
        return
    n, m = field.effort.shape
    size = rules.working_group_size
    area = ties.group_scratch[0]
    dealt = ties.group_scratch[1]
    # Each partner's area: where most of its effort goes (the first, on a tie).
    unchanged = True
    for i in range(n):
        area[i] = -1
        if field.at_table[i]:
            best = 0
            for j in range(1, m):
                if field.effort[i, j] > field.effort[i, best]:
                    best = j
            area[i] = best
        unchanged = unchanged and area[i] == ties.dealt_area[i]
    if unchanged:
        # The same partners in the same areas are dealt into the same groups, and each
        # group tie would get back from the store the trust it has now.
        return
    counts = np.zeros(m + 1, dtype=np.int64)
    for i in range(n):
        ties.dealt_area[i] = area[i]
        ties.group[i] = -1
        if area[i] >= 0:
            counts[area[i] + 1] += 1
    for j in range(m):
        counts[j + 1] += counts[j]
    # Partners by area, each area in increasing index, then dealt in the fixed random order.
    fill = counts[:m].copy()
    for i in range(n):
        if field.at_table[i]:
            dealt[fill[area[i]]] = i
            fill[area[i]] += 1
    groups = 0
    for j in range(m):
        start, stop = counts[j], counts[j + 1]
        if stop == start:
            continue
        in_area = dealt[start:stop]
        order = np.argsort(ties.group_order[in_area], kind="mergesort")
        count = -(-(stop - start) // size)
        for r in range(stop - start):
            ties.group[in_area[order[r]]] = groups + r % count
        groups += count
    store_group_ties(ties, rules.trust_initial)
    for i in range(n):
        for d in range(ties.network_degree[i], ties.neighbours.shape[1]):
            ties.neighbours[i, d] = -1
        ties.degree[i] = ties.network_degree[i]
    add_group_mates(field, ties, groups)
    load_group_ties(ties, rules.trust_initial)
    clock[PARTNER_TIES] = count_partner_ties(field, ties)


def add_group_mates(field, ties, groups):
    """Append to each member's meeting list, after its network neighbours, the other members
    of its working group that are not network neighbours, in increasing index order."""
    n = field.grantee.shape[0]
    members = ties.group_scratch[2]
    start = np.zeros(groups + 1, dtype=np.int64)
    for i in range(n):
        if ties.group[i] >= 0:
            start[ties.group[i] + 1] += 1
    for g in range(groups):
        start[g + 1] += start[g]
    fill = start[:groups].copy()
    for i in range(n):
        if ties.group[i] >= 0:
            members[fill[ties.group[i]]] = i
            fill[ties.group[i]] += 1
    for g in range(groups):
        for a in range(start[g], start[g + 1]):
            i = members[a]
            for b in range(start[g], start[g + 1]):
                j = members[b]
                if j == i:
                    continue
                known = False
                for d in range(ties.network_degree[i]):
                    if ties.network_neighbours[i, d] == j:
                        known = True
                        break
                if not known:
                    ties.neighbours[i, ties.degree[i]] = j
                    ties.degree[i] += 1


def store_group_ties(ties, initial):
    """Before the working groups re-form: the trust of every working-group slot in use is
    written to the store (a pair not yet in it only if its trust has moved from
    ``initial``), keeping the keys sorted, and the slots are emptied (NaN)."""
    n = ties.neighbours.shape[0]
    count = ties.stored[0]
    keys = ties.stored_keys
    values = ties.stored_trust
    new = 0
    for i in range(n):
        for d in range(ties.network_degree[i], ties.degree[i]):
            key = i * n + ties.neighbours[i, d]
            trust = ties.trust[i, d]
            ties.trust[i, d] = np.nan
            at = np.searchsorted(keys[:count], key)
            if at < count and keys[at] == key:
                values[at] = trust
            elif trust != initial:
                # New pairs are gathered past the end of the store, then sorted and merged.
                keys[count + new] = key
                values[count + new] = trust
                new += 1
    if new == 0:
        return
    order = np.argsort(keys[count:count + new])
    added_keys = keys[count:count + new][order]
    added_values = values[count:count + new][order]
    # Merge the sorted new pairs into the sorted store from the end, in place.
    a = count - 1
    b = new - 1
    for out in range(count + new - 1, -1, -1):
        if b < 0:
            break
        if a >= 0 and keys[a] > added_keys[b]:
            keys[out] = keys[a]
            values[out] = values[a]
            a -= 1
        else:
            keys[out] = added_keys[b]
            values[out] = added_values[b]
            b -= 1
    ties.stored[0] = count + new


def load_group_ties(ties, initial):
    """After the working groups re-form: every working-group slot takes the trust its pair
    had when its group tie last ended (from the store), or ``initial``."""
    n = ties.neighbours.shape[0]
    count = ties.stored[0]
    keys = ties.stored_keys[:count]
    for i in range(n):
        for d in range(ties.network_degree[i], ties.degree[i]):
            key = i * n + ties.neighbours[i, d]
            at = np.searchsorted(keys, key)
            if at < count and keys[at] == key:
                ties.trust[i, d] = ties.stored_trust[at]
            else:
                ties.trust[i, d] = initial


def count_partner_ties(field, ties):
    """Directed ties between grantees (network and working groups): the meetings partners
    could hold in a month."""
    total = 0
    for i in range(ties.neighbours.shape[0]):
        if not field.grantee[i]:
            continue
        for d in range(ties.neighbours.shape[1]):
            j = ties.neighbours[i, d]
            if j >= 0 and field.grantee[j]:
                total += 1
    return total


def set_conditions(field, rules, clock, month, support, efficacy):
    """Phase 3 (ODD 7.5): how far each condition operates; partners' commitment, the
    agenda's pull and socialization, overhead and work. Writes ``efficacy`` (vision,
    activities, measurement); returns (setup_left, measurement, communication, reinforce,
    inclusion)."""
    # Without backbone support, partners govern the work themselves in the meetings they
    # hold (shared governance; Provan & Kenis 2008): as far as they met last month.
    floor = rules.self_organized_efficacy
    unsupported = floor + (1 - floor) * clock[MEETING_RATE]
    for f in range(3):
        efficacy[f] = unsupported + (1 - unsupported) * support[f]
    momentum = clock[PARTICIPATION]
    # An agenda and a measurement system take the set-up phases to build; their cost
    # comes first.
    setup_left = math.exp(-month / rules.setup_months) if rules.setup_months > 0 else 0.0
    measurement = rules.shared_measurement * efficacy[MEASUREMENT] * (1 - setup_left)
    communication = rules.continuous_communication * efficacy[ACTIVITIES]
    # Partners coordinate their activities only as far as they trust each other.
    reinforce = rules.mutually_reinforcing * momentum * efficacy[ACTIVITIES] * clock[MEAN_TRUST]
    inclusion = rules.inclusive_decisions * momentum
    engaged = (rules.common_agenda + rules.shared_measurement + rules.continuous_communication
               + rules.mutually_reinforcing) / 4
    overhead = min(0.9, engaged * (rules.transaction_cost * (1 - 0.5 * support[ACTIVITIES])
                                   + rules.setup_cost * setup_left))
    # Each partner's commitment follows the support the collaboration gets; the agenda
    # pulls and socializes it as far as it is committed; overhead costs work.
    commit(field, rules.common_agenda * efficacy[VISION], 1 / rules.adjust_months, setup_left,
           overhead, rules.socialization_rate, 1 + 9 * rules.imposes_agenda)
    # Advanced policy: public agencies redirect their programs to the agenda's priorities.
    for i in range(field.pull.shape[0]):
        redirected = clock[POLICY] * field.public[i]
        if redirected > field.pull[i]:
            field.pull[i] = redirected
    return setup_left, measurement, communication, reinforce, inclusion


def play_choices(field, plays):
    """Phase 3a (ODD 7.21): players' choices take the place of the rules for the
    organizations they play (NaN: the rule): credit claimed, meetings attended, data shared,
    the agenda followed."""
    for i in range(field.grantee.shape[0]):
        claims = plays.claims_credit[i]
        field.claims[i] = (field.hoards[i] if np.isnan(claims) else claims) * field.grantee[i]
        attends = plays.attends_meetings[i]
        field.attends[i] = field.at_table[i] and (1.0 if np.isnan(attends) else attends) > 0.5
        shares = plays.shares_data[i]
        field.shares[i] = 1.0 if np.isnan(shares) else shares
        follows = plays.follows_agenda[i]
        if not np.isnan(follows):
            field.pull[i] *= follows
            field.socialization[i] *= follows


def learn(field, ties, landscape, keys, month, rules, efficacy, setup_left, measurement,
          communication):
    """Phases 4-8 (ODD 7.6-7.9): learning from peers, turnover, turbulence, socialization
    to the agenda and the agenda's own learning."""
    field.before[:] = field.beliefs
    learn_from_peers(field, ties, landscape, keys, month, rules, communication, measurement)
    field.scored[:] = field.beliefs  # scores are those of these strategies
    if rules.turnover > 0:
        turn_over(field.beliefs, field.trial_choice, keys, month, rules.turnover, rules.march)
    reality_changed = turbulence(landscape.flip, keys, month, rules.turbulence)
    if rules.march:
        # March's program: members act on the period's starting beliefs (an undecided view
        # as a coin flip) and the agenda learns from those actions, not from the beliefs
        # socialization is about to change.
        act(field.beliefs, keys, month, field.actions, landscape.table, landscape.flip,
            field.action_score)
    socialize(field.beliefs, landscape.code, field.socialization, keys, month, rules.march)
    practice_changed = landscape.across \
        and prevailing_practice(field.beliefs, field.grantee, landscape.prevailing)
    strategy_scores(field.beliefs, landscape.deps, landscape.table, landscape.flip,
                    landscape.prevailing, landscape.best, field.score, field.scored,
                    reality_changed or practice_changed)
    if rules.results_lag > 0:  # results show through the problem's delay (7.6)
        for i in range(field.known_score.shape[0]):
            field.known_score[i] += (field.score[i] - field.known_score[i]) / rules.results_lag
    if rules.march:
        views, view_scores = field.actions, field.action_score
        code_score = needle_knowledge(landscape.code, landscape.table, landscape.flip)
    else:
        views = field.beliefs
        view_scores = field.known_score if rules.results_lag > 0 else field.score
        code_score = payoff(landscape.code, landscape.deps, landscape.table,
                            landscape.flip, landscape.prevailing) / landscape.best
    agenda_rate = rules.agenda_learning_rate * measurement * rules.common_agenda \
        * efficacy[VISION] * (1 - setup_left) * (1 - rules.imposes_agenda) ** 2
    seen = np.empty(field.grantee.shape[0], dtype=np.bool_)
    for i in range(seen.shape[0]):
        seen[i] = field.at_table[i] and field.shares[i] > 0.5 \
            and uniform(keys, AGENDA_OBSERVATION, month, i, 0) < measurement
    learn_agenda(landscape.code, views, view_scores, code_score, seen, agenda_rate, keys, month,
                 rules.march)


def build_trust(field, ties, keys, month, rules, clock):
    """Phase 9 (ODD 7.10): meetings build trust slowly; violations (credit hoarding) break
    it fast."""
    clock[MEAN_TRUST] = update_trust(field, ties, keys, month, rules.build_rate,
                                     rules.negativity_bias,
                                     rules.violation_rate * rules.rewards_attribution)
    meetings = 0
    for i in range(ties.met.shape[0]):
        for d in range(ties.met.shape[1]):
            if ties.met[i, d]:
                meetings += 1
    partner_ties = clock[PARTNER_TIES]
    clock[MEETING_RATE] = meetings / partner_ties if partner_ties > 0 else 0.0


def target_effort(field, population, rules, reinforce, inclusion):
    """Phases 10-11 (ODD 7.11-7.12): the agenda's priorities move towards the real needs
    (inclusion) or the backbone's own; partners allocate effort."""
    step_rate = 1 / rules.priority_months
    set_priorities(population.priorities, population.needs, population.backbone_priorities,
                   step_rate * inclusion, step_rate * rules.imposes_agenda)
    allocate_effort(field, population, reinforce, 1 / rules.adjust_months)


def respond_to_effort(field, population, keys, rules, reinforce, month):
    """Phases 12-13 (ODD 7.13, 7.15, 7.19): program quality (switching cost, then the new
    strategy's quality), the indicators' response with their own trends and shocks, and this
    month's measurement. Each indicator's shock and measurement error are standard normal
    numbers of the processes 'indicator_shocks' and 'measurement_noise'. Returns the
    duplication (share of effort the indicators did not absorb)."""
    program_quality(field.quality, field.performance, field.score, field.beliefs,
                    field.before, rules.switching_cost, rules.strategy_dependence,
                    rules.score_exponent, 1 / rules.adjust_months)
    m = population.indicators.shape[0]
    shocks = population.shocks
    for k in range(m):
        shocks[k] = normal(keys, INDICATOR_SHOCKS, month, k) * rules.shock_sd \
            if rules.shock_sd > 0 else 0.0
    duplication = respond(field, population, rules, shocks, reinforce)
    row = month % STEPS_PER_YEAR
    for k in range(m):
        error = normal(keys, MEASUREMENT_NOISE, month, k) * rules.measurement_noise \
            if rules.measurement_noise > 0 else 0.0
        population.recent_measured[row, k] = population.indicators[k] + error
    return duplication


def direct_grants(field, plays, program_pool):
    """Funders played by people (ODD 7.21) give their share of the program pool to the
    grantees they chose, in equal parts; the rest of the pool stays as the rule split it.
    Returns the Gini coefficient of grants."""
    kept = 1.0 - plays.moved[0] if program_pool > 0 else 0.0
    for i in range(field.funding.shape[0]):
        field.funding[i] = field.funding[i] * kept + plays.grants[i] * program_pool
    return gini(field.funding, field.grantee)


def change_systems(field, rules, clock, support):
    """Phase 15 (ODD 7.14, 7.17): public will and policy build up slowly from the backbone's
    work on them and act through organizations: residents volunteer with nonprofits and
    community groups, public agencies add budget; capacity follows base staff and grants."""
    lag = 1 / rules.systems_months
    clock[PUBLIC_WILL] += lag * (support[WILL] - clock[PUBLIC_WILL])
    clock[POLICY] += lag * (support[POLICY_WORK] - clock[POLICY])
    for i in range(field.staff_base.shape[0]):
        field.staff_base[i] = field.base_capacity[i] * (
            1.0 + rules.max_effect * (clock[PUBLIC_WILL] * field.volunteers[i]
                                      + clock[POLICY] * field.public[i]))
    grow_capacity(field.capacity, field.staff_base, field.funding, rules.fte_cost,
                  rules.growth_limit, 1 / rules.adjust_months)


def observe(field, population, landscape, rules, clock, recent, metrics, duplication,
            funding_gini, backbone_spend, money_given, money_received):
    """The month's metrics (ODD 7.19) into ``metrics``, and the gateway reached: passed in
    order while the month meets each gateway's levels (``GATEWAY_LEVELS``; a gateway once
    reached stays reached)."""
    outcome, improving, alignment, strategy_score = measure(
        field.beliefs, landscape.code, field.commitment, field.performance, field.grantee,
        population.needs, population.indicators, recent, population.launch_measured)
    metrics[OUTCOME] = outcome
    metrics[IMPROVING] = improving
    metrics[ALIGNMENT] = alignment
    metrics[TRUST] = clock[MEAN_TRUST]
    metrics[DUPLICATION] = duplication
    metrics[FUNDING_GINI] = funding_gini
    metrics[BACKBONE_SPEND] = backbone_spend
    metrics[STRATEGY_SCORE] = strategy_score
    metrics[AGENDA_KNOWLEDGE] = agenda_knowledge(landscape.code, landscape.deps, landscape.table,
                                                 landscape.flip, landscape.best, rules.needle)
    metrics[PARTICIPATION_COLUMN] = clock[PARTICIPATION]
    metrics[MONEY_GIVEN] = money_given
    metrics[MONEY_RECEIVED] = money_received
    gain = outcome - clock[START_OUTCOME]
    gateway = int(clock[GATEWAY])
    while gateway < GATEWAY_LEVELS.shape[0]:
        passed = True
        for column in range(GATEWAY_LEVELS.shape[1]):
            observed = gain if column == GAIN_COLUMN else metrics[column]
            if observed < GATEWAY_LEVELS[gateway, column]:
                passed = False
        if not passed:
            break
        gateway += 1
    clock[GATEWAY] = gateway
    metrics[GATEWAY_COLUMN] = gateway


#: The functions of this module the engines run (compiled together by the numba engine).
MONTH_FUNCTIONS = ("run_months", "run_month", "fund_backbone", "month_pool",
                   "mobilize_partners", "organize", "add_group_mates", "store_group_ties",
                   "load_group_ties", "count_partner_ties", "set_conditions", "play_choices",
                   "learn", "build_trust", "target_effort", "respond_to_effort",
                   "direct_grants", "change_systems", "observe")
