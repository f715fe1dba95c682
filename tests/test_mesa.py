"""Mesa integration: organizations are Mesa agents that are views onto the model's arrays,
so ``AgentSet``, ``DataCollector`` and ``batch_run`` work as Mesa users expect."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pytest

from ci_sim.model import METRICS, SECTORS, CollectiveImpactModel, Organization
from ci_sim.errors import InputError

COUNT = 20


@pytest.fixture()
def model():
    """A small collective-impact model after two months."""
    model = CollectiveImpactModel("collective_impact", rng=11, count=COUNT)
    model.step()
    model.step()
    return model


def by_index(model) -> list[Organization]:
    return sorted(model.agents, key=lambda agent: agent.index)


def test_agents_are_one_organization_per_row_of_the_arrays(model):
    agents = by_index(model)
    assert len(model.agents) == COUNT == model.capacity.shape[0]
    assert all(isinstance(agent, Organization) for agent in agents)
    assert [agent.index for agent in agents] == list(range(COUNT))
    assert len({agent.unique_id for agent in agents}) == COUNT
    assert all(agent.model is model for agent in agents)


def test_agent_attributes_read_the_model_arrays(model):
    agents = by_index(model)
    for agent in agents:
        i = agent.index
        assert agent.sector == SECTORS[model.sector[i]]
        assert agent.capacity == model.capacity[i]
        assert agent.funding == model.funding[i]
        assert agent.strategy_score == model.score[i]
        np.testing.assert_array_equal(agent.strategy, model.beliefs[i])
        np.testing.assert_array_equal(agent.mission, model.mission[i])
        np.testing.assert_array_equal(agent.effort, model.effort[i])
        other = agents[(i + 1) % COUNT]
        assert agent.trust_towards(other) == model.trust[i, other.index]
        assert set(agent.mindsets) == set(model.mindsets)
    # Funders give; they hold no program staff of their own.
    funders = [agent for agent in model.agents if agent.sector == "funder"]
    assert funders and all(agent.funding == 0.0 for agent in funders)


def test_agent_views_follow_the_arrays_as_the_model_steps(model):
    agent = by_index(model)[3]
    before = (agent.capacity, agent.effort)
    model.step()
    assert agent.capacity == model.capacity[3]
    np.testing.assert_array_equal(agent.effort, model.effort[3])
    assert (agent.capacity, tuple(agent.effort)) != (before[0], tuple(before[1]))
    model.capacity[3] = 42.0
    assert agent.capacity == 42.0


def test_agent_attributes_write_the_model_arrays(model):
    grantee = next(agent for agent in by_index(model) if agent.sector != "funder")
    i = grantee.index
    grantee.capacity = 3.5
    assert model.capacity[i] == 3.5
    grantee.funding = 12.0
    assert model.funding[i] == 12.0
    flipped = -model.beliefs[i]
    grantee.strategy = flipped
    np.testing.assert_array_equal(model.beliefs[i], flipped)
    # The Mesa way to change every agent at once reaches the arrays too.
    model.agents.set("capacity", 0.0)
    assert not model.capacity.any()


def test_agentset_select_agg_and_groupby(model):
    funders = model.agents.select(lambda agent: agent.sector == "funder")
    assert len(funders) == int(np.sum(model.sector == SECTORS.index("funder")))
    assert model.agents.agg("capacity", sum) == pytest.approx(model.capacity.sum())
    assert model.agents.agg("capacity", max) == pytest.approx(model.capacity.max())
    richest = model.agents.select(lambda agent: agent.funding > np.median(model.funding))
    assert {agent.index for agent in richest} == set(np.flatnonzero(model.funding
                                                                    > np.median(model.funding)))
    groups = model.agents.groupby("sector")
    counts = groups.count()
    assert counts == {SECTORS[s]: int(c) for s, c in enumerate(np.bincount(model.sector))
                      if c > 0}
    staff = groups.agg("capacity", sum)
    for sector, total in staff.items():
        assert total == pytest.approx(model.capacity[model.sector == SECTORS.index(sector)].sum())
    shuffled = [agent.index for agent in model.agents.shuffle()]
    assert sorted(shuffled) == list(range(COUNT))


def test_datacollector_with_model_and_agent_reporters_across_steps():
    model = CollectiveImpactModel("collective_impact", rng=4, count=COUNT)
    collector = mesa.DataCollector(
        model_reporters={"outcome": lambda m: m.metrics["outcome"],
                         "mean_trust": lambda m: m.metrics["mean_trust"],
                         "gateway": lambda m: m.metrics["gateway"]},
        agent_reporters={"capacity": "capacity", "sector": "sector",
                         "funding": lambda agent: agent.funding})
    collector.collect(model)
    for _ in range(3):
        model.step()
        collector.collect(model)
    model_frame = collector.get_model_vars_dataframe()
    assert len(model_frame) == 4 == len(model.history)
    np.testing.assert_array_equal(model_frame["outcome"], [row["outcome"] for row in model.history])
    np.testing.assert_array_equal(model_frame["mean_trust"],
                                  [row["mean_trust"] for row in model.history])
    agent_frame = collector.get_agent_vars_dataframe()
    assert len(agent_frame) == 4 * COUNT
    last = agent_frame.xs(agent_frame.index.get_level_values(0).max(), level=0)
    by_id = {agent.unique_id: agent.index for agent in model.agents}
    for unique_id, row in last.iterrows():
        assert row["capacity"] == model.capacity[by_id[unique_id]]
        assert row["sector"] == SECTORS[model.sector[by_id[unique_id]]]
    # Capacity follows grants: it changes between the first and the last collection.
    first = agent_frame.xs(agent_frame.index.get_level_values(0).min(), level=0)
    assert not np.allclose(first["capacity"], last["capacity"])


def test_model_takes_field_names_and_dotted_names_as_keyword_arguments():
    by_field = CollectiveImpactModel(rng=2, count=COUNT, common_agenda=0.3)
    by_dotted = CollectiveImpactModel(rng=2, **{"organizations.count": COUNT,
                                                "conditions.common_agenda": 0.3})
    assert by_field.params == by_dotted.params
    assert by_field.params.conditions.common_agenda == 0.3
    assert len(by_field.agents) == COUNT
    for _ in range(3):
        by_field.step()
        by_dotted.step()
    assert by_field.history == by_dotted.history
    assert by_field.steps == 3 and by_field.running


def test_ambiguous_or_unknown_keyword_is_refused():
    # cut_year exists in backbone and in funding: the dotted name must be given.
    with pytest.raises(InputError, match="cut_year"):
        CollectiveImpactModel(rng=1, count=COUNT, cut_year=1.0)
    with pytest.raises(InputError, match="common_agender"):
        CollectiveImpactModel(rng=1, count=COUNT, common_agender=0.5)


def test_batch_run_returns_rows_with_the_metrics():
    parameters = {"common_agenda": [0.0, 0.9], "count": COUNT}
    # Mesa 3.4+ takes the seeds as batch_run(rng=...) and passes them as the model's `seed`;
    # Mesa 3.3 (the newest on Python 3.11) takes them as a swept parameter.
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        seeds = {"rng": [1, 2]}
    else:
        seeds, parameters["seed"] = {}, [1, 2]
    rows = mesa.batch_run(CollectiveImpactModel, parameters=parameters, max_steps=12,
                          number_processes=1, data_collection_period=-1,
                          display_progress=False, **seeds)
    runs = {}
    for row in rows:
        runs.setdefault(row["RunId"], row)
    assert len(runs) == 4
    for row in runs.values():
        assert set(METRICS) <= set(row), set(METRICS) - set(row)
        assert row["count"] == COUNT and row["common_agenda"] in (0.0, 0.9)
        assert row["Step"] == 12
        # The row is the final month of the run those keyword arguments and seed give.
        direct = CollectiveImpactModel(rng=row["seed"], count=COUNT,
                                       common_agenda=row["common_agenda"])
        for _ in range(12):
            direct.step()
        for metric in METRICS:
            assert row[metric] == pytest.approx(direct.metrics[metric], rel=1e-12, abs=1e-12)
    agendas = {row["common_agenda"]: row["agenda_alignment"] for row in runs.values()
               if row["seed"] == 1}
    assert agendas[0.0] < agendas[0.9]
