"""A finished calibration, as the fit, the checks and the report pass it on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ci_sim.studies.calibration.targets import Plan


@dataclass
class CalibrationResult:
    """A finished calibration.

    Attributes:
        plan: what was fitted.
        generations: one row per generation (:func:`.smc.read_generations`).
        stop: why the fit stopped.
        posterior: the final generation: parameters, ``weight``, ``distance``, statistics.
        prior_sample: generation 0, the same columns (a sample of the prior).
        sensitivity: rank correlations, parameters x patterns, over the prior sample.
        summary: one row per parameter (:func:`.checks.summary`).
        checks: the predictive check, one row per draw and pattern.
        patterns: one row per pattern (:func:`.checks.pattern_table`).
        seconds: wall time of this session; ``check_seconds`` of its predictive check.
        spent: evaluations run in this session, the discarded ones included.
        warnings: pyabc's warnings in this session, counted by message.
        executor: how it ran (kind and workers), for the record.
    """

    plan: Plan
    generations: pd.DataFrame
    stop: str
    posterior: pd.DataFrame
    prior_sample: pd.DataFrame
    sensitivity: pd.DataFrame
    summary: pd.DataFrame
    checks: pd.DataFrame
    patterns: pd.DataFrame
    seconds: float = 0.0
    check_seconds: float = 0.0
    spent: int = 0
    executor: dict[str, Any] = field(default_factory=dict)
    pyabc_version: str = ""
    warnings: dict[str, int] = field(default_factory=dict)

    @property
    def evaluations(self) -> int:
        """Evaluations the kept generations took (up to each one's last accepted particle)."""
        return int(self.generations["evaluations"].sum())

    @property
    def runs_per_evaluation(self) -> int:
        return len(self.plan.runs) * len(self.plan.seeds)

    @property
    def model_runs(self) -> int:
        """Model runs of the fit: evaluations x runs x calibration seeds."""
        return self.evaluations * self.runs_per_evaluation

    @property
    def check_runs(self) -> int:
        draws = len(self.checks["draw"].unique()) if len(self.checks) else 0
        return draws * len(self.plan.runs) * len(self.plan.check_seeds)

    @property
    def fit_seconds(self) -> float:
        """Wall time of the kept generations, as pyabc recorded it (over every session)."""
        return float(self.generations["seconds"].sum())
