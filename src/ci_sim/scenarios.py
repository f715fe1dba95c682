"""Loading scenarios: built-in names, TOML files, ``--set`` overrides; one-line errors.

Built-in scenarios are the TOML files shipped in ``ci_sim/builtin/`` (the same files as the
repository's ``scenarios/`` folder). A scenario file holds only what differs from the
defaults in :mod:`ci_sim.params`; its sha256 is recorded in every output.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ci_sim.params import SECTIONS, Scenario, parameter_names


class InputError(Exception):
    """Bad input from a user: the message is one line naming the file, the key and what is allowed."""


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
    return table, hashlib.sha256(raw).hexdigest()


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


def validate(table: dict[str, Any], source: str) -> Scenario:
    """Validate a scenario table; raise :class:`InputError` with one line on the first problem."""
    try:
        return Scenario.model_validate(table)
    except ValidationError as error:
        raise InputError(f"{source}: {describe_error(error)}") from None


def describe_error(error: ValidationError) -> str:
    """One line for the first problem of a pydantic validation error."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"] if not str(part).startswith("function-"))
    kind, ctx, got = first["type"], first.get("ctx", {}), first.get("input")
    if kind == "extra_forbidden":
        section = key.rpartition(".")[0]
        if section:
            known = [n.rpartition(".")[2] for n in parameter_names()
                     if n.rpartition(".")[0] == section]
        else:
            known = ["name", "description", "years", *SECTIONS]
        return f"unknown key '{key}' (allowed: {', '.join(known)})"
    if kind == "value_error":
        return str(ctx.get("error", first["msg"]))
    if kind in ("greater_than_equal", "less_than_equal"):
        return (f"key '{key}' must be {first['msg'].removeprefix('Input should be ')}"
                f", got {got!r}")
    if kind == "literal_error":
        return f"key '{key}' must be {ctx.get('expected')}, got {got!r}"
    return f"key '{key}': {first['msg'].lower()}, got {got!r}"


def load_scenario(source: str | Path | None = None, overrides: dict[str, Any] | None = None
                  ) -> tuple[Scenario, str]:
    """Load a built-in scenario by name or a TOML file, apply dotted overrides, validate.

    Args:
        source: built-in name, path to a TOML file, or None for ``collective_impact``.
        overrides: ``{"conditions.common_agenda": 0.5, ...}`` applied on top of the file.

    Returns:
        The validated scenario (problem fields resolved from the type) and the sha256 of
        the scenario file's bytes.
    """
    source = "collective_impact" if source is None else str(source)
    path = Path(source)
    if not path.suffix and not path.exists():
        if source not in builtin_names():
            raise InputError(f"{source}: no such scenario file or built-in "
                             f"(built-ins: {', '.join(builtin_names())})")
        path = builtin_path(source)
    table, digest = read_toml(path)
    label = str(path) if Path(source).suffix else source
    if overrides:
        label = f"{label} with --set"
        try:
            table = merge(table, nest(overrides))
        except InputError as error:
            raise InputError(f"{label}: {error}") from None
    return validate(table, label).resolved(), digest


def scenario_record(scenario: Scenario, digest: str) -> dict[str, Any]:
    """The full resolved parameters and the file hash, as written into outputs."""
    return {"parameters": json.loads(scenario.model_dump_json()), "sha256": digest}
