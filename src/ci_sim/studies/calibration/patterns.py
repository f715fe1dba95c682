"""The patterns' statistics, and what one particle runs to get them.

:class:`Simulator` runs every run of a calibration with one particle's parameter values on
a list of seeds and returns the monthly values of the metrics the patterns read;
:func:`statistics` turns those into one number per pattern (means over seeds, so paired
differences between runs are on the same seeds: common random numbers); :func:`distance`
is how far a particle is from meeting every fitted pattern. Nothing here imports pyabc: the
posterior predictive check and simulation-based calibration use the same code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ci_sim.studies.calibration.targets import MONTHS, Pattern, Plan, particle_scenario
from ci_sim.studies.stats import first_year_reaching

#: Runs' trajectories: run -> metric -> array (seed, month), month 0 the start.
Trajectories = dict[str, dict[str, np.ndarray]]


def statistic(pattern: Pattern, runs: Trajectories) -> float:
    """``pattern``'s statistic from the runs' trajectories (see
    :data:`ci_sim.studies.calibration.targets.STATISTICS`), in the metric's unit (years for
    ``first_year``)."""
    series = runs[pattern.run][pattern.metric].mean(axis=0)
    other = None if pattern.versus is None else runs[pattern.versus][pattern.metric].mean(axis=0)
    kind = pattern.statistic
    if kind in ("value", "difference"):
        month = int(round(pattern.year * MONTHS))
        return float(series[month] - (0.0 if other is None else other[month]))
    if kind == "lowest_difference":
        start, end = int(round(pattern.from_year * MONTHS)), int(round(pattern.to_year * MONTHS))
        return float(np.min((series - other)[start + 1:end + 1]))
    gain = series - (series[0] if other is None else other)
    return float(first_year_reaching(gain, pattern.level))


def statistics(patterns: Sequence[Pattern], runs: Trajectories) -> dict[str, float]:
    """Every pattern's statistic, by pattern name."""
    return {pattern.name: statistic(pattern, runs) for pattern in patterns}


def excesses(patterns: Sequence[Pattern], values: dict[str, float]) -> dict[str, float]:
    """How far each pattern's statistic lies outside its band, in tolerances."""
    return {pattern.name: pattern.excess(values[pattern.name]) for pattern in patterns}


def distance(patterns: Sequence[Pattern], values: dict[str, float]) -> float:
    """Root of the weighted sum of squared excesses of the fitted ``patterns``: 0 exactly
    when every one is met."""
    total = 0.0
    for pattern in patterns:
        if pattern.fit:
            excess = pattern.excess(values[pattern.name])
            if not math.isfinite(excess):
                return math.inf
            total += pattern.weight * excess ** 2
    return math.sqrt(total)


@dataclass(frozen=True)
class Simulator:
    """Runs a calibration's runs for one particle (picklable: sent to workers).

    Attributes:
        tables: each run's scenario table (the targets' and the run's settings merged in).
        kept: each run's fitted parameters it sets itself (the run's value wins).
        metrics: the metrics each run must record.
        label: how errors name the targets file.
        engine: the model engine.
    """

    tables: dict[str, dict[str, Any]]
    kept: dict[str, tuple[str, ...]]
    metrics: dict[str, tuple[str, ...]]
    label: str
    engine: str

    @classmethod
    def of(cls, plan: Plan) -> Simulator:
        return cls({name: run.table for name, run in plan.runs.items()}, dict(plan.kept),
                   dict(plan.metrics), str(plan.path), plan.targets.engine)

    def scenario(self, run: str, values: dict[str, float]):
        return particle_scenario(self.tables[run], values, self.kept[run],
                                 f"{self.label}: runs.{run}")

    def run(self, run: str, values: dict[str, float], seed: int) -> dict[str, np.ndarray]:
        """One run's trajectories of its metrics on one seed."""
        from ci_sim.simulate import trajectories

        return trajectories(self.scenario(run, values), seed, self.metrics[run],
                            engine=self.engine)

    def simulate(self, values: dict[str, float], seeds: Sequence[int]) -> Trajectories:
        """Every run on every seed with the particle's ``values`` (dotted names)."""
        runs: Trajectories = {}
        for name in self.tables:
            per_seed = [self.run(name, values, seed) for seed in seeds]
            runs[name] = {metric: np.array([one[metric] for one in per_seed])
                          for metric in self.metrics[name]}
        return runs


@dataclass(frozen=True)
class PatternModel:
    """The model ABC-SMC fits: a particle's parameter values -> every pattern's statistic
    on the calibration seeds (picklable)."""

    simulator: Simulator
    patterns: tuple[Pattern, ...]
    seeds: tuple[int, ...]
    logarithmic: tuple[str, ...] = ()  # parameters fitted as their base-10 logarithm

    @classmethod
    def of(cls, plan: Plan) -> PatternModel:
        return cls(Simulator.of(plan), plan.patterns, plan.seeds, tuple(
            name for name, prior in plan.targets.parameters.items() if prior.logarithmic))

    def __call__(self, parameters: dict[str, float]) -> dict[str, float]:
        values = {name: 10.0 ** float(value) if name in self.logarithmic else float(value)
                  for name, value in parameters.items()}
        return statistics(self.patterns, self.simulator.simulate(values, self.seeds))
