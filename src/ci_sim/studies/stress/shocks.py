"""Named shocks and backbone shares, as a funder writes them.

A shock is written ``KIND:ARGUMENTS`` (see :data:`SHOCKS`); ``+`` combines shocks
(``backbone_cut:3+champion_leaves:3``) and ``none`` is the baseline without a shock. Shares
are ``START:STOP:STEP`` (STOP included) or a comma list.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ci_sim.errors import InputError


@dataclass(frozen=True)
class ShockKind:
    """One kind of shock: its arguments and the parameters it sets."""

    name: str
    arguments: tuple[str, ...]
    meaning: str
    overrides: Callable[..., dict[str, Any]]
    #: Plain-language description with the arguments filled in (``str.format`` fields).
    words: str


#: Shocks by name. Years are simulated years since the start; fractions are shares 0..1.
SHOCKS: dict[str, ShockKind] = {kind.name: kind for kind in (
    ShockKind("none", (), "no shock: the baseline every other shock is compared with",
              lambda: {}, "no shock"),
    ShockKind("backbone_cut", ("YEAR",), "the backbone's funding stops in YEAR "
              "(backbone.cut_year)", lambda year: {"backbone.cut_year": year},
              "backbone funding cut to zero in year {0:g}"),
    ShockKind("pool_cut", ("YEAR", "FRACTION"), "the whole funding pool loses FRACTION from "
              "YEAR on (funding.cut_year, funding.cut_fraction)",
              lambda year, fraction: {"funding.cut_year": year, "funding.cut_fraction": fraction},
              "whole pool cut by {1:.0%} in year {0:g}"),
    ShockKind("champion_leaves", ("YEAR",), "the influential champion leaves in YEAR "
              "(preconditions.champion_leaves_year)",
              lambda year: {"preconditions.champion_leaves_year": year},
              "champion leaves in year {0:g}"),
    ShockKind("funder_withdraws", ("YEAR",), "the largest funder withdraws in YEAR "
              "(funding.funder_withdraws_year)",
              lambda year: {"funding.funder_withdraws_year": year},
              "largest funder withdraws in year {0:g}"),
    ShockKind("short_funding", ("YEARS",), "committed funding lasts YEARS instead of the "
              "scenario's (preconditions.funding_years); after it only the renewed share comes",
              lambda years: {"preconditions.funding_years": years},
              "committed funding for {0:g} years only"),
)}


def shock_help() -> str:
    """The shock syntax in a few lines, for ``--help`` and error messages."""
    kinds = "; ".join(f"{kind.name}{''.join(':' + a for a in kind.arguments)}"
                      for kind in SHOCKS.values())
    return f"{kinds}. Combine with '+', e.g. backbone_cut:3+champion_leaves:3."


@dataclass(frozen=True)
class Shock:
    """A parsed shock specification: its label (as written, normalized) and the parameter
    overrides it applies on top of the scenario."""

    label: str
    overrides: dict[str, Any] = field(hash=False)
    #: Years at which something happens (for marking plots), sorted.
    years: tuple[float, ...] = ()
    #: Plain-language description for reports.
    description: str = ""

    @property
    def cuts_backbone(self) -> bool:
        return "backbone.cut_year" in self.overrides


def parse_shock(text: str, horizon: float) -> Shock:
    """Parse ``KIND:ARG[:ARG]`` (``+`` joins several) against a horizon of ``horizon`` years.

    Raises:
        InputError: one line naming the shock and what is allowed.
    """
    where = f"--shock {text!r}"
    parts = [part.strip() for part in text.split("+")]
    if not text.strip() or any(not part for part in parts):
        raise InputError(f"{where}: empty shock (allowed: {shock_help()})")
    overrides: dict[str, Any] = {}
    labels, years, words = [], [], []
    for part in parts:
        name, *values = [piece.strip() for piece in part.split(":")]
        kind = SHOCKS.get(name)
        if kind is None:
            raise InputError(f"{where}: unknown shock {name!r} (allowed: {shock_help()})")
        if name == "none" and len(parts) > 1:
            raise InputError(f"{where}: 'none' cannot be combined with other shocks")
        if len(values) != len(kind.arguments):
            usage = name + "".join(":" + argument for argument in kind.arguments)
            raise InputError(f"{where}: {name} takes {len(kind.arguments)} argument(s): {usage}")
        numbers = []
        for argument, value in zip(kind.arguments, values):
            try:
                number = float(value)
            except ValueError:
                raise InputError(f"{where}: {argument} must be a number, got {value!r}") from None
            if not math.isfinite(number):
                raise InputError(f"{where}: {argument} must be a finite number, got {value!r}")
            if argument == "FRACTION" and not 0 < number <= 1:
                raise InputError(f"{where}: FRACTION must be above 0 and at most 1, got {value}")
            if argument in ("YEAR", "YEARS"):
                if number < 0:
                    raise InputError(f"{where}: {argument} must be at least 0, got {value}")
                if number >= horizon:
                    raise InputError(f"{where}: {argument} {number:g} is past the horizon of "
                                     f"{horizon:g} years (must be below it)")
                years.append(number)
            numbers.append(number)
        for key, value in kind.overrides(*numbers).items():
            if key in overrides:
                raise InputError(f"{where}: two shocks set {key}; give them as separate shocks")
            overrides[key] = value
        labels.append(name + "".join(f":{number:g}" for number in numbers))
        words.append(kind.words.format(*numbers))
    return Shock("+".join(labels), overrides, tuple(sorted(years)), " and ".join(words))


def parse_shares(text: str) -> np.ndarray:
    """Parse backbone shares: ``START:STOP:STEP`` (STOP included) or a comma list.

    Raises:
        InputError: a share outside 0..1, a bad range, or fewer than two shares.
    """
    where = f"--shares {text!r}"
    try:
        if ":" in text:
            start, stop, step = (float(piece) for piece in text.split(":"))
            if not step > 0:
                raise InputError(f"{where}: STEP must be above 0")
            if stop < start:
                raise InputError(f"{where}: STOP must not be below START")
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            if count > 501:
                raise InputError(f"{where}: {count} shares is too many (at most 501)")
            shares = np.round(start + step * np.arange(count), 10)
        else:
            shares = np.array([float(piece) for piece in text.split(",")])
    except ValueError:
        raise InputError(f"{where}: expected START:STOP:STEP or a comma list of shares, "
                         f"e.g. 0:0.30:0.02") from None
    if not np.all(np.isfinite(shares)) or shares.min() < 0 or shares.max() > 1:
        raise InputError(f"{where}: shares must be between 0 and 1 (a share of the pool)")
    shares = np.unique(shares)
    if len(shares) < 2:
        raise InputError(f"{where}: give at least two different shares")
    return shares


