"""The stress test's figures and its one-file HTML report for program officers.

The report leads with the recommendation and its uncertainty, then what each shock does,
then the figures (PNG, base64-embedded so the file opens anywhere without a network), then
how the numbers were made (seeds, replicates, versions, scenario hash).
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

import numpy as np

from ci_sim import __version__
from ci_sim.model import GATEWAYS, STEPS_PER_YEAR
from ci_sim.studies.plotting import PALETTE, new_figure, percent_axis, png_bytes
from ci_sim.studies.stress.study import ALL_SHOCKS, NEAR_BEST, TARGET_FRACTION

if TYPE_CHECKING:
    from ci_sim.studies.stress.study import Optimum, StressResult

TARGET_PERCENT = f"{TARGET_FRACTION:.0%}"

#: Figures in the order the report shows them: file stem -> caption.
FIGURES = {
    "outcome_vs_share": "Final outcome against the backbone's share of the pool, one panel "
                        "per situation: mean (line) and the band holding 90% of the runs; the "
                        "dashed grey line repeats the first panel's mean. In the first panel "
                        "the grey span is the 90% interval of the best share and the dotted "
                        "line the smallest share with 90% of the best improvement.",
    "cut_trajectories": "Outcome and agenda alignment over time at the recommended share, "
                        "with the backbone cut in different years (dashed lines): mean and "
                        "90% band of the runs.",
    "risk_return": "Risk and return of each share: the expected outcome against the downside "
                   "(the outcome of the worst 5% of runs). Up and to the right is better; "
                   "labels are backbone shares, stars the recommended share.",
    "gateway_timing": "Chance of reaching the Systems Change gateway, and the median time "
                      "until the outcome first improves by the threshold, by share.",
}


def points(value: float) -> str:
    """An outcome difference in points (hundredths of the 0..1 outcome index)."""
    return f"{100 * value:+.1f} points"


def percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def reference_index(result: StressResult) -> int:
    """Index of the shock everything is compared with: ``none`` if given, else the first."""
    labels = [shock.label for shock in result.plan.shocks]
    return labels.index("none") if "none" in labels else 0


def nearest_share_index(result: StressResult, share: float) -> int:
    return int(np.argmin(np.abs(result.plan.shares - share)))


def colours(result: StressResult) -> list:
    reference = reference_index(result)
    chosen, others = [], iter(PALETTE[:-1])  # the last is black, kept for the reference
    for i in range(len(result.plan.shocks)):
        chosen.append("black" if i == reference else next(others, "grey"))
    return chosen


def render_figures(result: StressResult) -> dict[str, bytes]:
    """Every figure of :data:`FIGURES` as PNG bytes (seed and version in the PNG metadata)."""
    figures = {
        "outcome_vs_share": plot_outcome_vs_share(result),
        "cut_trajectories": plot_cut_trajectories(result),
        "risk_return": plot_risk_return(result),
        "gateway_timing": plot_gateway_timing(result),
    }
    experiment = result.plan.experiment
    metadata = {"Title": "ci-sim stress test", "Software": f"ci-sim {__version__}",
                "Description": f"scenario {result.plan.scenario.name}, seed {experiment.seed}, "
                               f"{experiment.replicates} replicates"}
    images = {}
    for name, figure in figures.items():
        images[name] = png_bytes(figure, dpi=100, metadata=metadata)
    return images


def subtitle(result: StressResult) -> str:
    scenario, experiment = result.plan.scenario, result.plan.experiment
    return (f"{scenario.name}, {scenario.problem.type} problem, pool "
            f"{scenario.pool():g}/month, {scenario.years:g} years, "
            f"{experiment.replicates} replicates (seed {experiment.seed})")


def plot_outcome_vs_share(result: StressResult):
    """One panel per shock (mean and 90% band), each with the reference shock's mean for
    comparison; the first panel marks the best share, its interval and the sufficient share."""
    table, shares, shocks = result.table, result.plan.shares, result.plan.shocks
    reference_i = reference_index(result)
    reference = shocks[reference_i].label
    optimum = result.optima[reference]
    order = [reference_i, *[i for i in range(len(shocks)) if i != reference_i]]
    columns = 1 if len(order) == 1 else 2
    rows_n = -(-len(order) // columns)
    figure, axes = new_figure(10, 2.6 + 2.4 * rows_n, rows=rows_n, columns=columns,
                              sharex=True, sharey=True)
    palette = colours(result)
    base = table[table["shock"] == reference]
    for axis, i in zip(axes.flat, order):
        rows = table[table["shock"] == shocks[i].label]
        if i != reference_i:
            axis.plot(shares, base["outcome_mean"], color="0.55", lw=1.2, ls="--",
                      label=f"{reference} (mean)")
        else:
            axis.axvspan(optimum.low, optimum.high, color="0.85", zorder=0,
                         label="best share, 90% interval")
            axis.axvline(optimum.share, color="black", lw=1)
            axis.axvline(optimum.sufficient_share, color="black", lw=1, ls=":",
                         label=f"smallest share with {TARGET_PERCENT} of the best gain")
        axis.fill_between(shares, rows["outcome_p05"], rows["outcome_p95"], color=palette[i],
                          alpha=0.18, label="90% of runs")
        axis.plot(shares, rows["outcome_mean"], color=palette[i], lw=2, marker="o", ms=3,
                  label="mean")
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
    reference = result.plan.shocks[reference_index(result)].label
    j = nearest_share_index(result, result.optima[reference].share)
    share = result.plan.shares[j]
    months = result.outcome.shape[-1]
    years = np.arange(months) / STEPS_PER_YEAR
    figure, axes = new_figure(11, 4.5, columns=2, sharex=True)
    axes = axes[0]
    palette = colours(result)
    for i in trajectory_shocks(result):
        shock = result.plan.shocks[i]
        for axis, values in zip(axes, (result.outcome[i, j], result.agenda_alignment[i, j])):
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


def plot_risk_return(result: StressResult):
    """Expected outcome against downside for every share; the reference shock's ends and
    recommended share are labelled, the recommended share is starred on every shock's line."""
    table, shares = result.table, result.plan.shares
    figure, axes = new_figure(10, 5.5)
    axis = axes[0, 0]
    reference_i = reference_index(result)
    chosen = nearest_share_index(result, result.optima[result.plan.shocks[reference_i].label].share)
    for i, (shock, colour) in enumerate(zip(result.plan.shocks, colours(result))):
        rows = table[table["shock"] == shock.label]
        axis.plot(rows["outcome_p05"], rows["outcome_mean"], color=colour, marker="o", ms=3,
                  lw=1.5, label=shock.label)
        axis.plot(rows["outcome_p05"].iloc[chosen], rows["outcome_mean"].iloc[chosen],
                  marker="*", ms=13, color=colour, markeredgecolor="black")
        if i == reference_i:
            for j in sorted({0, chosen, len(shares) - 1}):
                axis.annotate(percent(shares[j]), (rows["outcome_p05"].iloc[j],
                                                   rows["outcome_mean"].iloc[j]),
                              textcoords="offset points", xytext=(5, -11), fontsize=7)
    axis.plot([], [], marker="*", ms=11, ls="", color="white", markeredgecolor="black",
              label=f"share {percent(shares[chosen])}")
    axis.set_xlabel("Downside: outcome of the worst 5% of runs")
    axis.set_ylabel("Expected (mean) final outcome")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axis.set_title(f"Risk and return by backbone share\n{subtitle(result)}", fontsize=10)
    figure.tight_layout()
    return figure


def plot_gateway_timing(result: StressResult):
    table, shares = result.table, result.plan.shares
    figure, axes = new_figure(11, 4.5, columns=2, sharex=True)
    axes = axes[0]
    for shock, colour in zip(result.plan.shocks, colours(result)):
        rows = table[table["shock"] == shock.label]
        axes[0].plot(shares, rows["systems_change_probability"], color=colour, marker="o", ms=3,
                     label=shock.label)
        timing = rows["years_to_improve_median"].where(
            rows["years_to_improve_median"] <= result.plan.scenario.years)
        axes[1].plot(shares, timing, color=colour, marker="o", ms=3, label=shock.label)
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
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
.sub { color: #555; margin-top: 0; }
.recommendation { border-left: 6px solid #1f77b4; background: #f0f6fb; padding: 0.8rem 1.2rem;
                  margin: 1.2rem 0; }
.recommendation .headline { font-size: 1.35rem; font-weight: 600; margin: 0.2rem 0 0.6rem; }
.warning { border-left: 6px solid #d62728; background: #fdf0f0; padding: 0.6rem 1.2rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.92rem; }
.method { color: #444; font-size: 0.9rem; }
code { font-size: 0.88rem; }
"""


def render_html(result: StressResult, images: dict[str, bytes]) -> str:
    """The whole report as one self-contained HTML document."""
    e = html.escape
    checked, experiment = result.plan, result.plan.experiment
    reference = checked.shocks[reference_index(result)].label
    optimum = result.optima[reference]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Backbone funding stress test: {e(checked.scenario.name)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>How much of the funding pool should go to the backbone?</h1>",
        f'<p class="sub">{e(subtitle(result))}; ci-sim {e(__version__)}</p>',
        recommendation(result, reference, optimum),
        shock_summary(result, reference, optimum),
        "<h2>Figures</h2>",
    ]
    for name, caption in FIGURES.items():
        if name in images:
            data = base64.b64encode(images[name]).decode("ascii")
            parts.append(f'<figure><img alt="{e(name)}" src="data:image/png;base64,{data}">'
                         f"<figcaption>{e(caption)}</figcaption></figure>")
    parts += [optima_table(result), method(result), "</body></html>"]
    return "\n".join(parts)


def recommendation(result: StressResult, reference: str, optimum: Optimum) -> str:
    e = html.escape
    checked = result.plan
    pool = checked.scenario.pool()
    rows = result.table[result.table["shock"] == reference].reset_index(drop=True)
    j = nearest_share_index(result, optimum.share)
    without = rows.iloc[0]
    best = rows.iloc[j]
    shock_words = "with no shock" if reference == "none" else f"under the shock {reference}"
    lines = [
        '<section class="recommendation">',
        f'<p class="headline">Put about {percent(optimum.share)} of the pool into the backbone '
        f"(90% interval {percent(optimum.low)} to {percent(optimum.high)}).</p>",
        f"<p>That is about {optimum.share * pool:,.0f} of the {pool:,.0f} money units a month. "
        f"{e(shock_words.capitalize())}, the expected final outcome at "
        f"{percent(checked.shares[j])} is {best['outcome_mean']:.2f} on a 0-1 index that starts "
        f"at {result.start:.2f} (90% of runs between {best['outcome_p05']:.2f} and "
        f"{best['outcome_p95']:.2f}); with a backbone share of {percent(checked.shares[0])} it "
        f"is {without['outcome_mean']:.2f}. Runs reach the Systems Change gateway with "
        f"probability {best['systems_change_probability']:.0%}.</p>",
        f"<p>The curve is flat near the top: every share tried from "
        f"{percent(optimum.near_low)} to {percent(optimum.near_high)} comes within "
        f"{100 * NEAR_BEST:g} point of the best expected outcome.</p>",
        f"<p>The smallest share that achieves {TARGET_PERCENT} of the best improvement is "
        f"{percent(optimum.sufficient_share)} (90% interval {percent(optimum.sufficient_low)} "
        f"to {percent(optimum.sufficient_high)}): below it outcomes fall off quickly, above "
        f"the best share money is taken from programs for little gain.</p>",
    ]
    if not optimum.interior:
        lines.append(
            '<p class="warning">The interval of the best share touches the edge of the range '
            f"tried ({percent(checked.shares[0])} to {percent(checked.shares[-1])}); "
            "widen the shares (<code>--shares</code>) or add replicates before relying on "
            "it.</p>")
    if len(checked.shocks) > 1:
        robust = result.optima[ALL_SHOCKS]
        lines.append(f"<p>If each of the {len(checked.shocks)} situations tested is equally "
                     f"likely, the best share is {percent(robust.share)} (90% interval "
                     f"{percent(robust.low)} to {percent(robust.high)}).</p>")
    lines.append(f"<p>Intervals come from resampling the {len(checked.seeds)} replicate runs "
                 f"({optimum.resamples} bootstrap resamples); every share and shock used the "
                 f"same seeds.</p></section>")
    return "\n".join(lines)



def shock_summary(result: StressResult, reference: str, optimum: Optimum) -> str:
    """What each shock does at the recommended share, in words and a table."""
    e = html.escape
    checked = result.plan
    j = nearest_share_index(result, optimum.share)
    share = checked.shares[j]
    at_share = result.table[result.table["backbone_share"] == share].set_index("shock")
    base = at_share.loc[reference]
    reference_words = next(shock.description for shock in checked.shocks
                           if shock.label == reference)
    lines = [f"<h2>What the shocks do at a backbone share of {percent(share)}</h2>", "<ul>"]
    for shock in checked.shocks:
        if shock.label == reference:
            continue
        row = at_share.loc[shock.label]
        lines.append(f"<li><b>{e(shock.description.capitalize())}</b> "
                     f"(<code>{e(shock.label)}</code>): expected outcome "
                     f"{row['outcome_mean']:.2f}, "
                     f"{points(row['outcome_mean'] - base['outcome_mean'])}"
                     f" against {e(reference_words)}; in the worst 5% of runs "
                     f"{row['outcome_p05']:.2f}; Systems Change reached in "
                     f"{row['systems_change_probability']:.0%} of runs.</li>")
    lines.append("</ul>")
    cuts = sorted((shock.overrides["backbone.cut_year"], shock.label)
                  for shock in checked.shocks if set(shock.overrides) == {"backbone.cut_year"})
    if len(cuts) >= 2:
        (early, early_label), (late, late_label) = cuts[0], cuts[-1]
        difference = at_share.loc[late_label, "outcome_mean"] - at_share.loc[early_label,
                                                                              "outcome_mean"]
        i_early = [s.label for s in checked.shocks].index(early_label)
        i_late = [s.label for s in checked.shocks].index(late_label)
        paired = result.final[i_late, j] - result.final[i_early, j]
        lines.append(f"<p>Cutting the backbone in year {early:g} instead of year {late:g} costs "
                     f"{100 * difference:.1f} points of final outcome on average (the early cut "
                     f"does worse in {np.mean(paired > 0):.0%} of the paired runs).</p>")
    threshold = checked.experiment.improvement
    lines += ["<table><thead><tr><th>situation</th><th>expected outcome</th>"
              "<th>90% of runs</th><th>downside (5%)</th><th>Systems Change</th>"
              f"<th>years to +{100 * threshold:g} points</th>"
              "<th>outcome points per 1,000 money units</th>"
              "</tr></thead><tbody>"]
    for shock in checked.shocks:
        row = at_share.loc[shock.label]
        timing = row["years_to_improve_median"]
        timing_text = f"{timing:.1f}" if timing <= checked.scenario.years else "not reached"
        lines.append(f"<tr><td>{e(shock.description)}</td><td>{row['outcome_mean']:.3f}</td>"
                     f"<td>{row['outcome_p05']:.3f} to {row['outcome_p95']:.3f}</td>"
                     f"<td>{row['outcome_p05']:.3f}</td>"
                     f"<td>{row['systems_change_probability']:.0%}</td><td>{timing_text}</td>"
                     f"<td>{row['points_per_1000_money']:.2f}</td></tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def optima_table(result: StressResult) -> str:
    e = html.escape
    lines = ["<h2>Best share under each situation</h2>",
             "<table><thead><tr><th>situation</th><th>best share</th><th>90% interval</th>"
             f"<th>within {100 * NEAR_BEST:g} point of the best</th>"
             f"<th>smallest share with {TARGET_PERCENT} of the gain</th><th>90% interval</th>"
             "<th>expected outcome</th></tr></thead><tbody>"]
    words = {shock.label: shock.description for shock in result.plan.shocks}
    for label, optimum in result.optima.items():
        lines.append(f"<tr><td>{e(words.get(label, label))}</td><td>{percent(optimum.share)}</td>"
                     f"<td>{percent(optimum.low)} to {percent(optimum.high)}</td>"
                     f"<td>{percent(optimum.near_low)} to {percent(optimum.near_high)}</td>"
                     f"<td>{percent(optimum.sufficient_share)}</td>"
                     f"<td>{percent(optimum.sufficient_low)} to "
                     f"{percent(optimum.sufficient_high)}</td><td>{optimum.outcome:.3f}</td></tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def method(result: StressResult) -> str:
    e = html.escape
    checked, experiment = result.plan, result.plan.experiment
    settings = {shock.label: ", ".join(f"{key} = {value:g}"
                                       for key, value in shock.overrides.items()) or "no change"
                for shock in checked.shocks}
    shocks = "".join(f"<li>{e(shock.description)} (<code>{e(shock.label)}</code>): "
                     f"{e(settings[shock.label])}</li>" for shock in checked.shocks)
    return "\n".join([
        '<h2>How these numbers were made</h2><div class="method">',
        f"<p>The agent-based model (ci-sim {e(__version__)}) was run for every backbone share "
        f"from {percent(checked.shares[0])} to {percent(checked.shares[-1])} "
        f"({len(checked.shares)} shares) under each situation below, {len(checked.seeds)} times "
        f"each with the same random seeds (base seed {experiment.seed}), "
        f"{checked.scenario.years:g} simulated years. The outcome is the population outcome "
        f"index (0-1) weighted by the real needs; a point is 0.01 of it. The downside is the 5th percentile of the runs' "
        f"final outcomes; points per 1,000 money is the outcome gained per 1,000 money units "
        f"given over the whole run. The best share maximizes the mean final outcome (refined "
        f"between grid points by a parabola); its interval is the 5th to 95th percentile of "
        f"the best share over bootstrap resamples of the replicate runs.</p>",
        f"<ul>{shocks}</ul>",
        f"<p>Scenario <code>{e(checked.scenario.name)}</code> (sha256 "
        f"<code>{e(checked.digest[:16])}</code>…), overrides "
        f"<code>{e(str(experiment.set))}</code>, engine {e(experiment.engine)}. The full "
        f"parameters, seeds and library versions are in <code>stress.json</code>; every "
        f"share and situation is in <code>stress.csv</code>.</p></div>",
    ])
