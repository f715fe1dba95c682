"""The study layer: one interval, one store that survives kill -9 for every study, adaptive
replicates that resume to the same rounds, plots that leave the backend alone, and an import
graph that points one way."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from ci_sim.executors import InProcessExecutor
from ci_sim.studies import stats
from ci_sim.studies.store import Store
from ci_sim.studies.study import Precision, Study, Task, run_study

SOURCE = Path(__file__).resolve().parents[1] / "src" / "ci_sim"


# ---------------------------------------------------------------------------- statistics
def test_interval_is_the_t_interval_of_the_mean():
    values = np.array([0.1, 0.4, 0.35, 0.2, 0.5])
    summary = stats.interval(values)
    expected = scipy_stats.t.interval(0.95, 4, loc=values.mean(),
                                      scale=scipy_stats.sem(values))
    assert summary["low"] == pytest.approx(expected[0])
    assert summary["high"] == pytest.approx(expected[1])
    assert stats.half_width(values) == pytest.approx((expected[1] - expected[0]) / 2)
    mean, low, high = stats.intervals(np.stack([values, 2 * values], axis=1))
    assert low[0] == pytest.approx(expected[0]) and high[1] == pytest.approx(2 * expected[1])


def test_paired_difference_removes_what_common_seeds_share():
    rng = np.random.default_rng(1)
    shared = rng.normal(size=40)
    first, second = shared + 0.1, shared + rng.normal(scale=0.01, size=40)
    paired = stats.paired_difference(first, second)
    welch = stats.welch_difference(first, second)
    assert paired["low"] > 0  # the pairing sees the difference ...
    assert welch["low"] < 0 < welch["high"]  # ... that independent samples cannot


def test_a_threshold_never_reached_counts_one_month_past_the_horizon():
    series = np.array([[0.0, 0.2, 0.6, 0.7], [0.0, 0.1, 0.1, 0.1]])
    years = stats.first_year_reaching(series, 0.5)
    assert years.tolist() == [2 / 12, 4 / 12]
    assert stats.reached(years, horizon=3 / 12).tolist() == [True, False]


def test_bootstrap_weights_resample_whole_replicates():
    weights = stats.bootstrap_weights(5, 200, seed=3)
    assert weights.shape == (200, 5)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert set(np.unique(weights * 5)) <= set(range(6))


# ---------------------------------------------------------------------------- the runner
def noisy_batch(tasks: list[Task]) -> dict[str, list]:
    """A toy study: point p's runs are p plus noise that shrinks with the point."""
    rows = {"point": [], "replicate": [], "seed": [], "value": [], "path": []}
    for task in tasks:
        rng = np.random.default_rng(task.seed)
        value = task.point + rng.normal(scale=1.0 / (1 + task.point))
        rows["point"].append(task.point)
        rows["replicate"].append(task.replicate)
        rows["seed"].append(task.seed)
        rows["value"].append(value)
        rows["path"].append(np.array([0.0, value / 2, value]))
    return rows


def toy_study(**changes) -> Study:
    settings = dict(kind="toy", points=3, replicates=4, seeds=list(range(1000, 1400)),
                    run_batch=noisy_batch, make_batch=list, outcomes=["value", "path"],
                    precision=Precision("value", 0.15, cap=300), largest_batch=5)
    return Study(**{**settings, **changes})


class Crash(Exception):
    pass


def test_adaptive_replicates_stop_at_the_target_and_resume_to_the_same_rounds(tmp_path):
    whole = run_study(toy_study(), InProcessExecutor())
    counts = whole.table.groupby("point").size()
    for point, count in counts.items():
        values = whole.values(point, "value")
        assert stats.half_width(values) <= 0.15 or count == 300
    assert counts[0] > counts[2] > 4  # the noisier point needed more

    store = Store(tmp_path / "store", "toy")
    finished = []

    def crash_after_a_while(done: int, asked: int) -> None:
        finished.append(done)
        if done > counts.sum() // 2:
            raise Crash  # as if killed: only whole batches are on disk
    with pytest.raises(Crash):
        run_study(toy_study(), InProcessExecutor(), store=store, progress=crash_after_a_while)
    saved = len(store.read_chunks(["value", "path"]))
    assert 0 < saved < len(whole.table)
    resumed = run_study(toy_study(), InProcessExecutor(), store=store)
    assert resumed.ran == len(whole.table) - saved
    pd.testing.assert_frame_equal(resumed.table.drop(columns="path"),
                                  whole.table.drop(columns="path"))
    for point in range(3):
        np.testing.assert_array_equal(resumed.values(point, "path"), whole.values(point, "path"))


# ---------------------------------------------------------------------------- kill -9
def cli(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "ci_sim.cli", *arguments]


def kill_once_saved(command: list[str], checkpoint: Path) -> None:
    """Start ``command`` and kill -9 it once it has saved a batch of runs."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if any(checkpoint.rglob("batch-*.parquet")):
            break
        time.sleep(0.005)
    assert process.poll() is None, process.stderr.read().decode()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


STRESS = ["--shares", "0,0.1,0.2", "--replicates", "3", "--years", "2", "--shock", "none",
          "--shock", "pool_cut:1:0.3", "--samples", "0"]


def test_a_killed_stress_test_resumes_to_the_results_of_an_uninterrupted_one(tmp_path):
    from ci_sim.studies.stress import load_experiment, run_stress_test

    experiment = load_experiment(None, shares="0,0.1,0.2", replicates=3, years=2.0,
                                 shocks=["none", "pool_cut:1:0.3"], samples=0)
    whole, _ = run_stress_test(experiment, tmp_path / "whole", workers=1)
    out = tmp_path / "out"
    checkpoint = tmp_path / ".out.checkpoint"
    kill_once_saved(cli("stress-test", *STRESS, "--workers", "1", "--out", str(out)),
                    checkpoint)
    assert not out.exists() and checkpoint.is_dir()
    from typer.testing import CliRunner

    from ci_sim.cli import app

    refused = CliRunner().invoke(app, ["stress-test", *STRESS, "--out", str(out)])
    assert refused.exit_code == 2 and "--resume" in refused.stderr
    resumed, _ = run_stress_test(experiment, out, workers=2, resume=True)
    assert 0 < resumed.ran < 18
    np.testing.assert_array_equal(resumed.outcome, whole.outcome)
    assert (out / "stress.csv").read_bytes() == (tmp_path / "whole" / "stress.csv").read_bytes()
    assert resumed.optima == whole.optima
    assert not checkpoint.exists()


def test_a_killed_validation_resumes_to_the_tables_of_an_uninterrupted_one(tmp_path):
    from ci_sim.studies.validation import validate

    options = ["trust_asymmetry", "--replicates", "30", "--workers", "1"]
    whole = tmp_path / "whole"
    validate(["trust_asymmetry"], out=whole, runs=30, workers=1)
    out = tmp_path / "out"
    kill_once_saved(cli("validate", *options, "--out", str(out)),
                    tmp_path / ".out.checkpoint")
    assert not out.exists()
    validate(["trust_asymmetry"], out=out, runs=30, workers=1, resume=True)
    table = "validation/trust_asymmetry.csv"
    assert (out / table).read_bytes() == (whole / table).read_bytes()
    assert not (tmp_path / ".out.checkpoint").exists()


# ---------------------------------------------------------------------------- one layer
def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ci_sim"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("ci_sim"))
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_import_graph_has_no_cycle_and_studies_do_not_import_reports_of_others():
    graph = {module_name(path): imports_of(path) for path in SOURCE.rglob("*.py")}
    studies = {name: {target for target in targets if target.startswith("ci_sim.studies")}
               for name, targets in graph.items() if name.startswith("ci_sim.studies")}
    # package imports (ci_sim.studies.stress) count as their __init__
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in studies.get(name, ()):
            if target not in studies:
                continue
            if state.get(target) == "open":
                raise AssertionError(f"import cycle: {' -> '.join([*trail, target])}")
            if target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in studies:
        if name not in state:
            visit(name, [name])
    present = {"ci_sim.cli", "ci_sim.app", "ci_sim.figures", "ci_sim.outputs", "ci_sim.presets"}
    for name, targets in graph.items():
        if name.startswith("ci_sim.studies"):
            assert not targets & present, (name, targets & present)
    assert "ci_sim.studies.stress.report" not in graph["ci_sim.studies.stress.study"]


def test_no_module_switches_the_matplotlib_backend():
    for path in SOURCE.rglob("*.py"):
        modules = imports_of(path) | {
            alias.name for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names} | {
            node.module for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module}
        assert not any("pyplot" in module for module in modules), path
        assert "matplotlib.use(" not in path.read_text(), path
    assert not (SOURCE / "stress.py").exists() and not (SOURCE / "validation.py").exists()
    assert not (SOURCE / "sweep").exists()
