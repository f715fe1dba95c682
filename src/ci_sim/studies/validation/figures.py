"""Figure helpers every validation experiment's plot shares (on :mod:`ci_sim.studies.plotting`)."""

from __future__ import annotations

from pathlib import Path

from ci_sim import __version__
from ci_sim.studies.plotting import new_figure, save_png
from ci_sim.studies.validation.study import Results


def runs_label(results: Results) -> str:
    counts = sorted({len(values) for values in results.values.values()})
    runs = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f"{runs} runs per point, seed {results.base_seed}, ci-sim {__version__}"


def one_panel():
    figure, axes = new_figure(7, 4.8)
    return figure, axes[0, 0]


def finish(figure, axis, path: Path, results: Results, title: str) -> None:
    axis.grid(alpha=0.3)
    axis.legend(fontsize=9)
    axis.set_title(f"{title}\n{runs_label(results)}; mean and 95% interval", fontsize=10)
    figure.tight_layout()
    save_png(figure, path)


