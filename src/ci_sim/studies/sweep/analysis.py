"""From saved runs to indices, convergence, scenario discovery and their plots.

Everything here reads ``runs.parquet`` and ``design.parquet`` and nothing else, so
``ci-sim analyze DIR`` reproduces it without running the model again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from ci_sim.studies.sweep.design import RANKING_INDEX, analyze, convergence_sizes
from ci_sim.studies.sweep.experiment import Experiment
from ci_sim.studies.plotting import finish, new_figure, panels, save_png
from ci_sim.studies.sweep.prim import Box, prim

#: Parameters whose order the ranking check and the convergence check look at.
TOP = 3


@dataclass
class Analysis:
    """What :func:`analyze_runs` computed."""

    indices: pd.DataFrame
    convergence: pd.DataFrame
    ranking: dict[str, list[str]]
    warnings: list[str]
    boxes: list[Box] = field(default_factory=list)
    success_rate: float | None = None


def point_means(experiment: Experiment, runs: pd.DataFrame) -> pd.DataFrame:
    """Each output averaged over the replicates of each sample point, in sample order."""
    return runs.groupby("sample", sort=True)[list(experiment.outputs)].mean()


def unit_design(experiment: Experiment, design: pd.DataFrame) -> np.ndarray:
    return design[[f"q:{name}" for name in experiment.parameter_names]].to_numpy(dtype=float)


def ranking_of(experiment: Experiment, indices: pd.DataFrame) -> pd.DataFrame:
    """The ranking index of each parameter, largest first, with its interval."""
    ranked = indices[indices["index"] == RANKING_INDEX[experiment.method]]
    return ranked.sort_values("value", ascending=False, kind="stable")


def ranking_warnings(experiment: Experiment, output: str, indices: pd.DataFrame) -> list[str]:
    """Warn where the intervals of neighbours in the top of the ranking overlap (one
    message per output)."""
    ranked = ranking_of(experiment, indices)
    if ranked["conf"].isna().all():
        return []
    index = RANKING_INDEX[experiment.method]
    rows = ranked.head(TOP + 1).to_dict("records")
    ties = [f"{upper['parameter']} ({upper['value']:.3f} ± {upper['conf']:.3f}) vs "
            f"{lower['parameter']} ({lower['value']:.3f} ± {lower['conf']:.3f})"
            for upper, lower in zip(rows, rows[1:])
            if upper["value"] - upper["conf"] <= lower["value"] + lower["conf"]]
    if not ties:
        return []
    return [f"{output}: {index} intervals overlap, so these cannot be ranked: "
            f"{'; '.join(ties)}. More samples or replicates would narrow them."]


def analyze_runs(experiment: Experiment, design: pd.DataFrame, runs: pd.DataFrame
                 ) -> Analysis:
    """Indices for every output, their convergence, and scenario discovery."""
    unit = unit_design(experiment, design)
    means = point_means(experiment, runs)
    tables, convergence, ranking, messages = [], [], {}, []
    sizes = convergence_sizes(experiment, len(unit))
    for output in experiment.outputs:
        response = means[output].to_numpy()
        if not np.all(np.isfinite(response)):
            raise ValueError(f"output {output} has missing values")
        table = analyze(experiment, unit, response)
        table.insert(0, "output", output)
        tables.append(table)
        ranking[output] = ranking_of(experiment, table)["parameter"].tolist()
        if np.allclose(response, response[0]):
            messages.append(f"{output}: the same value at every sample point; its indices "
                            f"are meaningless")
            continue
        messages += ranking_warnings(experiment, output, table)
        orders = []
        for size in sizes:
            partial = analyze(experiment, unit[:size], response[:size])
            partial = partial[partial["index"] == RANKING_INDEX[experiment.method]]
            partial.insert(0, "points", size)
            partial.insert(0, "output", output)
            convergence.append(partial)
            orders.append(ranking_of(experiment, partial)["parameter"].head(TOP).tolist())
        if len(orders) >= 2 and orders[-1] != orders[-2]:
            messages.append(f"{output}: the top {TOP} changed between the last two sample "
                            f"sizes ({', '.join(orders[-2])} -> {', '.join(orders[-1])}); "
                            f"the ranking has not converged")
    indices = pd.concat(tables, ignore_index=True)
    indices["low"] = indices["value"] - indices["conf"]
    indices["high"] = indices["value"] + indices["conf"]
    result = Analysis(indices=indices,
                      convergence=pd.concat(convergence, ignore_index=True) if convergence
                      else pd.DataFrame(columns=["output", "points", "parameter", "other",
                                                 "index", "value", "conf"]),
                      ranking=ranking, warnings=messages)
    if experiment.discovery is not None:
        discovery = experiment.discovery
        values = runs[discovery.output].to_numpy()
        success = values >= discovery.at_least if discovery.at_least is not None \
            else values <= discovery.at_most
        result.success_rate = float(success.mean())
        if result.success_rate in (0.0, 1.0):
            rule = (f">= {discovery.at_least:g}" if discovery.at_least is not None
                    else f"<= {discovery.at_most:g}")
            result.warnings.append(f"discovery: {'every' if success.all() else 'no'} run has "
                                   f"{discovery.output} {rule}, so there is nothing to "
                                   f"discover; choose another threshold")
        result.boxes = prim(runs[experiment.parameter_names].to_numpy(dtype=float), success,
                            experiment.parameter_names, alpha=discovery.peel_alpha,
                            min_support=discovery.min_support,
                            min_coverage=discovery.min_coverage, boxes=discovery.boxes)
    return result


def boxes_table(experiment: Experiment, runs: pd.DataFrame, boxes: list[Box]) -> pd.DataFrame:
    """One row per box and restricted parameter: the limits, with the box's statistics."""
    rows = []
    names = experiment.parameter_names
    low_end, high_end = runs[names].min(), runs[names].max()
    for number, box in enumerate(boxes, start=1):
        for name, (low, high) in box.limits().items():
            rows.append({"box": number, "parameter": name,
                         "low": low if low > low_end[name] else np.nan,
                         "high": high if high < high_end[name] else np.nan,
                         "sweep_low": float(low_end[name]), "sweep_high": float(high_end[name]),
                         "coverage": box.coverage, "density": box.density,
                         "support": box.support, "runs": box.points})
        if not box.restricted:
            rows.append({"box": number, "parameter": "", "low": np.nan, "high": np.nan,
                         "sweep_low": np.nan, "sweep_high": np.nan, "coverage": box.coverage,
                         "density": box.density, "support": box.support, "runs": box.points})
    return pd.DataFrame(rows, columns=["box", "parameter", "low", "high", "sweep_low",
                                       "sweep_high", "coverage", "density", "support", "runs"])


# ---------------------------------------------------------------------------- plots
#: Most parameters a panel of indices.png shows (the most influential; indices.csv has all),
#: so the figure stays readable whatever the number of parameters.
SHOWN_PARAMETERS = 20


def plot_indices(experiment: Experiment, analysis: Analysis, path: Path, *, title: str) -> None:
    """Ranked horizontal bars per output: the ranking index with its 95% interval (and S1
    beside ST for Sobol and FAST), for the :data:`SHOWN_PARAMETERS` highest-ranked
    parameters."""
    outputs = list(experiment.outputs)
    names = experiment.parameter_names
    shown = min(len(names), SHOWN_PARAMETERS)
    height = max(2.8, 0.32 * shown + 1.4)
    figure, axes = panels(len(outputs), width=6.4, height=height)
    main = RANKING_INDEX[experiment.method]
    for output, axis in zip(outputs, axes):
        table = analysis.indices[analysis.indices["output"] == output]
        ranked = ranking_of(experiment, table).head(shown).iloc[::-1]
        rows = np.arange(len(ranked))
        has_first = main == "ST"
        width = 0.4 if has_first else 0.7
        axis.barh(rows + (width / 2 if has_first else 0), ranked["value"], height=width,
                  xerr=ranked["conf"].fillna(0), color="#1f77b4", label=main, capsize=2)
        if has_first:
            first = table[table["index"] == "S1"].set_index("parameter").loc[ranked["parameter"]]
            axis.barh(rows - width / 2, first["value"], height=width,
                      xerr=first["conf"].fillna(0), color="#ff7f0e", label="S1", capsize=2)
        axis.set_yticks(rows, ranked["parameter"], fontsize=8)
        axis.set_title(output if shown == len(names) else
                       f"{output}: top {shown} of {len(names)} parameters")
        axis.axvline(0, color="black", lw=0.6)
        axis.grid(axis="x", alpha=0.3)
        axis.set_xlabel({"ST": "Sobol index", "mu_star": "Morris mu* (per unit quantile)",
                         "S1": "first-order index"}[main])
        axis.legend(fontsize=8, loc="lower right")
    save_png(finish(figure, title), path)


def plot_convergence(experiment: Experiment, analysis: Analysis, path: Path, *, title: str
                     ) -> None:
    """The ranking index of the top parameters against the number of sample points."""
    outputs = list(experiment.outputs)
    figure, axes = panels(len(outputs), width=5.4, height=3.8)
    for output, axis in zip(outputs, axes):
        table = analysis.convergence[analysis.convergence["output"] == output]
        for name in analysis.ranking[output][:5]:
            line = table[table["parameter"] == name].sort_values("points")
            axis.errorbar(line["points"], line["value"], yerr=line["conf"].fillna(0),
                          marker="o", capsize=3, label=name)
        axis.set_xscale("log", base=2)
        axis.set_xlabel("sample points")
        axis.set_ylabel(RANKING_INDEX[experiment.method])
        axis.set_title(output)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    save_png(finish(figure, title), path)


def plot_discovery(experiment: Experiment, runs: pd.DataFrame, analysis: Analysis,
                   path: Path, *, title: str) -> None:
    """Left: PRIM's peeling trajectory (coverage against density). Right: the first box's
    ranges on the two parameters it narrows most, over the runs coloured by success."""
    discovery = experiment.discovery
    figure, axes = new_figure(11, 4.6, columns=2)
    left, right = axes[0]
    for number, box in enumerate(analysis.boxes, start=1):
        coverage, density, _ = zip(*box.trajectory)
        left.plot(coverage, density, marker=".", lw=1, label=f"box {number} peeling")
        left.scatter([box.coverage], [box.density], s=80, marker="*", zorder=3,
                     label=f"box {number}: coverage {box.coverage:.2f}, "
                           f"density {box.density:.2f}")
    left.set_xlabel("coverage (share of successes in the box)")
    left.set_ylabel("density (share of runs in the box that succeed)")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    values = runs[discovery.output].to_numpy()
    success = values >= discovery.at_least if discovery.at_least is not None \
        else values <= discovery.at_most
    box = analysis.boxes[0] if analysis.boxes else None
    names = experiment.parameter_names
    if box is not None and box.restricted:
        spans = {name: (box.upper[i] - box.lower[i]) / max(np.ptp(runs[name]), 1e-12)
                 for i, name in enumerate(names) if name in box.restricted}
        shown = sorted(spans, key=spans.get)[:2]
    else:
        shown = []
    shown += [name for name in names if name not in shown][:2 - len(shown)]
    if len(shown) == 2:
        x_name, y_name = shown
        right.scatter(runs[x_name], runs[y_name], c=np.where(success, "#2ca02c", "#d3d3d3"),
                      s=6, alpha=0.7)
        if box is not None:
            i, j = names.index(x_name), names.index(y_name)
            right.add_patch(Rectangle((box.lower[i], box.lower[j]),
                                          box.upper[i] - box.lower[i],
                                          box.upper[j] - box.lower[j], fill=False,
                                          edgecolor="black", lw=2))
        right.set_xlabel(x_name)
        right.set_ylabel(y_name)
    rule = (f">= {discovery.at_least:g}" if discovery.at_least is not None
            else f"<= {discovery.at_most:g}")
    right.set_title(f"success: {discovery.output} {rule} (green)", fontsize=9)
    save_png(finish(figure, title), path)


def describe_box(box: Box, runs: pd.DataFrame) -> str:
    """``a >= 0.4, 0.2 <= b <= 0.7`` for the restricted parameters of a box."""
    parts = []
    for name, (low, high) in box.limits().items():
        narrowed_low, narrowed_high = low > runs[name].min(), high < runs[name].max()
        if narrowed_low and narrowed_high:
            parts.append(f"{low:.3g} <= {name} <= {high:.3g}")
        elif narrowed_low:
            parts.append(f"{name} >= {low:.3g}")
        else:
            parts.append(f"{name} <= {high:.3g}")
    return ", ".join(parts) or "(no restriction)"


def summary_record(experiment: Experiment, analysis: Analysis, runs: pd.DataFrame
                   ) -> dict[str, Any]:
    record: dict[str, Any] = {"ranking": analysis.ranking, "warnings": analysis.warnings}
    if experiment.discovery is not None:
        record["discovery"] = {
            "output": experiment.discovery.output, "at_least": experiment.discovery.at_least,
            "at_most": experiment.discovery.at_most, "success_rate": analysis.success_rate,
            "boxes": [{"rule": describe_box(box, runs), "coverage": box.coverage,
                       "density": box.density, "support": box.support, "runs": box.points,
                       "limits": box.limits()} for box in analysis.boxes]}
    return record
