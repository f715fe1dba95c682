"""The best backbone share on a response curve, how sure we are of it, and how flat the top is.

References:
    Nelson, Swann, Goldsman & Song (2001), Simple procedures for selecting the best
    simulated system when the number of alternatives is large, Operations Research 49:
    950-963 (the shares that may be the best).
    Efron & Tibshirani (1993), An Introduction to the Bootstrap, ch. 13 (percentile
    interval of the smallest sufficient share).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ci_sim.studies.stats import bootstrap_weights, may_be_best, percentile_interval

#: Confidence that the shares which may be the best hold the best share tried, and width of
#: the bootstrap interval of the sufficient share.
LEVEL = 0.90
#: The "good enough" share achieves this fraction of the best expected improvement.
TARGET_FRACTION = 0.90
#: Shares whose expected outcome is within this much of the best (outcome index, 0.01 = one
#: point) make up the range of good shares: where the response curve is flat, any of them
#: will do.
NEAR_BEST = 0.01


@dataclass(frozen=True)
class Optimum:
    """The best share on a response curve and how sure we are of it.

    Attributes:
        share: share maximizing the expected outcome (between grid points by a parabola
            through the best grid point and its neighbours).
        low, high: smallest and largest share tried that may be the best: the shares no
            other share beats by more than chance allows, a set holding the best share tried
            with probability :data:`LEVEL` (:func:`~ci_sim.studies.stats.may_be_best`).
        outcome: expected outcome at the best grid share.
        sufficient_share: smallest share whose expected outcome achieves
            :data:`TARGET_FRACTION` of the best expected improvement over ``start``.
        sufficient_low, sufficient_high: its bootstrap interval.
        interior: the shares that may be the best lie strictly inside the shares tried, so
            the optimum is neither "as little as possible" nor "as much as tried".
        near_low, near_high: smallest and largest share tried whose expected outcome is
            within :data:`NEAR_BEST` of ``outcome``.
    """

    share: float
    low: float
    high: float
    outcome: float
    sufficient_share: float
    sufficient_low: float
    sufficient_high: float
    interior: bool
    near_low: float
    near_high: float
    resamples: int

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def best_share(shares: np.ndarray, curves: np.ndarray) -> np.ndarray:
    """Share maximizing each expected-outcome curve (last axis over ``shares``).

    The best grid point is refined by the vertex of the parabola through it and its two
    neighbours (kept between the neighbours); at an end of the grid the end is returned.
    """
    curves = np.atleast_2d(curves)
    best = np.argmax(curves, axis=-1)
    result = shares[best].astype(float)
    inner = (best > 0) & (best < len(shares) - 1)
    if inner.any():
        rows = np.nonzero(inner)[0]
        i = best[rows]
        x0, x1, x2 = shares[i - 1], shares[i], shares[i + 1]
        y0, y1, y2 = curves[rows, i - 1], curves[rows, i], curves[rows, i + 1]
        # Vertex of the parabola through three points (any spacing).
        numerator = (x1 - x0) ** 2 * (y1 - y2) - (x1 - x2) ** 2 * (y1 - y0)
        denominator = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0)
        with np.errstate(divide="ignore", invalid="ignore"):
            vertex = x1 - 0.5 * numerator / denominator
        result[rows] = np.where(np.isfinite(vertex), np.clip(vertex, x0, x2), x1)
    return result


def sufficient_share(shares: np.ndarray, curves: np.ndarray, start: float,
                     fraction: float = TARGET_FRACTION) -> np.ndarray:
    """Smallest share whose expected outcome reaches ``start + fraction * (best - start)``,
    linearly interpolated between grid points (last axis over ``shares``)."""
    curves = np.atleast_2d(curves)
    target = start + fraction * (curves.max(axis=-1) - start)
    first = np.argmax(curves >= target[:, None], axis=-1)
    result = shares[first].astype(float)
    rows = np.nonzero(first > 0)[0]
    if len(rows):
        i = first[rows]
        y0, y1 = curves[rows, i - 1], curves[rows, i]
        weight = (target[rows] - y0) / (y1 - y0)
        result[rows] = shares[i - 1] + weight * (shares[i] - shares[i - 1])
    return result


def find_optimum(shares: Sequence[float], outcomes: np.ndarray, *, start: float, seed: int,
                 resamples: int = 2000, level: float = LEVEL,
                 fraction: float = TARGET_FRACTION) -> Optimum:
    """Best share of a response curve estimated from replicates, with the shares that may be
    the best and a bootstrap interval of the smallest sufficient share.

    Args:
        shares: the shares tried, increasing.
        outcomes: ``[share, replicate]`` final outcomes; column ``r`` of every share ran on
            the same seed (common random numbers), so shares are compared by paired
            differences and the bootstrap resamples whole columns.
        start: outcome before any work (the improvement is measured from it).
        seed: seed of the bootstrap's random stream.
        resamples: bootstrap resamples.
        level: confidence of the shares that may be the best; width of the percentile
            interval of the sufficient share.
        fraction: ``sufficient_share`` reaches this fraction of the best improvement.

    The best share's uncertainty is a set, not a bootstrap interval of the argmax: near a
    flat top the argmax jumps between nearly tied shares, and its percentile interval holds
    the best share less often than its level says (``docs/findings.md`` measures both).
    """
    shares = np.asarray(shares, dtype=float)
    outcomes = np.asarray(outcomes, dtype=float)
    mean_curve = outcomes.mean(axis=1)
    candidates = shares[may_be_best(outcomes, level)]
    weights = bootstrap_weights(outcomes.shape[1], resamples, seed)
    enough = sufficient_share(shares, weights @ outcomes.T, start, fraction)
    sufficient_low, sufficient_high = percentile_interval(enough, level)
    near = shares[mean_curve >= mean_curve.max() - NEAR_BEST]
    low, high = float(candidates.min()), float(candidates.max())
    return Optimum(share=float(best_share(shares, mean_curve)[0]), low=low, high=high,
                   outcome=float(mean_curve.max()),
                   sufficient_share=float(sufficient_share(shares, mean_curve, start, fraction)[0]),
                   sufficient_low=float(sufficient_low), sufficient_high=float(sufficient_high),
                   interior=bool(low > shares[0] and high < shares[-1]),
                   near_low=float(near.min()), near_high=float(near.max()), resamples=resamples)
