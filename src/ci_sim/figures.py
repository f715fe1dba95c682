"""Pictures of before/after runs: the workshop page's charts and slide-ready figures.

The same drawing functions serve the live page (:mod:`ci_sim.app`) and ``ci-sim figures``:

- :func:`draw_network`: the trust network. Organizations are circles coloured by sector and
  sized by their staff; a line joins two organizations that can meet, and the more they trust
  each other, the darker and thicker it is. A network that knits together darkens; one that
  falls apart fades.
- :func:`draw_metrics`: population outcome, agenda alignment, mean trust, funding
  concentration, indicators improving and the gateway reached, before against after.

Colours are the Okabe-Ito palette (Okabe & Ito 2008), readable with every common form of
colour blindness. Slide figures use several paired replicates (the same seeds for before
and after) and state the takeaway in the title, computed from those runs.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ci_sim import __version__
from ci_sim.model import GATEWAYS, SECTORS, STEPS_PER_YEAR, CollectiveImpactModel
from ci_sim.folders import write_atomic
from ci_sim.studies.stats import interval, intervals
from ci_sim.presets import BeforeAfter, Preset, before_after
from ci_sim.simulate import replicate_seeds, run_replicates

#: Okabe & Ito (2008), "Color universal design".
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
             "reddish_purple": "#CC79A7", "black": "#000000"}
SECTOR_COLOURS = {"nonprofit": OKABE_ITO["sky_blue"], "public_agency": OKABE_ITO["bluish_green"],
                  "funder": OKABE_ITO["orange"], "business": OKABE_ITO["reddish_purple"],
                  "community_group": OKABE_ITO["yellow"]}
RUN_STYLES = {"before": {"color": OKABE_ITO["vermillion"], "linestyle": "--"},
              "after": {"color": OKABE_ITO["blue"], "linestyle": "-"}}

#: Metric panels: metric, heading, y range.
PANELS = (("outcome", "Population outcome", (0, 1)),
          ("agenda_alignment", "Agenda alignment", (0, 1)),
          ("mean_trust", "Mean trust", (0, 1)),
          ("funding_gini", "Funding concentration (Gini)", (0, 1)),
          ("indicators_improving", "Indicators improving (share)", (0, 1)),
          ("gateway", "Gateway reached", (-0.2, len(GATEWAYS) - 0.8)))

#: A final difference below this (on the 0-1 scale of every headline metric) is called
#: small on the slide: below the smallest effect ``docs/findings.md`` reports for a mindset
#: shift (0.02), too small to see on a 0-1 axis from the back of a room.
SMALL_EFFECT = 0.02

SLIDE_STYLE = {"font.size": 17, "axes.titlesize": 19, "axes.labelsize": 17,
               "xtick.labelsize": 15, "ytick.labelsize": 15, "legend.fontsize": 16,
               "figure.titlesize": 26, "axes.spines.top": False, "axes.spines.right": False}


def short_label(label: str) -> str:
    """``"Before: credit hoarded"`` -> ``"credit hoarded"``."""
    return label.partition(": ")[2] or label


def network_layout(graph: nx.Graph, seed: int) -> np.ndarray:
    """Fixed positions of the organizations (spring layout, seeded), one row per organization."""
    positions = nx.spring_layout(graph, seed=seed % 2**32)
    return np.array([positions[node] for node in range(graph.number_of_nodes())])


class NetworkPicture:
    """The trust network of a model drawn on one axis, updated in place as the run goes on.

    Line darkness and width follow the mutual trust of two organizations that can meet (mean
    of ``trust_of(i, j)`` and ``trust_of(j, i)``, 0..1); circle area follows staff (FTE).
    Funders, which have no programme staff, are drawn at a fixed size.
    """

    def __init__(self, axis: Axes, model: CollectiveImpactModel, positions: np.ndarray) -> None:
        self.axis = axis
        self.edges = np.array(model.network.edges(), dtype=np.int64).reshape(-1, 2)
        self.funder = np.array([SECTORS[s] == "funder" for s in model.sector])
        self.lines = LineCollection(positions[self.edges], zorder=1)
        axis.add_collection(self.lines)
        self.circles = axis.scatter(positions[:, 0], positions[:, 1],
                                    c=[SECTOR_COLOURS[SECTORS[s]] for s in model.sector],
                                    edgecolors="#333333", linewidths=0.6, zorder=2)
        axis.set_xlim(positions[:, 0].min() - 0.12, positions[:, 0].max() + 0.12)
        axis.set_ylim(positions[:, 1].min() - 0.12, positions[:, 1].max() + 0.12)
        axis.set_aspect("equal")
        axis.set_xticks([])
        axis.set_yticks([])
        for spine in axis.spines.values():
            spine.set_visible(False)
        self.update(model)

    def update(self, model: CollectiveImpactModel, title: str = "") -> None:
        """Redraw trust and staff from the model's current state."""
        i, j = self.edges[:, 0], self.edges[:, 1]
        trust = 0.5 * (model.trust_of(i, j) + model.trust_of(j, i))
        colours = np.zeros((len(self.edges), 4))
        colours[:, :3] = 0.15
        colours[:, 3] = 0.05 + 0.9 * trust ** 2
        self.lines.set_color(colours)
        self.lines.set_linewidth(0.3 + 4.0 * trust ** 2)
        self.circles.set_sizes(np.where(self.funder, 90.0, 25.0 + 22.0 * model.capacity))
        if title:
            self.axis.set_title(title)


def draw_network(axis: Axes, model: CollectiveImpactModel, positions: np.ndarray, *,
                 title: str = "") -> NetworkPicture:
    """Draw the trust network of ``model`` on ``axis`` (see :class:`NetworkPicture`)."""
    picture = NetworkPicture(axis, model, positions)
    picture.update(model, title)
    return picture


def sector_legend(figure: Figure, **kwargs: Any) -> None:
    """Legend of sector colours for a network figure."""
    handles = [Line2D([], [], marker="o", linestyle="", markersize=10, markerfacecolor=colour,
                      markeredgecolor="#333333", label=sector.replace("_", " "))
               for sector, colour in SECTOR_COLOURS.items()]
    figure.legend(handles=handles, frameon=False, **kwargs)


def draw_metrics(axes: Sequence[Axes], runs: dict[str, pd.DataFrame], labels: dict[str, str],
                 *, years: float) -> None:
    """Before/after trajectories on the six :data:`PANELS`.

    Args:
        axes: six axes, in the order of :data:`PANELS`.
        runs: ``{"before": frame, "after": frame}``, frames with ``year`` and metric columns;
            with a ``replicate`` column the mean is drawn with its 95% interval as a band.
        labels: legend label of each run.
        years: horizon of the x axis, in years.
    """
    for axis, (metric, heading, limits) in zip(axes, PANELS):
        for run_name, frame in runs.items():
            style = RUN_STYLES[run_name]
            if "replicate" in frame.columns:
                wide = frame.pivot(index="year", columns="replicate", values=metric)
                mean, low, high = intervals(wide.to_numpy().T)  # the tables' t interval
                axis.fill_between(wide.index, low, high, color=style["color"],
                                  alpha=0.2, linewidth=0)
                x, y = wide.index, mean
            else:
                x, y = frame["year"], frame[metric]
            axis.plot(x, y, lw=2.5, label=labels[run_name],
                      drawstyle="steps-post" if metric == "gateway" else "default", **style)
        axis.set_title(heading)
        axis.set_xlim(0, years)
        axis.set_ylim(*limits)
        axis.grid(alpha=0.3)
        if metric == "gateway":
            axis.set_yticks(range(len(GATEWAYS)), GATEWAYS)


def history_frame(model: CollectiveImpactModel) -> pd.DataFrame:
    """A model's monthly metrics so far, with a ``year`` column."""
    frame = pd.DataFrame(model.history)
    frame.insert(0, "year", np.arange(len(frame)) / STEPS_PER_YEAR)
    return frame


def takeaway(preset: Preset, runs: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The final-year difference in the preset's headline metric, after minus before, over
    paired runs.

    Returns the difference's mean and 95% interval, the final values of both runs, the years,
    and a one-line title that states it (computed, never assumed: the sign and size come from
    the runs).
    """
    metric = preset.headline
    finals = {name: frame[frame["step"] == frame["step"].max()].sort_values("replicate")
              for name, frame in runs.items()}
    difference = finals["after"][metric].to_numpy() - finals["before"][metric].to_numpy()
    gap = interval(difference)
    years = float(finals["after"]["year"].iloc[0])
    after, before = short_label(preset.after_label), short_label(preset.before_label)
    heading = dict((name, heading) for name, heading, _ in PANELS)[metric]
    heading = heading.partition(" (")[0].lower()
    small = abs(gap["mean"]) < SMALL_EFFECT
    if gap["low"] > 0 or gap["high"] < 0:
        direction = "higher" if gap["mean"] > 0 else "lower"
        title = (f"{after[:1].upper()}{after[1:]}: {heading} ends {abs(gap['mean']):.2g} "
                 f"{direction} than with {before} after {years:g} years"
                 + (", a small effect in this model" if small else ""))
    else:
        title = (f"{after[:1].upper()}{after[1:]} and {before}: no clear difference in "
                 f"{heading} after {years:g} years")
    return {"metric": metric, "difference": gap, "years": years, "title": title,
            "small": bool(small),
            "after_final": interval(finals["after"][metric].to_numpy()),
            "before_final": interval(finals["before"][metric].to_numpy())}


def paired_runs(preset: Preset, *, seed: int, replicates: int, engine: str = "numba",
                workers: int | None = 1) -> tuple[dict[str, pd.DataFrame], list[int]]:
    """Before and after runs of a preset on the same replicate seeds."""
    seeds = replicate_seeds(seed, replicates)
    before, after = before_after(preset)
    runs = {"before": run_replicates(before, seeds, engine=engine, workers=workers),
            "after": run_replicates(after, seeds, engine=engine, workers=workers)}
    return runs, seeds


def slide_figure(preset: Preset, runs: dict[str, pd.DataFrame], summary: dict[str, Any],
                 footer: str) -> Figure:
    """A 16:9 slide: the takeaway as the title, the six panels, a footer with provenance."""
    import matplotlib

    with matplotlib.rc_context(SLIDE_STYLE):
        figure = Figure(figsize=(16, 9), layout="constrained")
        # A row of its own for the legend: inside a panel it covers the lines or the next
        # panel, above the panels it collides with the title.
        panels = figure.subplot_mosaic([["key"] * 4, ["0", "1", "2", "gap"],
                                        ["3", "4", "5", "gap"]],
                                       width_ratios=(1, 1, 1, 1.1), height_ratios=(0.1, 1, 1))
        axes = np.array([[panels[str(k)] for k in range(3)],
                         [panels[str(k)] for k in range(3, 6)]])
        labels = {"before": short_label(preset.before_label),
                  "after": short_label(preset.after_label)}
        draw_metrics(axes.flat, runs, labels, years=summary["years"])
        for axis in axes.flat:  # four columns: long headings take two lines
            axis.set_title(textwrap.fill(axis.get_title(), 22))
        for axis in axes[1]:
            axis.set_xlabel("Year")
        for axis in axes[0]:
            axis.tick_params(labelbottom=False)
        draw_difference(panels["gap"], preset, runs, summary)
        gap = summary["difference"]
        figure.suptitle(textwrap.fill(summary["title"], 70), fontweight="bold")
        panels["key"].axis("off")
        panels["key"].legend(*axes.flat[0].get_legend_handles_labels(), loc="center",
                             ncols=2, frameon=False)
        figure.supxlabel(f"{preset.title}: mean of {runs['after']['replicate'].nunique()} paired "
                         f"runs with 95% interval; {preset.headline} difference {gap['mean']:+.3f} "
                         f"[{gap['low']:+.3f}, {gap['high']:+.3f}]\n{footer}", fontsize=13,
                         color="#333333")
    return figure


def draw_difference(axis: Axes, preset: Preset, runs: dict[str, pd.DataFrame],
                    summary: dict[str, Any]) -> None:
    """The headline metric's difference, after minus before, over time with its 95% interval,
    on an axis scaled to the difference itself: a small effect is shown at the size it is,
    with its numbers on the axis, and called small in the panel's title."""
    metric = preset.headline
    wide = {name: frame.pivot(index="year", columns="replicate", values=metric)
            for name, frame in runs.items()}
    difference = wide["after"] - wide["before"]  # paired: the same seeds before and after
    mean, low, high = intervals(difference.to_numpy().T)  # the tables' t interval
    axis.fill_between(difference.index, low, high, color=OKABE_ITO["blue"], alpha=0.2,
                      linewidth=0)
    axis.plot(difference.index, mean, color=OKABE_ITO["blue"], lw=2.5)
    axis.axhline(0.0, color="#333333", lw=1)
    heading = dict((name, heading) for name, heading, _ in PANELS)[metric].partition(" (")[0]
    axis.set_title(f"{heading}:\nafter minus before" + ("\n(small: note the scale)"
                                                          if summary["small"] else ""))
    axis.set_xlabel("Year")
    axis.set_xlim(0, summary["years"])
    axis.grid(alpha=0.3)


def network_note(pair: BeforeAfter) -> str:
    """A line under the two networks: their mean trust and, where the networks look alike,
    where the story's effect shows instead (said, not exaggerated)."""
    before = float(pair.before.metrics["mean_trust"])
    after = float(pair.after.metrics["mean_trust"])
    note = f"Mean trust {before:.2f} ({short_label(pair.preset.before_label)}), {after:.2f} " \
           f"({short_label(pair.preset.after_label)})"
    if abs(after - before) < 0.05 and pair.preset.headline != "mean_trust":
        heading = dict((name, heading) for name, heading, _ in PANELS)[pair.preset.headline]
        note += (f": the networks look alike; this story's effect is in "
                 f"{heading.partition(' (')[0].lower()} (see the slide's charts)")
    return note


def network_figure(pair: BeforeAfter, positions: np.ndarray, *, style: dict[str, Any]
                   ) -> Figure:
    """Before and after trust networks side by side at the pair's current month."""
    import matplotlib

    with matplotlib.rc_context(style):
        figure = Figure(figsize=(16, 9), layout="constrained")
        left, right = figure.subplots(1, 2)
        for axis, name, label in ((left, "before", pair.preset.before_label),
                                  (right, "after", pair.preset.after_label)):
            model = getattr(pair, name)
            draw_network(axis, model, positions, title=f"{short_label(label)}\n"
                         f"gateway: {GATEWAYS[int(model.metrics['gateway'])]}")
        figure.suptitle(textwrap.fill(f"{pair.preset.title}: trust network after "
                                      f"{pair.month / STEPS_PER_YEAR:g} years", 70)
                        + "\n" + textwrap.fill(network_note(pair), 85), fontweight="bold",
                        fontsize=20)
        sector_legend(figure, loc="outside lower center", ncols=len(SECTOR_COLOURS))
    return figure


def write_animation(pair: BeforeAfter, positions: np.ndarray, path: Path, *,
                    frame_months: int, footer: str) -> None:
    """Animated GIF: both trust networks and the population outcome, month by month."""
    import matplotlib
    from matplotlib.animation import PillowWriter

    with matplotlib.rc_context({**SLIDE_STYLE, "font.size": 14, "axes.titlesize": 15,
                                "legend.fontsize": 13}):
        # A fixed layout: constrained layout would be recomputed for every frame.
        figure = Figure(figsize=(12, 7.5))
        grid = figure.add_gridspec(2, 2, height_ratios=(3, 2), left=0.07, right=0.98,
                                   top=0.9, bottom=0.09, hspace=0.25, wspace=0.05)
        runs = (("before", pair.preset.before_label), ("after", pair.preset.after_label))
        networks = {name: NetworkPicture(figure.add_subplot(grid[0, column]),
                                         getattr(pair, name), positions)
                    for column, (name, _) in enumerate(runs)}
        outcome = figure.add_subplot(grid[1, :])
        lines = {name: outcome.plot([], [], lw=2.5, label=short_label(label),
                                    **RUN_STYLES[name])[0] for name, label in runs}
        outcome.set_xlim(0, pair.horizon / STEPS_PER_YEAR)
        outcome.set_ylim(0, 1)
        outcome.set_xlabel("Year")
        outcome.set_ylabel("Population outcome")
        outcome.grid(alpha=0.3)
        outcome.legend(loc="upper left", frameon=False)
        sector_legend(figure, loc="upper center", ncols=len(SECTOR_COLOURS))
        figure.text(0.995, 0.005, footer, ha="right", va="bottom", fontsize=9, color="#555555")
        writer = PillowWriter(fps=6)
        temporary = path.with_name(f".{path.name}.partial.gif")
        try:
            with writer.saving(figure, str(temporary), dpi=80):
                while True:
                    for name, label in runs:
                        model = getattr(pair, name)
                        networks[name].update(model, f"{short_label(label)}: gateway "
                                              f"{GATEWAYS[int(model.metrics['gateway'])]}")
                        frame = history_frame(model)
                        lines[name].set_data(frame["year"], frame["outcome"])
                    outcome.set_title(textwrap.fill(
                        f"Month {pair.month} (year {pair.month / STEPS_PER_YEAR:.1f}). "
                        f"{network_note(pair)}", 95), fontsize=12)
                    writer.grab_frame()
                    if not pair.running:
                        break
                    pair.advance(frame_months)
            temporary.replace(path)
        finally:
            temporary.unlink(missing_ok=True)


def make_figures(presets: Sequence[Preset], out: Path, *, seed: int = 0, replicates: int = 20,
                 frame_months: int = 2, engine: str = "numba", workers: int | None = 1
                 ) -> list[dict[str, Any]]:
    """Write, for each preset, ``NAME.png`` (six panels, mean of paired runs, takeaway title),
    ``NAME_network.png`` (both trust networks at the horizon, run on ``seed``) and ``NAME.gif``
    (networks and outcome month by month), plus ``figures.json`` recording seeds, versions and
    the computed takeaways.

    Returns the entries of ``figures.json``, one per preset.
    """
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for preset in presets:
        runs, seeds = paired_runs(preset, seed=seed, replicates=replicates, engine=engine,
                                  workers=workers)
        summary = takeaway(preset, runs)
        footer = (f"ci-sim {__version__} · {replicates} paired runs, replicate seeds from base "
                  f"seed {seed} · preset {preset.name}")
        figure = slide_figure(preset, runs, summary, footer)
        metadata = {"Title": summary["title"], "Software": f"ci-sim {__version__}",
                    "Description": json.dumps({"preset": preset.name, "seed": seed,
                                               "replicate_seeds": seeds})}
        write_atomic(out / f"{preset.name}.png",
                     lambda p: figure.savefig(p, format="png", dpi=120, metadata=metadata))

        pair = BeforeAfter(preset, seed=seed, engine=engine)
        positions = network_layout(pair.after.network, seed)
        animation_footer = f"ci-sim {__version__} · seed {seed} · preset {preset.name}"
        write_animation(pair, positions, out / f"{preset.name}.gif", frame_months=frame_months,
                        footer=animation_footer)
        figure = network_figure(pair, positions, style=SLIDE_STYLE)
        figure.text(0.995, 0.005, animation_footer, ha="right", va="bottom", fontsize=11,
                    color="#555555")
        write_atomic(out / f"{preset.name}_network.png",
                     lambda p: figure.savefig(p, format="png", dpi=120, metadata=metadata))
        entries.append({"preset": preset.name, "title": summary["title"],
                        "metric": summary["metric"], "difference": summary["difference"],
                        "after_final": summary["after_final"],
                        "before_final": summary["before_final"], "years": summary["years"],
                        "seed": seed, "replicate_seeds": seeds, "replicates": replicates,
                        "engine": engine, "files": [f"{preset.name}.png",
                                                    f"{preset.name}_network.png",
                                                    f"{preset.name}.gif"]})
    manifest = {"ci_sim": __version__, "seed": seed, "figures": entries}
    write_atomic(out / "figures.json", lambda p: p.write_text(json.dumps(manifest, indent=2)))
    return entries
