"""Runs on one seed share their set-up's random numbers, network and landscape (set-up once
per seed): the same numbers as building them anew, and no run can change another's."""

from __future__ import annotations

import numpy as np

from ci_sim.model import CollectiveImpactModel
from ci_sim.model.model import (SHARED_SETUP_ELEMENTS, informal_network, problem_landscape,
                                setup_draws)


def test_points_on_one_seed_share_the_network_and_landscape_and_give_the_same_runs():
    first = CollectiveImpactModel("collective_impact", record="none", seed=5)
    hits = [step.cache_info().hits for step in (informal_network, problem_landscape,
                                                  setup_draws)]
    other_point = CollectiveImpactModel("collective_impact", record="none", seed=5,
                                        common_agenda=0.3)
    assert [step.cache_info().hits for step in (informal_network, problem_landscape,
                                                setup_draws)] == [hit + 1 for hit in hits]
    assert other_point.network is first.network  # one graph, read by both
    np.testing.assert_array_equal(other_point.network_neighbours, first.network_neighbours)
    np.testing.assert_array_equal(other_point.table, first.table)
    # Each run has its own arrays: running one changes nothing of the other's.
    first.advance()
    fresh = CollectiveImpactModel("collective_impact", record="none", seed=5)
    for name in ("neighbours", "network_neighbours", "deps", "table", "flip", "sector",
                 "funder_shares", "needs", "priorities", "mission", "effort", "beliefs", "code",
                 "group_order", "threshold", "trend", "launch_measured"):
        np.testing.assert_array_equal(getattr(fresh, name), getattr(other_point, name), name)
    assert not np.array_equal(first.beliefs, fresh.beliefs)  # the run did change its own


def test_the_set_up_draws_depend_on_the_seed_and_the_fields_shape_alone():
    kept = CollectiveImpactModel("collective_impact", record="none", seed=7)
    other = CollectiveImpactModel("collective_impact", record="none", seed=7,
                                  reluctance=0.4, base_capacity=3.0, trend_sd=0.02)
    np.testing.assert_allclose(other.threshold, kept.threshold * 0.4 / (
        kept.params.preconditions.reluctance), rtol=1e-12)
    np.testing.assert_allclose(other.base_capacity, kept.base_capacity * 3.0 / (
        kept.params.organizations.base_capacity), rtol=1e-12)
    np.testing.assert_allclose(other.trend, kept.trend * 0.02 / kept.params.problem.trend_sd,
                               rtol=1e-12)
    s = kept.params
    shape = (7, s.organizations.count, s.grantees(), s.problem.indicators,
             s.problem.strategy_bits, s.problem.initial_beliefs)
    drawn, anew = setup_draws(*shape), setup_draws.__wrapped__(*shape)
    for name, array in drawn._asdict().items():
        np.testing.assert_array_equal(array, getattr(anew, name), name)
        assert not array.flags.writeable, name
    march = setup_draws(*shape[:-1], "march")
    assert set(np.unique(march.beliefs)) == {-1, 0, 1}
    assert set(np.unique(drawn.beliefs)) == {-1, 1}


def test_a_kept_set_up_step_is_what_building_it_anew_gives():
    for arguments in [(3, 40, "small_world", 6, 0.1), (3, 40, "random", 6, 0.1)]:
        kept = informal_network(*arguments)
        assert informal_network(*arguments) is kept
        anew = informal_network.__wrapped__(*arguments)
        assert sorted(kept[0].edges()) == sorted(anew[0].edges())
        for a, b in zip(kept[1:], anew[1:]):
            np.testing.assert_array_equal(a, b)
    kept = problem_landscape(3, 12, "nk", 5, "numba")
    anew = problem_landscape.__wrapped__(3, 12, "nk", 5, "python")
    np.testing.assert_array_equal(kept[0], anew[0])
    np.testing.assert_array_equal(kept[1], anew[1])
    assert kept[2] == anew[2]


def test_large_fields_are_built_anew():
    degree = 10
    n = SHARED_SETUP_ELEMENTS // degree + 1
    before = informal_network.cache_info()
    informal_network(1, n, "random", degree, 0.0)
    after = informal_network.cache_info()
    assert (after.hits, after.misses, after.currsize) == (before.hits, before.misses,
                                                          before.currsize)
