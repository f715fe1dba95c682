"""PRIM, the Patient Rule Induction Method, for scenario discovery.

Finds boxes (a range per parameter) in which runs succeed much more often than overall:
*peeling* repeatedly removes the thin slice of points (``alpha`` of those in the box) at
one end of one parameter that most raises the share of successes inside, down to a
minimum support; the box kept from this peeling trajectory is the densest one that still
holds ``min_coverage`` of the successes; *pasting* then widens its edges again wherever
that does not lower the density. Further boxes are found the same way after removing the points in
earlier boxes ("covering").

Coverage: share of all successes that fall in the box. Density: share of the runs in the
box that succeed. Support: share of all runs in the box.

References:
    Friedman & Fisher (1999), Bump hunting in high-dimensional data, Statistics and
    Computing 9: 123-143.
    Bryant & Lempert (2010), Thinking inside the box: a participatory, computer-assisted
    approach to scenario discovery, Technol. Forecast. Soc. Change 77: 34-49.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Box:
    """A box found by PRIM, with its peeling trajectory.

    Attributes:
        lower, upper: the box's limits per parameter (inclusive).
        restricted: names of the parameters whose range the box narrows.
        coverage, density, support: as in the module docstring.
        points: runs inside the box (among those not in earlier boxes).
        trajectory: ``(coverage, density, support)`` after each peel, for plotting.
    """

    names: list[str]
    lower: np.ndarray
    upper: np.ndarray
    restricted: list[str]
    coverage: float
    density: float
    support: float
    points: int
    trajectory: list[tuple[float, float, float]] = field(default_factory=list)

    def limits(self) -> dict[str, tuple[float, float]]:
        """Limits of the restricted parameters."""
        return {name: (float(self.lower[i]), float(self.upper[i]))
                for i, name in enumerate(self.names) if name in self.restricted}


def inside(X: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    return np.all((X >= lower) & (X <= upper), axis=1)


def peel(X: np.ndarray, y: np.ndarray, *, alpha: float, min_support: float,
         total_successes: float) -> list[tuple[np.ndarray, np.ndarray, float, float, float]]:
    """The peeling trajectory: ``(lower, upper, coverage, density, support)`` per step.

    ``y`` is 1 for a success and 0 otherwise. Each parameter's values are sorted once; a
    step reads every peel's threshold from these orders, counts the successes among the
    points it would remove, and drops the peeled points from every order. The counts are
    integers, so shares computed from them are the same floats as means of ``y``.
    """
    n = len(y)
    success = y.astype(bool)
    hits = np.count_nonzero(success)
    lower, upper = X.min(axis=0).astype(float), X.max(axis=0).astype(float)
    mask = np.ones(n, dtype=bool)  # the points in the box
    floor = max(1, math.ceil(min_support * n))
    trajectory = [(lower, upper, y.sum() / total_successes, y.mean(), 1.0)]
    columns = np.ascontiguousarray(X.T)
    orders = [np.argsort(column) for column in columns]  # the box's points, by each value
    while (held := len(orders[0])) > floor:
        remove = max(1, math.ceil(alpha * held))
        best = None
        for dimension, (column, order) in enumerate(zip(columns, orders)):
            values = column[order]
            if values[0] == values[-1]:
                continue
            # low end: keep values >= threshold, at least one point removed
            threshold = values[min(remove, held - 1)]
            if threshold == values[0]:  # the second smallest distinct value
                threshold = values[np.searchsorted(values, values[0], side="right")]
            threshold_high = values[max(held - 1 - remove, 0)]
            if threshold_high == values[-1]:  # the second largest distinct value
                threshold_high = values[np.searchsorted(values, values[-1], side="left") - 1]
            below = np.searchsorted(values, threshold, side="left")
            above = np.searchsorted(values, threshold_high, side="right")
            for peeled, new_low, new_high in ((order[:below], threshold, upper[dimension]),
                                              (order[above:], lower[dimension], threshold_high)):
                count = held - len(peeled)
                if count < floor:
                    continue
                kept_hits = hits - np.count_nonzero(success[peeled])
                key = (kept_hits / count, count)
                if best is None or key > best[0]:  # the first of equals, as max() would
                    best = key, kept_hits, dimension, new_low, new_high, peeled
        if best is None:
            break
        (_, count), hits, dimension, new_low, new_high, peeled = best
        lower, upper = lower.copy(), upper.copy()
        lower[dimension], upper[dimension] = new_low, new_high
        mask[peeled] = False
        orders = [order[mask[order]] for order in orders]
        trajectory.append((lower, upper, hits / total_successes, hits / count, count / n))
    return trajectory


def paste(X: np.ndarray, y: np.ndarray, lower: np.ndarray, upper: np.ndarray, *,
          alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Widen edges, ``alpha`` of the box's points at a time, while the density does not
    fall; each step takes the widening with the highest density."""
    lower, upper = lower.copy(), upper.copy()
    while True:
        outside = ~((X >= lower) & (X <= upper))  # which limits each point is outside of
        broken = outside.sum(axis=1)
        mask = broken == 0
        density = y[mask].mean()
        add = max(1, math.ceil(alpha * mask.sum()))
        best = None
        for dimension, column in enumerate(X.T):
            others = broken == outside[:, dimension]  # inside the other parameters' limits
            below = np.sort(column[others & (column < lower[dimension])])[::-1]
            above = np.sort(column[others & (column > upper[dimension])])
            for side, beyond in (("low", below), ("high", above)):
                if len(beyond) == 0:
                    continue
                edge = beyond[min(add, len(beyond)) - 1]
                new_lower, new_upper = lower.copy(), upper.copy()
                if side == "low":
                    new_lower[dimension] = edge
                else:
                    new_upper[dimension] = edge
                widened = others & (column >= new_lower[dimension]) \
                    & (column <= new_upper[dimension])
                new_density, held = y[widened].mean(), int(widened.sum())
                # >=: more support at no cost in density is worth having (each paste adds
                # points, so this ends)
                if new_density >= density and (best is None or (new_density, held) > best[:2]):
                    best = (new_density, held, new_lower, new_upper)
        if best is None:
            return lower, upper
        _, _, lower, upper = best


def prim(X: np.ndarray, success: np.ndarray, names: list[str], *, alpha: float = 0.05,
         min_support: float = 0.05, min_coverage: float = 0.5, boxes: int = 1) -> list[Box]:
    """Find up to ``boxes`` boxes where ``success`` is concentrated.

    Args:
        X: parameter values, runs x parameters.
        success: True where a run succeeded.
        names: parameter names, one per column.
        alpha: share of the box's points removed per peel (0.05 in Friedman & Fisher).
        min_support: stop peeling when fewer than this share of all runs is left.
        min_coverage: keep the densest box on the trajectory with at least this coverage.
        boxes: at most this many boxes; stops early when no box beats the base rate.

    Returns:
        The boxes, best first; an empty list when nothing succeeds.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(success, dtype=float)
    total = y.sum()
    full_lower, full_upper = X.min(axis=0), X.max(axis=0)
    remaining = np.ones(len(y), dtype=bool)
    found: list[Box] = []
    while len(found) < boxes and total > 0 and y[remaining].sum() > 0:
        Xr, yr = X[remaining], y[remaining]
        trajectory = peel(Xr, yr, alpha=alpha, min_support=min_support, total_successes=total)
        covering = [step for step in trajectory if step[2] >= min_coverage * yr.sum() / total]
        lower, upper, *_ = max(covering or trajectory[:1], key=lambda step: (step[3], step[2]))
        lower, upper = paste(Xr, yr, lower, upper, alpha=alpha)
        mask = inside(Xr, lower, upper)
        density = float(yr[mask].mean())
        if found and density <= yr.mean():
            break  # no better than the rest: nothing left to discover
        restricted = [name for i, name in enumerate(names)
                      if lower[i] > full_lower[i] or upper[i] < full_upper[i]]
        found.append(Box(names=list(names), lower=lower, upper=upper, restricted=restricted,
                         coverage=float(yr[mask].sum() / total), density=density,
                         support=float(mask.sum() / len(y)), points=int(mask.sum()),
                         trajectory=[(float(c), float(d), float(s))
                                     for _, _, c, d, s in trajectory]))
        indices = np.flatnonzero(remaining)
        remaining[indices[mask]] = False
    return found


# ---------------------------------------------------------------------------- significance
def quasi_p_values(X: np.ndarray, success: np.ndarray, box: Box) -> dict[str, float]:
    """EMA Workbench's quasi-p value of each restriction of ``box``.

    For a restricted parameter, drop that restriction (keep the others) and take the share
    of successes ``p`` among the runs in the wider box; the quasi-p value is the one-sided
    binomial probability of at least as many successes as the box holds among as many runs,
    were the restriction to add nothing (success rate ``p``). Small is significant; EMA
    flags restrictions above 0.05. It is "quasi" because the box was chosen on the same
    data, so it understates the chance of a fluke.

    References:
        Bryant & Lempert (2010); Kwakkel (2017), The Exploratory Modeling Workbench,
        Environ. Model. Softw. 96: 239-250 (``prim.PrimBox`` quasi-p).
    """
    from scipy.stats import binomtest

    X = np.asarray(X, dtype=float)
    y = np.asarray(success, dtype=bool)
    held = inside(X, box.lower, box.upper)
    hits, count = int(y[held].sum()), int(held.sum())
    values = {}
    for index, name in enumerate(box.names):
        if name not in box.restricted:
            continue
        lower, upper = box.lower.copy(), box.upper.copy()
        lower[index], upper[index] = -np.inf, np.inf
        wider = inside(X, lower, upper)
        rate = float(y[wider].mean()) if wider.any() else 0.0
        values[name] = float(binomtest(hits, count, rate, alternative="greater").pvalue) \
            if count else 1.0
    return values


def resample_shares(X: np.ndarray, success: np.ndarray, names: list[str], *, seed: int,
                    resamples: int = 20, fraction: float = 0.5, **options) -> dict[str, float]:
    """How often PRIM restricts each parameter when run again on random ``fraction`` of the
    runs (without replacement), over ``resamples`` resamples: a restriction kept in few
    resamples describes these runs rather than the model (EMA Workbench's
    ``PrimBox.resample``, reproducibility of the box's dimensions)."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(success, dtype=bool)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x9121,)))
    size = max(2, int(round(fraction * len(y))))
    counts = dict.fromkeys(names, 0)
    for _ in range(resamples):
        pick = rng.choice(len(y), size=size, replace=False)
        found = prim(X[pick], y[pick], names, boxes=1, **options)
        for name in found[0].restricted if found else []:
            counts[name] += 1
    return {name: count / resamples for name, count in counts.items()}
