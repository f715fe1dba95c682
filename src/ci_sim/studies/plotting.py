"""Plot set-up shared by every study: ``matplotlib.figure.Figure`` objects, never pyplot.

A :class:`~matplotlib.figure.Figure` made directly draws with its own canvas, so nothing
here calls ``matplotlib.use`` or touches the global backend or pyplot's figure list: a
notebook user's backend stays as it was, and figures are freed with their last reference.
Intervals drawn here are :func:`ci_sim.studies.stats.interval`, the same as the tables'.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ci_sim.studies.stats import LEVEL, intervals

#: Okabe & Ito (2008) colours, readable with every common form of colour blindness.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
           "#000000")


def new_figure(width: float, height: float, *, rows: int = 1, columns: int = 1,
               **subplots) -> tuple[Figure, np.ndarray]:
    """A figure of ``width`` x ``height`` inches with a ``rows`` x ``columns`` grid of axes
    (always a 2-d array)."""
    figure = Figure(figsize=(width, height))
    axes = figure.subplots(rows, columns, squeeze=False, **subplots)
    return figure, axes


def panels(count: int, *, width: float, height: float, columns: int = 2, **subplots
           ) -> tuple[Figure, list]:
    """A figure with ``count`` panels, ``columns`` per row; unused panels hidden."""
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    figure, axes = new_figure(width * columns, height * rows, rows=rows, columns=columns,
                              **subplots)
    flat = list(axes.flat)
    for spare in flat[count:]:
        spare.set_visible(False)
    return figure, flat[:count]


def png_bytes(figure: Figure, *, dpi: int = 110, metadata: dict[str, str] | None = None
              ) -> bytes:
    """The figure as PNG bytes (``metadata``: PNG text chunks such as Software)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def save_png(figure: Figure, path: Path, *, dpi: int = 110,
             metadata: dict[str, str] | None = None) -> None:
    """Write the figure to ``path`` as PNG."""
    Path(path).write_bytes(png_bytes(figure, dpi=dpi, metadata=metadata))


def draw_points(axis, xs: Sequence[float], summaries: Sequence[dict[str, float]], *,
                label: str, marker: str = "o", **style) -> None:
    """Means with error bars from :func:`ci_sim.studies.stats.interval` summaries."""
    means = np.array([row["mean"] for row in summaries])
    errors = np.array([[row["mean"] - row["low"] for row in summaries],
                       [row["high"] - row["mean"] for row in summaries]])
    axis.errorbar(xs, means, yerr=errors, marker=marker, capsize=3, lw=1.5, label=label,
                  **style)


def draw_band(axis, x: Sequence[float], values, *, label: str, colour: str | None = None,
              level: float = LEVEL, **style):
    """The mean of ``values`` (replicates x len(x)) as a line with its interval as a band
    (no band for a single replicate). Returns the line."""
    mean, low, high = intervals(values, level)
    line, = axis.plot(x, mean, label=label, color=colour, lw=2, **style)
    if np.asarray(values).shape[0] >= 2:
        axis.fill_between(x, low, high, color=line.get_color(), alpha=0.2, lw=0)
    return line


def percent_axis(axis, which: str = "x") -> None:
    """Label an axis holding shares 0..1 as percentages."""
    (axis.xaxis if which == "x" else axis.yaxis).set_major_formatter(
        PercentFormatter(1.0, decimals=0))


def finish(figure: Figure, title: str, *, fontsize: float = 10) -> Figure:
    """Title the figure and lay it out."""
    figure.suptitle(title, fontsize=fontsize)
    figure.tight_layout()
    return figure
