"""The Collective Impact model: a Mesa model whose month follows the ODD's process overview.

State lives in numpy arrays, one per attribute, addressed by organization index
(:mod:`ci_sim.model.agents` gives each organization a view onto its row). A step is a month,
run as the named phases of ``docs/ODD.md`` section 3; each phase calls the kernels of the
chosen engine (:mod:`ci_sim.model.engines`). Set-up draws from named numpy streams derived
from one seed; the months compute counter-based random numbers from keys derived from it
(:func:`process_keys`, :func:`ci_sim.model.kernels.uniform`). The mechanisms, equations and
sources are in ``docs/ODD.md``.
"""

from __future__ import annotations

import functools
import math
import zlib
from pathlib import Path
from typing import Any, NamedTuple

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Network

from ci_sim.errors import InputError

from ci_sim.model.agents import (COMMUNITY, FUNDER, GRANTEE_SECTOR_MIX, PUBLIC, SECTORS,
                                 VOLUNTEER_SECTORS, Organization)
from ci_sim.model.choices import PlayerChoices
from ci_sim.model.engines import bound_to, engine
from ci_sim.model.kernels import MAX_SLOTS, MAX_UNITS, PROCESSES
from ci_sim.model.metrics import METRICS
from ci_sim.model.month import (BACKBONE_STAFF, CLOCK, GATEWAY, MEAN_TRUST, MEETING_RATE,
                                PARTICIPATION, PARTNER_TIES, POLICY, PUBLIC_WILL, START_OUTCOME,
                                Field, Landscape, Plays, Population, Rules, Ties)
from ci_sim.model.params import BACKBONE_FUNCTIONS, Scenario
from ci_sim.model.scenarios import load_scenario
from ci_sim.model.trust import TieTrust

STEPS_PER_YEAR = 12

try:  # Mesa 3.5 and later: the model's `scenario` keyword is Mesa's own scenario object
    from mesa.experimental.scenarios import Scenario as MesaScenario
except ImportError:  # Mesa 3.3 and 3.4
    MesaScenario = None


def seed_sequence(seed: int, name: str) -> np.random.SeedSequence:
    """The seed sequence ``name`` derived from the base seed (its spawn key is the name's
    CRC-32): what one name draws does not shift what any other draws."""
    return np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),))


def stream(seed: int, name: str) -> np.random.Generator:
    """Random stream ``name`` derived from the base seed (a set-up process)."""
    return np.random.default_rng(seed_sequence(seed, name))


@functools.lru_cache(maxsize=64)
def process_keys(seed: int) -> np.ndarray:
    """The keys of the month's random processes (:data:`~ci_sim.model.kernels.PROCESSES`),
    unsigned 64-bit, in that order: the first words of the seed sequence 'month processes'
    (a process added at the end leaves the others' keys as they were). Kept for the next
    runs on the seed (read-only)."""
    keys = seed_sequence(seed, "month processes").generate_state(len(PROCESSES), np.uint64)
    keys.flags.writeable = False
    return keys


def _clock_reading(index: int, kind: type, doc: str) -> property:
    """A read-only attribute of the model: entry ``index`` of its ``clock`` as ``kind``."""
    return property(lambda model: kind(model.clock[index]), doc=doc)


class CollectiveImpactModel(mesa.Model):
    """Organizations working on a population problem, in isolation or collectively.

    A step is a month. The model stops itself (``running = False``) when it reaches the
    scenario's horizon (``years`` x 12 steps); Mesa's ``steps`` counts the months run.
    ``model.params`` is ci-sim's scenario with every parameter resolved; in Mesa 3.5 and
    later ``model.scenario`` is Mesa's own scenario object.

    Args:
        scenario: ci-sim's scenario: a :class:`Scenario`, a built-in name or a TOML path
            (default ``collective_impact``). Mesa 3.5's ``scenario`` keyword is accepted too:
            a ``mesa.experimental.scenarios.Scenario`` whose attributes are parameters by any
            of their names (``Scenario(rng=1, common_agenda=0.5)``), and which may name ci-sim's
            scenario as ``ci_scenario``.
        ci_scenario: ci-sim's scenario under a name Mesa does not use (what Mesa's
            visualization passes again on Reset); give it or a ci-sim ``scenario``, not both.
        engine_name: ``"numba"`` (default) or ``"python"``; both give the same trajectories.
        record: what the model collects in ``datacollector`` at the start and after each
            month: ``"organizations"`` (default) the metrics, the seed and every
            organization's state (Mesa's model and agent reporters; about 255 bytes per
            organization per month, refused above :data:`MAX_RECORDED_ROWS` rows, e.g.
            100,000 organizations for 10 years); ``"metrics"`` the
            model reporters only (about half the time of a 40-organization run, far less for
            large fields); ``"none"`` nothing (``datacollector.collect(model)`` still works
            when called; :func:`ci_sim.evaluate` reads only ``metrics`` and ``history``).
        seed: the seed (Mesa's ``seed``): a non-negative integer; give it or ``rng``.
        rng: a non-negative integer seed, or a numpy ``Generator``, ``BitGenerator`` or
            ``SeedSequence`` an integer seed is drawn from (Mesa's ``rng``). With neither,
            a seed is drawn from the operating system. The seed used is ``model.seed`` and
            is in every row the DataCollector reports (so ``mesa.batch_run`` reports it).
        **kwargs: parameters by dotted name (``**{"conditions.common_agenda": 0.5}``), by
            identifier (``conditions_common_agenda=0.5``) or by field name where it is unique
            (``common_agenda=0.5``), e.g. for ``mesa.batch_run``. (Named ``kwargs`` as Mesa's
            visualization expects of a model's catch-all keyword argument.)

    Raises:
        InputError: one line naming the parameter, for an unknown, ambiguous or invalid one.
    """

    #: Kernels a subclass replaces, name -> a function with the same arguments, which the
    #: month then calls: a variant of the model (e.g. a deliberately wrong one that a
    #: validation check must reject; see :func:`ci_sim.model.engines.engine`).
    replaced_kernels: dict[str, Any] = {}

    def __init__(self, scenario: Scenario | str | Path | Any | None = None, *,
                 ci_scenario: Scenario | str | Path | None = None, engine_name: str = "numba",
                 record: str = "organizations", seed: int | None = None,
                 rng: int | np.random.Generator | None = None, **kwargs: Any) -> None:
        parameters = kwargs
        mesa_scenario = None
        if MesaScenario is not None and isinstance(scenario, MesaScenario):
            mesa_scenario, scenario = scenario, None
            own = {key: value for key, value in vars(mesa_scenario).items()
                   if key not in ("rng", "model") and not key.startswith("_")}
            ci_scenario = own.pop("ci_scenario", ci_scenario)
            parameters = {**own, **parameters}
            if rng is None and seed is None:
                rng = mesa_scenario.rng
            elif mesa_scenario.rng is not None and mesa_scenario.rng != (
                    rng if rng is not None else seed):
                raise InputError("CollectiveImpactModel: rng and scenario.rng must be the same")
        if scenario is not None and ci_scenario is not None:
            raise InputError("CollectiveImpactModel: scenario and ci_scenario both name ci-sim's "
                             "scenario; give one of them")
        scenario = scenario if scenario is not None else ci_scenario
        self.seed = seed_from(seed, rng)
        if mesa_scenario is not None:
            if mesa_scenario.rng != self.seed:  # Mesa seeds its own generators from it
                mesa_scenario.rng = self.seed
            super().__init__(scenario=mesa_scenario)
        else:
            super().__init__(rng=self.seed)
        self.params = build_scenario(scenario, parameters)
        self.engine_name = engine_name
        self.kernels = engine(engine_name, **self.replaced_kernels)
        if record not in RECORDS:
            raise InputError(f"CollectiveImpactModel: record must be one of "
                             f"{', '.join(RECORDS)}, got {record!r}")
        self.record = record
        #: Months in the scenario's horizon: the model stops itself after this many steps.
        self.horizon = int(round(self.params.years * STEPS_PER_YEAR))
        rows = self.params.organizations.count * (self.horizon + 1)
        if record == "organizations" and rows > MAX_RECORDED_ROWS:
            raise InputError(
                f"CollectiveImpactModel: record='organizations' would keep "
                f"{self.params.organizations.count:,} organizations x {self.horizon + 1:,} "
                f"records (the start and each month) = {rows:,} rows of organization state (about "
                f"{rows * RECORDED_ROW_BYTES / 1e9:.1f} GB), at most {MAX_RECORDED_ROWS:,}; "
                f"pass record='metrics' or record='none', or run fewer organizations or years")
        self._in_month = False
        self._initialize()
        #: Players' choices (participatory workshops): empty unless someone plays (7.21).
        self.choices = PlayerChoices(self.params.organizations.count)
        self._assemble_state()
        start = np.zeros(len(METRICS))
        self.kernels.observe(self._field, self._population, self._landscape, self._rules,
                             self.clock, self.launch_measured, start, 0.0, 0.0, 0.0, 0.0, 0.0)
        self._history = np.empty((self.horizon + 1, len(METRICS)))
        self._history[0] = start
        self._recorded = 1  # rows of _history filled: the start and each month run
        self.datacollector = mesa.DataCollector(
            model_reporters={"seed": "seed", "year": "year",
                             **{name: functools.partial(read_metric, name) for name in METRICS}},
            agent_reporters=dict(ORGANIZATION_REPORTERS) if record == "organizations" else {})
        if record != "none":
            self.datacollector.collect(self)

    # ------------------------------------------------------------------ set-up
    def _initialize(self) -> None:
        s = self.params
        n, m, n_bits = s.organizations.count, s.problem.indicators, s.problem.strategy_bits
        drawn = setup_draws(self.seed, n, s.grantees(), m, n_bits, s.problem.initial_beliefs)
        sector = drawn.sector.copy()
        self.sector = sector
        self.grantee = sector != FUNDER
        self.n_grantees = int(self.grantee.sum())
        self.funder_shares = drawn.funder_shares.copy()

        self.needs = drawn.needs.copy()
        self.funder_priorities = drawn.funder_priorities.copy()
        self.backbone_priorities = drawn.backbone_priorities.copy()
        self.priorities = self.funder_priorities.copy()
        self.mission = drawn.mission.copy()
        self.effort = self.mission.copy()
        self.public = (sector == PUBLIC).astype(np.float64)
        self.volunteers = np.logical_or.reduce(
            [sector == volunteer for volunteer in VOLUNTEER_SECTORS]).astype(np.float64)
        self.base_capacity = (s.organizations.base_capacity * (1.0 + self.public)
                              * drawn.capacity_spread * self.grantee)
        #: Base staff this month: grows with public will (volunteers) and policy (public budgets).
        self.staff_base = self.base_capacity.copy()
        backbone = s.backbone
        share = backbone.budget_share if backbone.enabled and (
            backbone.cut_year is None or backbone.cut_year > 0) else 0.0
        equal_grant = s.pool() * (1 - share) / self.n_grantees
        self.funding = np.where(self.grantee, equal_grant, 0.0)
        self.capacity = np.zeros(n)
        self.kernels.grow_capacity(self.capacity, self.base_capacity, self.funding,
                                   s.funding.fte_cost, s.organizations.growth_limit, 1.0)
        self.credit = self.capacity.copy()
        # Computed every month (ODD 7.5, 7.15): work (FTE), the agenda's pull, the monthly
        # socialization probability and the context fit of each organization.
        self.work = np.zeros(n)
        self.pull = np.zeros(n)
        self.socialization = np.zeros(n)
        self.fit = np.zeros(n)

        shares = s.mindsets
        self.mindsets = {
            "adaptive": (drawn.mindsets[0] < shares.adaptive).astype(np.float64),
            "shared_credit": (drawn.mindsets[1] < shares.shared_credit).astype(np.float64),
            "relationships": (drawn.mindsets[2] < shares.relationships).astype(np.float64),
            "context_expertise": ((drawn.mindsets[3] < shares.context_expertise)
                                  | (sector == COMMUNITY)).astype(np.float64),
        }
        self.hoards = (1.0 - self.mindsets["shared_credit"]) * self.grantee

        self._build_landscape(n_bits)
        self.beliefs = drawn.beliefs.copy()
        self.code = np.zeros(n_bits, dtype=np.int8)
        #: March's program (``initial_beliefs = "march"``): this period's actions and their
        #: performance (right - wrong) / N.
        self.march = s.problem.initial_beliefs == "march"
        self.actions = np.zeros((n, n_bits), dtype=np.int8)
        self.action_score = np.zeros(n)
        if s.backbone.enabled and s.backbone.imposes_agenda > 0:
            self.code = drawn.agenda.copy()
        self.score = np.zeros(n)
        #: The field's prevailing practice on each choice (what most grantees hold).
        self.prevailing = np.zeros(n_bits, dtype=np.int8)
        self.kernels.prevailing_practice(self.beliefs, self.grantee, self.prevailing)
        self.kernels.strategy_scores(self.beliefs, self.deps, self.table, self.flip,
                                     self.prevailing, self.best, self.score, self.beliefs, True)
        dependence = s.problem.strategy_dependence
        #: score ** score_exponent, what a strategy's score is worth to a program.
        self.performance = self.score ** s.problem.score_exponent
        self.quality = (1 - dependence) + dependence * self.performance

        self._build_network(n, drawn.group_order)
        #: Trust of each organization in each other (0..1), stored per tie: ``trust[i, j]``
        #: or :meth:`trust_of` reads it; ``trust.ties`` (aligned with ``neighbours``) is what
        #: the kernels update (:class:`~ci_sim.model.trust.TieTrust`).
        self.trust = TieTrust(self.neighbours, self.degree, self.network_degree, s.trust.initial)
        self.met = np.zeros(self.neighbours.shape, dtype=np.bool_)
        #: The run's scalars (:data:`~ci_sim.model.month.CLOCK`), read through properties.
        self.clock = np.zeros(len(CLOCK))
        self.clock[MEAN_TRUST] = s.trust.initial

        self.indicators = np.full(m, s.problem.baseline)
        #: Where each indicator would be without the field's effort: its own trend and shocks.
        self.background = self.indicators.copy()
        #: What the field's work has added to each indicator (index points).
        self.lift = np.zeros(m)
        self.trend = drawn.trends * s.problem.trend_sd / 12
        #: The launch year's measurement (12 monthly measurements averaged) and the last
        #: 12 months' measurements, for indicators_improving.
        noise = s.problem.measurement_noise
        self.launch_measured = self.indicators + drawn.launch_errors * noise / math.sqrt(
            STEPS_PER_YEAR)
        self.recent_measured = np.tile(self.launch_measured, (STEPS_PER_YEAR, 1))
        #: FTE on one indicator that moves it at the full rate (scales with the field).
        self.indicator_scale = s.problem.effort_scale * self.n_grantees / m
        self.pipeline = np.zeros(m)
        # Preconditions (ODD 7.4): each grantee's threshold for taking part and its stake in
        # the problem: the needs its mission covers, relative to a mission wholly on the
        # most pressing need (0..1).
        self.threshold = s.preconditions.reluctance * drawn.thresholds
        self.stake = self.mission @ self.needs / self.needs.max()
        self.participating = np.zeros(n)
        self.at_table = np.zeros(n, dtype=np.bool_)
        # What players' choices make of the rules this month (7.21): the credit claimed,
        # who attends meetings and who shares data.
        self.claims = self.hoards.copy()
        self.attends = np.zeros(n, dtype=np.bool_)
        self.shares = np.ones(n)
        self.commitment = np.zeros(n)
        weights = np.array([getattr(s.backbone, f) for f in BACKBONE_FUNCTIONS])
        #: Share of backbone staff on each of its six functions.
        self.function_weights = dict(zip(BACKBONE_FUNCTIONS, (
            weights / weights.sum() if weights.sum() > 0 else weights).tolist()))
        self.clock[START_OUTCOME] = self.kernels.measure(  # the outcome index O_0 at the start
            self.beliefs, self.code, self.commitment, self.performance, self.grantee, self.needs,
            self.indicators, self.launch_measured, self.launch_measured)[0]
        self._organizations: list[Organization] = []
        for index in range(n):
            Organization(self, index)

    def _build_landscape(self, n_bits: int) -> None:
        problem = self.params.problem
        deps, table, self.best = problem_landscape(
            self.seed, n_bits, problem.landscape, problem.interdependence, self.engine_name,
            self.replaced_kernels.get("best_payoff"))
        self.deps, self.table = deps.copy(), table.copy()
        # The first floor(across_organizations x K + 1/2) dependencies of each choice (the
        # share of K rounded half up) read the field's prevailing practice (coded N + choice;
        # the best payoff, that of a field holding one strategy, is the same).
        across = math.floor(problem.across_organizations * (self.deps.shape[1] - 1) + 0.5)
        self.deps[:, 1:1 + across] += n_bits
        #: Some contributions depend on choices across organizations.
        self.across = across > 0
        self.flip = np.zeros(n_bits, dtype=np.int8)

    def _build_network(self, n: int, group_order: np.ndarray) -> None:
        learning = self.params.learning
        #: The organizations' network (a networkx graph, shared by the runs of one seed and
        #: network settings: read it, do not change it).
        self.network, network_degree, network_neighbours = informal_network(
            self.seed, n, learning.network, min(learning.degree, n - 1), learning.rewiring)
        #: Informal ties: each organization's network neighbours in increasing order, padded
        #: with -1 (the generators make no self-loops or repeated ties).
        self.network_degree = network_degree.copy()
        self.network_neighbours = network_neighbours.copy()
        # Whom each organization can meet: its network neighbours, then (once working groups
        # form, 7.5a) its group's other members, in slots reserved for them from the start.
        self.group_slots = max(self.params.conditions.working_group_size - 1, 0)
        self.neighbours = np.full((n, self.network_neighbours.shape[1] + self.group_slots), -1,
                                  dtype=np.int64)
        self.neighbours[:, :self.network_neighbours.shape[1]] = self.network_neighbours
        self.degree = self.network_degree.copy()
        #: Working group of each organization (-1: none) and its place in the order partners
        #: are dealt into groups.
        self.group = np.full(n, -1, dtype=np.int64)
        self.group_order = group_order.copy()
        #: Each organization's area when the groups were last formed (-1: not at the table;
        #: -2: no groups formed yet).
        self.dealt_area = np.full(n, -2, dtype=np.int64)

    # ------------------------------------------------------------------ the month's state
    def _assemble_state(self) -> None:
        """Group the arrays the month reads and updates (views, not copies) into the named
        tuples of :mod:`ci_sim.model.month`, and the parameters into its :class:`Rules`."""
        n = self.beliefs.shape[0]
        self._field = Field(
            grantee=self.grantee, public=self.public, volunteers=self.volunteers,
            funder_shares=self.funder_shares, base_capacity=self.base_capacity,
            staff_base=self.staff_base, capacity=self.capacity, funding=self.funding,
            credit=self.credit, work=self.work, pull=self.pull,
            socialization=self.socialization, fit=self.fit, commitment=self.commitment,
            participating=self.participating, at_table=self.at_table, threshold=self.threshold,
            stake=self.stake, mission=self.mission, effort=self.effort, beliefs=self.beliefs,
            before=self.beliefs.copy(), scored=self.beliefs.copy(), score=self.score,
            performance=self.performance, quality=self.quality,
            adaptive=self.mindsets["adaptive"], relationships=self.mindsets["relationships"],
            context=self.mindsets["context_expertise"], hoards=self.hoards, claims=self.claims,
            attends=self.attends, shares=self.shares, actions=self.actions,
            action_score=self.action_score, known_score=self.score.copy(),
            trial_choice=np.full(n, -1, dtype=np.int64), trial_value=np.zeros(n, dtype=np.int8),
            trial_base=np.zeros(n), trial_age=np.zeros(n))
        self._population = Population(
            needs=self.needs, priorities=self.priorities,
            backbone_priorities=self.backbone_priorities, indicators=self.indicators,
            lift=self.lift, pipeline=self.pipeline, background=self.background,
            trend=self.trend, recent_measured=self.recent_measured,
            launch_measured=self.launch_measured, recent=np.zeros_like(self.indicators),
            shocks=np.zeros(len(self.indicators)))
        self._landscape = Landscape(deps=self.deps, table=self.table, flip=self.flip,
                                    best=self.best, code=self.code, prevailing=self.prevailing,
                                    across=self.across)
        if n > MAX_UNITS or max(self.neighbours.shape[1], self.beliefs.shape[1]) > MAX_SLOTS:
            raise ValueError("the month's random numbers count at most "
                             f"{MAX_UNITS} organizations and {MAX_SLOTS} slots")
        #: The keys of the month's random processes (:func:`process_keys`): a writable copy,
        #: as a copied or unpickled model's are, so every model runs one compiled month.
        self.keys = process_keys(self.seed).copy()
        self._plays = Plays(*(self.choices.values[name] for name in (
            "claims_credit", "attends_meetings", "shares_data", "follows_agenda")),
            grants=np.zeros(n), moved=np.zeros(1))
        self._rules = self._month_rules()
        self._reserve_trust_store(regroupings=4)
        self.clock[PARTNER_TIES] = self.kernels.count_partner_ties(self._field, self._ties)

    def _month_rules(self) -> Rules:
        s = self.params
        c, backbone, pre, funding = s.conditions, s.backbone, s.preconditions, s.funding
        problem, learning, trust = s.problem, s.learning, s.trust

        def year(value: float | None) -> float:
            return math.inf if value is None else float(value)

        return Rules(
            n_grantees=float(self.n_grantees), pool=float(s.pool()),
            funding_years=float(pre.funding_years), renewal=float(funding.renewal),
            funding_cut_year=year(funding.cut_year), cut_fraction=float(funding.cut_fraction),
            funder_withdraws_year=year(funding.funder_withdraws_year),
            fte_cost=float(funding.fte_cost),
            rewards_attribution=float(funding.rewards_attribution),
            silver_buckshot=float(s.mindsets.silver_buckshot),
            backbone_share=float(backbone.budget_share) if backbone.enabled else 0.0,
            backbone_cut_year=year(backbone.cut_year), half_staff=float(backbone.half_staff),
            staff_cost=float(backbone.staff_cost), hiring_months=float(backbone.hiring_months),
            max_effect=float(backbone.max_effect), imposes_agenda=float(backbone.imposes_agenda),
            systems_months=float(backbone.systems_months),
            function_weights=np.array(list(self.function_weights.values())),
            urgency=float(pre.urgency), champion=float(pre.champion),
            champion_leaves_year=year(pre.champion_leaves_year),
            mobilization_months=float(pre.mobilization_months),
            common_agenda=float(c.common_agenda), shared_measurement=float(c.shared_measurement),
            continuous_communication=float(c.continuous_communication),
            mutually_reinforcing=float(c.mutually_reinforcing),
            inclusive_decisions=float(c.inclusive_decisions),
            priority_months=float(c.priority_months),
            self_organized_efficacy=float(c.self_organized_efficacy),
            working_group_size=int(c.working_group_size), group_slots=int(self.group_slots),
            groups_month=int(c.groups_month), regroup_months=int(c.regroup_months),
            transaction_cost=float(c.transaction_cost), setup_cost=float(c.setup_cost),
            setup_months=float(c.setup_months),
            adjust_months=float(s.organizations.adjust_months),
            switching_cost=float(s.organizations.switching_cost),
            growth_limit=float(s.organizations.growth_limit),
            socialization_rate=float(learning.socialization_rate),
            agenda_learning_rate=float(learning.agenda_learning_rate),
            imitation_rate=float(learning.imitation_rate),
            evidence_fidelity=float(learning.evidence_fidelity),
            exploration_rate=float(learning.exploration_rate), turnover=float(learning.turnover),
            results_lag=max(1.0, float(problem.delay_months)) if learning.judges_by_results
            else 0.0,
            march=bool(self.march), needle=problem.landscape == "needle",
            turbulence=float(problem.turbulence),
            strategy_dependence=float(problem.strategy_dependence),
            score_exponent=float(problem.score_exponent), shock_sd=float(problem.shock_sd),
            measurement_noise=float(problem.measurement_noise),
            context_gap=float(problem.context_gap), indicator_scale=float(self.indicator_scale),
            absorptive_capacity=float(problem.absorptive_capacity),
            scale_threshold=float(problem.scale_threshold),
            delay_months=float(problem.delay_months), coupling=float(problem.coupling),
            responsiveness=float(problem.responsiveness), decay=float(problem.decay),
            build_rate=float(trust.build_rate), negativity_bias=float(trust.negativity_bias),
            violation_rate=float(trust.violation_rate), trust_initial=float(trust.initial))

    def _reserve_trust_store(self, regroupings: int = 1) -> None:
        """Make room in the trust store for ``regroupings`` regroupings' new pairs (at most
        one per working-group slot each), and point the month's ties at it. Set-up reserves
        room for four: a 10-year run of up to a few hundred organizations then never stops
        to enlarge the store (its store ends at 1.7 and 3.4 regroupings' worth at 40 and
        200 organizations); the memory is only touched as pairs are stored."""
        self.trust.reserve(regroupings * self.beliefs.shape[0] * self.group_slots)
        self._run_month_bound = None  # resolved again for the new ties
        self._ties = Ties(
            network_neighbours=self.network_neighbours, network_degree=self.network_degree,
            neighbours=self.neighbours, degree=self.degree, trust=self.trust.ties, met=self.met,
            group=self.group, group_order=self.group_order, stored_keys=self.trust.keys,
            stored_trust=self.trust.values, stored=self.trust.stored,
            dealt_area=self.dealt_area,
            group_scratch=np.zeros((3, self.beliefs.shape[0]), dtype=np.int64))

    # ------------------------------------------------------------------ months
    def step(self) -> None:
        """Advance one month: the phases of ODD section 3, in order; then record the month
        (``metrics``, ``history``, ``datacollector``) and stop at the horizon."""
        self._in_month = True
        try:
            self._run_months(1)
        finally:
            self._in_month = False
        if self.record != "none":
            self.datacollector.collect(self)
        if self.steps >= self.horizon:
            self.running = False

    def advance(self, months: int | None = None) -> None:
        """Run ``months`` months (default: to the horizon), the same months as that many
        :meth:`step` calls. Without a DataCollector to feed (``record="none"``) they run as
        one call of the engine: with numba, one compiled call for the whole run."""
        months = self.horizon - self.steps if months is None else int(months)
        if months < 0:
            raise ValueError(f"advance: months must be 0 or more, got {months}")
        if self.record != "none":
            for _ in range(months):
                self.step()
            return
        self._run_months(months)
        self.steps += months
        if self.steps >= self.horizon:
            self.running = False

    def __getstate__(self) -> dict[str, Any]:
        """For pickle and deepcopy, which then continue with the very months of the
        original: everything but the bound engine call (compiled code, resolved again at
        the next step)."""
        return {**self.__dict__, "_run_month_bound": None}

    @property
    def history_array(self) -> np.ndarray:
        """The metrics of the start (row 0) and of every month run (row m after month m),
        one column per metric in the order of :data:`~ci_sim.model.METRICS` (a read-only
        view: studies read it without building dicts or DataFrames)."""
        view = self._history[:self._recorded]
        view.flags.writeable = False
        return view

    @property
    def history(self) -> list[dict[str, float]]:
        """The metrics of the start and of every month run, in order, each by name."""
        return [dict(zip(METRICS, row)) for row in self.history_array.tolist()]

    @property
    def metrics(self) -> dict[str, float]:
        """The metrics of the month just run (of the start before the first), by name."""
        return dict(zip(METRICS, self._history[self._recorded - 1].tolist()))

    def _run_months(self, months: int) -> None:
        """Run ``months`` months in the engine, their metrics written to the next rows of
        ``history_array``. A single month (:meth:`step`) calls the engine bound to this
        model's argument types (:func:`.engines.bound_to`), resolved at the first step."""
        self._put_grants()
        first = self._recorded
        if first + months > self._history.shape[0]:  # months past the horizon
            grown = np.empty((max(2 * self._history.shape[0], first + months), len(METRICS)))
            grown[:first] = self._history[:first]
            self._history = grown
        rows = self._history[first:first + months]
        done = 0
        while done < months:
            args = (months - done, self._field, self._ties, self._population, self._landscape,
                    self.keys, self._plays, self._rules, self.clock, rows[done:])
            # The random numbers' unsigned arithmetic wraps by design (kernels.uniform); the
            # python engine would warn of it.
            with np.errstate(over="ignore"):
                if months > 1:
                    done += self.kernels.run_months(*args)
                else:
                    if self._run_month_bound is None:
                        self._run_month_bound = bound_to(self.kernels.run_months, args)
                    done += self._run_month_bound(*args)
            self._recorded = first + done
            if done < months:  # the trust store is full: enlarge it and go on
                self._reserve_trust_store()

    def _put_grants(self) -> None:
        """Funders played by people (ODD 7.21) give their share of the program pool to the
        grantees they chose, in equal parts: each grantee's share of the pool from them.
        Funders among those chosen get nothing; a funder that chose no grantee leaves its
        share to the model's rule."""
        grants, moved = self._plays.grants, self._plays.moved
        grants[:] = 0.0
        moved[0] = 0.0
        if not self.choices.grants:
            return
        funders = np.flatnonzero(~self.grantee)
        for funder in sorted(self.choices.grants):  # in the funders' order
            k = int(np.searchsorted(funders, funder))
            if k == len(funders) or funders[k] != funder:
                continue  # only funders' choices direct money
            chosen = [i for i in self.choices.grants[funder] if self.grantee[i]]
            if not chosen:
                continue
            share = self.funder_shares[k]
            moved[0] += share
            grants[chosen] += share / len(chosen)

    # ------------------------------------------------------------------ the run's scalars
    backbone_staff = _clock_reading(BACKBONE_STAFF, float, "Backbone staff, FTE.")
    public_will = _clock_reading(PUBLIC_WILL, float, "Public will built so far, 0..1 (ODD 7.14).")
    policy = _clock_reading(POLICY, float, "Policy advanced so far, 0..1 (ODD 7.17).")
    mean_trust = _clock_reading(MEAN_TRUST, float, "Mean trust over network ties, 0..1.")
    meeting_rate = _clock_reading(MEETING_RATE, float,
                                  "Share of possible meetings between partners held last month.")
    participation = _clock_reading(PARTICIPATION, float, "Share of grantees at the table.")
    gateway = _clock_reading(GATEWAY, int,
                             "StriveTogether gateway reached, 0 Exploring .. 4 Proof Point.")
    partner_ties = _clock_reading(PARTNER_TIES, int,
                                  "Directed ties between grantees: meetings partners could hold.")
    start_outcome = _clock_reading(START_OUTCOME, float, "The outcome index at the start.")

    def trust_of(self, i: Any, j: Any) -> Any:
        """Trust of organization ``i`` in organization ``j`` (0..1): a float for two indices,
        an array for index arrays (broadcast together). 1 for an organization in itself;
        ``trust.initial`` for a pair that has never met
        (see :class:`~ci_sim.model.trust.TieTrust`)."""
        return self.trust.of(i, j)

    @property
    def month(self) -> int:
        """Months simulated before the month being run (0 in the first); between steps, the
        months run so far. Mesa counts a step in ``steps`` from its start, so during a step
        this is ``steps - 1``: the phases see the time at which their month starts."""
        return self.steps - 1 if self._in_month else self.steps

    @property
    def year(self) -> float:
        """:attr:`month` in years."""
        return self.month / STEPS_PER_YEAR

    @functools.cached_property
    def grid(self) -> Network:
        """The organizations' network as Mesa space: one cell per organization, connected
        as they meet (``learning.network``); each organization is the agent in its cell.
        Built on first use (Mesa's space drawing uses it); the model's own steps read the
        same network as arrays (``neighbours``)."""
        space = Network(self.network, capacity=1, random=self.random)
        for organization in self.organizations:
            space[organization.index].add_agent(organization)
        return space

    @property
    def organizations(self) -> list[Organization]:
        """The organizations, in the order of the model's arrays (row ``i`` is agent ``i``)."""
        return list(self._organizations)


#: Runs on one seed share their network and landscape when these are at most this many
#: array elements (ties; contributions), for at most :data:`SHARED_SETUPS` seeds and settings.
SHARED_SETUP_ELEMENTS = 100_000
SHARED_SETUPS = 64


def shared_setup(elements: Any) -> Any:
    """A set-up step that depends only on its arguments (its random numbers come from its
    own named stream of the seed), kept for the next runs with the same arguments when it is
    small (``elements(*arguments)`` at most :data:`SHARED_SETUP_ELEMENTS`): a study runs
    many points on each seed (common random numbers), which then share the step's result.
    The caller copies what it will change."""
    def decorate(build: Any) -> Any:
        kept = functools.lru_cache(maxsize=SHARED_SETUPS)(build)

        @functools.wraps(build)
        def step(*arguments: Any) -> Any:
            small = elements(*arguments) <= SHARED_SETUP_ELEMENTS
            return (kept if small else build)(*arguments)

        step.cache_info = kept.cache_info
        return step
    return decorate


class SetupDraws(NamedTuple):
    """The random numbers of a run's set-up, each from its own named stream of the seed
    (ODD 7.1-7.4), before any parameter but the field's shape scales them. Read-only: a run
    copies what it changes.

    Attributes:
        sector: each organization's sector (index into ``SECTORS``): the funders, then the
            grantees drawn from ``GRANTEE_SECTOR_MIX``, shuffled (stream 'organizations').
        funder_shares: each funder's share of the pool (flat Dirichlet).
        needs, funder_priorities, backbone_priorities: weights over the indicators
            (Dirichlet(2), stream 'problem').
        mission: each organization's weights over the indicators, centred halfway between
            the funders' priorities and equal weights (Dirichlet, concentration 2m).
        capacity_spread: each organization's base staff relative to the scenario's
            ``base_capacity`` (uniform 0.5-1.5).
        mindsets: uniform numbers, one row per mindset shift (adaptive, shared credit,
            relationships, context expertise): an organization has made a shift when its
            number is below the shift's share (stream 'mindsets').
        beliefs: initial views on each strategy choice (-1 or +1; -1, 0 or +1 for March's
            initial beliefs; stream 'beliefs').
        agenda: the agenda a backbone imposes (stream 'agenda').
        group_order: each organization's place in the order partners are dealt into
            working groups (stream 'groups').
        trends, launch_errors: standard normal numbers for each indicator's own trend and
            the launch measurement's error (streams 'indicator_trends',
            'launch_measurement').
        thresholds: each organization's threshold for taking part, as a share of the
            scenario's ``reluctance`` (uniform 0-1, stream 'thresholds').
    """

    sector: np.ndarray
    funder_shares: np.ndarray
    needs: np.ndarray
    funder_priorities: np.ndarray
    backbone_priorities: np.ndarray
    mission: np.ndarray
    capacity_spread: np.ndarray
    mindsets: np.ndarray
    beliefs: np.ndarray
    agenda: np.ndarray
    group_order: np.ndarray
    trends: np.ndarray
    launch_errors: np.ndarray
    thresholds: np.ndarray


@shared_setup(lambda seed, n, grantees, m, n_bits, initial_beliefs: n * (n_bits + m + 8))
def setup_draws(seed: int, n: int, grantees: int, m: int, n_bits: int, initial_beliefs: str
                ) -> SetupDraws:
    """The set-up's random numbers for ``n`` organizations of which ``grantees`` are not
    funders, ``m`` indicators and ``n_bits`` strategy choices (:class:`SetupDraws`); every
    run on the seed with that shape draws the same ones, whatever its other parameters."""
    orgs, problem = stream(seed, "organizations"), stream(seed, "problem")
    n_funders = n - grantees
    sector = np.full(n, FUNDER, dtype=np.int64)
    sector[n_funders:] = orgs.choice([SECTORS.index(name) for name in GRANTEE_SECTOR_MIX],
                                     size=grantees, p=list(GRANTEE_SECTOR_MIX.values()))
    orgs.shuffle(sector)
    funder_shares = orgs.dirichlet(np.ones(max(n_funders, 1)))
    needs, funder_priorities, backbone_priorities = (problem.dirichlet(np.full(m, 2.0))
                                                     for _ in range(3))
    # One Dirichlet draw per organization, row by row (the same numbers as n single draws).
    mission = orgs.dirichlet(2.0 * m * (0.5 * funder_priorities + 0.5 / m), size=n)
    beliefs = stream(seed, "beliefs").choice(
        [-1, 0, 1] if initial_beliefs == "march" else [-1, 1], size=(n, n_bits))
    drawn = SetupDraws(
        sector=sector, funder_shares=funder_shares, needs=needs,
        funder_priorities=funder_priorities, backbone_priorities=backbone_priorities,
        mission=mission, capacity_spread=orgs.uniform(0.5, 1.5, n),
        mindsets=stream(seed, "mindsets").uniform(size=(4, n)),
        beliefs=beliefs.astype(np.int8),
        agenda=stream(seed, "agenda").choice([-1, 1], size=n_bits).astype(np.int8),
        group_order=stream(seed, "groups").random(n),
        trends=stream(seed, "indicator_trends").normal(0.0, 1.0, m),
        launch_errors=stream(seed, "launch_measurement").normal(0.0, 1.0, m),
        thresholds=stream(seed, "thresholds").random(n))
    for array in drawn:
        array.flags.writeable = False
    return drawn


@shared_setup(lambda seed, n, kind, degree, rewiring: n * max(degree, 2))
def informal_network(seed: int, n: int, kind: str, degree: int, rewiring: float
                     ) -> tuple[nx.Graph, np.ndarray, np.ndarray]:
    """The informal network of ``n`` organizations (ODD 7.6), from the stream 'network': the
    graph, each organization's degree and its neighbours in increasing order, padded with -1."""
    network_seed = int(stream(seed, "network").integers(2**31))
    if kind == "linear":
        graph = nx.cycle_graph(n)
    elif kind == "full":
        graph = nx.complete_graph(n)
    elif kind == "random":
        graph = nx.gnm_random_graph(n, n * degree // 2, seed=network_seed)
    else:
        graph = nx.connected_watts_strogatz_graph(n, max(degree, 2), rewiring,
                                                  seed=network_seed)
    edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    ties = np.concatenate([edges, edges[:, ::-1]])
    ties = ties[np.lexsort((ties[:, 1], ties[:, 0]))]
    network_degree = np.bincount(ties[:, 0], minlength=n).astype(np.int64)
    neighbours = np.full((n, max(int(network_degree.max()), 1)), -1, dtype=np.int64)
    first = np.cumsum(network_degree) - network_degree
    neighbours[ties[:, 0], np.arange(len(ties)) - first[ties[:, 0]]] = ties[:, 1]
    return graph, network_degree, neighbours


@shared_setup(lambda seed, n_bits, kind, k, *engine: n_bits * 2 ** (k + 1))
def problem_landscape(seed: int, n_bits: int, kind: str, k: int, engine_name: str,
                      best_payoff: Any = None) -> tuple[np.ndarray, np.ndarray, float]:
    """The problem's landscape (ODD 7.7; Kauffman 1993), from the stream 'landscape': the
    choices each contribution depends on, the contributions and the best payoff (found by
    the engine's ``best_payoff``, or the one given)."""
    rng = stream(seed, "landscape")
    deps = np.empty((n_bits, k + 1), dtype=np.int64)
    for j in range(n_bits):
        others = np.delete(np.arange(n_bits), j)
        deps[j] = [j, *rng.choice(others, size=k, replace=False)]
    if kind == "needle":
        reality = rng.integers(0, 2, n_bits)
        table = np.zeros((n_bits, 2))
        table[np.arange(n_bits), reality] = 1.0
    else:
        table = rng.uniform(size=(n_bits, 2 ** (k + 1)))
    best = float((best_payoff or engine(engine_name).best_payoff)(deps, table))
    return deps, table, best


def read_metric(name: str, model: CollectiveImpactModel) -> float:
    """Metric ``name`` of the month just run: the DataCollector's model reporter, as a
    ``functools.partial`` of this function (picklable, unlike a lambda)."""
    return float(model.history_array[-1, METRIC_COLUMNS[name]])


#: Each metric's column in ``history_array``.
METRIC_COLUMNS = {name: column for column, name in enumerate(METRICS)}


#: What the model can record in its DataCollector (the ``record`` argument).
RECORDS = ("organizations", "metrics", "none")

#: Memory one organization's row of the DataCollector takes (Mesa keeps a tuple per
#: organization per month), bytes, as measured at 50,000 organizations.
RECORDED_ROW_BYTES = 255
#: Most organization rows ``record="organizations"`` may keep over a run (organizations x
#: (months + 1), about 1.5 GB): 5,000 organizations for 100 years, 50,000 for 10; above it
#: the model refuses and asks for ``record="metrics"`` or ``"none"``.
MAX_RECORDED_ROWS = 6_100_000

#: What the DataCollector records of each organization every month (Mesa agent reporters),
#: under names that differ from the model's metrics (``mesa.batch_run`` merges both into one
#: row): sector; staff (FTE); grants received (money units/month); its strategy's payoff /
#: best payoff (``Organization.strategy_score``); commitment to the agenda (0..1).
ORGANIZATION_REPORTERS = {"sector": "sector", "capacity": "capacity", "funding": "funding",
                          "strategy_payoff": "strategy_score", "commitment": "commitment"}


def seed_from(seed: Any, rng: Any) -> int:
    """The integer seed of a run from Mesa's ``seed`` and ``rng`` arguments.

    Integers are used as they are; a numpy ``Generator`` or ``BitGenerator`` gives one draw;
    a ``SeedSequence`` (or a list of integers, its entropy) gives its first 63-bit state
    word; with neither argument the seed comes from the operating system.
    """
    if seed is not None and rng is not None:
        raise InputError("CollectiveImpactModel: give seed or rng, not both")
    name, value = ("rng", rng) if rng is not None else ("seed", seed)
    if value is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(value, np.random.Generator):
        return int(value.integers(2**63))
    if isinstance(value, np.random.BitGenerator):
        return int(np.random.Generator(value).integers(2**63))
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
            for v in value):
        value = np.random.SeedSequence([int(v) for v in value])
    if isinstance(value, np.random.SeedSequence):
        return int(value.generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0:
        return int(value)
    raise InputError(f"CollectiveImpactModel: {name} must be a non-negative integer, a numpy "
                     f"Generator or SeedSequence, got {value!r}")


def build_scenario(scenario: Any, parameters: dict[str, Any]) -> Scenario:
    """ci-sim's scenario from a :class:`Scenario`, name or path and parameters given by any
    of their names (:func:`ci_sim.model.params.parameter_aliases`), resolved."""
    from ci_sim.model.params import resolve_names
    from ci_sim.model.scenarios import merge, nest, validate

    label = "CollectiveImpactModel"
    try:
        overrides = resolve_names({key: plain_value(value) for key, value in parameters.items()},
                                  label)
    except ValueError as error:
        raise InputError(str(error)) from None
    if isinstance(scenario, Scenario):
        if not overrides:
            return scenario.resolved()
        return validate(merge(scenario.model_dump(), nest(overrides)),
                        f"{label}: {scenario.name} with parameters").resolved()
    if scenario is not None and not isinstance(scenario, (str, Path)):
        raise InputError(f"{label}: scenario must be a ci-sim Scenario, a built-in name or a "
                         f"TOML path, got {type(scenario).__name__}")
    return load_scenario(scenario, overrides, origin="parameters")[0]


def plain_value(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (samplers give numpy scalars)."""
    return value.item() if isinstance(value, np.generic) else value
