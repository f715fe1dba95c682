"""PRIM against data whose successful box is known."""

from __future__ import annotations

import numpy as np
import pytest

from ci_sim.studies.sweep.prim import inside, paste, peel, prim

NAMES = ["a", "b", "c", "d"]


def known_box(n: int = 4000, seed: int = 5, noise: float = 0.0):
    """Success exactly when 0.2 <= a <= 0.6 and b >= 0.5 (c and d do not matter), with an
    optional share of labels flipped at random."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, len(NAMES)))
    success = (X[:, 0] >= 0.2) & (X[:, 0] <= 0.6) & (X[:, 1] >= 0.5)
    flip = rng.random(n) < noise
    return X, success ^ flip


def test_prim_recovers_a_known_box():
    X, success = known_box()
    box = prim(X, success, NAMES, boxes=1)[0]
    assert box.restricted == ["a", "b"]
    limits = box.limits()
    assert limits["a"][0] == pytest.approx(0.2, abs=0.02)
    assert limits["a"][1] == pytest.approx(0.6, abs=0.02)
    assert limits["b"][0] == pytest.approx(0.5, abs=0.02)
    assert box.density > 0.97 and box.coverage > 0.9
    # coverage, density and support agree with a direct count
    held = inside(X, box.lower, box.upper)
    assert box.density == pytest.approx(success[held].mean())
    assert box.coverage == pytest.approx(success[held].sum() / success.sum())
    assert box.support == pytest.approx(held.mean())


def test_prim_finds_the_box_through_label_noise():
    X, success = known_box(noise=0.1)
    # flipped labels put successes outside the box too: the true box holds 0.18 / 0.26
    # of them, so ask for a little less coverage than that
    box = prim(X, success, NAMES, boxes=1, min_coverage=0.6)[0]
    assert set(box.restricted) >= {"a", "b"}
    lower, upper = box.limits()["a"]
    assert 0.14 <= lower and upper <= 0.66 and upper - lower > 0.25
    assert box.limits()["b"][0] >= 0.44
    assert box.density > 0.8 and box.coverage >= 0.6  # the best density is 0.9


def test_peeling_trajectory_trades_coverage_for_density():
    X, success = known_box(noise=0.05)
    box = prim(X, success, NAMES, boxes=1, min_coverage=0.5)[0]
    coverage, density, support = map(np.array, zip(*box.trajectory))
    assert coverage[0] == pytest.approx(1.0) and support[0] == pytest.approx(1.0)
    assert np.all(np.diff(support) < 0) and np.all(np.diff(coverage) <= 1e-12)
    assert density[-1] > density[0]


def test_peeling_removes_exactly_alpha_of_the_runs_or_a_whole_tied_end_value():
    """100 distinct values: each 5% peel removes the ceil(5% of the box) lowest runs. Five
    levels of 20 runs and a 0/1 switch: a peel cannot split the 20 runs at an end level, so
    it moves the limit to the next distinct value."""
    x = np.arange(100.0)
    success = (x >= 50).astype(float)
    trajectory = peel(x[:, None], success, alpha=0.05, min_support=0.5,
                      total_successes=success.sum())
    # 5 of 100, 95, 90 and 85 runs, 4 of 80, 76, 72, 68 and 64, 3 of 60, 57 and 54; a peel
    # of the 51 left would leave fewer than min_support
    assert [lower[0] for lower, *_ in trajectory] == [0, 5, 10, 15, 20, 24, 28, 32, 36, 40,
                                                       43, 46, 49]
    level, switch = np.repeat(np.arange(5.0), 20), np.tile([0.0, 1.0], 50)
    success = (level <= 2).astype(float)
    trajectory = peel(np.column_stack([level, switch]), success, alpha=0.05, min_support=0.05,
                      total_successes=success.sum())
    limits = [(*lower, *upper) for lower, upper, *_ in trajectory]
    # level's top end first (density 0.75, against 0.5 for its bottom and 0.6 for the
    # switch), then the equally dense peel that keeps the most runs, the first among equals
    assert limits == [(0, 0, 4, 1), (0, 0, 3, 1), (0, 0, 2, 1), (1, 0, 2, 1), (2, 0, 2, 1),
                      (2, 1, 2, 1)]
    assert [step[3] for step in trajectory] == [0.6, 0.75, 1, 1, 1, 1]
    assert [step[4] for step in trajectory] == [1, 0.8, 0.6, 0.4, 0.2, 0.1]


def test_pasting_widens_a_box_that_was_peeled_too_far():
    X, success = known_box(noise=0.05)
    lower, upper = np.array([0.3, 0.6, 0.0, 0.0]), np.array([0.5, 1.0, 1.0, 1.0])
    pasted_lower, pasted_upper = paste(X, success.astype(float), lower, upper, alpha=0.05)
    assert pasted_lower[0] < 0.3 or pasted_upper[0] > 0.5 or pasted_lower[1] < 0.6
    held = inside(X, pasted_lower, pasted_upper)
    assert success[held].mean() >= success[inside(X, lower, upper)].mean()


def test_a_second_box_covers_a_second_region():
    rng = np.random.default_rng(9)
    X = rng.random((4000, 3))
    large = (X[:, 0] > 0.6) & (X[:, 1] > 0.6)
    small = (X[:, 0] < 0.2) & (X[:, 1] < 0.2)
    first, second = prim(X, large | small, NAMES[:3], boxes=2)
    assert first.density > 0.9 and second.density > 0.9
    assert np.all(first.lower[:2] > 0.55) and np.all(second.upper[:2] < 0.25)
    assert first.coverage + second.coverage > 0.85


def test_nothing_to_find_when_nothing_succeeds():
    X, _ = known_box(n=200)
    assert prim(X, np.zeros(200, dtype=bool), NAMES) == []


def test_quasi_p_follows_ema_workbench_and_separates_real_from_idle_restrictions():
    from scipy.stats import binomtest

    from ci_sim.studies.sweep.prim import Box, quasi_p_values, resample_shares

    rng = np.random.default_rng(4)
    X = rng.uniform(size=(600, 2))
    success = (X[:, 0] > 0.6) & (rng.uniform(size=600) < 0.9)
    box = Box(names=["real", "idle"], lower=np.array([0.6, 0.0]), upper=np.array([1.0, 0.9]),
              restricted=["real", "idle"], coverage=0, density=0, support=0, points=0)
    quasi = quasi_p_values(X, success, box)
    held = inside(X, box.lower, box.upper)
    wider = X[:, 0] >= 0.6  # the box without its restriction on idle
    expected = binomtest(int(success[held].sum()), int(held.sum()),
                         success[wider].mean(), alternative="greater").pvalue
    assert quasi["idle"] == pytest.approx(expected)
    assert quasi["real"] < 1e-10 and quasi["idle"] > 0.05
    kept = resample_shares(X, success, ["real", "idle"], seed=1, resamples=10)
    assert kept["real"] >= 0.9 and 0 <= kept["idle"] <= 1
