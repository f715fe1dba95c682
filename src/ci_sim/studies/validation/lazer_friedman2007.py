"""Lazer & Friedman (2007): the network structure of exploration and exploitation, docked
run by run with an independent re-implementation on the same landscapes, then the paper's
pattern (the fully connected network leads early, the linear network late) in both.

The reference is :mod:`ci_sim.reference.lazer_friedman2007`, a plain numpy program written
from the paper. Each model run hands its landscape (dependencies and contribution table, an
input like the paper's N and K) to the re-implementation, which computes its own best
payoff, builds its own network and draws its own starting solutions and explorations from
random numbers derived from the run's seed; the difference of the two mean scores is paired
run by run (:func:`docking_check`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ci_sim.model import STEPS_PER_YEAR, CollectiveImpactModel
from ci_sim.model.params import Scenario
from ci_sim.studies.plotting import draw_band
from ci_sim.studies.stats import interval
from ci_sim.studies.validation.figures import finish, one_panel
from ci_sim.studies.validation.study import Check, Results, signed

LAZER_FRIEDMAN_SOURCE = ("Lazer, D., & Friedman, A. (2007). The network structure of "
                         "exploration and exploitation. Administrative Science Quarterly, "
                         "52(4), 667-694.")
#: Step at which "early" performance is compared.
EARLY_STEP = 10
#: Rounds at which model and re-implementation are docked (those within the horizon, and
#: the horizon itself).
DOCKING_ROUNDS = (10, 50, 180)
#: Docking tolerance at every network and round: the mean paired difference (model minus
#: re-implementation) within LF_Z standard errors of zero (no larger than the runs' noise
#: explains; 12 such tests all pass by chance alone with probability 0.97) and within
#: +-LF_MARGIN (a difference too noisy to be told from zero, yet large, does not pass). The
#: networks where everyone soon shares one solution vary most from run to run (standard
#: deviation of a run's difference near 0.3 against 0.07 on the linear network at round 10),
#: so the linear network is where a wrong mechanism shows most sharply; with the
#: validation's 50 runs, 3 standard errors there are about 0.03 at round 10 against about
#: 0.12 on the full network, hence the wide margin, which only caps what z lets through.
LF_Z = 3.0
LF_MARGIN = 0.1
#: Pooled over the four networks (the mean of a run's four differences, the networks sharing
#: its landscape), the 95% interval of the mean difference at every round within this.
LF_POOLED_MARGIN = 0.08
#: Seed stream of the re-implementation, mixed with each run's seed.
REFERENCE_STREAM = 2007


def lazer_friedman_reference(scenario: Scenario, model: CollectiveImpactModel,
                             seed: int) -> np.ndarray:
    """The re-implementation on ``model``'s landscape and ``scenario``'s network and horizon:
    the agents' mean score at every round from 0, on random numbers of its own derived from
    the run's ``seed``."""
    from ci_sim.reference import lazer_friedman2007 as reference

    problem, learning = scenario.problem, scenario.learning
    if problem.strategy_bits != reference.CHOICES or problem.score_exponent != reference.EXPONENT:
        raise ValueError(f"{scenario.name}: the re-implementation has N = {reference.CHOICES} "
                         f"and scores to the power {reference.EXPONENT:g}")
    if learning.network in ("random", "small_world") and (learning.degree,
                                                           learning.rewiring) != (6, 0.1):
        raise ValueError(f"{scenario.name}: the re-implementation's networks have mean degree 6 "
                         "and rewiring 0.1")
    rounds = int(round(scenario.years * STEPS_PER_YEAR))
    rng = np.random.default_rng(np.random.SeedSequence([seed, REFERENCE_STREAM]))
    return reference.simulate(learning.network, rounds, rng,
                              agents=scenario.organizations.count,
                              problem=(np.array(model.deps), np.array(model.table)))


def rounds_of(results: Results) -> list[int]:
    return sorted({r for r in DOCKING_ROUNDS if r < results.horizon} | {results.horizon})


def gap(results: Results, index: int, step: int) -> dict[str, float]:
    """Model minus re-implementation at ``step`` of point ``index``, paired run by run:
    mean, 95% t interval, standard error and z."""
    differences = results.values[index][:, step] - results.paired[index][:, step]
    summary = interval(differences)
    se = float(differences.std(ddof=1) / np.sqrt(len(differences)))
    return {**summary, "se": se, "z": summary["mean"] / se if se > 0 else 0.0}


def docks(summary: dict[str, float]) -> bool:
    return abs(summary["z"]) <= LF_Z and abs(summary["mean"]) <= LF_MARGIN


def docking_check(results: Results, index: int) -> Check:
    """One network: model and re-implementation agree at every docking round."""
    network = results.points[index]["network"]
    rounds = rounds_of(results)
    gaps = {r: gap(results, index, r) for r in rounds}
    model, redone = results.values[index], results.paired[index]
    return Check(
        f"{network.replace('_', ' ').capitalize()} network: model minus re-implementation, "
        f"paired on the same {len(model)} landscapes, at rounds "
        f"{', '.join(map(str, rounds))}: the mean difference within {LF_Z:g} standard errors "
        f"of 0 and within +-{LF_MARGIN:g}",
        "the re-implementation's mean score (ci_sim.reference.lazer_friedman2007): "
        + "; ".join(f"round {r}: {redone[:, r].mean():.3f}" for r in rounds),
        "; ".join(f"round {r}: {model[:, r].mean():.3f}, difference {signed(g)} "
                  f"(z {g['z']:+.1f})" for r, g in gaps.items()),
        all(docks(g) for g in gaps.values()))


def pooled_check(results: Results) -> Check:
    """Over the networks: a run's mean difference over its networks (which share its
    landscape), then the mean over runs, at every docking round."""
    rounds = rounds_of(results)
    shared = min(len(values) for values in results.values.values())
    pooled = {r: interval(np.mean([results.values[i][:shared, r] - results.paired[i][:shared, r]
                                   for i in results.values], axis=0)) for r in rounds}
    return Check(
        f"Pooled over the {len(results.points)} networks, the mean difference at every "
        f"docking round is within +-{LF_POOLED_MARGIN:g}, interval included",
        "0",
        "; ".join(f"round {r}: {signed(g)}" for r, g in pooled.items()),
        all(max(abs(g["low"]), abs(g["high"])) <= LF_POOLED_MARGIN for g in pooled.values()))


def pattern_checks(results: Results) -> list[Check]:
    """The paper's finding, measured in the model and in the re-implementation alike."""
    full, linear = results.point(network="full"), results.point(network="linear")
    end = results.horizon
    implementations = {"model": results.values, "re-implementation": results.paired}
    early = {name: paired_values(values, full, linear, EARLY_STEP)
             for name, values in implementations.items()}
    late = {name: paired_values(values, linear, full, end)
            for name, values in implementations.items()}

    def crossing(values: dict[int, np.ndarray]) -> int | None:
        ahead = values[linear].mean(axis=0) >= values[full].mean(axis=0)
        return next((step for step in range(len(ahead)) if ahead[step:].all()), None)

    finals = {results.points[i]["network"]: results.values[i][:, end].mean()
              for i in range(len(results.points))}
    order = " > ".join(f"{name} {value:.3f}" for name, value in
                       sorted(finals.items(), key=lambda item: -item[1]))
    return [
        Check(f"The fully connected network leads early (round {EARLY_STEP}: full minus "
              "linear), in the model and in the re-implementation",
              "totally connected network better in the short run (pp. 679-681)",
              "; ".join(f"{name} {signed(value)}" for name, value in early.items()),
              all(value["low"] > 0 for value in early.values())),
        Check(f"The linear network ends higher (round {end}: linear minus full), in the model "
              "and in the re-implementation",
              "linear network better in the long run (pp. 679-681)",
              "; ".join(f"{name} {signed(value)}, curves cross for good at round "
                        f"{crossing(values)}" for (name, value), values
                        in zip(late.items(), implementations.values()))
              + f"; model's final order: {order}",
              all(value["low"] > 0 for value in late.values())),
    ]


def paired_values(values: dict[int, np.ndarray], first: int, second: int,
                  step: int) -> dict[str, float]:
    """first minus second at ``step`` over shared replicates (same landscapes)."""
    shared = min(len(values[first]), len(values[second]))
    return interval(values[first][:shared, step] - values[second][:shared, step])


def analyse_lazer_friedman(results: Results) -> list[Check]:
    """Dock every network with the re-implementation, pooled over networks, then the
    paper's pattern in both implementations (when the grid has the linear and the full
    network)."""
    docking = [docking_check(results, index) for index in range(len(results.points))]
    networks = {point["network"] for point in results.points}
    if len(networks) > 1:
        docking.append(pooled_check(results))
    if {"linear", "full"} <= networks:
        docking += pattern_checks(results)
    return docking


def plot_lazer_friedman(results: Results, path: Path) -> None:
    figure, axis = one_panel()
    for index, point in enumerate(results.points):
        values = results.values[index]
        steps = np.arange(values.shape[1])
        line = draw_band(axis, steps, values, label=point["network"].replace("_", " "))
        if results.paired:
            axis.plot(steps, results.paired[index].mean(axis=0), color=line.get_color(),
                      lw=1, ls="--")
    axis.set_xlabel("Time (rounds, periods)")
    axis.set_ylabel("Average performance, (payoff / max) ** 8")
    finish(figure, axis, path, results, "Average performance over time by network "
           "(cf. Lazer & Friedman 2007); dashed: re-implementation")
