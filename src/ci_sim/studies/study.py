"""Plan, run and resume a study: points x replicates -> outcomes, on any executor.

Every study (sweep, stress test, validation) is a :class:`Study`: a number of points, the
replicate seeds of each, how to pack runs into a picklable batch and the module-level
function that runs a batch. :func:`run_study` runs it on an executor
(:mod:`ci_sim.executors`), saving each finished batch in a :class:`~ci_sim.studies.store.Store`
so that a study killed at any moment resumes where it stopped; with a :class:`Precision`
it adds replicates to the points whose interval is still wider than asked. The result, a
table of runs, depends only on the study: not on the executor, its workers, the batch
size, or how often the study was interrupted.

Adaptive replicates are decided in rounds from the runs so far. A resumed study replays
the same rounds from the saved runs (each run's values depend only on its point and
seed), so it asks for the same runs an uninterrupted one would.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ci_sim import __version__
from ci_sim.errors import InputError
from ci_sim.executors import batch_size, batched
from ci_sim.folders import (OutputFolder, check_folder_path, check_unlocked, checkpoint_folder,
                            locked)
from ci_sim.studies.stats import half_width, replicates_for
from ci_sim.studies.store import KEYS, Store

#: Progress callback: runs done so far, runs asked for so far.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Task:
    """One run: replicate ``replicate`` of point ``point``, on ``seed``."""

    point: int
    replicate: int
    seed: int


@dataclass(frozen=True)
class Precision:
    """Adaptive replicates: add runs to a point until the 95% interval of the mean of
    ``outcome`` (its last value, for a trajectory) is at most ``half_width`` on each side,
    or the point has ``cap`` replicates.

    ``together``: every point gets the replicates the neediest point needs, so every point
    keeps the same seeds (common random numbers stay paired, arrays stay rectangular).
    """

    outcome: str
    half_width: float
    cap: int
    together: bool = False


@dataclass
class Study:
    """What a study runs.

    Attributes:
        kind: its name in messages (``sweep``, ``stress test``, ``validation``).
        points: how many points (settings) it runs.
        replicates: replicates per point (the first round, with ``precision``).
        seeds: the replicate seeds shared by every point (common random numbers), at least
            as many as the most replicates a point can get.
        run_batch: module-level function (it is sent to workers) taking what
            ``make_batch`` returns and returning columns ``point``, ``replicate``, ``seed``
            and one per outcome, one entry per run in batch order.
        make_batch: packs a list of :class:`Task` into a picklable batch.
        outcomes: the outcome columns ``run_batch`` returns.
        point_seeds: seeds of a point's own, where points must be independent (overrides
            ``seeds`` for the points it names).
        precision: adaptive replicates, or None for exactly ``replicates``.
        largest_batch: most runs per batch (a crash loses at most one batch per worker).
    """

    kind: str
    points: int
    replicates: int
    seeds: Sequence[int]
    run_batch: Callable[[Any], dict[str, list]]
    make_batch: Callable[[list[Task]], Any]
    outcomes: list[str]
    point_seeds: dict[int, Sequence[int]] = field(default_factory=dict)
    precision: Precision | None = None
    largest_batch: int = 16

    def seed(self, point: int, replicate: int) -> int:
        return int(self.point_seeds.get(point, self.seeds)[replicate])

    @property
    def most_replicates(self) -> int:
        return max(self.replicates, self.precision.cap if self.precision else 0)


@dataclass
class Runs:
    """What :func:`run_study` returns: one row per run in (point, replicate) order, and how
    many of them ran in this session."""

    table: pd.DataFrame
    ran: int

    def values(self, point: int, outcome: str) -> np.ndarray:
        """``outcome`` of every replicate of ``point``, replicates x (times) as an array."""
        rows = self.table[self.table["point"] == point]
        return np.array([np.asarray(value, dtype=float) for value in rows[outcome]])


def final_value(value: Any) -> float:
    """The value of a scalar outcome, the last value of a trajectory."""
    array = np.asarray(value, dtype=float)
    return float(array.reshape(-1)[-1])


def run_study(study: Study, executor, *, store: Store | None = None,
              progress: Progress | None = None,
              on_round: Callable[[int, int], None] | None = None) -> Runs:
    """Run every run of ``study`` not yet in ``store``; return all of them.

    Args:
        executor: from :func:`ci_sim.executors.make_executor`.
        store: where finished batches are saved and found again (None: nowhere).
        progress: called with (runs done, runs asked for) as batches finish.
        on_round: called with (runs of the round, points needing more) after each
            adaptive round.
    """
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    if store is not None:
        for row in store.read_chunks(study.outcomes):
            rows[int(row["point"]), int(row["replicate"])] = row
    wanted = dict.fromkeys(range(study.points), study.replicates)
    ran = 0
    while True:
        todo = [Task(point, replicate, study.seed(point, replicate))
                for point in range(study.points) for replicate in range(wanted[point])
                if (point, replicate) not in rows]
        asked = sum(wanted.values())
        if progress is not None:
            progress(asked - len(todo), asked)
        if todo:
            size = batch_size(len(todo), executor.workers, largest=study.largest_batch)
            batches = [study.make_batch(group) for group in batched(todo, size)]
            for _, columns in executor.map_unordered(study.run_batch, batches):
                if store is not None:
                    store.write_chunk(columns)
                names = list(columns)
                for values in zip(*columns.values()):
                    row = dict(zip(names, values))
                    rows[int(row["point"]), int(row["replicate"])] = row
                ran += len(columns["point"])
                if progress is not None:
                    progress(asked - len(todo) + ran, asked)
        if study.precision is None:
            break
        more = more_replicates(study, rows, wanted)
        if on_round is not None:
            on_round(len(todo), len(more))
        if not more:
            break
        wanted.update(more)
    ordered = [rows[point, replicate] for point in range(study.points)
               for replicate in range(wanted[point])]
    table = pd.DataFrame(ordered, columns=[*KEYS, *study.outcomes])
    table[list(KEYS)] = table[list(KEYS)].astype("int64") if len(table) else table[list(KEYS)]
    return Runs(table.reset_index(drop=True), ran)


def more_replicates(study: Study, rows: dict[tuple[int, int], dict[str, Any]],
                    wanted: dict[int, int]) -> dict[int, int]:
    """Points whose interval is wider than the target, with the replicates they need."""
    precision = study.precision
    more = {}
    for point, count in wanted.items():
        finals = [final_value(rows[point, replicate][precision.outcome])
                  for replicate in range(count)]
        if half_width(finals) > precision.half_width and count < precision.cap:
            need = replicates_for(finals, precision.half_width)
            more[point] = min(precision.cap, max(need, count + 10))
    if precision.together and more:
        most = max(more.values())
        return {point: most for point, count in wanted.items() if count < most}
    return more


@contextlib.contextmanager
def checkpointed(out: Path, *, kind: str, identity: dict[str, Any], source: str,
                 resume: bool, overwrite: bool, members: Sequence[str] | None = None,
                 manifest: dict[str, Any] | None = None) -> Iterator[tuple[Path, Store]]:
    """The staging folder of ``out`` (:class:`ci_sim.folders.OutputFolder`) and the store
    of a study whose results are published there.

    The store is kept beside ``out`` (:func:`ci_sim.folders.checkpoint_folder`) while the
    study runs, so a study killed at any moment leaves ``out`` as it was and its runs so
    far on disk; ``resume`` finishes it, running only what is missing. Once the results
    are published the store is removed.

    Args:
        identity: what must not change between a start and a resume (with a ``sha256``
            of the definition, shown when it did change).
        source: the study's file or options, named in errors.
        members: as for :class:`~ci_sim.folders.OutputFolder`.
        manifest: more to record in the store's manifest (seeds, versions).

    Raises:
        InputError: a store of another or changed study, one in use, or an interrupted
            study found without ``resume`` or ``overwrite``; before anything is written.
    """
    check_folder_path(out)
    store = Store(checkpoint_folder(out), kind)
    check_unlocked(store.path)
    if store.exists() and not resume and not overwrite:
        raise InputError(f"--out: an interrupted {kind} into {out} is saved in {store.path}; "
                         f"pass --resume to finish it, or --overwrite to start again")
    if resume and store.exists():
        store.check_resumable(identity, source, __version__)
    # a resumed study was checked when it started (into a new folder, or with --overwrite)
    folder = OutputFolder(out, overwrite=overwrite or (resume and store.exists()),
                          members=members)
    with folder as staging:
        with locked(store.path):
            if not resume:
                store.clear()
            if not store.exists():
                store.start({"kind": kind, "identity": identity, "ci_sim": __version__,
                             **(manifest or {})})
            yield staging, store
    shutil.rmtree(store.path, ignore_errors=True)
