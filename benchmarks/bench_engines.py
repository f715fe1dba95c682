"""Engine throughput: the numba and python engines side by side on the default scenario.

For 50, 200 and 1,000 organizations, times model steps with each engine in the same process
(after compiling) and reports agent-steps per second and the numba / python ratio, then the
wall time of a full 10-year monthly run of 200 organizations (model set-up included).

    python benchmarks/bench_engines.py [--months 24] [--repeats 3]

Timings are CPU time of this process (``time.process_time``), so other work on a shared
machine distorts them less than wall time; each figure is given as min and median of
``--repeats``, with the load average. Numba runs five times as many months as python, on
the same seeds, in the same process (throughput is per step, so the ratio is fair).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numba
import numpy as np

import ci_sim
from ci_sim.model import STEPS_PER_YEAR, CollectiveImpactModel
from ci_sim.model.scenarios import load_scenario


def step_seconds(scenario, engine: str, months: int, repeats: int) -> list[float]:
    """CPU seconds per model step (set-up excluded), one figure per seed 1..repeats."""
    times = []
    for seed in range(1, repeats + 1):
        model = CollectiveImpactModel(scenario, engine_name=engine, record="none", rng=seed)
        start = time.process_time()
        for _ in range(months):
            model.step()
        times.append((time.process_time() - start) / months)
    return times


def full_run_ms(scenario, repeats: int) -> list[float]:
    """CPU milliseconds of set-up plus a whole run (numba engine), one figure per seed."""
    months = int(round(scenario.years * STEPS_PER_YEAR))
    times = []
    for seed in range(1, repeats + 1):
        start = time.process_time()
        model = CollectiveImpactModel(scenario, record="none", rng=seed)
        for _ in range(months):
            model.step()
        times.append((time.process_time() - start) * 1e3)
    return times


def spread(values: list[float], scale: float = 1.0, fmt: str = ",.0f") -> str:
    """'min / median' of values times scale."""
    return f"{min(values) * scale:{fmt}} / {statistics.median(values) * scale:{fmt}}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=24, help="months timed per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(f"ci-sim {ci_sim.__version__}, numba {numba.__version__}, numpy {np.__version__}, "
          f"Python {platform.python_version()}, {platform.machine()}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    CollectiveImpactModel("collective_impact", rng=0).step()  # compile (cached on disk)
    print(f"CPU time, min / median of {args.repeats} seeds")
    print(f"{'organizations':>13} {'numba agent-steps/s':>22} {'python agent-steps/s':>22} "
          f"{'ratio':>11}")
    for count in (50, 200, 1000):
        scenario, _ = load_scenario("collective_impact", {"organizations.count": count})
        fast = step_seconds(scenario, "numba", args.months * 5, args.repeats)
        slow = step_seconds(scenario, "python", args.months, args.repeats)
        rates = lambda times: spread([1 / t for t in sorted(times)[::-1]], count)  # noqa: E731
        ratios = [s / f for f, s in zip(sorted(fast), sorted(slow))]
        print(f"{count:>13} {rates(fast):>22} {rates(slow):>22} "
              f"{spread(ratios, fmt='.0f'):>10}x")
    scenario, _ = load_scenario("collective_impact", {"organizations.count": 200})
    runs = full_run_ms(scenario, max(args.repeats, 5))
    print(f"10-year monthly run, 200 organizations, numba, set-up included: "
          f"{spread(runs, fmt='.1f')} ms CPU (min / median of {len(runs)})")


if __name__ == "__main__":
    main()
