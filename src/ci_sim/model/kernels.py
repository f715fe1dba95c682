"""The step rules, written once as plain loops over arrays.

These functions are the executable specification: the ``python`` engine runs them as written,
the ``numba`` engine compiles the very same code (see :mod:`ci_sim.model.engines`). One source of
truth, two ways to execute it, and tests that check they agree draw for draw. A kernel that
needs a random number computes it where it uses it, with :func:`uniform` from the key of its
process and a counter (the month, the organization, the slot), so nothing is drawn that is not
used and no process's numbers depend on what another drew. Notation follows ``docs/ODD.md``.

Rules that apply the same arithmetic to every organization are written as whole-array numpy
expressions, so the ``python`` engine runs them at numpy speed and ``numba`` fuses them into
one loop; rules that look at neighbours, choices or ranks are loops. Kernels update the
model's arrays in place. Kernels that read many of them take the month's state grouped as
named tuples (:mod:`ci_sim.model.month`: ``field``, ``ties``, ``population``, ``landscape``,
``rules``), not long lists of arrays that could be swapped silently, and name the
parts they use at the top; the small ones take arrays.
"""

from __future__ import annotations

import math

import numpy as np

#: The month's random processes. Each has a key of its own, derived from the run's seed
#: (:func:`ci_sim.model.model.process_keys`), at its index here: a scenario that changes one
#: process leaves the others' numbers as they were (common random numbers, process by process).
PROCESSES = ("meetings", "observation", "imitation", "copying", "exploration",
             "explored_choice", "turnover", "newcomers", "turbulence", "socialization",
             "agenda_observation", "agenda_adoption", "conduct", "participation", "actions",
             "indicator_shocks", "measurement_noise")
(MEETINGS, OBSERVATION, IMITATION, COPYING, EXPLORATION, EXPLORED_CHOICE, TURNOVER, NEWCOMERS,
 TURBULENCE, SOCIALIZATION, AGENDA_OBSERVATION, AGENDA_ADOPTION, CONDUCT, PARTICIPATION,
 ACTIONS, INDICATOR_SHOCKS, MEASUREMENT_NOISE) = range(len(PROCESSES))

# SplitMix64's increment and output mix (Steele, Lea & Flood 2014), and the counter's layout:
# month in bits 40-63, organization (or choice, or indicator) in bits 16-39, slot in bits 0-15.
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_SHIFT_30, _SHIFT_27, _SHIFT_31, _SHIFT_11 = np.uint64(30), np.uint64(27), np.uint64(31), \
    np.uint64(11)
_MONTH_BITS, _UNIT_BITS = np.uint64(40), np.uint64(16)
#: The largest organization index and slot the counter holds.
MAX_UNITS, MAX_SLOTS = 2 ** 24, 2 ** 16


def uniform(keys, process, month, unit, slot):
    """The uniform number in [0, 1) that ``process`` uses in ``month`` for ``unit`` (an
    organization, a choice or an indicator) and its ``slot`` (a meeting partner, a choice; 0
    when there is one number per unit).

    Counter-based (Salmon, Moraes, Dror & Shaw 2011): the number is a function of the
    process's key and the counter (month, unit, slot), not of the numbers drawn before it.
    The function is the output of SplitMix64 (Steele, Lea & Flood 2014) at that counter's
    position in the stream the key seeds: the key plus the counter times the golden-ratio
    increment, mixed; the top 53 bits make the number. The arithmetic is unsigned 64-bit and
    wraps by design (the python engine runs it with numpy's overflow warnings off).
    """
    counter = (np.uint64(month) << _MONTH_BITS) | (np.uint64(unit) << _UNIT_BITS) \
        | np.uint64(slot)
    z = keys[process] + counter * _GAMMA
    z = (z ^ (z >> _SHIFT_30)) * _MIX_1
    z = (z ^ (z >> _SHIFT_27)) * _MIX_2
    z = z ^ (z >> _SHIFT_31)
    return float(z >> _SHIFT_11) * (1.0 / 9007199254740992.0)


def normal(keys, process, month, unit):
    """A standard normal number for ``unit`` in ``month`` (Box & Muller 1958, from the
    unit's slots 0 and 1 of ``process``)."""
    radius = math.sqrt(-2.0 * math.log(1.0 - uniform(keys, process, month, unit, 0)))
    return radius * math.cos(2.0 * math.pi * uniform(keys, process, month, unit, 1))


def payoff(beliefs, deps, table, flip, prevailing):
    """NK payoff of one strategy (Kauffman 1993): mean over choices of the contribution table
    entry picked by the choice and the K choices it depends on.

    A choice held as 0 (undecided, March 1991) contributes nothing. ``flip`` relabels
    choices, which is how turbulence changes reality without changing the best payoff.
    A dependency ``deps[j, d] = N + b`` lies across organizations: it reads choice b as the
    field holds it, ``prevailing[b]`` (the organization's own choice where no practice
    prevails), not as the organization holds it (Rivkin & Siggelkow 2003;
    ``problem.across_organizations``).
    """
    n_bits, width = deps.shape
    total = 0.0
    for j in range(n_bits):
        index = 0
        undecided = False
        for d in range(width):
            choice = deps[j, d]
            if choice >= n_bits:
                choice -= n_bits
                belief = prevailing[choice]
                if belief == 0:
                    belief = beliefs[choice]
            else:
                belief = beliefs[choice]
            if belief == 0:
                undecided = True
                break
            bit = (1 if belief > 0 else 0) ^ (1 if flip[choice] > 0 else 0)
            index = index * 2 + bit
        if not undecided:
            total += table[j, index]
    return total / n_bits


def prevailing_practice(beliefs, grantee, prevailing):
    """The field's prevailing practice on each choice: the side most grantees hold, 0 on a
    tie (Rivkin & Siggelkow 2003: what one unit's choice interacts with in the others').
    Updates ``prevailing`` in place; returns whether any choice's practice changed."""
    n, n_bits = beliefs.shape
    changed = False
    for b in range(n_bits):
        total = 0
        for i in range(n):
            if grantee[i]:
                total += beliefs[i, b]
        side = 1 if total > 0 else (-1 if total < 0 else 0)
        if side != prevailing[b]:
            prevailing[b] = side
            changed = True
    return changed


def mobilize(field, ties, urgency, champion, adequacy, join_rate, keys, month):
    """Who comes to the table this month: a threshold model of collective action (Granovetter
    1978) on the network (Watts 2002), driven by the three preconditions of collective impact
    (Hanleybrown, Kania & Kramer 2012): urgency, an influential champion, adequate resources.

    Grantee i wants to take part when its motive, the mean of three pulls in 0..1 scaled by
    the adequacy of resources, reaches its own threshold ``threshold[i]``::

        motive_i = adequacy * (urgency * stake_i + champion + peers_i) / 3

    where ``stake_i`` is how much the problem concerns its mission and ``peers_i`` the share of
    its grantee neighbours taking part last month. One who wants to join (or leave) does so
    this month with probability ``join_rate`` (process 'participation'). Synchronous: peers
    are read from last month. Updates ``participating`` (1 at the table, 0 not) and returns
    the share of grantees taking part.
    """
    participating, threshold, stake = field.participating, field.threshold, field.stake
    neighbours, degree, grantee = ties.network_neighbours, ties.network_degree, field.grantee
    n = participating.shape[0]
    before = participating.copy()
    total = 0.0
    count = 0
    for i in range(n):
        if not grantee[i]:
            continue
        peers = 0.0
        others = 0
        for d in range(degree[i]):
            j = neighbours[i, d]
            if grantee[j]:
                peers += before[j]
                others += 1
        share = peers / others if others > 0 else 0.0
        motive = adequacy * (urgency * stake[i] + champion + share) / 3.0
        wants = motive >= threshold[i]
        if wants != (before[i] > 0.5) \
                and uniform(keys, PARTICIPATION, month, i, 0) < join_rate:
            participating[i] = 1.0 if wants else 0.0
        total += participating[i]
        count += 1
    return total / count if count > 0 else 0.0


def commit(field, aim, adjust, setup_left, overhead, socialization_rate, amplification):
    """What each partner brings to the collaboration this month (ODD 7.5, 7.8).

    Commitment ``c_i`` moves at rate ``adjust`` towards ``aim`` (common agenda x vision
    efficacy; Kania & Kramer 2011) for grantees at the table (``participating``), towards 0
    for the others. The agenda's pull on a partner is its commitment once the set-up is done,
    ``a_i = c_i (1 - setup_left)``; its monthly socialization probability is
    ``min(1, socialization_rate a_i amplification)`` (March 1991's p1; ``amplification`` =
    1 + 9 x imposes_agenda); its work, FTE, is its capacity less the coordination
    ``overhead`` a partner at the table pays (Witesman & Heiss 2016). Updates ``commitment``
    and writes ``pull``, ``socialization`` and ``work``.
    """
    commitment, pull, socialization = field.commitment, field.pull, field.socialization
    work, capacity, grantee, participating = field.work, field.capacity, field.grantee, \
        field.participating
    commitment += adjust * (aim * participating - commitment) * grantee
    pull[:] = commitment * (1.0 - setup_left)
    socialization[:] = np.minimum(1.0, socialization_rate * pull * amplification)
    work[:] = capacity * (1.0 - overhead * participating) * grantee


def learn_from_peers(field, ties, landscape, keys, month, rules, communication, measurement):
    """Meetings, imitation of a better neighbour, and local exploration (Lazer & Friedman 2007).

    Synchronous: every organization looks at the beliefs and scores of the previous month.
    ``trust[i, d]`` is i's trust (0..1) in its d-th meeting partner ``j = neighbours[i, d]``
    (``trust_ij``; :mod:`ci_sim.model.trust`).
    An organization meets each neighbour with probability ``communication x trust_ij``
    (Ansell & Gash 2008: dialogue needs and builds trust), if both take part (``active``:
    grantees that attend meetings); it takes in a met neighbour's results with probability
    ``trust_ij (m_j + r_i (1 - m_j))``, ``m_j = measurement x shares_j``: shared measurement
    shows the results of those who share their data (``shares`` = 1), relationship-minded
    organizations (r_i = 1) hear them anyway, and either way i uses them as far as it trusts
    j (Levin & Cross 2004). It
    copies the best seen neighbour if that one does better, each differing choice with
    probability ``evidence_fidelity + r_i trust_ij (1 - evidence_fidelity)``: knowledge
    transfer is sticky unless a trusted relationship carries the how (Szulanski 1996).
    Otherwise it tries flipping one choice and keeps it if it pays. Only adaptive
    organizations do either: a technical mindset keeps its program as designed. The choice
    tried is uniform over the N choices. Each decision has its process ('meetings' and
    'observation' by meeting slot, 'imitation', 'copying' by choice, 'exploration',
    'explored_choice').

    When ``rules.results_lag`` > 0 (``learning.judges_by_results``; Sterman 1989, Rahmandad
    2008), organizations judge strategies by results, which show only after that many
    months: what i sees of j, and of itself, is ``known_score`` (the score smoothed over the
    lag, updated by the month) instead of the score; a variation is put into practice at
    once, run for the lag (no other variation meanwhile) and then kept only if the results
    seen rose above those seen when it began, else the choice is flipped back; copying a
    better peer drops a variation under way.
    Writes ``met`` (who met whom) and updates ``beliefs``, ``score`` and the variation under
    way in place.
    """
    beliefs, score, adaptive, relationships = field.beliefs, field.score, field.adaptive, \
        field.relationships
    active, shares = field.attends, field.shares
    neighbours, degree, trust, met = ties.neighbours, ties.degree, ties.trust, ties.met
    imitation_rate, evidence_fidelity, exploration_rate = rules.imitation_rate, \
        rules.evidence_fidelity, rules.exploration_rate
    deps, table, flip, best = landscape.deps, landscape.table, landscape.flip, landscape.best
    prevailing = landscape.prevailing
    lag = rules.results_lag
    n, n_bits = beliefs.shape
    old_beliefs = beliefs.copy()
    old_score = score.copy()
    # What organizations see of strategies' results: at once, or through the delay.
    results = field.known_score if lag > 0 else old_score
    trial = np.empty(n_bits, dtype=beliefs.dtype)
    for i in range(n):
        best_seen = -1
        best_slot = -1
        best_score = results[i]
        for d in range(degree[i]):
            j = neighbours[i, d]
            # Partners take part in meetings with those they trust (Ansell & Gash 2008: trust
            # and face-to-face dialogue build each other).
            met[i, d] = active[i] and active[j] \
                and uniform(keys, MEETINGS, month, i, d) < communication * trust[i, d]
            if not met[i, d]:
                continue
            # i relies on what it sees of j as far as it trusts j (Levin & Cross 2004).
            shown = measurement * shares[j]
            seen = trust[i, d] * (shown + relationships[i] * (1.0 - shown))
            if results[j] > best_score and uniform(keys, OBSERVATION, month, i, d) < seen:
                best_score = results[j]
                best_seen = j
                best_slot = d
        if best_seen >= 0 and adaptive[i] > 0.0 \
                and uniform(keys, IMITATION, month, i, 0) < imitation_rate:
            # Knowledge is sticky unless the relationship carries it (Szulanski 1996).
            fidelity = evidence_fidelity + relationships[i] * trust[i, best_slot] \
                * (1.0 - evidence_fidelity)
            partial = False
            for b in range(n_bits):
                if old_beliefs[best_seen, b] != old_beliefs[i, b]:
                    if uniform(keys, COPYING, month, i, b) < fidelity:
                        beliefs[i, b] = old_beliefs[best_seen, b]
                    else:
                        partial = True
            score[i] = payoff(beliefs[i], deps, table, flip, prevailing) / best \
                if partial or lag > 0 else best_score
            field.trial_choice[i] = -1  # a variation under way is dropped for the copy
        elif adaptive[i] > 0.0 and lag > 0 and field.trial_choice[i] >= 0:
            # A variation is judged once its results have had the delay to show.
            field.trial_age[i] += 1.0
            if field.trial_age[i] >= lag:
                c = field.trial_choice[i]
                if results[i] <= field.trial_base[i] and beliefs[i, c] == field.trial_value[i]:
                    beliefs[i, c] = -field.trial_value[i]
                    score[i] = payoff(beliefs[i], deps, table, flip, prevailing) / best
                field.trial_choice[i] = -1
        elif adaptive[i] > 0.0 and uniform(keys, EXPLORATION, month, i, 0) < exploration_rate:
            c = int(uniform(keys, EXPLORED_CHOICE, month, i, 0) * n_bits)
            if lag > 0:
                # A variation is run before it is judged: the programs change now.
                beliefs[i, c] = -1 if beliefs[i, c] > 0 else 1
                score[i] = payoff(beliefs[i], deps, table, flip, prevailing) / best
                field.trial_choice[i] = c
                field.trial_value[i] = beliefs[i, c]
                field.trial_base[i] = results[i]
                field.trial_age[i] = 0.0
            else:
                for b in range(n_bits):
                    trial[b] = old_beliefs[i, b]
                trial[c] = -1 if trial[c] > 0 else 1
                trial_score = payoff(trial, deps, table, flip, prevailing) / best
                if trial_score > old_score[i]:
                    for b in range(n_bits):
                        beliefs[i, b] = trial[b]
                    score[i] = trial_score


def socialize(beliefs, code, rate, keys, month, stepwise):
    """Partners move towards the agenda's view on choices where they differ (March 1991, p1).

    ``rate[i]`` is organization i's monthly socialization probability. Where the agenda holds
    a view (``code[b] != 0``) and partner i differs, with probability ``rate[i]`` (process
    'socialization', by choice) the partner
    adopts it, or, when ``stepwise`` (March's program, undecided views possible), moves one
    step towards it: -1 -> 0 -> +1 or +1 -> 0 -> -1. An undecided agenda socializes no one.
    """
    n, n_bits = beliefs.shape
    for i in range(n):
        for b in range(n_bits):
            if code[b] != 0 and beliefs[i, b] != code[b] and rate[i] > 0.0 \
                    and uniform(keys, SOCIALIZATION, month, i, b) < rate[i]:
                if not stepwise:
                    beliefs[i, b] = code[b]
                elif code[b] > beliefs[i, b]:
                    beliefs[i, b] = beliefs[i, b] + 1
                else:
                    beliefs[i, b] = beliefs[i, b] - 1


def act(beliefs, keys, month, actions, table, flip, scores):
    """Members act on their beliefs (March 1991's program): a decided view is played as held,
    an undecided one (0) as a fair coin flip (process 'actions', by choice). Writes the
    ``actions`` and each member's action performance ``scores[i]`` = (right - wrong) / N over
    the reality of a needle landscape (``needle_knowledge``)."""
    n, n_bits = beliefs.shape
    for i in range(n):
        for b in range(n_bits):
            if beliefs[i, b] != 0:
                actions[i, b] = beliefs[i, b]
            else:
                actions[i, b] = -1 if uniform(keys, ACTIONS, month, i, b) < 0.5 else 1
        scores[i] = needle_knowledge(actions[i], table, flip)


def learn_agenda(code, views, score, code_score, seen, rate, keys, month, march):
    """The agenda learns from the partners doing better than it (March 1991, p2).

    Superior group: partners whose results are seen and whose score beats the agenda's
    ``code_score``. On each choice where the superior group's majority (non-zero) view
    differs from the agenda, the agenda adopts it with probability 1 - (1 - p2)**k (process
    'agenda_adoption', by choice).

    ``march`` (March's program): ``views`` are the members' actions this period (+1 or -1,
    ``act``), ``score`` their action performance and ``code_score`` the agenda's, both
    (right - wrong) / N; k is the majority minus the minority of the superior group on the
    choice (March 1991, p. 74: the number by which those who differ from the code outnumber
    those who do not). Otherwise ``views`` are the partners' beliefs and k is the number of
    superior members whose view differs from the agenda (undecided ones included) minus the
    number who share it.
    """
    n, n_bits = views.shape
    for b in range(n_bits):
        plus = 0
        minus = 0
        same = 0
        superior = 0
        for i in range(n):
            if seen[i] and score[i] > code_score:
                superior += 1
                if views[i, b] > 0:
                    plus += 1
                elif views[i, b] < 0:
                    minus += 1
                if views[i, b] == code[b]:
                    same += 1
        if plus == minus:
            continue
        majority = 1 if plus > minus else -1
        if majority == code[b]:
            continue
        k = abs(plus - minus) if march else superior - 2 * same
        if k > 0 and uniform(keys, AGENDA_ADOPTION, month, b, 0) < 1.0 - (1.0 - rate) ** k:
            code[b] = majority


def turn_over(beliefs, trial_choice, keys, month, rate, undecided):
    """Staff turnover (March 1991, p. 79): with probability ``rate`` (process 'turnover') an
    organization's strategy is replaced by a newcomer's naive beliefs (process 'newcomers',
    by choice), each choice -1, 0 or +1 equally likely when ``undecided`` views exist, else
    -1 or +1; the newcomer drops the variation under way (``trial_choice`` = -1)."""
    n, n_bits = beliefs.shape
    for i in range(n):
        if uniform(keys, TURNOVER, month, i, 0) < rate:
            trial_choice[i] = -1
            for b in range(n_bits):
                draw = uniform(keys, NEWCOMERS, month, i, b)
                if undecided:
                    beliefs[i, b] = int(draw * 3.0) - 1
                else:
                    beliefs[i, b] = -1 if draw < 0.5 else 1


def turbulence(flip, keys, month, rate):
    """Environmental turbulence (March 1991, p. 80): each choice's right answer flips with
    probability ``rate`` a month (process 'turbulence', by choice; ``flip`` relabels the
    choice; see ``payoff``). Returns
    whether reality changed, in which case every strategy must be scored again."""
    changed = False
    for b in range(flip.shape[0]):
        if rate > 0.0 and uniform(keys, TURBULENCE, month, b, 0) < rate:
            flip[b] ^= 1
            changed = True
    return changed


def update_trust(field, ties, keys, month, build_rate, negativity_bias, violation_chance):
    """Trust builds slowly and breaks fast (negativity bias; Gorobets & Nooteboom 2006).

    For every meeting of the month (network or working-group tie), it is a violation with
    probability ``violation_chance * hoards[j]`` (credit hoarding under competitive funding;
    process 'conduct', by meeting slot);
    otherwise i's trust in j closes a share ``build_rate`` of the gap to 1 (doubled for
    relationship-minded i). A violation removes ``negativity_bias * build_rate`` of the trust
    i has. ``trust[i, d]`` is i's trust (0..1) in its d-th meeting partner
    ``j = neighbours[i, d]`` (:mod:`ci_sim.model.trust`), updated in place. Returns the mean
    trust over network ties (the first ``network_degree[i]`` slots), a measure that does not
    change when working groups re-form.
    """
    trust, neighbours, degree, network_degree, met = ties.trust, ties.neighbours, ties.degree, \
        ties.network_degree, ties.met
    hoards, relationships = field.claims, field.relationships
    n = trust.shape[0]
    total = 0.0
    ties = 0
    for i in range(n):
        for d in range(degree[i]):
            j = neighbours[i, d]
            if met[i, d]:
                chance = violation_chance * hoards[j]
                if chance > 0.0 and uniform(keys, CONDUCT, month, i, d) < chance:
                    trust[i, d] -= min(1.0, negativity_bias * build_rate) * trust[i, d]
                else:
                    trust[i, d] += build_rate * (1.0 + relationships[i]) * (1.0 - trust[i, d])
                    if trust[i, d] > 1.0:
                        trust[i, d] = 1.0
            if d < network_degree[i]:
                total += trust[i, d]
                ties += 1
    return total / ties if ties > 0 else 0.0


def set_priorities(priorities, needs, backbone_priorities, inclusion_rate, imposition_rate):
    """The agenda's priorities over indicators move towards the real needs at
    ``inclusion_rate`` (inclusion / priority_months: as far as the people most affected take
    part; Cabaj & Weaver 2016), then towards the backbone's own at ``imposition_rate``
    (imposes_agenda / priority_months). Rates per month; updates ``priorities`` in place."""
    priorities += inclusion_rate * (needs - priorities)
    priorities += imposition_rate * (backbone_priorities - priorities)


def allocate_effort(field, population, reinforce, adjust):
    """Each organization moves its effort over indicators towards a target, at rate ``adjust``.

    Target: its mission, pulled towards the agenda's priorities by ``pull[i]``; half of it
    follows the real needs if it has context expertise; plus ``reinforce`` times the gap
    between the priorities and the field's current coverage (mutually reinforcing
    activities fill gaps instead of duplicating).
    """
    effort, mission, work, context, pull = field.effort, field.mission, field.work, \
        field.context, field.pull
    priorities, needs = population.priorities, population.needs
    n, m = effort.shape
    coverage = np.zeros(m)
    total = 0.0
    for i in range(n):
        for k in range(m):
            coverage[k] += work[i] * effort[i, k]
        total += work[i]
    if total > 0.0:
        for k in range(m):
            coverage[k] /= total
    target = np.empty(m)
    for i in range(n):
        norm = 0.0
        for k in range(m):
            aim = (1.0 - pull[i]) * mission[i, k] + pull[i] * priorities[k]
            aim = (1.0 - 0.5 * context[i]) * aim + 0.5 * context[i] * needs[k]
            aim += reinforce * (priorities[k] - coverage[k])
            target[k] = aim if aim > 0.0 else 0.0
            norm += target[k]
        for k in range(m):
            goal = target[k] / norm if norm > 0.0 else 1.0 / m
            effort[i, k] += adjust * (goal - effort[i, k])


def respond(field, population, rules, shock, coordinated):
    """Indicators respond to effort: context fit, overlap, scale threshold, delay, interdependence.

    Programs designed without the community's context lose effectiveness: each program's fit
    is ``1 - context_gap (1 - context_i)`` (written to ``fit``).
    W_k = sum_i work_i effort_ik (FTE); S = absorptive * scale is what indicator k absorbs.
    Uncoordinated effort overlaps (two programs serve the same families), absorbing
    S (1 - exp(-W_k / S)); the ``coordinated`` share of effort (mutually reinforcing
    activities) absorbs min(W_k, S). The absorbed effort is scaled by Q_k, the work-weighted
    quality x fit; a sigmoid scale threshold for complicated problems; an exponential delay
    with time constant ``delay``; the gain on indicator k is scaled by (1 - c) + 2 c (mean of
    the other indicators) and by the room left, 1 - level. An indicator is its ``background``
    level, which drifts by its own ``trend`` plus this month's ``shock`` (index points a
    month), plus the ``lift`` the field's work has given it, which fades at rate ``decay``
    without effort. Updates ``indicators``, ``lift``, ``pipeline`` and ``background`` in
    place; returns duplication, the share of effort beyond what indicators absorb.
    """
    indicators, lift, pipeline = population.indicators, population.lift, population.pipeline
    background, trend = population.background, population.trend
    effort, work, quality, fit, context = field.effort, field.work, field.quality, field.fit, \
        field.context
    context_gap, scale, absorptive = rules.context_gap, rules.indicator_scale, \
        rules.absorptive_capacity
    threshold, delay, coupling = rules.scale_threshold, rules.delay_months, rules.coupling
    responsiveness, decay = rules.responsiveness, rules.decay
    fit[:] = 1.0 - context_gap * (1.0 - context)
    n, m = effort.shape
    saturation = absorptive * scale
    raw_total = 0.0
    absorbed_total = 0.0
    drive = np.empty(m)
    for k in range(m):
        raw = 0.0
        useful = 0.0
        for i in range(n):
            share = work[i] * effort[i, k]
            raw += share
            useful += share * quality[i] * fit[i]
        overlapping = -saturation * np.expm1(-raw / saturation) if saturation > 0.0 else 0.0
        absorbed = coordinated * min(raw, saturation) + (1.0 - coordinated) * overlapping
        raw_total += raw
        absorbed_total += absorbed
        mean_quality = useful / raw if raw > 0.0 else 0.0
        size = 1.0
        if threshold > 0.0:
            size = raw * raw / (raw * raw + (threshold * scale) ** 2)
        drive[k] = absorbed * mean_quality * size / scale
    level_sum = 0.0
    for k in range(m):
        level_sum += indicators[k]
    for k in range(m):
        background[k] += trend[k] + shock[k]
        if background[k] < 0.0:
            background[k] = 0.0
        elif background[k] > 1.0:
            background[k] = 1.0
        pipeline[k] += (drive[k] - pipeline[k]) / delay
        others = (level_sum - indicators[k]) / (m - 1) if m > 1 else indicators[k]
        gain = responsiveness * pipeline[k] * ((1.0 - coupling) + 2.0 * coupling * others)
        lift[k] += gain * (1.0 - indicators[k]) - decay * lift[k]
        indicators[k] = background[k] + lift[k]
        if indicators[k] < 0.0:
            indicators[k] = 0.0
        elif indicators[k] > 1.0:
            indicators[k] = 1.0
    return 1.0 - absorbed_total / raw_total if raw_total > 0.0 else 0.0


def allocate_funding(field, priorities, program_pool, buckshot, gamma):
    """Split the program pool between grantees: a portfolio part and an attribution part.

    Each grantee's claimable credit is its work x quality x fit (written to ``credit``);
    hoarders (``hoards`` = 1) claim it twice. A share ``buckshot`` goes as a coordinated
    portfolio, in proportion to each grantee's fit with the agenda,
    sum_j min(effort_ij, priority_j) (silver buckshot); the rest goes in proportion to
    claimed credit raised to ``gamma`` (silver bullet: the best-attributed program gets
    most). Funders receive nothing. Every unit given is received. Returns the Gini
    coefficient of grants.
    """
    funding, credit, work, quality, fit = field.funding, field.credit, field.work, \
        field.quality, field.fit
    hoards, effort, grantee = field.claims, field.effort, field.grantee
    credit[:] = work * quality * fit
    n, m = effort.shape
    fit_with_agenda = np.zeros(n)
    claimed = np.zeros(n)
    fit_sum = 0.0
    claim_sum = 0.0
    grantees = 0
    for i in range(n):
        if grantee[i]:
            for j in range(m):
                fit_with_agenda[i] += min(effort[i, j], priorities[j])
            fit_sum += fit_with_agenda[i]
            claimed[i] = (credit[i] * (1.0 + hoards[i])) ** gamma
            claim_sum += claimed[i]
            grantees += 1
    for i in range(n):
        if not grantee[i]:
            funding[i] = 0.0
            continue
        portfolio = fit_with_agenda[i] / fit_sum if fit_sum > 0.0 else 1.0 / grantees
        bullet = claimed[i] / claim_sum if claim_sum > 0.0 else 1.0 / grantees
        funding[i] = program_pool * (buckshot * portfolio + (1.0 - buckshot) * bullet)
    return gini(funding, grantee)


def grow_capacity(capacity, base_capacity, funding, fte_cost, growth_limit, adjust):
    """Capacity, FTE, moves at rate ``adjust`` towards base staff plus the staff grants buy.

    Grants buy ``growth_limit (1 - exp(-funding / fte_cost / growth_limit))`` FTE: an
    organization grows only so fast, so money concentrated on one program buys less than
    money spread over a portfolio. ``adjust`` = 1 sets capacity to its target at once.
    """
    capacity += adjust * (base_capacity + growth_limit
                          * (1.0 - np.exp(-funding / fte_cost / growth_limit)) - capacity)


def gini(values, include):
    """Gini coefficient of ``values`` over the entries where ``include`` is true (0 = equal).

    Computed from the sorted values: G = sum_i (2i - n - 1) x_(i) / (n sum_i x_i), i = 1..n.
    """
    selected = np.sort(values[include])
    count = selected.shape[0]
    total = 0.0
    weighted = 0.0
    for i in range(count):
        total += selected[i]
        weighted += (2.0 * (i + 1) - count - 1.0) * selected[i]
    if count == 0 or total <= 0.0:
        return 0.0
    return weighted / (count * total)


def measure(beliefs, code, commitment, performance, grantee, needs, indicators, recent_measured,
            launch_measured):
    """The month's observation of the population and the partners (ODD 7.19).

    Outcome: true indicator levels weighted by the real needs. Improving: share of
    indicators whose mean measurement over the last 12 months is above the launch year's
    (what a report card calls "trending in the right direction"; measurements carry error).
    Over partners (grantees): mean agenda alignment, a partner's commitment x the share of
    choices on which it holds the agenda's (decided) view, and mean strategy score,
    ``performance`` = score ** exponent.
    Returns (outcome, improving, alignment, strategy score).
    """
    m = indicators.shape[0]
    outcome = 0.0
    improving = 0
    for k in range(m):
        outcome += needs[k] * indicators[k]
        if recent_measured[k] > launch_measured[k]:
            improving += 1
    n, n_bits = beliefs.shape
    aligned = 0.0
    scored = 0.0
    count = 0
    for i in range(n):
        if not grantee[i]:
            continue
        count += 1
        agree = 0
        for b in range(n_bits):
            if code[b] != 0 and beliefs[i, b] == code[b]:
                agree += 1
        aligned += commitment[i] * agree / n_bits
        scored += performance[i]
    if count == 0:
        return outcome, improving / m, 0.0, 0.0
    return outcome, improving / m, aligned / count, scored / count


def needle_knowledge(view, table, flip):
    """March's (1991) knowledge of a view of a needle landscape's reality:
    (right - wrong) / N, an undecided choice (0) counting as neither. The right answer on
    choice b is +1 if ``table[b, 1]`` pays, else -1, relabelled by ``flip``."""
    n_bits = view.shape[0]
    total = 0
    for b in range(n_bits):
        answer = 1 if table[b, 1] > 0.0 else -1
        if flip[b] > 0:
            answer = -answer
        if view[b] == answer:
            total += 1
        elif view[b] != 0:
            total -= 1
    return total / n_bits


def agenda_knowledge(code, deps, table, flip, best, needle):
    """What the agenda knows of reality (March 1991's knowledge of the code). On a ``needle``
    landscape, (right - wrong) / N (``needle_knowledge``, the measure of March's figures);
    on an NK landscape, the payoff of the agenda were the field to hold it / the best payoff,
    0 while it holds no view."""
    if needle:
        return needle_knowledge(code, table, flip)
    n_bits = code.shape[0]
    decided = False
    for b in range(n_bits):
        if code[b] != 0:
            decided = True
    if not decided:
        return 0.0
    return payoff(code, deps, table, flip, code) / best


def disrupt(quality, beliefs, before, switching_cost):
    """Changing strategy disrupts a program before it pays: quality falls by switching_cost x
    the share of its choices that changed this month (floored at 0)."""
    n, n_bits = beliefs.shape
    for i in range(n):
        changed = 0
        for b in range(n_bits):
            if beliefs[i, b] != before[i, b]:
                changed += 1
        quality[i] *= max(0.0, 1.0 - switching_cost * changed / n_bits)


def program_quality(quality, performance, score, beliefs, before, switching_cost, dependence,
                    exponent, adjust):
    """Programs' quality (0..1) this month: the switching cost of changed choices (``disrupt``),
    then a move at rate ``adjust`` towards the quality of the strategy held,
    ``(1 - dependence) + dependence x performance``, where ``performance`` = score ** exponent
    (written to ``performance``; Lazer & Friedman 2007, p. 677)."""
    disrupt(quality, beliefs, before, switching_cost)
    performance[:] = score ** exponent
    quality += adjust * ((1.0 - dependence) + dependence * performance - quality)


def strategy_scores(beliefs, deps, table, flip, prevailing, best, out, scored, every):
    """Normalized payoff (payoff / best payoff) of each organization's strategy.

    ``out`` holds the scores of the strategies in ``scored``; only rows whose strategy
    differs from it are recomputed, or every row when ``every`` (reality, or the field's
    prevailing practice they depend on, changed).
    """
    n, n_bits = beliefs.shape
    for i in range(n):
        changed = every
        b = 0
        while not changed and b < n_bits:
            changed = beliefs[i, b] != scored[i, b]
            b += 1
        if changed:
            out[i] = payoff(beliefs[i], deps, table, flip, prevailing) / best


def best_payoff(deps, table):
    """Maximum payoff over all 2**N strategies.

    With K = 0 the choices are separable and the maximum is the mean of each choice's best
    entry; otherwise it is found by exhaustive search (N <= 24).
    """
    n_bits, width = deps.shape
    if width == 1:
        total = 0.0
        for j in range(n_bits):
            total += max(table[j, 0], table[j, 1])
        return total / n_bits
    trial = np.empty(n_bits, dtype=np.int8)
    no_flip = np.zeros(n_bits, dtype=np.int8)
    best = 0.0
    for code in range(2 ** n_bits):
        for b in range(n_bits):
            trial[b] = 1 if (code >> b) & 1 else -1
        value = payoff(trial, deps, table, no_flip, trial)
        if value > best:
            best = value
    return best
