"""Simulation-based calibration of the calibration method (Talts et al. 2018).

Does ``ci-sim calibrate`` recover parameters it could know? Each of many fits draws a true
parameter value from the prior, runs the model there on the fit's own calibration seeds,
adds the observation error the fit's kernel assumes and fits the result as if it were
data. If the method is right, the truth's quantile in its posterior is uniform over fits,
so the posterior's central 50% and 90% intervals hold the truth in 50% and 90% of fits.

The observation model is the one the fit assumes. A particle's distance is 0 exactly when
every statistic lies within its tolerance of its target, and a fit that stops at threshold
0 samples the prior restricted to that box: the exact posterior of data ``y = s(theta) +
e``, ``e`` uniform on ``[-tolerance, tolerance]`` for each statistic (Wilkinson 2013), with
``s(theta)`` the statistics on the fit's calibration seeds (the same seeds for every
particle, so ``s`` is a function of ``theta``). Synthetic targets are therefore drawn as
``s(theta*) + e``. A *mis-specified* fit (``kernel_scale`` below 1) claims a tolerance
smaller than the error the data carry; its intervals are too narrow and miss the truth
far more often than nominal: the check can fail.

Used by ``tests/test_calibration_sbc.py`` (small) and
``benchmarks/bench_calibration_coverage.py`` (larger).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ci_sim.studies.calibration.patterns import PatternModel
from ci_sim.studies.calibration.targets import Plan, Targets, plan
from ci_sim.studies.stats import weighted_quantile

#: Central interval levels whose coverage is measured.
LEVELS = (0.5, 0.9)


@dataclass(frozen=True)
class Synthetic:
    """One synthetic data set: the truth, the fit's seeds, the statistics there and the
    targets observed (statistics plus error)."""

    truth: dict[str, float]
    seed_base: int
    statistics: dict[str, float]
    targets: dict[str, float]


def draw_truth(targets: Targets, rng: np.random.Generator) -> dict[str, float]:
    """A parameter value from each prior."""
    return {name: float(prior.quantile(rng.uniform())) for name, prior in
            targets.parameters.items()}


def synthetic(base: Plan, fit: int, seed: int) -> Synthetic:
    """The synthetic data of fit number ``fit`` (everything drawn from ``seed`` and ``fit``)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(fit,)))
    truth = draw_truth(base.targets, rng)
    seed_base = int(rng.integers(0, 2**31))
    calibrated = replan(base, seed_base=seed_base)
    values = PatternModel.of(calibrated)(truth)
    observed = {}
    for pattern in base.patterns:
        observed[pattern.name] = values[pattern.name] + float(
            rng.uniform(-pattern.tolerance, pattern.tolerance))
    return Synthetic(truth, seed_base, values, observed)


def replan(base: Plan, *, seed_base: int | None = None, targets: dict[str, float] | None = None,
           kernel_scale: float = 1.0) -> Plan:
    """``base`` with other calibration seeds, pattern targets and tolerances x
    ``kernel_scale`` (every pattern must be of the target-with-tolerance kind)."""
    changes = {}
    if seed_base is not None:
        changes["seeds"] = base.targets.seeds.model_copy(update={"base": seed_base})
    patterns = []
    for pattern in base.targets.patterns:
        update = {"tolerance": pattern.tolerance * kernel_scale}
        if targets is not None:
            update["target"] = targets[pattern.name]
        patterns.append(pattern.model_copy(update=update))
    changes["patterns"] = patterns
    return plan(base.targets.model_copy(update=changes), base.path, base.digest)


def check_base(base: Plan) -> None:
    """Refuse a targets file SBC cannot use: every pattern fitted, each a target +- tolerance
    (the kernel whose observation model SBC draws from)."""
    for pattern in base.patterns:
        if pattern.target is None or not pattern.fit:
            raise ValueError(f"patterns.{pattern.name}: simulation-based calibration needs "
                             f"every pattern fitted with a target and a tolerance")


def run_fit(fitted: Plan, executor) -> tuple[pd.DataFrame, str, int]:
    """Fit in a temporary folder; the posterior, why it stopped and its evaluations."""
    import ci_sim.studies.calibration.smc as smc

    folder = Path(tempfile.mkdtemp(prefix="ci-sim-sbc-"))
    try:
        generations = smc.fit(fitted, executor, folder)
        return smc.posterior(folder, fitted), generations.stop, generations.evaluations
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def coverage(base: Plan, fits: int, seed: int, *, kernel_scale: float = 1.0,
             executor=None, first: int = 0) -> pd.DataFrame:
    """Run fits ``first .. first + fits - 1`` on synthetic data (fit ``k``'s data depend only
    on ``seed`` and ``k``, so fits can be split among processes); one row per fit and
    parameter: ``fit``,
    ``parameter``, ``truth``, ``quantile`` (the posterior's weight below the truth, uniform
    when the method is right), ``in_50`` and ``in_90`` (the truth inside the central
    interval), ``width_90``, ``stop``, ``reached_zero`` (the fit stopped at threshold 0,
    where the posterior is the exact one) and ``evaluations``.

    Args:
        base: a plan whose patterns are all fitted targets with tolerances.
        kernel_scale: the fit's tolerances over the data's error (1: well specified).
        executor: where fits run their evaluations (default: this process).
    """
    from ci_sim.executors import make_executor

    check_base(base)
    rows = []
    own = executor is None
    executor = make_executor(workers=1) if own else executor
    try:
        for fit in range(first, first + fits):
            data = synthetic(base, fit, seed)
            fitted = replan(base, seed_base=data.seed_base, targets=data.targets,
                            kernel_scale=kernel_scale)
            posterior, stop, evaluations = run_fit(fitted, executor)
            weights = posterior["weight"].to_numpy()
            for name in base.names:
                values = posterior[name].to_numpy()
                truth = data.truth[name]
                row = {"fit": fit, "parameter": name, "truth": truth,
                       "quantile": float(np.sum(weights[values < truth])),
                       "stop": stop, "reached_zero": stop.startswith("threshold 0 "),
                       "evaluations": evaluations}
                for level in LEVELS:
                    low, high = weighted_quantile(values, weights,
                                                  [0.5 - level / 2, 0.5 + level / 2])
                    row[f"in_{int(level * 100)}"] = bool(low <= truth <= high)
                    if level == 0.9:
                        row["width_90"] = float(high - low)
                rows.append(row)
    finally:
        if own:
            executor.close()
    return pd.DataFrame(rows)


def rank_histogram(quantiles, bins: int = 10) -> np.ndarray:
    """Counts of the truths' posterior quantiles in ``bins`` equal bins (Talts et al. 2018:
    flat when the method is right; a U shape means intervals too narrow)."""
    counts, _ = np.histogram(np.asarray(quantiles, dtype=float), bins=bins, range=(0, 1))
    return counts
