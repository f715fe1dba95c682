"""Parameters and scenarios: every parameter declared once and in full, every built-in and
every file in ``scenarios/`` valid, and bad input refused in one line that names the file,
the key and what is allowed."""

from __future__ import annotations

import hashlib
import math
import re
import typing
from pathlib import Path

import pytest

from ci_sim.model.params import (BACKBONE_FUNCTIONS, PROBLEM_TYPES, SECTIONS, Scenario, describe,
                           get_value, parameter_names)
from ci_sim.errors import InputError
from ci_sim.model.scenarios import builtin_names, builtin_path, load_scenario, parse_assignment

REPOSITORY = Path(__file__).resolve().parents[1]
SCENARIO_FILES = sorted((REPOSITORY / "scenarios").glob("*.toml"))
PARAMETERS = parameter_names()
#: Top-level keys of a scenario file besides the parameter sections.
TOP_LEVEL = ("name", "description", "years")


def numeric(dotted: str) -> bool:
    """Whether the parameter holds a number (int or float, optional or not)."""
    kinds = set(typing.get_args(describe(dotted)["type"])) or {describe(dotted)["type"]}
    return bool(kinds & {int, float}) and bool not in kinds


def load_error(path: Path, text: str | bytes) -> str:
    """The message of the InputError raised by loading a scenario file holding ``text``."""
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    return str(caught.value)


def mentions_number(message: str, value: float) -> bool:
    """Whether ``message`` states the number ``value`` (in any notation, to six digits)."""
    return any(math.isclose(float(found), value, rel_tol=1e-6, abs_tol=1e-12)
               for found in re.findall(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?", message))


def assert_one_line(message: str) -> None:
    assert message and "\n" not in message and "\r" not in message, repr(message)
    assert "Traceback" not in message and "pydantic" not in message.lower(), message


# ---------------------------------------------------------------- declarations
@pytest.mark.parametrize("dotted", PARAMETERS)
def test_every_parameter_is_declared_in_full(dotted):
    declared = describe(dotted)
    assert declared["name"] == dotted
    assert declared["meaning"].strip(), f"{dotted}: no meaning"
    assert declared["source"].strip(), f"{dotted}: no literature source"
    if numeric(dotted):
        assert declared["unit"].strip(), f"{dotted}: no unit"
        assert declared["low"] is not None and declared["high"] is not None, \
            f"{dotted}: numeric parameter without an allowed range"
        assert declared["low"] < declared["high"]


@pytest.mark.parametrize("dotted", PARAMETERS)
def test_default_is_allowed_and_is_what_a_default_scenario_holds(dotted):
    declared = describe(dotted)
    default = declared["default"]
    assert get_value(Scenario(), dotted) == default
    if default is None:
        return
    if declared["low"] is not None:
        assert default >= declared["low"], dotted
    if declared["high"] is not None:
        assert default <= declared["high"], dotted
    choices = typing.get_args(declared["type"])
    if typing.get_origin(declared["type"]) is typing.Literal:
        assert default in choices


def test_parameter_names_cover_every_section_field_once():
    assert len(PARAMETERS) == len(set(PARAMETERS))
    sections = {name.partition(".")[0] for name in PARAMETERS if "." in name}
    assert sections == set(SECTIONS)
    for section in SECTIONS:
        fields = Scenario.model_fields[section].annotation.model_fields
        assert {f"{section}.{field}" for field in fields} <= set(PARAMETERS)


@pytest.mark.parametrize("dotted", [n for n in PARAMETERS if describe(n)["high"] is not None])
def test_every_upper_bound_is_enforced(dotted):
    declared = describe(dotted)
    step = 1 if int in (typing.get_args(declared["type"]) or (declared["type"],)) \
        else max(1e-6, abs(declared["high"]) * 1e-6)
    with pytest.raises(InputError) as caught:
        load_scenario(None, {dotted: declared["high"] + step})
    message = str(caught.value)
    assert_one_line(message)
    assert dotted in message and mentions_number(message, declared["high"]), message


@pytest.mark.parametrize("dotted", [n for n in PARAMETERS if describe(n)["low"] is not None])
def test_every_lower_bound_is_enforced(dotted):
    declared = describe(dotted)
    step = 1 if int in (typing.get_args(declared["type"]) or (declared["type"],)) \
        else max(1e-6, abs(declared["low"]) * 1e-6)
    with pytest.raises(InputError) as caught:
        load_scenario(None, {dotted: declared["low"] - step})
    message = str(caught.value)
    assert_one_line(message)
    assert dotted in message and mentions_number(message, declared["low"]), message


# ---------------------------------------------------------------- built-in scenarios
def test_the_issue_s_built_in_scenarios_exist():
    names = set(builtin_names())
    required = {"isolated_impact", "coalition_no_backbone", "collective_impact",
                "technical_solutions", "silver_bullet", "credit_hoarded", "evidence_only",
                "content_only", "no_champion", "no_urgency", "short_funding",
                "missing_preconditions"}
    assert required <= names, required - names


@pytest.mark.parametrize("name", builtin_names())
def test_every_built_in_loads_validates_and_resolves(name):
    scenario, digest = load_scenario(name)
    assert scenario.name == name
    assert scenario.description.strip() and "\n" not in scenario.description
    assert digest == hashlib.sha256(builtin_path(name).read_bytes()).hexdigest()
    # Problem fields left unset are filled in from the type: the model never sees None.
    for field in PROBLEM_TYPES[scenario.problem.type]:
        assert getattr(scenario.problem, field) is not None, field
    assert Scenario.model_validate(scenario.model_dump()) == scenario


def test_scenarios_folder_mirrors_the_built_ins():
    assert sorted(path.stem for path in SCENARIO_FILES) == builtin_names()


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[path.stem for path in SCENARIO_FILES])
def test_every_scenario_file_equals_its_built_in(path):
    from_file, file_digest = load_scenario(path)
    built_in, builtin_digest = load_scenario(path.stem)
    assert from_file == built_in
    assert file_digest == builtin_digest


def test_defaults_are_the_reference_collective_impact_scenario():
    reference, _ = load_scenario("collective_impact")
    assert load_scenario(None)[0] == reference
    assert reference.model_dump(exclude={"description"}) \
        == Scenario().resolved().model_dump(exclude={"description"})


def test_isolated_impact_switches_off_what_collective_impact_switches_on():
    isolated, _ = load_scenario("isolated_impact")
    assert not isolated.backbone.enabled
    for condition in ("common_agenda", "shared_measurement", "mutually_reinforcing",
                      "continuous_communication", "inclusive_decisions"):
        assert getattr(isolated.conditions, condition) == 0.0, condition


# ---------------------------------------------------------------- problem types
@pytest.mark.parametrize("problem_type", sorted(PROBLEM_TYPES))
def test_problem_type_fills_the_fields_left_unset(problem_type):
    scenario, _ = load_scenario(None, {"problem.type": problem_type})
    for field, value in PROBLEM_TYPES[problem_type].items():
        assert getattr(scenario.problem, field) == value, field
    # A value given explicitly wins over the type's.
    chosen, _ = load_scenario(None, {"problem.type": problem_type, "problem.coupling": 0.37,
                                     "problem.delay_months": 7.0})
    assert chosen.problem.coupling == 0.37 and chosen.problem.delay_months == 7.0
    assert chosen.resolved() == chosen


def test_problem_types_fill_exactly_the_fields_that_default_to_unset():
    fields = Scenario.model_fields["problem"].annotation.model_fields
    unset = {field for field, info in fields.items() if info.default is None}
    for problem_type, fills in PROBLEM_TYPES.items():
        assert set(fills) == unset, problem_type


def test_problem_types_differ_as_the_literature_says():
    simple, complicated, complex_ = (PROBLEM_TYPES[t] for t in ("simple", "complicated", "complex"))
    # Simple and complicated problems are separable; complex ones interdependent and coupled.
    assert simple["interdependence"] == complicated["interdependence"] == 0
    assert complex_["interdependence"] > 0 and complex_["coupling"] > 0
    # Complicated problems need scale; complex ones respond with a longer delay.
    assert complicated["scale_threshold"] > simple["scale_threshold"]
    assert complex_["delay_months"] > complicated["delay_months"] >= simple["delay_months"]


# ---------------------------------------------------------------- bad files
BAD_FILES = {
    # case: (file text, key the message must name, fragments saying what is allowed)
    "broken TOML": ("years = \n[conditions\n", None, ["TOML"]),
    "not UTF-8": (b"name = \"caf\xe9\"\n", None, ["TOML"]),
    "unknown key in a section": ("[conditions]\ncommon_agender = 0.5\n",
                                 "conditions.common_agender",
                                 ["common_agenda", "shared_measurement", "setup_months"]),
    "unknown top-level key": ("colour = 'blue'\n", "colour", [*TOP_LEVEL, *SECTIONS]),
    "unknown section": ("[conditionz]\ncommon_agenda = 0.5\n", "conditionz",
                        [*TOP_LEVEL, *SECTIONS]),
    "wrong type, number": ("[conditions]\ncommon_agenda = 'high'\n",
                           "conditions.common_agenda", ["number", "'high'"]),
    "wrong type, integer": ("[organizations]\ncount = 2.5\n", "organizations.count",
                            ["whole number", "2.5"]),
    "wrong type, boolean": ("[backbone]\nenabled = 'maybe'\n", "backbone.enabled",
                            ["true or false", "'maybe'"]),
    "wrong type, section": ("conditions = 3\n", "conditions", ["3"]),
    "above range": ("[conditions]\ncommon_agenda = 1.5\n", "conditions.common_agenda",
                    ["1", "1.5"]),
    "below range": ("[organizations]\ncount = 2\n", "organizations.count", ["3", "2"]),
    "not a number": ("[conditions]\ncommon_agenda = nan\n", "conditions.common_agenda",
                     ["nan"]),
    "not a choice": ("[problem]\ntype = 'wicked'\n", "problem.type",
                     ["'simple'", "'complicated'", "'complex'", "'wicked'"]),
    # Impossible combinations (the scenario's model validator).
    "needle landscape with interdependence": (
        "[problem]\nlandscape = 'needle'\ninterdependence = 2\n", "problem.interdependence",
        ["0", "needle"]),
    "needle landscape on a complex problem": (
        "[problem]\ntype = 'complex'\nlandscape = 'needle'\n", "problem.interdependence",
        ["0", "needle"]),
    "interdependence not below strategy bits": (
        "[problem]\nstrategy_bits = 4\ninterdependence = 4\n", "problem.interdependence",
        ["problem.strategy_bits", "4"]),
    "type's interdependence not below strategy bits": (
        "[problem]\ntype = 'complex'\nstrategy_bits = 3\n", "problem.interdependence",
        ["problem.strategy_bits", "3"]),
    "too many interacting strategy bits": (
        "[problem]\nstrategy_bits = 30\ninterdependence = 2\n", "problem.strategy_bits",
        ["24", "30"]),
    "backbone with no function": (
        "[backbone]\n" + "".join(f"{f} = 0\n" for f in BACKBONE_FUNCTIONS), "backbone",
        list(BACKBONE_FUNCTIONS)),
    "cutting a backbone that does not exist": (
        "[backbone]\nenabled = false\ncut_year = 3\n", "backbone.cut_year", ["enabled"]),
    "a funder leaving a field without funders": (
        "[organizations]\nfunder_share = 0.0\n[funding]\nfunder_withdraws_year = 2\n",
        "funding.funder_withdraws_year", ["no funder", "rounds to 0"]),
    "imposing an agenda without a backbone": (
        "[backbone]\nenabled = false\nimposes_agenda = 0.5\n", "backbone.imposes_agenda",
        ["enabled", "0"]),
    **{f"{dotted} past the horizon": (
        f"years = 2\n[{dotted.partition('.')[0]}]\n{dotted.partition('.')[2]} = 3\n", dotted,
        ["3", "2"])
       for dotted in ("backbone.cut_year", "preconditions.champion_leaves_year",
                      "funding.cut_year", "funding.funder_withdraws_year")},
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_is_refused_in_one_line_naming_file_key_and_what_is_allowed(case, tmp_path):
    text, key, allowed = BAD_FILES[case]
    path = tmp_path / "bad.toml"
    message = load_error(path, text)
    assert_one_line(message)
    assert message.startswith(str(path)), message
    if key is not None:
        assert key in message, message
    for fragment in allowed:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_missing_file_is_refused_in_one_line(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert_one_line(message)
    assert message.startswith(str(path)) and "not found" in message


def test_unknown_built_in_lists_the_built_ins():
    with pytest.raises(InputError) as caught:
        load_scenario("collective_impakt")
    message = str(caught.value)
    assert_one_line(message)
    assert message.startswith("collective_impakt")
    for name in builtin_names():
        assert name in message


def test_a_folder_is_not_a_scenario_file(tmp_path):
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    with pytest.raises(InputError) as caught:
        load_scenario(folder)
    assert_one_line(str(caught.value))
    assert str(folder) in str(caught.value)


# ---------------------------------------------------------------- overrides and --set
@pytest.mark.parametrize("text, expected", [
    ("conditions.common_agenda=0.5", ("conditions.common_agenda", 0.5)),
    (" organizations.count = 20 ", ("organizations.count", 20)),
    ("backbone.enabled=false", ("backbone.enabled", False)),
    ("problem.type=simple", ("problem.type", "simple")),
    ("problem.type='complex'", ("problem.type", "complex")),
    ("description=a=b", ("description", "a=b")),
    ("name=[1, 2]", ("name", [1, 2])),
])
def test_parse_assignment_reads_toml_values_and_bare_words(text, expected):
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["conditions.common_agenda", "=0.5", "", "  = 1"])
def test_parse_assignment_refuses_what_is_not_key_equals_value(text):
    with pytest.raises(InputError) as caught:
        parse_assignment(text, source="experiment.toml")
    message = str(caught.value)
    assert_one_line(message)
    assert message.startswith("experiment.toml") and "KEY=VALUE" in message


def test_dotted_overrides_apply_on_top_of_the_file():
    plain, digest = load_scenario("isolated_impact")
    changed, changed_digest = load_scenario("isolated_impact", {
        "conditions.common_agenda": 0.5, "years": 3, "organizations.count": 25})
    assert changed.conditions.common_agenda == 0.5
    assert changed.years == 3 and changed.organizations.count == 25
    # Everything else comes from the file (and from the defaults beneath it).
    assert changed.funding.rewards_attribution == plain.funding.rewards_attribution == 0.8
    assert not changed.backbone.enabled
    assert changed.conditions.shared_measurement == 0.0
    mask = {"conditions": {"common_agenda"}, "years": True, "organizations": {"count"}}
    assert changed.model_dump(exclude=mask) == plain.model_dump(exclude=mask)
    # The hash identifies the file; the overrides are in the resolved parameters.
    assert changed_digest == digest


@pytest.mark.parametrize("overrides, key", [
    ({"conditions.common_agender": 1.0}, "conditions.common_agender"),
    ({"conditions.common_agenda": "x"}, "conditions.common_agenda"),
    ({"conditions.common_agenda": 2.0}, "conditions.common_agenda"),
    ({"years.months": 1}, "years"),
    ({"conditions": 1, "conditions.common_agenda": 0.5}, "conditions"),
    ({"years": 1, "funding.cut_year": 2}, "funding.cut_year"),
])
def test_bad_override_names_the_scenario_and_the_key(overrides, key):
    with pytest.raises(InputError) as caught:
        load_scenario("isolated_impact", overrides)
    message = str(caught.value)
    assert_one_line(message)
    assert message.startswith("isolated_impact"), message
    assert key in message, message


def test_validation_holds_on_assignment():
    scenario = Scenario()
    with pytest.raises(ValueError):
        scenario.conditions.common_agenda = 1.5
    with pytest.raises(ValueError):
        scenario.conditions.commn_agenda = 0.5
    assert scenario.conditions.common_agenda == describe("conditions.common_agenda")["default"]
