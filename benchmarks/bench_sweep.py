"""Sweep throughput (runs per second) for each executor, and overhead per run.

Runs the same model sweep design (the first points of experiments/sobol_conditions.toml's
Sobol design, one replicate each) four ways, side by side in one process:

- direct: ``ci_sim.simulate.trajectories`` (what a sweep calls per run) in a loop on
  pre-built scenarios, nothing else;
- in-process: the sweep pipeline with ``workers=1`` (batching, validation, checkpoints);
- process pool: ``workers=2``;
- dask: ``scheduler="local"`` with 2 worker processes.

Beside them, the set-up alone: building each point's model without running a month (CPU),
as a share of a direct run.

Pool and Dask are timed twice: including starting the workers (each imports ci-sim and
loads the numba kernels from the on-disk cache, a few seconds), and in the steady state of
a long sweep (after that start). Before the steady-state clock starts, every worker is
warmed: warm-up tasks are sent until each distinct worker process id has answered once.

Wall time (``time.perf_counter``) and CPU time are measured around the same code: the CPU
time of this process (``time.process_time``) plus that of every worker, which each worker
reports at the end of its warm-up and again after the sweep. Each figure is min / median of
``--repeats`` (the ways interleaved, so load changes hit all alike), with the load average.
Prints runs per second, steady-state ratios to direct and in-process, CPU per run, and the
overhead per run of the in-process pipeline over direct calls.

    python benchmarks/bench_sweep.py [--runs 320] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from ci_sim import __version__
from ci_sim.executors import make_executor
from ci_sim.model import CollectiveImpactModel
from ci_sim.model.scenarios import merge, nest, validate
from ci_sim.simulate import run, trajectories
from ci_sim.studies.store import Store
from ci_sim.studies.study import run_study
from ci_sim.studies.sweep.experiment import load_experiment
from ci_sim.studies.sweep.runner import plan_sweep

EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "sobol_conditions.toml"


def sweep_plan(runs: int):
    loaded = load_experiment(EXPERIMENT)
    loaded = loaded.model_copy(update={"experiment": loaded.experiment.model_copy(
        update={"replicates": 1})})
    plan = plan_sweep(loaded)
    plan.design = plan.design.iloc[:runs].reset_index(drop=True)
    plan.seeds = plan.seeds[:1]
    return plan


def point_scenarios(plan) -> list:
    """The scenario of every sample point."""
    base = plan.loaded.base.model_dump()
    names = plan.experiment.parameter_names
    return [validate(merge(base, nest(dict(zip(names, point)))), "").resolved()
            for point in zip(*(plan.design[name].tolist() for name in names))]


def time_direct(plan) -> tuple[float, float, float]:
    """Wall seconds, the same (no workers to start), and CPU seconds of plain calls of what
    a sweep runs per run (``trajectories`` of the metrics its outputs read)."""
    metrics = sorted({spec.metric for spec in plan.experiment.outputs.values()})
    scenarios = point_scenarios(plan)
    cpu, started = time.process_time(), time.perf_counter()
    for scenario in scenarios:
        trajectories(scenario, plan.seeds[0], metrics, engine=plan.experiment.engine)
    wall = time.perf_counter() - started
    return wall, wall, time.process_time() - cpu


def time_setup(plan) -> float:
    """CPU seconds of building every point's model without running a month: the set-up
    share of a direct run (the seed's network, landscape and set-up random numbers are
    kept after the first point, as in a sweep)."""
    scenarios = point_scenarios(plan)
    cpu = time.process_time()
    for scenario in scenarios:
        CollectiveImpactModel(scenario, record="none", seed=plan.seeds[0],
                              engine_name=plan.experiment.engine)
    return time.process_time() - cpu


def warm_up(_: int) -> tuple[int, float]:
    """Import the model and load its kernels in a worker (one 1-month run); the worker's
    process id and CPU seconds so far."""
    from ci_sim.model.params import Scenario

    run(Scenario(years=1 / 12).resolved(), 0)
    time.sleep(0.05)  # so that one quick worker does not answer a whole round alone
    return os.getpid(), time.process_time()


def worker_cpu(_: int) -> tuple[int, float]:
    """A worker's process id and CPU seconds so far."""
    time.sleep(0.05)
    return os.getpid(), time.process_time()


def every_worker(executor, function, rounds: int = 50) -> dict[int, float]:
    """``function``'s answer from each distinct worker process (by pid): tasks are sent in
    rounds of ``executor.workers`` until every worker has answered."""
    answers: dict[int, float] = {}
    for _ in range(rounds):
        for _, (pid, value) in executor.map_unordered(function, range(executor.workers)):
            answers[pid] = value
        if len(answers) >= executor.workers:
            return answers
    raise RuntimeError(f"only {len(answers)} of {executor.workers} workers answered")


def time_pipeline(plan, **options) -> tuple[float, float, float]:
    """Wall seconds of the whole sweep including starting the workers; wall and CPU seconds
    without that start (every worker started and warmed first: the steady state of a long
    sweep). CPU: this process's plus each worker's (none counted twice in-process)."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder), "sweep")
        started = time.perf_counter()
        with make_executor(**options) as executor:
            warmed = every_worker(executor, warm_up)
            cpu, warm = time.process_time(), time.perf_counter()
            ran = run_study(plan.study(), executor, store=store).ran
            finished = time.perf_counter()
            cpu = time.process_time() - cpu
            after = every_worker(executor, worker_cpu)
    assert ran == plan.runs
    cpu += sum(after[pid] - warmed[pid] for pid in after if pid != os.getpid())
    return finished - started, finished - warm, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=320)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    plan = sweep_plan(arguments.runs)
    run(plan.loaded.base, 0)  # compile or load the numba kernels once, outside the timings
    ways = {"direct": lambda: time_direct(plan),
            "in-process": lambda: time_pipeline(plan, workers=1),
            "process pool (2 workers)": lambda: time_pipeline(plan, workers=2),
            "dask LocalCluster (2 workers)": lambda: time_pipeline(plan, scheduler="local",
                                                                   workers=2)}
    times = {name: [] for name in ways}
    setups = []
    load = lambda: " ".join(f"{value:.2f}" for value in os.getloadavg())  # noqa: E731
    before = load()
    for _ in range(arguments.repeats):
        for name, measure in ways.items():  # interleaved, so load changes hit all alike
            times[name].append(measure())
        setups.append(time_setup(plan))
    print(f"ci-sim {__version__}: {plan.runs} runs of {plan.loaded.base.years:g} years "
          f"({EXPERIMENT.name} design), min / median of {arguments.repeats}, {os.cpu_count()} "
          f"cores, load average {before} before, {load()} after")
    print(f"{'':32}{'runs/s, start incl.':>21}{'runs/s, steady':>17}{'steady CPU ms/run':>20}"
          f"{'x direct':>10}{'x in-process':>14}")
    best = lambda values: (max(values), statistics.median(values))  # noqa: E731
    direct = best([plan.runs / steady for _, steady, _ in times["direct"]])
    single = best([plan.runs / steady for _, steady, _ in times["in-process"]])
    for name, results in times.items():
        total = best([plan.runs / whole for whole, _, _ in results])
        steady = best([plan.runs / part for _, part, _ in results])
        cpu = [cpu / plan.runs * 1e3 for _, _, cpu in results]
        print(f"  {name:30}{total[0]:10.2f} /{total[1]:7.2f}{steady[0]:9.2f} /{steady[1]:6.2f}"
              f"{min(cpu):11.1f} /{statistics.median(cpu):6.1f}"
              f"{steady[0] / direct[0]:10.2f}{steady[0] / single[0]:14.2f}")
    walls = {name: min(part for _, part, _ in results) for name, results in times.items()}
    overhead = walls["in-process"] - walls["direct"]
    print(f"  runs/s: max / median (the best and typical); ratios of the best steady rates")
    print(f"  overhead per run, in-process pipeline over direct calls (min wall): "
          f"{overhead / plan.runs * 1000:.2f} ms ({overhead / walls['direct']:.1%})")
    direct_cpu = min(cpu for _, _, cpu in times["direct"])
    print(f"  set-up alone (building a point's model, no month run), CPU per run: "
          f"{min(setups) / plan.runs * 1e3:.2f} / {statistics.median(setups) / plan.runs * 1e3:.2f}"
          f" ms ({min(setups) / direct_cpu:.0%} of a direct run, min / min)")


if __name__ == "__main__":
    main()
