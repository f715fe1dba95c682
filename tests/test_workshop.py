"""Workshop presets, controls and the before/after pair (the page's model side)."""

from __future__ import annotations

import re
import socket

import numpy as np
import pytest
from typer.testing import CliRunner

from ci_sim.cli import app
from ci_sim.figures import PANELS
from ci_sim.model import CollectiveImpactModel
from ci_sim.model.params import get_value, parameter_names
from ci_sim.presets import (
    CONTROLS, PRESETS, REFERENCE, UNSHIFTED_SCENARIO, BeforeAfter, before_after,
    default_settings, get_preset, mindset_levels, scenario_differences, settings_overrides,
)
from ci_sim.errors import InputError
from ci_sim.model.scenarios import builtin_names, load_scenario


def flat(scenario) -> dict:
    return {name: get_value(scenario, name) for name in parameter_names()}


def test_controls_name_real_parameters_and_cover_the_issue():
    names = set(parameter_names())
    assert all(control.parameter in names for control in CONTROLS)
    covered = {control.parameter for control in CONTROLS}
    for needed in ("problem.type", "backbone.enabled", "backbone.budget_share",
                   "organizations.count", "conditions.inclusive_decisions",
                   "preconditions.champion", "preconditions.urgency",
                   "preconditions.funding_years", *(f"mindsets.{m}" for m in UNSHIFTED_SCENARIO)):
        assert needed in covered
    assert {c.parameter for c in CONTROLS if c.group == "Conditions"} >= {
        "conditions.common_agenda", "conditions.shared_measurement",
        "conditions.mutually_reinforcing", "conditions.continuous_communication"}


def test_default_settings_reproduce_the_reference_scenario():
    reference, _ = load_scenario(REFERENCE)
    rebuilt, _ = load_scenario(REFERENCE, settings_overrides(default_settings()))
    assert flat(rebuilt) == flat(reference)


@pytest.mark.parametrize("control_name", sorted(UNSHIFTED_SCENARIO))
def test_mindset_levels_come_from_the_built_in_scenarios(control_name):
    shifted, unshifted = mindset_levels(control_name)
    parameter = f"mindsets.{control_name}"
    assert shifted == get_value(load_scenario(REFERENCE)[0], parameter)
    assert unshifted == scenario_differences(UNSHIFTED_SCENARIO[control_name])[parameter]
    assert shifted > unshifted
    off = settings_overrides({**default_settings(), control_name: False})
    assert off[parameter] == unshifted


@pytest.mark.parametrize("preset", PRESETS, ids=lambda preset: preset.name)
def test_before_differs_from_after_only_by_the_preset(preset):
    before, after = before_after(preset)
    changed = {name for name, value in flat(before).items() if flat(after)[name] != value}
    assert changed, "a preset must change something"
    assert changed <= set(preset.before_overrides())
    assert preset.headline in {metric for metric, _, _ in PANELS}
    if isinstance(preset.before, str):
        assert preset.before in builtin_names()
    sentences = len(re.findall(r"[.?!](\s|$)", preset.read_aloud))
    assert 2 <= sentences <= 3, "read-aloud text is two or three sentences"


def test_presets_cover_every_mindset_shift():
    before_scenarios = {preset.before for preset in PRESETS if preset.kind == "mindset shift"}
    assert before_scenarios == set(UNSHIFTED_SCENARIO.values())


def test_pair_runs_share_the_seed_and_match_a_plain_run():
    preset = get_preset("credit_hoarded_vs_shared")
    pair = BeforeAfter(preset, seed=11, month=30)
    assert sorted(pair.before.network.edges()) == sorted(pair.after.network.edges())
    np.testing.assert_array_equal(pair.before.sector, pair.after.sector)
    _, after = before_after(preset)
    plain = CollectiveImpactModel(after, rng=11)
    for _ in range(30):
        plain.step()
    assert plain.history == pair.after.history


def test_replaying_to_a_month_equals_stepping_there():
    preset = get_preset("isolated_vs_collective")
    stepped = BeforeAfter(preset, seed=5)
    for _ in range(17):
        stepped.step()
    replayed = BeforeAfter(preset, seed=5, month=17)
    assert replayed.month == 17
    assert replayed.before.history == stepped.before.history
    assert replayed.after.history == stepped.after.history


def test_a_toggle_changes_only_the_after_run():
    preset = get_preset("isolated_vs_collective")
    settings = preset.start_settings()
    shared = BeforeAfter(preset, settings, seed=2, month=24)
    hoarded = BeforeAfter(preset, {**settings, "shared_credit": False}, seed=2, month=24)
    assert hoarded.after.history != shared.after.history
    assert hoarded.after.params.mindsets.shared_credit < shared.after.params.mindsets.shared_credit


def test_pair_stops_at_the_horizon():
    pair = BeforeAfter(get_preset("simple_problem"), seed=1, month=10_000)
    assert pair.month == pair.horizon and not pair.running
    pair.step()
    assert pair.month == pair.horizon


def test_bad_combinations_are_input_errors():
    preset = get_preset("backbone_cut_year3")
    with pytest.raises(InputError, match="backbone.cut_year"):
        before_after(preset, {**preset.start_settings(), "backbone": False})
    with pytest.raises(InputError, match="unknown control 'speed'"):
        settings_overrides({"speed": 3})
    with pytest.raises(InputError, match="allowed: isolated_vs_collective"):
        get_preset("no_such_story")


def test_workshop_command_rejects_a_busy_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["workshop", "--port", str(port)])
    assert result.exit_code == 2
    assert "cannot serve on 127.0.0.1" in result.output
    assert "Traceback" not in result.output


def test_every_control_reads_out_its_value_with_its_unit():
    from ci_sim.presets import CONTROLS_BY_NAME

    settings = default_settings()
    readings = {name: control.reading(settings[name])
                for name, control in CONTROLS_BY_NAME.items()}
    assert readings["budget_share"] == "8% of the funding pool"
    assert readings["organizations"] == "40 organizations"
    assert readings["funding_years"] == "5 years"
    assert readings["backbone"] == "on"
    assert readings["shared_credit"].startswith("credit as shared currency (shift made by 80%")
    off = CONTROLS_BY_NAME["shared_credit"].reading(False)
    assert off.startswith("credit hoarded (shift made by")
    for control in CONTROLS:
        if control.kind == "slider":
            assert any(ch.isdigit() for ch in readings[control.name]), control.name


def test_refusals_are_said_in_the_rooms_words():
    from ci_sim.app import refusal_message
    from ci_sim.presets import CONTROLS_BY_NAME

    preset = get_preset("backbone_cut_year3")
    with pytest.raises(InputError) as refused:
        before_after(preset, {**preset.start_settings(), "backbone": False})
    message = refusal_message(preset, CONTROLS_BY_NAME["backbone"], refused.value)
    assert "cuts the backbone in year 3" in message and "coalition_without_backbone" in message
    assert "--set" not in message and "cut_year" not in message
    other = refusal_message(get_preset("isolated_vs_collective"),
                            CONTROLS_BY_NAME["budget_share"],
                            InputError("after with --set: backbone.budget_share: too big"))
    assert other.startswith("That change to 'Backbone budget share' cannot be combined")
    assert "--set" not in other and other.endswith("The control is back where it was.")


@pytest.mark.parametrize("args, message", [
    (["--seed", "3"], "--seed: only used with --room"),
    (["--max-participants", "5"], "--max-participants: only used with --room"),
    (["--room", "--max-participants", "0"], "--max-participants"),
])
def test_workshop_room_options_are_checked(args, message):
    result = CliRunner().invoke(app, ["workshop", *args])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_room_refuses_a_busy_port_before_printing_its_code(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["workshop", "--room", "--port", str(port),
                                          "--out", str(tmp_path / "room")])
    assert result.exit_code == 2
    assert result.output.startswith("error: --host/--port: cannot serve on 127.0.0.1")
    assert "Room " not in result.output and not (tmp_path / "room").exists()


def test_room_refuses_a_folder_that_holds_a_session(tmp_path):
    (tmp_path / "session.toml").write_text("")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(app, ["workshop", "--room", "--port", str(port), "--out",
                                      str(tmp_path)])
    assert result.exit_code == 2 and "already holds a session" in result.output
