"""A workshop room's play as data: the session file, written by ``ci-sim workshop --room``
and replayed by ``ci-sim run SESSION.toml``.

A session file is a scenario file (every parameter of the room's scenario, so it runs
without the built-ins it came from) with a ``[session]`` table: the base seed, the ci-sim
version, the room code, the months played and one ``[[session.choices]]`` table per player
and quarter (organization, first month, each choice made; see
:data:`ci_sim.model.choices.BEHAVIOURS`). The room's run is replicate 0 of that base seed,
so ``ci-sim run SESSION.toml --replicates 1`` gives the room's trajectory again, month for
month, and more replicates show the same choices on other draws of the field. Players are
recorded by organization only, never by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_sim import __version__
from ci_sim.errors import InputError
from ci_sim.model.choices import BEHAVIOURS, Play
from ci_sim.model.params import Scenario
from ci_sim.model.scenarios import merge, nest, read_toml, validate
from ci_sim.simulate import replicate_seeds


def room_seed(base_seed: int) -> int:
    """The seed of the room's run: replicate 0 of ``base_seed``, as ``ci-sim run`` derives it."""
    return replicate_seeds(base_seed, 1)[0]


@dataclass
class Session:
    """A room's play: the scenario, the base seed and the players' choices."""

    scenario: Scenario
    seed: int
    plays: list[Play] = field(default_factory=list)
    room: str = ""
    months: int = 0
    version: str = __version__


def toml_value(value: Any) -> str:
    """A scalar or a list of scalars as TOML (strings with JSON's escapes, which TOML's
    basic strings share)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def session_toml(session: Session) -> str:
    """The session file's text."""
    table = session.scenario.model_dump(mode="json")
    lines = ["# A ci-sim workshop room's play. Replay it with", "#",
             f"#     ci-sim run THIS_FILE --replicates 1", "#",
             "# (the room's run is replicate 0 of the base seed below)."]
    sections = []
    for key, value in table.items():
        if isinstance(value, dict):
            sections.append((key, value))
        elif value is not None:
            lines.append(f"{key} = {toml_value(value)}")
    for key, values in sections:
        lines += ["", f"[{key}]"]
        lines += [f"{name} = {toml_value(value)}" for name, value in values.items()
                  if value is not None]
    lines += ["", "[session]", f"seed = {session.seed}", f"ci_sim = {toml_value(session.version)}",
              f"room = {toml_value(session.room)}", f"months = {session.months}"]
    for play in session.plays:
        lines += ["", "[[session.choices]]"]
        lines += [f"{name} = {toml_value(value)}" for name, value in play.as_record().items()]
    return "\n".join(lines) + "\n"


def is_session_file(source: str | None) -> bool:
    """Whether ``source`` names a TOML file with a ``[session]`` table."""
    if source is None or not source.endswith(".toml") or not Path(source).is_file():
        return False
    table, _ = read_toml(Path(source))
    return "session" in table


def read_session(path: Path, overrides: dict[str, Any] | None = None
                 ) -> tuple[Session, str]:
    """Read a session file, apply dotted ``overrides`` to its scenario, validate everything.

    Returns the session and the sha256 of the file.

    Raises:
        InputError: one line naming the file and what is wrong.
    """
    table, digest = read_toml(path)
    record = table.pop("session", None)
    if not isinstance(record, dict):
        raise InputError(f"{path}: not a session file (no [session] table)")
    label = f"{path} with --set" if overrides else str(path)
    if overrides:
        table = merge(table, nest(overrides))
    scenario = validate(table, label, strict=True).resolved()
    unknown = set(record) - {"seed", "ci_sim", "room", "months", "choices"}
    if unknown:
        raise InputError(f"{path}: [session]: unknown key '{sorted(unknown)[0]}' (allowed: "
                         "seed, ci_sim, room, months, choices)")
    seed = record.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise InputError(f"{path}: [session] seed: must be a whole number from 0, got {seed!r}")
    count = scenario.organizations.count
    plays = []
    for number, entry in enumerate(record.get("choices", []), start=1):
        where = f"{path}: [[session.choices]] #{number}"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: must be a table")
        extra = set(entry) - {"month", "organization", "funds", *BEHAVIOURS}
        if extra:
            raise InputError(f"{where}: unknown key '{sorted(extra)[0]}' (allowed: month, "
                             f"organization, funds, {', '.join(BEHAVIOURS)})")
        for key, high in (("month", 100 * 12), ("organization", count - 1)):
            value = entry.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
                raise InputError(f"{where}: {key} must be a whole number from 0 to {high}, "
                                 f"got {value!r}")
        behaviours = {}
        for behaviour in BEHAVIOURS:
            if behaviour in entry:
                if entry[behaviour] not in (0, 1) or isinstance(entry[behaviour], bool):
                    raise InputError(f"{where}: {behaviour} must be 0 or 1, got "
                                     f"{entry[behaviour]!r}")
                behaviours[behaviour] = entry[behaviour]
        funds = entry.get("funds", [])
        if not isinstance(funds, list) or not all(
                isinstance(g, int) and not isinstance(g, bool) and 0 <= g < count for g in funds):
            raise InputError(f"{where}: funds must be a list of organizations from 0 to "
                             f"{count - 1}")
        plays.append(Play(entry["month"], entry["organization"], behaviours, funds))
    return Session(scenario, seed, plays, room=str(record.get("room", "")),
                   months=int(record.get("months", 0)),
                   version=str(record.get("ci_sim", ""))), digest
