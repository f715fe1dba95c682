"""What a sweep runs at each sample point: the model, or a test function with known indices.

A :class:`RunBatch` carries everything a worker needs (no state from the parent); the
module-level :func:`run_batch` is what executors call. Each run's result depends only on
its parameter values and its seed, so results are the same on every executor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ci_sim.model import STEPS_PER_YEAR
from ci_sim.studies.sweep.experiment import ISHIGAMI_OUTPUT, OutputSpec


@dataclass(frozen=True)
class RunBatch:
    """Runs to do together: one row per (sample point, replicate).

    Attributes:
        target: ``model`` or ``ishigami``.
        base: the base scenario's table (the scenario file with the experiment's settings
            merged in, :class:`ci_sim.studies.loading.BaseScenario`); None for test
            functions.
        engine: model engine name.
        names: dotted names of the varied parameters, in column order.
        outputs: ``(name, OutputSpec)`` pairs.
        samples, replicates, seeds: one entry per run.
        values: one tuple of parameter values per run, in ``names`` order.
        plays: players' choices of a workshop session the base came from, as session-file
            tables (:meth:`ci_sim.model.choices.Play.as_record`), replayed in every run.
        drawn: with a posterior, one ``{dotted name: value}`` per run: the parameter set
            its replicate drew (:mod:`ci_sim.studies.posterior`), set under the point's
            values; empty without one.
    """

    target: str
    base: dict[str, Any] | None
    engine: str
    names: tuple[str, ...]
    outputs: tuple[tuple[str, OutputSpec], ...]
    samples: tuple[int, ...]
    replicates: tuple[int, ...]
    seeds: tuple[int, ...]
    values: tuple[tuple[float, ...], ...]
    plays: tuple[dict[str, Any], ...] = ()
    drawn: tuple[dict[str, Any], ...] = ()


def run_batch(batch: RunBatch) -> dict[str, list]:
    """Run every run of a batch; return columns ``sample``, ``replicate``, ``seed`` and one
    per output, one entry per run in batch order."""
    if batch.target == "ishigami":
        outputs = ishigami_outputs(batch)
    else:
        outputs = model_outputs(batch)
    return {"point": list(batch.samples), "replicate": list(batch.replicates),
            "seed": list(batch.seeds), **outputs}


def model_outputs(batch: RunBatch) -> dict[str, list[float]]:
    from ci_sim.model.choices import Play
    from ci_sim.simulate import trajectories
    from ci_sim.studies.loading import point_scenario
    from ci_sim.studies.posterior import with_parameters

    plays = [Play.from_record(record) for record in batch.plays]
    metrics = sorted({spec.metric for _, spec in batch.outputs})
    columns: dict[str, list[float]] = {name: [] for name, _ in batch.outputs}
    drawn = batch.drawn or ({},) * len(batch.samples)
    for sample, seed, values, parameters in zip(batch.samples, batch.seeds, batch.values,
                                                drawn):
        overrides = {name: _plain(value) for name, value in zip(batch.names, values)}
        scenario = with_parameters(point_scenario(batch.base, overrides,
                                                  f"sample point {sample}"),
                                   parameters, f"sample point {sample} with its posterior draw")
        series = trajectories(scenario, seed, metrics, engine=batch.engine, plays=plays)
        for name, spec in batch.outputs:
            columns[name].append(measure(series[spec.metric], spec, scenario.years))
    return columns


def measure(series: np.ndarray, spec: OutputSpec, horizon: float) -> float:
    """One output of one run, from its metric's monthly values (entry m after month m; see
    :class:`OutputSpec`)."""
    if spec.first_year_at_least is not None or spec.first_year_at_most is not None:
        reached = series >= spec.first_year_at_least if spec.first_year_at_least is not None \
            else series <= spec.first_year_at_most
        hits = np.flatnonzero(reached)
        step = hits[0] if len(hits) else len(series)  # never: one month past the horizon
        return float(step / STEPS_PER_YEAR)
    year = horizon if spec.year is None else spec.year
    return float(series[int(round(year * STEPS_PER_YEAR))])


def ishigami_outputs(batch: RunBatch) -> dict[str, list[float]]:
    """Ishigami & Homma (1990) with a = 7, b = 0.1; the seed is not used (deterministic)."""
    from SALib.test_functions import Ishigami

    values = np.asarray(batch.values, dtype=float).reshape(len(batch.values), len(batch.names))
    response = Ishigami.evaluate(values).tolist()
    return {name: list(response) for name, spec in batch.outputs
            if spec.metric == ISHIGAMI_OUTPUT}


def _plain(value: Any) -> Any:
    """numpy scalars to Python numbers, so pydantic's strict int/float checks accept them."""
    return value.item() if isinstance(value, np.generic) else value
