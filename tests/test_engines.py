"""The numba engine and the plain-Python reference engine give the same trajectories.

Both engines run the same kernel code on the same random numbers (counter-based, computed
by the same function), so every metric must agree at every step to 1e-9 on every built-in
scenario.
Randomly drawn parameter sets are covered in test_invariants.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ci_sim.model import kernels
from ci_sim.model.engines import KERNELS, engine
from ci_sim.model.scenarios import builtin_names, load_scenario
from ci_sim.simulate import run
from ci_sim.studies.validation.study import scenario_path

SMALL = {"organizations.count": 16, "years": 4.0}


def small(name: str):
    overrides = dict(SMALL)
    if name.startswith("validation/"):
        name = scenario_path(name.partition("/")[2])
    scenario, _ = load_scenario(name)
    if scenario.organizations.count < SMALL["organizations.count"]:
        overrides.pop("organizations.count")
    if "lazer_friedman" in str(name):
        overrides["problem.strategy_bits"] = 10  # exhaustive best payoff stays quick
        overrides["problem.interdependence"] = 3
    return load_scenario(name, overrides)[0]


@pytest.mark.parametrize("name", builtin_names() + [f"validation/{n}" for n in
                                                    ("march1991_learning_rates",
                                                     "march1991_turnover",
                                                     "lazer_friedman2007",
                                                     "trust_asymmetry")])
def test_engines_agree_on_every_builtin_scenario(name):
    scenario = small(name)
    fast = run(scenario, seed=11, engine="numba")
    reference = run(scenario, seed=11, engine="python")
    assert list(fast.columns) == list(reference.columns)
    np.testing.assert_allclose(fast.to_numpy(float), reference.to_numpy(float),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("judges_by_results", [False, True])
@pytest.mark.parametrize("problem", ["simple", "complicated", "complex"])
def test_engines_agree_on_every_problem_type(problem, judges_by_results):
    scenario, _ = load_scenario("collective_impact", {
        **SMALL, "problem.type": problem, "learning.judges_by_results": judges_by_results})
    np.testing.assert_allclose(run(scenario, 5, engine="numba").to_numpy(float),
                               run(scenario, 5, engine="python").to_numpy(float),
                               rtol=1e-9, atol=1e-9)


def test_engines_agree_when_a_choice_depends_on_many_others():
    """With K = 8 a choice's contribution table has 512 entries, wider than an int8 index
    holds: both engines must read the same entry (the python engine once overflowed here)."""
    scenario, _ = load_scenario("collective_impact", {**SMALL, "problem.interdependence": 8,
                                                      "problem.strategy_bits": 12})
    np.testing.assert_allclose(run(scenario, 3, engine="numba").to_numpy(float),
                               run(scenario, 3, engine="python").to_numpy(float),
                               rtol=1e-9, atol=1e-9)


def test_numba_engine_is_compiled_and_python_engine_is_the_plain_code():
    assert engine("python").payoff is kernels.payoff
    compiled = engine("numba")
    for name in KERNELS:
        assert hasattr(getattr(compiled, name), "py_func"), name


def test_same_seed_same_run_and_other_seed_other_run():
    scenario = small("collective_impact")
    first, again, other = (run(scenario, seed) for seed in (3, 3, 4))
    assert first.equals(again)
    assert not np.allclose(first["outcome"], other["outcome"])


def test_random_numbers_depend_on_their_process_month_unit_and_slot_alone():
    """kernels.uniform: the same number on both engines, bit for bit; another process, month,
    unit or slot gives another number; the numbers are uniform and serially uncorrelated,
    and ``normal`` gives standard normal numbers."""
    keys = np.random.SeedSequence(7).generate_state(len(kernels.PROCESSES), np.uint64)
    compiled = engine("numba")
    with np.errstate(over="ignore"):
        plain = [kernels.uniform(keys, p, month, unit, slot) for p in range(3)
                 for month in (0, 1, 119) for unit in (0, 1, 2 ** 24 - 1)
                 for slot in (0, 5, 2 ** 16 - 1)]
    assert plain == [compiled.uniform(keys, p, month, unit, slot) for p in range(3)
                     for month in (0, 1, 119) for unit in (0, 1, 2 ** 24 - 1)
                     for slot in (0, 5, 2 ** 16 - 1)]
    assert len(set(plain)) == len(plain)
    # 120 months x 100 organizations x 20 slots of one process, in counter order.
    numbers = np.array([compiled.uniform(keys, kernels.MEETINGS, month, unit, slot)
                        for month in range(120) for unit in range(100) for slot in range(20)])
    counts = np.histogram(numbers, bins=100, range=(0.0, 1.0))[0]
    expected = len(numbers) / 100
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 160, chi2  # 99 degrees of freedom: p < 1e-4 above 160
    assert abs(np.corrcoef(numbers[:-1], numbers[1:])[0, 1]) < 4 / np.sqrt(len(numbers))
    normals = np.array([compiled.normal(keys, kernels.INDICATOR_SHOCKS, month, unit)
                        for month in range(200) for unit in range(100)])
    assert abs(normals.mean()) < 4 / np.sqrt(len(normals))
    assert abs(normals.std() - 1.0) < 0.02
    assert abs(np.mean(normals > 1.96) - 0.025) < 0.005


def test_gini_matches_its_definition():
    rng = np.random.default_rng(0)
    values = rng.exponential(size=40)
    include = rng.random(40) < 0.7
    x = values[include]
    by_definition = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) * x.sum())
    for name in ("python", "numba"):
        assert engine(name).gini(values, include) == pytest.approx(by_definition, rel=1e-12)
    assert engine("numba").gini(np.ones(5), np.ones(5, dtype=bool)) == pytest.approx(0.0)


@pytest.mark.parametrize("engine_name, count", [("numba", 200), ("python", 30)])
def test_a_stepped_run_gives_the_months_of_one_call(engine_name, count):
    """``step()`` calls the engine bound to the model's argument types, one month a call,
    through the trust store's enlargements (which rebind it) and the working groups' reviews;
    ``advance()`` runs the same months in one call. The months must be the very same."""
    from ci_sim.model.model import CollectiveImpactModel

    scenario, _ = load_scenario("collective_impact", {"organizations.count": count})
    for seed in (2, 7):
        whole = CollectiveImpactModel(scenario, seed=seed, record="none", engine_name=engine_name)
        whole.advance()
        stepped = CollectiveImpactModel(scenario, seed=seed, record="none",
                                        engine_name=engine_name)
        while stepped.running:
            stepped.step()
        assert stepped.steps == whole.steps == whole.horizon
        assert stepped.history == whole.history


@pytest.mark.parametrize("engine_name", ["numba", "python"])
def test_a_copied_or_pickled_model_goes_on_with_the_months_of_the_original(engine_name):
    """A model copied or pickled mid-run (to branch a scenario, or to send it to another
    process) continues with the very months the original runs: a stepped model holds
    compiled code, which cannot be pickled."""
    import copy
    import pickle

    from ci_sim.model.model import CollectiveImpactModel

    scenario, _ = load_scenario("collective_impact", {"organizations.count": 30})
    original = CollectiveImpactModel(scenario, seed=4, record="metrics",
                                     engine_name=engine_name)
    for _ in range(5):
        original.step()
    copies = [copy.deepcopy(original), pickle.loads(pickle.dumps(original))]
    original.advance(19)
    compiled = len(original.kernels.run_months.signatures) if engine_name == "numba" else 0
    for model in copies:
        model.advance(19)
    for model in copies:
        assert model.history == original.history
        pd.testing.assert_frame_equal(model.datacollector.get_model_vars_dataframe(),
                                      original.datacollector.get_model_vars_dataframe())
    if engine_name == "numba":  # the copies' arrays have the original's types: no new compile
        assert len(original.kernels.run_months.signatures) == compiled


def test_the_first_compile_of_the_model_is_announced_and_a_cache_load_is_not(
        tmp_path, monkeypatch, caplog):
    """A newcomer's first run waits a minute or two for numba: it says why, once. A function
    loaded from numba's disk cache is not compiled and says nothing; other packages'
    functions are none of the model's business. The listener here watches a probe package
    (the one the engine registered watches ci_sim, whose compiles other tests may cause)."""
    import gc
    import importlib.util
    import sys

    import numba
    from numba.core import event

    from ci_sim.model.engines import COMPILING, first_compile_listener

    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "cache"))

    def module(name: str):
        """A module of two functions, importable as ``name`` (numba imports a cached
        function's module when it loads it)."""
        source = tmp_path / f"{name.replace('.', '_')}.py"
        source.write_text("def twice(x):\n    return 2 * x\n\ndef thrice(x):\n    return 3 * x\n")
        spec = importlib.util.spec_from_file_location(name, source)
        loaded = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, loaded)
        spec.loader.exec_module(loaded)
        return loaded

    ours, theirs = module("compile_probe.ours"), module("compile_probe_elsewhere")

    def compiled(function, cache: bool = True):
        dispatcher = numba.njit(cache=cache)(function)
        assert dispatcher(2.0) == function(2.0)
        return dispatcher

    def said(*calls) -> list[str]:
        caplog.clear()
        with event.install_listener("numba:compile", first_compile_listener("compile_probe")), \
                caplog.at_level("WARNING", logger="ci_sim"):
            for call in calls:
                call()
        return [record.getMessage() for record in caplog.records]

    assert said(lambda: compiled(theirs.twice)) == []
    assert said(lambda: compiled(ours.twice), lambda: compiled(ours.thrice, cache=False)) \
        == [COMPILING]
    gc.collect()  # nothing of the compile above is left in memory: the next is a disk load
    loaded = []
    assert said(lambda: loaded.append(compiled(ours.twice))) == []
    assert loaded[0].stats.cache_hits, "the second dispatcher loaded from the disk cache"


#: A process that compiles ``caller.f``, which calls ``callee.g``, both cached on disk in
#: ``argv[1]`` (modules in ``argv[2]``), the two files grouped as the engine groups the
#: model's, and prints ``f()``. Without the grouping, numba's own stamps print the old g's
#: value after g changed.
CALLER_OF_CALLEE = """
import sys
import numba
numba.config.CACHE_DIR = sys.argv[1]
sys.path.insert(0, sys.argv[2])
import callee, caller
from ci_sim.model.engines import _locator_classes, source_group_locator
_locator_classes().insert(0, source_group_locator([callee.__file__, caller.__file__]))
caller.g = numba.njit(cache=True)(callee.g)
print(numba.njit(cache=True)(caller.f)())
"""


def test_a_change_to_a_kernel_makes_the_cached_month_that_calls_it_stale(tmp_path):
    """Numba stamps a cached function with its own file, but the compiled month carries the
    kernels it calls: after a kernel changed, the numba engine ran the old kernel from the
    disk cache (the python engine the new one). The engine stamps every function of the
    model with all of its files (engines.MODEL_SOURCES), as here with two probe files."""
    import subprocess
    import sys

    (tmp_path / "caller.py").write_text("g = None\n\n\ndef f():\n    return g()\n")
    callee = tmp_path / "callee.py"

    def f_prints(kernel: int) -> int:
        callee.write_text(f"def g():\n    return {kernel}\n")
        done = subprocess.run([sys.executable, "-c", CALLER_OF_CALLEE, str(tmp_path / "cache"),
                               str(tmp_path)], capture_output=True, text=True, check=True)
        return int(done.stdout)

    assert f_prints(1) == 1
    assert f_prints(2) == 2, "the cached caller was stale"
    assert f_prints(2) == 2


@pytest.mark.parametrize("judges_by_results", [False, True])
def test_engines_agree_when_choices_interact_across_organizations(judges_by_results):
    scenario, _ = load_scenario("collective_impact", {
        **SMALL, "problem.across_organizations": 0.6,
        "learning.judges_by_results": judges_by_results})
    np.testing.assert_allclose(run(scenario, 5, engine="numba").to_numpy(float),
                               run(scenario, 5, engine="python").to_numpy(float),
                               rtol=1e-9, atol=1e-9)
