"""The calibration's figures and its one-file HTML report.

The report opens with what a modeller needs first: which patterns the posterior reproduces
on seeds it was not fitted on, and which it does not; then the posterior summary (median,
50% and 90% intervals, the default of ``params.py`` and where it falls), the marginal and
pairwise posterior plots, identifiability (posterior / prior interval width, and which
patterns move each parameter), the posterior predictive check of every pattern, the
acceptance history, and how the numbers were made. Figures are PNG, embedded as base64, so
the file opens anywhere without a network; they are drawn through
:mod:`ci_sim.studies.plotting`.
"""

from __future__ import annotations

import base64
import html
import math

import numpy as np

from ci_sim import __version__
from ci_sim.studies.calibration.checks import DEFAULTS, MEDIAN, moves_threshold
from ci_sim.studies.calibration.result import CalibrationResult
from ci_sim.studies.calibration.targets import STATISTICS
from ci_sim.studies.plotting import PALETTE, finish, new_figure, panels, png_bytes


POSTERIOR_COLOUR, PRIOR_COLOUR, DEFAULT_COLOUR = PALETTE[0], "#B0B0B0", PALETTE[1]
HELD_OUT_COLOUR, CALIBRATION_COLOUR = PALETTE[2], PALETTE[5]

#: Most parameters in the pairwise plot (those the patterns pin down best).
PAIRS = 6

#: Figures in the order the report shows them: name -> caption.
FIGURES = {
    "marginals": "Posterior of each fitted parameter (bars: the final generation's weight in "
                 "each bin, bins equal under the prior), its prior (grey line), the posterior "
                 "median (blue line) and 90% interval (blue band), and the default of "
                 "params.py (orange, dashed).",
    "pairs": "Pairs of the parameters the patterns pin down best (smallest posterior / prior "
             "width): each dot a particle of the final generation, larger for larger weight.",
    "correlations": "Weighted correlation between the fitted parameters in the posterior: "
                    "parameters that trade off against each other to meet the patterns show "
                    "strong negative or positive correlation.",
    "identifiability": "Left: posterior 90% interval width over prior 90% width (1: the "
                       "patterns leave the parameter as uncertain as before). Right: Spearman "
                       "correlation of each parameter with each pattern's statistic over the "
                       "prior sample (generation 0); numbers mark the patterns that move it.",
    "predictive": "Each pattern's statistic: the final particles on the calibration seeds "
                  "(left) and posterior draws run on held-out seeds (right), with the "
                  "posterior median (diamond) and the defaults (cross) on held-out seeds; the "
                  "shaded band is where the pattern holds.",
    "generations": "Acceptance history: the threshold of each generation (the distance a "
                   "particle had to reach), its acceptance rate and its evaluations.",
}


def number(value: float, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if not math.isfinite(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:.{digits}g}"


def image(png: bytes, name: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(FIGURES[name])}</figcaption></figure>")


# ---------------------------------------------------------------------------- figures
def render_figures(result: CalibrationResult) -> dict[str, bytes]:
    """Every figure as PNG bytes, by name (see :data:`FIGURES`)."""
    figures = {"marginals": plot_marginals(result), "pairs": plot_pairs(result),
               "correlations": plot_correlations(result),
               "identifiability": plot_identifiability(result),
               "generations": plot_generations(result)}
    if len(result.checks):
        figures["predictive"] = plot_predictive(result)
    metadata = {"Software": f"ci-sim {__version__}"}
    return {name: png_bytes(figure, metadata=metadata) for name, figure in figures.items()
            if figure is not None}


def log_scale(axis, low: float, high: float, which: str = "x") -> None:
    """A logarithmic axis from ``low`` to ``high`` labelled at 1, 2 and 5 times powers of
    ten, in plain numbers."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, StrMethodFormatter

    ticks = axis.xaxis if which == "x" else axis.yaxis
    (axis.set_xscale if which == "x" else axis.set_yscale)("log")
    (axis.set_xlim if which == "x" else axis.set_ylim)(low, high)
    decades = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
    values = [m * 10.0 ** d for d in decades for m in (1, 2, 5) if low <= m * 10.0 ** d <= high]
    ticks.set_major_locator(FixedLocator(values))
    ticks.set_major_formatter(StrMethodFormatter("{x:g}"))
    ticks.set_minor_locator(NullLocator())
    ticks.set_minor_formatter(NullFormatter())


def bins_for(prior, count: int = 24) -> np.ndarray:
    if prior.prior == "loguniform":
        return np.geomspace(prior.low, prior.high, count + 1)
    return np.linspace(prior.low, prior.high, count + 1)


def plot_marginals(result: CalibrationResult):
    """Posterior weight per bin against the prior's (bins equal under the prior: linear for
    a uniform prior, logarithmic for a loguniform one, so the prior is a flat line)."""
    plan, posterior = result.plan, result.posterior
    weights = posterior["weight"].to_numpy()
    bins = 20
    figure, axes = panels(len(plan.names), width=3.1, height=2.3, columns=4)
    for axis, (name, prior) in zip(axes, plan.targets.parameters.items()):
        row = result.summary.set_index("parameter").loc[name]
        axis.hist(posterior[name], bins=bins_for(prior, bins), weights=weights,
                  color=POSTERIOR_COLOUR, alpha=0.55)
        axis.axhline(1 / bins, color=PRIOR_COLOUR, lw=1.5)
        axis.axvspan(row["p05"], row["p95"], color=POSTERIOR_COLOUR, alpha=0.12, lw=0)
        axis.axvline(row["median"], color=POSTERIOR_COLOUR, lw=1.5)
        axis.axvline(row["default"], color=DEFAULT_COLOUR, lw=1.5, ls="--")
        if prior.prior == "loguniform":
            log_scale(axis, prior.low, prior.high)
        else:
            axis.set_xlim(prior.low, prior.high)
        axis.set_title(name + (" (log scale)" if prior.prior == "loguniform" else ""),
                       fontsize=8)
        axis.tick_params(which="both", labelsize=7)
        axis.set_yticks([])
    return finish(figure, "Marginal posteriors (blue, weight per bin) against priors (grey); "
                          "default dashed")


def pinned(result: CalibrationResult, count: int = PAIRS) -> list[str]:
    """The ``count`` parameters with the narrowest posterior / prior width."""
    ordered = result.summary.sort_values("width_ratio")["parameter"]
    return list(ordered[:count])


def plot_pairs(result: CalibrationResult):
    names = pinned(result)
    if len(names) < 2:
        return None
    posterior = result.posterior
    weights = posterior["weight"].to_numpy()
    sizes = 4 + 60 * weights / weights.max()
    priors = result.plan.targets.parameters
    k = len(names)
    figure, axes = new_figure(1.9 * k, 1.9 * k, rows=k, columns=k)
    for i, y in enumerate(names):
        for j, x in enumerate(names):
            axis = axes[i, j]
            if j > i:
                axis.set_visible(False)
                continue
            if i == j:
                axis.hist(posterior[x], bins=bins_for(priors[x], 16), weights=weights,
                          color=POSTERIOR_COLOUR, alpha=0.6)
                axis.set_yticks([])
            else:
                axis.scatter(posterior[x], posterior[y], s=sizes, color=POSTERIOR_COLOUR,
                             alpha=0.4, lw=0)
                if priors[y].prior == "loguniform":
                    log_scale(axis, priors[y].low, priors[y].high, "y")
                else:
                    axis.set_ylim(priors[y].low, priors[y].high)
            if priors[x].prior == "loguniform":
                log_scale(axis, priors[x].low, priors[x].high)
            else:
                axis.set_xlim(priors[x].low, priors[x].high)
            axis.tick_params(which="both", labelsize=6)
            if i == k - 1:
                axis.set_xlabel(x, fontsize=7)
            if j == 0 and i > 0:
                axis.set_ylabel(y, fontsize=7)
    return finish(figure, "Pairwise posterior of the best-identified parameters")


def weighted_correlation(result: CalibrationResult) -> np.ndarray:
    values = result.posterior[list(result.plan.names)].to_numpy()
    weights = result.posterior["weight"].to_numpy()
    mean = weights @ values
    centred = values - mean
    covariance = (centred * weights[:, None]).T @ centred
    scale = np.sqrt(np.diag(covariance))
    with np.errstate(invalid="ignore", divide="ignore"):
        return covariance / np.outer(scale, scale)


def plot_correlations(result: CalibrationResult):
    names = list(result.plan.names)
    if len(names) < 2:
        return None
    matrix = weighted_correlation(result)
    size = 1.8 + 0.42 * len(names)
    figure, axes = new_figure(size + 1.2, size)
    axis = axes[0, 0]
    shown = axis.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
    axis.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    axis.set_yticks(range(len(names)), names, fontsize=7)
    figure.colorbar(shown, ax=axis, shrink=0.8, label="correlation")
    return finish(figure, "Posterior correlation between fitted parameters")


def plot_identifiability(result: CalibrationResult):
    names = list(result.plan.names)
    patterns = [pattern.name for pattern in result.plan.patterns]
    summary = result.summary.set_index("parameter").loc[names]
    height = 1.5 + 0.32 * len(names)
    figure, axes = new_figure(4.0 + 0.55 * len(patterns) + 3.5, height, rows=1, columns=2,
                              gridspec_kw={"width_ratios": [3.5, 1.2 + 0.55 * len(patterns)]})
    bars, heat = axes[0]
    order = np.arange(len(names))[::-1]
    bars.barh(order, summary["width_ratio"], color=POSTERIOR_COLOUR)
    bars.axvline(1.0, color=PRIOR_COLOUR, lw=1)
    bars.set_yticks(order, names, fontsize=7)
    bars.set_xlabel("posterior / prior 90% width", fontsize=8)
    bars.set_xlim(0, max(1.05, float(summary["width_ratio"].max()) * 1.05))
    matrix = result.sensitivity.loc[names, patterns].to_numpy(dtype=float)
    heat.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r", aspect="auto")
    heat.set_xticks(range(len(patterns)), patterns, rotation=90, fontsize=7)
    heat.set_yticks(range(len(names)), [""] * len(names))
    threshold = moves_threshold(len(result.prior_sample))
    for i in range(len(names)):
        for j in range(len(patterns)):
            value = matrix[i, j]
            if np.isfinite(value) and abs(value) >= threshold:
                heat.text(j, i, f"{value:+.1f}", ha="center", va="center", fontsize=6,
                          color="white" if abs(value) > 0.6 else "black")
    return finish(figure, "Identifiability: how much the patterns narrow each parameter, "
                          "and which patterns move it")


def plot_predictive(result: CalibrationResult):
    plan, checks, posterior = result.plan, result.checks, result.posterior
    figure, axes = panels(len(plan.patterns), width=3.0, height=2.6, columns=4)
    rng = np.random.default_rng(0)  # horizontal jitter of the dots only
    for axis, pattern in zip(axes, plan.patterns):
        low, high = pattern.band
        rows = checks[checks["pattern"] == pattern.name]
        draws = rows[rows["kind"] == "posterior"]["value"].to_numpy()
        fitted = posterior[pattern.name].to_numpy()
        values = np.concatenate([draws, fitted, rows["value"].to_numpy()])
        finite = values[np.isfinite(values)]
        span = (finite.max() - finite.min()) if len(finite) else 1.0
        bottom = min([finite.min() if len(finite) else 0.0] + ([low] if np.isfinite(low) else []))
        top = max([finite.max() if len(finite) else 1.0] + ([high] if np.isfinite(high) else []))
        margin = 0.08 * max(span, top - bottom, pattern.tolerance)
        axis.axhspan(max(low, bottom - margin), min(high, top + margin), color="#009E73",
                     alpha=0.13, lw=0)
        axis.scatter(rng.uniform(-0.15, 0.15, len(fitted)), fitted, s=8,
                     color=CALIBRATION_COLOUR, alpha=0.5, lw=0)
        axis.scatter(1 + rng.uniform(-0.15, 0.15, len(draws)), draws, s=10,
                     color=HELD_OUT_COLOUR, alpha=0.8, lw=0)
        for kind, marker, colour, x in ((MEDIAN, "D", POSTERIOR_COLOUR, 1.32),
                                        (DEFAULTS, "X", DEFAULT_COLOUR, 1.47)):
            one = rows[rows["kind"] == kind]["value"]
            if len(one):
                axis.scatter([x], [one.iloc[0]], marker=marker, s=36, color=colour)
        axis.set_xticks([0, 1], ["calibration\nseeds", "held-out\nseeds"], fontsize=7)
        axis.set_xlim(-0.5, 1.7)
        axis.set_ylim(bottom - margin, top + margin)
        axis.set_title(pattern.name + ("" if pattern.fit else " (not fitted)"), fontsize=8)
        axis.tick_params(labelsize=7)
    return finish(figure, "Posterior predictive check of every pattern")


def plot_generations(result: CalibrationResult):
    table = result.generations
    figure, axes = new_figure(10.5, 2.8, rows=1, columns=3)
    threshold, rate, evaluations = axes[0]
    finite = table[np.isfinite(table["epsilon"])]
    threshold.plot(finite["generation"], finite["epsilon"], marker="o", color=PALETTE[0])
    threshold.set_title("threshold (distance)", fontsize=9)
    if len(finite) and (finite["epsilon"] > 0).all():
        threshold.set_yscale("log")
    rate.plot(table["generation"], table["acceptance_rate"], marker="o", color=PALETTE[1])
    rate.set_title("acceptance rate", fontsize=9)
    rate.set_ylim(0, 1.05)
    evaluations.bar(table["generation"], table["evaluations"], color=PALETTE[2])
    evaluations.set_title("evaluations", fontsize=9)
    for axis in axes[0]:
        axis.set_xlabel("generation", fontsize=8)
        axis.set_xticks(list(table["generation"]))
        axis.tick_params(labelsize=7)
    return finish(figure, "Acceptance history")


# ---------------------------------------------------------------------------- html
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 66rem;
       margin: 1.5rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
.sub { color: #555; margin-top: 0; font-size: 0.92rem; }
.glance { border-left: 6px solid #0072B2; background: #f0f6fb; padding: 0.6rem 1.2rem;
          margin: 1rem 0; }
.miss { color: #B03A00; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.88rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.55rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; }
figure { margin: 1.2rem 0; }
figure img { max-width: 100%; }
figcaption { color: #555; font-size: 0.88rem; }
code { font-size: 0.88rem; }
.method { color: #333; font-size: 0.92rem; }
"""


def render_html(result: CalibrationResult, images: dict[str, bytes] | None = None) -> str:
    """The whole report as one self-contained HTML document."""
    e = html.escape
    images = render_figures(result) if images is None else images
    plan = result.plan
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>Calibration: {e(plan.targets.name)}</title>",
             f"<style>{STYLE}</style></head><body>",
             f"<h1>Calibration: {e(plan.targets.name)}</h1>",
             f'<p class="sub">{e(subtitle(result))}</p>',
             glance(result),
             "<h2>Posterior summary</h2>", summary_table(result)]
    for name in ("marginals", "pairs", "correlations"):
        if name in images:
            parts.append(image(images[name], name))
    parts += ["<h2>Identifiability</h2>", identifiability_text(result)]
    if "identifiability" in images:
        parts.append(image(images["identifiability"], "identifiability"))
    parts += ["<h2>Posterior predictive check</h2>", predictive_text(result),
              patterns_table(result)]
    if "predictive" in images:
        parts.append(image(images["predictive"], "predictive"))
    parts += ["<h2>Acceptance history</h2>", generations_table(result), warnings_text(result)]
    if "generations" in images:
        parts.append(image(images["generations"], "generations"))
    parts += [method(result), "</body></html>"]
    return "\n".join(parts)


def subtitle(result: CalibrationResult) -> str:
    plan = result.plan
    targets = plan.targets
    return (f"{len(plan.names)} parameters fitted to {len(plan.fitted)} patterns; "
            f"{len(plan.runs)} runs x {len(plan.seeds)} calibration seeds per evaluation, "
            f"{plan.base.scenario.organizations.count} organizations, "
            f"{plan.months / 12:g} years; {targets.budget.particles} particles per generation, "
            f"{len(result.generations)} generations, {result.evaluations:,} evaluations "
            f"({result.model_runs:,} model runs); ci-sim {__version__}, pyabc "
            f"{result.pyabc_version}")


def glance(result: CalibrationResult) -> str:
    e = html.escape
    patterns = result.patterns
    lines = ['<div class="glance">', f"<p><b>Stopped:</b> {e(result.stop)}.</p>"]
    if "held_out_met_share" in patterns:
        held, missed = [], []
        for _, row in patterns.iterrows():
            share = row["held_out_met_share"]
            text = f"{e(row['pattern'])} ({share:.0%} of draws)"
            (held if share >= 0.5 else missed).append(text)
        lines.append(f"<p><b>On held-out seeds the posterior reproduces</b> (in at least half "
                     f"of its draws): {', '.join(held) or 'none'}.</p>")
        lines.append(f'<p class="miss"><b>It does not reproduce:</b> '
                     f"{', '.join(missed) or 'none'}.</p>")
    outside = result.summary[~result.summary["default_in_central_50"]]["parameter"]
    lines.append(f"<p><b>Defaults of params.py outside the posterior's central 50% "
                 f"interval:</b> {e(', '.join(outside)) or 'none'}.</p></div>")
    return "\n".join(lines)


def table_html(header: list[str], rows: list[list[str]], text_columns: set[int] = frozenset()
               ) -> str:
    head = "".join(f'<th class="text">{cell}</th>' if i in text_columns else f"<th>{cell}</th>"
                   for i, cell in enumerate(header))
    body = "".join("<tr>" + "".join(f'<td class="text">{cell}</td>' if i in text_columns
                                    else f"<td>{cell}</td>" for i, cell in enumerate(row))
                   + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_table(result: CalibrationResult) -> str:
    e = html.escape
    rows = []
    for _, row in result.summary.iterrows():
        rows.append([f"<code>{e(row['parameter'])}</code>", e(row["unit"]),
                     f"{number(row['prior_low'])} – {number(row['prior_high'])}"
                     + (" (log)" if row["prior"] == "loguniform" else ""),
                     number(row["median"]),
                     f"{number(row['p25'])} – {number(row['p75'])}",
                     f"{number(row['p05'])} – {number(row['p95'])}",
                     number(row["default"]) + ("" if row["default_in_central_50"]
                                               else ' <span class="miss">(outside)</span>'),
                     f"{row['default_quantile']:.0%}"])
    return table_html(["parameter", "unit", "prior", "median", "50% interval", "90% interval",
                       "default", "default's quantile"], rows, {1})


def identifiability_text(result: CalibrationResult) -> str:
    e = html.escape
    threshold = moves_threshold(len(result.prior_sample))
    rows = [[f"<code>{e(row['parameter'])}</code>", f"{row['width_ratio']:.2f}",
             e(row["moved_by"].replace(";", ",")) or "none"]
            for _, row in result.summary.sort_values("width_ratio").iterrows()]
    return (f"<p>A width ratio near 1 means the patterns leave the parameter about as "
            f"uncertain as the prior did; near 0, they pin it down. A pattern moves a "
            f"parameter when their rank correlation over the {len(result.prior_sample)} prior "
            f"draws of generation 0 is at least {threshold:.2f} in size (three standard "
            f"errors of no correlation).</p>"
            + table_html(["parameter", "posterior / prior 90% width", "moved by"], rows, {2}))


def predictive_text(result: CalibrationResult) -> str:
    plan = result.plan
    seeds = plan.targets.seeds
    if not len(result.checks):
        return "<p>No predictive check was asked for (budget.checks = 0).</p>"
    return (f"<p>{plan.targets.budget.checks} parameter sets drawn from the posterior (by "
            f"weight), the posterior median and the defaults were run on "
            f"{len(plan.check_seeds)} held-out seeds, <code>replicate_seeds("
            f"{seeds.check_base}, {seeds.check_replicates})</code>, not those of the fit "
            f"(<code>replicate_seeds({seeds.base}, {seeds.replicates})</code>). A pattern "
            f"holds for a draw when its statistic lies in its band.</p>")


def patterns_table(result: CalibrationResult) -> str:
    e = html.escape
    patterns = {pattern.name: pattern for pattern in result.plan.patterns}
    rows = []
    for _, row in result.patterns.iterrows():
        pattern = patterns[row["pattern"]]
        cells = [f"<b>{e(row['pattern'])}</b>" + ("" if pattern.fit else " (not fitted)")
                 + (f"<br><small>{e(pattern.description)}</small>" if pattern.description
                    else ""),
                 e(row["band"]), f"{row['calibration_met_share']:.0%}",
                 number(row["calibration_median"])]
        if "held_out_met_share" in row and isinstance(row.get("held_out_median"), float):
            cells += [f"{row['held_out_met_share']:.0%}", number(row["held_out_median"]),
                      f"{number(row['held_out_p05'])} – {number(row['held_out_p95'])}",
                      number(row["at_posterior_median"]), number(row["at_defaults"])]
        rows.append(cells)
    header = ["pattern", "band", "met, calibration seeds", "median, calibration"]
    if len(result.checks):
        header += ["met, held-out draws", "median, held-out", "90% of draws", "at median",
                   "at defaults"]
    return table_html(header, rows, {0})


def generations_table(result: CalibrationResult) -> str:
    rows = [[str(int(row["generation"])), number(row["epsilon"]),
             f"{int(row['accepted'])}", f"{int(row['evaluations']):,}",
             f"{int(row['evaluations']) * result.runs_per_evaluation:,}",
             f"{row['acceptance_rate']:.1%}", number(row["effective_sample_size"]),
             f"{row['seconds']:.0f}"]
            for _, row in result.generations.iterrows()]
    return table_html(["generation", "threshold", "accepted", "evaluations", "model runs",
                       "acceptance rate", "effective sample size", "seconds"], rows)


def warnings_text(result: CalibrationResult) -> str:
    e = html.escape
    if not result.warnings:
        return "<p>pyabc gave no warning in this session.</p>"
    items = "".join(f"<li>{count} x {e(message)}</li>"
                    for message, count in sorted(result.warnings.items(),
                                                 key=lambda item: -item[1]))
    return (f"<p>pyabc's warnings in this session (a proposal outside the priors is drawn "
            f"again, so many of them cost time, not accuracy):</p><ul>{items}</ul>")


def method(result: CalibrationResult) -> str:
    e = html.escape
    plan = result.plan
    targets, seeds, budget = plan.targets, plan.targets.seeds, plan.targets.budget
    runs = "".join(
        f"<li><code>{e(name)}</code>: {e(run.label)}"
        + (f", with {e(', '.join(f'{k} = {v}' for k, v in targets.runs[name].set.items()))}"
           if targets.runs[name].set else "")
        + (f"; keeps its own {e(', '.join(plan.kept[name]))}" if plan.kept[name] else "")
        + "</li>" for name, run in plan.runs.items())
    statistics = "".join(f"<li><code>{e(name)}</code>: {e(text)}</li>"
                         for name, text in STATISTICS.items())
    priors = "".join(f"<li><code>{e(name)}</code> {e(prior.prior)} {prior.low:g} – "
                     f"{prior.high:g}" + (f": {e(prior.why)}" if prior.why else "") + "</li>"
                     for name, prior in targets.parameters.items())
    constants = ", ".join(f"{key} = {value}" for key, value in targets.set.items())
    return "\n".join([
        '<h2>How these numbers were made</h2><div class="method">',
        "<p>Pattern-oriented modelling (Grimm et al. 2005): each pattern is a statistic of "
        "the runs that must fall in a band. A particle (a value of every fitted parameter) "
        f"runs every run below on the {len(plan.seeds)} calibration seeds "
        f"<code>replicate_seeds({seeds.base}, {seeds.replicates})</code>, the same seeds for "
        "every particle (common random numbers); each statistic is computed from the runs' "
        "means over the seeds, and the particle's distance is the root of the weighted sum "
        "of squared excesses outside the bands, in tolerances (0: every pattern met).</p>",
        f"<p>Statistics:</p><ul>{statistics}</ul>",
        f"<p>Runs ({e(plan.base.label)} as the base"
        + (f", constants <code>{e(constants)}</code>" if constants else "")
        + f"):</p><ul>{runs}</ul>",
        f"<p>Priors:</p><ul>{priors}</ul>",
        "<p>ABC-SMC (Toni et al. 2009; Beaumont et al. 2009; Beaumont 2010) with pyabc "
        f"{e(result.pyabc_version)} (Schälte et al. 2022): generation 0 draws "
        f"{budget.particles} particles from the prior; each later generation perturbs the "
        "previous one with a multivariate normal kernel whose covariance is twice the previous "
        "generation's weighted covariance (Beaumont et al. 2009), weights particles by prior / "
        f"proposal density and accepts those within a threshold, the {budget.quantile:g} "
        "weighted quantile of the previous generation's distances. It stops when the "
        f"threshold reaches {budget.epsilon:g}, after {budget.generations} generations, "
        f"before a generation that would take the evaluations past {budget.evaluations:,} "
        "if it cost what the previous one did, or when a generation's "
        f"acceptance falls below {budget.min_acceptance:g}. The random numbers of every "
        f"evaluation derive from seed {seeds.abc}, its generation and its index, so the "
        "posterior is the same on every executor and after a resume.</p>",
        f"<p>This session ran on {e(str(result.executor.get('kind', '')))} with "
        f"{result.executor.get('workers', 1)} worker(s) in {result.seconds:.0f} s wall "
        f"(the kept generations took {result.fit_seconds:.0f} s as recorded, the "
        f"predictive check {result.check_seconds:.0f} s, {result.check_runs:,} model runs). "
        f"Targets file <code>{e(plan.path.name)}</code> (sha256 "
        f"<code>{e(plan.digest[:16])}</code>…); engine {e(targets.engine)}. Seeds, versions "
        "and every run's resolved parameters are in <code>calibration.json</code> and in "
        "the metadata of <code>posterior.parquet</code>; pyabc's own database is "
        "<code>abc_history.db</code>.</p>",
        "<p>References: Grimm, V., et al. (2005). Pattern-oriented modeling of agent-based "
        "complex systems: lessons from ecology. <i>Science</i> 310, 987-991. Toni, T., et al. "
        "(2009). Approximate Bayesian computation scheme for parameter inference and model "
        "selection in dynamical systems. <i>J. R. Soc. Interface</i> 6, 187-202. Beaumont, "
        "M. A., et al. (2009). Adaptive approximate Bayesian computation. <i>Biometrika</i> "
        "96, 983-990. Beaumont, M. A. (2010). Approximate Bayesian computation in evolution "
        "and ecology. <i>Annu. Rev. Ecol. Evol. Syst.</i> 41, 379-406. Schälte, Y., et al. "
        "(2022). pyABC: Efficient and robust easy-to-use approximate Bayesian computation. "
        "<i>J. Open Source Softw.</i> 7(74), 4304.</p></div>"])

