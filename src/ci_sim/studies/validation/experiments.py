"""The published experiments validation docks with: March (1991), Lazer & Friedman (2007)
and the trust update's consequences; each an :class:`~ci_sim.studies.validation.study.Experiment`
with its analysis (the checks) and its figure."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ci_sim import __version__
from ci_sim.model import STEPS_PER_YEAR
from ci_sim.model.params import Scenario
from ci_sim.studies.plotting import draw_band, draw_points, new_figure, save_png
from ci_sim.studies.stats import interval, normal_interval
from ci_sim.studies.validation.study import (CHI2_ALPHA, DOCKING_MARGIN, MARCH_PRECISION,
                                             POOLED_MARGIN, Check, Experiment, Results,
                                             difference, paired, signed, signed4)

#: The normal quantile of a two-sided 95% interval (differences pooled over many runs).
NORMAL_95 = float(stats.norm.ppf(0.975))


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




# ---------------------------------------------------------------------------- March (1991)
MARCH_SOURCE = ("March, J. G. (1991). Exploration and exploitation in organizational "
                "learning. Organization Science, 2(1), 71-87.")


def where(point: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in point.items())


def docking_checks(results: Results) -> list[Check]:
    """Model against the independent reference at every grid point, as numbers.

    1. Every point: the 95% interval of model - reference lies within +-DOCKING_MARGIN.
    2. Pooled over the grid: the mean difference's 95% interval within +-POOLED_MARGIN (a
       small bias everywhere shows here even when each point is within its margin).
    3. The standardized differences z = difference / standard error: sum z^2 against a
       chi-square with one degree of freedom per point, p >= CHI2_ALPHA (the differences are
       no larger than the runs' noise explains).
    """
    diffs = [difference(results, index) for index in range(len(results.points))]
    count = len(diffs)
    edges = [max(abs(d["low"]), abs(d["high"])) for d in diffs]
    worst = int(np.argmax(edges))
    inside = sum(edge <= DOCKING_MARGIN for edge in edges)
    tight = sum(edge <= DOCKING_MARGIN / 2 for edge in edges)
    halves = [(d["high"] - d["low"]) / 2 for d in diffs]
    pooled_mean = float(np.mean([d["mean"] for d in diffs]))
    pooled_half = NORMAL_95 * math.sqrt(sum(d["se"] ** 2 for d in diffs)) / count
    chi2 = float(sum(d["z"] ** 2 for d in diffs))
    p_value = float(stats.chi2.sf(chi2, count))
    runs = sorted({len(results.final(i)) for i in range(count)})
    reference_runs = sorted({len(v) for v in results.reference.values()})
    return [
        Check(f"At every one of the {count} grid points, model minus independent "
              f"re-implementation is within +-{DOCKING_MARGIN:g}, interval included",
              f"the re-implementation's value (ci_sim.reference.march1991, "
              f"{reference_runs[0]}-{reference_runs[-1]} runs per point)",
              f"{inside}/{count} intervals within +-{DOCKING_MARGIN:g}, {tight}/{count} within "
              f"+-{DOCKING_MARGIN / 2:g}; widest edge {edges[worst]:.4f} at {where(results.points[worst])} "
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
    """first minus second, for the model (paired replicates) and for the reference
    (independent runs), and the difference of the two (normal 95% interval)."""
    model = paired(results, first, second)
    a, b = results.reference[first], results.reference[second]
    mean = float(a.mean() - b.mean())
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    reference = normal_interval(mean, se)
    model_se = (model["high"] - model["low"]) / (2 * NORMAL_95)
    return {"model": model, "reference": reference,
            "gap": normal_interval(model["mean"] - mean, math.sqrt(se ** 2 + model_se ** 2))}


def within(summary: dict[str, float], margin: float) -> bool:
    return max(abs(summary["low"]), abs(summary["high"])) <= margin


def consistent(gap: dict[str, float]) -> bool:
    """A gap from the reference within the docking margin and within 3 standard errors."""
    se = (gap["high"] - gap["low"]) / (2 * NORMAL_95)
    return abs(gap["mean"]) <= DOCKING_MARGIN and (se == 0 or abs(gap["mean"]) / se <= 3)


def analyse_march_learning_rates(results: Results) -> list[Check]:
    """Dock every point of Figure 1 with the re-implementation, then Figure 1's fan in numbers."""
    grid = results.experiment.grid
    p1_values = grid["learning.socialization_rate"]
    p2_values = grid["learning.agenda_learning_rate"]
    slow, fast = min(p1_values), max(p1_values)
    low_p2, high_p2 = min(p2_values), max(p2_values)
    falls = {p2: contrast(results, results.point(socialization_rate=slow, agenda_learning_rate=p2),
                          results.point(socialization_rate=fast, agenda_learning_rate=p2))
             for p2 in (low_p2, high_p2)}
    high, low = (fall_per_replicate(results, p2, slow, fast) for p2 in (high_p2, low_p2))
    shared = min(len(high), len(low))
    fan = interval(high[:shared] - low[:shared])
    # A fall is the difference of two points, so its gap from the reference's is about
    # 1.4 times as noisy as a point's: it must be within the margin and within 3 standard
    # errors of zero (consistent with the runs' noise), rather than interval included.
    agree = all(consistent(fall["gap"]) for fall in falls.values())
    return docking_checks(results) + [
        Check(f"Figure 1's fan: knowledge falls from p1 = {slow:g} to {fast:g}, by more when the "
              f"code learns fast (p2 = {high_p2:g}) than slowly (p2 = {low_p2:g}); the model's "
              f"falls within +-{DOCKING_MARGIN:g} of the re-implementation's and within 3 "
              "standard errors of them",
              "; ".join(f"fall at p2 = {p2:g}: {signed(fall['reference'])}"
                        for p2, fall in falls.items()),
              "; ".join(f"fall at p2 = {p2:g}: {signed(fall['model'])}, minus reference "
                        f"{signed(fall['gap'])}" for p2, fall in falls.items())
              + f"; fan (p2 = {high_p2:g} minus p2 = {low_p2:g}): {signed(fan)}",
              agree and fan["low"] > 0 and falls[high_p2]["model"]["low"] > 0),
    ]


def fall_per_replicate(results: Results, p2: float, slow: float, fast: float) -> np.ndarray:
    a = results.final(results.point(socialization_rate=slow, agenda_learning_rate=p2))
    b = results.final(results.point(socialization_rate=fast, agenda_learning_rate=p2))
    shared = min(len(a), len(b))
    return a[:shared] - b[:shared]


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
              f"as in the re-implementation (within +-{DOCKING_MARGIN:g})",
              f"gain {signed(gain['reference'])}",
              f"gain {signed(gain['model'])}, minus reference {signed(gain['gap'])}; knowledge "
              f"peaks at p3 = " + ", ".join(f"{best_p3(p1):g} (p1 = {p1:g})" for p1 in p1_values),
              gain["model"]["low"] > 0 and within(gain["gap"], DOCKING_MARGIN)),
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


# ---------------------------------------------------------------------------- Lazer & Friedman
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


# ---------------------------------------------------------------------------- trust
#: Trust level at which build and destruction are compared (and the experiment starts).
TRUST_START = 0.5


def first_month_change(results: Results, index: int) -> np.ndarray:
    values = results.values[index]
    return values[:, 1] - values[:, 0]


def months_to_move(trajectory: np.ndarray, target: float) -> float:
    """Months (linearly interpolated) until ``trajectory`` first reaches ``target``."""
    start = trajectory[0]
    moved = np.abs(trajectory - start)
    distance = abs(target - start)
    after = np.nonzero(moved >= distance)[0]
    if len(after) == 0:
        return math.inf
    step = int(after[0])
    before = moved[step - 1]
    return step - 1 + (distance - before) / (moved[step] - before)


def break_even(results: Results, relationships: float) -> np.ndarray:
    """Per replicate: the share of violations at which the first month's change of mean
    trust is zero, interpolated between the grid's violation shares (the expected change is
    linear in the share)."""
    rates = results.experiment.grid["trust.violation_rate"]
    changes = np.array([first_month_change(results, results.point(
        violation_rate=q, relationships=relationships)) for q in rates])
    shares = np.full(changes.shape[1], np.nan)
    for r in range(changes.shape[1]):
        for (q0, c0), (q1, c1) in itertools.pairwise(zip(rates, changes[:, r])):
            if c0 > 0 >= c1:
                shares[r] = q0 + c0 * (q1 - q0) / (c0 - c1)
                break
    return shares


def expected_trust(start: float, step: Callable[[float], float], months: int) -> np.ndarray:
    """Expected trust of one tie over ``months``, from the update formula (ODD 7.10): the tie
    meets with probability equal to its trust (full communication) and each meeting moves
    trust by ``step``. Trust after j meetings is step applied j times, so the chance of
    each meeting count is a Markov chain on j, solved exactly."""
    levels = [start]
    for _ in range(months):
        levels.append(step(levels[-1]))
    chance = np.zeros(months + 1)
    chance[0] = 1.0
    mean = [start]
    for _ in range(months):
        moved = chance * np.array(levels)
        chance = chance - moved
        chance[1:] += moved[:-1]
        mean.append(float(chance @ np.array(levels)))
    return np.array(mean)


def analyse_trust(results: Results) -> list[Check]:
    """Consequences of the trust update (ODD 7.10), measured from runs and compared with
    their values derived from the formula.

    With build rate b, negativity bias k and the relationships mindset r, a good meeting
    adds b (1 + r)(1 - T) and a violation removes k b T. At trust T = 1/2 the share of
    violations at which trust holds steady is q* = (1 + r) / (1 + r + k): (1 - q*) / q* =
    k / (1 + r) good meetings make up for one violation; one violation costs
    ln((1 - T (1 - k b)) / (1 - T)) / -ln(1 - b (1 + r)) good meetings to recover. When every
    meeting is good (or every one a violation) the mean trust path has an exact expected
    value (:func:`expected_trust`); the runs must follow it month by month.
    """
    scenario = results.scenarios[0]
    b, k, start = scenario.trust.build_rate, scenario.trust.negativity_bias, scenario.trust.initial
    rates = results.experiment.grid["trust.violation_rate"]
    never, always = min(rates), max(rates)
    checks = []
    for r in results.experiment.grid["mindsets.relationships"]:
        build, destroy = b * (1 + r), min(1.0, k * b)
        target = build * (1 - start) / (build * (1 - start) + destroy * start)
        measured = break_even(results, r)
        summary = interval(measured[~np.isnan(measured)])
        per_violation = (1 - summary["mean"]) / summary["mean"]
        recover = math.log((1 - start * (1 - destroy)) / (1 - start)) / -math.log(1 - build)
        checks.append(Check(
            f"Relationships mindset {r:g}: share of violations at which trust {start:g} holds "
            f"steady, so good meetings that make up for one violation",
            f"{target:.3f} from the formula, {(1 - target) / target:.2f} good meetings per "
            f"violation (one violation takes {recover:.2f} good meetings to recover)",
            f"{summary['mean']:.3f} [{summary['low']:.3f}, {summary['high']:.3f}], "
            f"{per_violation:.2f} good meetings per violation; "
            f"{int(np.isnan(measured).sum())} of {len(measured)} runs without a crossing",
            abs(summary["mean"] - target) <= TRUST_TOLERANCE and not np.isnan(measured).any()))
        paths = []
        worst = 0.0
        for q, step in ((never, lambda t: t + build * (1 - t)),
                        (always, lambda t: t - destroy * t)):
            values = results.values[results.point(violation_rate=q, relationships=r)]
            expected = expected_trust(start, step, values.shape[1] - 1)
            gap = values.mean(axis=0) - expected
            worst = max(worst, float(np.abs(gap).max()))
            up = q == never
            half = months_to_move(values.mean(axis=0), (1 + start) / 2 if up else start / 2)
            half_expected = months_to_move(expected, (1 + start) / 2 if up else start / 2)
            paths.append(f"{'all good' if up else 'all violations'}: half way to "
                         f"{'full trust' if up else 'none'} in {half:.2f} months "
                         f"(formula {half_expected:.2f})")
        checks.append(Check(
            f"Relationships mindset {r:g}: mean trust month by month when every meeting is "
            f"good and when every one is a violation, against its expected path",
            f"the formula's expected path (largest gap <= {TRUST_PATH_TOLERANCE:g})",
            f"largest gap {worst:.4f}; " + "; ".join(paths),
            worst <= TRUST_PATH_TOLERANCE))
    return checks


#: How far a measured break-even share of violations may be from the formula's.
TRUST_TOLERANCE = 0.01
#: How far the mean trust path may be from its expected path, in any month.
TRUST_PATH_TOLERANCE = 0.005


def plot_trust(results: Results, path: Path) -> None:
    grid = results.experiment.grid
    rates = grid["trust.violation_rate"]
    figure, axes = new_figure(11, 4.5, columns=2)
    left, right = axes[0]
    for relationships, style in zip(grid["mindsets.relationships"], ("-", "--")):
        for rate, colour in ((min(rates), "#009E73"), (max(rates), "#D55E00")):
            mean = results.values[results.point(violation_rate=rate,
                                                relationships=relationships)].mean(axis=0)
            kind = "every meeting good" if rate == min(rates) else "every meeting a violation"
            left.plot(np.arange(len(mean)), mean, style, color=colour, lw=2,
                      label=f"{kind}, relationships {relationships:g}")
        change = [interval(first_month_change(results, results.point(
            violation_rate=q, relationships=relationships))) for q in rates]
        draw_points(right, rates, change, label=f"relationships mindset {relationships:g}",
                    marker="o" if style == "-" else "s")
    left.axhline(TRUST_START, color="grey", lw=0.8)
    left.set_xlabel("Months (one meeting with every partner per month)")
    left.set_ylabel("Mean trust")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    right.axhline(0.0, color="grey", lw=0.8)
    right.set_xlabel("Share of meetings that are violations")
    right.set_ylabel(f"Change of mean trust in one month, from {TRUST_START:g}")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    figure.suptitle(f"Trust builds slowly and breaks fast ({runs_label(results)})")
    figure.tight_layout()
    save_png(figure, path)


# ---------------------------------------------------------------------------- figures
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


# ---------------------------------------------------------------------------- the registry
EXPERIMENTS: dict[str, Experiment] = {experiment.name: experiment for experiment in (
    Experiment(
        name="march1991_learning_rates",
        title="March (1991): equilibrium knowledge over socialization rate p1 x code "
              "learning rate p2, docked with an independent re-implementation",
        source=MARCH_SOURCE,
        compared_with="Figure 1 (p. 76), Effect of learning rates (p1, p2) on equilibrium "
                      "knowledge, m = 30, n = 50, at every point of its grid (p1, p2 = 0.1 .. "
                      "0.9), against `ci_sim.reference.march1991`, a plain numpy program "
                      "written from the paper that shares no code with the model. We do not "
                      "have the paper's plotted values to the second decimal, so the numbers "
                      "are compared with the re-implementation's.",
        grid={"learning.socialization_rate": tuple(round(0.1 * i, 1) for i in range(1, 10)),
              "learning.agenda_learning_rate": tuple(round(0.1 * i, 1) for i in range(1, 10))},
        metric="agenda_knowledge", runs=120, precision=MARCH_PRECISION, max_runs=2000,
        until_equilibrium=True, reference=march_reference,
        analyse=analyse_march_learning_rates, plot=plot_march_learning_rates,
        notes="The model's special case is March's program (`problem.initial_beliefs = "
              "\"march\"`): each period every member acts on its beliefs, an undecided "
              "dimension as a fair coin flip (`kernels.act`); the superior group is the members "
              "whose action performance, right minus wrong, exceeds the code's; on each "
              "dimension where the superior group's majority action differs from the code, the "
              "code adopts it with probability 1 - (1 - p2)^k, k = majority minus minority "
              "(`kernels.learn_agenda`); each belief differing from a decided code moves one "
              "step towards it with probability p1 (`kernels.socialize`); the code learns from "
              "the actions taken on the period's starting beliefs. Knowledge is (right - wrong) "
              "/ m. A run stops when absorbing (the code decided on every dimension and every "
              "member sharing it), or at 1,200 periods. Model and re-implementation run "
              "independent random numbers; the re-implementation runs twice the model's "
              "replicates at each point."),
    Experiment(
        name="march1991_turnover",
        title="March (1991): knowledge of the code under turnover, slow and fast "
              "socialization, docked with the re-implementation",
        source=MARCH_SOURCE,
        compared_with="The turnover results of the section on mutual learning with turnover "
                      "(pp. 78-79): moderate turnover improves the code's knowledge when "
                      "socialization is fast. Every point is compared with "
                      "`ci_sim.reference.march1991` at the same horizon.",
        grid={"learning.socialization_rate": (0.1, 0.5, 0.9),
              "learning.turnover": (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)},
        metric="agenda_knowledge", runs=60, precision=MARCH_PRECISION, max_runs=1500,
        reference=march_reference,
        analyse=analyse_march_turnover, plot=plot_march_turnover,
        notes="With turnover there is no absorbing "
              "state: knowledge is measured after the scenario's horizon (`years` x 12 "
              "periods), by the model and by the re-implementation. Each period each member "
              "leaves with probability p3 and a newcomer with naive beliefs (-1, 0, +1 equally "
              "likely; March, p. 79) takes its place before the period's actions."),
    Experiment(
        name="lazer_friedman2007",
        title="Lazer & Friedman (2007): average performance over time on four networks",
        source=LAZER_FRIEDMAN_SOURCE,
        compared_with="The comparison of the linear and the totally connected network over "
                      "time (results section, pp. 679-681): the totally connected network "
                      "reaches a higher average score early, the linear network a higher "
                      "score in the long run. Compared as a pattern; figure numbers and "
                      "values not checked against the paper.",
        grid={"learning.network": ("linear", "small_world", "random", "full")},
        metric="strategy_score", runs=50, trajectory=True,
        analyse=analyse_lazer_friedman, plot=plot_lazer_friedman,
        notes="Small-world: connected Watts-Strogatz graph, 6 neighbours, rewiring 0.1; random: "
              "G(n, m) graph with 300 ties (mean degree 6); linear: a ring. Each replicate "
              "seed draws one landscape and one set of starting strategies, shared by all "
              "four networks."),
    Experiment(
        name="trust_asymmetry",
        title="Trust: a violation destroys trust faster than a good meeting builds it, "
              "and what that costs",
        source="Negativity bias in trust (recent trust models put it near 3); mechanism after "
               "Gorobets, A., & Nooteboom, B. (2006), Agent-based modeling of trust between "
               "firms in markets.",
        compared_with="The consequences of the update formula (ODD 7.10) derived by hand: the "
                      "share of violations at which trust holds steady (so how many good "
                      "meetings make up for one violation), and the exact expected path of "
                      "mean trust when every meeting is good or every one a violation, "
                      "meetings themselves depending on trust.",
        grid={"mindsets.relationships": (0.0, 1.0),
              "trust.violation_rate": (0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0)},
        metric="mean_trust", runs=100, trajectory=True,
        analyse=analyse_trust, plot=plot_trust,
        notes="Break-even shares are interpolated per replicate between the grid's violation "
              "shares from the first month's change of mean trust (every grid point runs on "
              "the same replicate seeds, so the same ties meet in the first month at every "
              "share). A wrong formula (a violation removing k b (1 - T) instead of k b T, a "
              "mindset that does not double the build rate, meetings that do not depend on "
              "trust) moves the break-even share or the path."),
)}


