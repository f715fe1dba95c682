"""Calibration: fit parameters to the patterns the model must show (``ci-sim calibrate``).

A targets file (:mod:`.targets`) declares patterns as summary statistics with bands
(pattern-oriented modelling, Grimm et al. 2005), the parameters to fit with their priors,
the calibration seeds and the budget. :mod:`.smc` fits them with pyabc's ABC-SMC on ci-sim's
executors (reproducible on any executor, resumable after a crash); :mod:`.checks`
summarizes the posterior, measures identifiability and runs the posterior predictive check
on held-out seeds; :mod:`.report` writes the report; :mod:`.sbc` checks the method itself
(simulation-based calibration, Talts et al. 2018).

Outputs (docs/calibration.md): ``posterior.parquet`` (one row per accepted particle of the
final generation, one float column per fitted parameter by dotted name and ``weight``,
summing to 1; with provenance), ``summary.csv``, ``patterns.csv``, ``checks.csv``,
``generations.csv``, ``calibration.json``, ``report.html`` and pyabc's database
``abc_history.db``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ci_sim.folders import default_folder, write_atomic
from ci_sim.studies.calibration.result import CalibrationResult
from ci_sim.studies.calibration.targets import Plan, load_plan, read_targets
from ci_sim.studies.study import Progress, checkpointed

__all__ = ["CalibrationResult", "POSTERIOR", "SUMMARY", "calibrate", "load_plan",
           "read_posterior", "read_targets", "run_calibration", "write_outputs"]

#: The files a calibration writes.
POSTERIOR, SUMMARY = "posterior.parquet", "summary.csv"
FILES = (POSTERIOR, SUMMARY, "patterns.csv", "checks.csv", "generations.csv",
         "calibration.json", "report.html", "abc_history.db")

#: Meaning of the ``weight`` column of posterior.parquet.
WEIGHT = {"unit": "share", "meaning": "importance weight of the particle in the final "
          "generation of ABC-SMC (prior density / proposal density), normalized to sum 1"}


def calibrate(plan: Plan, executor, store, *,
              progress: Callable[[int, int, int, int, float], None] | None = None,
              check_progress: Progress | None = None) -> CalibrationResult:
    """Fit, summarize and check ``plan`` with ``executor``, keeping the fit and the check's
    runs in ``store`` (a :class:`~ci_sim.studies.store.Store`): nothing is published."""
    import pyabc

    import ci_sim.studies.calibration.checks as checks
    import ci_sim.studies.calibration.smc as smc

    started = time.perf_counter()
    fitted = smc.fit(plan, executor, store.path, progress=progress)
    posterior = smc.posterior(store.path, plan)
    prior_sample = smc.posterior(store.path, plan, generation=0)
    sensitivity = checks.pattern_sensitivity(plan, prior_sample)
    summary = checks.summary(plan, posterior, sensitivity, len(prior_sample))
    checked_at = time.perf_counter()
    check = checks.predictive_check(plan, posterior, executor, store=store,
                                    progress=check_progress)
    finished = time.perf_counter()
    return CalibrationResult(
        plan, fitted.table, fitted.stop, posterior, prior_sample, sensitivity, summary, check,
        checks.pattern_table(plan, posterior, check), seconds=finished - started,
        check_seconds=finished - checked_at, spent=fitted.spent,
        executor={"kind": executor.kind, "workers": executor.workers},
        pyabc_version=pyabc.__version__, warnings=fitted.warnings)


def posterior_provenance(result: CalibrationResult) -> dict[str, Any]:
    """What posterior.parquet records of where it came from."""
    from ci_sim.parquet import provenance, scenario_provenance

    plan = result.plan
    seeds = plan.targets.seeds
    return provenance(
        seed=seeds.base, scenarios=[scenario_provenance(plan.base.scenario, plan.base.digest)],
        command="ci-sim calibrate",
        replicate_seeds=list(plan.seeds),
        check_seeds=list(plan.check_seeds),
        abc_seed=seeds.abc,
        targets={"file": plan.path.name, "sha256": plan.digest,
                 "content": plan.targets.model_dump(mode="json")},
        runs={name: scenario_provenance(run.scenario, run.digest)
              for name, run in plan.runs.items()},
        calibration={"method": "ABC-SMC", "library": f"pyabc {result.pyabc_version}",
                     "generation": int(result.generations["generation"].iloc[-1]),
                     "epsilon": float(result.generations["epsilon"].iloc[-1]),
                     "stop": result.stop, "evaluations": result.evaluations,
                     "model_runs": result.model_runs,
                     "parameters": list(plan.names)})


def record(result: CalibrationResult) -> dict[str, Any]:
    """calibration.json: provenance, the stop, counts, timings and the tables in short."""
    return {**posterior_provenance(result),
            "stop": result.stop,
            "generations": result.generations.to_dict("records"),
            "evaluations": result.evaluations,
            "runs_per_evaluation": result.runs_per_evaluation,
            "model_runs": result.model_runs,
            "check_runs": result.check_runs,
            "seconds": {"session": result.seconds, "fit_generations": result.fit_seconds,
                        "predictive_check": result.check_seconds},
            "executor": result.executor,
            "evaluations_run_this_session": result.spent,
            "pyabc_warnings": result.warnings,
            "summary": result.summary.to_dict("records"),
            "patterns": result.patterns.to_dict("records")}


def write_outputs(result: CalibrationResult, out: Path, database: Path | None = None
                  ) -> list[Path]:
    """Write the calibration's files into ``out`` (see the module doc)."""
    from ci_sim.parquet import write_parquet
    from ci_sim.studies.calibration.report import render_html

    out.mkdir(parents=True, exist_ok=True)
    plan = result.plan
    frame = result.posterior[[*plan.names, "weight"]].astype(float)
    write_atomic(out / POSTERIOR, lambda p: write_parquet(
        frame, p, posterior_provenance(result), descriptions={"weight": WEIGHT}))
    for name, table in ((SUMMARY, result.summary), ("patterns.csv", result.patterns),
                        ("checks.csv", result.checks),
                        ("generations.csv", result.generations)):
        write_atomic(out / name, lambda p, table=table: table.to_csv(p, index=False))
    text = json.dumps(record(result), indent=2, default=float)
    write_atomic(out / "calibration.json", lambda p: p.write_text(text, encoding="utf-8"))
    html = render_html(result)
    write_atomic(out / "report.html", lambda p: p.write_text(html, encoding="utf-8"))
    written = [out / name for name in FILES if name != "abc_history.db"]
    if database is not None and database.exists():
        write_atomic(out / "abc_history.db", lambda p: shutil.copyfile(database, p))
        written.append(out / "abc_history.db")
    return written


def run_calibration(targets: str | Path, out: str | Path | None = None, *,
                    workers: int | None = None, scheduler: str | None = None,
                    resume: bool = False, overwrite: bool = False,
                    progress: Callable[[int, int, int, int, float], None] | None = None,
                    check_progress: Progress | None = None,
                    **changes: Any) -> tuple[CalibrationResult, list[Path]]:
    """Check, fit and publish a calibration into ``out``: what ``ci-sim calibrate`` does.

    Args:
        targets: a targets file, or the name of a shipped one (``calibration``).
        out: the output folder (default ``results/NAME``).
        workers, scheduler: the executor (:func:`ci_sim.executors.make_executor`).
        resume: finish an interrupted calibration into ``out`` (same targets file).
        overwrite: replace the results already in ``out``.
        progress: called with (generation, accepted, particles, evaluations, threshold).
        check_progress: called with (runs done, runs) during the predictive check.
        **changes: budget keys overriding the file's (``particles``, ``generations``,
            ``evaluations``, ``checks``; None: not given).

    Raises:
        InputError: bad input, or results in ``out`` without ``overwrite``, before
            anything runs or is written.
    """
    from ci_sim.executors import check_executor_options, make_executor
    from ci_sim.studies.calibration.smc import DATABASE

    plan = load_plan(targets, **changes)
    check_executor_options(workers, scheduler)
    out = Path(out) if out is not None else default_folder(plan.targets.name)
    with checkpointed(out, kind="calibration", identity=plan.identity(), source=str(plan.path),
                      resume=resume, overwrite=overwrite,
                      manifest={"seeds": list(plan.seeds),
                                "check_seeds": list(plan.check_seeds)}) as (staging, store):
        with make_executor(workers=workers, scheduler=scheduler) as executor:
            result = calibrate(plan, executor, store, progress=progress,
                               check_progress=check_progress)
        written = write_outputs(result, staging, store.path / DATABASE)
    return result, [out / path.name for path in written]


def read_posterior(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A posterior.parquet: the particles (parameters and ``weight``) and its metadata."""
    from ci_sim.parquet import read_metadata

    return pd.read_parquet(path), read_metadata(Path(path))
