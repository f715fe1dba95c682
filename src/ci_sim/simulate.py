"""Running the model: ``run(scenario, seed) -> timeseries``, replicates on common seeds.

This is the function everything else (commands, sweeps, stress tests, notebooks) calls.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ci_sim.model import METRICS, STEPS_PER_YEAR, CollectiveImpactModel
from ci_sim.model.choices import Play, plays_by_month
from ci_sim.model.params import Scenario


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

    Columns: ``step`` (months), ``year`` and every metric in :data:`ci_sim.model.METRICS`;
    row 0 is the state before the first step.
    """
    model = CollectiveImpactModel(scenario, engine_name=engine, rng=seed)
    schedule = plays_by_month(plays)
    for month in range(int(round(scenario.years * STEPS_PER_YEAR))):
        for play in schedule.get(month, ()):
            play.apply(model.choices)
        model.step()
    frame = pd.DataFrame(model.history, columns=list(METRICS))
    frame.insert(0, "year", np.arange(len(frame)) / STEPS_PER_YEAR)
    frame.insert(0, "step", np.arange(len(frame)))
    return frame


def run_seed(task: tuple[Any, ...]) -> pd.DataFrame:
    """:func:`run` on one ``(scenario, seed, engine)`` or ``(scenario, seed, engine, plays)``:
    the task executors send to workers."""
    scenario, seed, engine, *plays = task
    return run(scenario, seed, engine=engine, plays=plays[0] if plays else ())


def run_replicates(scenario: Scenario, seeds: Sequence[int], *, engine: str = "numba",
                   progress: Callable[[], None] | None = None, workers: int | None = 1,
                   plays: Sequence[Play] = ()) -> pd.DataFrame:
    """Run one replicate per seed; columns ``replicate``, ``seed``, then :func:`run`'s.

    ``workers``: processes on this machine (1, the default, runs in this process; None:
    every core). The result does not depend on it. ``plays``: players' choices, the same
    in every replicate (see :func:`run`).
    """
    from ci_sim.executors import make_executor

    frames: dict[int, pd.DataFrame] = {}
    with make_executor(workers=workers) as executor:
        tasks = [(scenario, seed, engine, tuple(plays)) if plays else (scenario, seed, engine)
                 for seed in seeds]
        for replicate, frame in executor.map_unordered(run_seed, tasks):
            frame.insert(0, "seed", seeds[replicate])
            frame.insert(0, "replicate", replicate)
            frames[replicate] = frame
            if progress is not None:
                progress()
    return pd.concat([frames[replicate] for replicate in range(len(seeds))], ignore_index=True)
