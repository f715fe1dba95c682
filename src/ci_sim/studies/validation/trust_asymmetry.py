"""Trust builds slowly and breaks fast: the consequences of the trust update (ODD 7.10),
measured from runs and compared with their values derived from the formula."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ci_sim.studies.plotting import draw_points, new_figure, save_png
from ci_sim.studies.stats import interval
from ci_sim.studies.validation.figures import runs_label
from ci_sim.studies.validation.study import Check, Results


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


