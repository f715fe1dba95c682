"""Large fields: 10-year runs of 10,000 and 100,000 organizations, time and peak memory.

Each run is a fresh process (so its peak memory is its own): it imports ci-sim, loads the
compiled kernels (one 40-organization month, untimed), then builds the default scenario
with ``--count`` organizations and runs it to its horizon (``record="none"``, as ``ci-sim
run`` does). Printed for each size, as min and median of ``--repeats`` seeds: CPU time of
the process (``time.process_time``) and wall time (``time.perf_counter``) of set-up plus
run; the process's peak resident memory (``resource.getrusage(...).ru_maxrss``), the part of
it above the process before the model was built, and what the model's arrays hold (trust
among them). The load average is printed before and after.

``--source DIR`` (a source tree's ``src``, e.g. an older commit from ``git archive``) also
times a 10-year run of 200 organizations with that tree and with this one in this same
process, interleaved seed by seed (each tree's modules swapped in before its run), so both
see the same load and the ratio is fair.

    python benchmarks/bench_scale.py [--count 10000 --count 100000] [--repeats 3]
        [--source /tmp/old/src]

The target of issue 11: 100,000 organizations, a 10-year run in <= 60 s and <= 2 GB.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
#: The issue's targets for 100,000 organizations: seconds and bytes of a 10-year run.
TARGET_SECONDS, TARGET_BYTES = 60, 2e9


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def spread(values: list[float], fmt: str = ".1f") -> str:
    """'min / median' of values."""
    return f"{min(values):{fmt}} / {statistics.median(values):{fmt}}"


def peak_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def model_bytes(model) -> int:
    """Bytes of the model's numpy arrays (one level deep: attributes and dicts of arrays;
    views onto another array not counted again) and of its trust store."""
    import numpy as np

    total = model.trust.nbytes
    for value in vars(model).values():
        values = value.values() if isinstance(value, dict) else [value]
        total += sum(v.nbytes for v in values if isinstance(v, np.ndarray) and v.base is None)
    return total


def child(count: int, seed: int) -> None:
    """One run in this process; prints its figures as JSON."""
    from ci_sim.model import CollectiveImpactModel

    CollectiveImpactModel("collective_impact", rng=0, record="none").step()  # load kernels
    before = peak_bytes()
    cpu, wall = time.process_time(), time.perf_counter()
    model = CollectiveImpactModel("collective_impact", record="none", rng=seed,
                                  **{"organizations.count": count})
    setup = time.process_time() - cpu
    while model.running:
        model.step()
    print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
                      "setup_cpu": setup, "months": model.steps, "peak": peak_bytes(),
                      "before": before, "arrays": model_bytes(model),
                      "trust": model.trust.nbytes, "slots": model.neighbours.shape[1]}))


def run_child(count: int, seed: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, __file__, "--child", str(count), str(seed)],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def scale(counts: list[int], repeats: int) -> None:
    print(f"10-year runs (set-up included), min / median of {repeats} seeds, one process each")
    print(f"{'organizations':>13} {'CPU s':>15} {'wall s':>15} {'peak MB':>15} "
          f"{'model MB':>15} {'arrays MB':>10} {'trust MB':>9}")
    for count in counts:
        runs = [run_child(count, seed) for seed in range(1, repeats + 1)]

        def column(key: str, scale: float = 1.0, runs: list[dict] = runs) -> list[float]:
            return [run[key] * scale for run in runs]

        added = [(run["peak"] - run["before"]) / 1e6 for run in runs]
        print(f"{count:>13,} {spread(column('cpu')):>15} {spread(column('wall')):>15} "
              f"{spread(column('peak', 1e-6), '.0f'):>15} {spread(added, '.0f'):>15} "
              f"{max(column('arrays', 1e-6)):>10.0f} {max(column('trust', 1e-6)):>9.1f}")
        print(f"{'':>13} ({runs[0]['months']} months, set-up {spread(column('setup_cpu'))} "
              f"s CPU, {runs[0]['slots']} meeting slots per organization)")
        if count == 100_000:
            met = max(column("wall")) <= TARGET_SECONDS and max(column("peak")) <= TARGET_BYTES
            print(f"{'':>13} target <= {TARGET_SECONDS} s and <= {TARGET_BYTES / 1e9:.0f} GB: "
                  f"{'met' if met else 'NOT met'} by every seed")


def tree_modules(source: str) -> dict[str, object]:
    """The ci_sim modules of the source tree ``source``, imported afresh."""
    for name in [name for name in sys.modules if name.split(".")[0] == "ci_sim"]:
        del sys.modules[name]
    sys.path.insert(0, source)
    try:
        for name in ("ci_sim.model.model", "ci_sim.model.params", "ci_sim.model.scenarios",
                     "ci_sim.model.engines", "ci_sim.model.agents"):
            importlib.import_module(name)
    finally:
        sys.path.remove(source)
    return {name: module for name, module in sys.modules.items()
            if name.split(".")[0] == "ci_sim"}


def side_by_side(source: str, repeats: int) -> None:
    trees = {"--source": tree_modules(source), "this tree": tree_modules(str(SRC))}
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in trees}
    for seed in range(repeats + 1):  # seed 0 loads the kernels and is not timed
        for name, modules in trees.items():
            sys.modules.update(modules)
            model_class = modules["ci_sim.model.model"].CollectiveImpactModel
            cpu, wall = time.process_time(), time.perf_counter()
            model = model_class("collective_impact", record="none", rng=seed,
                                **{"organizations.count": 200})
            while model.running:
                model.step()
            if seed:
                times[name][0].append((time.process_time() - cpu) * 1e3)
                times[name][1].append((time.perf_counter() - wall) * 1e3)
    print(f"10-year run of 200 organizations (set-up included), both trees in this process, "
          f"interleaved, min / median of {repeats} seeds:")
    for name, (cpu, wall) in times.items():
        print(f"  {name:>9}: {spread(cpu)} ms CPU, {spread(wall)} ms wall"
              + (f"  ({source})" if name == "--source" else ""))
    old, new = (min(times[name][0]) for name in trees)
    print(f"  this tree / --source, min CPU: {new / old:.2f}")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, action="append",
                        help="organizations (repeatable; default 10,000 and 100,000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source", metavar="DIR",
                        help="another source tree's src folder: 200 organizations side by side")
    args = parser.parse_args()
    import mesa
    import numba
    import numpy as np

    print(f"numba {numba.__version__}, numpy {np.__version__}, mesa {mesa.__version__}, "
          f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load()} (1, 5, 15 min) before")
    scale(args.count or [10_000, 100_000], args.repeats)
    if args.source:
        side_by_side(args.source, max(args.repeats, 5))
    print(f"load average {load()} after")


if __name__ == "__main__":
    main()
