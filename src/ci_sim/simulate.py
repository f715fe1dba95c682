"""Running the model: ``evaluate(scenario, seed=..., **parameters) -> outcomes``, the time
series of one run, and replicates on common seeds.

:func:`evaluate` is the public callable, a function of keyword arguments that returns named
outcomes, as EMA Workbench, SALib and optimisers expect; :func:`run` (the time series) and
everything above it (commands, sweeps, stress tests, notebooks) go through it.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ci_sim.errors import InputError
from ci_sim.model import METRICS, STEPS_PER_YEAR, CollectiveImpactModel
from ci_sim.model.choices import Play, plays_by_month
from ci_sim.model.model import METRIC_COLUMNS
from ci_sim.model.params import Scenario

#: What :func:`evaluate` returns, by name: the metrics at the horizon (:data:`METRICS`,
#: ``gateway`` as an integer 0-4) and the outcome's gain over the run.
OUTCOMES = {**METRICS,
            "outcome_gain": "outcome at the horizon minus outcome at the start (index points)"}


def evaluate(scenario: Scenario | str | Path | None = None, *, seed: int,
             years: float | None = None, timeseries: bool = False, engine: str = "numba",
             plays: Sequence[Play] = (), **parameters: Any) -> dict[str, Any]:
    """Run the model once and return its outcomes at the horizon, by name.

    Args:
        scenario: a :class:`~ci_sim.model.Scenario`, a built-in scenario's name or a TOML
            file (default ``collective_impact``).
        seed: the run's seed (a non-negative integer): the same seed and parameters give the
            same outcomes, on any machine and either engine.
        years: simulated years (default: the scenario's ``years``).
        timeseries: also return the run's time series under ``"timeseries"``: a DataFrame
            with one row per month (``step`` in months, ``year``, every metric; row 0 is the
            state before the first month).
        engine: ``"numba"`` (compiled) or ``"python"`` (the reference; same numbers).
        plays: players' choices of a workshop session (:mod:`ci_sim.session`), each put in
            place before the month it starts; none by default (every organization follows
            the model's rules).
        **parameters: parameter values by dotted name (``**{"conditions.common_agenda":
            0.5}``), by the same name as an identifier (``conditions_common_agenda=0.5``), or
            by field name where unique (``common_agenda=0.5``); see ``docs/ODD.md``.

    Returns:
        ``{name: value}`` for every name in :data:`OUTCOMES`: floats (indices 0..1 unless
        :data:`METRICS` says otherwise), ``gateway`` an int (0 Exploring .. 4 Proof Point);
        and ``"timeseries"`` when asked for.

    Raises:
        InputError: one line naming the parameter, for an unknown, ambiguous or invalid one.

    Example:
        >>> evaluate("collective_impact", seed=1, years=2, common_agenda=0.5)["outcome"]
    """
    if years is not None:
        if "years" in parameters:
            raise InputError("evaluate: years given twice; give it once")
        parameters["years"] = years
    model = _run_model(scenario, seed, engine, plays, parameters)
    outcomes: dict[str, Any] = model.metrics
    outcomes["gateway"] = int(outcomes["gateway"])
    outcomes["outcome_gain"] = outcomes["outcome"] - float(
        model.history_array[0, METRIC_COLUMNS["outcome"]])
    if timeseries:
        frame = pd.DataFrame(model.history_array, columns=list(METRICS))
        frame["gateway"] = frame["gateway"].astype(np.int64)
        frame.insert(0, "year", np.arange(len(frame)) / STEPS_PER_YEAR)
        frame.insert(0, "step", np.arange(len(frame)))
        outcomes["timeseries"] = frame
    return outcomes


def _run_model(scenario: Scenario | str | Path | None, seed: Any, engine: str,
               plays: Sequence[Play], parameters: dict[str, Any]) -> CollectiveImpactModel:
    """A model of ``scenario`` run to its horizon, players' ``plays`` put in place before the
    months they start."""
    model = CollectiveImpactModel(scenario, engine_name=engine, record="none",
                                  seed=_seed(seed), **parameters)
    schedule = plays_by_month(plays)
    while model.running:
        for play in schedule.get(model.steps, ()):  # months run so far: the month to come
            play.apply(model.choices)
        # Up to the next month players choose in: one engine call when nobody plays.
        model.advance(min([month for month in schedule if month > model.steps]
                          + [model.horizon]) - model.steps)
    return model


def _seed(seed: Any) -> int:
    """``seed`` as an integer, refusing anything else in one line."""
    if isinstance(seed, np.integer):
        seed = int(seed)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"evaluate: seed must be a non-negative integer, got {seed!r}")
    return seed


def versions() -> dict[str, str]:
    """Versions of ci-sim and the libraries that shape its results (for provenance)."""
    import mesa
    import numba

    from ci_sim import __version__

    return {"ci_sim": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "mesa": mesa.__version__, "pandas": pd.__version__}


def replicate_seeds(base_seed: int, replicates: int) -> list[int]:
    """Seeds for replicates 0..R-1, derived from the base seed (the same for every scenario,
    so scenarios compared on the same replicates share their random numbers)."""
    children = np.random.SeedSequence(base_seed).spawn(replicates)
    return [int(child.generate_state(1)[0]) for child in children]


def run(scenario: Scenario, seed: int, *, engine: str = "numba",
        plays: Sequence[Play] = ()) -> pd.DataFrame:
    """Run one replicate for ``scenario.years`` and return one row per step.

    ``plays``: players' choices of a workshop session (:mod:`ci_sim.session`), each put in
    place before the month it starts; without them every organization follows the rules.

    Columns: ``step`` (months), ``year`` and every metric in :data:`ci_sim.model.METRICS`
    (``gateway`` an integer); row 0 is the state before the first step. The time series of
    :func:`evaluate`.
    """
    return evaluate(scenario, seed=seed, engine=engine, plays=plays,
                    timeseries=True)["timeseries"]


def trajectories(scenario: Scenario, seed: int, metrics: Sequence[str], *,
                 engine: str = "numba", plays: Sequence[Play] = ()) -> dict[str, np.ndarray]:
    """The monthly values of ``metrics`` over one run of ``scenario`` (for its ``years``).

    The same numbers as the columns of :func:`run` (entry 0 is the state before the first
    month, entry ``m`` the state after month ``m``), as float arrays and without building
    a DataFrame: for studies that run thousands of runs and read a few metrics (sweeps,
    calibrations; the DataFrame costs about a fifth of a small run).
    """
    history = _run_model(scenario, seed, engine, plays, {}).history_array
    return {name: history[:, METRIC_COLUMNS[name]].copy() for name in metrics}


def run_seed(task: tuple[Any, ...]) -> pd.DataFrame:
    """:func:`run` on one ``(scenario, seed, engine)`` or ``(scenario, seed, engine, plays)``:
    the task executors send to workers."""
    scenario, seed, engine, *plays = task
    return run(scenario, seed, engine=engine, plays=plays[0] if plays else ())


def run_replicates(scenario: Scenario | Sequence[Scenario], seeds: Sequence[int], *,
                   engine: str = "numba", progress: Callable[[], None] | None = None,
                   workers: int | None = 1, plays: Sequence[Play] = ()) -> pd.DataFrame:
    """Run one replicate per seed; columns ``replicate``, ``seed``, then :func:`run`'s.

    ``scenario``: one scenario for every replicate, or one per seed (replicate ``r`` runs
    ``scenario[r]``: parameters drawn from a posterior, :mod:`ci_sim.studies.posterior`).
    ``workers``: processes on this machine (1, the default, runs in this process; None:
    every core). The result does not depend on it. ``plays``: players' choices, the same
    in every replicate (see :func:`run`).
    """
    from ci_sim.executors import make_executor

    scenarios = [scenario] * len(seeds) if isinstance(scenario, Scenario) else list(scenario)
    if len(scenarios) != len(seeds):
        raise ValueError(f"{len(scenarios)} scenarios for {len(seeds)} seeds")
    frames: dict[int, pd.DataFrame] = {}
    with make_executor(workers=workers) as executor:
        tasks = [(each, seed, engine, tuple(plays)) if plays else (each, seed, engine)
                 for each, seed in zip(scenarios, seeds)]
        for replicate, frame in executor.map_unordered(run_seed, tasks):
            frame.insert(0, "seed", seeds[replicate])
            frame.insert(0, "replicate", replicate)
            frames[replicate] = frame
            if progress is not None:
                progress()
    return pd.concat([frames[replicate] for replicate in range(len(seeds))], ignore_index=True)
