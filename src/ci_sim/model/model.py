"""The Collective Impact model: a Mesa model whose month follows the ODD's process overview.

State lives in numpy arrays, one per attribute, addressed by organization index
(:mod:`ci_sim.model.agents` gives each organization a view onto its row). A step is a month,
run as the named phases of ``docs/ODD.md`` section 3; each phase calls the kernels of the
chosen engine (:mod:`ci_sim.model.engines`). Random numbers are drawn in numpy from named
streams derived from one seed. The mechanisms, equations and sources are in ``docs/ODD.md``.
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Network

from ci_sim.errors import InputError

from ci_sim.model.agents import (COMMUNITY, FUNDER, GRANTEE_SECTOR_MIX, PUBLIC, SECTORS,
                                 VOLUNTEER_SECTORS, Organization)
from ci_sim.model.choices import PlayerChoices
from ci_sim.model.engines import engine
from ci_sim.model.metrics import METRICS, gateway_reached
from ci_sim.model.params import BACKBONE_FUNCTIONS, Scenario
from ci_sim.model.scenarios import load_scenario
from ci_sim.model.trust import TieTrust

STEPS_PER_YEAR = 12

try:  # Mesa 3.5 and later: the model's `scenario` keyword is Mesa's own scenario object
    from mesa.experimental.scenarios import Scenario as MesaScenario
except ImportError:  # Mesa 3.3 and 3.4
    MesaScenario = None


def stream(seed: int, name: str) -> np.random.Generator:
    """Random stream ``name`` derived from the base seed: changing one process's draws does
    not shift any other's."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),)))


@dataclass(frozen=True)
class Conditions:
    """How far each condition of collective impact operates this month (ODD 7.4-7.5), all 0..1
    except ``momentum``'s own scale (participation, 0..1)."""

    support: dict[str, float]  #: each backbone function's support (7.2)
    efficacy: dict[str, float]  #: vision, activities, measurement: with and without support
    momentum: float  #: participation (7.4)
    setup_left: float  #: share of the set-up still to do
    measurement: float  #: shared measurement in use
    communication: float  #: continuous communication in use
    reinforce: float  #: mutually reinforcing activities in use (coordination x trust)
    inclusion: float  #: inclusive decision-making in use


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
        self.kernels = engine(engine_name)
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
        self._streams: dict[str, np.random.Generator] = {}
        self._initialize()
        #: Players' choices (participatory workshops): empty unless someone plays (7.21).
        self.choices = PlayerChoices(self.params.organizations.count)
        self.metrics = self._measure(duplication=0.0, funding_gini=self._initial_gini,
                                     backbone_spend=0.0, money_given=0.0, money_received=0.0)
        self.history = [dict(self.metrics)]
        self.datacollector = mesa.DataCollector(
            model_reporters={"seed": "seed", "year": "year",
                             **{name: functools.partial(read_metric, name) for name in METRICS}},
            agent_reporters=dict(ORGANIZATION_REPORTERS) if record == "organizations" else {})
        if record != "none":
            self.datacollector.collect(self)

    def draws(self, name: str) -> np.random.Generator:
        """The named random stream ``name`` of this run."""
        if name not in self._streams:
            self._streams[name] = stream(self.seed, name)
        return self._streams[name]

    def _month_draws(self) -> dict[str, np.ndarray]:
        """This month's uniform draws on [0, 1), by process, cut from one block of the
        'month' stream. The layout depends only on the sizes (organizations, network degree,
        strategy choices), never on other parameters, so scenarios run on one seed share
        their random numbers process by process (common random numbers). The block is
        refilled in place each month: the parts are views onto it, valid until the next."""
        self.draws("month").random(out=self._month_block)
        return self._month_parts

    def _lay_out_month_draws(self, n: int, d: int, n_bits: int) -> None:
        shapes = {"meetings": (n, d), "observation": (n, d), "imitation": (n,),
                  "copying": (n, n_bits), "exploration": (n,), "explored_choice": (n,),
                  "turnover": (n,), "newcomers": (n, n_bits),
                  "turbulence": (n_bits,), "socialization": (n, n_bits),
                  "agenda_observation": (n,), "agenda_adoption": (n_bits,), "conduct": (n, d)}
        self._month_layout, start = {}, 0
        for name, shape in shapes.items():
            stop = start + math.prod(shape)
            self._month_layout[name] = (start, stop, shape)
            start = stop
        self._month_size = start
        self._month_block = np.empty(self._month_size)
        self._month_parts = {name: self._month_block[start:stop].reshape(shape)
                             for name, (start, stop, shape) in self._month_layout.items()}

    # ------------------------------------------------------------------ set-up
    def _initialize(self) -> None:
        s = self.params
        n, m, n_bits = s.organizations.count, s.problem.indicators, s.problem.strategy_bits
        orgs = self.draws("organizations")
        n_funders = n - s.grantees()
        sector = np.full(n, FUNDER, dtype=np.int64)
        grantee_sectors = [SECTORS.index(name) for name in GRANTEE_SECTOR_MIX]
        sector[n_funders:] = orgs.choice(grantee_sectors, size=n - n_funders,
                                         p=list(GRANTEE_SECTOR_MIX.values()))
        orgs.shuffle(sector)
        self.sector = sector
        self.grantee = sector != FUNDER
        self.n_grantees = int(self.grantee.sum())
        self.funder_shares = orgs.dirichlet(np.ones(max(n_funders, 1)))

        problem = self.draws("problem")
        self.needs = problem.dirichlet(np.full(m, 2.0))
        self.funder_priorities = problem.dirichlet(np.full(m, 2.0))
        self.backbone_priorities = problem.dirichlet(np.full(m, 2.0))
        self.priorities = self.funder_priorities.copy()
        # One Dirichlet draw per organization, row by row (the same numbers as n single draws).
        self.mission = orgs.dirichlet(2.0 * m * (0.5 * self.funder_priorities + 0.5 / m), size=n)
        self.effort = self.mission.copy()
        self.public = (sector == PUBLIC).astype(np.float64)
        self.volunteers = np.isin(sector, VOLUNTEER_SECTORS).astype(np.float64)
        self.base_capacity = (s.organizations.base_capacity * (1.0 + self.public)
                              * orgs.uniform(0.5, 1.5, n) * self.grantee)
        #: Base staff this month: grows with public will (volunteers) and policy (public budgets).
        self.staff_base = self.base_capacity.copy()
        equal_grant = s.pool() * (1 - self._backbone_share()) / self.n_grantees
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

        mindset_draws = self.draws("mindsets").uniform(size=(5, n))
        shares = s.mindsets
        self.mindsets = {
            "adaptive": (mindset_draws[0] < shares.adaptive).astype(np.float64),
            "shared_credit": (mindset_draws[1] < shares.shared_credit).astype(np.float64),
            "relationships": (mindset_draws[2] < shares.relationships).astype(np.float64),
            "context_expertise": ((mindset_draws[3] < shares.context_expertise)
                                  | (sector == COMMUNITY)).astype(np.float64),
        }
        self.hoards = (1.0 - self.mindsets["shared_credit"]) * self.grantee

        self._build_landscape(n_bits)
        beliefs = self.draws("beliefs")
        values = [-1, 0, 1] if s.problem.initial_beliefs == "march" else [-1, 1]
        self.beliefs = beliefs.choice(values, size=(n, n_bits)).astype(np.int8)
        self.code = np.zeros(n_bits, dtype=np.int8)
        #: March's program (``initial_beliefs = "march"``): this period's actions, their
        #: performance (right - wrong) / N, and the coin flips for undecided views, drawn
        #: from the stream 'actions' so that the 'month' block of every scenario is unchanged.
        self.march = s.problem.initial_beliefs == "march"
        self.actions = np.zeros((n, n_bits), dtype=np.int8)
        self.action_score = np.zeros(n)
        self._action_draws = np.empty((n, n_bits))
        if s.backbone.enabled and s.backbone.imposes_agenda > 0:
            self.code = self.draws("agenda").choice([-1, 1], size=n_bits).astype(np.int8)
        self.score = np.zeros(n)
        self.kernels.strategy_scores(self.beliefs, self.deps, self.table, self.flip, self.best,
                                     self.score, self.beliefs, True)
        dependence = s.problem.strategy_dependence
        #: score ** score_exponent, what a strategy's score is worth to a program.
        self.performance = self.score ** s.problem.score_exponent
        self.quality = (1 - dependence) + dependence * self.performance

        self._build_network(n)
        self._lay_out_month_draws(n, self.neighbours.shape[1], n_bits)
        #: Trust of each organization in each other (0..1), stored per tie: ``trust[i, j]``
        #: or :meth:`trust_of` reads it; ``trust.ties`` (aligned with ``neighbours``) is what
        #: the kernels update (:class:`~ci_sim.model.trust.TieTrust`).
        self.trust = TieTrust(self.neighbours, self.degree, self.network_degree, s.trust.initial)
        self.met = np.zeros(self.neighbours.shape, dtype=np.bool_)
        self._count_partner_ties()
        self.mean_trust = s.trust.initial

        self.indicators = np.full(m, s.problem.baseline)
        #: Where each indicator would be without the field's effort: its own trend and shocks.
        self.background = self.indicators.copy()
        #: What the field's work has added to each indicator (index points).
        self.lift = np.zeros(m)
        self.trend = self.draws("indicator_trends").normal(0.0, 1.0, m) * s.problem.trend_sd / 12
        #: The launch year's measurement (12 monthly measurements averaged) and the last
        #: 12 months' measurements, for indicators_improving.
        noise = s.problem.measurement_noise
        self.launch_measured = self.indicators + self.draws("launch_measurement").normal(
            0.0, 1.0, m) * noise / math.sqrt(STEPS_PER_YEAR)
        self.recent_measured = np.tile(self.launch_measured, (STEPS_PER_YEAR, 1))
        #: FTE on one indicator that moves it at the full rate (scales with the field).
        self.indicator_scale = s.problem.effort_scale * self.n_grantees / m
        self.pipeline = np.zeros(m)
        # Preconditions (ODD 7.4): each grantee's threshold for taking part and its stake in
        # the problem: the needs its mission covers, relative to a mission wholly on the
        # most pressing need (0..1).
        self.threshold = self.draws("thresholds").uniform(0.0, s.preconditions.reluctance, n)
        self.stake = self.mission @ self.needs / self.needs.max()
        self.participating = np.zeros(n)
        #: Without players every organization shares its data (7.21): one array for the run.
        self._everyone_shares = np.ones(n)
        self.at_table = np.zeros(n, dtype=np.bool_)
        self.participation = 0.0
        #: Share of possible meetings between partners that took place last month.
        self.meeting_rate = 0.0
        self.commitment = np.zeros(n)
        self.backbone_staff = 0.0
        weights = np.array([getattr(s.backbone, f) for f in BACKBONE_FUNCTIONS])
        #: Share of backbone staff on each of its six functions.
        self.function_weights = dict(zip(BACKBONE_FUNCTIONS, (
            weights / weights.sum() if weights.sum() > 0 else weights).tolist()))
        self.public_will = 0.0
        self.policy = 0.0
        self.gateway = 0
        self.start_outcome = self.kernels.measure(  # the outcome index O_0 at the start
            self.beliefs, self.code, self.commitment, self.performance, self.grantee, self.needs,
            self.indicators, self.launch_measured, self.launch_measured)[0]
        self._initial_gini = 0.0
        self._organizations: list[Organization] = []
        for index in range(n):
            Organization(self, index)

    def _build_landscape(self, n_bits: int) -> None:
        problem = self.params.problem
        k = problem.interdependence
        rng = self.draws("landscape")
        self.deps = np.empty((n_bits, k + 1), dtype=np.int64)
        for j in range(n_bits):
            others = np.delete(np.arange(n_bits), j)
            self.deps[j] = [j, *rng.choice(others, size=k, replace=False)]
        if problem.landscape == "needle":
            reality = rng.integers(0, 2, n_bits)
            self.table = np.zeros((n_bits, 2))
            self.table[np.arange(n_bits), reality] = 1.0
        else:
            self.table = rng.uniform(size=(n_bits, 2 ** (k + 1)))
        self.flip = np.zeros(n_bits, dtype=np.int8)
        self.best = float(self.kernels.best_payoff(self.deps, self.table))

    def _build_network(self, n: int) -> None:
        learning = self.params.learning
        seed = int(self.draws("network").integers(2**31))
        degree = min(learning.degree, n - 1)
        if learning.network == "linear":
            graph = nx.cycle_graph(n)
        elif learning.network == "full":
            graph = nx.complete_graph(n)
        elif learning.network == "random":
            graph = nx.gnm_random_graph(n, n * degree // 2, seed=seed)
        else:
            graph = nx.connected_watts_strogatz_graph(n, max(degree, 2), learning.rewiring,
                                                      seed=seed)
        self.network = graph
        #: Informal ties: each organization's network neighbours in increasing order, padded
        #: with -1 (the generators above make no self-loops or repeated ties).
        edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
        ties = np.concatenate([edges, edges[:, ::-1]])
        ties = ties[np.lexsort((ties[:, 1], ties[:, 0]))]
        self.network_degree = np.bincount(ties[:, 0], minlength=n).astype(np.int64)
        self.network_neighbours = np.full((n, max(int(self.network_degree.max()), 1)), -1,
                                          dtype=np.int64)
        first = np.cumsum(self.network_degree) - self.network_degree
        self.network_neighbours[ties[:, 0], np.arange(len(ties)) - first[ties[:, 0]]] = ties[:, 1]
        # Whom each organization can meet: its network neighbours, then (once working groups
        # form, 7.5a) its group's other members. Slots are reserved for them from the start so
        # the month's random numbers keep one layout.
        self.group_slots = max(self.params.conditions.working_group_size - 1, 0)
        self.neighbours = np.full((n, self.network_neighbours.shape[1] + self.group_slots), -1,
                                  dtype=np.int64)
        self.neighbours[:, :self.network_neighbours.shape[1]] = self.network_neighbours
        self.degree = self.network_degree.copy()
        #: Working group of each organization (-1: none) and its place in the order partners
        #: are dealt into groups.
        self.group = np.full(n, -1, dtype=np.int64)
        self.group_order = self.draws("groups").random(n)

    def _count_partner_ties(self) -> None:
        """Directed ties between grantees (network and working groups): the meetings partners
        could hold in a month."""
        valid = self.neighbours >= 0
        self.partner_ties = int((valid & self.grantee[:, None]
                                 & self.grantee[np.where(valid, self.neighbours, 0)]).sum())

    # ------------------------------------------------------------------ one month
    def _backbone_share(self) -> float:
        backbone = self.params.backbone
        year = self.year
        if not backbone.enabled or (backbone.cut_year is not None and year >= backbone.cut_year):
            return 0.0
        return backbone.budget_share

    def _pool(self, resources_support: float) -> float:
        """Money funders give this month: committed, then renewed, minus shocks."""
        s, year = self.params, self.year
        pool = s.pool()
        if year >= s.preconditions.funding_years:
            pool *= s.funding.renewal + (1 - s.funding.renewal) * s.backbone.max_effect * resources_support
        if s.funding.cut_year is not None and year >= s.funding.cut_year:
            pool *= 1 - s.funding.cut_fraction
        if s.funding.funder_withdraws_year is not None and year >= s.funding.funder_withdraws_year:
            pool *= 1 - self.funder_shares.max()
        return pool

    def step(self) -> None:
        """Advance one month: the phases of ODD section 3, in order; then record the month
        (``metrics``, ``history``, ``datacollector``) and stop at the horizon."""
        self._in_month = True
        try:
            self._run_month()
        finally:
            self._in_month = False
        self.history.append(self.metrics)
        if self.record != "none":
            self.datacollector.collect(self)
        if self.steps >= self.horizon:
            self.running = False

    def _run_month(self) -> None:
        support, pool, budget = self._fund_backbone()
        self._mobilize(pool)
        self._organize()
        conditions = self._set_conditions(support)
        self._play_choices()
        self._learn(conditions)
        self._build_trust()
        self._target_effort(conditions)
        duplication = self._respond(conditions)
        funding_gini = self._fund_grantees(pool - budget)
        self._change_systems(support)
        self.metrics = self._measure(duplication=duplication, funding_gini=funding_gini,
                                     backbone_spend=budget, money_given=pool,
                                     money_received=float(self.funding.sum()) + budget)

    def _fund_backbone(self) -> tuple[dict[str, float], float, float]:
        """Phase 1 (ODD 7.2-7.3): backbone support from last month's staff, the month's pool
        and the backbone's budget; staff follow the budget. Returns (support, pool, budget)."""
        backbone = self.params.backbone
        # Each function's support saturates with its staff, relative to the field it serves.
        half = backbone.half_staff * self.n_grantees / 100
        support = {function: 1 - math.exp(-self.backbone_staff * share / half)
                   for function, share in self.function_weights.items()}
        pool = self._pool(support["resources"])
        budget = self._backbone_share() * pool
        hire = 1.0 if backbone.hiring_months < 1 else 1 / backbone.hiring_months
        self.backbone_staff += hire * (budget / backbone.staff_cost - self.backbone_staff)
        return support, pool, budget

    def _mobilize(self, pool: float) -> None:
        """Phase 2 (ODD 7.4): organizations decide whether to take part, each against its own
        threshold, moved by urgency, the champion, their peers and the money available."""
        s, year = self.params, self.year
        pre = s.preconditions
        champion = pre.champion if pre.champion_leaves_year is None or year < pre.champion_leaves_year else 0.0
        adequacy = min(1.0, pool / max(s.pool(), 1e-9))
        self.participation = self.kernels.mobilize(
            self.participating, self.threshold, self.stake, self.network_neighbours,
            self.network_degree, self.grantee, pre.urgency, champion, adequacy, min(1.0, 1 / pre.mobilization_months),
            self.draws("participation").random(len(self.participating)))
        np.logical_and(self.grantee, self.participating > 0.5, out=self.at_table)

    def _organize(self) -> None:
        """Phase III (ODD 7.5a), organize for impact: once the strategic direction is set,
        partners at the table form working groups around the areas they work on, each of at
        most ``conditions.working_group_size``, and meet within them; the groups are reviewed
        every ``conditions.regroup_months``. An area's partners are dealt in a fixed random
        order into as few groups as the size allows (Hanleybrown, Kania & Kramer 2012)."""
        c = self.params.conditions
        if (not self.group_slots or c.common_agenda <= 0 or self.month < c.groups_month
                or (self.month - c.groups_month) % c.regroup_months):
            return
        members = np.flatnonzero(self.at_table)
        area = self.effort[members].argmax(axis=1)
        self.group[:] = -1
        groups = 0
        for focus in np.unique(area):
            in_area = members[area == focus]
            in_area = in_area[np.argsort(self.group_order[in_area], kind="stable")]
            count = -(-len(in_area) // c.working_group_size)
            self.group[in_area] = groups + np.arange(len(in_area)) % count
            groups += count
        self.trust.store_group_ties()
        width = self.network_neighbours.shape[1]
        self.neighbours[:, width:] = -1
        self.neighbours[:, :width] = self.network_neighbours
        self.degree[:] = self.network_degree
        self._add_group_mates(members, c.working_group_size)
        self.trust.load_group_ties()
        self._count_partner_ties()

    def _add_group_mates(self, members: np.ndarray, size: int) -> None:
        """Append to each member's meeting list, after its network neighbours, the other
        members of its working group that are not network neighbours, in increasing index
        order (all members at once: a table of teams, one row of at most ``size`` each)."""
        if not members.size:
            return
        by_group = members[np.argsort(self.group[members], kind="stable")]
        team_group = self.group[by_group]
        starts = np.flatnonzero(np.r_[True, team_group[1:] != team_group[:-1]])
        team = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, by_group.size]))
        teams = np.full((starts.size, size), -1, dtype=np.int64)
        teams[team, np.arange(by_group.size) - starts[team]] = by_group
        mates = teams[team]
        known = self.network_neighbours[by_group]
        new = (mates >= 0) & (mates != by_group[:, None]) \
            & ~(mates[:, :, None] == known[:, None, :]).any(axis=2)
        slot = self.network_degree[by_group][:, None] + np.cumsum(new, axis=1) - 1
        self.neighbours[np.broadcast_to(by_group[:, None], new.shape)[new], slot[new]] = mates[new]
        self.degree[by_group] += new.sum(axis=1)

    def _set_conditions(self, support: dict[str, float]) -> Conditions:
        """Phase 3 (ODD 7.5): how far each condition operates; partners' commitment, the
        agenda's pull and socialization, overhead and work."""
        s, k = self.params, self.kernels
        conditions, backbone = s.conditions, s.backbone
        # Without backbone support, partners govern the work themselves in the meetings they
        # hold (shared governance; Provan & Kenis 2008): as far as they met last month.
        floor = conditions.self_organized_efficacy
        unsupported = floor + (1 - floor) * self.meeting_rate
        efficacy = {f: unsupported + (1 - unsupported) * support[f]
                    for f in ("vision", "activities", "measurement")}
        momentum = self.participation
        # An agenda and a measurement system take the set-up phases to build; their cost comes first.
        setup_left = math.exp(-self.month / conditions.setup_months) if conditions.setup_months > 0 else 0.0
        month = Conditions(
            support=support, efficacy=efficacy, momentum=momentum, setup_left=setup_left,
            measurement=conditions.shared_measurement * efficacy["measurement"] * (1 - setup_left),
            communication=conditions.continuous_communication * efficacy["activities"],
            # Partners coordinate their activities only as far as they trust each other.
            reinforce=conditions.mutually_reinforcing * momentum * efficacy["activities"] * self.mean_trust,
            inclusion=conditions.inclusive_decisions * momentum)
        engaged = (conditions.common_agenda + conditions.shared_measurement
                              + conditions.continuous_communication + conditions.mutually_reinforcing) / 4
        overhead = min(0.9, engaged * (conditions.transaction_cost * (1 - 0.5 * support["activities"])
                                       + conditions.setup_cost * setup_left))
        # Each partner's commitment to the agenda follows the support the collaboration gets;
        # the agenda pulls and socializes it as far as it is committed; overhead costs work.
        k.commit(self.commitment, self.pull, self.socialization, self.work, self.capacity,
                 self.grantee, self.participating, conditions.common_agenda * efficacy["vision"],
                 1 / s.organizations.adjust_months, setup_left, overhead,
                 s.learning.socialization_rate, 1 + 9 * backbone.imposes_agenda)
        # Advanced policy: public agencies redirect their programs to the agenda's priorities.
        np.maximum(self.pull, self.policy * self.public, out=self.pull)
        return month

    def _play_choices(self) -> None:
        """Phase 3a (ODD 7.21): players' choices take the place of the model's rules for the
        organizations they play: credit claimed (``claims``), meetings attended
        (``attends``), data shared (``shares``), the agenda followed (pull and
        socialization). Without players the rules' own arrays are used unchanged."""
        choices = self.choices
        if choices.empty:
            self.claims, self.attends = self.hoards, self.at_table
            self.shares = self._everyone_shares
            return
        self.claims = choices.decide("claims_credit", self.hoards) * self.grantee
        self.attends = self.at_table & (choices.decide("attends_meetings", 1.0) > 0.5)
        self.shares = choices.decide("shares_data", 1.0)
        follows = choices.decide("follows_agenda", 1.0)
        self.pull *= follows
        self.socialization *= follows

    def _learn(self, c: Conditions) -> None:
        """Phases 4-8 (ODD 7.6-7.9): learning from peers, turnover, turbulence,
        socialization to the agenda and the agenda's own learning."""
        s, k = self.params, self.kernels
        learning, problem = s.learning, s.problem
        self._before = self.beliefs.copy()
        u = self._month_draws()
        k.learn_from_peers(self.beliefs, self.score, self.neighbours, self.degree, self.trust.ties,
                           self.met, self.mindsets["adaptive"], self.mindsets["relationships"],
                           u["meetings"], u["observation"], u["imitation"], u["copying"],
                           u["exploration"], u["explored_choice"],
                           self.attends, self.shares, c.communication, c.measurement, learning.imitation_rate,
                           learning.evidence_fidelity, learning.exploration_rate, self.deps, self.table, self.flip, self.best)
        scored = self.beliefs.copy()  # scores are those of these strategies
        if learning.turnover > 0:
            k.turn_over(self.beliefs, u["turnover"], learning.turnover, u["newcomers"],
                        problem.initial_beliefs == "march")
        reality_changed = k.turbulence(self.flip, u["turbulence"], problem.turbulence)
        if self.march:
            # March's program: members act on the period's starting beliefs (an undecided
            # view as a coin flip) and the agenda learns from those actions, not from the
            # beliefs socialization is about to change.
            self.draws("actions").random(out=self._action_draws)
            k.act(self.beliefs, self._action_draws, self.actions, self.table, self.flip,
                  self.action_score)
        k.socialize(self.beliefs, self.code, self.socialization, u["socialization"], self.march)
        k.strategy_scores(self.beliefs, self.deps, self.table, self.flip, self.best, self.score,
                          scored, reality_changed)
        if self.march:
            views, view_scores = self.actions, self.action_score
            code_score = k.needle_knowledge(self.code, self.table, self.flip)
        else:
            views, view_scores = self.beliefs, self.score
            code_score = k.payoff(self.code, self.deps, self.table, self.flip) / self.best
        conditions, backbone = s.conditions, s.backbone
        agenda_rate = learning.agenda_learning_rate * c.measurement * conditions.common_agenda \
            * c.efficacy["vision"] * (1 - c.setup_left) * (1 - backbone.imposes_agenda) ** 2
        k.learn_agenda(self.code, views, view_scores, code_score,
                       (u["agenda_observation"] < c.measurement) & self.at_table
                       & (self.shares > 0.5), agenda_rate,
                       u["agenda_adoption"], self.march)

    def _build_trust(self) -> None:
        """Phase 9 (ODD 7.10): meetings build trust slowly; violations (credit hoarding) break
        it fast."""
        s = self.params
        self.mean_trust = self.kernels.update_trust(
            self.trust.ties, self.neighbours, self.degree, self.network_degree, self.met,
            self.claims, self.mindsets["relationships"], self._month_parts["conduct"],
            s.trust.build_rate, s.trust.negativity_bias,
            s.trust.violation_rate * s.funding.rewards_attribution)
        self.meeting_rate = float(self.met.sum()) / self.partner_ties if self.partner_ties else 0.0

    def _target_effort(self, c: Conditions) -> None:
        """Phases 10-11 (ODD 7.11-7.12): the agenda's priorities move towards the real needs
        (inclusion) or the backbone's own; partners allocate effort."""
        s, k = self.params, self.kernels
        step_rate = 1 / s.conditions.priority_months
        k.set_priorities(self.priorities, self.needs, self.backbone_priorities,
                         step_rate * c.inclusion, step_rate * s.backbone.imposes_agenda)
        k.allocate_effort(self.effort, self.mission, self.priorities, self.needs, self.work,
                          self.mindsets["context_expertise"], self.pull,
                          c.reinforce, 1 / s.organizations.adjust_months)

    def _respond(self, c: Conditions) -> float:
        """Phases 12-13 (ODD 7.13, 7.15, 7.19): program quality (switching cost, then the new
        strategy's quality), the indicators' response and this month's measurement. Returns
        the duplication (share of effort the indicators did not absorb)."""
        s, k = self.params, self.kernels
        problem = s.problem
        k.program_quality(self.quality, self.performance, self.score, self.beliefs, self._before,
                          s.organizations.switching_cost, problem.strategy_dependence,
                          problem.score_exponent, 1 / s.organizations.adjust_months)
        # Indicators' own trends and shocks, and this month's measurement error.
        shocks = self.draws("indicator_shocks").normal(0.0, 1.0, (2, len(self.indicators)))
        duplication = k.respond(self.indicators, self.lift, self.pipeline, self.background, self.trend,
                                shocks[0] * problem.shock_sd, self.effort, self.work,
                                self.quality, self.fit, self.mindsets["context_expertise"],
                                problem.context_gap, self.indicator_scale,
                                problem.absorptive_capacity, c.reinforce, problem.scale_threshold,
                                problem.delay_months, problem.coupling, problem.responsiveness,
                                problem.decay)
        self.recent_measured[self.month % STEPS_PER_YEAR] = \
            self.indicators + shocks[1] * problem.measurement_noise
        return duplication

    def _fund_grantees(self, program_pool: float) -> float:
        """Phase 14 (ODD 7.16): funders split the program pool by credit and fit. Returns the
        Gini coefficient of grants."""
        s = self.params
        funding_gini = self.kernels.allocate_funding(
            self.funding, self.credit, self.work, self.quality, self.fit, self.claims, self.effort,
            self.priorities, self.grantee, program_pool, s.mindsets.silver_buckshot,
            1 + 2 * s.funding.rewards_attribution)
        return self._direct_grants(program_pool) if self.choices.grants else funding_gini

    def _direct_grants(self, program_pool: float) -> float:
        """Funders played by people (ODD 7.21) give their share of the program pool to the
        grantees they chose, in equal parts; the rest of the pool stays as the rule split it.
        Returns the Gini coefficient of grants."""
        funders = np.flatnonzero(~self.grantee)
        moved = {funder: self.funder_shares[k] * program_pool
                 for k, funder in enumerate(funders) if funder in self.choices.grants}
        self.funding *= 1.0 - sum(moved.values()) / program_pool if program_pool > 0 else 0.0
        for funder, amount in moved.items():
            chosen = self.choices.grants[funder]
            self.funding[list(chosen)] += amount / len(chosen)
        return float(self.kernels.gini(self.funding, self.grantee))

    def _change_systems(self, support: dict[str, float]) -> None:
        """Phase 15 (ODD 7.14, 7.17): public will and policy build up slowly from the
        backbone's work on them and act through organizations: residents volunteer with
        nonprofits and community groups, public agencies add budget; capacity follows base
        staff and grants."""
        s = self.params
        backbone = s.backbone
        lag = 1 / backbone.systems_months
        self.public_will += lag * (support["public_will"] - self.public_will)
        self.policy += lag * (support["policy"] - self.policy)
        self.staff_base[:] = self.base_capacity * (
            1.0 + backbone.max_effect * (self.public_will * self.volunteers
                                         + self.policy * self.public))
        self.kernels.grow_capacity(self.capacity, self.staff_base, self.funding, s.funding.fte_cost,
                                   s.organizations.growth_limit, 1 / s.organizations.adjust_months)

    def _measure(self, **flows: float) -> dict[str, float]:
        s, k = self.params, self.kernels
        outcome, improving, alignment, strategy_score = k.measure(
            self.beliefs, self.code, self.commitment, self.performance, self.grantee, self.needs,
            self.indicators, self._recent_measurement(), self.launch_measured)
        metrics = {  # in the order of METRICS
            "outcome": outcome,
            "indicators_improving": improving,
            "agenda_alignment": alignment,
            "mean_trust": float(self.mean_trust),
            "duplication": flows["duplication"],
            "funding_gini": flows["funding_gini"],
            "backbone_spend": flows["backbone_spend"],
            "gateway": 0.0,
            "strategy_score": strategy_score,
            "agenda_knowledge": k.agenda_knowledge(self.code, self.deps, self.table, self.flip,
                                                   self.best, s.problem.landscape == "needle"),
            "participation": float(self.participation),
            "money_given": flows["money_given"],
            "money_received": flows["money_received"],
        }
        self.gateway = gateway_reached(self.gateway,
                                       dict(metrics, outcome_gain=outcome - self.start_outcome))
        metrics["gateway"] = float(self.gateway)
        return metrics

    def _recent_measurement(self) -> np.ndarray:
        """Mean measurement of each indicator over the last 12 months (the launch year's
        measurement before the first month)."""
        return self.launch_measured if self.steps == 0 else self.recent_measured.mean(axis=0)

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


def read_metric(name: str, model: CollectiveImpactModel) -> float:
    """Metric ``name`` of the month just run: the DataCollector's model reporter, as a
    ``functools.partial`` of this function (picklable, unlike a lambda)."""
    return model.metrics[name]


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
