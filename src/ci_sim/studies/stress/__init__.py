"""The funder stress test: how much of a funding pool should go to the backbone, against
uncertainties and shocks? (:mod:`~ci_sim.studies.stress.experiment` declares the levers and
uncertainties, :mod:`~ci_sim.studies.stress.study` runs and measures them,
:mod:`~ci_sim.studies.stress.report` writes the report.)"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ci_sim.folders import write_atomic
from ci_sim.studies.posterior import Posterior, load_posterior
from ci_sim.studies.stress.report import FIGURES, render_figures, render_html
from ci_sim.studies.stress.study import (ALL_SHOCKS, Plan, StressExperiment, StressResult,
                                         load_experiment, plan, stress_test, summary_record)
from ci_sim.studies.study import Progress, checkpointed

__all__ = ["ALL_SHOCKS", "StressExperiment", "StressResult", "load_experiment", "plan",
           "run_stress_test", "stress_test", "write_stress_outputs"]


def write_stress_outputs(result: StressResult, out: Path) -> list[Path]:
    """Write stress.csv, stress.json, the figures and report.html into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "stress.csv", lambda p: result.table.to_csv(p, index=False))
    robust = result.robust if result.plan.draws is None else \
        result.robust.assign(**result.plan.draws.columns())
    write_atomic(out / "robustness.csv", lambda p: robust.to_csv(p, index=False))
    record = summary_record(result)
    write_atomic(out / "stress.json", lambda p: p.write_text(json.dumps(record, indent=2,
                                                                          default=float)))
    images = render_figures(result)
    for name, png in images.items():
        write_atomic(out / f"{name}.png", lambda p, png=png: p.write_bytes(png))
    html = render_html(result, images)
    write_atomic(out / "report.html", lambda p: p.write_text(html, encoding="utf-8"))
    return [out / "report.html", out / "stress.csv", out / "robustness.csv", out / "stress.json",
            *(out / f"{name}.png" for name in FIGURES if name in images)]


def identity(checked: Plan) -> dict:
    """What must not change between the start of a stress test and its resume (with a
    posterior, its file, sha256 and the parameters drawn)."""
    record = {"experiment": checked.experiment.model_dump(mode="json"),
              "scenario_sha256": checked.digest, "seeds": list(checked.seeds),
              "worlds": [world.label for world in checked.worlds]}
    text = json.dumps(record, sort_keys=True, default=float)
    found = {"sha256": hashlib.sha256(text.encode()).hexdigest()}
    if checked.draws is not None:
        found["posterior"] = checked.draws.identity()
    return found


def run_stress_test(experiment: StressExperiment, out: Path, *, workers: int | None = None,
                    scheduler: str | None = None, progress: Progress | None = None,
                    resume: bool = False, overwrite: bool = False,
                    posterior: Posterior | str | Path | None = None
                    ) -> tuple[StressResult, list[Path]]:
    """Check, run and publish a stress test into ``out``: what ``ci-sim stress-test`` does.

    Runs are saved as they finish (:func:`ci_sim.studies.study.checkpointed`), so a stress
    test killed at any moment finishes with ``resume`` to the same results (and only with
    the same ``posterior``, or none if it started without).

    Args:
        posterior: a calibration's posterior (a file or :class:`Posterior`): each replicate
            also draws the parameters the stress test leaves unset from it, so the
            intervals include parametric uncertainty (:mod:`ci_sim.studies.posterior`).

    Raises:
        InputError: bad input, or results in ``out`` without ``overwrite``, before
            anything runs or is written.
    """
    from ci_sim.executors import check_executor_options

    if isinstance(posterior, (str, Path)):
        posterior = load_posterior(posterior)
    checked = plan(experiment, posterior)
    check_executor_options(workers, scheduler)
    out = Path(out)
    with checkpointed(out, kind="stress test", identity=identity(checked),
                      source="the stress test's options", resume=resume, overwrite=overwrite,
                      manifest={"seeds": list(checked.seeds)}) as (staging, store):
        result = stress_test(checked, workers=workers, scheduler=scheduler, progress=progress,
                             store=store)
        written = write_stress_outputs(result, staging)
    return result, [out / path.name for path in written]
