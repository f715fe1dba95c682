"""What every study file shares when it is read: its errors, its base scenario, built-ins.

Each study file (a sweep experiment, a stress test) is a pydantic model of its own; a
problem in it is one line naming the file, the key and what that file allows
(:func:`describe_error`), never another file's keys. The scenario a study runs on is the
built-in or file it names with the study's own settings on top (:func:`base_scenario`), one
way for every study.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ci_sim.errors import InputError
from ci_sim.model.params import Scenario
from ci_sim.model.scenarios import (builtin_path, load_scenario, merge, nest, read_toml,
                                    validate)
from ci_sim.session import is_session_file, read_session


def describe_error(error: ValidationError, owners: dict[tuple[str, ...], type[BaseModel]],
                   fallback: type[BaseModel]) -> str:
    """One line for the first problem of a study file's validation error, naming the key.

    Args:
        owners: the model that owns each table (by its location, e.g. ``("discovery",)``),
            whose keys an unknown key is answered with.
        fallback: the model owning tables not in ``owners``.
    """
    first = error.errors()[0]
    location = [str(part) for part in first["loc"]]
    key = ".".join(location)
    kind, got = first["type"], first.get("input")
    if kind == "extra_forbidden":
        owner = owners.get(tuple(location[:-1]), fallback)
        return f"unknown key '{key}' (allowed: {', '.join(owner.model_fields)})"
    if kind == "missing":
        return f"missing key '{key}'"
    if kind == "value_error":
        message = str(first.get("ctx", {}).get("error", first["msg"]))
        return f"{key}: {message}" if key else message
    if kind == "literal_error":
        return f"key '{key}' must be {first['ctx']['expected']}, got {got!r}"
    if kind in ("bool_type", "bool_parsing"):
        return f"key '{key}' must be true or false, got {got!r}"
    message = first["msg"].removeprefix("Input should be ").removeprefix("Value error, ")
    return f"key '{key}' must be {message}, got {got!r}"


@dataclass(frozen=True)
class BaseScenario:
    """The scenario a study runs on, kept as its table so that every point is built the
    way a scenario file is: a point setting ``problem.type`` gets that type's defaults.

    Attributes:
        table: the scenario file's table with the study's own settings merged in.
        digest: sha256 of the scenario file.
        label: how errors name it.
        scenario: the validated, resolved base (for checks and provenance).
        plays: players' choices when the base is a workshop room's session file
            (:mod:`ci_sim.session`), replayed in every run.
    """

    table: dict[str, Any] = field(hash=False)
    digest: str
    label: str
    scenario: Scenario = field(hash=False)
    plays: tuple = ()

    def at(self, values: dict[str, Any], label: str = "") -> Scenario:
        """The resolved scenario with dotted ``values`` set on top of the base table."""
        return point_scenario(self.table, values, label or self.label)


def point_scenario(table: dict[str, Any], values: dict[str, Any], label: str) -> Scenario:
    """Validate ``table`` with dotted ``values`` set on top; resolved (module level, so
    workers build their points the same way)."""
    return validate(merge(table, nest(values)), label).resolved()


def base_scenario(source: str, *, relative_to: Path | None = None,
                  problem: str | None = None, years: float | None = None,
                  constants: dict[str, Any] | None = None) -> BaseScenario:
    """The scenario a study runs on: a built-in name, a scenario file or a workshop room's
    session file (relative to the study file ``relative_to``, like an include), with the
    study's problem type, horizon and constant parameters (dotted names) set on top.

    Raises:
        InputError: from loading or validating the scenario.
    """
    overrides = dict(constants or {})
    if problem is not None:
        overrides["problem.type"] = problem
    if years is not None:
        overrides["years"] = years
    if Path(source).suffix and relative_to is not None and not Path(source).is_absolute():
        source = str(relative_to.parent / source)
    if is_session_file(source):  # a room's play as the base: its choices in every run
        session, digest = read_session(Path(source), overrides)
        table, _ = read_toml(Path(source))
        table.pop("session")
        return BaseScenario(merge(table, nest(overrides)), digest, source, session.scenario,
                            tuple(session.plays))
    scenario, digest = load_scenario(source, overrides)  # every check a scenario file gets
    path = Path(source)
    if not path.suffix and not path.exists():
        path = builtin_path(source)
    table, _ = read_toml(path)
    table = merge(table, nest(overrides))
    return BaseScenario(table, digest, source, scenario)


def builtin_study_names() -> list[str]:
    """Names of the study files shipped with the package (``ci_sim/builtin/experiments``)."""
    folder = resources.files("ci_sim.builtin").joinpath("experiments")
    return sorted(entry.name.removesuffix(".toml") for entry in folder.iterdir()
                  if entry.name.endswith(".toml"))


def study_file(source: str | Path) -> Path:
    """A study file by path, or by the name of one shipped with the package.

    ``ci-sim sweep sobol_conditions`` therefore works outside a checkout; a path that
    exists always wins over a built-in of the same name.
    """
    path = Path(source)
    if path.exists() or path.suffix:
        return path
    if str(source) in builtin_study_names():
        return Path(str(resources.files("ci_sim.builtin").joinpath("experiments",
                                                                   f"{source}.toml")))
    raise InputError(f"{source}: no such experiment file or built-in (built-ins: "
                     f"{', '.join(builtin_study_names())})")
