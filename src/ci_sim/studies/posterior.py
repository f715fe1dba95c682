"""Parametric uncertainty: every replicate runs on a parameter set drawn from a posterior.

A posterior file (``posterior.parquet``, as ``ci-sim calibrate`` writes it) has one row per
particle: one number column per fitted parameter, named by its dotted name
(``conditions.setup_cost``), and a ``weight`` column (numbers >= 0; they are normalized, so
they need not sum to 1). :func:`load_posterior` reads and checks it; bad input is one line
naming the file, the column and what is allowed.

Draws. Replicate ``r`` of a study with base seed ``S`` runs on particle
:meth:`Posterior.draw` ``(S, r)``: one uniform number from the random stream
``SeedSequence(S, spawn_key=(crc32("posterior"), r))``, turned into a particle by the
cumulative weights. A draw depends only on the file, the base seed and the replicate's
number: not on the number of replicates, the executor, the command, nor on the scenario,
lever setting or sample point. So every scenario of ``compare``, every lever setting and
situation of a stress test and every sample point of a sweep run replicate ``r`` on the
same seed *and* the same parameter set (common random numbers stay paired), ``ci-sim run``
and ``compare`` with the same seed draw the same particles, and adding replicates keeps the
draws made so far. Replicates are independent draws of (seed, parameter set), so the
Student t interval over replicates is the interval of the mean outcome over both the seeds
and the posterior.

Explicit values win. A parameter set explicitly keeps its value and is not drawn: what the
scenario file sets (``isolated_impact``'s ``conditions.common_agenda = 0`` stays 0),
``--set``, ``--problem`` and ``--years``, and in a study what its file sets (a sweep's levers,
uncertainties and constants; a stress test's shares, levers, uncertainties, shocks,
``[set]`` and ``budget``). The posterior supplies the other parameters it fits; which ones
it supplied and which it left as set are recorded with the draws. A posterior that would
supply no parameter at all is refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ci_sim.errors import InputError
from ci_sim.model.params import (Scenario, describe, numeric_parameters, parameter_names,
                                 resolve_names)
from ci_sim.model.scenarios import merge, nest, read_toml, scenario_path, validate

#: The column of a posterior file holding each particle's weight.
WEIGHT = "weight"
#: The column of per-run outputs holding the particle (row of the posterior file) drawn.
DRAW_COLUMN = "posterior_draw"
#: Spawn key of the draws' random stream (with the replicate's number after it).
STREAM = zlib.crc32(b"posterior")
#: How the draws are made, in words (recorded with them).
DRAWS_METHOD = ("replicate r with base seed S runs on particle i, the row of the posterior "
                "file where the cumulative normalized weight first exceeds u, u the first "
                "number of numpy's default_rng(SeedSequence(S, spawn_key=("
                f"{STREAM}, r))).random(); explicitly set parameters keep their values")


@dataclass(frozen=True, eq=False)
class Posterior:
    """A checked posterior: particles, their weights, and where they came from.

    Attributes:
        path: the file as given.
        sha256: sha256 of the file's bytes.
        names: the fitted parameters' dotted names, in column order.
        columns: the columns as named in the file (the same names, as given).
        values: particles x parameters.
        weights: normalized weights (sum 1), one per particle.
        source: the file's own ``ci_sim`` provenance entry (what produced it); empty when
            the file has none.
    """

    path: str
    sha256: str
    names: tuple[str, ...]
    columns: tuple[str, ...]
    values: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    source: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def file(self) -> str:
        """The file's name (without its folder): how outputs name it."""
        return Path(self.path).name

    @property
    def particles(self) -> int:
        return len(self.weights)

    def particle(self, index: int, names: Iterable[str] | None = None) -> dict[str, Any]:
        """Particle ``index`` (a row of the file) as ``{dotted name: value}``; whole-number
        parameters as ints. ``names``: only these parameters (default: every one)."""
        wanted = set(self.names if names is None else names)
        return {name: plain(name, self.values[index, column])
                for column, name in enumerate(self.names) if name in wanted}

    def draw(self, seed: int, replicate: int) -> int:
        """The particle replicate ``replicate`` of base seed ``seed`` runs on (see the
        module's description)."""
        stream = np.random.default_rng(np.random.SeedSequence(
            int(seed), spawn_key=(STREAM, int(replicate))))
        cumulative = np.cumsum(self.weights)
        chosen = np.searchsorted(cumulative, stream.random() * cumulative[-1], side="right")
        return int(min(chosen, self.particles - 1))

    def draws(self, seed: int, replicates: int) -> list[int]:
        """:meth:`draw` of replicates 0 .. ``replicates`` - 1."""
        return [self.draw(seed, replicate) for replicate in range(replicates)]

    def bind(self, seed: int, explicit: Iterable[str]) -> Draws:
        """The draws of a run or study with base seed ``seed`` whose explicitly set
        parameters are ``explicit`` (dotted names): those keep their values."""
        explicit = set(explicit)
        return Draws(self, int(seed), tuple(name for name in self.names if name not in explicit),
                     tuple(name for name in self.names if name in explicit))


@dataclass(frozen=True, eq=False)
class Draws:
    """A posterior's draws for one run or study: base seed, and which fitted parameters
    the draws set (``applied``) and which keep the value set explicitly (``kept``)."""

    posterior: Posterior
    seed: int
    applied: tuple[str, ...]
    kept: tuple[str, ...] = ()

    def index(self, replicate: int) -> int:
        """The particle (row of the posterior file) replicate ``replicate`` runs on."""
        return self.posterior.draw(self.seed, replicate)

    def indices(self, replicates: int) -> list[int]:
        return self.posterior.draws(self.seed, replicates)

    def values(self, replicate: int) -> dict[str, Any]:
        """The drawn values replicate ``replicate`` runs on (applied parameters only)."""
        return self.posterior.particle(self.index(replicate), self.applied)

    def apply(self, scenario: Scenario, replicate: int) -> Scenario:
        """``scenario`` with replicate ``replicate``'s draw set on it."""
        index = self.index(replicate)
        return with_parameters(scenario, self.posterior.particle(index, self.applied),
                               f"--posterior {self.posterior.path} row {index}")

    def check(self, scenario: Scenario, replicates: int) -> None:
        """Set every particle replicates 0 .. ``replicates`` - 1 draw on ``scenario`` once,
        so that a combination the model refuses is found before anything runs.

        Raises:
            InputError: naming the posterior file, the particle's row and the problem.
        """
        for index in sorted(set(self.indices(replicates))):
            with_parameters(scenario, self.posterior.particle(index, self.applied),
                            f"--posterior {self.posterior.path} row {index}")

    def identity(self) -> dict[str, Any]:
        """What a resumed study must share with the one it finishes."""
        return {"file": self.posterior.file, "sha256": self.posterior.sha256,
                "applied": list(self.applied)}

    def record(self, replicates: int) -> dict[str, Any]:
        """The draws as outputs record them (:func:`ci_sim.parquet.posterior_provenance`)."""
        from ci_sim.parquet import posterior_provenance

        posterior = self.posterior
        return posterior_provenance(
            file=posterior.file, sha256=posterior.sha256, particles=posterior.particles,
            parameters=list(posterior.names), applied=list(self.applied),
            kept=list(self.kept), seed=self.seed, draws=self.indices(replicates),
            method=DRAWS_METHOD, source=posterior.source)

    def columns(self) -> dict[str, str]:
        """The columns CSV outputs add to every row: the file's name and sha256."""
        return {"posterior": self.posterior.file, "posterior_sha256": self.posterior.sha256}

    def describe(self) -> str:
        """One line for a command's output."""
        if not self.applied:
            return (f"No parameter drawn from {self.posterior.file}: every one it fits is set "
                    f"explicitly ({', '.join(self.kept)})")
        kept = (f"; kept as set: {', '.join(self.kept)}" if self.kept else "")
        return (f"Parameters drawn per replicate from {self.posterior.file} "
                f"({self.posterior.particles} particles, sha256 {self.posterior.sha256[:12]}): "
                f"{', '.join(self.applied)}{kept}")


def with_parameters(scenario: Scenario, values: Mapping[str, Any], label: str) -> Scenario:
    """``scenario`` with dotted ``values`` set on it, validated and resolved as a scenario
    file would be; the same parameters give the same scenario as ``--set`` does.

    Raises:
        InputError: naming ``label`` and the problem (a combination the model refuses).
    """
    if not values:
        return scenario
    return validate(merge(scenario.model_dump(), nest(dict(values))), label).resolved()


def plain(name: str, value: float) -> Any:
    """A posterior value as the parameter takes it: an int for a whole-number parameter."""
    return int(round(value)) if describe(name)["type"] in (int, int | None) else float(value)


# ---------------------------------------------------------------------------- explicit
def table_names(table: Mapping[str, Any], prefix: str = "") -> set[str]:
    """The parameters a scenario table (or dotted overrides) sets, by dotted name."""
    known = set(parameter_names())
    names: set[str] = set()
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and dotted not in known:
            names |= table_names(value, f"{dotted}.")
        elif dotted in known:
            names.add(dotted)
    return names


def scenario_names(source: str | Path | None, overrides: Mapping[str, Any] | None = None
                   ) -> set[str]:
    """The parameters a scenario (built-in name, file or session file) with ``overrides``
    (dotted, as ``--set`` gives them) sets explicitly."""
    table, _ = read_toml(scenario_path(source))
    return table_names(table) | table_names(nest(dict(overrides or {})))


# ---------------------------------------------------------------------------- reading
def load_posterior(path: str | Path) -> Posterior:
    """Read and check a posterior file.

    Raises:
        InputError: one line naming the file, the column and what is allowed, for a file
            that is missing or not Parquet, no ``weight`` column, a weight that is negative,
            not a number or all weights 0, a column that is not a model parameter (or not a
            number parameter, or ``years``), a value that is not a finite number, not whole
            for a whole-number parameter, or outside the parameter's allowed range.
    """
    label = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"--posterior {label}: file not found") from None
    except OSError as error:
        raise InputError(f"--posterior {label}: cannot read ({error.strerror})") from None
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(raw))  # the bytes hashed are the bytes read
    except Exception as error:  # pyarrow raises many kinds for a file that is not Parquet
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
        raise InputError(f"--posterior {label}: not a Parquet file ({reason})") from None
    columns = list(table.column_names)
    if WEIGHT not in columns:
        raise InputError(f"--posterior {label}: no '{WEIGHT}' column (a posterior has a "
                         f"'{WEIGHT}' column and one number column per fitted parameter, "
                         f"named by its dotted name; this file has "
                         f"{', '.join(map(repr, columns)) or 'no columns'})")
    if table.num_rows == 0:
        raise InputError(f"--posterior {label}: no particles (the file has no rows)")
    fitted = [column for column in columns if column != WEIGHT]
    if not fitted:
        raise InputError(f"--posterior {label}: no parameter columns besides '{WEIGHT}'")
    try:
        dotted = list(resolve_names(dict.fromkeys(fitted), f"--posterior {label}: column"))
    except ValueError as error:
        raise InputError(str(error)) from None
    numeric = set(numeric_parameters())
    for column, name in zip(fitted, dotted):
        if name == "years":
            raise InputError(f"--posterior {label}: column '{column}': the horizon is not "
                             f"drawn from a posterior (every replicate runs the same years); "
                             f"set it with --years")
        if name not in numeric:
            raise InputError(f"--posterior {label}: column '{column}': {name} takes "
                             f"{type_words(name)}, not a number; a posterior draws number "
                             f"parameters only")

    def numbers(column: str) -> np.ndarray:
        kind = table.schema.field(column).type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            raise InputError(f"--posterior {label}: column '{column}' must hold numbers, "
                             f"got {kind}")
        return np.asarray(table.column(column).to_numpy(zero_copy_only=False), dtype=float)

    weights = numbers(WEIGHT)
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if len(bad):
        row = int(bad[0])
        raise InputError(f"--posterior {label}: column '{WEIGHT}': row {row} is "
                         f"{weights[row]!r}; weights must be finite numbers >= 0")
    if not weights.sum() > 0:
        raise InputError(f"--posterior {label}: column '{WEIGHT}': every weight is 0; at "
                         f"least one particle needs a weight above 0")
    values = np.column_stack([numbers(column) for column in fitted])
    for position, (column, name) in enumerate(zip(fitted, dotted)):
        check_values(label, column, name, values[:, position])
    metadata = table.schema.metadata or {}
    try:
        source = json.loads(metadata[b"ci_sim"]) if b"ci_sim" in metadata else {}
    except ValueError as error:
        raise InputError(f"--posterior {label}: its ci_sim metadata is not valid JSON "
                         f"({error})") from None
    return Posterior(path=label, sha256=hashlib.sha256(raw).hexdigest(), names=tuple(dotted),
                     columns=tuple(fitted), values=values, weights=weights / weights.sum(),
                     source=source if isinstance(source, dict) else {"value": source})


def check_values(label: str, column: str, name: str, values: np.ndarray) -> None:
    """Refuse a value that is not finite, not whole for a whole-number parameter, or
    outside the parameter's declared range, naming its row."""
    declared = describe(name)
    whole = declared["type"] in (int, int | None)
    low = -math.inf if declared["low"] is None else declared["low"]
    high = math.inf if declared["high"] is None else declared["high"]
    where = f"--posterior {label}: column '{column}'"
    for row, value in enumerate(values):
        if not math.isfinite(value):
            raise InputError(f"{where}: row {row} is {value!r}; values must be finite numbers")
        if whole and value != round(value):
            raise InputError(f"{where}: row {row} is {value:g}; {name} takes whole numbers")
        if not low <= value <= high:
            allowed = f"{declared['low']:g} to {declared['high']:g}" \
                if declared["low"] is not None and declared["high"] is not None else \
                f"at least {low:g}" if declared["high"] is None else f"at most {high:g}"
            raise InputError(f"{where}: row {row} is {value:g}, outside the range {name} "
                             f"allows ({allowed})")


def type_words(name: str) -> str:
    """What a parameter that is not a number takes, in words."""
    kind = describe(name)["type"]
    if kind is bool:
        return "true or false"
    arguments = getattr(kind, "__args__", ())
    return "one of " + ", ".join(map(repr, arguments)) if arguments else str(kind)


def explicit_in_study(table: Mapping[str, Any], *dotted: Iterable[str]) -> set[str]:
    """What a study sets explicitly: its base scenario's table (scenario file, problem,
    years, constants) and the dotted names it varies or sets per point."""
    names = table_names(table)
    for group in dotted:
        names |= set(group)
    return names


def ensure_used(draws: Iterable[Draws], where: str) -> None:
    """Refuse a posterior that would set no parameter anywhere: every parameter it fits is
    set explicitly (``where`` says by what), and explicit values win.

    Raises:
        InputError: naming the file and the parameters it fits.
    """
    draws = list(draws)
    if draws and not any(draw.applied for draw in draws):
        posterior = draws[0].posterior
        raise InputError(f"--posterior {posterior.path}: every parameter it fits "
                         f"({', '.join(posterior.names)}) is set explicitly by {where}, and "
                         f"explicit values win over the posterior; nothing would be drawn "
                         f"from it")
