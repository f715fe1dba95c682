"""The funder stress test: how much of a funding pool should go to the backbone, and what if
the world is not the one planned for?

Funders are known to under-fund infrastructure (Turner et al. 2012). The
stress test is a levers x uncertainties study (as in EMA Workbench and robust decision
making, Lempert, Popper & Bankes 2003): every lever setting (the backbone's share of the
pool, and other levers where given) runs in every world (a named shock in a sampled
setting of the uncertainties, :mod:`.experiment`), on the same replicate seeds.

What it measures (see :func:`robustness`): per lever setting, the expected final outcome
(every world equally likely), its 5th percentile over all runs (the downside), the largest
regret (how far below the best setting for that world it falls, at worst) and the
probability of reaching the funder's target (satisficing); per world, the outcome, the time
until it first improves by a threshold, the Systems Change gateway and the money the model
paid the backbone (``backbone_spend``). It finds the range of good shares (every share
within one point of the best expected outcome), the best share with the shares that may be
the best (:mod:`.optimum`), and which uncertainty most changes the best decision beyond
chance (:func:`decision_sensitivity`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ci_sim import __version__
from ci_sim.model import GATEWAYS
from ci_sim.model.params import Scenario
from ci_sim.model.scenarios import scenario_record
from ci_sim.simulate import trajectories, versions
from ci_sim.studies.posterior import Posterior, with_parameters
from ci_sim.studies.store import Store
from ci_sim.studies.stress.experiment import (Plan, StressExperiment, load_experiment,
                                              plan)
from ci_sim.studies.stress.optimum import (LEVEL, NEAR_BEST, TARGET_FRACTION, Optimum,
                                           best_share, find_optimum, sufficient_share)
from ci_sim.studies.stress.shocks import SHOCKS, parse_shares, parse_shock
from ci_sim.studies.study import Precision, Progress, Study, Task, run_study
from ci_sim.studies.stats import first_year_reaching, may_be_best, reached

__all__ = ["ALL_SHOCKS", "LEVEL", "NEAR_BEST", "SHOCKS", "TARGET_FRACTION", "Optimum",
           "StressExperiment", "StressResult", "best_share", "find_optimum", "load_experiment",
           "parse_shares", "parse_shock", "plan", "stress_test", "sufficient_share",
           "years_to_improve"]

#: Gateway whose probability is reported (StriveTogether's fourth gateway).
SYSTEMS_CHANGE = GATEWAYS.index("Systems Change")
#: Money is reported per this many money units (money units read as thousands of dollars,
#: so per 1,000 units is per about a million dollars).
MONEY_UNIT = 1000.0
#: Key of the optimum over all worlds taken as equally likely.
ALL_SHOCKS = "all situations (equal weight)"


# ---------------------------------------------------------------------------- running
@dataclass(frozen=True)
class Batch:
    """Runs of the stress test: a task's point is ``world x settings + setting``."""

    scenarios: dict[int, Scenario]
    tasks: tuple[Task, ...]
    engine: str
    #: Players' choices when the scenario is a workshop room's session file (as records).
    plays: tuple[dict[str, Any], ...] = ()
    #: With a posterior: each replicate's drawn parameters (``{replicate: {name: value}}``),
    #: set on the point's scenario (:mod:`ci_sim.studies.posterior`).
    drawn: dict[int, dict[str, Any]] | None = None


#: What each run records besides its point, replicate and seed.
OUTCOMES = ["outcome", "agenda_alignment", "gateway", "money", "backbone_spend"]


#: The metrics a run's outcomes are read from.
RUN_METRICS = ("outcome", "agenda_alignment", "gateway", "money_given", "backbone_spend")


def run_batch(batch: Batch) -> dict[str, list]:
    """Run every task of a batch: columns ``point``, ``replicate``, ``seed``; ``outcome``
    and ``agenda_alignment`` (months+1 each), ``gateway`` (final gateway), ``money`` (money
    funders gave over the whole run) and ``backbone_spend`` (what the model paid the
    backbone, money units per month on average), in money units."""
    from ci_sim.model.choices import Play

    plays = [Play.from_record(record) for record in batch.plays]
    columns: dict[str, list] = {name: [] for name in ("point", "replicate", "seed", *OUTCOMES)}
    for task in batch.tasks:
        scenario = batch.scenarios[task.point]
        if batch.drawn is not None:
            scenario = with_parameters(scenario, batch.drawn[task.replicate],
                                       f"point {task.point} with its posterior draw")
        series = trajectories(scenario, task.seed, RUN_METRICS, engine=batch.engine,
                              plays=plays)
        columns["point"].append(task.point)
        columns["replicate"].append(task.replicate)
        columns["seed"].append(task.seed)
        columns["outcome"].append(series["outcome"])
        columns["agenda_alignment"].append(series["agenda_alignment"])
        columns["gateway"].append(float(series["gateway"][-1]))
        columns["money"].append(float(series["money_given"].sum()))
        columns["backbone_spend"].append(float(series["backbone_spend"][1:].mean()))
    return columns


def stress_study(checked: Plan) -> Study:
    """The stress test as a :class:`~ci_sim.studies.study.Study`: one point per world and
    lever setting, every point on the same replicate seeds."""
    settings = len(checked.levers)
    flat = {w * settings + s: scenario
            for w, row in enumerate(checked.scenarios) for s, scenario in enumerate(row)}

    plays = tuple(play.as_record() for play in checked.base.plays)
    draws, drawn = checked.draws, {}

    def draw(replicate: int) -> dict[str, Any]:
        if replicate not in drawn:
            drawn[replicate] = draws.values(replicate)
        return drawn[replicate]

    def make_batch(tasks: list[Task]) -> Batch:
        return Batch({task.point: flat[task.point] for task in tasks}, tuple(tasks),
                     checked.experiment.engine, plays,
                     None if draws is None else {task.replicate: draw(task.replicate)
                                                 for task in tasks})

    experiment = checked.experiment
    precision = None if experiment.precision is None else Precision(
        "outcome", experiment.precision, cap=experiment.max_replicates, together=True)
    return Study(kind="stress test", points=len(flat), replicates=experiment.replicates,
                 seeds=checked.seeds, run_batch=run_batch, make_batch=make_batch,
                 outcomes=OUTCOMES, largest_batch=8, precision=precision)


@dataclass
class StressResult:
    """Everything a stress test computed.

    Arrays are indexed ``[world, setting, replicate]`` (and ``month`` for trajectories, 0
    being the start); replicate ``r`` ran on seed ``seeds[r]`` everywhere.
    """

    plan: Plan
    outcome: np.ndarray
    agenda_alignment: np.ndarray
    gateway: np.ndarray
    money: np.ndarray
    backbone_spend: np.ndarray
    table: pd.DataFrame = field(init=False)
    robust: pd.DataFrame = field(init=False)
    sensitivity: pd.DataFrame = field(init=False)
    optima: dict[str, Optimum] = field(init=False)
    ran: int = field(init=False, default=0)

    @property
    def replicates(self) -> int:
        """Replicates every point ran (more than asked where a precision was asked for)."""
        return int(self.outcome.shape[2])

    @property
    def seeds(self) -> list[int]:
        return list(self.plan.seeds[:self.replicates])

    @property
    def final(self) -> np.ndarray:
        """Final outcome, ``[world, setting, replicate]``."""
        return self.outcome[..., -1]

    @property
    def start(self) -> float:
        """Outcome before the first month (the same everywhere: common random numbers)."""
        return float(self.outcome[..., 0].mean())

    @property
    def target(self) -> float:
        """The satisficing target: the funder's, or the start plus the improvement."""
        experiment = self.plan.experiment
        return experiment.target if experiment.target is not None else \
            self.start + experiment.improvement

    @property
    def chosen(self) -> dict[str, Any]:
        """The other levers' values of the setting with the best expected outcome: the
        share curves are drawn with the other levers fixed there."""
        best = int(self.robust["expected_outcome"].idxmax())
        return {name: self.plan.levers[best][name] for name in self.plan.other_levers}

    def curve_settings(self) -> np.ndarray:
        """Indices of the settings on the share curve (other levers at :attr:`chosen`), in
        increasing share."""
        chosen = self.chosen
        picked = [s for s, setting in enumerate(self.plan.levers)
                  if all(setting[name] == value for name, value in chosen.items())]
        return np.array(sorted(picked, key=lambda s: self.plan.shares[s]))


def stress_test(experiment: StressExperiment | Plan, *, workers: int | None = None,
                scheduler: str | None = None, progress: Progress | None = None,
                store: Store | None = None, posterior: Posterior | None = None
                ) -> StressResult:
    """Run the stress test and compute its tables and optima (nothing is published).

    Args:
        experiment: what to run (or an already checked :class:`Plan`).
        posterior: draw each replicate's parameters from it (:func:`plan`; for an
            experiment, not a Plan).
        workers: runs at the same time: 1 in this process, more (None: every core) on a
            local process pool, or Dask workers with ``scheduler="local"``.
        scheduler: ``"local"`` or the address of a Dask scheduler to run on.
        progress: called with (runs done, runs in all) as batches finish.
        store: where finished runs are saved, so that a killed stress test resumes.
    """
    from ci_sim.executors import make_executor

    checked = experiment if isinstance(experiment, Plan) else plan(experiment, posterior)
    with make_executor(workers=workers, scheduler=scheduler) as executor:
        done = run_study(stress_study(checked), executor, store=store, progress=progress)
    points = len(checked.worlds) * len(checked.levers)
    shape = (len(checked.worlds), len(checked.levers), len(done.table) // points)

    def gather(name: str) -> np.ndarray:
        values = np.array([np.asarray(value, dtype=float) for value in done.table[name]])
        return values.reshape(*shape, *values.shape[1:])

    result = StressResult(checked, gather("outcome"), gather("agenda_alignment"),
                          gather("gateway"), gather("money"), gather("backbone_spend"))
    result.ran = done.ran
    result.table = summarize(result)
    result.robust = robustness(result)
    result.optima = find_optima(result)
    result.sensitivity = decision_sensitivity(result)
    return result


# ---------------------------------------------------------------------------- measures
def years_to_improve(outcome: np.ndarray, improvement: float) -> np.ndarray:
    """Years until each trajectory (last axis months, 0 = start) first reaches its start plus
    ``improvement``; a run that never does counts as one month past the horizon
    (:func:`ci_sim.studies.stats.first_year_reaching`)."""
    return first_year_reaching(outcome - outcome[..., :1], improvement)


def setting_columns(result: StressResult, s: int) -> dict[str, Any]:
    return {"backbone_share": float(result.plan.shares[s]),
            **{name: result.plan.levers[s][name] for name in result.plan.other_levers}}


def summarize(result: StressResult) -> pd.DataFrame:
    """One row per world and lever setting: the measures of the report (docs/stress-test.md).

    Units: outcomes are the population outcome index (0..1); money is in the model's money
    units (read as thousands of dollars); years are simulated years.
    """
    checked, experiment = result.plan, result.plan.experiment
    low, high = 5.0, 95.0
    timing = years_to_improve(result.outcome, experiment.improvement)
    rows = []
    for w, world in enumerate(checked.worlds):
        for s in range(len(checked.levers)):
            final = result.final[w, s]
            gain = final - result.outcome[w, s, :, 0]
            money = result.money[w, s] / MONEY_UNIT
            rows.append({
                "situation": world.label, "shock": world.shock.label, "world": world.sample,
                **world.values, **setting_columns(result, s),
                "outcome_mean": final.mean(),
                "outcome_p05": np.percentile(final, low),
                "outcome_p95": np.percentile(final, high),
                "outcome_sd": final.std(ddof=1),
                "target_probability": float(np.mean(final >= result.target)),
                "points_per_1000_money": float(np.mean(100 * gain / money)),
                "years_to_improve_median": float(np.median(timing[w, s])),
                "improved_share": float(np.mean(reached(timing[w, s], checked.scenario.years))),
                "systems_change_probability": float(np.mean(result.gateway[w, s]
                                                            >= SYSTEMS_CHANGE)),
                "backbone_money_per_month": float(result.backbone_spend[w, s].mean()),
            })
    table = pd.DataFrame(rows)
    table["replicates"] = result.replicates
    table["seed"] = experiment.seed
    table["scenario"] = checked.scenario.name
    table["problem"] = checked.scenario.problem.type
    table["pool_per_month"] = checked.scenario.pool()
    table["years"] = checked.scenario.years
    table["improvement_threshold"] = experiment.improvement
    table["target"] = result.target
    table["engine"] = experiment.engine
    table["sha256"] = checked.digest
    table["ci_sim"] = __version__
    if checked.draws is not None:
        for column, value in checked.draws.columns().items():
            table[column] = value
    return table


def robustness(result: StressResult) -> pd.DataFrame:
    """One row per lever setting, the robustness measures side by side (every world equally
    likely):

    - ``expected_outcome``: mean final outcome over worlds and replicates;
    - ``outcome_p05``: 5th percentile of the final outcome over all runs (the downside);
    - ``max_regret``: the largest shortfall, over worlds, of this setting's mean outcome
      below the best setting's in that world (minimax regret picks the smallest);
    - ``target_probability``: share of runs whose final outcome reaches the target
      (satisficing);
    - ``backbone_money_per_month``: what the model paid the backbone, money units a month,
      averaged over worlds and runs.
    """
    final = result.final  # world x setting x replicate
    means = final.mean(axis=2)  # world x setting
    regret = means.max(axis=1, keepdims=True) - means
    rows = []
    for s in range(final.shape[1]):
        runs = final[:, s].ravel()
        rows.append({**setting_columns(result, s),
                     "expected_outcome": float(means[:, s].mean()),
                     "outcome_p05": float(np.percentile(runs, 5)),
                     "max_regret": float(regret[:, s].max()),
                     "target_probability": float(np.mean(runs >= result.target)),
                     "backbone_money_per_month": float(result.backbone_spend[:, s].mean())})
    table = pd.DataFrame(rows)
    table["best_expected"] = table["expected_outcome"] == table["expected_outcome"].max()
    table["good"] = table["expected_outcome"] >= table["expected_outcome"].max() - NEAR_BEST
    return table


#: The robustness criteria, their column and whether larger is better.
CRITERIA = {"expected outcome": ("expected_outcome", True),
            "5th percentile": ("outcome_p05", True),
            "minimax regret": ("max_regret", False),
            "chance of reaching the target": ("target_probability", True)}


def best_by_criterion(robust: pd.DataFrame) -> dict[str, int]:
    """The lever setting each robustness criterion picks (row index of :func:`robustness`);
    among settings tied on a criterion, the one with the best expected outcome."""
    picks = {}
    for name, (column, larger) in CRITERIA.items():
        values = robust[column] if larger else -robust[column]
        tied = robust[values >= values.max() - 1e-12]
        picks[name] = int(tied["expected_outcome"].idxmax())
    return picks


def share_curve(result: StressResult, worlds: list[int]) -> np.ndarray:
    """``[share, replicate]`` final outcomes on the share curve, averaged over ``worlds``
    (equal weight)."""
    settings = result.curve_settings()
    return result.final[worlds][:, settings].mean(axis=0)


def find_optima(result: StressResult) -> dict[str, Optimum]:
    """The optimum of the share curve under each shock (its sampled worlds equally likely)
    and, with several worlds, over all of them."""
    checked = result.plan
    shares = checked.shares[result.curve_settings()]
    groups = {shock.label: [w for w, world in enumerate(checked.worlds) if world.shock == shock]
              for shock in checked.shocks}
    if len(checked.worlds) > 1:
        groups[ALL_SHOCKS] = list(range(len(checked.worlds)))
    return {label: find_optimum(shares, share_curve(result, worlds), start=result.start,
                                seed=checked.experiment.seed,
                                resamples=checked.experiment.bootstrap)
            for label, worlds in groups.items()}


def decision_sensitivity(result: StressResult) -> pd.DataFrame:
    """Which uncertainty most changes the best decision.

    For each uncertainty, the worlds are split at the middle of its range (lower and upper
    half of its sampled quantiles); for the shocks, by shock. The best share (expected
    outcome, other levers as chosen) is found in each group, with the shares that may be
    the best there (:func:`~ci_sim.studies.stats.may_be_best`); ``shift`` is how far apart
    the groups' best shares are, ``regret`` the most outcome a funder loses in a group by
    keeping the share that is best over all worlds, and ``beyond_chance`` whether some group
    rules that share out (a shift the replicates can tell from noise). Sorted by
    ``beyond_chance``, then shift, then regret.
    """
    checked = result.plan
    shares = checked.shares[result.curve_settings()]
    overall = int(np.argmax(share_curve(result, list(range(len(checked.worlds)))).mean(axis=1)))
    factors: dict[str, dict[str, list[int]]] = {}
    if len(checked.shocks) > 1:
        factors["shock"] = {shock.label: [w for w, world in enumerate(checked.worlds)
                                          if world.shock == shock] for shock in checked.shocks}
    for name in checked.uncertainties:
        low = [w for w, world in enumerate(checked.worlds) if world.quantiles[name] < 0.5]
        high = [w for w, world in enumerate(checked.worlds) if world.quantiles[name] >= 0.5]
        if low and high:
            factors[name] = {"lower half": low, "upper half": high}
    rows = [{"uncertainty": name, **split_decision(
        shares, {label: share_curve(result, worlds) for label, worlds in groups.items()}, overall)}
        for name, groups in factors.items()]
    table = pd.DataFrame(rows, columns=["uncertainty", "shift", "regret", "beyond_chance",
                                        "best_shares"])
    return table.sort_values(["beyond_chance", "shift", "regret"], ascending=False,
                             kind="stable").reset_index(drop=True)


def split_decision(shares: np.ndarray, parts: dict[str, np.ndarray], overall: int
                   ) -> dict[str, Any]:
    """The best share in each part of the situations (``[share, replicate]`` outcomes), how
    far apart they are (``shift``), the most a part loses by keeping share number
    ``overall`` (``regret``) and whether some part rules that share out of the shares that
    may be the best there (``beyond_chance``)."""
    best, words, regret, beyond = {}, [], 0.0, False
    for label, outcomes in parts.items():
        curve = outcomes.mean(axis=1)
        candidates = may_be_best(outcomes, LEVEL)
        best[label] = float(shares[int(np.argmax(curve))])
        regret = max(regret, float(curve.max() - curve[overall]))
        beyond = beyond or not candidates[overall]
        words.append(f"{label}: {best[label]:.0%} (may be {shares[candidates].min():.0%}-"
                     f"{shares[candidates].max():.0%})")
    return {"shift": max(best.values()) - min(best.values()), "regret": regret,
            "beyond_chance": beyond, "best_shares": "; ".join(words)}


def good_range(result: StressResult) -> tuple[float, float]:
    """Smallest and largest share (other levers as chosen) whose expected outcome is within
    :data:`NEAR_BEST` of the best."""
    optimum = result.optima.get(ALL_SHOCKS) or next(iter(result.optima.values()))
    return optimum.near_low, optimum.near_high


# ---------------------------------------------------------------------------- writing
def summary_record(result: StressResult) -> dict[str, Any]:
    """What stress.json holds: the experiment, worlds, seeds, versions, scenario, measures."""
    checked = result.plan
    return {
        "experiment": checked.experiment.model_dump(),
        "scenario": checked.scenario.name,
        "shares": [float(share) for share in checked.share_values],
        "levers": [dict(setting) for setting in checked.levers],
        "shocks": {shock.label: shock.overrides for shock in checked.shocks},
        "worlds": [{"label": world.label, "shock": world.shock.label, **world.values}
                   for world in checked.worlds],
        "seed": checked.experiment.seed,
        "replicate_seeds": result.seeds,
        "start_outcome": result.start,
        "target": result.target,
        "robustness": result.robust.to_dict("records"),
        "decision_sensitivity": result.sensitivity.to_dict("records"),
        "optima": {label: optimum.as_dict() for label, optimum in result.optima.items()},
        "band_level": LEVEL,
        "target_fraction": TARGET_FRACTION,
        "units": {"outcome": "population outcome index, 0..1 (a point is 0.01)",
                  "money": "the model's money units (read as thousands of dollars)",
                  "backbone_money_per_month": "money units a month the model paid the "
                                              "backbone (backbone_spend), averaged over runs"},
        "versions": versions(),
        "scenario_file": scenario_record(checked.scenario, checked.digest),
        **({} if checked.draws is None else
           {"posterior": checked.draws.record(result.replicates)}),
    }

