"""The structure practitioners describe: who takes part, and working groups (ODD 7.4, 7.5a)."""

from __future__ import annotations

import numpy as np
import pytest

from ci_sim.model import CollectiveImpactModel


def run_months(months: int, **parameters) -> CollectiveImpactModel:
    model = CollectiveImpactModel("collective_impact", seed=7, **{"organizations.count": 120,
                                                                  **parameters})
    for _ in range(months):
        model.step()
    return model


def test_no_working_groups_before_phase_three():
    model = run_months(8)
    assert np.all(model.group == -1)
    assert np.array_equal(model.degree, model.network_degree)


def test_partners_at_the_table_form_bounded_groups_around_their_areas():
    model = CollectiveImpactModel("collective_impact", seed=7, **{"organizations.count": 120})
    for _ in range(10):
        areas = model.effort.argmax(axis=1)  # what partners work on when the groups form
        model.step()
    size = model.params.conditions.working_group_size
    grouped = model.group >= 0
    assert np.array_equal(grouped, model.at_table), "every partner at the table, no one else"
    assert np.bincount(model.group[grouped]).max() <= size
    for team in np.unique(model.group[grouped]):
        members = np.flatnonzero(model.group == team)
        assert len(set(areas[members].tolist())) == 1, "a group works on one area"
        # ... and its members can meet each other: in the network or as group ties.
        for i in members:
            slots = set(model.neighbours[i, :model.degree[i]].tolist())
            assert set(members.tolist()) - {i} <= slots


def test_group_ties_are_met_and_build_trust():
    model = run_months(36)
    width = model.network_neighbours.shape[1]
    group_slots = np.zeros(model.neighbours.shape, dtype=bool)
    for i in range(len(model.degree)):
        group_slots[i, model.network_degree[i]:model.degree[i]] = True
    assert group_slots.any()
    pairs = [(i, model.neighbours[i, d]) for i, d in zip(*np.nonzero(group_slots))]
    in_groups = np.mean([model.trust[i, j] for i, j in pairs])
    # Partners at the table who are neither neighbours nor in one group now
    tied = np.zeros(model.trust.shape, dtype=bool)
    for i in range(len(model.degree)):
        tied[i, model.neighbours[i, :model.degree[i]]] = True
    table = np.flatnonzero(model.at_table)
    apart = ~tied[np.ix_(table, table)] & ~np.eye(len(table), dtype=bool)
    strangers = model.trust[np.ix_(table, table)][apart].mean()
    assert in_groups > strangers + 0.05, (in_groups, strangers)
    assert model.neighbours.shape[1] == width + model.params.conditions.working_group_size - 1


@pytest.mark.parametrize("override", [{"conditions.working_group_size": 0},
                                      {"conditions.common_agenda": 0.0}])
def test_no_groups_without_size_or_strategic_direction(override):
    model = run_months(24, **override)
    assert np.all(model.group == -1)


def test_without_urgency_or_a_champion_few_come_to_the_table():
    """Participation is a cascade's equilibrium (Granovetter 1978): each precondition raises it."""
    share = {}
    for name, override in {"all": {}, "no champion": {"preconditions.champion": 0.0},
                           "no urgency": {"preconditions.urgency": 0.0},
                           "neither": {"preconditions.champion": 0.0,
                                       "preconditions.urgency": 0.0}}.items():
        share[name] = run_months(36, **override).participation
    assert share["all"] > share["no urgency"] > share["neither"]
    assert share["all"] > share["no champion"] > share["neither"]
    assert share["neither"] == 0.0, "no one moves first: a threshold of 0 is never drawn"
