"""Engine throughput: the numba and python engines side by side on the default scenario.

For 50, 200 and 1,000 organizations, times model steps with each engine in the same process
(after compiling) and reports agent-steps per second and the numba / python ratio, then the
wall time of a full 10-year monthly run of 200 organizations (model set-up included).

    python benchmarks/bench_engines.py [--months 24] [--repeats 3]

Timings are the best of ``--repeats``; numba runs five times as many months as python, on the
same seeds (throughput is per step, so the ratio is fair). Machines shared with other work
are noisy: run it more than once and compare the spread.
"""

from __future__ import annotations

import argparse
import platform
import time

import numba
import numpy as np

import ci_sim
from ci_sim.model import STEPS_PER_YEAR, CollectiveImpactModel
from ci_sim.scenarios import load_scenario


def steps_per_second(scenario, engine: str, months: int, repeats: int) -> float:
    """Best-of-``repeats`` model steps per second (set-up excluded), on seeds 1..repeats."""
    best = float("inf")
    for seed in range(1, repeats + 1):
        model = CollectiveImpactModel(scenario, engine_name=engine, rng=seed)
        start = time.perf_counter()
        for _ in range(months):
            model.step()
        best = min(best, time.perf_counter() - start)
    return months / best


def full_run_ms(scenario, repeats: int) -> float:
    """Best-of wall time of set-up plus a whole run, milliseconds (numba engine)."""
    months = int(round(scenario.years * STEPS_PER_YEAR))
    best = float("inf")
    for seed in range(1, repeats + 1):
        start = time.perf_counter()
        model = CollectiveImpactModel(scenario, rng=seed)
        for _ in range(months):
            model.step()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=24, help="months timed per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(f"ci-sim {ci_sim.__version__}, numba {numba.__version__}, numpy {np.__version__}, "
          f"Python {platform.python_version()}, {platform.machine()}")
    CollectiveImpactModel("collective_impact", rng=0).step()  # compile (cached on disk)
    print(f"{'organizations':>13} {'numba agent-steps/s':>20} {'python agent-steps/s':>21} "
          f"{'ratio':>7}")
    for count in (50, 200, 1000):
        scenario, _ = load_scenario("collective_impact", {"organizations.count": count})
        fast = steps_per_second(scenario, "numba", args.months * 5, args.repeats)
        slow = steps_per_second(scenario, "python", args.months, args.repeats)
        print(f"{count:>13} {fast * count:>20,.0f} {slow * count:>21,.0f} {fast / slow:>6.0f}x")
    scenario, _ = load_scenario("collective_impact", {"organizations.count": 200})
    print(f"10-year monthly run, 200 organizations, numba, set-up included: "
          f"{full_run_ms(scenario, max(args.repeats, 5)):.1f} ms (best of {max(args.repeats, 5)})")


if __name__ == "__main__":
    main()
