"""Cost of the validation experiments' runs: model set-up and steps per second.

Run: ``python benchmarks/bench_validation.py``. Prints, for the March (1991) and the
Lazer & Friedman (2007) settings, the seconds to set up one model (dominated by the
exhaustive best-payoff search), the steps per second once set up, and the share of a step
spent in the equilibrium check of the March experiment. All figures come from one run on
this machine, side by side.
"""

from __future__ import annotations

import time

from ci_sim.model import CollectiveImpactModel
from ci_sim.model.scenarios import load_scenario
from ci_sim.studies.validation.study import at_equilibrium, scenario_path

SETUPS = 5
STEPS = 400


def measure(name: str, overrides: dict) -> dict[str, float]:
    scenario, _ = load_scenario(scenario_path(name), overrides)
    CollectiveImpactModel(scenario, rng=0).step()  # compile and warm up
    started = time.perf_counter()
    models = [CollectiveImpactModel(scenario, record="none", rng=seed)
              for seed in range(1, SETUPS + 1)]
    setup = (time.perf_counter() - started) / SETUPS
    model = models[0]
    started = time.perf_counter()
    for _ in range(STEPS):
        model.step()
    step = (time.perf_counter() - started) / STEPS
    started = time.perf_counter()
    for _ in range(STEPS):
        at_equilibrium(model)
    check = (time.perf_counter() - started) / STEPS
    return {"setup_s": setup, "steps_per_s": 1 / step, "step_ms": 1000 * step,
            "equilibrium_check_ms": 1000 * check}


def main() -> None:
    cases = [("march1991_learning_rates", {"learning.socialization_rate": 0.5}),
             ("march1991_turnover", {"learning.turnover": 0.02})]
    cases += [("lazer_friedman2007", {"learning.network": network})
              for network in ("linear", "small_world", "random", "full")]
    print(f"{'experiment':28} {'setting':34} {'setup s':>8} {'steps/s':>8} {'ms/step':>8} "
          f"{'check ms':>8}")
    for name, overrides in cases:
        result = measure(name, overrides)
        setting = ", ".join(f"{k.rpartition('.')[2]}={v}" for k, v in overrides.items())
        print(f"{name:28} {setting:34} {result['setup_s']:8.3f} {result['steps_per_s']:8.0f} "
              f"{result['step_ms']:8.3f} {result['equilibrium_check_ms']:8.3f}")


if __name__ == "__main__":
    main()
