"""Trust stored per tie (ODD 7.10): exactly the n x n matrix it stands for, in memory that
grows with the meeting lists, not with the square of the field."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from typer.testing import CliRunner

from ci_sim.cli import app
from ci_sim.errors import InputError
from ci_sim.model import CollectiveImpactModel, kernels
from ci_sim.model.model import MAX_RECORDED_ROWS
from ci_sim.model.params import MAX_MEETING_SLOTS
from ci_sim.model.scenarios import load_scenario
from ci_sim.model.trust import DENSE_LIMIT, TieTrust

#: Working groups of four that re-form every month from month 2: partners leave a group and
#: meet again in a later one far more often than with the quarterly default.
CHURN = {"organizations.count": 90, "conditions.working_group_size": 4,
         "conditions.groups_month": 2, "conditions.regroup_months": 1, "years": 4.0}


def dense_update_trust(trust, neighbours, degree, met, hoards, relationships, conduct,
                       build_rate, negativity_bias, violation_chance):
    """The trust update on an n x n matrix ``trust[i, j]``, as the model did before trust was
    stored per tie (ODD 7.10); ``conduct(i, d)`` is the month's random number of meeting
    slot d."""
    for i in range(trust.shape[0]):
        for d in range(degree[i]):
            j = neighbours[i, d]
            if met[i, d]:
                if conduct(i, d) < violation_chance * hoards[j]:
                    trust[i, j] -= min(1.0, negativity_bias * build_rate) * trust[i, j]
                else:
                    trust[i, j] += build_rate * (1.0 + relationships[i]) * (1.0 - trust[i, j])
                    trust[i, j] = min(trust[i, j], 1.0)


def group_pairs(model: CollectiveImpactModel) -> set[tuple[int, int]]:
    """(i, j) of every working-group slot in use."""
    return {(i, int(model.neighbours[i, d])) for i in range(len(model.degree))
            for d in range(model.network_degree[i], model.degree[i])}


@pytest.mark.parametrize("engine", ["numba", "python"])
def test_trust_carries_over_exactly_across_regrouping(engine):
    """A dense n x n reference, updated from the same meetings and draws, equals the per-tie
    store on every pair after every month, through pairs that leave a group and meet again."""
    model = CollectiveImpactModel("collective_impact", engine_name=engine, record="none",
                                  seed=11, **CHURN)
    n, initial = len(model.degree), model.params.trust.initial
    reference = np.full((n, n), initial)
    np.fill_diagonal(reference, 1.0)
    s = model.params
    violation_chance = s.trust.violation_rate * s.funding.rewards_attribution
    left: dict[tuple[int, int], float] = {}  # pairs that left a group, with their trust then
    rejoined = 0
    before = set()
    while model.running:
        model.step()
        # The month's meetings, on the meeting lists of the month, and its conduct draws.
        month = model.steps - 1

        def conduct(i, d):
            with np.errstate(over="ignore"):
                return kernels.uniform(model.keys, kernels.CONDUCT, month, i, d)

        dense_update_trust(reference, model.neighbours, model.degree, model.met, model.claims,
                           model.mindsets["relationships"], conduct,
                           s.trust.build_rate, s.trust.negativity_bias, violation_chance)
        now = group_pairs(model)
        for pair in before - now:
            left[pair] = reference[pair]
        for pair in now - before:
            if pair in left and left.pop(pair) != initial:
                rejoined += 1
        before = now
        np.testing.assert_array_equal(model.trust.dense(), reference,
                                      err_msg=f"month {model.steps}")
    # The run exercised the store: pairs met again with the trust they had built.
    assert rejoined > 20, rejoined
    assert model.trust.stored_keys.size > 0


def test_pairs_read_like_the_matrix():
    model = CollectiveImpactModel("collective_impact", record="none", seed=3, **CHURN)
    for _ in range(12):
        model.step()
    matrix = model.trust.dense()
    n = len(model.degree)
    rows, columns = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    np.testing.assert_array_equal(model.trust_of(rows, columns), matrix)
    np.testing.assert_array_equal(model.trust[rows[:5], columns[:5]], matrix[:5])
    assert model.trust.shape == (n, n)
    assert model.trust_of(4, 4) == 1.0
    i = int(np.flatnonzero(model.degree > model.network_degree)[0])
    j = int(model.neighbours[i, model.degree[i] - 1])
    assert model.trust_of(i, j) == model.trust.ties[i, model.degree[i] - 1] == matrix[i, j]
    assert isinstance(model.trust_of(i, j), float)
    met = model.trust.ties[np.isfinite(model.trust.ties)] != model.params.trust.initial
    assert met.any(), "trust has moved on some ties"
    assert np.isnan(model.trust.ties[model.neighbours < 0]).all()
    with pytest.raises(IndexError, match="0 .. 89"):
        model.trust_of(0, n)
    with pytest.raises(IndexError, match="not slices"):
        model.trust[0, :]
    snapshot = model.trust.copy()
    model.step()
    np.testing.assert_array_equal(snapshot.dense(), matrix)
    assert not np.array_equal(model.trust.dense(), matrix)


def test_a_dense_matrix_is_refused_past_its_limit():
    size = DENSE_LIMIT + 1
    trust = TieTrust(np.full((size, 1), -1), np.zeros(size, dtype=np.int64),
                  np.zeros(size, dtype=np.int64), 0.3)
    with pytest.raises(InputError, match="trust.of"):
        trust.dense()
    assert trust.of(size - 1, 0) == 0.3


def test_trust_memory_grows_with_the_meeting_lists_not_with_the_square():
    """20,000 organizations: a dense matrix alone would take 3.2 GB; the model, working groups
    formed and re-formed, takes a small fraction of that."""
    n = 20_000
    tracemalloc.start()
    try:
        model = CollectiveImpactModel("collective_impact", record="none", seed=1, **{
            "organizations.count": n, "conditions.groups_month": 0,
            "conditions.regroup_months": 1})
        for _ in range(3):
            model.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    slots = model.neighbours.shape[1]
    assert (model.degree > model.network_degree).sum() > 1000, "working groups formed"
    assert model.trust.stored_keys.size > 0, "groups re-formed"
    # 8 bytes per meeting slot and 16 per pair the store has room for: four regroupings'
    # new pairs (one per working-group slot) from the start, and when it grows by doubling,
    # at most twice the pairs stored and one regrouping's.
    group_slots = slots - model.network_neighbours.shape[1]
    stored = model.trust.stored_keys.size
    room = max(4 * n * group_slots, 2 * (stored + n * group_slots))
    assert model.trust.nbytes <= 8 * n * slots + 16 * room, model.trust.nbytes
    assert peak < 400e6, f"peak {peak / 1e6:.0f} MB (a dense matrix: {n * n * 8 / 1e6:.0f} MB)"


def test_a_hundred_thousand_organizations_are_allowed_and_more_are_refused():
    scenario, _ = load_scenario(None, {"organizations.count": 100_000})
    assert scenario.organizations.count == 100_000
    assert scenario.meeting_slots() == 100_000 * (6 + 7)
    with pytest.raises(InputError, match=r"organizations.count.*100000"):
        load_scenario(None, {"organizations.count": 100_001})


@pytest.mark.parametrize("overrides, hint", [
    ({"organizations.count": 100_000, "learning.degree": 300}, "learning.degree"),
    ({"organizations.count": 6_000, "learning.network": "full"}, "sparser learning.network")])
def test_too_many_meeting_slots_is_a_one_line_error(overrides, hint):
    with pytest.raises(InputError) as caught:
        load_scenario(None, overrides)
    message = str(caught.value)
    assert "\n" not in message and hint in message and f"{MAX_MEETING_SLOTS:,}" in message
    # The largest full network allowed before stays allowed.
    load_scenario(None, {"organizations.count": 5000, "learning.network": "full",
                         "conditions.working_group_size": 50})


def test_recording_every_organization_of_a_huge_field_is_refused_in_one_line():
    with pytest.raises(InputError) as caught:
        CollectiveImpactModel(organizations_count=100_000, years=10)
    message = str(caught.value)
    assert "\n" not in message and "record='metrics'" in message
    assert "12,100,000 rows" in message and f"{MAX_RECORDED_ROWS:,}" in message


def test_the_command_line_runs_a_large_field(tmp_path):
    result = CliRunner().invoke(app, ["run", "--years", "0.25", "--replicates", "1", "--set",
                                      "organizations.count=20000", "--out",
                                      str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "timeseries.parquet").exists()
