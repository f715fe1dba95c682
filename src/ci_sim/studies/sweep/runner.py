"""Running a sweep end to end: plan, run in checkpointed batches, resume, analyse, write."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ci_sim import __version__
from ci_sim.errors import InputError
from ci_sim.executors import check_executor_options, make_executor
from ci_sim.folders import check_folder_path, check_unlocked, default_folder, locked, write_atomic
from ci_sim.parquet import write_parquet
from ci_sim.simulate import versions
from ci_sim.simulate import replicate_seeds
from ci_sim.studies.loading import point_scenario
from ci_sim.studies.posterior import (DRAW_COLUMN, Draws, Posterior, ensure_used,
                                      explicit_in_study, load_posterior)
from ci_sim.studies.store import Store, damaged
from ci_sim.studies.study import Precision, Study, Task, run_study
from ci_sim.studies.sweep.analysis import (Analysis, analyze_runs, boxes_table, plot_convergence,
                                           plot_discovery, plot_indices, summary_record)
from ci_sim.studies.sweep.design import design_size, parameter_values, sample_unit
from ci_sim.studies.sweep.experiment import Experiment, LoadedExperiment, load_experiment
from ci_sim.studies.sweep.metadata import (column_descriptions, quantile_column, sweep_design,
                                           sweep_provenance)
from ci_sim.studies.sweep.targets import RunBatch, run_batch

#: Largest batch per target (what a crash can lose per worker). A model run takes
#: milliseconds (4 ms for 50 organizations over 10 years), so with up to 64 runs a batch the
#: parent saves a checkpoint a few hundred times per sweep, not thousands. A test function
#: takes microseconds.
LARGEST_BATCH = {"model": 64, "ishigami": 8192}

#: Progress callback: runs done so far, runs in the sweep.
Progress = Callable[[int, int], None]

KIND = "sweep"


@dataclass
class SweepPlan:
    """Every run of a sweep, decided before any runs.

    Attributes:
        design: one row per sample point: ``sample``, the quantiles ``q:NAME`` and the
            values ``NAME`` of every varied parameter.
        seeds: the replicate seeds, shared by every sample point (common random numbers,
            so differences between points are not blurred by different random draws).
        draws: parameter sets drawn from a posterior, replicate ``r`` on draw ``r`` at
            every sample point (None: no posterior).
    """

    loaded: LoadedExperiment
    design: pd.DataFrame
    seeds: list[int]
    draws: Draws | None = None

    @property
    def experiment(self) -> Experiment:
        return self.loaded.experiment

    @property
    def runs(self) -> int | None:
        """Runs in the sweep; None when replicates are added until a precision is met."""
        if self.experiment.precision is not None:
            return None
        return len(self.design) * len(self.seeds)

    def study(self) -> Study:
        """The sweep as a :class:`~ci_sim.studies.study.Study`."""
        experiment = self.experiment
        names = tuple(experiment.parameter_names)
        points = list(zip(*(self.design[name].tolist() for name in names)))
        base = self.loaded.table
        outputs = tuple(experiment.outputs.items())
        plays = tuple(play.as_record() for play in self.loaded.plays)
        draws, drawn = self.draws, {}

        def draw(replicate: int) -> dict[str, Any]:
            if replicate not in drawn:
                drawn[replicate] = draws.values(replicate)
            return drawn[replicate]

        def make_batch(tasks: list[Task]) -> RunBatch:
            return RunBatch(target=experiment.target, base=base, engine=experiment.engine,
                            names=names, outputs=outputs,
                            samples=tuple(task.point for task in tasks),
                            replicates=tuple(task.replicate for task in tasks),
                            seeds=tuple(task.seed for task in tasks),
                            values=tuple(points[task.point] for task in tasks), plays=plays,
                            drawn=() if draws is None else
                            tuple(draw(task.replicate) for task in tasks))

        wanted = experiment.precision
        precision = None if wanted is None else Precision(
            wanted.output, wanted.half_width, cap=wanted.max_replicates, together=True)
        return Study(kind=KIND, points=len(points), replicates=experiment.replicates,
                     seeds=self.seeds, run_batch=run_batch, make_batch=make_batch,
                     outcomes=list(experiment.outputs), precision=precision,
                     largest_batch=LARGEST_BATCH[experiment.target])


@dataclass
class SweepResult:
    """A finished sweep: its runs, analysis and where they were written."""

    experiment: Experiment
    runs: pd.DataFrame
    analysis: Analysis
    written: list[Path]
    seconds: float | None = None
    ran: int = 0


def plan_sweep(loaded: LoadedExperiment, posterior: Posterior | None = None) -> SweepPlan:
    """Sample the design and check that every sample point is a valid scenario.

    ``posterior``: replicate ``r`` of every sample point also runs on the parameter set it
    draws from this posterior (:mod:`ci_sim.studies.posterior`); what the experiment sets
    (its scenario, constants and varied parameters) keeps its value. Every particle the
    replicates draw is checked on the base scenario before anything runs.

    Raises:
        InputError: naming the first sample point the model would refuse, and why; a
            posterior for a test function, or one whose every parameter the experiment
            sets.
    """
    experiment = loaded.experiment
    if design_size(experiment) > 5_000_000:
        raise InputError(f"{loaded.path}: samples: the design would have "
                         f"{design_size(experiment):,} points; at most 5,000,000")
    unit = sample_unit(experiment)
    values = parameter_values(experiment, unit, model=experiment.target == "model")
    design = pd.DataFrame({"sample": np.arange(len(unit))})
    for column, name in enumerate(experiment.parameter_names):
        design[f"q:{name}"] = unit[:, column]
    design = pd.concat([design, values], axis=1)
    if loaded.base is not None:
        names = experiment.parameter_names
        for sample, point in enumerate(zip(*(values[name].tolist() for name in names))):
            try:
                point_scenario(loaded.table, dict(zip(names, point)), "")
            except InputError as error:
                setting = ", ".join(f"{name} = {value:g}" if isinstance(value, float)
                                    else f"{name} = {value}" for name, value in zip(names, point))
                raise InputError(f"{loaded.path}: sample point {sample} ({setting}) is not a "
                                 f"valid scenario{error}") from None
    most = experiment.replicates if experiment.precision is None else \
        experiment.precision.max_replicates
    draws = None
    if posterior is not None:
        if loaded.base is None:
            raise InputError(f"--posterior: the {experiment.target} target of {loaded.path} "
                             f"is a test function without model parameters")
        draws = posterior.bind(experiment.seed,
                               explicit_in_study(loaded.table, experiment.varied))
        ensure_used([draws], f"{loaded.path} (its scenario, constants and varied parameters)")
        draws.check(loaded.base, most)
    return SweepPlan(loaded, design, replicate_seeds(experiment.seed, most), draws)


def identity(loaded: LoadedExperiment, draws: Draws | None = None) -> dict[str, Any]:
    """What must not change between the start of a sweep and its resume (with a posterior,
    its file, sha256 and the parameters drawn)."""
    found = {"sha256": loaded.sha256, "scenario_sha256": loaded.scenario_sha256}
    if draws is not None:
        found["posterior"] = draws.identity()
    return found


def manifest_for(plan: SweepPlan) -> dict[str, Any]:
    loaded = plan.loaded
    return {"kind": KIND, "identity": identity(loaded, plan.draws), "ci_sim": __version__,
            "experiment": loaded.experiment.model_dump(mode="json"),
            "experiment_file": Path(loaded.path).name, "experiment_text": loaded.text,
            "base_scenario": None if loaded.base is None else
            json.loads(loaded.base.model_dump_json()),
            "seed": loaded.experiment.seed, "replicate_seeds": plan.seeds,
            "points": len(plan.design), "runs": plan.runs, "versions": versions(),
            **({} if plan.draws is None else {"posterior": plan.draws.record(len(plan.seeds))})}


def run_sweep(experiment_path: str | Path, out: str | Path | None = None, *,
              workers: int | None = None, scheduler: str | None = None, resume: bool = False,
              overwrite: bool = False, progress: Progress | None = None,
              posterior: Posterior | str | Path | None = None) -> SweepResult:
    """Run an experiment file: what ``ci-sim sweep`` does.

    Samples the design, runs every point and replicate on the chosen executor (see
    :func:`ci_sim.executors.make_executor`), checkpointing each finished batch in the
    sweep folder (a :class:`~ci_sim.studies.store.Store`), then writes ``runs.parquet``
    and the analysis (see :func:`write_analysis`). The folder is locked while the sweep
    runs: a second sweep into it is refused.

    Args:
        out: sweep folder (default ``results/NAME``). Must be new or empty unless resuming.
        resume: finish the sweep already in ``out``: only runs without a checkpoint run.
        overwrite: remove what ``out`` holds and start again.
        progress: called with (runs done, runs in the sweep) as batches finish.
        posterior: a calibration's posterior (a file or :class:`Posterior`): each replicate
            also draws the parameters the experiment leaves unset from it
            (:mod:`ci_sim.studies.posterior`). A sweep resumes only with the same one.

    Raises:
        InputError: bad experiment, bad options, a bad posterior, a folder this sweep may
            not use (one started with another posterior or none) or a damaged file in it;
            raised before anything is written.
    """
    loaded = load_experiment(experiment_path)
    if isinstance(posterior, (str, Path)):
        posterior = load_posterior(posterior)
    plan = plan_sweep(loaded, posterior)
    check_executor_options(workers, scheduler)
    path = Path(out) if out is not None else default_folder(loaded.experiment.name)
    check_folder_path(path)
    folder = Store(path, KIND)
    check_unlocked(folder.path)
    if overwrite and not (folder.exists() or folder.is_empty()):
        raise InputError(f"--out: {folder.path} holds no sweep; --overwrite only replaces a "
                         f"sweep, so choose a new or empty folder")
    if not overwrite:
        check_folder(folder, plan, resume)  # refuse before writing anything
    with locked(folder.path):
        if overwrite:
            folder.clear()
        # again, under the lock: another sweep may have changed the folder meanwhile
        check_folder(folder, plan, resume)
        return run_locked(plan, folder, workers, scheduler, progress)


def check_folder(folder: Store, plan: SweepPlan, resume: bool) -> None:
    """Refuse a folder this sweep may not use: another sweep's, one not empty, or this
    sweep's without ``resume``."""
    if folder.exists():
        if not resume:
            raise InputError(f"--out: {folder.path} already holds a sweep; pass --resume to "
                             f"finish it, --overwrite to start again, or choose another "
                             f"--out folder")
        folder.check_resumable(identity(plan.loaded, plan.draws), plan.loaded.path,
                               __version__)
    elif not folder.is_empty():
        raise InputError(f"--out: {folder.path} is not empty and holds no sweep; choose a "
                         f"new or empty folder")


def run_locked(plan: SweepPlan, folder: Store, workers: int | None, scheduler: str | None,
               progress: Progress | None) -> SweepResult:
    """The rest of :func:`run_sweep`, with the folder checked and locked."""
    experiment = plan.experiment
    executor = None
    started = time.perf_counter()
    ran = 0
    if not folder.runs_path.exists():
        executor = make_executor(workers=workers, scheduler=scheduler)
        with executor:
            if not folder.exists():
                folder.start(manifest_for(plan), plan.design, write=describing(
                    plan, replicates=None if plan.runs is None else len(plan.seeds),
                    seeds=plan.seeds))
            done = run_study(plan.study(), executor, store=folder, progress=progress)
        ran = done.ran
        runs = consolidate(plan, folder, done.table)
    else:
        runs = folder.read_runs(run_columns(experiment, plan.draws is not None), plan.runs)
        folder.remove_chunks()  # left if a kill came between runs.parquet and cleaning
        if progress is not None:
            progress(len(runs), len(runs))
    seconds = time.perf_counter() - started
    replicates = len(runs) // max(len(plan.design), 1)
    result = write_analysis(folder.path, experiment, plan.design, runs,
                            extra={"run_seconds": round(seconds, 3), "runs_this_session": ran,
                                   "executor": None if executor is None else executor.kind,
                                   "workers": None if executor is None else executor.workers},
                            posterior=None if plan.draws is None else
                            plan.draws.record(replicates))
    result.seconds, result.ran = seconds, ran
    return result


def run_columns(experiment: Experiment, posterior: bool = False) -> list[str]:
    """Columns of runs.parquet, in order: ``sample``, ``replicate``, ``seed``, with a
    posterior ``posterior_draw`` (the particle the replicate drew), the value of every
    varied parameter, its quantile ``q:NAME``, and every output."""
    names = experiment.parameter_names
    return ["sample", "replicate", "seed", *([DRAW_COLUMN] if posterior else []), *names,
            *map(quantile_column, names), *experiment.outputs]


def describing(plan: SweepPlan, *, replicates: int | None, seeds: list[int]
               ) -> Callable[[pd.DataFrame, Path], None]:
    """Writes a table of the sweep as Parquet that describes itself
    (:func:`ci_sim.parquet.write_parquet`): provenance, design and column descriptions."""
    experiment = plan.experiment
    record = sweep_provenance(plan.loaded, seeds, None if plan.draws is None else
                              plan.draws.record(len(seeds)))
    design = sweep_design(experiment, points=len(plan.design), replicates=replicates)
    descriptions = column_descriptions(experiment)

    def write(frame: pd.DataFrame, path: Path) -> None:
        write_parquet(frame, path, record, design=design, descriptions=descriptions)

    return write


def consolidate(plan: SweepPlan, folder: Store, table: pd.DataFrame) -> pd.DataFrame:
    """Join the runs with the parameter values into runs.parquet, in sample order."""
    experiment = plan.experiment
    outcomes = table.rename(columns={"point": "sample"})
    if plan.draws is not None:
        drawn = {replicate: plan.draws.index(replicate)
                 for replicate in outcomes["replicate"].unique()}
        outcomes[DRAW_COLUMN] = outcomes["replicate"].map(drawn).astype("int64")
    names = experiment.parameter_names
    values = plan.design[["sample", *names, *map(quantile_column, names)]]
    runs = outcomes.merge(values, on="sample", how="left", validate="many_to_one")
    runs = runs[run_columns(experiment, plan.draws is not None)].sort_values(
        ["sample", "replicate"], kind="stable")
    runs = runs.reset_index(drop=True)
    expected = plan.runs if plan.runs is not None else \
        len(plan.design) * (len(runs) // max(len(plan.design), 1))
    if len(runs) != expected or runs.duplicated(["sample", "replicate"]).any():
        raise damaged(folder.chunk_folder, ValueError(f"the checkpoints hold {len(runs)} "
                                                      f"runs, expected {expected}"),
                      "delete it and run the sweep again with --resume")
    used = plan.seeds[:len(runs) // max(len(plan.design), 1)]
    folder.write_runs(runs, describing(plan, replicates=len(used), seeds=used))
    return runs


def write_analysis(out: Path, experiment: Experiment, design: pd.DataFrame,
                   runs: pd.DataFrame, *, extra: dict[str, Any] | None = None,
                   posterior: dict[str, Any] | None = None) -> SweepResult:
    """Compute and write indices.csv, indices.png, convergence.csv/png, discovery.csv/png
    and summary.json into ``out``.

    ``posterior``: the posterior the replicates drew from, as recorded
    (:func:`ci_sim.parquet.posterior_provenance`): its file and sha256 go into every table
    and title, the whole record into summary.json.
    """
    analysis = analyze_runs(experiment, design, runs)
    replicates = int(runs.groupby("sample").size().max())
    title = (f"{experiment.name}: {experiment.method}, {len(design)} points x "
             f"{replicates} replicate{'s' if replicates > 1 else ''}, "
             f"seed {experiment.seed}"
             + ("" if posterior is None else f", parameters drawn from {posterior['file']}")
             + f", ci-sim {__version__}")
    provenance = {"method": experiment.method, "samples": experiment.samples,
                  "points": len(design), "replicates": replicates,
                  "seed": experiment.seed, "ci_sim": __version__}
    if posterior is not None:
        provenance.update(posterior=posterior["file"], posterior_sha256=posterior["sha256"])
    written = []

    def save(name: str, write: Callable[[Path], None]) -> None:
        write_atomic(out / name, write)
        written.append(out / name)

    indices = analysis.indices.assign(role=analysis.indices["parameter"].map(experiment.role),
                                      **provenance)
    save("indices.csv", lambda p: indices.to_csv(p, index=False))
    save("indices.png", lambda p: plot_indices(experiment, analysis, p, title=title))
    if not analysis.convergence.empty:
        # its own "points" column is the prefix of the design each row used
        convergence = analysis.convergence.assign(**{key: value for key, value in
                                                     provenance.items() if key != "points"})
        save("convergence.csv", lambda p: convergence.to_csv(p, index=False))
        save("convergence.png", lambda p: plot_convergence(experiment, analysis, p,
                                                           title=title))
    if experiment.discovery is not None:
        boxes = boxes_table(experiment, runs, analysis).assign(**provenance)
        save("discovery.csv", lambda p: boxes.to_csv(p, index=False))
        save("discovery.png", lambda p: plot_discovery(experiment, runs, analysis, p,
                                                       title=title))
    summary = {"experiment": experiment.name, **provenance, "runs": len(runs),
               "replicate_seeds": sorted(set(runs["seed"].tolist()),
                                         key=runs["seed"].tolist().index),
               **summary_record(experiment, analysis, runs), **(extra or {}),
               "versions": versions()}
    if posterior is not None:
        summary["posterior"] = posterior
    save("summary.json", lambda p: p.write_text(json.dumps(summary, indent=2, default=float)))
    return SweepResult(experiment, runs, analysis, written)


def analyze_sweep(out: str | Path) -> SweepResult:
    """Recompute the analysis and plots of a finished sweep from its saved runs.

    Raises:
        InputError: ``out`` holds no finished sweep.
    """
    folder = Store(Path(out), KIND)
    if not folder.exists():
        raise InputError(f"{folder.path}: no sweep here (no study.json); run 'ci-sim sweep' "
                         f"first")
    if not folder.runs_path.exists():
        raise InputError(f"{folder.path}: the sweep has not finished (no runs.parquet); "
                         f"finish it with 'ci-sim sweep EXPERIMENT --out {folder.path} "
                         f"--resume'")
    manifest = folder.read_manifest()
    if manifest["kind"] != KIND or "experiment" not in manifest or "runs" not in manifest:
        raise damaged(folder.manifest_path, ValueError("not a sweep's manifest"),
                      "run the sweep again with --overwrite")
    try:
        experiment = Experiment.model_validate(manifest["experiment"])
    except ValueError as error:
        raise damaged(folder.manifest_path, error, "run the sweep again with --overwrite"
                      ) from None
    posterior = manifest.get("posterior")
    with locked(folder.path):
        runs = folder.read_runs(run_columns(experiment, posterior is not None),
                                manifest["runs"])
        design = folder.read_design()
        if posterior is not None:  # the draws of the replicates the runs have
            replicates = len(runs) // max(len(design), 1)
            posterior = {**posterior, "draws": posterior["draws"][:replicates]}
        return write_analysis(folder.path, experiment, design, runs, posterior=posterior)
