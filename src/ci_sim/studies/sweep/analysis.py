"""From saved runs to indices, convergence, scenario discovery and their plots.

Everything here reads ``runs.parquet`` and ``design.parquet`` and nothing else, so
``ci-sim analyze DIR`` reproduces it without running the model again.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
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
    #: Per box: parameter -> (quasi-p value, share of resamples that restrict it).
    significance: list[dict[str, tuple[float, float]]] = field(default_factory=list)
    #: Extra-trees feature scores of the discovery target: parameters and ``replicate``.
    feature_scores: dict[str, float] = field(default_factory=dict)


#: Resamples behind each restriction's resampling stability, and their share of the runs.
RESAMPLES = 20
RESAMPLE_FRACTION = 0.5
#: Quasi-p values above this are flagged (EMA Workbench's threshold).
QUASI_P_LIMIT = 0.05


def encoded(experiment: Experiment, runs: pd.DataFrame) -> np.ndarray:
    """The varied parameters as numbers, runs x parameters: a name or switch is the
    position of its value in the experiment's list."""
    columns = []
    for name, spec in experiment.varied.items():
        if spec.categorical:
            position = {repr(value): index for index, value in enumerate(spec.values)}
            columns.append([position[repr(value)] for value in runs[name].tolist()])
        else:
            columns.append(runs[name].to_numpy(dtype=float))
    return np.column_stack(columns).astype(float)


def success_of(experiment: Experiment, runs: pd.DataFrame) -> np.ndarray:
    discovery = experiment.discovery
    values = runs[discovery.output].to_numpy()
    return values >= discovery.at_least if discovery.at_least is not None \
        else values <= discovery.at_most


def feature_scores(experiment: Experiment, runs: pd.DataFrame, success: np.ndarray
                   ) -> dict[str, float]:
    """How much each parameter, and the replicate (which random stream a run drew), explains
    the discovery target: impurity-based importances of extra-trees (scikit-learn), as EMA
    Workbench's feature scoring, summing to 1.

    References:
        Geurts, Ernst & Wehenkel (2006), Extremely randomized trees, Mach. Learn. 63: 3-42.
    """
    from sklearn.ensemble import ExtraTreesClassifier

    if success.all() or not success.any():
        return {}
    features = np.column_stack([encoded(experiment, runs), runs["replicate"].to_numpy()])
    forest = ExtraTreesClassifier(n_estimators=100, min_samples_leaf=2,
                                  random_state=experiment.seed % 2**32, n_jobs=1)
    forest.fit(features, success)
    return dict(zip([*experiment.parameter_names, "replicate"],
                    map(float, forest.feature_importances_)))


def discover(experiment: Experiment, runs: pd.DataFrame) -> Analysis:
    """PRIM boxes with each restriction's quasi-p value and resampling stability, and the
    warnings a reader needs: nothing to discover, restrictions that are not significant or
    not stable, a target the replicate seed explains better than any parameter. Returned
    as an :class:`Analysis` holding only these."""
    from ci_sim.studies.sweep.prim import inside, quasi_p_values, resample_shares

    result = Analysis(indices=pd.DataFrame(), convergence=pd.DataFrame(), ranking={},
                      warnings=[])
    discovery = experiment.discovery
    success = success_of(experiment, runs)
    result.success_rate = float(success.mean())
    rule = (f">= {discovery.at_least:g}" if discovery.at_least is not None
            else f"<= {discovery.at_most:g}")
    if result.success_rate in (0.0, 1.0):
        result.warnings.append(f"discovery: {'every' if success.all() else 'no'} run has "
                               f"{discovery.output} {rule}, so there is nothing to "
                               f"discover; choose another threshold")
    X, names = encoded(experiment, runs), experiment.parameter_names
    options = dict(alpha=discovery.peel_alpha, min_support=discovery.min_support,
                   min_coverage=discovery.min_coverage)
    result.boxes = prim(X, success, names, boxes=discovery.boxes, **options)
    remaining = np.ones(len(success), dtype=bool)
    for number, box in enumerate(result.boxes, start=1):
        Xr, yr = X[remaining], success[remaining]
        quasi = quasi_p_values(Xr, yr, box)
        kept = resample_shares(Xr, yr, names, seed=experiment.seed + number,
                               resamples=RESAMPLES, fraction=RESAMPLE_FRACTION, **options)
        result.significance.append({name: (quasi[name], kept[name]) for name in quasi})
        weak = [f"{name} (quasi-p {quasi[name]:.3f}, in {kept[name]:.0%} of resamples)"
                for name in quasi if quasi[name] > QUASI_P_LIMIT or kept[name] < 0.5]
        if weak:
            result.warnings.append(f"discovery: box {number} restricts {', '.join(weak)}: "
                                   f"not significant (quasi-p above {QUASI_P_LIMIT:g}) or "
                                   f"not stable (kept in under half of the resamples); read "
                                   f"it as a hint, not a finding")
        indices = np.flatnonzero(remaining)
        remaining[indices[inside(Xr, box.lower, box.upper)]] = False
    result.feature_scores = feature_scores(experiment, runs, success)
    scores = result.feature_scores
    if scores and runs["replicate"].nunique() > 1:
        best = max(names, key=scores.get)
        if scores["replicate"] > scores[best]:
            result.warnings.append(
                f"discovery: the replicate seed explains '{discovery.output} {rule}' better "
                f"than any parameter (extra-trees feature score {scores['replicate']:.2f}, "
                f"best parameter {best} {scores[best]:.2f}); the boxes may describe chance, "
                f"so add replicates or discover on an output averaged over them")
    return result


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
    """Indices for every output, their convergence, and scenario discovery.

    Each output's indices and the discovery are independent and mostly numpy, so they run
    in threads that share the machine's cores; each is seeded on its own, so the result does
    not depend on which finishes first.
    """
    unit = unit_design(experiment, design)
    means = point_means(experiment, runs)
    sizes = convergence_sizes(experiment, len(unit))
    outputs = list(experiment.outputs)
    for output in outputs:
        if not np.all(np.isfinite(means[output].to_numpy())):
            raise ValueError(f"output {output} has missing values")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        found = None if experiment.discovery is None else pool.submit(discover, experiment, runs)
        per_output = list(pool.map(
            lambda output: output_indices(experiment, unit, sizes, output,
                                          means[output].to_numpy()), outputs))
    tables = [table for table, _, _ in per_output]
    convergence = [part for _, parts, _ in per_output for part in parts]
    indices = pd.concat(tables, ignore_index=True)
    indices["low"] = indices["value"] - indices["conf"]
    indices["high"] = indices["value"] + indices["conf"]
    result = Analysis(indices=indices,
                      convergence=pd.concat(convergence, ignore_index=True) if convergence
                      else pd.DataFrame(columns=["output", "points", "parameter", "other",
                                                 "index", "value", "conf"]),
                      ranking={output: ranking_of(experiment, table)["parameter"].tolist()
                               for output, table in zip(outputs, tables)},
                      warnings=[message for _, _, messages in per_output
                                for message in messages])
    if found is not None:
        discovered = found.result()
        result.boxes, result.success_rate = discovered.boxes, discovered.success_rate
        result.significance = discovered.significance
        result.feature_scores = discovered.feature_scores
        result.warnings += discovered.warnings
    return result


def output_indices(experiment: Experiment, unit: np.ndarray, sizes: list[int], output: str,
                   response: np.ndarray) -> tuple[pd.DataFrame, list[pd.DataFrame], list[str]]:
    """One output's indices on the whole design, its ranking index on each of the growing
    prefixes ``sizes``, and the warnings they call for."""
    table = analyze(experiment, unit, response)
    table.insert(0, "output", output)
    if np.allclose(response, response[0]):
        return table, [], [f"{output}: the same value at every sample point; its indices "
                           f"are meaningless"]
    messages = ranking_warnings(experiment, output, table)
    convergence, orders = [], []
    for size in sizes:
        # the whole design's indices are the table's (same points, same bootstrap seed)
        partial = table.drop(columns="output") if size == len(unit) else \
            analyze(experiment, unit[:size], response[:size])
        partial = partial[partial["index"] == RANKING_INDEX[experiment.method]]
        partial.insert(0, "points", size)
        partial.insert(0, "output", output)
        convergence.append(partial)
        orders.append(ranking_of(experiment, partial)["parameter"].head(TOP).tolist())
    if len(orders) >= 2 and orders[-1] != orders[-2]:
        messages.append(f"{output}: the top {TOP} changed between the last two sample "
                        f"sizes ({', '.join(orders[-2])} -> {', '.join(orders[-1])}); "
                        f"the ranking has not converged")
    return table, convergence, messages


def limit_text(experiment: Experiment, name: str, low: float, high: float,
               runs: pd.DataFrame) -> str:
    """A restriction in words: ``a >= 0.4``, ``0.2 <= b <= 0.7``, ``c in {x, y}``."""
    spec = experiment.varied[name]
    if spec.categorical:
        chosen = spec.values[int(round(low)):int(round(high)) + 1]
        return f"{name} in {{{', '.join(map(str, chosen))}}}"
    column = runs[name].to_numpy(dtype=float)
    narrowed_low, narrowed_high = low > column.min(), high < column.max()
    if narrowed_low and narrowed_high:
        return f"{low:.3g} <= {name} <= {high:.3g}"
    return f"{name} >= {low:.3g}" if narrowed_low else f"{name} <= {high:.3g}"


def boxes_table(experiment: Experiment, runs: pd.DataFrame, analysis: Analysis
                ) -> pd.DataFrame:
    """One row per box and restricted parameter: the limits, the restriction's quasi-p value
    and resampling stability, with the box's statistics."""
    rows = []
    names = experiment.parameter_names
    X = pd.DataFrame(encoded(experiment, runs), columns=names)
    low_end, high_end = X.min(), X.max()
    columns = ["box", "parameter", "role", "restriction", "low", "high", "sweep_low",
               "sweep_high", "quasi_p", "resampled", "coverage", "density", "support", "runs"]
    for number, box in enumerate(analysis.boxes, start=1):
        significance = analysis.significance[number - 1] if analysis.significance else {}
        stats = {"coverage": box.coverage, "density": box.density, "support": box.support,
                 "runs": box.points}
        for name, (low, high) in box.limits().items():
            quasi, kept = significance.get(name, (np.nan, np.nan))
            rows.append({"box": number, "parameter": name, "role": experiment.role(name),
                         "restriction": limit_text(experiment, name, low, high, runs),
                         "low": low if low > low_end[name] else np.nan,
                         "high": high if high < high_end[name] else np.nan,
                         "sweep_low": float(low_end[name]), "sweep_high": float(high_end[name]),
                         "quasi_p": quasi, "resampled": kept, **stats})
        if not box.restricted:
            rows.append({"box": number, "parameter": "", "role": "", "restriction": "",
                         **stats})
    return pd.DataFrame(rows, columns=columns)


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
    figure, axes = new_figure(16, 4.8, columns=3, width_ratios=[1, 1, 1.05])
    left, right, words = axes[0]
    for number, box in enumerate(analysis.boxes, start=1):
        coverage, density, _ = zip(*box.trajectory)
        left.plot(coverage, density, marker=".", lw=1, label=f"box {number} peeling")
        left.scatter([box.coverage], [box.density], s=80, marker="*", zorder=3,
                     label=f"box {number}: coverage {box.coverage:.2f}, "
                           f"density {box.density:.2f}")
    left.set_xlabel("coverage (share of successes in the box)")
    left.set_ylabel("density (share of runs in the box that succeed)")
    left.grid(alpha=0.3)
    if analysis.boxes:
        left.legend(fontsize=8)
    else:
        left.text(0.5, 0.5, "no box beats the base rate", ha="center", va="center",
                  transform=left.transAxes)
    success = success_of(experiment, runs)
    box = analysis.boxes[0] if analysis.boxes else None
    names = experiment.parameter_names
    X = pd.DataFrame(encoded(experiment, runs), columns=names)
    if box is not None and box.restricted:
        spans = {name: (box.upper[i] - box.lower[i]) / max(np.ptp(X[name]), 1e-12)
                 for i, name in enumerate(names) if name in box.restricted}
        shown = sorted(spans, key=spans.get)[:2]
    else:
        shown = []
    shown += [name for name in names if name not in shown][:2 - len(shown)]
    if len(shown) == 2:
        x_name, y_name = shown
        right.scatter(X[x_name], X[y_name], c=np.where(success, "#2ca02c", "#d3d3d3"),
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
    words.axis("off")
    lines = []
    for number, (box, significance) in enumerate(zip(analysis.boxes, analysis.significance),
                                                 start=1):
        lines.append(f"Box {number}: coverage {box.coverage:.0%}, density {box.density:.0%}")
        for name, (low, high) in box.limits().items():
            quasi, kept = significance[name]
            flag = "" if quasi <= QUASI_P_LIMIT and kept >= 0.5 else "  (weak)"
            lines.append(f"  {limit_text(experiment, name, low, high, runs)}")
            lines.append(f"      quasi-p {quasi:.3f}, in {kept:.0%} of resamples{flag}")
    scores = analysis.feature_scores
    if scores:
        top = sorted(scores, key=scores.get, reverse=True)[:4]
        lines += ["", "Feature scores (extra-trees):",
                  *(f"  {name}: {scores[name]:.2f}" for name in top)]
    words.text(0.0, 1.0, "\n".join(lines) or "no box", va="top", ha="left", family="monospace",
               fontsize=7.5, transform=words.transAxes)
    words.set_title(f"Each restriction: quasi-p value (EMA; small is significant)\nand "
                    f"share of {RESAMPLES} half-size resamples that keep it", fontsize=8.5)
    save_png(finish(figure, title), path)


def describe_box(box: Box, runs: pd.DataFrame, experiment: Experiment) -> str:
    """``a >= 0.4, 0.2 <= b <= 0.7`` for the restricted parameters of a box."""
    return ", ".join(limit_text(experiment, name, low, high, runs)
                     for name, (low, high) in box.limits().items()) or "(no restriction)"


def summary_record(experiment: Experiment, analysis: Analysis, runs: pd.DataFrame
                   ) -> dict[str, Any]:
    record: dict[str, Any] = {"ranking": analysis.ranking, "warnings": analysis.warnings}
    if experiment.discovery is not None:
        record["discovery"] = {
            "output": experiment.discovery.output, "at_least": experiment.discovery.at_least,
            "at_most": experiment.discovery.at_most, "success_rate": analysis.success_rate,
            "boxes": [{"rule": describe_box(box, runs, experiment), "coverage": box.coverage,
                       "density": box.density, "support": box.support, "runs": box.points,
                       "limits": box.limits(),
                       "quasi_p": {name: values[0] for name, values in significance.items()},
                       "resampled": {name: values[1] for name, values in significance.items()}}
                      for box, significance in zip(analysis.boxes, analysis.significance)],
            "feature_scores": analysis.feature_scores}
    return record
