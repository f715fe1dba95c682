"""March (1991), docked with an independent re-implementation: equilibrium knowledge over
the learning rates (Figure 1) and knowledge under turnover.

The reference is :mod:`ci_sim.reference.march1991`, a plain numpy program written from the
paper; model and reference run independent random numbers and their differences are
pooled over the grid (:func:`docking_checks`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ci_sim.model import STEPS_PER_YEAR
from ci_sim.model.params import Scenario
from ci_sim.studies.plotting import draw_points
from ci_sim.studies.stats import (interval, normal_interval, normal_quantile, span,
                                  welch_difference)
from ci_sim.studies.validation.figures import finish, one_panel
from ci_sim.studies.validation.study import (CHI2_ALPHA, POOLED_MARGIN, Check, Results,
                                             difference, signed, signed4)

#: The normal quantile of a two-sided 95% interval (differences pooled over many runs).
NORMAL_95 = normal_quantile(0.975)


def march_reference(scenario: Scenario, runs: int, seed: int,
                    until_equilibrium: bool) -> np.ndarray:
    """March (1991) by :mod:`ci_sim.reference.march1991`, at the scenario's p1, p2, p3, m, n
    and horizon: the code's final knowledge, (right - wrong) / m, per run."""
    from ci_sim.reference import march1991

    learning = scenario.learning
    return march1991.simulate(learning.socialization_rate, learning.agenda_learning_rate, runs,
                              np.random.default_rng(seed), p3=learning.turnover,
                              m=scenario.problem.strategy_bits, n=scenario.organizations.count,
                              periods=int(round(scenario.years * STEPS_PER_YEAR)),
                              until_equilibrium=until_equilibrium)["knowledge"]






MARCH_SOURCE = ("March, J. G. (1991). Exploration and exploitation in organizational "
                "learning. Organization Science, 2(1), 71-87.")


def where(point: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in point.items())


def docking_checks(results: Results) -> list[Check]:
    """Model against the independent reference at every grid point, as numbers.

    1. Every point: the 95% interval of model - reference lies within +-margin (the
       experiment's).
    2. Pooled over the grid: the mean difference's 95% interval within +-POOLED_MARGIN (a
       small bias everywhere shows here even when each point is within its margin).
    3. The standardized differences z = difference / standard error: sum z^2 against a
       chi-square with one degree of freedom per point, p >= CHI2_ALPHA (the differences are
       no larger than the runs' noise explains).
    """
    margin = results.experiment.margin
    diffs = [difference(results, index) for index in range(len(results.points))]
    count = len(diffs)
    edges = [max(abs(d["low"]), abs(d["high"])) for d in diffs]
    worst = int(np.argmax(edges))
    inside = sum(edge <= margin for edge in edges)
    tight = sum(edge <= margin / 2 for edge in edges)
    halves = [span(d) for d in diffs]
    pooled_mean = float(np.mean([d["mean"] for d in diffs]))
    pooled_half = NORMAL_95 * math.sqrt(sum(d["se"] ** 2 for d in diffs)) / count
    chi2 = float(sum(d["z"] ** 2 for d in diffs))
    p_value = float(stats.chi2.sf(chi2, count))
    runs = sorted({len(results.final(i)) for i in range(count)})
    reference_runs = sorted({len(v) for v in results.reference.values()})
    return [
        Check(f"At every one of the {count} grid points, model minus independent "
              f"re-implementation is within +-{margin:g}, interval included",
              f"the re-implementation's value (ci_sim.reference.march1991, "
              f"{reference_runs[0]}-{reference_runs[-1]} runs per point)",
              f"{inside}/{count} intervals within +-{margin:g}, {tight}/{count} within "
              f"+-{margin / 2:g}; widest edge {edges[worst]:.4f} at {where(results.points[worst])} "
              f"({signed4(diffs[worst])}); half-widths {min(halves):.4f}-{max(halves):.4f}; model "
              f"runs {runs[0]}-{runs[-1]} per point",
              inside == count),
        Check(f"Pooled over the grid, the mean difference is within +-{POOLED_MARGIN:g}",
              "0",
              f"{pooled_mean:+.4f} [{pooled_mean - pooled_half:+.4f}, "
              f"{pooled_mean + pooled_half:+.4f}]",
              abs(pooled_mean) + pooled_half <= POOLED_MARGIN),
        Check("The differences are no larger than the runs' noise: chi-square of the "
              f"standardized differences on {count} degrees of freedom",
              f"p >= {CHI2_ALPHA:g}",
              f"chi2 {chi2:.1f} / {count}, p = {p_value:.2f}; largest |z| "
              f"{max(abs(d['z']) for d in diffs):.2f}",
              p_value >= CHI2_ALPHA),
    ]


def contrast(results: Results, first: int, second: int) -> dict[str, dict[str, float]]:
    """first minus second, for the model and for the reference (each point has runs of its
    own: independent samples, Welch intervals), and the difference of the two (normal 95%
    interval)."""
    model = welch_difference(results.final(first), results.final(second))
    reference = welch_difference(results.reference[first], results.reference[second])
    return {"model": model, "reference": reference,
            "gap": gap_between(model, reference)}


def gap_between(first: dict[str, float], second: dict[str, float]) -> dict[str, float]:
    """``first - second`` of two independent estimates with standard errors ``se``."""
    return normal_interval(first["mean"] - second["mean"],
                           math.sqrt(first["se"] ** 2 + second["se"] ** 2))


def within(summary: dict[str, float], margin: float) -> bool:
    return max(abs(summary["low"]), abs(summary["high"])) <= margin


def consistent(gap: dict[str, float], margin: float) -> bool:
    """A gap from the reference within the docking margin and within 3 standard errors."""
    se = (gap["high"] - gap["low"]) / (2 * NORMAL_95)
    return abs(gap["mean"]) <= margin and (se == 0 or abs(gap["mean"]) / se <= 3)


def analyse_march_learning_rates(results: Results) -> list[Check]:
    """Dock every point of Figure 1 with the re-implementation, then Figure 1's fan in numbers."""
    grid = results.experiment.grid
    p1_values = grid["learning.socialization_rate"]
    p2_values = grid["learning.agenda_learning_rate"]
    slow, fast = min(p1_values), max(p1_values)
    low_p2, high_p2 = min(p2_values), max(p2_values)
    margin = results.experiment.margin
    falls = {p2: contrast(results, results.point(socialization_rate=slow, agenda_learning_rate=p2),
                          results.point(socialization_rate=fast, agenda_learning_rate=p2))
             for p2 in (low_p2, high_p2)}
    fan = gap_between(falls[high_p2]["model"], falls[low_p2]["model"])
    # A fall is the difference of two points, so its gap from the reference's is about
    # 1.4 times as noisy as a point's: it must be within the margin and within 3 standard
    # errors of zero (consistent with the runs' noise), rather than interval included.
    agree = all(consistent(fall["gap"], margin) for fall in falls.values())
    return docking_checks(results) + [
        Check(f"Figure 1's fan: knowledge falls from p1 = {slow:g} to {fast:g}, by more when the "
              f"code learns fast (p2 = {high_p2:g}) than slowly (p2 = {low_p2:g}); the model's "
              f"falls within +-{margin:g} of the re-implementation's and within 3 "
              "standard errors of them",
              "; ".join(f"fall at p2 = {p2:g}: {signed(fall['reference'])}"
                        for p2, fall in falls.items()),
              "; ".join(f"fall at p2 = {p2:g}: {signed(fall['model'])}, minus reference "
                        f"{signed(fall['gap'])}" for p2, fall in falls.items())
              + f"; fan (p2 = {high_p2:g} minus p2 = {low_p2:g}): {signed(fan)}",
              agree and fan["low"] > 0 and falls[high_p2]["model"]["low"] > 0),
    ]


def analyse_march_turnover(results: Results) -> list[Check]:
    """Dock every point with the re-implementation; the gain from moderate turnover under
    fast socialization, as a number, against the re-implementation's."""
    grid = results.experiment.grid
    p1_values, p3_values = grid["learning.socialization_rate"], grid["learning.turnover"]
    fast = max(p1_values)
    moderate = MODERATE_TURNOVER
    gain = contrast(results, results.point(socialization_rate=fast, turnover=moderate),
                    results.point(socialization_rate=fast, turnover=0.0))

    def best_p3(p1: float) -> float:
        return max(p3_values, key=lambda p3: results.final(
            results.point(socialization_rate=p1, turnover=p3)).mean())

    return docking_checks(results) + [
        Check(f"Moderate turnover (p3 = {moderate:g}) raises the code's knowledge after "
              f"{results.horizon} periods when socialization is fast (p1 = {fast:g}), by as much "
              f"as in the re-implementation (within +-{results.experiment.margin:g})",
              f"gain {signed(gain['reference'])}",
              f"gain {signed(gain['model'])}, minus reference {signed(gain['gap'])}; knowledge "
              f"peaks at p3 = " + ", ".join(f"{best_p3(p1):g} (p1 = {p1:g})" for p1 in p1_values),
              gain["model"]["low"] > 0 and within(gain["gap"], results.experiment.margin)),
    ]


#: The "moderate" turnover compared with no turnover: 2% of members replaced per period.
MODERATE_TURNOVER = 0.02


def plot_march_learning_rates(results: Results, path: Path) -> None:
    grid = results.experiment.grid
    p1_values = grid["learning.socialization_rate"]
    figure, axis = one_panel()
    for p2, marker in zip(grid["learning.agenda_learning_rate"], "os^D"):
        rows = [interval(results.final(results.point(socialization_rate=p1,
                                                     agenda_learning_rate=p2)))
                for p1 in p1_values]
        draw_points(axis, p1_values, rows, label=f"p2 = {p2:g}", marker=marker)
    axis.set_xlabel("Socialization rate (p1)")
    axis.set_ylabel("Equilibrium knowledge of the code")
    finish(figure, axis, path, results, "Effect of learning rates (p1, p2) on equilibrium "
           "knowledge (cf. March 1991, Fig. 1)")


def plot_march_turnover(results: Results, path: Path) -> None:
    grid = results.experiment.grid
    p3_values = grid["learning.turnover"]
    figure, axis = one_panel()
    for p1, marker in zip(grid["learning.socialization_rate"], "os^D"):
        rows = [interval(results.final(results.point(socialization_rate=p1, turnover=p3)))
                for p3 in p3_values]
        draw_points(axis, p3_values, rows, label=f"p1 = {p1:g}", marker=marker)
    axis.set_xlabel("Turnover rate (p3, per period)")
    axis.set_ylabel(f"Knowledge of the code after {results.horizon} periods")
    finish(figure, axis, path, results, "Effect of turnover (p3) and socialization rate (p1) "
           "on knowledge, p2 = 0.5 (cf. March 1991)")


