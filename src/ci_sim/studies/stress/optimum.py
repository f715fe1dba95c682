"""The best backbone share on a response curve, how sure we are of it, and how flat the top is.

References:
    Efron & Tibshirani (1993), An Introduction to the Bootstrap, ch. 13 (percentile
    interval).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ci_sim.studies.stats import bootstrap_weights, percentile_interval

#: Width of the bootstrap interval of the optimum.
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
        low, high: bootstrap percentile interval of ``share`` (level :data:`LEVEL`).
        outcome: expected outcome at the best grid share.
        sufficient_share: smallest share whose expected outcome achieves
            :data:`TARGET_FRACTION` of the best expected improvement over ``start``.
        sufficient_low, sufficient_high: its bootstrap interval.
        interior: the interval lies strictly inside the shares tried, so the optimum is
            neither "as little as possible" nor "as much as tried".
        at_edge_probability: share of bootstrap resamples whose optimum is an end of the grid.
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
    at_edge_probability: float
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
    """Best share of a response curve estimated from replicates, with a bootstrap interval.

    Args:
        shares: the shares tried, increasing.
        outcomes: ``[share, replicate]`` final outcomes; column ``r`` of every share ran on
            the same seed (common random numbers), so replicates are resampled as whole
            columns and the pairing between shares is kept.
        start: outcome before any work (the improvement is measured from it).
        seed: seed of the bootstrap's random stream.
        resamples: bootstrap resamples.
        level: width of the percentile interval.
        fraction: ``sufficient_share`` reaches this fraction of the best improvement.

    References:
        Efron & Tibshirani (1993), An Introduction to the Bootstrap, ch. 13 (percentile
        interval).
    """
    shares = np.asarray(shares, dtype=float)
    outcomes = np.asarray(outcomes, dtype=float)
    n_replicates = outcomes.shape[1]
    mean_curve = outcomes.mean(axis=1)
    weights = bootstrap_weights(n_replicates, resamples, seed)
    curves = weights @ outcomes.T  # resample x share
    optima = best_share(shares, curves)
    enough = sufficient_share(shares, curves, start, fraction)
    low, high = percentile_interval(optima, level)
    sufficient_low, sufficient_high = percentile_interval(enough, level)
    at_edge = np.mean((optima <= shares[0]) | (optima >= shares[-1]))
    near = shares[mean_curve >= mean_curve.max() - NEAR_BEST]
    return Optimum(share=float(best_share(shares, mean_curve)[0]), low=float(low), high=float(high),
                   outcome=float(mean_curve.max()),
                   sufficient_share=float(sufficient_share(shares, mean_curve, start, fraction)[0]),
                   sufficient_low=float(sufficient_low), sufficient_high=float(sufficient_high),
                   interior=bool(low > shares[0] and high < shares[-1]),
                   at_edge_probability=float(at_edge), near_low=float(near.min()),
                   near_high=float(near.max()), resamples=resamples)


#: Key of the optimum over all shocks taken as equally likely.
