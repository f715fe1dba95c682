"""The one place ci-sim's studies compute intervals, differences and bootstraps.

Every "95% interval" a table prints or a plot draws is :func:`interval`: the two-sided
Student t interval of a mean over independent replicates. A band over time is the same
interval at every time (:func:`intervals`), and adaptive replicates stop when its
half-width (:func:`half_width`) reaches a target. Differences between two settings run on
the same seeds are paired (:func:`paired_difference`); between independent runs, Welch's
interval (:func:`welch_difference`). Quantities that are not means (a threshold
crossing, a percentile) get percentile bootstrap intervals that resample whole replicates
(:func:`bootstrap_weights`), which keeps common random numbers paired. Which of several
settings is best is a set, not an interval (:func:`may_be_best`).

The "first year a threshold is reached" rule is :func:`first_year_reaching`: a run that
never reaches it counts as reaching it one month after the horizon (censored), so every
run has a number, and the share of runs that did reach it is reported next to it.

References:
    Efron & Tibshirani (1993), An Introduction to the Bootstrap, ch. 13 (percentile
    interval). Welch (1947), Biometrika 34: 28-35. Nelson, Swann, Goldsman & Song (2001),
    Operations Research 49: 950-963 (screening for the best).
"""

from __future__ import annotations

import math

import numpy as np

#: Level of every interval tables and plots show unless a study says otherwise.
LEVEL = 0.95

#: Months per simulated year (as the model steps); kept here so statistics need no model.
MONTHS_PER_YEAR = 12


def t_quantile(count: int, level: float = LEVEL) -> float:
    """The t quantile of a two-sided ``level`` interval of a mean of ``count`` values."""
    return student_quantile(0.5 + level / 2, count - 1) if count >= 2 else math.nan


def student_quantile(probability: float, df: float) -> float:
    """The ``probability`` quantile of Student's t with ``df`` (possibly fractional) degrees
    of freedom.

    ``scipy.special.stdtrit`` is what ``scipy.stats.t.ppf`` computes (the same numbers, bit
    for bit), without importing ``scipy.stats`` (about 0.4 s of CPU at start-up); Mesa
    imports ``scipy.special`` already, so in a run it costs nothing.
    """
    from scipy.special import stdtrit

    return float(stdtrit(df, probability))


def normal_quantile(probability: float) -> float:
    """The ``probability`` quantile of the standard normal (``scipy.stats.norm.ppf``)."""
    from scipy.special import ndtri

    return float(ndtri(probability))


def interval(values, level: float = LEVEL) -> dict[str, float]:
    """Mean and two-sided t confidence interval of the mean: ``{"mean", "low", "high"}``.

    One value, or values all equal, give an interval of zero width.
    """
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2 or np.allclose(values, mean):
        return {"mean": mean, "low": mean, "high": mean}
    half = t_quantile(len(values), level) * float(values.std(ddof=1)) / math.sqrt(len(values))
    return {"mean": mean, "low": mean - half, "high": mean + half}


def half_width(values, level: float = LEVEL) -> float:
    """Half the width of :func:`interval`."""
    return span(interval(values, level))


def span(summary: dict[str, float]) -> float:
    """Half the width of an interval summary (``{"low", "high"}``): the "±" of a table."""
    return (summary["high"] - summary["low"]) / 2


def intervals(values, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`interval` of every column of ``values`` (replicates x times): mean, low, high."""
    values = np.asarray(values, dtype=float)
    mean = values.mean(axis=0)
    count = values.shape[0]
    if count < 2:
        return mean, mean.copy(), mean.copy()
    half = t_quantile(count, level) * values.std(axis=0, ddof=1) / math.sqrt(count)
    return mean, mean - half, mean + half


def replicates_for(values, target: float, level: float = LEVEL, *, spare: float = 1.1) -> int:
    """Replicates the mean of ``values`` needs for a half-width of ``target``: the count
    scales with the square of the width (with ``spare`` to spare)."""
    current = half_width(values, level)
    if current <= target:
        return len(values)
    return math.ceil(len(values) * (current / target) ** 2 * spare)


def paired_difference(first, second, level: float = LEVEL) -> dict[str, float]:
    """Mean and interval of ``first - second`` over the replicates both have (run on the
    same seeds, so the difference is paired)."""
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    shared = min(len(first), len(second))
    return interval(first[:shared] - second[:shared], level)


def welch_difference(first, second, level: float = LEVEL) -> dict[str, float]:
    """``first - second`` for independent samples: mean, Welch interval, standard error
    ``se`` and standardized difference ``z``."""
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    va, vb = first.var(ddof=1) / len(first), second.var(ddof=1) / len(second)
    se = math.sqrt(va + vb)
    mean = float(first.mean() - second.mean())
    if se == 0.0:
        return {"mean": mean, "low": mean, "high": mean, "se": 0.0, "z": 0.0}
    df = (va + vb) ** 2 / (va ** 2 / (len(first) - 1) + vb ** 2 / (len(second) - 1))
    half = student_quantile(0.5 + level / 2, df) * se
    return {"mean": mean, "low": mean - half, "high": mean + half, "se": se, "z": mean / se}


def normal_interval(mean: float, se: float, level: float = LEVEL) -> dict[str, float]:
    """``mean`` plus or minus the normal quantile times ``se`` (for sums of independent
    estimates whose degrees of freedom are large)."""
    half = normal_quantile(0.5 + level / 2) * se
    return {"mean": mean, "low": mean - half, "high": mean + half}


def bootstrap_weights(replicates: int, resamples: int, seed: int, *, stream: int = 0x0B007
                      ) -> np.ndarray:
    """Weights of a bootstrap over whole replicates: ``resamples x replicates``, each row
    how often each replicate was drawn divided by ``replicates``.

    ``weights @ values`` (values: replicates x anything) is the mean of every resample;
    resampling replicate columns keeps settings run on the same seeds paired.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))
    picks = rng.integers(0, replicates, size=(resamples, replicates))
    counts = np.zeros((resamples, replicates))
    np.add.at(counts, (np.arange(resamples)[:, None], picks), 1.0)
    return counts / replicates


def percentile_interval(samples, level: float) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap ``samples``."""
    low, high = np.percentile(np.asarray(samples, dtype=float),
                              [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(low), float(high)


def may_be_best(outcomes, level: float) -> np.ndarray:
    """Which alternatives may have the largest mean: a subset holding the best one with
    probability at least ``level``.

    ``outcomes`` is ``alternatives x replicates``, column ``r`` of every alternative run on
    the same seed (common random numbers). Alternative ``i`` is kept unless some ``j``
    beats it by more than ``t * S_ij / sqrt(n)``, where ``S_ij`` is the standard deviation
    of the paired differences ``i - j`` over the ``n`` replicates and ``t`` the
    ``level ** (1 / (k - 1))`` quantile of Student's t with ``n - 1`` degrees of freedom
    (``k`` alternatives): the screening procedure of Nelson, Swann, Goldsman & Song (2001),
    Operations Research 49: 950-963, with no indifference zone.

    Unlike a bootstrap percentile interval of the argmax, which is not a smooth function of
    the means and can be far too narrow where the means are nearly tied, the subset keeps
    its coverage for any configuration of means (normal outcomes assumed).
    """
    outcomes = np.asarray(outcomes, dtype=float)
    count, replicates = outcomes.shape
    if count < 2 or replicates < 2:
        return np.ones(count, dtype=bool)
    means = outcomes.mean(axis=1)
    spread = (outcomes[:, None, :] - outcomes[None, :, :]).std(axis=2, ddof=1)
    allowance = student_quantile(level ** (1 / (count - 1)), replicates - 1) * spread \
        / math.sqrt(replicates)
    return np.all(means[:, None] >= means[None, :] - allowance, axis=1)


def first_year_reaching(series, threshold: float, *, at_least: bool = True) -> np.ndarray:
    """Years until each trajectory (last axis: months from 0) first reaches ``threshold``
    (``>=``, or ``<=`` when ``at_least`` is false).

    A run that never reaches it counts as reaching it one month after its horizon
    (censored); :func:`reached` tells which did.
    """
    series = np.asarray(series, dtype=float)
    hit = series >= threshold if at_least else series <= threshold
    first = np.where(hit.any(axis=-1), np.argmax(hit, axis=-1), series.shape[-1])
    return first / MONTHS_PER_YEAR


def reached(years, horizon: float) -> np.ndarray:
    """True where :func:`first_year_reaching` found a crossing within ``horizon`` years."""
    return np.asarray(years, dtype=float) <= horizon + 1e-9


def weighted_quantile(values, weights, q):
    """The ``q`` quantile(s) of weighted ``values`` (a posterior's particles and their
    weights): the inverse of the weighted empirical distribution with each value at the
    middle of its weight, interpolated linearly (the definition pyabc uses), so equal
    weights give the usual midpoint quantiles.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order] / weights.sum()
    middle = np.cumsum(weights) - weights / 2
    return np.interp(q, middle, values)


def rank_correlation(x, y) -> float:
    """Spearman's rank correlation of ``x`` and ``y`` (tied values share their mean rank);
    NaN when either is constant."""
    x, y = ranks(np.asarray(x, dtype=float)), ranks(np.asarray(y, dtype=float))
    if x.std() == 0 or y.std() == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 0 .. n-1 of ``values``, tied values sharing their mean rank."""
    order = np.argsort(values, kind="stable")
    positions = np.empty(len(values))
    positions[order] = np.arange(len(values), dtype=float)
    unique, inverse = np.unique(values, return_inverse=True)
    if len(unique) < len(values):
        positions = (np.bincount(inverse, weights=positions) / np.bincount(inverse))[inverse]
    return positions
