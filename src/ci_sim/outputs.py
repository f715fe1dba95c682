"""What `ci-sim run` and `ci-sim compare` compute and write: tables, summaries, plots; and
how every Parquet file ci-sim writes describes itself.

Every output records the seed, the package and library versions, and each scenario's full
resolved parameters with their sha256 (and the sha256 of the scenario file). A Parquet file
carries that provenance in its schema metadata, and each column's unit and meaning (and an
ordinal's labels) as field metadata, also gathered in one JSON entry that readers without
Arrow's schema (DuckDB, R's arrow-less readers) see: :func:`write_parquet`,
:func:`parquet_metadata`, :func:`read_metadata`; ``docs/outputs.md`` documents the schema.
The commands write into the staging folder of a :class:`ci_sim.folders.OutputFolder`, so a
run's files are published together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ci_sim import __version__
from ci_sim.folders import write_atomic
from ci_sim.model import GATEWAYS, METRICS
from ci_sim.model.choices import Play
from ci_sim.model.params import Scenario
from ci_sim.model.scenarios import scenario_record
from ci_sim.simulate import OUTCOMES, replicate_seeds, run_replicates, versions
from ci_sim.studies.stats import interval

__all__ = ["interval", "versions", "write_parquet"]  # kept here for notebooks and scripts

#: Metrics shown in printed summaries, in order.
SUMMARY_METRICS = ("outcome", "indicators_improving", "agenda_alignment", "mean_trust",
                   "duplication", "funding_gini", "backbone_spend", "gateway")

#: Units of the metrics that are not indices from 0 to 1.
UNITS = {"backbone_spend": "money units/month", "money_given": "money units/month",
         "money_received": "money units/month", "gateway": "ordinal 0-4",
         "outcome_gain": "index points"}

#: Confidence level of every interval ci-sim reports, and how it is computed.
LEVEL = 0.95
INTERVAL_METHOD = "two-sided Student t interval of the mean over replicates"

#: Units and meanings of the columns that are neither metrics nor parameters.
COLUMNS = {
    "scenario": ("", "name of the scenario the row belongs to"),
    "replicate": ("", "replicate number, 0 .. replicates - 1"),
    "seed": ("", "the replicate's seed, derived from the base seed (reruns it exactly)"),
    "step": ("months", "months since the start; 0 is the state before the first month"),
    "year": ("years", "step / 12"),
}

#: Schema metadata keys of ci-sim's Parquet files.
PROVENANCE_KEY, FIELDS_KEY, DESIGN_KEY = b"ci_sim", b"ci_sim.fields", b"ci_sim.design"


def metric_label(metric: str) -> str:
    """A metric's name with its unit, for tables and plots."""
    return f"{metric} ({UNITS[metric]})" if metric in UNITS else metric


def gateway_shares(gateways: np.ndarray) -> dict[str, float]:
    """Share of replicates ending at each gateway, by the gateway's name."""
    levels = np.asarray(gateways).round().astype(int)
    return {name: float(np.mean(levels == level)) for level, name in enumerate(GATEWAYS)}


def most_common_gateway(gateways: np.ndarray) -> str:
    """The gateway most replicates end at (the earliest of equally common ones)."""
    shares = gateway_shares(gateways)
    return max(shares, key=shares.get)


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


def provenance(*, seed: int | None, scenarios: Iterable[dict[str, Any]] = (),
               **extra: Any) -> dict[str, Any]:
    """What produced a file: base seed, versions, scenarios (:func:`scenario_provenance`)
    and anything else the caller records (engine, replicate seeds, command)."""
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


def final_rows(timeseries: pd.DataFrame) -> pd.DataFrame:
    """The last step of every replicate."""
    return timeseries[timeseries["step"] == timeseries["step"].max()]


def run_scenario(scenario: Scenario, digest: str, *, seed: int, replicates: int, engine: str,
                 out: Path, progress: Callable[[], None] | None = None,
                 workers: int | None = 1, plays: Sequence[Play] = ()) -> dict[str, Any]:
    """Run ``replicates`` replicates and write timeseries.parquet, summary.json, outcome.png.

    ``plays``: players' choices of a workshop session, replayed in every replicate.
    Returns the summary written to summary.json.
    """
    seeds = replicate_seeds(seed, replicates)
    timeseries = run_replicates(scenario, seeds, engine=engine, progress=progress,
                                workers=workers, plays=plays)
    timeseries.insert(0, "scenario", scenario.name)
    final = final_rows(timeseries)
    summary = {
        "scenario": scenario.name,
        "seed": seed,
        "replicate_seeds": seeds,
        "replicates": replicates,
        "engine": engine,
        "years": scenario.years,
        "interval": {"level": LEVEL, "method": INTERVAL_METHOD},
        "final": {metric: {**interval(final[metric].to_numpy(), LEVEL), "level": LEVEL}
                  for metric in METRICS if metric != "gateway"},
        "gateway_labels": list(GATEWAYS),
        "gateway_reached": {name: float(np.mean(final["gateway"] >= level))
                            for level, name in enumerate(GATEWAYS)},
        "gateway_final": gateway_shares(final["gateway"].to_numpy()),
        "versions": versions(),
        "scenario_file": {**scenario_record(scenario, digest),
                          "parameters_sha256": parameters_digest(scenario)},
    }
    if plays:
        summary["plays"] = [play.as_record() for play in plays]
    out.mkdir(parents=True, exist_ok=True)
    record = provenance(seed=seed, scenarios=[scenario_provenance(scenario, digest)],
                        replicate_seeds=seeds, engine=engine, scenario=scenario.name,
                        command="ci-sim run")
    write_atomic(out / "timeseries.parquet", lambda p: write_parquet(timeseries, p, record))
    write_atomic(out / "summary.json", lambda p: p.write_text(json.dumps(summary, indent=2)))
    write_atomic(out / "outcome.png", lambda p: plot_trajectories(
        {scenario.name: timeseries}, p, title=f"{scenario.name}: {scenario.problem.type} problem, "
        f"{replicates} replicates"))
    return summary


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


def compare_scenarios(scenarios: Sequence[tuple[Scenario, str]], *, seed: int, replicates: int,
                      engine: str, out: Path, progress: Callable[[], None] | None = None,
                      workers: int | None = 1) -> pd.DataFrame:
    """Run every scenario on the same replicate seeds; write compare.csv and compare.png.

    Returns the table written to compare.csv: one row per scenario and metric with the mean
    and 95% interval of the final value (for the ordinal ``gateway``, the most common
    gateway instead), the interval's level, and the scenario's parameters' sha256.
    """
    seeds = replicate_seeds(seed, replicates)
    runs = {scenario.name: run_replicates(scenario, seeds, engine=engine, progress=progress,
                                          workers=workers)
            for scenario, _ in scenarios}
    rows = []
    for (scenario, digest), (name, timeseries) in zip(scenarios, runs.items()):
        final = final_rows(timeseries)
        for metric in METRICS:
            ordinal = metric == "gateway"  # levels, not amounts: no mean
            summary = ({"mean": np.nan, "low": np.nan, "high": np.nan} if ordinal
                       else interval(final[metric].to_numpy(), LEVEL))
            rows.append({"scenario": name, "metric": metric, **summary,
                         "level": np.nan if ordinal else LEVEL, "replicates": replicates,
                         "years": scenario.years,
                         "most_common": most_common_gateway(final[metric].to_numpy())
                         if ordinal else "",
                         "seed": seed, "problem": scenario.problem.type, "sha256": digest,
                         "parameters_sha256": parameters_digest(scenario),
                         "ci_sim": __version__})
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "compare.csv", lambda p: table.to_csv(p, index=False))
    problems = sorted({scenario.problem.type for scenario, _ in scenarios})
    write_atomic(out / "compare.png", lambda p: plot_trajectories(
        runs, p, title=f"{' / '.join(problems)} problem, {replicates} replicates, seed {seed}"))
    return table


def plot_trajectories(runs: dict[str, pd.DataFrame], path: Path, *, title: str) -> None:
    """Mean trajectories with 95% bands of outcome, alignment, trust and gateway, per scenario."""
    from ci_sim.studies.plotting import PALETTE, draw_band, finish, new_figure, save_png

    panels = (("outcome", "Population outcome (0-1)"), ("agenda_alignment", "Agenda alignment"),
              ("mean_trust", "Mean trust"), ("funding_gini", "Funding concentration (Gini)"))
    figure, axes = new_figure(11, 7.5, rows=2, columns=2, sharex=True)
    for (metric, label), axis in zip(panels, axes.flat):
        for colour, (name, timeseries) in zip(PALETTE, runs.items()):
            wide = timeseries.pivot(index="year", columns="replicate", values=metric)
            draw_band(axis, wide.index, wide.to_numpy().T, label=name, colour=colour)
        axis.set_title(label)
        axis.ticklabel_format(axis="y", useOffset=False)  # 0.3, not 1e-13+3e-1
        axis.grid(alpha=0.3)
    for axis in axes[1]:
        axis.set_xlabel("Year")
    axes[0, 0].legend(fontsize=9)
    replicates = min(run["replicate"].nunique() for run in runs.values())
    save_png(finish(figure, title + (" (mean and 95% interval)" if replicates >= 2 else ""),
                    fontsize=12), path)
