"""A workshop room: participants each play one organization of a run, quarter by quarter.

NetLogo's HubNet (Wilensky & Stroup 1999) lets each participant steer part of a simulation
from their own device; this is that idea for collaboration. A facilitator starts a room
(``ci-sim workshop --room``); participants join from a phone browser with a short room code
and are each given an organization (sector, staff, money). Each simulated quarter they choose
what the mindset shifts are about (:data:`ci_sim.model.choices.BEHAVIOURS`: claim credit or
share it, attend the partners' meetings, share data, follow the common agenda; funders: whom
to fund). Organizations without a player follow the model's rules. The facilitator, who
alone holds the steering token, plays the quarters; the room's run is compared with the
model's own ``collective_impact`` and ``isolated_impact`` runs on the same seed, stepped
alongside it, for the debrief.

:class:`Room` holds the state and checks every action; it raises :class:`RoomError` with a
message for the person who made it, never anything else for bad input. The web front end is
:mod:`ci_sim.room_web`. Every quarter the session is saved (:mod:`ci_sim.session`), so the
room's play is data that ``ci-sim run`` replays.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ci_sim import __version__
from ci_sim.folders import write_atomic
from ci_sim.model import STEPS_PER_YEAR, CollectiveImpactModel
from ci_sim.model.agents import SECTORS
from ci_sim.model.choices import BEHAVIOURS, Play
from ci_sim.model.params import Scenario
from ci_sim.model.scenarios import load_scenario
from ci_sim.session import Session, room_seed, session_toml

#: Months in a quarter: players choose once a quarter.
QUARTER_MONTHS = 3
#: Room codes avoid letters and digits that are easily confused (0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 4
#: Longest participant name kept (names are shown on the facilitator's screen only).
NAME_LENGTH = 24
#: The model's own runs the room is compared with, on the same seed.
REFERENCES = ("collective_impact", "isolated_impact")
#: Metrics the debrief compares.
DEBRIEF_METRICS = ("outcome", "mean_trust", "agenda_alignment", "funding_gini")

#: What each choice is called on a phone, for 1 and 0.
CHOICE_WORDS = {
    "claims_credit": ("Claim the credit", "Share the credit"),
    "attends_meetings": ("Attend partners' meetings", "Skip the meetings"),
    "shares_data": ("Share our data", "Keep our data"),
    "follows_agenda": ("Follow the common agenda", "Run our own program"),
}
#: The choice the mindset shifts ask for (shared credit, meetings, data, the agenda).
SHIFTED = {"claims_credit": 0, "attends_meetings": 1, "shares_data": 1, "follows_agenda": 1}


class RoomError(Exception):
    """An action the room refuses, with a message for the person who tried it.

    ``status`` is the HTTP status the web front end answers with.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Player:
    """A participant: the organization they play and a name for the facilitator's screen."""

    key: str
    number: int
    organization: int
    name: str
    joined: float = field(default_factory=time.time)
    #: Quarter for which this player last sent choices (-1: none yet).
    sent_quarter: int = -1


def make_code() -> str:
    """A fresh room code, e.g. ``K7QF``."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def playing_order(sector: np.ndarray, seed: int) -> list[int]:
    """The order in which organizations are given to participants: sectors in turn
    (nonprofit, public agency, funder, business, community group), shuffled within each by
    the seed, so that a small room still sees every sector."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7_2_1,)))
    queues = [list(rng.permutation(np.flatnonzero(sector == s))) for s in range(len(SECTORS))]
    order = []
    while any(queues):
        for queue in queues:
            if queue:
                order.append(int(queue.pop(0)))
    return order


class Room:
    """A participatory session on one seed.

    Args:
        scenario: the room's scenario (the reference ``collective_impact`` by default).
        seed: base seed; the room's run is replicate 0 of it (:func:`room_seed`).
        max_participants: most participants admitted (at most one per organization).
        out: folder the session file is saved to after every quarter (None: not saved).
        code, token: room code and facilitator token (fresh random ones by default).
    """

    def __init__(self, scenario: Scenario | None = None, *, seed: int = 0,
                 max_participants: int = 30, out: Path | None = None, code: str | None = None,
                 token: str | None = None) -> None:
        self.scenario = scenario if scenario is not None else load_scenario(None)[0]
        self.seed = int(seed)
        self.code = code or make_code()
        self.token = token or secrets.token_urlsafe(18)
        self.out = out
        count = self.scenario.organizations.count
        self.max_participants = max(1, min(int(max_participants), count))
        self.model = CollectiveImpactModel(self.scenario, rng=room_seed(self.seed))
        self.references = {}
        for name in REFERENCES:
            reference, _ = load_scenario(name, {"years": self.scenario.years,
                                                "organizations.count": count})
            self.references[name] = CollectiveImpactModel(reference, rng=room_seed(self.seed))
        self.horizon = int(round(self.scenario.years * STEPS_PER_YEAR))
        self.quarters = self.horizon // QUARTER_MONTHS
        self.order = playing_order(self.model.sector, self.seed)
        self.players: dict[str, Player] = {}
        #: Standing choices of each played organization: behaviour -> 0/1, and ``funds``.
        self.standing: dict[int, dict[str, Any]] = {}
        #: Choices in force in each quarter played, by organization: the debrief's table.
        self.log: dict[int, dict[int, dict[str, Any]]] = {}
        self.plays: list[Play] = []
        self.lock = threading.RLock()
        self.saved_to: Path | None = None

    # ------------------------------------------------------------------ reading
    @property
    def month(self) -> int:
        """Months played so far."""
        return self.model.steps

    @property
    def quarter(self) -> int:
        """The quarter players are choosing for (0-based)."""
        return self.month // QUARTER_MONTHS

    @property
    def finished(self) -> bool:
        return self.quarter >= self.quarters

    def is_facilitator(self, token: str | None) -> bool:
        """Whether ``token`` is the facilitator's (compared in constant time)."""
        return bool(token) and hmac.compare_digest(str(token), self.token)

    def check_facilitator(self, token: str | None) -> None:
        if not self.is_facilitator(token):
            raise RoomError("Only the facilitator can do this: the facilitator's link carries "
                            "a token that participants do not have.", status=403)

    def player(self, key: str | None) -> Player:
        """The player a key belongs to."""
        if not isinstance(key, str) or key not in self.players:
            raise RoomError("This phone has not joined the room (or the room was restarted): "
                            "join again with the room code.", status=403)
        return self.players[key]

    def is_funder(self, organization: int) -> bool:
        return not bool(self.model.grantee[organization])

    def organization_card(self, organization: int) -> dict[str, Any]:
        """What a player is told about their organization."""
        model = self.model
        sector = SECTORS[int(model.sector[organization])]
        partners = [int(j) for j in model.neighbours[organization]
                    if j >= 0][:int(model.degree[organization])]
        trust_in = model.trust_of(np.array(partners, dtype=np.int64), organization).tolist()
        mission = np.argsort(model.mission[organization])[::-1][:2]
        card = {
            "index": organization, "sector": sector.replace("_", " "),
            "funder": self.is_funder(organization),
            "partners": len(partners),
            "trust_from_partners": round(float(np.mean(trust_in)) if trust_in else 0.0, 2),
            "mission": [int(k) + 1 for k in mission],
            "indicators": int(model.needs.shape[0]),
        }
        if card["funder"]:
            funders = list(np.flatnonzero(~model.grantee))
            card["pool_share"] = round(float(model.funder_shares[funders.index(organization)]), 3)
        else:
            card["staff"] = round(float(model.capacity[organization]), 1)
            card["grant"] = round(float(model.funding[organization]), 1)
        return card

    def grantees(self) -> list[dict[str, Any]]:
        """Grantees a funder can choose, with their sector and this month's grant."""
        model = self.model
        return [{"index": int(i), "sector": SECTORS[int(model.sector[i])].replace("_", " "),
                 "grant": round(float(model.funding[i]), 1)}
                for i in np.flatnonzero(model.grantee)]

    def player_view(self, key: str | None) -> dict[str, Any]:
        """What a participant's phone shows."""
        with self.lock:
            player = self.player(key)
            organization = player.organization
            view = {"number": player.number, "quarter": self.quarter + 1,
                    "quarters": self.quarters, "month": self.month, "finished": self.finished,
                    "organization": self.organization_card(organization),
                    "choices": dict(self.standing.get(organization, {})),
                    "sent": player.sent_quarter == self.quarter,
                    "outcome": round(float(self.model.metrics["outcome"]), 3),
                    "mean_trust": round(float(self.model.metrics["mean_trust"]), 3)}
            if self.is_funder(organization):
                view["grantees"] = self.grantees()
            return view

    def facilitator_view(self, token: str | None) -> dict[str, Any]:
        """What the facilitator's screen shows: the room, who chose what, the comparison."""
        with self.lock:
            self.check_facilitator(token)
            players = sorted(self.players.values(), key=lambda p: p.number)
            runs = {"room": self.model, **self.references}
            return {
                "code": self.code, "quarter": self.quarter + 1, "quarters": self.quarters,
                "month": self.month, "finished": self.finished,
                "max_participants": self.max_participants,
                "participants": [{"number": p.number, "name": p.name,
                                  "organization": p.organization,
                                  "sector": SECTORS[int(self.model.sector[p.organization])]
                                  .replace("_", " "),
                                  "sent": p.sent_quarter == self.quarter}
                                 for p in players],
                "log": {str(q): {str(o): c for o, c in choices.items()}
                        for q, choices in self.log.items()},
                "metrics": {name: {metric: round(float(model.metrics[metric]), 3)
                                   for metric in DEBRIEF_METRICS}
                            for name, model in runs.items()},
                "shifted_share": self.shifted_share(),
                # The folder's own name only: the full path was printed when the room started.
                "saved_to": f"{self.saved_to.parent.name}/{self.saved_to.name}"
                            if self.saved_to else "",
            }

    def shifted_share(self) -> dict[str, float | None]:
        """For each behaviour, the share of player-quarters that made the shifted choice."""
        shares = {}
        for behaviour, shifted in SHIFTED.items():
            made = [choices[behaviour] for quarter in self.log.values()
                    for choices in quarter.values() if behaviour in choices]
            shares[behaviour] = round(float(np.mean([m == shifted for m in made])), 3) \
                if made else None
        return shares

    # ------------------------------------------------------------------ acting
    def join(self, code: Any, name: Any = "") -> dict[str, Any]:
        """Admit a participant with the room code; returns their key and organization."""
        with self.lock:
            if not isinstance(code, str) or not hmac.compare_digest(
                    code.strip().upper().encode(), self.code.encode()):
                raise RoomError("That is not this room's code: check the code on the "
                                "facilitator's screen.", status=403)
            if self.finished:
                raise RoomError("This session has ended: no one can join any more.", 409)
            if len(self.players) >= self.max_participants:
                raise RoomError(f"The room is full ({self.max_participants} participants): ask "
                                "the facilitator to pair you with someone.", status=409)
            if name is not None and not isinstance(name, str):
                raise RoomError("A name is text.")
            clean = " ".join((name or "").split())[:NAME_LENGTH]
            taken = {p.organization for p in self.players.values()}
            organization = next(o for o in self.order if o not in taken)
            key = secrets.token_urlsafe(18)
            number = len(self.players) + 1
            self.players[key] = Player(key, number, organization, clean or f"Player {number}")
            return {"player": key, "number": number, "organization": organization}

    def choose(self, key: str | None, action: Any) -> dict[str, Any]:
        """A participant's choices for the current quarter; they stand until changed."""
        with self.lock:
            player = self.player(key)
            if not isinstance(action, dict):
                raise RoomError("Choices must be sent as a set of named answers.")
            if self.finished:
                raise RoomError("The session has ended: there are no more quarters to play.",
                                status=409)
            quarter = action.get("quarter")
            if not isinstance(quarter, int) or isinstance(quarter, bool):
                raise RoomError("Say which quarter these choices are for.")
            if quarter != self.quarter + 1:
                raise RoomError(f"These choices were for quarter {quarter}, but the room is "
                                f"now choosing for quarter {self.quarter + 1}: look again and "
                                "send them for this quarter.", status=409)
            organization = player.organization
            funder = self.is_funder(organization)
            allowed = {"quarter", "funds"} if funder else {"quarter", *BEHAVIOURS}
            unknown = sorted(set(action) - allowed)
            if unknown:
                what = "funders choose whom to fund" if funder else \
                    "organizations choose " + ", ".join(BEHAVIOURS)
                raise RoomError(f"'{str(unknown[0])[:40]}' is not a choice here ({what}).")
            choices: dict[str, Any] = {}
            if funder:
                funds = action.get("funds", [])
                grantees = set(np.flatnonzero(self.model.grantee).tolist())
                if not isinstance(funds, list) or len(funds) > len(grantees) or not all(
                        isinstance(g, int) and not isinstance(g, bool) and g in grantees
                        for g in funds):
                    raise RoomError("Choose grantees from the list (or none, to leave the "
                                    "grants to the model's rule).")
                if funds:
                    choices["funds"] = sorted(set(funds))
            else:
                for behaviour in BEHAVIOURS:
                    if behaviour not in action:
                        raise RoomError(f"Answer every question: '{CHOICE_WORDS[behaviour][0]}'"
                                        " or not is missing.")
                    value = action[behaviour]
                    if value not in (0, 1) or isinstance(value, bool):
                        raise RoomError(f"'{behaviour}' is answered with 0 or 1.")
                    choices[behaviour] = int(value)
            self.standing[organization] = choices
            player.sent_quarter = self.quarter
            return {"ok": True, "quarter": self.quarter + 1}

    def advance(self, token: str | None, quarters: int = 1) -> dict[str, Any]:
        """Play ``quarters`` quarters with the choices standing (facilitator only)."""
        with self.lock:
            self.check_facilitator(token)
            if not isinstance(quarters, int) or isinstance(quarters, bool) or quarters < 1:
                raise RoomError("Play at least one quarter.")
            if self.finished:
                raise RoomError("The session has ended: every quarter has been played.", 409)
            for _ in range(min(quarters, self.quarters - self.quarter)):
                self._play_quarter()
            self.save()
            return {"ok": True, "quarter": self.quarter + 1, "month": self.month}

    def _play_quarter(self) -> None:
        quarter, month = self.quarter, self.month
        self.log[quarter] = {}
        for organization, choices in sorted(self.standing.items()):
            behaviours = {k: v for k, v in choices.items() if k in BEHAVIOURS}
            play = Play(month, organization, behaviours, choices.get("funds", ()))
            play.apply(self.model.choices)
            self.plays.append(play)
            self.log[quarter][organization] = dict(choices)
        for _ in range(QUARTER_MONTHS):
            if self.model.steps >= self.horizon:
                break
            self.model.step()
            for reference in self.references.values():
                reference.step()

    # ------------------------------------------------------------------ recording
    def session(self) -> Session:
        """The room's play so far as a session; its scenario runs exactly the months played."""
        years = self.month / STEPS_PER_YEAR if self.month else self.scenario.years
        scenario = self.scenario.model_copy(update={"years": years,
                                                    "name": f"room_{self.code}"})
        return Session(scenario, self.seed, list(self.plays), room=self.code, months=self.month,
                       version=__version__)

    def save(self) -> Path | None:
        """Write ``session.toml`` to the room's folder (atomically); returns its path."""
        if self.out is None:
            return None
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "session.toml"
        text = session_toml(self.session())
        write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))
        self.saved_to = path
        return path

    def histories(self) -> dict[str, list[dict[str, float]]]:
        """Monthly metrics of the room's run and the model's own runs so far."""
        with self.lock:
            runs = {"room": self.model, **self.references}
            return {name: [dict(row) for row in model.history] for name, model in runs.items()}
