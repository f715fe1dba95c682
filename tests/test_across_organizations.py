"""Choices that interact across organizations (``problem.across_organizations``; Rivkin &
Siggelkow 2003): a dependency coded N + b reads choice b as the field's prevailing practice
holds it, not as the organization holds it."""

from __future__ import annotations

import numpy as np
import pytest

from ci_sim.model import kernels
from ci_sim.model.scenarios import load_scenario
from ci_sim.simulate import run

#: Two choices, each depending on the other (K = 1); the contribution of pattern (own, other)
#: is its index 0..3, so which entry was read shows in the payoff.
TABLE = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0]])
WITHIN = np.array([[0, 1], [1, 0]])
ACROSS = WITHIN + np.array([[0, 2], [0, 2]])
NO_FLIP = np.zeros(2, dtype=np.int8)


def test_a_dependency_across_organizations_reads_the_prevailing_practice():
    own = np.array([1, -1], dtype=np.int8)
    prevailing = np.array([1, 1], dtype=np.int8)
    # Choice 0 is own +1 with choice 1 as the field holds it (+1): entry 0b11 = 3; choice 1
    # is own -1 with choice 0 as the field holds it (+1): entry 0b01 = 1.
    assert kernels.payoff(own, ACROSS, TABLE, NO_FLIP, prevailing) == pytest.approx(2.0)
    # Within the organization both read its own choices: entries 0b10 = 2 and 0b01 = 1.
    assert kernels.payoff(own, WITHIN, TABLE, NO_FLIP, prevailing) == pytest.approx(1.5)
    # A field that holds the organization's strategy reads the same as its own program.
    assert kernels.payoff(own, ACROSS, TABLE, NO_FLIP, own) == pytest.approx(1.5)


def test_where_no_practice_prevails_the_organizations_own_choice_counts():
    own = np.array([1, 1], dtype=np.int8)
    undecided = np.zeros(2, dtype=np.int8)
    assert kernels.payoff(own, ACROSS, TABLE, NO_FLIP, undecided) \
        == kernels.payoff(own, WITHIN, TABLE, NO_FLIP, undecided) == pytest.approx(3.0)


def test_the_prevailing_practice_is_what_most_grantees_hold():
    beliefs = np.array([[1, 1, -1], [1, -1, -1], [-1, -1, 1], [-1, -1, 1]], dtype=np.int8)
    grantee = np.array([True, True, True, False])  # the funder's view does not count
    prevailing = np.zeros(3, dtype=np.int8)
    assert kernels.prevailing_practice(beliefs, grantee, prevailing)
    assert prevailing.tolist() == [1, -1, -1]
    assert not kernels.prevailing_practice(beliefs, grantee, prevailing)
    beliefs[0, 0] = -1
    assert kernels.prevailing_practice(beliefs, grantee, prevailing)
    assert prevailing.tolist() == [-1, -1, -1]
    grantee[0] = False  # one grantee each way: a tie
    kernels.prevailing_practice(beliefs, grantee, prevailing)
    assert prevailing.tolist() == [0, -1, 0]


def trajectory(**overrides):
    scenario, _ = load_scenario("collective_impact", {"organizations.count": 30, "years": 3.0,
                                                      **overrides})
    return run(scenario, seed=3).to_numpy(float)


def test_without_interdependence_there_is_nothing_across_organizations_to_read():
    np.testing.assert_array_equal(
        trajectory(**{"problem.interdependence": 0}),
        trajectory(**{"problem.interdependence": 0, "problem.across_organizations": 1.0}))


@pytest.mark.parametrize("share", [0.5, 1.0])
def test_choices_across_organizations_change_the_run(share):
    """A share that rounds to at least one of the K = 5 dependencies changes the scores."""
    assert not np.array_equal(trajectory(), trajectory(**{"problem.across_organizations": share}))


def test_a_share_that_rounds_to_no_dependency_changes_nothing():
    np.testing.assert_array_equal(trajectory(),
                                  trajectory(**{"problem.across_organizations": 0.09}))
