"""What `ci-sim run` and `ci-sim compare` compute and write: tables, summaries, plots.

Every output records the seed, the package and library versions, and each scenario's full
resolved parameters with their sha256 (and the sha256 of the scenario file); Parquet files
describe themselves through :mod:`ci_sim.parquet`. The commands write into the staging folder of a :class:`ci_sim.folders.OutputFolder`, so a
run's files are published together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ci_sim import __version__
from ci_sim.folders import write_atomic
from ci_sim.model import GATEWAYS, METRICS
from ci_sim.model.choices import Play
from ci_sim.model.params import Scenario
from ci_sim.model.scenarios import scenario_record
from ci_sim.parquet import (UNITS, parameters_digest, provenance, scenario_provenance,
                            write_parquet)
from ci_sim.simulate import replicate_seeds, run_replicates, versions
from ci_sim.studies.stats import interval

if TYPE_CHECKING:
    from ci_sim.studies.posterior import Draws

__all__ = ["interval", "versions"]  # kept here for notebooks and scripts

#: Metrics shown in printed summaries, in order.
SUMMARY_METRICS = ("outcome", "indicators_improving", "agenda_alignment", "mean_trust",
                   "duplication", "funding_gini", "backbone_spend", "gateway")

#: Confidence level of every interval ci-sim reports, and how it is computed.
LEVEL = 0.95
INTERVAL_METHOD = "two-sided Student t interval of the mean over replicates"
#: ... with ``--posterior``: each replicate has its own seed and its own parameter draw.
POSTERIOR_INTERVAL_METHOD = (INTERVAL_METHOD + ", each replicate on its own seed and its own "
                             "parameter set drawn from the posterior (parametric uncertainty "
                             "included)")

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


def final_rows(timeseries: pd.DataFrame) -> pd.DataFrame:
    """The last step of every replicate."""
    return timeseries[timeseries["step"] == timeseries["step"].max()]


def per_replicate(scenario: Scenario, replicates: int, draws: Draws | None
                  ) -> Scenario | list[Scenario]:
    """The scenario of every replicate: ``scenario``, or with each replicate's draw."""
    if draws is None:
        return scenario
    return [draws.apply(scenario, replicate) for replicate in range(replicates)]


def add_draws(timeseries: pd.DataFrame, draws: Draws | None) -> pd.DataFrame:
    """The ``posterior_draw`` column after ``seed``: the particle each replicate ran on."""
    if draws is not None:
        from ci_sim.studies.posterior import DRAW_COLUMN

        indices = {replicate: draws.index(replicate)
                   for replicate in timeseries["replicate"].unique()}
        timeseries.insert(timeseries.columns.get_loc("seed") + 1, DRAW_COLUMN,
                          timeseries["replicate"].map(indices).astype("int64"))
    return timeseries


def run_scenario(scenario: Scenario, digest: str, *, seed: int, replicates: int, engine: str,
                 out: Path, progress: Callable[[], None] | None = None,
                 workers: int | None = 1, plays: Sequence[Play] = (),
                 draws: Draws | None = None) -> dict[str, Any]:
    """Run ``replicates`` replicates and write timeseries.parquet, summary.json, outcome.png.

    ``plays``: players' choices of a workshop session, replayed in every replicate.
    ``draws``: parameter sets drawn from a posterior (:mod:`ci_sim.studies.posterior`),
    replicate ``r`` on draw ``r``; recorded in every file.
    Returns the summary written to summary.json.
    """
    seeds = replicate_seeds(seed, replicates)
    timeseries = run_replicates(per_replicate(scenario, replicates, draws), seeds,
                                engine=engine, progress=progress, workers=workers, plays=plays)
    timeseries = add_draws(timeseries, draws)
    timeseries.insert(0, "scenario", scenario.name)
    final = final_rows(timeseries)
    summary = {
        "scenario": scenario.name,
        "seed": seed,
        "replicate_seeds": seeds,
        "replicates": replicates,
        "engine": engine,
        "years": scenario.years,
        "interval": {"level": LEVEL, "method": INTERVAL_METHOD if draws is None
                     else POSTERIOR_INTERVAL_METHOD},
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
    extra = {}
    if draws is not None:
        summary["posterior"] = extra["posterior"] = draws.record(replicates)
    out.mkdir(parents=True, exist_ok=True)
    record = provenance(seed=seed, scenarios=[scenario_provenance(scenario, digest)],
                        replicate_seeds=seeds, engine=engine, scenario=scenario.name,
                        command="ci-sim run", **extra)
    write_atomic(out / "timeseries.parquet", lambda p: write_parquet(timeseries, p, record))
    write_atomic(out / "summary.json", lambda p: p.write_text(json.dumps(summary, indent=2)))
    write_atomic(out / "outcome.png", lambda p: plot_trajectories(
        {scenario.name: timeseries}, p, title=f"{scenario.name}: {scenario.problem.type} problem, "
        f"{replicates} replicates{posterior_words(draws)}"))
    return summary


def posterior_words(draws: Draws | None) -> str:
    """``, parameters from FILE`` for a title, or nothing."""
    return "" if draws is None else f", parameters drawn from {draws.posterior.file}"


def compare_scenarios(scenarios: Sequence[tuple[Scenario, str]], *, seed: int, replicates: int,
                      engine: str, out: Path, progress: Callable[[], None] | None = None,
                      workers: int | None = 1, draws: Sequence[Draws] | None = None
                      ) -> pd.DataFrame:
    """Run every scenario on the same replicate seeds; write compare.csv and compare.png.

    ``draws``: one per scenario, parameter sets drawn from one posterior with the same base
    seed, so replicate ``r`` of every scenario runs on the same particle (what differs is
    what each scenario sets explicitly, which keeps its value).

    Returns the table written to compare.csv: one row per scenario and metric with the mean
    and 95% interval of the final value (for the ordinal ``gateway``, the most common
    gateway instead), the interval's level, and the scenario's parameters' sha256 (and the
    posterior's file name and sha256).
    """
    seeds = replicate_seeds(seed, replicates)
    each = list(draws) if draws is not None else [None] * len(scenarios)
    runs = {scenario.name: run_replicates(per_replicate(scenario, replicates, drawn), seeds,
                                          engine=engine, progress=progress, workers=workers)
            for (scenario, _), drawn in zip(scenarios, each)}
    rows = []
    for (scenario, digest), (name, timeseries), drawn in zip(scenarios, runs.items(), each):
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
                         "ci_sim": __version__, **({} if drawn is None else drawn.columns())})
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "compare.csv", lambda p: table.to_csv(p, index=False))
    problems = sorted({scenario.problem.type for scenario, _ in scenarios})
    write_atomic(out / "compare.png", lambda p: plot_trajectories(
        runs, p, title=f"{' / '.join(problems)} problem, {replicates} replicates, seed {seed}"
                       f"{posterior_words(each[0])}"))
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
