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
    networks; average performance over time.
``trust_asymmetry``
    ``kernels.update_trust``: how much one violation destroys against how much one good
    meeting builds, and how many good meetings make up for one violation.

Every grid point runs on the same replicate seeds (common random numbers,
:func:`ci_sim.simulate.replicate_seeds`), so differences between points are paired and not
differences between random draws; experiments docked with an independent re-implementation
run each point on seeds of its own instead, so that the points' differences from the
re-implementation are independent and can be pooled and summed in a chi-square. A point's value is the mean over replicates with a 95%
t interval; experiments with a precision target add replicates to each point until the
interval's half-width is below it (or the point's run cap is reached). Runs go through an
executor (:mod:`ci_sim.executors`); results do not depend on which one or on its workers.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ci_sim import __version__
from ci_sim.model.engines import ENGINES
from ci_sim.executors import batch_size, batched, make_executor
from ci_sim.model import STEPS_PER_YEAR, CollectiveImpactModel
from ci_sim.folders import write_atomic
from ci_sim.outputs import interval, versions
from ci_sim.model.params import Scenario
from ci_sim.errors import InputError
from ci_sim.model.scenarios import load_scenario
from ci_sim.simulate import replicate_seeds

#: Target half-width of the 95% interval of the model's value at each March (1991) point.
#: The reference runs twice as many replicates, so the interval of model - reference is
#: about 1.22 times this (0.0073), well inside the docking margin.
MARCH_PRECISION = 0.006
#: Docking margins: the 95% interval of model - reference at every point, and of the
#: pooled mean difference over the grid, must lie within these.
DOCKING_MARGIN = 0.02
POOLED_MARGIN = 0.005
#: Smallest chi-square p-value of the standardized differences accepted as agreement.
CHI2_ALPHA = 0.01
#: Base seed of the default validation; replicate seeds derive from it.
DEFAULT_SEED = 1991


def scenario_path(name: str) -> Path:
    """Path of the validation scenario file ``name`` (without ``.toml``)."""
    return Path(str(resources.files("ci_sim.builtin").joinpath("validation", f"{name}.toml")))


# ---------------------------------------------------------------------------- one run
@dataclass(frozen=True)
class Run:
    """One replicate of one grid point: what a worker needs to run it."""

    point: int
    replicate: int
    seed: int


@dataclass(frozen=True)
class Batch:
    """Runs of one experiment, with the scenarios of the points they belong to."""

    scenarios: dict[int, Scenario]
    runs: tuple[Run, ...]
    metric: str
    engine: str
    trajectory: bool
    until_equilibrium: bool


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


def simulate_batch(batch: Batch) -> list[dict[str, Any]]:
    """Run every run of ``batch``; one result per run.

    Each result holds the point, replicate and seed, the metric's ``values`` (every step
    from 0 when ``trajectory``, else the final value only), the ``steps`` run and whether
    the run stopped at ``equilibrium``, and its share of the batch's processor time
    (``cpu_seconds``).
    """
    results = []
    started = time.process_time()  # once per batch: the clock is slow to read on some systems
    for run in batch.runs:
        scenario = batch.scenarios[run.point]
        model = CollectiveImpactModel(scenario, engine_name=batch.engine, rng=run.seed)
        horizon = int(round(scenario.years * STEPS_PER_YEAR))
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
                        "values": np.asarray(values, dtype=float), "steps": model.steps_done,
                        "equilibrium": equilibrium})
    share = (time.process_time() - started) / max(len(results), 1)
    for row in results:
        row["cpu_seconds"] = share
    return results


@dataclass(frozen=True)
class ReferenceJob:
    """The reference runs of one grid point."""

    experiment: str
    point: int
    scenario: Scenario
    runs: int
    seed: int


def simulate_reference(job: ReferenceJob) -> tuple[int, np.ndarray, float]:
    """Run the experiment's reference at one point: (point, values, processor seconds)."""
    started = time.process_time()
    experiment = EXPERIMENTS[job.experiment]
    values = experiment.reference(job.scenario, job.runs, job.seed, experiment.until_equilibrium)
    return job.point, np.asarray(values, dtype=float), time.process_time() - started


def march_reference(scenario: Scenario, runs: int, seed: int,
                    until_equilibrium: bool) -> np.ndarray:
    """March (1991) by :mod:`ci_sim.reference.march1991`, at the scenario's p1, p2, p3, m, n
    and horizon: the code's final knowledge, (right - wrong) / m, per run."""
    from ci_sim.reference import march1991

    learning = scenario.learning
    return march1991.simulate(learning.socialization_rate, learning.agenda_learning_rate, runs,
                              np.random.default_rng(seed), p3=learning.turnover,
                              m=scenario.problem.strategy_bits, n=scenario.organizations.count,
                              periods=int(round(scenario.years * STEPS_PER_YEAR)),
                              until_equilibrium=until_equilibrium)["knowledge"]


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
    trajectory: bool = False
    until_equilibrium: bool = False
    notes: str = ""
    #: An independent re-implementation run at every point (``reference_runs`` x the
    #: model's replicates): ``reference(scenario, runs, seed, until_equilibrium)`` returns
    #: the metric's final value per run. Module-level, so workers can run it.
    reference: Callable[[Scenario, int, int, bool], np.ndarray] | None = None
    reference_runs: int = 2

    def points(self) -> list[dict[str, Any]]:
        """Every combination of the grid, as ``{dotted name: value}``, first key slowest."""
        names = list(self.grid)
        return [dict(zip(names, combo)) for combo in itertools.product(*self.grid.values())]


def paired(results: Results, first: int, second: int, step: int = -1) -> dict[str, float]:
    """Mean and 95% interval of (first - second) over the replicates both points share."""
    a, b = results.values[first], results.values[second]
    if a.ndim == 2:
        a, b = a[:, step], b[:, step]
    shared = min(len(a), len(b))
    return interval(a[:shared] - b[:shared])


def signed(summary: dict[str, float]) -> str:
    return f"{summary['mean']:+.3f} [{summary['low']:+.3f}, {summary['high']:+.3f}]"


# ---------------------------------------------------------------------------- March (1991)
MARCH_SOURCE = ("March, J. G. (1991). Exploration and exploitation in organizational "
                "learning. Organization Science, 2(1), 71-87.")


def difference(results: Results, index: int) -> dict[str, float]:
    """Model minus reference at point ``index``: mean, 95% Welch interval, standard error and
    standardized difference ``z`` (independent runs on each side)."""
    a, b = results.final(index), results.reference[index]
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    mean = float(a.mean() - b.mean())
    if se == 0.0:
        return {"mean": mean, "low": mean, "high": mean, "se": 0.0, "z": 0.0}
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = float(stats.t.ppf(0.975, df)) * se
    return {"mean": mean, "low": mean - half, "high": mean + half, "se": se, "z": mean / se}


def where(point: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in point.items())


def docking_checks(results: Results) -> list[Check]:
    """Model against the independent reference at every grid point, as numbers.

    1. Every point: the 95% interval of model - reference lies within +-DOCKING_MARGIN.
    2. Pooled over the grid: the mean difference's 95% interval within +-POOLED_MARGIN (a
       small bias everywhere shows here even when each point is within its margin).
    3. The standardized differences z = difference / standard error: sum z^2 against a
       chi-square with one degree of freedom per point, p >= CHI2_ALPHA (the differences are
       no larger than the runs' noise explains).
    """
    diffs = [difference(results, index) for index in range(len(results.points))]
    count = len(diffs)
    edges = [max(abs(d["low"]), abs(d["high"])) for d in diffs]
    worst = int(np.argmax(edges))
    inside = sum(edge <= DOCKING_MARGIN for edge in edges)
    tight = sum(edge <= DOCKING_MARGIN / 2 for edge in edges)
    halves = [(d["high"] - d["low"]) / 2 for d in diffs]
    pooled_mean = float(np.mean([d["mean"] for d in diffs]))
    pooled_half = 1.96 * math.sqrt(sum(d["se"] ** 2 for d in diffs)) / count
    chi2 = float(sum(d["z"] ** 2 for d in diffs))
    p_value = float(stats.chi2.sf(chi2, count))
    runs = sorted({len(results.final(i)) for i in range(count)})
    reference_runs = sorted({len(v) for v in results.reference.values()})
    return [
        Check(f"At every one of the {count} grid points, model minus independent "
              f"re-implementation is within +-{DOCKING_MARGIN:g}, interval included",
              f"the re-implementation's value (ci_sim.reference.march1991, "
              f"{reference_runs[0]}-{reference_runs[-1]} runs per point)",
              f"{inside}/{count} intervals within +-{DOCKING_MARGIN:g}, {tight}/{count} within "
              f"+-{DOCKING_MARGIN / 2:g}; widest edge {edges[worst]:.4f} at {where(results.points[worst])} "
              f"({signed4(diffs[worst])}); half-widths {min(halves):.4f}-{max(halves):.4f}; model "
              f"runs {runs[0]}-{runs[-1]} per point",
              inside == count),
        Check(f"Pooled over the grid, the mean difference is within +-{POOLED_MARGIN:g}",
              "0",
              f"{pooled_mean:+.4f} [{pooled_mean - pooled_half:+.4f}, "
              f"{pooled_mean + pooled_half:+.4f}]",
              abs(pooled_mean) + pooled_half <= POOLED_MARGIN),
        Check("The differences are no larger than the runs' noise: chi-square of the "
              f"standardized differences on {count} degrees of freedom",
              f"p >= {CHI2_ALPHA:g}",
              f"chi2 {chi2:.1f} / {count}, p = {p_value:.2f}; largest |z| "
              f"{max(abs(d['z']) for d in diffs):.2f}",
              p_value >= CHI2_ALPHA),
    ]


def signed4(summary: dict[str, float]) -> str:
    return f"{summary['mean']:+.4f} [{summary['low']:+.4f}, {summary['high']:+.4f}]"


def contrast(results: Results, first: int, second: int) -> dict[str, dict[str, float]]:
    """first minus second, for the model (paired replicates) and for the reference
    (independent runs), and the difference of the two (normal 95% interval)."""
    model = paired(results, first, second)
    a, b = results.reference[first], results.reference[second]
    mean = float(a.mean() - b.mean())
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    reference = {"mean": mean, "low": mean - 1.96 * se, "high": mean + 1.96 * se}
    model_se = (model["high"] - model["low"]) / (2 * 1.96)
    gap = model["mean"] - mean
    half = 1.96 * math.sqrt(se ** 2 + model_se ** 2)
    return {"model": model, "reference": reference,
            "gap": {"mean": gap, "low": gap - half, "high": gap + half}}


def within(summary: dict[str, float], margin: float) -> bool:
    return max(abs(summary["low"]), abs(summary["high"])) <= margin


def consistent(gap: dict[str, float]) -> bool:
    """A gap from the reference within the docking margin and within 3 standard errors."""
    se = (gap["high"] - gap["low"]) / (2 * 1.96)
    return abs(gap["mean"]) <= DOCKING_MARGIN and (se == 0 or abs(gap["mean"]) / se <= 3)


def analyse_march_learning_rates(results: Results) -> list[Check]:
    """Dock every point of Figure 1 with the re-implementation, then Figure 1's fan in numbers."""
    grid = results.experiment.grid
    p1_values = grid["learning.socialization_rate"]
    p2_values = grid["learning.agenda_learning_rate"]
    slow, fast = min(p1_values), max(p1_values)
    low_p2, high_p2 = min(p2_values), max(p2_values)
    falls = {p2: contrast(results, results.point(socialization_rate=slow, agenda_learning_rate=p2),
                          results.point(socialization_rate=fast, agenda_learning_rate=p2))
             for p2 in (low_p2, high_p2)}
    high, low = (fall_per_replicate(results, p2, slow, fast) for p2 in (high_p2, low_p2))
    shared = min(len(high), len(low))
    fan = interval(high[:shared] - low[:shared])
    # A fall is the difference of two points, so its gap from the reference's is about
    # 1.4 times as noisy as a point's: it must be within the margin and within 3 standard
    # errors of zero (consistent with the runs' noise), rather than interval included.
    agree = all(consistent(fall["gap"]) for fall in falls.values())
    return docking_checks(results) + [
        Check(f"Figure 1's fan: knowledge falls from p1 = {slow:g} to {fast:g}, by more when the "
              f"code learns fast (p2 = {high_p2:g}) than slowly (p2 = {low_p2:g}); the model's "
              f"falls within +-{DOCKING_MARGIN:g} of the re-implementation's and within 3 "
              "standard errors of them",
              "; ".join(f"fall at p2 = {p2:g}: {signed(fall['reference'])}"
                        for p2, fall in falls.items()),
              "; ".join(f"fall at p2 = {p2:g}: {signed(fall['model'])}, minus reference "
                        f"{signed(fall['gap'])}" for p2, fall in falls.items())
              + f"; fan (p2 = {high_p2:g} minus p2 = {low_p2:g}): {signed(fan)}",
              agree and fan["low"] > 0 and falls[high_p2]["model"]["low"] > 0),
    ]


def fall_per_replicate(results: Results, p2: float, slow: float, fast: float) -> np.ndarray:
    a = results.final(results.point(socialization_rate=slow, agenda_learning_rate=p2))
    b = results.final(results.point(socialization_rate=fast, agenda_learning_rate=p2))
    shared = min(len(a), len(b))
    return a[:shared] - b[:shared]


def analyse_march_turnover(results: Results) -> list[Check]:
    """Dock every point with the re-implementation; the gain from moderate turnover under
    fast socialization, as a number, against the re-implementation's."""
    grid = results.experiment.grid
    p1_values, p3_values = grid["learning.socialization_rate"], grid["learning.turnover"]
    fast = max(p1_values)
    moderate = MODERATE_TURNOVER
    gain = contrast(results, results.point(socialization_rate=fast, turnover=moderate),
                    results.point(socialization_rate=fast, turnover=0.0))

    def best_p3(p1: float) -> float:
        return max(p3_values, key=lambda p3: results.final(
            results.point(socialization_rate=p1, turnover=p3)).mean())

    return docking_checks(results) + [
        Check(f"Moderate turnover (p3 = {moderate:g}) raises the code's knowledge after "
              f"{results.horizon} periods when socialization is fast (p1 = {fast:g}), by as much "
              f"as in the re-implementation (within +-{DOCKING_MARGIN:g})",
              f"gain {signed(gain['reference'])}",
              f"gain {signed(gain['model'])}, minus reference {signed(gain['gap'])}; knowledge "
              f"peaks at p3 = " + ", ".join(f"{best_p3(p1):g} (p1 = {p1:g})" for p1 in p1_values),
              gain["model"]["low"] > 0 and within(gain["gap"], DOCKING_MARGIN)),
    ]


#: The "moderate" turnover compared with no turnover: 2% of members replaced per period.
MODERATE_TURNOVER = 0.02


def plot_march_learning_rates(results: Results, path: Path) -> None:
    grid = results.experiment.grid
    p1_values = grid["learning.socialization_rate"]
    figure, axis = new_figure()
    for p2, marker in zip(grid["learning.agenda_learning_rate"], "os^D"):
        rows = [interval(results.final(results.point(socialization_rate=p1,
                                                     agenda_learning_rate=p2)))
                for p1 in p1_values]
        draw_points(axis, p1_values, rows, label=f"p2 = {p2:g}", marker=marker)
    axis.set_xlabel("Socialization rate (p1)")
    axis.set_ylabel("Equilibrium knowledge of the code")
    finish(figure, axis, path, results, "Effect of learning rates (p1, p2) on equilibrium "
           "knowledge (cf. March 1991, Fig. 1)")


def plot_march_turnover(results: Results, path: Path) -> None:
    grid = results.experiment.grid
    p3_values = grid["learning.turnover"]
    figure, axis = new_figure()
    for p1, marker in zip(grid["learning.socialization_rate"], "os^D"):
        rows = [interval(results.final(results.point(socialization_rate=p1, turnover=p3)))
                for p3 in p3_values]
        draw_points(axis, p3_values, rows, label=f"p1 = {p1:g}", marker=marker)
    axis.set_xlabel("Turnover rate (p3, per period)")
    axis.set_ylabel(f"Knowledge of the code after {results.horizon} periods")
    finish(figure, axis, path, results, "Effect of turnover (p3) and socialization rate (p1) "
           "on knowledge, p2 = 0.5 (cf. March 1991)")


# ---------------------------------------------------------------------------- Lazer & Friedman
LAZER_FRIEDMAN_SOURCE = ("Lazer, D., & Friedman, A. (2007). The network structure of "
                         "exploration and exploitation. Administrative Science Quarterly, "
                         "52(4), 667-694.")
#: Step at which "early" performance is compared.
EARLY_STEP = 10


def analyse_lazer_friedman(results: Results) -> list[Check]:
    """The fully connected network leads early; the linear network ends higher."""
    full, linear = results.point(network="full"), results.point(network="linear")
    early = paired(results, full, linear, step=EARLY_STEP)
    late = paired(results, linear, full, step=-1)
    mean_full = results.values[full].mean(axis=0)
    mean_linear = results.values[linear].mean(axis=0)
    ahead = mean_linear >= mean_full
    crossing = next((step for step in range(len(ahead)) if ahead[step:].all()), None)
    end = len(mean_full) - 1
    finals = {results.points[i]["network"]: results.final(i).mean()
              for i in range(len(results.points))}
    order = " > ".join(f"{name} {value:.3f}" for name, value in
                       sorted(finals.items(), key=lambda item: -item[1]))
    return [
        Check(f"The fully connected network leads early (step {EARLY_STEP}: full minus linear)",
              "totally connected network better in the short run",
              f"{mean_full[EARLY_STEP]:.3f} vs {mean_linear[EARLY_STEP]:.3f}, difference "
              f"{signed(early)}",
              early["low"] > 0),
        Check(f"The linear network ends higher (step {end}: linear minus full)",
              "linear network better in the long run",
              f"{mean_linear[-1]:.3f} vs {mean_full[-1]:.3f}, difference {signed(late)}; "
              f"curves cross for good at step {crossing}; final: {order}",
              late["low"] > 0),
    ]


def plot_lazer_friedman(results: Results, path: Path) -> None:
    figure, axis = new_figure()
    for index, point in enumerate(results.points):
        values = results.values[index]
        mean = values.mean(axis=0)
        half = 1.96 * values.std(axis=0, ddof=1) / np.sqrt(len(values))
        steps = np.arange(len(mean))
        line, = axis.plot(steps, mean, lw=2, label=point["network"].replace("_", " "))
        axis.fill_between(steps, mean - half, mean + half, color=line.get_color(), alpha=0.2)
    axis.set_xlabel("Time (periods)")
    axis.set_ylabel("Average performance, (payoff / max) ** 8")
    finish(figure, axis, path, results, "Average performance over time by network "
           "(cf. Lazer & Friedman 2007)")


# ---------------------------------------------------------------------------- trust
#: Trust level at which build and destruction are compared (and the experiment starts).
TRUST_START = 0.5


def first_month_change(results: Results, index: int) -> np.ndarray:
    values = results.values[index]
    return values[:, 1] - values[:, 0]


def months_to_move(trajectory: np.ndarray, target: float) -> float:
    """Months (linearly interpolated) until ``trajectory`` first reaches ``target``."""
    start = trajectory[0]
    moved = np.abs(trajectory - start)
    distance = abs(target - start)
    after = np.nonzero(moved >= distance)[0]
    if len(after) == 0:
        return math.inf
    step = int(after[0])
    before = moved[step - 1]
    return step - 1 + (distance - before) / (moved[step] - before)


def break_even(results: Results, relationships: float) -> np.ndarray:
    """Per replicate: the share of violations at which the first month's change of mean
    trust is zero, interpolated between the grid's violation shares (the expected change is
    linear in the share)."""
    rates = results.experiment.grid["trust.violation_rate"]
    changes = np.array([first_month_change(results, results.point(
        violation_rate=q, relationships=relationships)) for q in rates])
    shares = np.full(changes.shape[1], np.nan)
    for r in range(changes.shape[1]):
        for (q0, c0), (q1, c1) in itertools.pairwise(zip(rates, changes[:, r])):
            if c0 > 0 >= c1:
                shares[r] = q0 + c0 * (q1 - q0) / (c0 - c1)
                break
    return shares


def expected_trust(start: float, step: Callable[[float], float], months: int) -> np.ndarray:
    """Expected trust of one tie over ``months``, from the update formula (ODD 7.10): the tie
    meets with probability equal to its trust (full communication) and each meeting moves
    trust by ``step``. Trust after j meetings is step applied j times, so the chance of
    each meeting count is a Markov chain on j, solved exactly."""
    levels = [start]
    for _ in range(months):
        levels.append(step(levels[-1]))
    chance = np.zeros(months + 1)
    chance[0] = 1.0
    mean = [start]
    for _ in range(months):
        moved = chance * np.array(levels)
        chance = chance - moved
        chance[1:] += moved[:-1]
        mean.append(float(chance @ np.array(levels)))
    return np.array(mean)


def analyse_trust(results: Results) -> list[Check]:
    """Consequences of the trust update (ODD 7.10), measured from runs and compared with
    their values derived from the formula.

    With build rate b, negativity bias k and the relationships mindset r, a good meeting
    adds b (1 + r)(1 - T) and a violation removes k b T. At trust T = 1/2 the share of
    violations at which trust holds steady is q* = (1 + r) / (1 + r + k): (1 - q*) / q* =
    k / (1 + r) good meetings make up for one violation; one violation costs
    ln((1 - T (1 - k b)) / (1 - T)) / -ln(1 - b (1 + r)) good meetings to recover. When every
    meeting is good (or every one a violation) the mean trust path has an exact expected
    value (:func:`expected_trust`); the runs must follow it month by month.
    """
    scenario = results.scenarios[0]
    b, k, start = scenario.trust.build_rate, scenario.trust.negativity_bias, scenario.trust.initial
    rates = results.experiment.grid["trust.violation_rate"]
    never, always = min(rates), max(rates)
    checks = []
    for r in results.experiment.grid["mindsets.relationships"]:
        build, destroy = b * (1 + r), min(1.0, k * b)
        target = build * (1 - start) / (build * (1 - start) + destroy * start)
        measured = break_even(results, r)
        summary = interval(measured[~np.isnan(measured)])
        per_violation = (1 - summary["mean"]) / summary["mean"]
        recover = math.log((1 - start * (1 - destroy)) / (1 - start)) / -math.log(1 - build)
        checks.append(Check(
            f"Relationships mindset {r:g}: share of violations at which trust {start:g} holds "
            f"steady, so good meetings that make up for one violation",
            f"{target:.3f} from the formula, {(1 - target) / target:.2f} good meetings per "
            f"violation (one violation takes {recover:.2f} good meetings to recover)",
            f"{summary['mean']:.3f} [{summary['low']:.3f}, {summary['high']:.3f}], "
            f"{per_violation:.2f} good meetings per violation; "
            f"{int(np.isnan(measured).sum())} of {len(measured)} runs without a crossing",
            abs(summary["mean"] - target) <= TRUST_TOLERANCE and not np.isnan(measured).any()))
        paths = []
        worst = 0.0
        for q, step in ((never, lambda t: t + build * (1 - t)),
                        (always, lambda t: t - destroy * t)):
            values = results.values[results.point(violation_rate=q, relationships=r)]
            expected = expected_trust(start, step, values.shape[1] - 1)
            gap = values.mean(axis=0) - expected
            worst = max(worst, float(np.abs(gap).max()))
            up = q == never
            half = months_to_move(values.mean(axis=0), (1 + start) / 2 if up else start / 2)
            half_expected = months_to_move(expected, (1 + start) / 2 if up else start / 2)
            paths.append(f"{'all good' if up else 'all violations'}: half way to "
                         f"{'full trust' if up else 'none'} in {half:.2f} months "
                         f"(formula {half_expected:.2f})")
        checks.append(Check(
            f"Relationships mindset {r:g}: mean trust month by month when every meeting is "
            f"good and when every one is a violation, against its expected path",
            f"the formula's expected path (largest gap <= {TRUST_PATH_TOLERANCE:g})",
            f"largest gap {worst:.4f}; " + "; ".join(paths),
            worst <= TRUST_PATH_TOLERANCE))
    return checks


#: How far a measured break-even share of violations may be from the formula's.
TRUST_TOLERANCE = 0.01
#: How far the mean trust path may be from its expected path, in any month.
TRUST_PATH_TOLERANCE = 0.005


def plot_trust(results: Results, path: Path) -> None:
    import matplotlib.pyplot as plt

    grid = results.experiment.grid
    rates = grid["trust.violation_rate"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for relationships, style in zip(grid["mindsets.relationships"], ("-", "--")):
        for rate, colour in ((min(rates), "#009E73"), (max(rates), "#D55E00")):
            mean = results.values[results.point(violation_rate=rate,
                                                relationships=relationships)].mean(axis=0)
            kind = "every meeting good" if rate == min(rates) else "every meeting a violation"
            left.plot(np.arange(len(mean)), mean, style, color=colour, lw=2,
                      label=f"{kind}, relationships {relationships:g}")
        change = [interval(first_month_change(results, results.point(
            violation_rate=q, relationships=relationships))) for q in rates]
        draw_points(right, rates, change, label=f"relationships mindset {relationships:g}",
                    marker="o" if style == "-" else "s")
    left.axhline(TRUST_START, color="grey", lw=0.8)
    left.set_xlabel("Months (one meeting with every partner per month)")
    left.set_ylabel("Mean trust")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    right.axhline(0.0, color="grey", lw=0.8)
    right.set_xlabel("Share of meetings that are violations")
    right.set_ylabel(f"Change of mean trust in one month, from {TRUST_START:g}")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    figure.suptitle(f"Trust builds slowly and breaks fast ({runs_label(results)})")
    figure.tight_layout()
    figure.savefig(path, dpi=110, format="png")
    plt.close(figure)


# ---------------------------------------------------------------------------- figures
def new_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, 4.8))


def draw_points(axis, xs: Sequence[float], rows: list[dict[str, float]], *, label: str,
                marker: str) -> None:
    means = np.array([row["mean"] for row in rows])
    errors = np.array([[row["mean"] - row["low"] for row in rows],
                       [row["high"] - row["mean"] for row in rows]])
    axis.errorbar(xs, means, yerr=errors, marker=marker, capsize=3, lw=1.5, label=label)


def runs_label(results: Results) -> str:
    counts = sorted({len(values) for values in results.values.values()})
    runs = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f"{runs} runs per point, seed {results.base_seed}, ci-sim {__version__}"


def finish(figure, axis, path: Path, results: Results, title: str) -> None:
    import matplotlib.pyplot as plt

    axis.grid(alpha=0.3)
    axis.legend(fontsize=9)
    axis.set_title(f"{title}\n{runs_label(results)}; mean and 95% interval", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110, format="png")
    plt.close(figure)


# ---------------------------------------------------------------------------- the registry
EXPERIMENTS: dict[str, Experiment] = {experiment.name: experiment for experiment in (
    Experiment(
        name="march1991_learning_rates",
        title="March (1991): equilibrium knowledge over socialization rate p1 x code "
              "learning rate p2, docked with an independent re-implementation",
        source=MARCH_SOURCE,
        compared_with="Figure 1 (p. 76), Effect of learning rates (p1, p2) on equilibrium "
                      "knowledge, m = 30, n = 50, at every point of its grid (p1, p2 = 0.1 .. "
                      "0.9), against `ci_sim.reference.march1991`, a plain numpy program "
                      "written from the paper that shares no code with the model. We do not "
                      "have the paper's plotted values to the second decimal, so the numbers "
                      "are compared with the re-implementation's.",
        grid={"learning.socialization_rate": tuple(round(0.1 * i, 1) for i in range(1, 10)),
              "learning.agenda_learning_rate": tuple(round(0.1 * i, 1) for i in range(1, 10))},
        metric="agenda_knowledge", runs=120, precision=MARCH_PRECISION, max_runs=2000,
        until_equilibrium=True, reference=march_reference,
        analyse=analyse_march_learning_rates, plot=plot_march_learning_rates,
        notes="The model's special case is March's program (`problem.initial_beliefs = "
              "\"march\"`): each period every member acts on its beliefs, an undecided "
              "dimension as a fair coin flip (`kernels.act`); the superior group is the members "
              "whose action performance, right minus wrong, exceeds the code's; on each "
              "dimension where the superior group's majority action differs from the code, the "
              "code adopts it with probability 1 - (1 - p2)^k, k = majority minus minority "
              "(`kernels.learn_agenda`); each belief differing from a decided code moves one "
              "step towards it with probability p1 (`kernels.socialize`); the code learns from "
              "the actions taken on the period's starting beliefs. Knowledge is (right - wrong) "
              "/ m. A run stops when absorbing (the code decided on every dimension and every "
              "member sharing it), or at 1,200 periods. Model and re-implementation run "
              "independent random numbers; the re-implementation runs twice the model's "
              "replicates at each point."),
    Experiment(
        name="march1991_turnover",
        title="March (1991): knowledge of the code under turnover, slow and fast "
              "socialization, docked with the re-implementation",
        source=MARCH_SOURCE,
        compared_with="The turnover results of the section on mutual learning with turnover "
                      "(pp. 78-79): moderate turnover improves the code's knowledge when "
                      "socialization is fast. Every point is compared with "
                      "`ci_sim.reference.march1991` at the same horizon.",
        grid={"learning.socialization_rate": (0.1, 0.5, 0.9),
              "learning.turnover": (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)},
        metric="agenda_knowledge", runs=60, precision=MARCH_PRECISION, max_runs=1500,
        reference=march_reference,
        analyse=analyse_march_turnover, plot=plot_march_turnover,
        notes="With turnover there is no absorbing "
              "state: knowledge is measured after the scenario's horizon (`years` x 12 "
              "periods), by the model and by the re-implementation. Each period each member "
              "leaves with probability p3 and a newcomer with naive beliefs (-1, 0, +1 equally "
              "likely; March, p. 79) takes its place before the period's actions."),
    Experiment(
        name="lazer_friedman2007",
        title="Lazer & Friedman (2007): average performance over time on four networks",
        source=LAZER_FRIEDMAN_SOURCE,
        compared_with="The comparison of the linear and the totally connected network over "
                      "time (results section, pp. 679-681): the totally connected network "
                      "reaches a higher average score early, the linear network a higher "
                      "score in the long run. Compared as a pattern; figure numbers and "
                      "values not checked against the paper.",
        grid={"learning.network": ("linear", "small_world", "random", "full")},
        metric="strategy_score", runs=50, trajectory=True,
        analyse=analyse_lazer_friedman, plot=plot_lazer_friedman,
        notes="Small-world: connected Watts-Strogatz graph, 6 neighbours, rewiring 0.1; random: "
              "G(n, m) graph with 300 ties (mean degree 6); linear: a ring. Each replicate "
              "seed draws one landscape and one set of starting strategies, shared by all "
              "four networks."),
    Experiment(
        name="trust_asymmetry",
        title="Trust: a violation destroys trust faster than a good meeting builds it, "
              "and what that costs",
        source="Negativity bias in trust (recent trust models put it near 3); mechanism after "
               "Gorobets, A., & Nooteboom, B. (2006), Agent-based modeling of trust between "
               "firms in markets.",
        compared_with="The consequences of the update formula (ODD 7.10) derived by hand: the "
                      "share of violations at which trust holds steady (so how many good "
                      "meetings make up for one violation), and the exact expected path of "
                      "mean trust when every meeting is good or every one a violation, "
                      "meetings themselves depending on trust.",
        grid={"mindsets.relationships": (0.0, 1.0),
              "trust.violation_rate": (0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0)},
        metric="mean_trust", runs=100, trajectory=True,
        analyse=analyse_trust, plot=plot_trust,
        notes="Break-even shares are interpolated per replicate between the grid's violation "
              "shares from the first month's change of mean trust (every grid point runs on "
              "the same replicate seeds, so the same ties meet in the first month at every "
              "share). A wrong formula (a violation removing k b (1 - T) instead of k b T, a "
              "mindset that does not double the build rate, meetings that do not depend on "
              "trust) moves the break-even share or the path."),
)}


# ---------------------------------------------------------------------------- running
def run_experiment(experiment: Experiment, *, seed: int = DEFAULT_SEED, runs: int | None = None,
                   engine: str = "numba", executor=None, overrides: dict[str, Any] | None = None,
                   progress: Callable[[str], None] | None = None) -> Results:
    """Run one experiment; returns its results with the checks filled in.

    Args:
        experiment: one of :data:`EXPERIMENTS`.
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
    """
    started = time.perf_counter()
    points = experiment.points()
    scenarios = {index: load_scenario(scenario_path(experiment.name),
                                      {**(overrides or {}), **point})[0]
                 for index, point in enumerate(points)}
    if experiment.until_equilibrium:
        for scenario in scenarios.values():
            check_closed_system(scenario)
    adaptive = runs is None and experiment.precision is not None
    first = runs or experiment.runs
    cap = max(first, experiment.max_runs) if adaptive else first
    seeds = replicate_seeds(seed, cap)
    # Docking pools and sums differences over points: they must be independent.
    point_seeds = {index: replicate_seeds(int(np.random.SeedSequence([seed, index])
                                              .generate_state(1)[0]), cap)
                   if experiment.reference is not None else seeds for index in scenarios}
    wanted = {index: first for index in scenarios}
    collected: dict[int, dict[int, dict[str, Any]]] = {index: {} for index in scenarios}
    own_executor = executor is None
    executor = executor or make_executor(workers=1)
    try:
        while True:
            todo = [Run(index, replicate, point_seeds[index][replicate])
                    for index in scenarios for replicate in range(wanted[index])
                    if replicate not in collected[index]]
            if not todo:
                break
            size = batch_size(len(todo), executor.workers, per_worker=6, largest=40)
            batches = [Batch({run.point: scenarios[run.point] for run in group}, tuple(group),
                             experiment.metric, engine, experiment.trajectory,
                             experiment.until_equilibrium)
                       for group in batched(todo, size)]
            for _, result in executor.map_unordered(simulate_batch, batches):
                for row in result:
                    collected[row["point"]][row["replicate"]] = row
            if not adaptive:
                break
            more = {}
            for index, rows in collected.items():
                finals = np.array([rows[r]["values"][-1] for r in range(wanted[index])])
                summary = interval(finals)
                half = (summary["high"] - summary["low"]) / 2
                if half > experiment.precision and wanted[index] < cap:
                    # Runs needed scale with the square of the interval's width; 10% spare.
                    need = math.ceil(len(finals) * (half / experiment.precision) ** 2 * 1.1)
                    more[index] = min(cap, max(need, wanted[index] + 10))
            if progress is not None:
                progress(f"{experiment.name}: {len(todo)} runs done, {len(more)} points need more")
            if not more:
                break
            wanted.update(more)
        reference: dict[int, np.ndarray] = {}
        reference_cpu = 0.0
        if experiment.reference is not None:
            children = np.random.SeedSequence([seed, 1991]).spawn(len(scenarios))
            jobs = [ReferenceJob(experiment.name, index, scenarios[index],
                                 experiment.reference_runs * wanted[index],
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
    results = Results(
        experiment=experiment,
        points=[{short(k): v for k, v in point.items()} for point in points],
        values={i: np.array([rows[r]["values"] for r in range(wanted[i])]).squeeze(-1)
                if not experiment.trajectory else
                np.array([rows[r]["values"] for r in range(wanted[i])])
                for i, rows in collected.items()},
        steps={i: np.array([rows[r]["steps"] for r in range(wanted[i])])
               for i, rows in collected.items()},
        equilibrium={i: np.array([rows[r]["equilibrium"] for r in range(wanted[i])])
                     for i, rows in collected.items()},
        seeds=seeds[:max(wanted.values())], base_seed=seed, engine=engine,
        horizon=int(round(scenarios[0].years * STEPS_PER_YEAR)),
        cpu_seconds=sum(row["cpu_seconds"] for rows in collected.values()
                        for row in rows.values()))
    results.reference = reference
    results.scenarios = scenarios
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
                rows.append({**common, "step": step, **interval(values[:, step])})
        else:
            summary = interval(values)
            row = {**common, **summary, "half_width": (summary["high"] - summary["low"]) / 2,
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
    widest = max((interval(results.final(i))["high"] - interval(results.final(i))["low"]) / 2
                 for i in results.values)
    target = experiment.precision
    if target is None:
        return f"widest 95% half-interval {widest:.4f}"
    met = "met" if widest <= target else "not met"
    return f"widest 95% half-interval {widest:.4f} (target {target:g}: {met})"


# ---------------------------------------------------------------------------- writing
def validate(names: Sequence[str] | None = None, *, out: Path, seed: int = DEFAULT_SEED,
             runs: int | None = None, engine: str = "numba", workers: int | None = None,
             progress: Callable[[str], None] | None = None) -> list[Results]:
    """Run the validation experiments and write their tables, figures and ``validation.md``.

    Writes ``OUT/validation.md``, ``OUT/validation/NAME.csv`` and
    ``OUT/img/validation/NAME.png`` for every experiment run.

    Raises:
        InputError: an unknown experiment name, engine or runs count (before anything runs
            or is written).
    """
    names = list(names or EXPERIMENTS)
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        raise InputError(f"{', '.join(unknown)}: no such validation experiment "
                         f"(known: {', '.join(EXPERIMENTS)})")
    if engine not in ENGINES:
        raise InputError(f"--engine: must be one of {', '.join(ENGINES)}, got {engine!r}")
    if runs is not None and runs < 2:
        raise InputError(f"--replicates: must be at least 2 (for an interval), got {runs}")
    started = time.perf_counter()
    done = []
    with make_executor(workers=workers) as executor:
        for name in names:
            done.append(run_experiment(EXPERIMENTS[name], seed=seed, runs=runs, engine=engine,
                                       executor=executor, progress=progress))
            if progress is not None:
                progress(f"{name}: finished in {done[-1].seconds:.0f} s")
        worker_count = executor.workers
    tables, figures = out / "validation", out / "img" / "validation"
    tables.mkdir(parents=True, exist_ok=True)
    figures.mkdir(parents=True, exist_ok=True)
    for results in done:
        name = results.experiment.name
        frame = table(results)
        write_atomic(tables / f"{name}.csv", lambda p: frame.to_csv(p, index=False))
        write_atomic(figures / f"{name}.png", lambda p: results.experiment.plot(results, p))
    report = markdown(done, seed=seed, runs=runs, engine=engine, workers=worker_count,
                      seconds=time.perf_counter() - started)
    write_atomic(out / "validation.md", lambda p: p.write_text(report))
    return done


def markdown(done: Sequence[Results], *, seed: int, runs: int | None, engine: str, workers: int,
             seconds: float) -> str:
    """The validation report: summary, then per experiment the figure, checks and notes."""
    names = [results.experiment.name for results in done]
    command = " ".join(["ci-sim validate", *([] if names == list(EXPERIMENTS) else names),
                        *([] if runs is None else ["--replicates", str(runs)]),
                        *([] if seed == DEFAULT_SEED else ["--seed", str(seed)]),
                        *([] if engine == "numba" else ["--engine", engine]),
                        "--out docs --overwrite"])
    library = ", ".join(f"{k} {v}" for k, v in versions().items())
    lines = [
        "# Model validation: docking with published agent-based models",
        "",
        "ci-sim's building blocks reproduce results the field already knows (\"docking\", "
        "Axtell, Axelrod, Epstein & Cohen 1996). Each experiment is a scenario file in "
        "`scenarios/validation/` and a grid of parameters, run through the same parameter "
        "system, model, engines and kernels as every other scenario. Grid points share "
        "their replicate seeds (common random numbers), except in the experiments docked with "
        "an independent re-implementation, where every point has seeds of its own so that "
        "differences can be pooled over points; intervals are 95% t intervals over "
        "replicates.",
        "",
        f"Generated by `{command}` with {library}; engine {engine}, base seed "
        f"{seed}, {workers} worker(s), {seconds:.0f} s in all. Tables: `validation/NAME.csv`; "
        "figures: `img/validation/NAME.png`.",
        "",
        "| experiment | verdict | checks passed | runs per point | time | processor time |",
        "|---|---|---|---|---|---|",
    ]
    for results in done:
        counts = sorted({len(v) for v in results.values.values()})
        per_point = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        lines.append(f"| [{results.experiment.name}](#{results.experiment.name}) | "
                     f"{'PASS' if results.passed else 'FAIL'} | "
                     f"{sum(c.passed for c in results.checks)}/{len(results.checks)} | "
                     f"{per_point} | {results.seconds:.0f} s | {results.cpu_seconds:.0f} s |")
    for results in done:
        experiment = results.experiment
        grid = "; ".join(f"`{k}` = " + ", ".join(f"{v:g}" if isinstance(v, float) else str(v)
                                                 for v in values)
                         for k, values in experiment.grid.items())
        lines += [
            "",
            f"<a id=\"{experiment.name}\"></a>",
            f"## {experiment.title}",
            "",
            f"Source: {experiment.source}",
            "",
            f"Compared with: {experiment.compared_with}",
            "",
            f"Scenario `scenarios/validation/{experiment.name}.toml`; grid: {grid}; metric "
            f"`{experiment.metric}`; horizon {results.horizon} periods (months)"
            + ("; a run stops earlier once absorbing" if experiment.until_equilibrium else "")
            + f". {precision_line(results)}".rstrip(". ") + ".",
            "",
            f"![{experiment.name}](img/validation/{experiment.name}.png)",
            "",
            "| claim | published | measured (mean [95% interval]) | result |",
            "|---|---|---|---|",
        ]
        for check in results.checks:
            lines.append(f"| {check.claim} | {check.published} | {check.measured} | "
                         f"{'PASS' if check.passed else 'FAIL'} |")
        if results.reference:
            lines += ["", docking_table(results)]
        elif not experiment.trajectory:
            lines += ["", point_table(results)]
        if experiment.until_equilibrium:
            lines += ["", equilibrium_line(results)]
        if experiment.notes:
            lines += ["", f"Notes. {experiment.notes}"]
    return "\n".join(lines) + "\n"


def equilibrium_line(results: Results) -> str:
    """How many runs reached the absorbing state before the horizon, overall and at worst."""
    shares = {index: flags.mean() for index, flags in results.equilibrium.items()}
    overall = np.concatenate(list(results.equilibrium.values())).mean()
    worst = min(shares, key=shares.get)
    where = ", ".join(f"{k} = {v:g}" for k, v in results.points[worst].items())
    return (f"Runs absorbed before the horizon of {results.horizon} periods: {overall:.0%} "
            f"(fewest at {where}: {shares[worst]:.0%}); the others are measured at the horizon.")


def point_table(results: Results) -> str:
    """Markdown table of the grid: rows the first parameter, columns the second."""
    experiment = results.experiment
    row_name, column_name = (short(k) for k in experiment.grid)
    row_values, column_values = experiment.grid.values()
    header = f"| {row_name} \\ {column_name} | " + " | ".join(f"{v:g}" for v in column_values)
    lines = [header + " |", "|---" * (len(column_values) + 1) + "|"]
    for row in row_values:
        cells = []
        for column in column_values:
            summary = interval(results.final(results.point(**{row_name: row,
                                                                 column_name: column})))
            cells.append(f"{summary['mean']:.3f} ± {(summary['high'] - summary['low']) / 2:.3f}")
        lines.append(f"| {row:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def docking_table(results: Results) -> str:
    """Markdown table: every grid point, the model and the re-implementation (mean, 95%
    half-interval, runs) and their difference with its 95% interval."""
    names = list(results.points[0])
    lines = ["| " + " | ".join(names) + " | model | runs | periods | re-implementation | runs "
             "| model - re-implementation [95%] | z |",
             "|---" * (len(names) + 7) + "|"]
    for index, point in enumerate(results.points):
        model, reference = interval(results.final(index)), interval(results.reference[index])
        gap = difference(results, index)
        lines.append(
            "| " + " | ".join(f"{value:g}" for value in point.values())
            + f" | {model['mean']:.4f} ± {(model['high'] - model['low']) / 2:.4f} "
            f"| {len(results.final(index))} | {results.steps[index].mean():.0f} "
            f"| {reference['mean']:.4f} ± {(reference['high'] - reference['low']) / 2:.4f} "
            f"| {len(results.reference[index])} | {signed4(gap)} | {gap['z']:+.2f} |")
    return "\n".join(lines)
