"""Regenerate the tables of ``docs/ODD.md`` that are read from the code, not typed by hand.

Each table sits between two markers, ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``:

- ``parameters``: every parameter of :mod:`ci_sim.model.params` (dotted name, type, default,
  allowed range, unit, meaning, source), from ``parameter_names()`` and ``describe()``;
- ``problem-types``: what each problem type sets (``ci_sim.model.params.PROBLEM_TYPES``);
- ``gateways``: the conditions to pass each gateway (``ci_sim.model.GATEWAY_RULES``);
- ``scenarios``: the built-in scenarios, their description and what they change.

Usage::

    python docs/gen_parameters.py            # rewrite docs/ODD.md in place
    python docs/gen_parameters.py --check    # exit 1 if docs/ODD.md is out of date
"""

from __future__ import annotations

import argparse
import sys
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ci_sim.model import GATEWAY_RULES, GATEWAYS
from ci_sim.model.params import PROBLEM_TYPES, describe, parameter_names
from ci_sim.model.scenarios import builtin_names, builtin_path, read_toml

ODD = Path(__file__).resolve().parent / "ODD.md"


def number(value: float | int) -> str:
    """A number as it would be written in a scenario file, without float noise (1e6, 0.015)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = f"{value:g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def value_text(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{number(value)}`"


def type_and_range(info: dict[str, Any]) -> tuple[str, str]:
    """The type column and the allowed-range column of one parameter."""
    annotation = info["type"]
    optional = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(members) < len(typing.get_args(annotation))
        annotation = members[0]
    if typing.get_origin(annotation) is typing.Literal:
        kind, allowed = "choice", ", ".join(f"`{a}`" for a in typing.get_args(annotation))
    elif annotation is bool:
        kind, allowed = "bool", "`true`, `false`"
    elif annotation is str:
        kind, allowed = "text", "any text"
    else:
        kind = annotation.__name__
        low, high = info["low"], info["high"]
        if low is not None and high is not None:
            allowed = f"{number(low)} to {number(high)}"
        elif low is not None:
            allowed = f"at least {number(low)}"
        elif high is not None:
            allowed = f"at most {number(high)}"
        else:
            allowed = "any"
    if optional:
        kind += " or unset"
    return kind, allowed


def parameter_table() -> str:
    rows = ["| parameter | type | default | allowed | unit | meaning | source |",
            "|---|---|---|---|---|---|---|"]
    for name in parameter_names():
        info = describe(name)
        kind, allowed = type_and_range(info)
        rows.append(f"| `{name}` | {kind} | {value_text(info['default'])} | {allowed} | "
                    f"{cell(info['unit'])} | {cell(info['meaning'])} | {cell(info['source'])} |")
    return "\n".join(rows)


def problem_type_table() -> str:
    types_ = list(PROBLEM_TYPES)
    fields = list(PROBLEM_TYPES[types_[0]])
    rows = ["| parameter | " + " | ".join(types_) + " | unit |",
            "|---|" + "---|" * len(types_) + "---|"]
    for field in fields:
        values = " | ".join(number(PROBLEM_TYPES[kind][field]) for kind in types_)
        rows.append(f"| `problem.{field}` | {values} | {cell(describe('problem.' + field)['unit'])} |")
    return "\n".join(rows)


def gateway_table() -> str:
    rows = ["| from | to | every one of these at or above its level in the same month |",
            "|---|---|---|"]
    for level, rule in enumerate(GATEWAY_RULES):
        conditions = ", ".join(f"`{key}` ≥ {number(value)}" for key, value in rule.items())
        rows.append(f"| {level} {GATEWAYS[level]} | {level + 1} {GATEWAYS[level + 1]} | {conditions} |")
    return "\n".join(rows)


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def scenario_table() -> str:
    rows = ["| scenario | differs from the defaults in | description |", "|---|---|---|"]
    for name in builtin_names():
        table, _ = read_toml(builtin_path(name))
        changes = {k: v for k, v in flatten(table).items() if k not in ("name", "description")}
        changed = ", ".join(f"`{k}` = {value_text(v).strip('`')}" for k, v in changes.items())
        rows.append(f"| `{name}` | {changed or 'nothing (the defaults)'} | "
                    f"{cell(table.get('description', ''))} |")
    return "\n".join(rows)


#: Generated blocks of docs/ODD.md, by marker name.
BLOCKS: dict[str, Callable[[], str]] = {
    "parameters": parameter_table,
    "problem-types": problem_type_table,
    "gateways": gateway_table,
    "scenarios": scenario_table,
}


def regenerate(text: str) -> str:
    """``text`` with every generated block rewritten from the code.

    Raises:
        ValueError: a block's start or end marker is missing, repeated or out of order.
    """
    for name, render in BLOCKS.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
            raise ValueError(f"expected one '{start}' followed by one '{end}'")
        head, rest = text.split(start)
        _, tail = rest.split(end)
        text = f"{head}{start}\n{render()}\n{end}{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=ODD, help="ODD document")
    parser.add_argument("--check", action="store_true",
                        help="only report whether the generated tables are up to date")
    args = parser.parse_args(argv)
    current = args.path.read_text(encoding="utf-8")
    try:
        fresh = regenerate(current)
    except ValueError as error:
        print(f"{args.path}: {error}", file=sys.stderr)
        return 2
    if args.check:
        if fresh != current:
            print(f"{args.path}: generated tables are out of date; run "
                  f"python docs/gen_parameters.py", file=sys.stderr)
            return 1
        return 0
    if fresh != current:
        args.path.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
