"""Coverage of ``ci-sim calibrate``'s posteriors: simulation-based calibration, larger.

The check of ``tests/test_calibration_sbc.py`` (Talts et al. 2018) with more fits and,
with ``--parameters 2``, two parameters and two patterns: each fit draws the truth from the
prior, runs the model there on its own calibration seeds, adds the observation error its
kernel assumes, and fits (:mod:`ci_sim.studies.calibration.sbc`). For a right method the
truth's posterior quantile is uniform: the central 50% and 90% intervals hold it in 50% and
90% of fits, and the rank histogram is flat. A mis-specified fit (its tolerances a quarter
of the data's error) is run beside it: its intervals are too narrow and its histogram a U.

Prints, per parameter and kind of fit: coverage of the 50% and 90% intervals with a 95%
binomial interval, the rank histogram (10 bins) with the chi-square test of flatness, the
mean 90% width over the prior's width, evaluations per fit, wall time and load average.
Fits are spread over a process pool (each fit runs in one worker).

    python benchmarks/bench_calibration_coverage.py [--fits 100] [--parameters 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ci_sim import __version__
from ci_sim.executors import make_executor
from ci_sim.studies.calibration import sbc
from ci_sim.studies.calibration.targets import load_plan

ONE = """
name = "coverage"
scenario = "collective_impact"
years = 2

[set]
"organizations.count" = 8

[seeds]
base = 1
replicates = 1
check_base = 2
abc = 5

[budget]
particles = 40
generations = 10
evaluations = 4000
min_acceptance = 0.01
checks = 0

[runs.ci]

[parameters."problem.responsiveness"]
low = 0.02
high = 0.12

[[patterns]]
name = "outcome_year_2"
statistic = "value"
run = "ci"
year = 2
target = 0.35
tolerance = 0.01
"""

TWO = ONE + """
[runs.isolated]
scenario = "isolated_impact"

[parameters."conditions.setup_cost"]
low = 0.0
high = 0.9

[[patterns]]
name = "lead_year_1"
statistic = "difference"
run = "ci"
versus = "isolated"
year = 1
target = 0.0
tolerance = 0.005
"""

SEED = 20261216


def run_fits(task: tuple) -> pd.DataFrame:
    """Module level, for the pool: (targets text, fit, kernel scale) -> sbc rows."""
    text, fit, scale = task
    with tempfile.TemporaryDirectory(prefix="ci-sim-coverage-") as folder:
        path = Path(folder) / "coverage.toml"
        path.write_text(text)
        table = sbc.coverage(load_plan(path), 1, SEED, kernel_scale=scale, first=fit)
    table["kernel_scale"] = scale
    return table


def binomial_interval(hits: int, count: int) -> tuple[float, float]:
    """Wilson's 95% interval of a proportion."""
    z, p = 1.959964, hits / count
    centre = (p + z * z / (2 * count)) / (1 + z * z / count)
    half = z * np.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return centre - half, centre + half


def report(table: pd.DataFrame, base) -> None:
    from scipy.stats import chisquare

    for (scale, name), rows in table.groupby(["kernel_scale", "parameter"]):
        kind = "well specified" if scale == 1 else f"mis-specified (kernel x {scale:g})"
        prior = base.targets.parameters[name]
        print(f"{name}, {kind}: {len(rows)} fits, "
              f"{rows['reached_zero'].mean():.0%} reached threshold 0, "
              f"{rows['evaluations'].mean():.0f} evaluations per fit")
        for level in (50, 90):
            hits = int(rows[f"in_{level}"].sum())
            low, high = binomial_interval(hits, len(rows))
            print(f"  {level}% intervals hold the truth in {hits / len(rows):.0%} of fits "
                  f"(95% interval {low:.0%} to {high:.0%}; nominal {level}%)")
        counts = sbc.rank_histogram(rows["quantile"], 10)
        print(f"  rank histogram (10 bins): {' '.join(map(str, counts))}; chi-square p = "
              f"{chisquare(counts).pvalue:.3f}")
        print(f"  mean 90% width / prior width: "
              f"{rows['width_90'].mean() / (prior.high - prior.low):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=100)
    parser.add_argument("--parameters", type=int, choices=(1, 2), default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--mis-specified", type=float, default=0.25, dest="scale",
                        help="kernel scale of the mis-specified fits (0: none)")
    args = parser.parse_args()
    text = ONE if args.parameters == 1 else TWO
    with tempfile.TemporaryDirectory(prefix="ci-sim-coverage-") as folder:
        (Path(folder) / "coverage.toml").write_text(text)
        base = load_plan(Path(folder) / "coverage.toml")
    scales = [1.0] + ([args.scale] if args.scale else [])
    tasks = [(text, fit, scale) for scale in scales for fit in range(args.fits)]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with make_executor(workers=args.workers) as executor:
        tables = [table for _, table in executor.map_unordered(run_fits, tasks)]
    seconds = time.perf_counter() - started
    table = pd.concat(tables, ignore_index=True).sort_values(["kernel_scale", "fit"])
    print(f"ci-sim {__version__}: {len(tasks)} fits, {args.parameters} parameter(s), seed "
          f"{SEED}, {seconds:.0f} s wall on {executor.workers} worker(s); load average "
          f"{load:.1f} before, {os.getloadavg()[0]:.1f} after")
    report(table, base)


if __name__ == "__main__":
    main()
