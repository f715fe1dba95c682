"""Mesa integration, tested as Mesa users write it: organizations are Mesa agents that are
views onto the model's arrays, so ``AgentSet``, ``DataCollector``, ``batch_run``, the network
space and ``SolaraViz`` work as they expect; actions the model cannot support raise."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pytest

from ci_sim.errors import InputError
from ci_sim.model import METRICS, SECTORS, CollectiveImpactModel, Organization
from ci_sim.model.model import MesaScenario

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
    assert not hasattr(by_field, "steps_done")  # Mesa's steps is the one month counter


def test_ambiguous_or_unknown_keyword_is_refused():
    # cut_year exists in backbone and in funding: the section must be given.
    with pytest.raises(InputError, match="'cut_year' is in several sections; give "
                                         "'backbone.cut_year' .*or 'funding.cut_year'"):
        CollectiveImpactModel(rng=1, count=COUNT, cut_year=1.0)
    with pytest.raises(InputError, match="unknown parameter 'common_agender' .*did you mean "
                                         "'common_agenda'"):
        CollectiveImpactModel(rng=1, count=COUNT, common_agender=0.5)
    with pytest.raises(InputError, match="'common_agenda' and 'conditions.common_agenda' both"):
        CollectiveImpactModel(rng=1, count=COUNT, common_agenda=0.5,
                              **{"conditions.common_agenda": 0.4})
    # None of these speaks of the command line's --set.
    with pytest.raises(InputError) as refused:
        CollectiveImpactModel(rng=1, count=2)
    assert "--set" not in str(refused.value) and "organizations.count" in str(refused.value)


def test_identifier_names_reach_the_same_parameters_as_dotted_names():
    by_identifier = CollectiveImpactModel(rng=2, organizations_count=COUNT,
                                          backbone_cut_year=1.0, funding_cut_year=2.0)
    assert by_identifier.params.backbone.cut_year == 1.0
    assert by_identifier.params.funding.cut_year == 2.0
    assert len(by_identifier.agents) == COUNT


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


# ---------------------------------------------------------------------- seeds and horizon
def test_seed_and_rng_as_mesa_accepts_them():
    by_seed = CollectiveImpactModel(seed=42, count=COUNT)
    by_rng = CollectiveImpactModel(rng=42, count=COUNT)
    by_numpy_int = CollectiveImpactModel(rng=np.int64(42), count=COUNT)
    for model in (by_seed, by_rng, by_numpy_int):
        assert model.seed == 42
        model.step()
    assert by_seed.history == by_rng.history == by_numpy_int.history
    # A Generator gives one draw, recorded as the seed: the run can be repeated from it.
    from_generator = CollectiveImpactModel(rng=np.random.default_rng(1), count=COUNT)
    assert from_generator.seed == int(np.random.default_rng(1).integers(2**63))
    again = CollectiveImpactModel(rng=from_generator.seed, count=COUNT)
    from_generator.step()
    again.step()
    assert from_generator.history == again.history
    sequence = CollectiveImpactModel(rng=np.random.SeedSequence(5), count=COUNT)
    assert sequence.seed == CollectiveImpactModel(rng=np.random.SeedSequence(5), count=COUNT).seed
    # Neither: a seed from the operating system, recorded.
    drawn = CollectiveImpactModel(count=COUNT)
    assert isinstance(drawn.seed, int) and drawn.seed >= 0
    with pytest.raises(InputError, match="give seed or rng, not both"):
        CollectiveImpactModel(seed=1, rng=1, count=COUNT)
    for bad in (-1, "seven", 1.5, True):
        with pytest.raises(InputError, match="must be a non-negative integer"):
            CollectiveImpactModel(seed=bad, count=COUNT)


def test_the_model_stops_itself_at_its_horizon():
    model = CollectiveImpactModel(rng=3, count=COUNT, years=0.5)
    assert model.horizon == 6
    model.run_model()  # Mesa's own loop: steps while running
    assert model.steps == 6 and not model.running
    assert len(model.history) == 7 and model.year == 0.5
    # Stepping on is allowed (running is Mesa's hint), and goes on counting months.
    model.step()
    assert model.steps == 7 and model.month == 7


def test_batch_run_with_nested_parameters_and_drawn_seeds_reports_each_runs_seed():
    parameters = {"conditions.common_agenda": [0.0, 0.9], "organizations.count": COUNT,
                  "years": 1.0}
    # No seeds given: every run draws one from the operating system. Mesa 3.4+ asks for
    # that as rng=[None, None]; Mesa 3.3 as iterations=2.
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        repeats = {"rng": [None, None]}
    else:
        repeats = {"iterations": 2}
    rows = mesa.batch_run(CollectiveImpactModel, parameters=parameters, max_steps=36,
                          number_processes=1, data_collection_period=1,
                          display_progress=False, **repeats)
    runs: dict[int, list[dict]] = {}
    for row in rows:
        runs.setdefault(row["RunId"], []).append(row)
    assert len(runs) == 4
    seeds = set()
    for run_rows in runs.values():
        seed = run_rows[0]["seed"]
        assert isinstance(seed, int) and all(row["seed"] == seed for row in run_rows)
        seeds.add(seed)
        # The model stopped itself after one year although max_steps allowed three.
        assert max(row["Step"] for row in run_rows) <= 12
        # The reported seed reproduces the run, month by month.
        agenda = run_rows[0]["conditions.common_agenda"]
        direct = CollectiveImpactModel(rng=seed, **{"conditions.common_agenda": agenda,
                                                    "organizations.count": COUNT, "years": 1.0})
        direct.run_model()
        for row in run_rows:
            for metric in ("outcome", "agenda_alignment", "mean_trust"):
                assert row[metric] == direct.history[int(row["Step"])][metric], metric
            assert row["year"] == pytest.approx(row["Step"] / 12)
    assert len(seeds) == 4  # two repeats of two points, each with its own seed


# ---------------------------------------------------------------------- data collector
def test_the_models_datacollector_collects_metrics_seed_and_organizations():
    model = CollectiveImpactModel(rng=9, count=COUNT)
    collector = model.datacollector
    assert isinstance(collector, mesa.DataCollector)
    assert model.datacollector is collector  # one collector, not rebuilt when read
    for _ in range(3):
        model.step()
    frame = collector.get_model_vars_dataframe()
    assert len(frame) == 4 == len(model.history)
    assert set(METRICS) | {"seed", "year"} <= set(frame.columns)
    np.testing.assert_array_equal(frame["outcome"], [row["outcome"] for row in model.history])
    assert (frame["seed"] == 9).all()
    agents = collector.get_agent_vars_dataframe()
    assert len(agents) == 4 * COUNT
    assert {"sector", "capacity", "funding", "strategy_payoff", "commitment"} <= set(agents)
    last = agents.xs(agents.index.get_level_values(0).max(), level=0)
    by_id = {agent.unique_id: agent.index for agent in model.agents}
    for unique_id, row in last.iterrows():
        assert row["commitment"] == model.commitment[by_id[unique_id]]
    # collect() called by hand, as Mesa users do, records the current state once more
    # (Mesa keys organizations' records by step, so theirs replace this step's).
    model.capacity[:] = 1.25
    collector.collect(model)
    assert len(collector.get_model_vars_dataframe()) == 5
    again = collector.get_agent_vars_dataframe()
    assert (again.xs(3, level=0)["capacity"] == 1.25).all()
    # A metrics-only model records no organizations; a silent one records nothing itself.
    quiet = CollectiveImpactModel(rng=9, count=COUNT, record="metrics")
    quiet.step()
    assert len(quiet.datacollector.get_model_vars_dataframe()) == 2
    assert quiet.datacollector.agent_reporters == {}
    silent = CollectiveImpactModel(rng=9, count=COUNT, record="none")
    silent.step()
    assert silent.datacollector.get_model_vars_dataframe().empty
    silent.datacollector.collect(silent)
    assert silent.datacollector.get_model_vars_dataframe()["outcome"].tolist() == [
        silent.metrics["outcome"]]
    with pytest.raises(InputError, match="record must be one of"):
        CollectiveImpactModel(rng=9, count=COUNT, record="agents")


# ---------------------------------------------------------------------- agent actions
def test_organization_actions_the_model_cannot_support_raise(model):
    with pytest.raises(NotImplementedError, match="call model.step"):
        model.agents.shuffle_do("step")
    with pytest.raises(NotImplementedError, match="call model.step"):
        model.agents.do("step")
    agent = by_index(model)[5]
    with pytest.raises(NotImplementedError, match="cannot leave mid-run"):
        agent.remove()
    assert agent in model.agents and len(model.agents) == COUNT
    with pytest.raises(ValueError, match="cannot join mid-run"):
        Organization(model, COUNT)
    with pytest.raises(ValueError, match="cannot join mid-run"):
        Organization(model, 3)  # row 3 has its organization
    assert len(model.agents) == COUNT
    model.step()  # the model is unharmed
    assert model.steps == 3


# ---------------------------------------------------------------------- network space
def test_the_network_is_mesa_space_with_one_organization_per_cell():
    from mesa.discrete_space import Network

    model = CollectiveImpactModel(rng=5, count=COUNT)
    assert isinstance(model.grid, Network)
    assert len(model.grid.all_cells) == COUNT
    for agent in model.agents:
        cell = agent.cell
        assert cell.coordinate == agent.index
        assert list(cell.agents) == [agent]
        row = model.neighbours[agent.index]
        assert sorted(neighbour.coordinate for neighbour in cell.neighborhood) == sorted(
            row[row >= 0].tolist())
    assert len(model.grid.agents) == COUNT


def test_mesa_draws_the_network_space_and_plots_the_metrics():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from mesa.visualization.mpl_space_drawing import draw_space

    model = CollectiveImpactModel(rng=5, count=COUNT)
    axis = Figure().add_subplot()
    draw_space(model.grid, portrayal, ax=axis)
    assert len(axis.collections[0].get_offsets()) == COUNT  # one marker per organization


def portrayal(agent):
    """Mesa's style for drawing an organization: a marker sized by its staff."""
    from mesa.visualization.components import AgentPortrayalStyle

    return AgentPortrayalStyle(color="tab:blue", size=10 + agent.capacity)


def render_viz(*args, **kwargs):
    """Render ``SolaraViz(*args, **kwargs)`` in an app layout, as ``solara run`` serves it
    (its controls are in the layout's sidebar); return solara's test handle."""
    import solara
    from mesa.visualization import SolaraViz

    @solara.component
    def Page():
        with solara.AppLayout():
            SolaraViz(*args, **kwargs)

    return solara.render(Page(), handle_error=False)[1]


def solara_buttons(rc):
    import ipyvuetify as v

    return {label: rc.find(v.Btn, children=[label]) for label in ("Reset", "Step")}


def test_solara_viz_steps_plays_and_resets():
    import time

    import ipyvuetify as v
    import solara
    from mesa.visualization import make_plot_component, make_space_component

    model = CollectiveImpactModel(rng=7, count=COUNT, years=0.25)
    reactive = solara.reactive(model)
    rc = render_viz(reactive, components=[make_space_component(portrayal),
                                          make_plot_component("outcome")],
                    play_interval=1, name="ci-sim")
    buttons = solara_buttons(rc)
    buttons["Step"].widget.click()
    assert reactive.value is model and model.steps == 1
    # Play runs to the horizon and stops there: the model says it is no longer running.
    rc.find(v.Btn, children=["▶"]).widget.click()
    deadline = time.monotonic() + 60
    while reactive.value.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not model.running and model.steps == model.horizon == 3
    # Reset builds a fresh model from the visualization's model parameters.
    buttons["Reset"].widget.click()
    fresh = reactive.value
    assert fresh is not model and isinstance(fresh, CollectiveImpactModel)
    assert fresh.steps == 0 and fresh.running
    solara_buttons(rc)["Step"].widget.click()
    assert fresh.steps == 1


def test_solara_viz_reset_keeps_the_scenario_given_as_model_parameters():
    import solara
    from mesa.visualization import Slider

    model = CollectiveImpactModel(ci_scenario="isolated_impact", rng=7, count=COUNT)
    reactive = solara.reactive(model)
    rc = render_viz(reactive, model_params={
        "ci_scenario": "isolated_impact", "count": COUNT,
        "common_agenda": Slider("common agenda", 0.3, 0.0, 1.0, 0.1)})
    solara_buttons(rc)["Reset"].widget.click()
    fresh = reactive.value
    assert fresh is not model
    assert fresh.params.name == "isolated_impact" and not fresh.params.backbone.enabled
    assert fresh.params.conditions.common_agenda == 0.3 and len(fresh.agents) == COUNT


@pytest.mark.skipif(MesaScenario is None, reason="Mesa 3.5's scenarios (this is Mesa < 3.5)")
def test_mesa_scenarios_carry_the_seed_and_parameters():
    scenario = MesaScenario(rng=8, common_agenda=0.4, count=COUNT, ci_scenario="no_champion")
    model = CollectiveImpactModel(scenario=scenario)
    assert model.scenario is scenario and model.seed == 8
    assert model.params.name == "no_champion" and model.params.conditions.common_agenda == 0.4
    direct = CollectiveImpactModel("no_champion", rng=8, common_agenda=0.4, count=COUNT)
    model.step()
    direct.step()
    assert model.history == direct.history
    # Without a seed the one drawn is written into the scenario, so Mesa and ci-sim agree.
    unseeded = MesaScenario(count=COUNT)
    drawn = CollectiveImpactModel(scenario=unseeded)
    assert unseeded.rng == drawn.seed
    with pytest.raises(InputError, match="both name ci-sim's scenario"):
        CollectiveImpactModel("no_champion", ci_scenario="isolated_impact")
