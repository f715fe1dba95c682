"""``ci-sim validate``: run the experiments and write validation.md with tables and figures."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ci_sim.errors import InputError
from ci_sim.executors import make_executor
from ci_sim.folders import write_atomic
from ci_sim.model.engines import ENGINES
from ci_sim.simulate import versions
from ci_sim.studies.stats import interval, span
from ci_sim.studies.store import Store
from ci_sim.studies.study import checkpointed
from ci_sim.studies.validation.experiments import EXPERIMENTS
from ci_sim.studies.validation.study import (DEFAULT_SEED, Results, difference, precision_line,
                                             run_experiment,
                                             scenario_path, short, signed4, table)


#: What ``ci-sim validate`` writes into its folder (docs/ holds other files too).
FILES = ("validation.md", "validation", "img/validation")


def identity(names: Sequence[str], *, seed: int, runs: int | None, engine: str) -> dict:
    """What must not change between the start of a validation and its resume: the
    experiments, options and scenario files."""
    files = {name: hashlib.sha256(scenario_path(name).read_bytes()).hexdigest()
             for name in names}
    record = {"experiments": list(names), "seed": seed, "runs": runs, "engine": engine,
              "scenario_files": files}
    return {**record, "sha256": hashlib.sha256(json.dumps(record, sort_keys=True)
                                               .encode()).hexdigest()}


def validate(names: Sequence[str] | None = None, *, out: Path, seed: int = DEFAULT_SEED,
             runs: int | None = None, engine: str = "numba", workers: int | None = None,
             progress: Callable[[str], None] | None = None, resume: bool = False,
             overwrite: bool = False) -> list[Results]:
    """Run the validation experiments and publish their tables, figures and
    ``validation.md``: what ``ci-sim validate`` does.

    Writes ``OUT/validation.md``, ``OUT/validation/NAME.csv`` and
    ``OUT/img/validation/NAME.png`` for every experiment run, together (only these: the
    folder may hold other files). Runs are saved as they finish, so a validation killed at
    any moment finishes with ``resume`` to the same numbers.

    Raises:
        InputError: an unknown experiment name, engine or runs count, results in ``out``
            without ``overwrite`` (before anything runs or is written).
    """
    names = list(names or EXPERIMENTS)
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        raise InputError(f"{', '.join(unknown)}: no such validation experiment "
                         f"(known: {', '.join(EXPERIMENTS)})")
    if engine not in ENGINES:
        raise InputError(f"--engine: must be one of {', '.join(ENGINES)}, got {engine!r}")
    if runs is not None and runs < 2:
        raise InputError(f"--replicates: must be at least 2 (for an interval), got {runs}")
    started = time.perf_counter()
    done = []
    with checkpointed(Path(out), kind="validation", source="the validation",
                      identity=identity(names, seed=seed, runs=runs, engine=engine),
                      resume=resume, overwrite=overwrite, members=FILES) as (staging, store):
        with make_executor(workers=workers) as executor:
            for name in names:
                done.append(run_experiment(EXPERIMENTS[name], seed=seed, runs=runs,
                                           engine=engine, executor=executor, progress=progress,
                                           store=Store(store.path / name, "validation")))
                if progress is not None:
                    progress(f"{name}: finished in {done[-1].seconds:.0f} s")
            worker_count = executor.workers
        write(done, staging, seed=seed, runs=runs, engine=engine, workers=worker_count,
              seconds=time.perf_counter() - started)
    return done


def write(done: Sequence[Results], out: Path, *, seed: int, runs: int | None, engine: str,
          workers: int, seconds: float) -> None:
    """Write the tables, figures and validation.md of finished experiments into ``out``."""
    tables, figures = out / "validation", out / "img" / "validation"
    tables.mkdir(parents=True, exist_ok=True)
    figures.mkdir(parents=True, exist_ok=True)
    for results in done:
        name = results.experiment.name
        frame = table(results)
        write_atomic(tables / f"{name}.csv", lambda p: frame.to_csv(p, index=False))
        write_atomic(figures / f"{name}.png", lambda p: results.experiment.plot(results, p))
    report = markdown(done, seed=seed, runs=runs, engine=engine, workers=workers,
                      seconds=seconds)
    write_atomic(out / "validation.md", lambda p: p.write_text(report))


def markdown(done: Sequence[Results], *, seed: int, runs: int | None, engine: str, workers: int,
             seconds: float) -> str:
    """The validation report: summary, then per experiment the figure, checks and notes."""
    names = [results.experiment.name for results in done]
    command = " ".join(["ci-sim validate", *([] if names == list(EXPERIMENTS) else names),
                        *([] if runs is None else ["--replicates", str(runs)]),
                        *([] if seed == DEFAULT_SEED else ["--seed", str(seed)]),
                        *([] if engine == "numba" else ["--engine", engine]),
                        "--out docs --overwrite"])
    library = ", ".join(f"{k} {v}" for k, v in versions().items())
    lines = [
        "# Model validation: docking with published agent-based models",
        "",
        "ci-sim's building blocks reproduce results the field already knows (\"docking\", "
        "Axtell, Axelrod, Epstein & Cohen 1996). Each experiment is a scenario file in "
        "`scenarios/validation/` and a grid of parameters, run through the same parameter "
        "system, model, engines and kernels as every other scenario. Grid points share "
        "their replicate seeds (common random numbers), except in the experiments docked with "
        "an independent re-implementation run apart from the model (March), where every point "
        "has seeds of its own so that differences can be pooled over points; a "
        "re-implementation run on each model run's own problem (Lazer & Friedman) is compared "
        "run by run, paired; intervals are 95% t intervals over replicates.",
        "",
        f"Generated by `{command}` with {library}; engine {engine}, base seed "
        f"{seed}, {workers} worker(s), {seconds:.0f} s in all. Tables: `validation/NAME.csv`; "
        "figures: `img/validation/NAME.png`.",
        "",
        "| experiment | verdict | checks passed | runs per point | time | processor time |",
        "|---|---|---|---|---|---|",
    ]
    for results in done:
        counts = sorted({len(v) for v in results.values.values()})
        per_point = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        lines.append(f"| [{results.experiment.name}](#{results.experiment.name}) | "
                     f"{'PASS' if results.passed else 'FAIL'} | "
                     f"{sum(c.passed for c in results.checks)}/{len(results.checks)} | "
                     f"{per_point} | {results.seconds:.0f} s | {results.cpu_seconds:.0f} s |")
    for results in done:
        experiment = results.experiment
        grid = "; ".join(f"`{k}` = " + ", ".join(f"{v:g}" if isinstance(v, float) else str(v)
                                                 for v in values)
                         for k, values in experiment.grid.items())
        lines += [
            "",
            f"<a id=\"{experiment.name}\"></a>",
            f"## {experiment.title}",
            "",
            f"Source: {experiment.source}",
            "",
            f"Compared with: {experiment.compared_with}",
            "",
            f"Scenario `scenarios/validation/{experiment.name}.toml`; grid: {grid}; metric "
            f"`{experiment.metric}`; horizon {results.horizon} periods (months)"
            + ("; a run stops earlier once absorbing" if experiment.until_equilibrium else "")
            + f". {precision_line(results)}".rstrip(". ") + ".",
            "",
            f"![{experiment.name}](img/validation/{experiment.name}.png)",
            "",
            "| claim | published | measured (mean [95% interval]) | result |",
            "|---|---|---|---|",
        ]
        for check in results.checks:
            lines.append(f"| {check.claim} | {check.published} | {check.measured} | "
                         f"{'PASS' if check.passed else 'FAIL'} |")
        if results.reference:
            lines += ["", docking_table(results)]
        elif results.paired:
            lines += ["", paired_table(results)]
        elif not experiment.trajectory:
            lines += ["", point_table(results)]
        if experiment.until_equilibrium:
            lines += ["", equilibrium_line(results)]
        if experiment.notes:
            lines += ["", f"Notes. {experiment.notes}"]
    return "\n".join(lines) + "\n"


def equilibrium_line(results: Results) -> str:
    """How many runs reached the absorbing state before the horizon, overall and at worst."""
    shares = {index: flags.mean() for index, flags in results.equilibrium.items()}
    overall = np.concatenate(list(results.equilibrium.values())).mean()
    worst = min(shares, key=shares.get)
    where = ", ".join(f"{k} = {v:g}" for k, v in results.points[worst].items())
    return (f"Runs absorbed before the horizon of {results.horizon} periods: {overall:.0%} "
            f"(fewest at {where}: {shares[worst]:.0%}); the others are measured at the horizon.")


def point_table(results: Results) -> str:
    """Markdown table of the grid: rows the first parameter, columns the second."""
    experiment = results.experiment
    row_name, column_name = (short(k) for k in experiment.grid)
    row_values, column_values = experiment.grid.values()
    header = f"| {row_name} \\ {column_name} | " + " | ".join(f"{v:g}" for v in column_values)
    lines = [header + " |", "|---" * (len(column_values) + 1) + "|"]
    for row in row_values:
        cells = []
        for column in column_values:
            summary = interval(results.final(results.point(**{row_name: row,
                                                                 column_name: column})))
            cells.append(f"{summary['mean']:.3f} ± {span(summary):.3f}")
        lines.append(f"| {row:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def docking_table(results: Results) -> str:
    """Markdown table: every grid point, the model and the re-implementation (mean, 95%
    half-interval, runs) and their difference with its 95% interval."""
    names = list(results.points[0])
    lines = ["| " + " | ".join(names) + " | model | runs | periods | re-implementation | runs "
             "| model - re-implementation [95%] | z |",
             "|---" * (len(names) + 7) + "|"]
    for index, point in enumerate(results.points):
        model, reference = interval(results.final(index)), interval(results.reference[index])
        gap = difference(results, index)
        lines.append(
            "| " + " | ".join(f"{value:g}" for value in point.values())
            + f" | {model['mean']:.4f} ± {span(model):.4f} "
            f"| {len(results.final(index))} | {results.steps[index].mean():.0f} "
            f"| {reference['mean']:.4f} ± {span(reference):.4f} "
            f"| {len(results.reference[index])} | {signed4(gap)} | {gap['z']:+.2f} |")
    return "\n".join(lines)


def paired_table(results: Results) -> str:
    """Markdown table: every grid point at every docking round, the model and the paired
    re-implementation (mean, 95% half-interval) and their paired difference with its 95%
    interval and z."""
    from ci_sim.studies.validation.lazer_friedman2007 import gap, rounds_of

    names = list(results.points[0])
    lines = ["| " + " | ".join(names) + " | round | runs | model | re-implementation "
             "| model - re-implementation [95%] | z |",
             "|---" * (len(names) + 6) + "|"]
    for index, point in enumerate(results.points):
        for step in rounds_of(results):
            model = interval(results.values[index][:, step])
            redone = interval(results.paired[index][:, step])
            difference_ = gap(results, index, step)
            lines.append(
                "| " + " | ".join(str(value).replace("_", " ") for value in point.values())
                + f" | {step} | {len(results.values[index])} "
                f"| {model['mean']:.4f} ± {span(model):.4f} "
                f"| {redone['mean']:.4f} ± {span(redone):.4f} "
                f"| {signed4(difference_)} | {difference_['z']:+.2f} |")
    return "\n".join(lines)
