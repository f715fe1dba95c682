"""Loading scenarios: built-in names, TOML files, ``--set`` overrides; one-line errors.

Built-in scenarios are the TOML files shipped in ``ci_sim/builtin/`` (the same files as the
repository's ``scenarios/`` folder). A scenario file holds only what differs from the
defaults in :mod:`ci_sim.model.params`; its sha256 is recorded in every output.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ci_sim.errors import InputError
from ci_sim.model.params import SECTIONS, Scenario, parameter_names


def builtin_names() -> list[str]:
    """Names of the built-in scenarios."""
    return sorted(p.name.removesuffix(".toml") for p in resources.files("ci_sim.builtin").iterdir()
                  if p.name.endswith(".toml"))


def builtin_path(name: str) -> Path:
    return Path(str(resources.files("ci_sim.builtin").joinpath(f"{name}.toml")))


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; return its table and the sha256 of its bytes."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid TOML ({error})") from None
    except RecursionError:
        raise InputError(f"{path}: not valid TOML (nested too deeply)") from None
    return table, hashlib.sha256(raw).hexdigest()


def is_experiment(table: dict[str, Any]) -> bool:
    """Whether a TOML table is a sweep experiment (it says how to sample)."""
    return "method" in table or "samples" in table


def parse_assignment(text: str, source: str = "--set") -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` where VALUE is a TOML value (bare words are taken as strings)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or not value.strip():
        raise InputError(f"{source}: expected KEY=VALUE, got {text!r}")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    except RecursionError:
        raise InputError(f"{source}: {key}: value nested too deeply") from None
    return key, parsed


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Turn ``{"a.b": 1}`` into ``{"a": {"b": 1}}``."""
    tree: dict[str, Any] = {}
    for dotted, value in flat.items():
        *owners, leaf = dotted.split(".")
        node = tree
        for owner in owners:
            node = node.setdefault(owner, {})
            if not isinstance(node, dict):
                raise InputError(f"{dotted}: '{owner}' is a value, not a section")
        node[leaf] = value
    return tree


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge; ``update`` wins."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


#: Largest NK payoff table a scenario may need (strategy_bits x 2 ** (K + 1) numbers).
LANDSCAPE_LIMIT = 256 * 2**20


def landscape_bytes(strategy_bits: int, interdependence: int) -> int:
    """Memory of the NK payoff table: one 8-byte number per choice and pattern."""
    return strategy_bits * 2 ** (interdependence + 1) * 8


def check_cost(scenario: Scenario) -> None:
    """Refuse a scenario whose payoff table would not fit in :data:`LANDSCAPE_LIMIT`."""
    from ci_sim.model.params import PROBLEM_TYPES

    problem = scenario.problem
    k = problem.interdependence
    if k is None:
        k = int(PROBLEM_TYPES[problem.type]["interdependence"])
    need = landscape_bytes(problem.strategy_bits, k) if problem.landscape == "nk" else 0
    if need > LANDSCAPE_LIMIT:
        largest = max(j for j in range(problem.strategy_bits)
                      if landscape_bytes(problem.strategy_bits, j) <= LANDSCAPE_LIMIT)
        raise ValueError(f"problem.interdependence: {k} with {problem.strategy_bits} "
                         f"strategy_bits needs a payoff table of {need / 2**30:.1f} GB; at "
                         f"most {LANDSCAPE_LIMIT // 2**20} MB (interdependence <= {largest} "
                         f"with these strategy_bits)")


def validate(table: dict[str, Any], source: str, *, strict: bool = False) -> Scenario:
    """Validate a scenario table; raise :class:`InputError` with one line on the first problem.

    ``strict``: numbers must be numbers and switches booleans (no ``'10'`` or ``true`` for
    a number): what a user's file and ``--set`` get.
    """
    try:
        scenario = Scenario.model_validate(table, strict=strict)
        check_cost(scenario)
    except ValidationError as error:
        raise InputError(f"{source}: {describe_error(error)}") from None
    except ValueError as error:
        raise InputError(f"{source}: {error}") from None
    return scenario


def describe_error(error: ValidationError, allowed: Any = None) -> str:
    """One line for the first problem of a pydantic validation error.

    ``allowed``: the top-level keys, when the table is not a scenario (default: a
    scenario's).
    """
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"] if not str(part).startswith("function-"))
    kind, ctx, got = first["type"], first.get("ctx", {}), first.get("input")
    if kind == "extra_forbidden":
        section = key.rpartition(".")[0]
        if section:
            known = [n.rpartition(".")[2] for n in parameter_names()
                     if n.rpartition(".")[0] == section]
        else:
            known = list(allowed or ["name", "description", "years", *SECTIONS])
        return f"unknown key '{key}' (allowed: {', '.join(known)})"
    if kind == "value_error":
        return str(ctx.get("error", first["msg"]))
    bounds = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">",
              "less_than": "<"}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        limit = f"{limit:g}" if isinstance(limit, float) else limit
        return f"key '{key}' must be {bounds[kind]} {limit}, got {got!r}"
    if kind in ("int_type", "float_type", "int_parsing", "float_parsing", "int_from_float"):
        what = "a whole number" if kind.startswith("int") else "a number"
        return f"key '{key}' must be {what}, got {got!r}"
    if kind in ("bool_type", "bool_parsing"):
        return f"key '{key}' must be true or false, got {got!r}"
    if kind == "literal_error":
        return f"key '{key}' must be {ctx.get('expected')}, got {got!r}"
    return f"key '{key}': {first['msg'].lower()}, got {got!r}"


def scenario_path(source: str | Path | None) -> Path:
    """The file of a scenario given by built-in name or path (None: ``collective_impact``).

    Raises:
        InputError: a name that is neither a file nor a built-in.
    """
    source = "collective_impact" if source is None else str(source)
    path = Path(source)
    if not path.suffix and not path.exists():
        if source not in builtin_names():
            raise InputError(f"{source}: no such scenario file or built-in "
                             f"(built-ins: {', '.join(builtin_names())})")
        path = builtin_path(source)
    return path


def load_scenario(source: str | Path | None = None, overrides: dict[str, Any] | None = None,
                  *, origin: str = "--set") -> tuple[Scenario, str]:
    """Load a built-in scenario by name or a TOML file, apply dotted overrides, validate.

    Args:
        source: built-in name, path to a TOML file, or None for ``collective_impact``.
        overrides: ``{"conditions.common_agenda": 0.5, ...}`` applied on top of the file.
        origin: where the overrides come from, for error messages (``--set``, or the
            function they were given to).

    Returns:
        The validated scenario (problem fields resolved from the type) and the sha256 of
        the scenario file's bytes.
    """
    source = "collective_impact" if source is None else str(source)
    path = scenario_path(source)
    table, digest = read_toml(path)
    label = str(path) if Path(source).suffix else source
    if is_experiment(table):
        raise InputError(f"{label}: this is a sweep experiment, not a scenario; run it with "
                         f"'ci-sim sweep {label}'")
    if overrides:
        label = f"{label} with {origin}"
        try:
            table = merge(table, nest(overrides))
        except InputError as error:
            raise InputError(f"{label}: {error}") from None
    return validate(table, label, strict=True).resolved(), digest


def scenario_record(scenario: Scenario, digest: str) -> dict[str, Any]:
    """The full resolved parameters and the file hash, as written into outputs."""
    return {"parameters": json.loads(scenario.model_dump_json()), "sha256": digest}
