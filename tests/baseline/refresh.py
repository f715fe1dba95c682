"""Write the seeded regression baseline that tests/test_baseline.py compares against.

Run this only when a change to the model is meant to change its numbers, and say why in the
commit:

    python tests/baseline/refresh.py

The baseline holds every metric, every six months for five years, of three scenarios on two
problem types and two seeds (40 organizations), with the versions that produced it.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numba
import numpy as np

import ci_sim
from ci_sim.model.scenarios import load_scenario
from ci_sim.simulate import run

BASELINE = Path(__file__).with_name("baseline.json")
SCENARIOS = ("isolated_impact", "coalition_no_backbone", "collective_impact")
PROBLEMS = ("simple", "complex")
SEEDS = (1, 2)
YEARS = 5.0
EVERY_MONTHS = 6


def compute() -> dict[str, dict[str, list[float]]]:
    """``{"scenario/problem/seed": {metric: values every EVERY_MONTHS months}}``."""
    cases = {}
    for name in SCENARIOS:
        for problem in PROBLEMS:
            scenario, _ = load_scenario(name, {"problem.type": problem, "years": YEARS})
            for seed in SEEDS:
                frame = run(scenario, seed).iloc[::EVERY_MONTHS]
                cases[f"{name}/{problem}/{seed}"] = {
                    metric: [float(v) for v in frame[metric]]
                    for metric in frame.columns if metric not in ("step", "year")}
    return cases


def main() -> None:
    record = {"ci_sim": ci_sim.__version__, "numpy": np.__version__, "numba": numba.__version__,
              "python": platform.python_version(), "cases": compute()}
    BASELINE.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {BASELINE} ({len(record['cases'])} cases)")


if __name__ == "__main__":
    main()
