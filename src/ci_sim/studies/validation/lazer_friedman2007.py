"""Lazer & Friedman (2007): the network structure of exploration and exploitation, as a
pattern (the fully connected network leads early, the linear network late)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ci_sim.studies.plotting import draw_band
from ci_sim.studies.validation.figures import finish, one_panel
from ci_sim.studies.validation.study import Check, Results, paired, signed


LAZER_FRIEDMAN_SOURCE = ("Lazer, D., & Friedman, A. (2007). The network structure of "
                         "exploration and exploitation. Administrative Science Quarterly, "
                         "52(4), 667-694.")
#: Step at which "early" performance is compared.
EARLY_STEP = 10


def analyse_lazer_friedman(results: Results) -> list[Check]:
    """The fully connected network leads early; the linear network ends higher."""
    full, linear = results.point(network="full"), results.point(network="linear")
    early = paired(results, full, linear, step=EARLY_STEP)
    late = paired(results, linear, full, step=-1)
    mean_full = results.values[full].mean(axis=0)
    mean_linear = results.values[linear].mean(axis=0)
    ahead = mean_linear >= mean_full
    crossing = next((step for step in range(len(ahead)) if ahead[step:].all()), None)
    end = len(mean_full) - 1
    finals = {results.points[i]["network"]: results.final(i).mean()
              for i in range(len(results.points))}
    order = " > ".join(f"{name} {value:.3f}" for name, value in
                       sorted(finals.items(), key=lambda item: -item[1]))
    return [
        Check(f"The fully connected network leads early (step {EARLY_STEP}: full minus linear)",
              "totally connected network better in the short run",
              f"{mean_full[EARLY_STEP]:.3f} vs {mean_linear[EARLY_STEP]:.3f}, difference "
              f"{signed(early)}",
              early["low"] > 0),
        Check(f"The linear network ends higher (step {end}: linear minus full)",
              "linear network better in the long run",
              f"{mean_linear[-1]:.3f} vs {mean_full[-1]:.3f}, difference {signed(late)}; "
              f"curves cross for good at step {crossing}; final: {order}",
              late["low"] > 0),
    ]


def plot_lazer_friedman(results: Results, path: Path) -> None:
    figure, axis = one_panel()
    for index, point in enumerate(results.points):
        values = results.values[index]
        draw_band(axis, np.arange(values.shape[1]), values,
                  label=point["network"].replace("_", " "))
    axis.set_xlabel("Time (periods)")
    axis.set_ylabel("Average performance, (payoff / max) ** 8")
    finish(figure, axis, path, results, "Average performance over time by network "
           "(cf. Lazer & Friedman 2007)")


