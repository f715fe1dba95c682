"""Engine throughput: the numba and python engines side by side on the default scenario.

For 50, 200 and 1,000 organizations, times months run as one engine call
(``model.advance``, how ``ci_sim.evaluate`` and every study run the model) with each engine
in the same process (after compiling), and reports agent-months per second and the numba /
python ratio; then a full 10-year monthly run of 200 organizations (model set-up included),
as one call and as 120 Mesa ``step()`` calls, next to its estimated physical limit.

    python benchmarks/bench_engines.py [--months 24] [--repeats 3]

Every figure is measured both as CPU time of this process (``time.process_time``, which
other work on a shared machine distorts less) and as wall time (``time.perf_counter``),
around the same code, and given as min and median of ``--repeats``, with the load average
before and after. Numba runs five times as many months as python, on the same seeds, in the
same process (throughput is per month, so the ratio is fair).

The physical limit: the element operations of a month are counted as the lines of the
engine's code the python engine executes in it (``sys.settrace`` on
:mod:`ci_sim.model.kernels` and :mod:`ci_sim.model.month`, months 2 to 4 of the same
scenario); a fused compiled loop does one in about 0.5-1 ns, so a month cannot take much less
than that count times 0.5-1 ns.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numba
import numpy as np

import ci_sim
from ci_sim.model import STEPS_PER_YEAR, CollectiveImpactModel, kernels, month
from ci_sim.model.scenarios import load_scenario

#: Nanoseconds per element operation of a fused compiled loop (the range of the estimate).
NS_PER_OPERATION = (0.5, 1.0)


class Clock:
    """CPU and wall seconds since it started, read together."""

    def __init__(self) -> None:
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def read(self) -> tuple[float, float]:
        return time.process_time() - self.cpu, time.perf_counter() - self.wall


def month_seconds(scenario, engine: str, months: int, repeats: int
                  ) -> tuple[list[float], list[float]]:
    """CPU and wall seconds per month run in one engine call (set-up excluded), one figure
    per seed."""
    cpu, wall = [], []
    for seed in range(1, repeats + 1):
        model = CollectiveImpactModel(scenario, engine_name=engine, record="none", rng=seed)
        clock = Clock()
        model.advance(months)
        used, took = clock.read()
        cpu.append(used / months)
        wall.append(took / months)
    return cpu, wall


def full_run_ms(scenario, repeats: int, stepwise: bool = False
                ) -> tuple[list[float], list[float]]:
    """CPU and wall milliseconds of set-up plus a whole run (numba engine), one per seed: one
    engine call, or a Mesa ``step()`` a month when ``stepwise``."""
    cpu, wall = [], []
    for seed in range(1, repeats + 1):
        clock = Clock()
        model = CollectiveImpactModel(scenario, record="none", rng=seed)
        if stepwise:
            while model.running:
                model.step()
        else:
            model.advance()
        used, took = clock.read()
        cpu.append(used * 1e3)
        wall.append(took * 1e3)
    return cpu, wall


def element_operations(scenario, months: int = 3) -> float:
    """Lines of the engine's code (kernels and month) the python engine executes per month
    (months 2 .. months + 1, seed 1)."""
    model = CollectiveImpactModel(scenario, engine_name="python", record="none", rng=1)
    model.step()  # the first month may do one-off work
    sources = {kernels.__file__, month.__file__}
    count = 0

    def tracer(frame, event, _):
        nonlocal count
        if frame.f_code.co_filename not in sources:
            return None
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        for _ in range(months):
            model.step()
    finally:
        sys.settrace(None)
    return count / months


def spread(values: list[float], scale: float = 1.0, fmt: str = ",.0f") -> str:
    """'min / median' of values times scale."""
    return f"{min(values) * scale:{fmt}} / {statistics.median(values) * scale:{fmt}}"


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=24, help="months timed per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(f"ci-sim {ci_sim.__version__}, numba {numba.__version__}, numpy {np.__version__}, "
          f"Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} cores, load average {load()} (1, 5, 15 min) before")
    CollectiveImpactModel("collective_impact", record="none", rng=0).advance(1)  # compile
    print(f"Agent-months per second in one engine call and the numba / python ratio, "
          f"min / median of "
          f"{args.repeats} seeds, CPU time | wall time")
    print(f"{'organizations':>13} {'numba CPU | wall':>25} {'python CPU | wall':>25} "
          f"{'ratio CPU | wall':>19}")
    for count in (50, 200, 1000):
        scenario, _ = load_scenario("collective_impact", {"organizations.count": count})
        fast = month_seconds(scenario, "numba", args.months * 5, args.repeats)
        slow = month_seconds(scenario, "python", args.months, args.repeats)
        rates = lambda times: spread([1 / t for t in sorted(times)[::-1]], count)  # noqa: E731
        ratio = lambda f, s: spread([b / a for a, b in zip(sorted(f), sorted(s))],  # noqa: E731
                                    fmt=".0f")
        print(f"{count:>13} {rates(fast[0]):>11} | {rates(fast[1]):<11} "
              f"{rates(slow[0]):>11} | {rates(slow[1]):<11} "
              f"{ratio(fast[0], slow[0]):>8} | {ratio(fast[1], slow[1]):<8}")
    scenario, _ = load_scenario("collective_impact", {"organizations.count": 200})
    months = int(round(scenario.years * STEPS_PER_YEAR))
    cpu, wall = full_run_ms(scenario, max(args.repeats, 5))
    step_cpu, step_wall = full_run_ms(scenario, max(args.repeats, 5), stepwise=True)
    per_month = month_seconds(scenario, "numba", args.months * 5, max(args.repeats, 5))[0]
    operations = element_operations(scenario)
    low, high = (operations * ns * 1e-3 for ns in NS_PER_OPERATION)
    print(f"10-year monthly run ({months} months), 200 organizations, numba, set-up "
          f"included, min / median of {len(cpu)}: {spread(cpu, fmt='.1f')} ms CPU, "
          f"{spread(wall, fmt='.1f')} ms wall in one call; {spread(step_cpu, fmt='.1f')} ms "
          f"CPU, {spread(step_wall, fmt='.1f')} ms wall as {months} Mesa step() calls")
    print(f"  a month: {spread(per_month, 1e6, '.1f')} us CPU measured; physical limit "
          f"{operations:,.0f} element operations x {NS_PER_OPERATION[0]}-"
          f"{NS_PER_OPERATION[1]} ns = {low:.0f}-{high:.0f} us "
          f"(x{min(per_month) * 1e6 / high:.1f}-{min(per_month) * 1e6 / low:.1f} above it)")
    print(f"  the run: limit {low * months / 1e3:.1f}-{high * months / 1e3:.1f} ms plus "
          f"set-up; measured {min(cpu):.1f} ms CPU")
    print(f"load average {load()} after")


if __name__ == "__main__":
    main()
