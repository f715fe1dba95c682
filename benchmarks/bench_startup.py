"""Start-up: wall and CPU time of a warm ``ci-sim run --years 1 --replicates 1``.

Each command runs as a fresh process (the numba kernels already compiled in the on-disk
cache: one untimed run first), and its wall time (``time.perf_counter`` around it) and CPU
time (user + system of the child, ``RUSAGE_CHILDREN``) are printed side by side as min and
median of ``--repeats``, with the load average before and after. Also timed: ``import
ci_sim.cli`` alone (what every command pays, ``--help`` included) and, for the run, the
installed ``ci-sim`` entry point next to this interpreter when there is one (run with
``PYTHONPATH`` set to this tree, so it times this tree's code through the console script).

``--source DIR`` (repeatable) times the same commands with ``PYTHONPATH=DIR`` (a source
tree's ``src``, e.g. an older commit from ``git archive``), interleaved with the current one
repeat by repeat, so load changes hit all alike and the ratio is fair.

    python benchmarks/bench_startup.py [--repeats 5] [--source /tmp/old/src]

The target of issue 11 is a warm run in <= 1.5 s wall.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command`` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def spread(values: list[float]) -> str:
    return f"{min(values):5.2f} / {statistics.median(values):5.2f}"


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--source", action="append", default=[], metavar="DIR",
                        help="another source tree's src folder to time side by side")
    args = parser.parse_args()

    out = Path(tempfile.mkdtemp(prefix="ci-sim-startup-"))
    run_args = ["run", "--years", "1", "--replicates", "1", "--out", str(out / "run"),
                "--overwrite"]
    trees = {"this tree": str(SRC), **{source: source for source in args.source}}
    commands: dict[str, tuple[list[str], dict[str, str]]] = {}
    for label, path in trees.items():
        env = {**os.environ, "PYTHONPATH": path}
        commands[f"{label}: import ci_sim.cli"] = (
            [sys.executable, "-c", "import ci_sim.cli"], env)
        commands[f"{label}: python -m ci_sim.cli run"] = (
            [sys.executable, "-m", "ci_sim.cli", *run_args], env)
    entry = Path(sys.executable).with_name("ci-sim")
    if entry.exists() or shutil.which("ci-sim"):
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        commands["this tree: ci-sim run (console script)"] = (
            [str(entry if entry.exists() else "ci-sim"), *run_args], env)
    for command, env in commands.values():  # warm: compile or load the numba cache once
        timed(command, env)

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
          f"{load()} (1, 5, 15 min) before")
    walls = {name: [] for name in commands}
    cpus = {name: [] for name in commands}
    for _ in range(args.repeats):  # interleaved
        for name, (command, env) in commands.items():
            wall, cpu = timed(command, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    print(f"seconds, min / median of {args.repeats} (a fresh process each)")
    print(f"{'command':58} {'wall':>13} {'CPU':>13}")
    for name in commands:
        print(f"{name:58} {spread(walls[name]):>13} {spread(cpus[name]):>13}")
    print(f"load average {load()} after; target: warm run <= 1.5 s wall")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
