"""Players' choices: the one place where people, not the model's rules, decide what an
organization does (ODD 7.21).

In a participatory workshop (``ci-sim workshop --room``) each participant plays one
organization and, each simulated quarter, makes the choices the mindset shifts are about.
The model reads them through :class:`PlayerChoices`, one array per behaviour with one entry
per organization: ``NaN`` where the model's rule decides (every organization without a
player, and any choice a player has left to the model), 0 or 1 where a player has decided.
Funders choose whom to fund instead (:meth:`PlayerChoices.fund`).

With no choice made the model runs exactly as without this hook: every override is a
multiplication by one or a selection of the rule's own value, so trajectories are unchanged
bit for bit, and the numba and python engines read the same arrays.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: The behaviours a player decides, with what 1 and 0 mean and where the model reads them.
BEHAVIOURS = {
    "claims_credit": "1: claims attribution for shared results (hoards credit), read by "
                     "trust (7.10) and funding (7.16); 0: treats credit as shared currency",
    "attends_meetings": "1: takes part in the partners' meetings (7.6, hence trust 7.10); "
                        "0: stays away from them",
    "shares_data": "1: its results go into shared measurement, seen by partners (7.6) and "
                   "the agenda (7.9); 0: keeps its data, seen only through relationships",
    "follows_agenda": "1: lets the common agenda steer its program as far as it is "
                      "committed (7.5, 7.8, 7.12); 0: runs its own program",
}


class PlayerChoices:
    """What players have decided for their organizations this month.

    Args:
        organizations: number of organizations in the model.
    """

    def __init__(self, organizations: int) -> None:
        self.organizations = organizations
        #: One array per behaviour of :data:`BEHAVIOURS`: NaN (the model's rule), 0 or 1.
        self.values = {name: np.full(organizations, np.nan) for name in BEHAVIOURS}
        #: Funder -> the grantees it funds with its whole share of the pool.
        self.grants: dict[int, tuple[int, ...]] = {}

    @property
    def empty(self) -> bool:
        """Whether every organization follows the model's rules."""
        return not self.grants and all(np.isnan(values).all()
                                       for values in self.values.values())

    def set(self, organization: int, behaviour: str, value: float | None) -> None:
        """Decide ``behaviour`` (a key of :data:`BEHAVIOURS`) for one organization: 1, 0, or
        None to hand it back to the model's rule."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r} (known: {', '.join(BEHAVIOURS)})")
        if value is not None and value not in (0, 1):
            raise ValueError(f"{behaviour}: a choice is 0 or 1, got {value!r}")
        self.values[behaviour][organization] = np.nan if value is None else float(value)

    def fund(self, funder: int, grantees: Iterable[int]) -> None:
        """A funder gives its share of the program pool to ``grantees`` in equal parts; an
        empty list hands the decision back to the model's rule."""
        chosen = tuple(sorted(set(int(grantee) for grantee in grantees)))
        if chosen:
            self.grants[funder] = chosen
        else:
            self.grants.pop(funder, None)

    def decide(self, behaviour: str, rule: np.ndarray | float) -> np.ndarray:
        """Each organization's value of ``behaviour``: the player's where one decided, the
        model's ``rule`` elsewhere."""
        values = self.values[behaviour]
        return np.where(np.isnan(values), rule, values)


class Play:
    """One player's choices from a given month on, as a session records them.

    Args:
        month: first month (months completed before it) the choices apply to.
        organization: index of the organization played.
        behaviours: value of each behaviour of :data:`BEHAVIOURS` the player decided (0 or
            1); a behaviour left out is the model's rule.
        funds: grantees a funder gives its share to (empty: the model's rule).
    """

    __slots__ = ("month", "organization", "behaviours", "funds")

    def __init__(self, month: int, organization: int, behaviours: dict[str, int] | None = None,
                 funds: Iterable[int] = ()) -> None:
        self.month = int(month)
        self.organization = int(organization)
        self.behaviours = dict(behaviours or {})
        self.funds = tuple(int(grantee) for grantee in funds)

    def apply(self, choices: PlayerChoices) -> None:
        """Put these choices in place of the organization's previous ones."""
        for behaviour in BEHAVIOURS:
            choices.set(self.organization, behaviour, self.behaviours.get(behaviour))
        choices.fund(self.organization, self.funds)

    @classmethod
    def from_record(cls, record: dict[str, object]) -> Play:
        """The play a table of a session file (:meth:`as_record`) describes."""
        behaviours = {name: int(record[name]) for name in BEHAVIOURS if name in record}
        return cls(int(record["month"]), int(record["organization"]), behaviours,
                   record.get("funds", ()))

    def as_record(self) -> dict[str, object]:
        """The play as a table of a session file."""
        record: dict[str, object] = {"month": self.month, "organization": self.organization,
                                     **self.behaviours}
        if self.funds:
            record["funds"] = list(self.funds)
        return record

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Play) and self.as_record() == other.as_record()

    def __repr__(self) -> str:
        return f"Play({self.as_record()!r})"


def plays_by_month(plays: Iterable[Play]) -> dict[int, list[Play]]:
    """Plays grouped by the month they start, in the order given."""
    schedule: dict[int, list[Play]] = {}
    for play in plays:
        schedule.setdefault(play.month, []).append(play)
    return schedule
