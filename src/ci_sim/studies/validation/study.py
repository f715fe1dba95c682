"""Validation by docking: ci-sim reproduces published agent-based results with its own mechanisms.

A new agent-based model earns trust when its building blocks reproduce results the field
already knows ("docking", Axtell, Axelrod, Epstein & Cohen 1996). Each experiment here is a
scenario file in ``scenarios/validation/`` (shipped in ``ci_sim/builtin/validation/``) plus a
grid of parameters to vary, run through the same parameter system, model, engines and
kernels as every other scenario: there is no separate code path for validation.

Experiments (see :data:`EXPERIMENTS`):

``march1991_learning_rates``
    March (1991), mutual learning between an organizational code and its members. The
    common agenda is the code (``kernels.socialize``, ``kernels.learn_agenda``). Equilibrium
    knowledge of the code over socialization rate p1 x code learning rate p2 (Figure 1).
``march1991_turnover``
    The same model with turnover p3: knowledge of the code against turnover for slow and
    fast socialization.
``lazer_friedman2007``
    Lazer & Friedman (2007): agents on an NK landscape copy the best neighbour or explore
    (``kernels.learn_from_peers``) on linear, small-world, random and fully connected
    networks; average performance over time, docked run by run with the independent
    re-implementation :mod:`ci_sim.reference.lazer_friedman2007` on the model's landscapes.
``trust_asymmetry``
    ``kernels.update_trust``: how much one violation destroys against how much one good
    meeting builds, and how many good meetings make up for one violation.

Every grid point runs on the same replicate seeds (common random numbers,
:func:`ci_sim.simulate.replicate_seeds`), so differences between points are paired and not
differences between random draws; experiments docked with an independent re-implementation
run each point on seeds of its own instead, so that the points' differences from the
re-implementation are independent and can be pooled and summed in a chi-square; an
experiment whose re-implementation runs alongside each model run on the model's own problem
(``Experiment.paired_reference``, Lazer & Friedman) keeps the common seeds and compares the
two run by run. A point's value is the mean over replicates with a 95%
t interval; experiments with a precision target add replicates to each point until the
interval's half-width is below it (or the point's run cap is reached). Runs go through an
executor (:mod:`ci_sim.executors`); results do not depend on which one or on its workers.
"""


from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ci_sim import __version__
from ci_sim.executors import make_executor
from ci_sim.model import STEPS_PER_YEAR, CollectiveImpactModel
from ci_sim.model.params import Scenario
from ci_sim.model.scenarios import load_scenario
from ci_sim.simulate import replicate_seeds
from ci_sim.studies.stats import half_width, interval, paired_difference, welch_difference
from ci_sim.studies.store import Store
from ci_sim.studies.study import Precision, Study, Task, run_study

#: Docking margins: the 95% interval of model - reference at every point (an experiment's
#: ``margin``, by default DOCKING_MARGIN), and of the pooled mean difference over the grid,
#: must lie within these.
DOCKING_MARGIN = 0.02
POOLED_MARGIN = 0.005
#: March's (1991) Figure 1 is docked within FIGURE_1_MARGIN at each of its 81 points.
FIGURE_1_MARGIN = 0.01
#: Target half-width of the 95% interval of the model's value at each March (1991) point.
#: The reference runs twice as many replicates, so the interval of model - reference is
#: about 1.22 times this. For Figure 1 (0.0028): 0.0034, so a point whose true difference
#: is zero fails the 0.01 margin only when its difference is 3.8 standard errors off, about
#: once in 6,500 points (1% over the grid). For turnover (0.006): 0.0073 against 0.02.
FIGURE_1_PRECISION = 0.0028
MARCH_PRECISION = 0.006
#: Smallest chi-square p-value of the standardized differences accepted as agreement.
CHI2_ALPHA = 0.01
#: Base seed of the default validation; replicate seeds derive from it.
DEFAULT_SEED = 1991


def scenario_path(name: str) -> Path:
    """Path of the validation scenario file ``name`` (without ``.toml``)."""
    return Path(str(resources.files("ci_sim.builtin").joinpath("validation", f"{name}.toml")))


# ---------------------------------------------------------------------------- one run
@dataclass(frozen=True)
class Batch:
    """Runs of one experiment, with the scenarios of the points they belong to."""

    scenarios: dict[int, Scenario]
    runs: tuple[Task, ...]
    metric: str
    engine: str
    trajectory: bool
    until_equilibrium: bool
    #: The experiment's paired re-implementation, run on each run's own problem (see
    #: :attr:`Experiment.paired_reference`), or None.
    paired_reference: Callable[[Scenario, CollectiveImpactModel, int], np.ndarray] | None = None


def at_equilibrium(model: CollectiveImpactModel) -> bool:
    """True when March's (1991) closed mutual-learning system can no longer change.

    In March's program (``problem.initial_beliefs = "march"``) members change only by
    socialization, towards the code where it holds a view; the code changes only towards
    actions that beat it. Once the code holds a view on every dimension and every member
    shares it, every action equals the code, no member beats it and no one is socialized:
    the state is absorbing and the code's knowledge is its equilibrium value. (While the code
    is undecided somewhere, members' coin flips there can still beat it.) Valid only without
    peer learning, turnover and turbulence, which :func:`check_closed_system` ensures.
    """
    code = model.code
    return bool(np.all(code != 0) and np.all(model.beliefs == code))


def check_closed_system(scenario: Scenario) -> None:
    """Refuse the equilibrium stopping rule where members could change by other routes or
    the scenario is not March's program."""
    learning, problem = scenario.learning, scenario.problem
    peers = learning.exploration_rate > 0 or (learning.imitation_rate > 0
                                              and scenario.conditions.continuous_communication > 0)
    if learning.turnover > 0 or problem.turbulence > 0 or peers \
            or problem.initial_beliefs != "march":
        raise ValueError(f"{scenario.name}: stopping at equilibrium needs March's closed system "
                         "(initial_beliefs = 'march'; no turnover, turbulence, exploration or "
                         "imitation)")


def simulate_batch(batch: Batch) -> dict[str, list]:
    """Run every run of ``batch``; columns with one entry per run.

    The columns are the point, replicate and seed, the metric's ``values`` (every step
    from 0 when ``trajectory``, else the final value only), the ``steps`` run and whether
    the run stopped at ``equilibrium``, and its share of the batch's processor time
    (``cpu_seconds``). With a paired reference, also the re-implementation's values on the
    run's problem (``reference``, every step from 0), run on random numbers derived from the
    run's seed, so that a resumed validation reproduces them.
    """
    results = []
    started = time.process_time()  # once per batch: the clock is slow to read on some systems
    for run in batch.runs:
        scenario = batch.scenarios[run.point]
        model = CollectiveImpactModel(scenario, engine_name=batch.engine, rng=run.seed,
                                      record="none")
        horizon = int(round(scenario.years * STEPS_PER_YEAR))
        paired = (None if batch.paired_reference is None
                  else batch.paired_reference(scenario, model, run.seed))
        values = [model.metrics[batch.metric]]
        equilibrium = False
        for _ in range(horizon):
            model.step()
            if batch.trajectory:
                values.append(model.metrics[batch.metric])
            if batch.until_equilibrium and at_equilibrium(model):
                equilibrium = True
                break
        if not batch.trajectory:
            values = [model.metrics[batch.metric]]
        results.append({"point": run.point, "replicate": run.replicate, "seed": run.seed,
                        "values": np.asarray(values, dtype=float), "steps": model.steps,
                        "equilibrium": equilibrium, "reference": paired})
    share = (time.process_time() - started) / max(len(results), 1)
    for row in results:
        row["cpu_seconds"] = share
    names = [*OUTCOMES, *([PAIRED] if batch.paired_reference is not None else [])]
    return {name: [row[name] for row in results]
            for name in ("point", "replicate", "seed", *names)}


#: What a validation run records besides its point, replicate and seed.
OUTCOMES = ["values", "steps", "equilibrium", "cpu_seconds"]
#: ... and, in experiments with a paired reference, the re-implementation's values.
PAIRED = "reference"


@dataclass(frozen=True)
class ReferenceJob:
    """The reference runs of one grid point."""

    reference: Callable[[Scenario, int, int, bool], np.ndarray]
    until_equilibrium: bool
    point: int
    scenario: Scenario
    runs: int
    seed: int


def simulate_reference(job: ReferenceJob) -> tuple[int, np.ndarray, float]:
    """Run the experiment's reference at one point: (point, values, processor seconds)."""
    started = time.process_time()
    values = job.reference(job.scenario, job.runs, job.seed, job.until_equilibrium)
    return job.point, np.asarray(values, dtype=float), time.process_time() - started




# ---------------------------------------------------------------------------- experiments
@dataclass(frozen=True)
class Check:
    """One published claim, what the runs measured, and whether they agree."""

    claim: str
    published: str
    measured: str
    passed: bool


@dataclass
class Results:
    """The runs of one experiment: grid points, per-replicate values, table, checks."""

    experiment: Experiment
    points: list[dict[str, Any]]
    #: point -> array (replicates x steps+1) for trajectories, (replicates,) otherwise,
    #: rows in replicate order.
    values: dict[int, np.ndarray]
    steps: dict[int, np.ndarray]
    equilibrium: dict[int, np.ndarray]
    seeds: list[int]
    base_seed: int
    engine: str
    #: Periods (months) a run lasts unless it stops at equilibrium first.
    horizon: int
    #: Wall-clock seconds of the whole experiment, and processor seconds summed over runs.
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    checks: list[Check] = field(default_factory=list)
    #: point -> the independent re-implementation's values (experiments with a reference).
    reference: dict[int, np.ndarray] = field(default_factory=dict)
    #: point -> the scenario it ran (scenario file, overrides and grid values).
    scenarios: dict[int, Scenario] = field(default_factory=dict)
    #: point -> the paired re-implementation's values, run by run on the model's problem
    #: (replicates x steps+1, rows in replicate order; experiments with a paired reference).
    paired: dict[int, np.ndarray] = field(default_factory=dict)

    def point(self, **where: Any) -> int:
        """Index of the grid point whose parameters (by short name) equal ``where``."""
        for index, point in enumerate(self.points):
            if all(math.isclose(point[short(k)], v) if isinstance(v, float) else
                   point[short(k)] == v for k, v in where.items()):
                return index
        raise KeyError(f"{self.experiment.name}: no grid point {where}")

    def final(self, index: int) -> np.ndarray:
        """Final value of every replicate of point ``index``."""
        values = self.values[index]
        return values[:, -1] if values.ndim == 2 else values

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def short(dotted: str) -> str:
    """Column name of a grid parameter (``learning.turnover`` -> ``turnover``)."""
    return dotted.rpartition(".")[2]


@dataclass(frozen=True)
class Experiment:
    """A published experiment: scenario file, what varies, what is measured and compared.

    Attributes:
        name: the scenario file (``scenarios/validation/NAME.toml``) and output names.
        title: one line on what is reproduced.
        source: the paper.
        compared_with: the published figure(s) and pages the results are compared with.
        grid: dotted parameter -> values; every combination is a point.
        metric: the model metric measured (see :data:`ci_sim.model.METRICS`).
        runs: replicates per point by default (the first round when ``precision`` is set).
        precision: target half-width of each point's 95% interval; replicates are added
            to points above it, up to ``max_runs``.
        max_runs: cap on replicates per point when ``precision`` is set.
        margin: docking margin of model - reference at every point (with a reference).
        trajectory: record the metric at every step (else only at the end).
        until_equilibrium: stop a run once the closed mutual-learning system is absorbed.
        notes: how the mapping onto ci-sim differs from the paper, in markdown.
    """

    name: str
    title: str
    source: str
    compared_with: str
    grid: dict[str, tuple[Any, ...]]
    metric: str
    runs: int
    analyse: Callable[[Results], list[Check]]
    plot: Callable[[Results, Path], None]
    precision: float | None = None
    max_runs: int = 0
    #: Docking margin of model - reference at every point (experiments with a reference).
    margin: float = DOCKING_MARGIN
    trajectory: bool = False
    until_equilibrium: bool = False
    notes: str = ""
    #: An independent re-implementation run at every point (``reference_runs`` x the
    #: model's replicates): ``reference(scenario, runs, seed, until_equilibrium)`` returns
    #: the metric's final value per run. Module-level, so workers can run it.
    reference: Callable[[Scenario, int, int, bool], np.ndarray] | None = None
    reference_runs: int = 2
    #: An independent re-implementation run alongside every model run on the same problem:
    #: ``paired_reference(scenario, model, seed)``, called on the model just built (before its
    #: first step), returns the metric at every step from 0 as the re-implementation computes
    #: it; ``seed`` is the run's, from which the re-implementation derives random numbers of
    #: its own. The difference is then paired run by run. Module-level, so workers can run it.
    paired_reference: Callable[[Scenario, CollectiveImpactModel, int], np.ndarray] | None = None

    def points(self) -> list[dict[str, Any]]:
        """Every combination of the grid, as ``{dotted name: value}``, first key slowest."""
        names = list(self.grid)
        return [dict(zip(names, combo)) for combo in itertools.product(*self.grid.values())]


def difference(results: Results, index: int) -> dict[str, float]:
    """Model minus reference at point ``index``: mean, 95% Welch interval, standard error and
    standardized difference ``z`` (independent runs on each side)."""
    return welch_difference(results.final(index), results.reference[index])


def signed4(summary: dict[str, float]) -> str:
    return f"{summary['mean']:+.4f} [{summary['low']:+.4f}, {summary['high']:+.4f}]"


def signed(summary: dict[str, float]) -> str:
    return f"{summary['mean']:+.3f} [{summary['low']:+.3f}, {summary['high']:+.3f}]"


# ---------------------------------------------------------------------------- running
def experiment_study(experiment: Experiment, scenarios: dict[int, Scenario], *, seed: int,
                     runs: int | None, engine: str) -> Study:
    """The experiment's grid as a :class:`~ci_sim.studies.study.Study`."""
    adaptive = runs is None and experiment.precision is not None
    first = runs or experiment.runs
    cap = max(first, experiment.max_runs) if adaptive else first
    seeds = replicate_seeds(seed, cap)
    # Docking pools and sums differences over points: they must be independent.
    point_seeds = {index: replicate_seeds(int(np.random.SeedSequence([seed, index])
                                              .generate_state(1)[0]), cap)
                   for index in scenarios} if experiment.reference is not None else {}

    def make_batch(tasks: list[Task]) -> Batch:
        return Batch({task.point: scenarios[task.point] for task in tasks}, tuple(tasks),
                     experiment.metric, engine, experiment.trajectory,
                     experiment.until_equilibrium, experiment.paired_reference)

    paired = [PAIRED] if experiment.paired_reference is not None else []
    return Study(kind="validation", points=len(scenarios), replicates=first, seeds=seeds,
                 point_seeds=point_seeds, run_batch=simulate_batch, make_batch=make_batch,
                 outcomes=[*OUTCOMES, *paired], largest_batch=40,
                 precision=Precision("values", experiment.precision, cap) if adaptive else None)


def run_experiment(experiment: Experiment, *, seed: int = DEFAULT_SEED, runs: int | None = None,
                   engine: str = "numba", executor=None, overrides: dict[str, Any] | None = None,
                   progress: Callable[[str], None] | None = None, store: Store | None = None
                   ) -> Results:
    """Run one experiment; returns its results with the checks filled in.

    Args:
        experiment: one of :data:`ci_sim.studies.validation.experiments.EXPERIMENTS`.
        seed: base seed; replicate r of every point uses ``replicate_seeds(seed, ...)[r]``
            (with a reference: seeds of the point's own, derived from ``seed`` and the point).
        runs: replicates per point; None uses the experiment's default and, where it has a
            precision target, adds replicates until every point meets it.
        engine: ``numba`` or ``python``.
        executor: an executor from :func:`ci_sim.executors.make_executor` (default: in
            this process).
        overrides: dotted parameters set at every point (on top of the scenario file,
            under the grid), e.g. a shorter horizon.
        progress: called with a short message after each round.
        store: where finished runs are saved, so that a killed validation resumes.
    """
    started = time.perf_counter()
    points = experiment.points()
    scenarios = {index: load_scenario(scenario_path(experiment.name),
                                      {**(overrides or {}), **point})[0]
                 for index, point in enumerate(points)}
    if experiment.until_equilibrium:
        for scenario in scenarios.values():
            check_closed_system(scenario)
    study = experiment_study(experiment, scenarios, seed=seed, runs=runs, engine=engine)

    def round_done(count: int, more: int) -> None:
        if progress is not None:
            progress(f"{experiment.name}: {count} runs done, {more} points need more")

    own_executor = executor is None
    executor = executor or make_executor(workers=1)
    try:
        done = run_study(study, executor, store=store, on_round=round_done)
        counts = done.table.groupby("point").size().to_dict()
        reference: dict[int, np.ndarray] = {}
        reference_cpu = 0.0
        if experiment.reference is not None:
            children = np.random.SeedSequence([seed, 1991]).spawn(len(scenarios))
            jobs = [ReferenceJob(experiment.reference, experiment.until_equilibrium, index,
                                 scenarios[index], experiment.reference_runs * counts[index],
                                 int(children[index].generate_state(1)[0]))
                    for index in scenarios]
            for _, (index, values, cpu) in executor.map_unordered(simulate_reference, jobs):
                reference[index] = values
                reference_cpu += cpu
            if progress is not None:
                progress(f"{experiment.name}: reference runs done")
    finally:
        if own_executor:
            executor.close()
    values = {i: done.values(i, "values") for i in scenarios}
    if not experiment.trajectory:
        values = {i: array[:, -1] for i, array in values.items()}
    results = Results(
        experiment=experiment,
        points=[{short(k): v for k, v in point.items()} for point in points],
        values=values,
        steps={i: done.values(i, "steps").astype(int) for i in scenarios},
        equilibrium={i: done.values(i, "equilibrium").astype(bool) for i in scenarios},
        seeds=list(study.seeds[:max(counts.values())]), base_seed=seed, engine=engine,
        horizon=int(round(scenarios[0].years * STEPS_PER_YEAR)),
        cpu_seconds=float(done.table["cpu_seconds"].sum()))
    results.reference = reference
    results.scenarios = scenarios
    if experiment.paired_reference is not None:
        results.paired = {i: done.values(i, PAIRED) for i in scenarios}
    results.cpu_seconds += reference_cpu
    results.checks = experiment.analyse(results)
    results.seconds = time.perf_counter() - started
    return results


def table(results: Results) -> pd.DataFrame:
    """The experiment's table: one row per point (per step for trajectories)."""
    experiment = results.experiment
    rows = []
    for index, point in enumerate(results.points):
        values = results.values[index]
        common = {**point, "runs": len(values)}
        if experiment.trajectory:
            for step in range(values.shape[1]):
                row = {**common, "step": step, **interval(values[:, step])}
                if results.paired:
                    redone = results.paired[index][:, step]
                    gap = paired_difference(values[:, step], redone)
                    row.update(reference=float(redone.mean()), difference=gap["mean"],
                               difference_low=gap["low"], difference_high=gap["high"])
                rows.append(row)
        else:
            summary = interval(values)
            row = {**common, **summary, "half_width": half_width(values),
                   "mean_steps": float(results.steps[index].mean()),
                   "equilibrium_share": float(results.equilibrium[index].mean())
                   if experiment.until_equilibrium else math.nan}
            if results.reference:
                gap = difference(results, index)
                row.update(reference=float(results.reference[index].mean()),
                           reference_runs=len(results.reference[index]),
                           difference=gap["mean"], difference_low=gap["low"],
                           difference_high=gap["high"], z=gap["z"])
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame = frame.rename(columns={"mean": experiment.metric})
    frame["base_seed"] = results.base_seed
    frame["engine"] = results.engine
    frame["ci_sim"] = __version__
    return frame


def verdict(results: Results) -> str:
    """One line: pass or fail, and what was measured against what was published."""
    status = "PASS" if results.passed else "FAIL"
    measured = " | ".join(check.measured for check in results.checks)
    return f"{results.experiment.name}: {status} ({sum(c.passed for c in results.checks)}/" \
           f"{len(results.checks)} checks) {measured}"


def precision_line(results: Results) -> str:
    """Widest 95% half-interval over the points, against the target if there is one."""
    experiment = results.experiment
    if experiment.trajectory:
        return ""
    widest = max(half_width(results.final(i)) for i in results.values)
    target = experiment.precision
    if target is None:
        return f"widest 95% half-interval {widest:.4f}"
    met = "met" if widest <= target else "not met"
    return f"widest 95% half-interval {widest:.4f} (target {target:g}: {met})"


