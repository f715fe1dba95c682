"""The stress test's figures and its one-file HTML report for program officers.

The first screen is what a program officer reads in two minutes: the range of good
backbone shares (not a point), what that costs in money the model paid, the robustness
measures side by side (expected outcome, downside, minimax regret, chance of reaching the
target) and which uncertainty most changes the decision. Then the tables (columns that are
the same in every row are said once above the table, not repeated), the figures
(PNG, base64-embedded so the file opens anywhere without a network), the definition of
every unit, and how the numbers were made.
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ci_sim import __version__
from ci_sim.model import GATEWAYS, STEPS_PER_YEAR
from ci_sim.studies.plotting import PALETTE, new_figure, percent_axis, png_bytes
from ci_sim.studies.stress.study import (ALL_SHOCKS, NEAR_BEST, TARGET_FRACTION,
                                         best_by_criterion, good_range)

if TYPE_CHECKING:
    from ci_sim.studies.stress.study import StressResult

TARGET_PERCENT = f"{TARGET_FRACTION:.0%}"
GOOD = "#0072B2"
OTHER = "#B0B0B0"

#: Figures in the order the report shows them: file stem -> caption.
FIGURES = {
    "robustness": "The four robustness measures against the backbone's share of the pool, "
                  "every situation equally likely. The blue span is the range of good shares "
                  "(expected outcome within one point of the best).",
    "risk_return": "Risk and return of each share: expected final outcome (up is better) "
                   "against the downside, the outcome of the worst 5% of runs (right is "
                   "better). Blue: shares in the good range; the line joins the shares no "
                   "other share beats on both.",
    "outcome_vs_share": "Final outcome against the backbone's share, one panel per shock "
                        "(its sampled worlds pooled): mean (line) and the band holding 90% of "
                        "the runs; the dashed grey line repeats the first panel's mean.",
    "cut_trajectories": "Outcome and agenda alignment over time at the best share, with and "
                        "without the shocks that cut the backbone (dashed lines: when): mean "
                        "and 90% band of the runs.",
    "gateway_timing": "Chance of reaching the Systems Change gateway, and the median time "
                      "until the outcome first improves by the threshold, by share.",
}


def percent(share: float) -> str:
    return f"{100 * share:.0f}%" if abs(100 * share - round(100 * share)) < 1e-9 else \
        f"{100 * share:.1f}%"


def points(value: float) -> str:
    """An outcome difference in points (hundredths of the 0..1 outcome index)."""
    return f"{100 * value:+.1f} points"


def money(value: float) -> str:
    return f"{value:,.0f}"


# ---------------------------------------------------------------------------- helpers
def reference_index(result: StressResult) -> int:
    """Index of the shock everything is compared with: ``none`` if given, else the first."""
    labels = [shock.label for shock in result.plan.shocks]
    return labels.index("none") if "none" in labels else 0


def curve(result: StressResult) -> pd.DataFrame:
    """The robustness table on the share curve (other levers as chosen), by share."""
    rows = result.robust.iloc[result.curve_settings()]
    return rows.reset_index(drop=True)


def best_index(result: StressResult) -> int:
    """Position on the share curve of the best expected outcome."""
    return int(curve(result)["expected_outcome"].idxmax())


def by_shock(result: StressResult) -> pd.DataFrame:
    """Per shock and share (sampled worlds pooled, equally likely)."""
    columns = ["outcome_mean", "outcome_p05", "outcome_p95", "target_probability",
               "systems_change_probability", "years_to_improve_median",
               "points_per_1000_money", "backbone_money_per_month"]
    keys = ["shock", "backbone_share", *result.plan.other_levers]
    table = result.table.groupby(keys, sort=False)[columns].mean().reset_index()
    # percentiles over the pooled runs rather than the mean of per-world percentiles
    for label in table["shock"].unique():
        worlds = [w for w, world in enumerate(result.plan.worlds) if world.shock.label == label]
        for s in range(len(result.plan.levers)):
            runs = result.final[worlds, s].ravel()
            where = (table["shock"] == label) & np.isclose(table["backbone_share"],
                                                           result.plan.shares[s])
            for name, value in result.plan.levers[s].items():
                if name in table:
                    where &= table[name] == value
            table.loc[where, "outcome_p05"] = np.percentile(runs, 5)
            table.loc[where, "outcome_p95"] = np.percentile(runs, 95)
    return table


def chosen_rows(result: StressResult, table: pd.DataFrame) -> pd.DataFrame:
    for name, value in result.chosen.items():
        table = table[table[name] == value]
    return table


def subtitle(result: StressResult) -> str:
    checked, scenario = result.plan, result.plan.scenario
    worlds = (f"{len(checked.shocks)} shocks x {checked.experiment.samples} sampled worlds"
              if checked.uncertainties else f"{len(checked.shocks)} situations")
    drawn = "" if checked.draws is None else \
        f", parameters drawn from {checked.draws.posterior.file}"
    return (f"{scenario.name}, {scenario.problem.type} problem, pool "
            f"{scenario.pool():,.0f} money units/month, {scenario.years:g} years, {worlds}, "
            f"{result.replicates} replicates each (seed {checked.experiment.seed}{drawn})")


def colours(result: StressResult) -> list[str]:
    reference = reference_index(result)
    others = iter(PALETTE[:-1])
    return ["black" if i == reference else next(others, "grey")
            for i in range(len(result.plan.shocks))]


# ---------------------------------------------------------------------------- figures
def render_figures(result: StressResult) -> dict[str, bytes]:
    """Every figure of :data:`FIGURES` as PNG bytes (seed and version in the PNG metadata)."""
    figures = {"robustness": plot_robustness(result), "risk_return": plot_risk_return(result),
               "outcome_vs_share": plot_outcome_vs_share(result),
               "cut_trajectories": plot_cut_trajectories(result),
               "gateway_timing": plot_gateway_timing(result)}
    experiment = result.plan.experiment
    metadata = {"Title": "ci-sim stress test", "Software": f"ci-sim {__version__}",
                "Description": f"scenario {result.plan.scenario.name}, seed {experiment.seed}, "
                               f"{result.replicates} replicates"
                               + ("" if result.plan.draws is None else
                                  f", posterior {result.plan.draws.posterior.file} (sha256 "
                                  f"{result.plan.draws.posterior.sha256})")}
    return {name: png_bytes(figure, dpi=100, metadata=metadata)
            for name, figure in figures.items()}


def shade_good(axis, result: StressResult) -> None:
    low, high = good_range(result)
    axis.axvspan(low, high, color=GOOD, alpha=0.12, lw=0, label="good shares")


def plot_robustness(result: StressResult):
    rows = curve(result)
    shares = rows["backbone_share"]
    figure, axes = new_figure(10, 6.2, rows=2, columns=2, sharex=True)
    panels = (("expected_outcome", "Expected final outcome (0-1)"),
              ("outcome_p05", "Downside: worst 5% of runs (0-1)"),
              ("max_regret", "Largest regret (outcome points lost)"),
              ("target_probability", f"Chance of reaching {result.target:.2f}"))
    for axis, (column, label) in zip(axes.flat, panels):
        values = rows[column] * (100 if column == "max_regret" else 1)
        shade_good(axis, result)
        axis.plot(shares, values, color="black", marker="o", ms=3, lw=1.8)
        axis.set_title(label, fontsize=10)
        axis.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="lower right")
    for axis in axes[1]:
        axis.set_xlabel("Backbone share of the funding pool")
        percent_axis(axis)
    percent_axis(axes[1, 1], "y")
    figure.suptitle(f"Robustness by backbone share\n{subtitle(result)}", fontsize=9)
    figure.tight_layout()
    return figure


def pareto(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats on both x and y (larger is better)."""
    keep = [i for i in range(len(x))
            if not any((x[j] >= x[i] and y[j] >= y[i]) and (x[j] > x[i] or y[j] > y[i])
                       for j in range(len(x)))]
    return np.array(sorted(keep, key=lambda i: x[i]))


def plot_risk_return(result: StressResult):
    """Left: every share, joined in order of share, the ends and the good range labelled.
    Right: a close-up of the good shares, each labelled."""
    rows = curve(result)
    x, y = rows["outcome_p05"].to_numpy(), rows["expected_outcome"].to_numpy()
    shares = rows["backbone_share"].to_numpy()
    good = rows["good"].to_numpy()
    best = int(np.argmax(y))
    figure, axes = new_figure(11, 5.0, columns=2)
    whole, close = axes[0]
    for axis in (whole, close):
        axis.plot(x, y, color="0.75", lw=1, zorder=1)
        axis.scatter(x[~good], y[~good], s=40, color=OTHER, zorder=3, label="other shares")
        axis.scatter(x[good], y[good], s=55, color=GOOD, zorder=4, label="good shares")
        axis.scatter([x[best]], [y[best]], s=160, facecolors="none", edgecolors="black",
                     zorder=5, label="best expected outcome")
        axis.grid(alpha=0.3)
        axis.set_xlabel("Downside: worst 5% of runs (0-1; right is better)")
    labelled = sorted({0, len(shares) - 1, best, *np.flatnonzero(good)[[0, -1]]})
    for i in labelled:
        whole.annotate(percent(shares[i]), (x[i], y[i]), textcoords="offset points",
                       xytext=(6, -12 if i % 2 else 5), fontsize=8)
    inside = np.flatnonzero(good)
    pad_x = max(np.ptp(x[inside]), 1e-3) * 0.25
    pad_y = max(np.ptp(y[inside]), 1e-3) * 0.25
    close.set_xlim(x[inside].min() - pad_x, x[inside].max() + pad_x)
    close.set_ylim(y[inside].min() - pad_y, y[inside].max() + pad_y)
    for rank, i in enumerate(sorted(inside, key=lambda i: x[i])):
        close.annotate(percent(shares[i]), (x[i], y[i]), textcoords="offset points",
                       xytext=(6, 6 if rank % 2 == 0 else -13), fontsize=9)
    whole.set_ylabel("Expected final outcome (0-1; up is better)")
    whole.set_title("Every share", fontsize=10)
    close.set_title("Close-up of the good shares", fontsize=10)
    whole.legend(fontsize=8, loc="lower right")
    figure.suptitle(f"Risk and return of each backbone share\n{subtitle(result)}", fontsize=9)
    figure.tight_layout()
    return figure


def plot_outcome_vs_share(result: StressResult):
    table = chosen_rows(result, by_shock(result))
    shocks = result.plan.shocks
    reference_i = reference_index(result)
    order = [reference_i, *[i for i in range(len(shocks)) if i != reference_i]]
    columns = 1 if len(order) == 1 else 2
    rows_n = -(-len(order) // columns)
    figure, axes = new_figure(10, 2.6 + 2.4 * rows_n, rows=rows_n, columns=columns,
                              sharex=True, sharey=True)
    palette = colours(result)
    base = table[table["shock"] == shocks[reference_i].label]
    for axis, i in zip(axes.flat, order):
        rows = table[table["shock"] == shocks[i].label]
        if i != reference_i:
            axis.plot(base["backbone_share"], base["outcome_mean"], color="0.55", lw=1.2,
                      ls="--", label=f"{shocks[reference_i].label} (mean)")
        else:
            shade_good(axis, result)
        axis.fill_between(rows["backbone_share"], rows["outcome_p05"], rows["outcome_p95"],
                          color=palette[i], alpha=0.18, label="90% of runs")
        axis.plot(rows["backbone_share"], rows["outcome_mean"], color=palette[i], lw=2,
                  marker="o", ms=3, label="mean")
        axis.set_title(shocks[i].description, fontsize=9)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="lower right")
    for axis in axes.flat[len(order):]:
        axis.set_visible(False)
    for axis in axes[-1]:
        axis.set_xlabel("Backbone share of the funding pool")
        percent_axis(axis)
        axis.xaxis.set_tick_params(labelbottom=True)
    for axis in axes[:, 0]:
        axis.set_ylabel("Final outcome (0-1)")
    figure.suptitle(f"Outcome by backbone share\n{subtitle(result)}", fontsize=10)
    figure.tight_layout()
    return figure


def trajectory_shocks(result: StressResult) -> list[int]:
    """The reference shock and every shock that cuts the backbone (all shocks if none does)."""
    reference = reference_index(result)
    cuts = [i for i, shock in enumerate(result.plan.shocks) if shock.cuts_backbone]
    if not cuts:
        return list(range(len(result.plan.shocks)))
    return [reference, *[i for i in cuts if i != reference]]


def plot_cut_trajectories(result: StressResult):
    setting = int(result.curve_settings()[best_index(result)])
    share = result.plan.shares[setting]
    years = np.arange(result.outcome.shape[-1]) / STEPS_PER_YEAR
    figure, axes = new_figure(11, 4.5, columns=2, sharex=True)
    axes = axes[0]
    palette = colours(result)
    for i in trajectory_shocks(result):
        shock = result.plan.shocks[i]
        worlds = [w for w, world in enumerate(result.plan.worlds) if world.shock == shock]
        for axis, array in zip(axes, (result.outcome, result.agenda_alignment)):
            values = array[worlds, setting].reshape(-1, array.shape[-1])
            axis.plot(years, values.mean(axis=0), color=palette[i], lw=2, label=shock.label)
            axis.fill_between(years, np.percentile(values, 5, axis=0),
                              np.percentile(values, 95, axis=0), color=palette[i], alpha=0.12)
            for year in shock.years:
                axis.axvline(year, color=palette[i], ls="--", lw=1)
    axes[0].set_ylabel("Population outcome (0-1)")
    axes[1].set_ylabel("Agenda alignment (0-1)")
    for axis in axes:
        axis.set_xlabel("Year")
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    figure.suptitle(f"Trajectories at a backbone share of {percent(share)}\n{subtitle(result)}",
                    fontsize=10)
    figure.tight_layout()
    return figure


def plot_gateway_timing(result: StressResult):
    table = chosen_rows(result, by_shock(result))
    figure, axes = new_figure(11, 4.5, columns=2, sharex=True)
    axes = axes[0]
    horizon = result.plan.scenario.years
    for shock, colour in zip(result.plan.shocks, colours(result)):
        rows = table[table["shock"] == shock.label]
        axes[0].plot(rows["backbone_share"], rows["systems_change_probability"], color=colour,
                     marker="o", ms=3, label=shock.label)
        timing = rows["years_to_improve_median"].where(rows["years_to_improve_median"] <= horizon)
        axes[1].plot(rows["backbone_share"], timing, color=colour, marker="o", ms=3,
                     label=shock.label)
    axes[0].set_ylabel(f"Probability of reaching {GATEWAYS[3]}")
    axes[0].set_ylim(-0.03, 1.03)
    threshold = result.plan.experiment.improvement
    axes[1].set_ylabel(f"Median years until the outcome is up {100 * threshold:g} points")
    for axis in axes:
        axis.set_xlabel("Backbone share of the funding pool")
        percent_axis(axis)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    figure.suptitle(f"Gateway and timing by backbone share\n{subtitle(result)}", fontsize=10)
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------------------- HTML
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 62rem;
       margin: 1.5rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
.sub { color: #555; margin-top: 0; font-size: 0.92rem; }
.recommendation { border-left: 6px solid #0072B2; background: #f0f6fb; padding: 0.7rem 1.2rem;
                  margin: 1rem 0; }
.recommendation .headline { font-size: 1.35rem; font-weight: 600; margin: 0.2rem 0 0.5rem; }
.recommendation p { margin: 0.35rem 0; }
.warning { border-left: 6px solid #D55E00; background: #fdf0f0; padding: 0.5rem 1rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.good td { background: #eef5fb; }
.constant { color: #555; font-size: 0.9rem; margin: 0.2rem 0; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.92rem; }
.method, dl { color: #333; font-size: 0.92rem; }
dt { font-weight: 600; margin-top: 0.4rem; }
code { font-size: 0.88rem; }
"""


def render_html(result: StressResult, images: dict[str, bytes]) -> str:
    """The whole report as one self-contained HTML document."""
    e = html.escape
    checked = result.plan
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Backbone funding stress test: {e(checked.scenario.name)}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>How much of the funding pool should go to the backbone?</h1>",
        f'<p class="sub">{e(subtitle(result))}; ci-sim {e(__version__)}</p>',
        recommendation(result),
        robustness_table(result),
        sensitivity_section(result),
        shock_summary(result),
        "<h2>Figures</h2>",
    ]
    for name, caption in FIGURES.items():
        if name in images:
            data = base64.b64encode(images[name]).decode("ascii")
            parts.append(f'<figure><img alt="{e(name)}" src="data:image/png;base64,{data}">'
                         f"<figcaption>{e(caption)}</figcaption></figure>")
    parts += [optima_table(result), definitions(result), method(result), "</body></html>"]
    return "\n".join(parts)


def recommendation(result: StressResult) -> str:
    """The first screen: the range of good shares, its money, the measures, what matters."""
    e = html.escape
    checked = result.plan
    rows = curve(result)
    low, high = good_range(result)
    optimum = result.optima.get(ALL_SHOCKS) or next(iter(result.optima.values()))
    in_range = rows[(rows["backbone_share"] >= low - 1e-12) & (rows["backbone_share"] <= high + 1e-12)]
    spend_low, spend_high = in_range["backbone_money_per_month"].min(), \
        in_range["backbone_money_per_month"].max()
    situations = "situation" if len(checked.worlds) == 1 else \
        f"{len(checked.worlds)} situations (every shock in every sampled world, equally likely)"
    chosen = result.chosen
    levers = "".join(f" with {e(name)} = {value}" for name, value in chosen.items())
    lines = [
        '<section class="recommendation">',
        f'<p class="headline">Put between {percent(low)} and {percent(high)} of the pool into '
        f"the backbone{levers}.</p>",
        f"<p>Every share in that range comes within {100 * NEAR_BEST:g} point (0.01 on the "
        f"0&ndash;1 outcome index) of the best expected final outcome over the {situations}. "
        f"The top of the curve is flat: the best share, about {percent(optimum.share)} "
        f"here, could be anywhere from {percent(optimum.low)} to {percent(optimum.high)} "
        f"(no other share beats these by more than chance allows; a set that holds the "
        f"best share tried with 90% confidence), and "
        f"{percent(optimum.sufficient_share)} already achieves {TARGET_PERCENT} of the best "
        f"gain.</p>",
        parametric(result),
        f"<p>In money: across that range the model paid the backbone "
        f"{money(spend_low)} to {money(spend_high)} money units a month (read as thousands "
        f"of dollars) of a pool of {money(checked.scenario.pool())}; this is what the "
        f"backbone received in the runs, after any cuts, not share times pool.</p>",
        measures_table(result),
    ]
    if not result.sensitivity.empty:
        top = result.sensitivity.iloc[0]
        if top["beyond_chance"]:
            lines.append(f"<p>What most changes the best share: <b>"
                         f"{e(str(top['uncertainty']))}</b> (best share "
                         f"{e(str(top['best_shares']))}; keeping the overall best costs up to "
                         f"{100 * top['regret']:.1f} points there).</p>")
        else:
            lines.append(f"<p>None of the uncertainties tested "
                         f"({e(', '.join(map(str, result.sensitivity['uncertainty'])))}) moves "
                         f"the best share beyond what the replicates can tell from chance: "
                         f"whichever way each goes, the share best over all situations stays "
                         f"among the shares that may be the best.</p>")
    if not optimum.interior:
        lines.append(
            '<p class="warning">The shares that may be the best reach an end of the range '
            f"tried ({percent(checked.share_values[0])} to "
            f"{percent(checked.share_values[-1])}): the best may lie beyond it, or the runs "
            "cannot tell the shares apart. Widen the shares (<code>--shares</code>) or add "
            "replicates (<code>--replicates</code>) before relying on it.</p>")
    lines.append("</section>")
    return "\n".join(lines)


def parametric(result: StressResult) -> str:
    """With a posterior: that the intervals include parametric uncertainty, and from where."""
    draws = result.plan.draws
    if draws is None:
        return ""
    e = html.escape
    posterior = draws.posterior
    kept = (f" ({e(', '.join(draws.kept))} kept the value the stress test sets)"
            if draws.kept else "")
    distinct = len(set(draws.indices(result.replicates)))
    return (f"<p>These intervals include parametric uncertainty, not only the model's "
            f"randomness: each of the {result.replicates} replicates ran on its own seed and "
            f"on its own draw of {e(', '.join(draws.applied))} from the calibration's "
            f"posterior in <code>{e(posterior.file)}</code> ({posterior.particles} particles, "
            f"sha256 <code>{e(posterior.sha256[:16])}</code>&hellip;; {distinct} distinct "
            f"particles drawn){kept}, the same draw at every share and in every situation, "
            f"so the comparisons stay paired.</p>")


def measures_table(result: StressResult) -> str:
    """The share each robustness criterion picks, side by side, with its measures."""
    robust = result.robust
    picks = best_by_criterion(robust)
    low, high = good_range(result)
    lines = ["<table><thead><tr><th>if the funder wants</th><th>best share</th>"
             "<th>in the good range?</th><th>expected outcome</th><th>downside (worst 5%)</th>"
             f"<th>largest regret</th><th>chance of reaching {result.target:.2f}</th>"
             "</tr></thead><tbody>"]
    for criterion, index in picks.items():
        row = robust.loc[index]
        share = row["backbone_share"]
        inside = "yes" if low - 1e-12 <= share <= high + 1e-12 else "no"
        lines.append(f"<tr><td>the best {html.escape(criterion)}</td><td>{percent(share)}</td>"
                     f"<td>{inside}</td><td>{row['expected_outcome']:.3f}</td>"
                     f"<td>{row['outcome_p05']:.3f}</td>"
                     f"<td>{100 * row['max_regret']:.1f} points</td>"
                     f"<td>{row['target_probability']:.0%}</td></tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def constant_columns(frame: pd.DataFrame, names: dict[str, str]) -> tuple[list[str], str]:
    """The columns of ``frame`` (among ``names``) that vary, and a line naming those that
    do not, with their one value."""
    varying, same = [], []
    for column, label in names.items():
        values = frame[column]
        if values.nunique(dropna=False) > 1:
            varying.append(column)
        else:
            same.append(f"{label}: {format_value(column, values.iloc[0])}")
    line = f'<p class="constant">The same in every row: {"; ".join(same)}.</p>' if same else ""
    return varying, line


def format_value(column: str, value) -> str:
    if column in ("backbone_share",):
        return percent(value)
    if column in ("target_probability", "systems_change_probability"):
        return f"{value:.0%}"
    if column == "max_regret":
        return f"{100 * value:.1f} points"
    if column == "backbone_money_per_month":
        return money(value)
    if column == "years_to_improve_median":
        return "not reached" if not np.isfinite(value) else f"{value:.1f}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def table_html(frame: pd.DataFrame, names: dict[str, str], *, good: pd.Series | None = None
               ) -> str:
    varying, line = constant_columns(frame, names)
    lines = [line, "<table><thead><tr>" + "".join(f"<th>{html.escape(names[c])}</th>"
                                                  for c in varying) + "</tr></thead><tbody>"]
    for position, (_, row) in enumerate(frame.iterrows()):
        marked = ' class="good"' if good is not None and bool(good.iloc[position]) else ""
        lines.append(f"<tr{marked}>" + "".join(f"<td>{format_value(c, row[c])}</td>"
                                               for c in varying) + "</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def robustness_table(result: StressResult) -> str:
    names = {"backbone_share": "backbone share",
             **{name: name for name in result.plan.other_levers},
             "backbone_money_per_month": "paid to the backbone (money units/month)",
             "expected_outcome": "expected outcome",
             "outcome_p05": "downside (worst 5%)", "max_regret": "largest regret",
             "target_probability": f"chance of reaching {result.target:.2f}"}
    return "\n".join(["<h2>Every share, every measure</h2>",
                      "<p>Shaded rows are the good shares. Every situation is equally "
                      "likely; units are defined below.</p>",
                      table_html(result.robust, names, good=result.robust["good"])])


def sensitivity_section(result: StressResult) -> str:
    if result.sensitivity.empty:
        return ""
    e = html.escape
    lines = ["<h2>Which uncertainty changes the decision most</h2>",
             "<p>The situations are split by each uncertainty (the lower and upper half of its "
             "range; the shocks one by one) and the best share found in each part, with the "
             "shares that may be the best there (90% confidence). A shift means the right "
             "share depends on what the funder believes about it only if some part rules out "
             "the share best over all situations (<i>beyond chance</i>).</p>",
             "<table><thead><tr><th>uncertainty</th><th>best share in each part</th>"
             "<th>shift</th><th>beyond chance</th><th>cost of keeping the overall best</th>"
             "</tr></thead><tbody>"]
    for _, row in result.sensitivity.iterrows():
        lines.append(f"<tr><td>{e(str(row['uncertainty']))}</td><td>{e(row['best_shares'])}"
                     f"</td><td>{100 * row['shift']:.0f} share points</td>"
                     f"<td>{'yes' if row['beyond_chance'] else 'no'}</td>"
                     f"<td>{100 * row['regret']:.1f} outcome points</td></tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def shock_summary(result: StressResult) -> str:
    """What each shock does at the best share, in a table without repeated columns."""
    rows = curve(result)
    share = float(rows["backbone_share"].iloc[best_index(result)])
    table = chosen_rows(result, by_shock(result))
    table = table[np.isclose(table["backbone_share"], share)].reset_index(drop=True)
    words = {shock.label: shock.description for shock in result.plan.shocks}
    table.insert(0, "situation", table["shock"].map(words))
    threshold = result.plan.experiment.improvement
    names = {"situation": "situation", "outcome_mean": "expected outcome",
             "outcome_p05": "downside (worst 5%)",
             "target_probability": f"chance of reaching {result.target:.2f}",
             "systems_change_probability": "reaches Systems Change",
             "years_to_improve_median": f"median years to +{100 * threshold:g} points",
             "backbone_money_per_month": "paid to the backbone (money units/month)",
             "points_per_1000_money": "outcome points per 1,000 money units"}
    horizon = result.plan.scenario.years
    table["years_to_improve_median"] = table["years_to_improve_median"].where(
        table["years_to_improve_median"] <= horizon, np.inf)
    return "\n".join([f"<h2>What the shocks do at a backbone share of {percent(share)}</h2>",
                      f"<p>{percent(share)} has the best expected outcome of the shares "
                      f"tried; sampled worlds are pooled for each shock.</p>",
                      table_html(table, names)])


def optima_table(result: StressResult) -> str:
    e = html.escape
    lines = ["<h2>Best share under each shock</h2>",
             "<table><thead><tr><th>situation</th><th>good shares</th><th>best share</th>"
             "<th>may be the best (90%)</th>"
             f"<th>smallest share with {TARGET_PERCENT} of the gain</th>"
             "<th>expected outcome</th></tr></thead><tbody>"]
    words = {shock.label: shock.description for shock in result.plan.shocks}
    for label, optimum in result.optima.items():
        lines.append(f"<tr><td>{e(words.get(label, label))}</td>"
                     f"<td>{percent(optimum.near_low)} to {percent(optimum.near_high)}</td>"
                     f"<td>{percent(optimum.share)}</td>"
                     f"<td>{percent(optimum.low)} to {percent(optimum.high)}</td>"
                     f"<td>{percent(optimum.sufficient_share)}</td>"
                     f"<td>{optimum.outcome:.3f}</td></tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def definitions(result: StressResult) -> str:
    threshold = result.plan.experiment.improvement
    target = result.plan.experiment.target
    target_words = (f"{target:.2f}, set by the funder" if target is not None else
                    f"{result.target:.2f}: the starting outcome ({result.start:.2f}) plus "
                    f"{100 * threshold:g} points")
    return "\n".join([
        "<h2>What the numbers mean</h2><dl>",
        "<dt>Outcome</dt><dd>The population outcome index, 0 to 1, weighted by the real "
        "needs; final outcome is its value at the end of the run. A point is 0.01 of it.</dd>",
        "<dt>Money unit</dt><dd>The model's unit of money; read it as thousands of dollars. "
        "The pool is what funders give a month; <i>paid to the backbone</i> is what the model "
        "actually paid it a month (its <code>backbone_spend</code>), averaged over the run "
        "and the runs, so cuts and shocks are included.</dd>",
        "<dt>Expected outcome</dt><dd>The mean final outcome over every run, each situation "
        "equally likely.</dd>",
        "<dt>Downside (worst 5%)</dt><dd>The 5th percentile of the final outcome over every "
        "run: 1 run in 20 ends below it.</dd>",
        "<dt>Largest regret</dt><dd>In each situation, how far a share's expected outcome "
        "falls below the best share's there; the largest over the situations, in points. "
        "Minimax regret picks the share whose largest regret is smallest.</dd>",
        f"<dt>Chance of reaching the target</dt><dd>The share of runs whose final outcome "
        f"reaches the target, {target_words} (satisficing).</dd>",
        f"<dt>Good shares</dt><dd>The shares whose expected outcome is within "
        f"{100 * NEAR_BEST:g} point of the best.</dd>",
        f"<dt>Years to +{100 * threshold:g} points</dt><dd>Median time until the outcome "
        "first rises that much above its start; a run that never does counts as one month "
        "past the horizon, and the median is shown as not reached when it is.</dd>",
        "<dt>Situation</dt><dd>A named shock in one sampled world (a setting of the "
        "uncertainties).</dd></dl>",
    ])


def method(result: StressResult) -> str:
    e = html.escape
    checked, experiment = result.plan, result.plan.experiment
    settings = {shock.label: ", ".join(f"{key} = {value:g}"
                                       for key, value in shock.overrides.items()) or "no change"
                for shock in checked.shocks}
    shocks = "".join(f"<li>{e(shock.description)} (<code>{e(shock.label)}</code>): "
                     f"{e(settings[shock.label])}</li>" for shock in checked.shocks)
    uncertainties = "".join(
        f"<li><code>{e(name)}</code>: {e(str(values))}</li>"
        for name, values in experiment.uncertainties.items())
    constants = ", ".join(f"{key} = {value}" for key, value in experiment.set.items())
    lines = [
        '<h2>How these numbers were made</h2><div class="method">',
        f"<p>The agent-based model (ci-sim {e(__version__)}) was run for every backbone share "
        f"from {percent(checked.share_values[0])} to {percent(checked.share_values[-1])} "
        f"({len(checked.share_values)} shares"
        + (f", crossed with {', '.join(map(e, checked.other_levers))}" if checked.other_levers
           else "")
        + f") in each of {len(checked.worlds)} situations, {result.replicates} times each "
        f"with the same random seeds (base seed {experiment.seed}), "
        f"{checked.scenario.years:g} simulated years. The best share maximizes the mean final "
        f"outcome over all situations (refined between grid points by a parabola). The shares "
        f"that may be the best are those no other share beats, in paired differences over "
        f"the replicates, by more than a Bonferroni-style allowance: a set holding the best "
        f"share tried with 90% confidence (Nelson, Swann, Goldsman &amp; Song 2001). The "
        f"smallest share with {TARGET_PERCENT} of the gain has the 5th to 95th percentile "
        f"over {experiment.bootstrap} bootstrap resamples of the replicate runs as its "
        f"interval.</p>",
        f"<p>Shocks:</p><ul>{shocks}</ul>",
    ]
    if checked.draws is not None:
        draws = checked.draws
        lines.append(
            f"<p>Parametric uncertainty: replicate <i>r</i> ran on a parameter set drawn by "
            f"weight from the posterior <code>{e(draws.posterior.file)}</code> (sha256 "
            f"<code>{e(draws.posterior.sha256)}</code>, {draws.posterior.particles} "
            f"particles), from a random stream derived from the base seed and <i>r</i>, the "
            f"same at every share and in every situation: "
            f"<code>{e(', '.join(draws.applied))}</code>"
            + (f"; <code>{e(', '.join(draws.kept))}</code> kept the value set here"
               if draws.kept else "")
            + ". Replicates are compared and resampled whole, seed and parameter set "
              "together, so the intervals above cover both. The particle each replicate "
              "drew is in <code>stress.json</code> (<code>posterior.draws</code>).</p>")
    if uncertainties:
        lines.append(f"<p>Uncertainties, sampled into {experiment.samples} worlds by a Latin "
                     f"hypercube ([low, high] is uniform; a list is equally likely values):"
                     f"</p><ul>{uncertainties}</ul>")
    lines.append(
        f"<p>Scenario <code>{e(checked.scenario.name)}</code> (sha256 "
        f"<code>{e(checked.digest[:16])}</code>…)"
        + (f", constants <code>{e(constants)}</code>" if constants else "")
        + f", engine {e(experiment.engine)}. The full parameters, seeds and library versions "
        f"are in <code>stress.json</code>; every share and situation is in "
        f"<code>stress.csv</code>, the measures by share in <code>robustness.csv</code>.</p>"
        "</div>")
    return "\n".join(lines)
