"""Parquet files that describe themselves: what every Parquet file ci-sim writes carries.

A file carries its provenance (seed, package and library versions, each scenario's resolved
parameters with their sha256, and the sha256 of the scenario file) in its schema metadata,
and each column's unit and meaning (and an ordinal's labels) as field metadata, also gathered
in one JSON entry that readers without Arrow's schema (DuckDB, R's arrow-less readers) see;
a sweep's files also carry their design, so SALib or EMA Workbench can re-analyse them alone.
``docs/outputs.md`` documents the schema. Commands and studies both write through
:func:`write_parquet`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ci_sim.model import GATEWAYS
from ci_sim.model.params import Scenario
from ci_sim.simulate import OUTCOMES, versions

#: Units of the metrics that are not indices from 0 to 1.
UNITS = {"backbone_spend": "money units/month", "money_given": "money units/month",
         "money_received": "money units/month", "gateway": "ordinal 0-4",
         "outcome_gain": "index points"}

#: Units and meanings of the columns that are neither metrics nor parameters.
COLUMNS = {
    "scenario": ("", "name of the scenario the row belongs to"),
    "replicate": ("", "replicate number, 0 .. replicates - 1"),
    "seed": ("", "the replicate's seed, derived from the base seed (reruns it exactly)"),
    "posterior_draw": ("", "the particle the replicate's parameters were drawn from: its row "
                           "(from 0) in the posterior file (--posterior), the same for every "
                           "scenario and point at this replicate"),
    "step": ("months", "months since the start; 0 is the state before the first month"),
    "year": ("years", "step / 12"),
}

#: Schema metadata keys of ci-sim's Parquet files.
PROVENANCE_KEY, FIELDS_KEY, DESIGN_KEY = b"ci_sim", b"ci_sim.fields", b"ci_sim.design"


def field_description(column: str) -> dict[str, Any]:
    """Unit and meaning of a column ci-sim writes: a metric or outcome, a parameter (by any
    of its names), or one of :data:`COLUMNS`; an ordinal also has its ``labels`` (level i is
    ``labels[i]``). Unknown columns get an empty description."""
    from ci_sim.model.params import describe, parameter_aliases

    if column in COLUMNS:
        unit, meaning = COLUMNS[column]
        return {"unit": unit, "meaning": meaning}
    if column in OUTCOMES:
        description = {"unit": UNITS.get(column, "index 0..1"), "meaning": OUTCOMES[column]}
        if column == "gateway":
            description["labels"] = list(GATEWAYS)
        return description
    dotted = parameter_aliases().get(column)
    if dotted is not None:
        declared = describe(dotted)
        return {"unit": declared["unit"], "meaning": declared["meaning"], "parameter": dotted}
    return {"unit": "", "meaning": ""}


def parameters_digest(scenario: Scenario) -> str:
    """sha256 of a scenario's resolved parameters: the same for the same parameters however
    they were given (file, overrides, defaults) and whatever the scenario is called
    (``name`` and ``description`` are labels, not parameters), different whenever one
    differs. Hashed: the parameters as JSON with sorted keys and no spaces."""
    canonical = json.dumps(scenario.resolved().model_dump(mode="json",
                                                          exclude={"name", "description"}),
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def scenario_provenance(scenario: Scenario, file_digest: str | None = None) -> dict[str, Any]:
    """One scenario as outputs record it: name, resolved parameters and their sha256, and the
    sha256 of the scenario file's bytes when it came from one."""
    record = {"name": scenario.name,
              "parameters": json.loads(scenario.resolved().model_dump_json()),
              "parameters_sha256": parameters_digest(scenario)}
    if file_digest is not None:
        record["file_sha256"] = file_digest
    return record


def posterior_provenance(*, file: str, sha256: str, particles: int, parameters: Sequence[str],
                         applied: Sequence[str], kept: Sequence[str], seed: int,
                         draws: Sequence[int], method: str,
                         source: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A posterior as outputs record it (``--posterior``): the file's name and the sha256
    of its bytes, its particles and fitted parameters, which of them the draws set
    (``applied``) and which kept the value set explicitly (``kept``), the base seed, the
    particle (row of the file) each replicate drew (``draws[r]``), how draws are made, and
    the file's own provenance (``source``: what produced the posterior)."""
    return {"file": file, "sha256": sha256, "particles": int(particles),
            "parameters": list(parameters), "applied": list(applied), "kept": list(kept),
            "seed": seed, "draws": [int(draw) for draw in draws], "method": method,
            "source": dict(source or {})}


def provenance(*, seed: int | None, scenarios: Iterable[dict[str, Any]] = (),
               **extra: Any) -> dict[str, Any]:
    """What produced a file: base seed, versions, scenarios (:func:`scenario_provenance`)
    and anything else the caller records (engine, replicate seeds, command, ``posterior``:
    :func:`posterior_provenance`)."""
    return {"seed": seed, "versions": versions(), "scenarios": list(scenarios), **extra}


def parquet_metadata(columns: Iterable[str], provenance: Mapping[str, Any], *,
                     design: Mapping[str, Any] | None = None,
                     descriptions: Mapping[str, Mapping[str, Any]] | None = None
                     ) -> dict[bytes, bytes]:
    """Schema metadata of a ci-sim Parquet file: provenance, every column's description
    (:func:`field_description`, overridden by ``descriptions``) and, for a sweep, its design
    (:func:`design_record`), each as a JSON entry readable without Arrow's schema."""
    descriptions = descriptions or {}
    fields = {column: dict(descriptions.get(column) or field_description(column))
              for column in columns}
    metadata = {PROVENANCE_KEY: json.dumps(dict(provenance)).encode(),
                FIELDS_KEY: json.dumps(fields).encode()}
    if design is not None:
        metadata[DESIGN_KEY] = json.dumps(dict(design)).encode()
    return metadata


def design_record(*, method: str, names: Sequence[str], bounds: Sequence[Sequence[float]],
                  outputs: Sequence[str], distributions: Sequence[str] | None = None,
                  groups: Sequence[str] | None = None, **options: Any) -> dict[str, Any]:
    """A sweep's design as its ``runs.parquet`` records it, so SALib or EMA Workbench can
    re-analyse the file alone: ``problem`` is SALib's problem definition (``ProblemSpec(
    design["problem"])``), ``inputs`` and ``outputs`` say which columns are which; ``options``
    holds the rest (samples, seed, replicates, second order, ...).

    Args:
        method: sampling method (``sobol``, ``morris``, ``fast``, ``latin``, ``grid``).
        names: input columns (parameters, by dotted name), in the sampler's order.
        bounds: ``[low, high]`` of each input, in its unit; for a normal distribution
            ``[mean, sd]``, as SALib reads them.
        outputs: output columns.
        distributions: SALib's distribution of each input (default uniform, ``unif``).
        groups: SALib's group of each input, when inputs are sampled in groups.
    """
    problem: dict[str, Any] = {"num_vars": len(names), "names": list(names),
                               "bounds": [[float(low), float(high)] for low, high in bounds],
                               "dists": list(distributions or ["unif"] * len(names)),
                               "outputs": list(outputs)}
    if groups is not None:
        problem["groups"] = list(groups)
    return {"method": method, "problem": problem, "inputs": list(names),
            "outputs": list(outputs), **options}


def read_metadata(path: Path) -> dict[str, Any]:
    """What a ci-sim Parquet file says of itself: ``provenance``, ``fields`` and (for a
    sweep) ``design``; the keys a file lacks are absent."""
    import pyarrow.parquet as pq

    raw = pq.read_schema(path).metadata or {}
    return {name: json.loads(raw[key]) for name, key in (
        ("provenance", PROVENANCE_KEY), ("fields", FIELDS_KEY), ("design", DESIGN_KEY))
        if key in raw}


def write_parquet(frame: pd.DataFrame, path: Path, provenance: Mapping[str, Any], *,
                  design: Mapping[str, Any] | None = None,
                  descriptions: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Write ``frame`` as Parquet that describes itself: :func:`parquet_metadata` as schema
    metadata, and each column's unit, meaning (and labels) as its Arrow field metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    metadata = parquet_metadata(frame.columns, provenance, design=design,
                                descriptions=descriptions)
    fields = json.loads(metadata[FIELDS_KEY])
    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema = pa.schema(
        [field.with_metadata({key: value if isinstance(value, str) else json.dumps(value)
                              for key, value in fields[field.name].items()})
         for field in table.schema],
        metadata={**(table.schema.metadata or {}), **metadata})
    pq.write_table(table.cast(schema), path)
