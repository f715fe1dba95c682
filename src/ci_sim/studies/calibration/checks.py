"""What a fitted posterior says and whether it holds: the summary, identifiability and the
posterior predictive check on held-out seeds.

- :func:`summary`: per fitted parameter, the posterior median and its 50% and 90% central
  intervals (weighted quantiles of the final generation), the prior's 90% interval, their
  width ratio (near 1: the patterns do not pin the parameter down; near 0: they do), the
  default of ``params.py`` and where it falls in the posterior.
- :func:`pattern_sensitivity`: which patterns move each parameter: Spearman's rank
  correlation between the parameter and each pattern's statistic over generation 0, a
  sample of the prior (all parameters varying at once), so each correlation is the
  parameter's share in moving the pattern across the prior.
- :func:`predictive_check`: posterior draws (and, to compare, the posterior median and the
  defaults) run on the held-out seeds; every pattern's statistic for each, and whether it
  meets its band. The runs go through the study layer (:mod:`ci_sim.studies.study`), so
  they are checkpointed and resumed like any study's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ci_sim.studies.calibration.patterns import Simulator, statistics
from ci_sim.studies.calibration.targets import Plan
from ci_sim.studies.stats import rank_correlation, weighted_quantile
from ci_sim.studies.study import Progress, Study, Task, run_study

#: Quantiles of the summary: the 90% and 50% central intervals and the median.
QUANTILES = {"p05": 0.05, "p25": 0.25, "median": 0.5, "p75": 0.75, "p95": 0.95}

#: Labels of the two reference points of the predictive check.
MEDIAN, DEFAULTS = "posterior median", "defaults"


def moves_threshold(particles: int) -> float:
    """The rank correlation above which a pattern is said to move a parameter: three
    standard errors of a correlation of zero over ``particles`` prior draws."""
    return 3.0 / math.sqrt(max(particles - 1, 1))


def pattern_sensitivity(plan: Plan, prior_sample: pd.DataFrame) -> pd.DataFrame:
    """Spearman's correlation of every parameter (rows) with every pattern's statistic
    (columns) over the prior sample (generation 0)."""
    rows = {}
    for name in plan.names:
        rows[name] = {pattern.name: rank_correlation(prior_sample[name],
                                                     prior_sample[pattern.name])
                      for pattern in plan.patterns}
    return pd.DataFrame.from_dict(rows, orient="index")


def moved_by(sensitivity: pd.DataFrame, particles: int) -> dict[str, list[str]]:
    """Per parameter, the patterns whose correlation with it passes
    :func:`moves_threshold`, the strongest first."""
    threshold = moves_threshold(particles)
    moved = {}
    for name, row in sensitivity.iterrows():
        strong = row[row.abs() >= threshold].abs().sort_values(ascending=False)
        moved[name] = list(strong.index)
    return moved


def summary(plan: Plan, posterior: pd.DataFrame, sensitivity: pd.DataFrame,
            particles: int) -> pd.DataFrame:
    """One row per fitted parameter (see the module doc); values in the parameter's unit."""
    from ci_sim.model.params import describe

    moved = moved_by(sensitivity, particles)
    weights = posterior["weight"].to_numpy()
    rows = []
    for name, prior in plan.targets.parameters.items():
        values = posterior[name].to_numpy()
        quantiles = dict(zip(QUANTILES, weighted_quantile(values, weights,
                                                          list(QUANTILES.values()))))
        prior_low, prior_high = prior.quantile([0.05, 0.95])
        default = float(describe(name)["default"])
        below = float(np.sum(weights[values < default]) + 0.5 * np.sum(weights[values == default]))
        rows.append({
            "parameter": name, "unit": describe(name)["unit"], "prior": prior.prior,
            "prior_low": prior.low, "prior_high": prior.high,
            **quantiles, "mean": float(np.sum(weights * values)),
            "width_ratio": float((quantiles["p95"] - quantiles["p05"])
                                 / (prior_high - prior_low)),
            "default": default, "default_quantile": below,
            "default_in_central_50": bool(quantiles["p25"] <= default <= quantiles["p75"]),
            "default_in_central_90": bool(quantiles["p05"] <= default <= quantiles["p95"]),
            "moved_by": "; ".join(moved[name]),
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- predictive check
@dataclass(frozen=True)
class Draw:
    """A parameter set the check runs: a posterior draw, the median or the defaults."""

    label: str
    kind: str  # "posterior", MEDIAN or DEFAULTS
    values: dict[str, float]


def check_draws(plan: Plan, posterior: pd.DataFrame) -> list[Draw]:
    """``budget.checks`` draws from the posterior (by weight, with replacement, seeded from
    ``seeds.abc``), then the posterior median of each parameter, then the defaults."""
    count = plan.targets.budget.checks
    rng = np.random.default_rng(np.random.SeedSequence(plan.targets.seeds.abc,
                                                       spawn_key=(0xC4EC,)))
    weights = posterior["weight"].to_numpy()
    picks = rng.choice(len(posterior), size=count, p=weights / weights.sum())
    draws = [Draw(f"draw {k + 1}", "posterior",
                  {name: float(posterior[name].iloc[pick]) for name in plan.names})
             for k, pick in enumerate(picks)]
    median = {name: float(weighted_quantile(posterior[name], weights, 0.5))
              for name in plan.names}
    return [*draws, Draw(MEDIAN, MEDIAN, median), Draw(DEFAULTS, DEFAULTS, plan.defaults())]


@dataclass(frozen=True)
class CheckBatch:
    """Runs of the predictive check: point ``draw x runs + run``."""

    simulator: Simulator
    runs: tuple[str, ...]
    values: dict[int, dict[str, float]]  # draw -> parameter values
    tasks: tuple[Task, ...]
    metrics: tuple[str, ...]


def run_check_batch(batch: CheckBatch) -> dict[str, list]:
    """One model run per task: columns ``point``, ``replicate``, ``seed`` and each metric's
    monthly values."""
    columns: dict[str, list] = {name: [] for name in ("point", "replicate", "seed",
                                                      *batch.metrics)}
    for task in batch.tasks:
        draw, run = divmod(task.point, len(batch.runs))
        series = batch.simulator.run(batch.runs[run], batch.values[draw], task.seed)
        columns["point"].append(task.point)
        columns["replicate"].append(task.replicate)
        columns["seed"].append(task.seed)
        for metric in batch.metrics:
            columns[metric].append(series[metric])
    return columns


def check_study(plan: Plan, draws: Sequence[Draw]) -> Study:
    """The check as a study: one point per draw and run, every point on the held-out seeds."""
    simulator = Simulator.of(plan)
    simulator = Simulator(simulator.tables, simulator.kept, {
        run: metrics_union(plan) for run in plan.runs}, simulator.label, simulator.engine)
    runs = tuple(plan.runs)
    values = {d: draw.values for d, draw in enumerate(draws)}

    def make_batch(tasks: list[Task]) -> CheckBatch:
        wanted = {task.point // len(runs) for task in tasks}
        return CheckBatch(simulator, runs, {d: values[d] for d in wanted}, tuple(tasks),
                          metrics_union(plan))

    return Study(kind="calibration", points=len(draws) * len(runs),
                 replicates=len(plan.check_seeds), seeds=plan.check_seeds,
                 run_batch=run_check_batch, make_batch=make_batch,
                 outcomes=list(metrics_union(plan)), largest_batch=8)


def metrics_union(plan: Plan) -> tuple[str, ...]:
    return tuple(sorted({metric for metrics in plan.metrics.values() for metric in metrics}))


def predictive_check(plan: Plan, posterior: pd.DataFrame, executor, *, store=None,
                     progress: Progress | None = None) -> pd.DataFrame:
    """Run the check; one row per draw and pattern: ``draw``, ``kind``, ``pattern``,
    ``value`` (the statistic on the held-out seeds), ``excess`` (in tolerances) and
    ``met``; the draws' parameter values are columns too."""
    if not plan.targets.budget.checks:
        return pd.DataFrame(columns=["draw", "kind", "pattern", "value", "excess", "met"])
    draws = check_draws(plan, posterior)
    done = run_study(check_study(plan, draws), executor, store=store, progress=progress)
    runs = tuple(plan.runs)
    rows = []
    for d, draw in enumerate(draws):
        trajectories = {run: {metric: done.values(d * len(runs) + r, metric)
                              for metric in plan.metrics[run]}
                        for r, run in enumerate(runs)}
        values = statistics(plan.patterns, trajectories)
        for pattern in plan.patterns:
            excess = pattern.excess(values[pattern.name])
            rows.append({"draw": draw.label, "kind": draw.kind, "pattern": pattern.name,
                         "value": values[pattern.name], "excess": excess,
                         "met": bool(excess == 0), **draw.values})
    return pd.DataFrame(rows)


def pattern_table(plan: Plan, posterior: pd.DataFrame, checks: pd.DataFrame) -> pd.DataFrame:
    """One row per pattern: its band, whether it is fitted, on the calibration seeds the
    weighted share of the final particles meeting it and their median statistic, and on
    the held-out seeds the share of posterior draws meeting it, their median and 90% range,
    and the statistic at the posterior median and at the defaults."""
    weights = posterior["weight"].to_numpy()
    rows = []
    for pattern in plan.patterns:
        fitted_values = posterior[pattern.name].to_numpy()
        met = np.array([pattern.excess(value) == 0 for value in fitted_values])
        row: dict[str, Any] = {
            "pattern": pattern.name, "fitted": pattern.fit, "band": pattern.band_text(),
            "calibration_met_share": float(np.sum(weights[met])),
            "calibration_median": float(weighted_quantile(fitted_values, weights, 0.5))}
        held = checks[checks["pattern"] == pattern.name] if len(checks) else checks
        draws = held[held["kind"] == "posterior"] if len(held) else held
        if len(draws):
            low, middle, high = np.quantile(draws["value"], [0.05, 0.5, 0.95])
            row.update({"held_out_met_share": float(draws["met"].mean()),
                        "held_out_median": float(middle), "held_out_p05": float(low),
                        "held_out_p95": float(high)})
            for kind, key in ((MEDIAN, "at_posterior_median"), (DEFAULTS, "at_defaults")):
                one = held[held["kind"] == kind].iloc[0]
                row[key] = float(one["value"])
                row[f"{key}_met"] = bool(one["met"])
        rows.append(row)
    return pd.DataFrame(rows)
