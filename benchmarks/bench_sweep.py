"""Sweep throughput (runs per second) for each executor, and overhead per run.

Runs the same model sweep design (the first points of experiments/sobol_conditions.toml's
Sobol design, one replicate each) four ways, side by side in one process:

- direct: ``ci_sim.simulate.run`` called in a loop on pre-built scenarios, nothing else;
- in-process: the sweep pipeline with ``workers=1`` (batching, validation, checkpoints);
- process pool: ``workers=2``;
- dask: ``scheduler="local"`` with 2 worker processes.

Pool and Dask are timed twice: including starting the workers (each imports ci-sim and
loads the numba kernels from the on-disk cache, a few seconds), and in the steady state of
a long sweep (after that start). Prints runs per second, steady-state ratios to direct and
in-process, and the overhead per run of the in-process pipeline over direct calls.

    python benchmarks/bench_sweep.py [--runs 320] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from ci_sim import __version__
from ci_sim.executors import make_executor
from ci_sim.model.scenarios import merge, nest, validate
from ci_sim.simulate import run
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


def time_direct(plan) -> float:
    base = plan.loaded.base.model_dump()
    names = plan.experiment.parameter_names
    scenarios = [validate(merge(base, nest(dict(zip(names, point)))), "").resolved()
                 for point in zip(*(plan.design[name].tolist() for name in names))]
    started = time.perf_counter()
    for scenario in scenarios:
        run(scenario, plan.seeds[0], engine=plan.experiment.engine)
    return time.perf_counter() - started


def warm_up(_: int) -> int:
    """Import the model and load its kernels in a worker (one 1-month run)."""
    from ci_sim.model.params import Scenario

    run(Scenario(years=1 / 12).resolved(), 0)
    return os.getpid()


def time_pipeline(plan, **options) -> tuple[float, float]:
    """Seconds for the whole sweep including starting the workers, and without that start
    (workers started and warmed up first: the steady state of a long sweep)."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder), "sweep")
        started = time.perf_counter()
        with make_executor(**options) as executor:
            list(executor.map_unordered(warm_up, range(executor.workers)))
            warm = time.perf_counter()
            ran = run_study(plan.study(), executor, store=store).ran
            finished = time.perf_counter()
    assert ran == plan.runs
    return finished - started, finished - warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=320)
    parser.add_argument("--repeats", type=int, default=2)
    arguments = parser.parse_args()
    plan = sweep_plan(arguments.runs)
    run(plan.loaded.base, 0)  # compile or load the numba kernels once, outside the timings
    ways = {"direct": lambda: (time_direct(plan),) * 2,
            "in-process": lambda: time_pipeline(plan, workers=1),
            "process pool (2 workers)": lambda: time_pipeline(plan, workers=2),
            "dask LocalCluster (2 workers)": lambda: time_pipeline(plan, scheduler="local",
                                                                   workers=2)}
    best = {name: [float("inf")] * 2 for name in ways}
    for _ in range(arguments.repeats):
        for name, measure in ways.items():  # interleaved, so load changes hit all alike
            best[name] = [min(old, new) for old, new in zip(best[name], measure())]
    print(f"ci-sim {__version__}: {plan.runs} runs of {plan.loaded.base.years:g} years "
          f"({EXPERIMENT.name} design), best of {arguments.repeats}; runs/s with the "
          f"workers' start included, then without (steady state)")
    direct, single = best["direct"][1], best["in-process"][1]
    for name, (total, steady) in best.items():
        print(f"  {name:30} {plan.runs / total:6.2f} | {plan.runs / steady:6.2f} runs/s   "
              f"steady x{direct / steady:5.2f} of direct, x{single / steady:5.2f} of "
              f"in-process")
    print(f"  overhead per run, in-process pipeline over direct calls: "
          f"{(single - direct) / plan.runs * 1000:.2f} ms ({(single - direct) / direct:.1%})")


if __name__ == "__main__":
    main()
