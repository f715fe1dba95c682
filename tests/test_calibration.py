"""ci-sim calibrate: targets files, the patterns' statistics, the fit and its outputs.

A tiny calibration (12 organizations, 2 years, 2 seeds, one parameter) runs in seconds; it
checks the outputs and their format (posterior.parquet is what ``--posterior`` reads), that
in-process and process-pool fits give the same posterior, that a fit killed with ``kill
-9`` resumes to the posterior of an uninterrupted one, and that bad targets files and
options are refused in one line with exit code 2, writing nothing.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ci_sim.cli import app
from ci_sim.simulate import replicate_seeds
from ci_sim.studies.calibration.patterns import distance, statistic
from ci_sim.studies.calibration.targets import Pattern, Prior, load_plan

runner = CliRunner()

TINY = """
name = "tiny"
scenario = "collective_impact"
years = 2

[set]
"organizations.count" = 12

[seeds]
base = 5
replicates = 2
check_base = 6
check_replicates = 3
abc = 3

[budget]
particles = 20
generations = 3
evaluations = 400
checks = 3

[runs.ci]

[runs.isolated]
scenario = "isolated_impact"

[parameters."problem.responsiveness"]
low = 0.02
high = 0.12
why = "how fast indicators respond"

[[patterns]]
name = "level"
statistic = "value"
run = "ci"
year = 2
target = 0.35
tolerance = 0.01

[[patterns]]
name = "lead"
statistic = "difference"
run = "ci"
versus = "isolated"
year = 2
at_least = -1.0
tolerance = 0.05
fit = false
"""


def targets_file(folder: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def calibrate(*args: str):
    return runner.invoke(app, ["calibrate", *args])


# ---------------------------------------------------------------------------- statistics
def series(*rows) -> np.ndarray:
    return np.array(rows, dtype=float)


def test_each_statistic_reads_the_seeds_mean_at_its_months():
    runs = {"a": {"outcome": series([0.3, 0.28, 0.35, 0.5], [0.3, 0.30, 0.37, 0.6])},
            "b": {"outcome": series([0.3, 0.31, 0.33, 0.4], [0.3, 0.31, 0.35, 0.4])}}
    month = 1 / 12

    def make(**keys) -> Pattern:
        return Pattern(name="p", run="a", tolerance=0.01, at_least=0.0, **keys)

    assert statistic(make(statistic="value", year=3 * month), runs) == pytest.approx(0.55)
    assert statistic(make(statistic="difference", versus="b", year=2 * month), runs) == \
        pytest.approx(0.02)
    # the lowest mean gap over months 1-2 is month 1's: 0.29 - 0.31
    assert statistic(make(statistic="lowest_difference", versus="b", to_year=2 * month),
                     runs) == pytest.approx(-0.02)
    assert statistic(make(statistic="first_year", level=0.06), runs) == pytest.approx(2 / 12)
    # never reached: one month after the horizon (censored)
    assert statistic(make(statistic="first_year", level=0.9), runs) == pytest.approx(4 / 12)


def test_excess_is_zero_inside_the_band_and_counted_in_tolerances():
    target = Pattern(name="t", statistic="value", run="a", year=1, target=0.64, tolerance=0.1)
    assert target.excess(0.55) == 0 and target.excess(0.74) == 0
    assert target.excess(0.84) == pytest.approx(1.0)
    window = Pattern(name="w", statistic="first_year", run="a", level=0.1, at_least=3,
                     at_most=5, tolerance=0.5)
    assert window.excess(4.0) == 0 and window.excess(2.0) == pytest.approx(2.0)
    assert window.excess(float("nan")) == float("inf")
    patterns = [target, window]
    assert distance(patterns, {"t": 0.6, "w": 4.0}) == 0.0
    assert distance(patterns, {"t": 0.84, "w": 2.0}) == pytest.approx(np.sqrt(1 + 4))
    ignored = window.model_copy(update={"fit": False})
    assert distance([target, ignored], {"t": 0.6, "w": 2.0}) == 0.0


def test_a_run_keeps_the_fitted_parameters_its_scenario_sets(tmp_path):
    text = TINY.replace('[parameters."problem.responsiveness"]',
                        '[parameters."mindsets.silver_buckshot"]\nlow = 0.1\nhigh = 0.9\n\n'
                        '[parameters."problem.responsiveness"]')
    plan = load_plan(targets_file(tmp_path, text))
    assert plan.kept == {"ci": (), "isolated": ("mindsets.silver_buckshot",)}
    from ci_sim.studies.calibration.patterns import Simulator

    simulator = Simulator.of(plan)
    values = {"mindsets.silver_buckshot": 0.9, "problem.responsiveness": 0.07}
    assert simulator.scenario("ci", values).mindsets.silver_buckshot == 0.9
    isolated = simulator.scenario("isolated", values)
    assert isolated.mindsets.silver_buckshot == 0.2  # isolated impact's own
    assert isolated.problem.responsiveness == 0.07


def test_the_shipped_targets_file_fits_every_calibrated_parameter():
    from ci_sim.model.params import CALIBRATED, describe, parameter_names

    plan = load_plan("calibration")
    calibrated = {name for name in parameter_names() if CALIBRATED in describe(name)["source"]}
    assert calibrated <= set(plan.names)
    assert 40 <= plan.base.scenario.organizations.count <= 50
    assert plan.seeds == tuple(replicate_seeds(20261201, plan.targets.seeds.replicates))
    assert not set(plan.seeds) & set(plan.check_seeds)
    # one copy: the repository's file links to the package's, and an installed package
    # (editable or not) ships the same bytes
    root = Path(__file__).resolve().parents[1]
    experiments = root / "experiments" / "calibration.toml"
    assert experiments.is_symlink()
    assert experiments.resolve().parent == root / "src" / "ci_sim" / "builtin" / "experiments"
    assert experiments.read_bytes() == plan.path.read_bytes()


# ---------------------------------------------------------------------------- a tiny fit
@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny calibration, run in this process without interruption."""
    folder = tmp_path_factory.mktemp("reference")
    path = targets_file(folder)
    result = calibrate(str(path), "--out", str(folder / "out"), "--workers", "1")
    assert result.exit_code == 0, result.output
    return path, folder / "out"


def test_outputs_and_the_posterior_format(reference):
    from ci_sim.parquet import read_metadata

    path, out = reference
    assert sorted(entry.name for entry in out.iterdir()) == sorted(
        ["posterior.parquet", "summary.csv", "patterns.csv", "checks.csv", "generations.csv",
         "calibration.json", "report.html", "abc_history.db"])
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert list(posterior.columns) == ["problem.responsiveness", "weight"]
    assert len(posterior) == 20 and all(posterior.dtypes == float)
    assert posterior["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert posterior["problem.responsiveness"].between(0.02, 0.12).all()
    meta = read_metadata(out / "posterior.parquet")
    provenance = meta["provenance"]
    assert provenance["replicate_seeds"] == list(load_plan(path).seeds)
    assert provenance["targets"]["sha256"] == load_plan(path).digest
    assert {"ci_sim", "numpy", "numba", "mesa", "pandas"} <= set(provenance["versions"])
    assert provenance["scenarios"][0]["parameters"]["organizations"]["count"] == 12
    assert set(provenance["runs"]) == {"ci", "isolated"}
    assert meta["fields"]["problem.responsiveness"]["parameter"] == "problem.responsiveness"
    assert meta["fields"]["weight"]["unit"] == "share"
    summary = pd.read_csv(out / "summary.csv")
    row = summary.iloc[0]
    assert row["p05"] <= row["p25"] <= row["median"] <= row["p75"] <= row["p95"]
    assert 0 < row["width_ratio"] < 1, "the pattern narrows the parameter"
    checks = pd.read_csv(out / "checks.csv")
    assert set(checks["kind"]) == {"posterior", "posterior median", "defaults"}
    record = json.loads((out / "calibration.json").read_text())
    assert record["model_runs"] == record["evaluations"] * 2 * 2
    assert record["check_runs"] == (3 + 2) * 2 * 3


def test_the_report_is_one_self_contained_file(reference):
    _, out = reference
    text = (out / "report.html").read_text()
    assert text.count('src="data:image/png;base64,') >= 4
    assert not re.search(r'(src|href)="(?!data:)', text), "no external file or link"
    for heading in ("Posterior summary", "Identifiability", "Posterior predictive check",
                    "Acceptance history"):
        assert heading in text
    assert "replicate_seeds(6, 3)" in text, "the held-out seeds are named"


def test_in_process_and_a_process_pool_give_the_same_posterior(reference, tmp_path):
    path, out = reference
    pooled = calibrate(str(path), "--out", str(tmp_path / "pool"), "--workers", "2")
    assert pooled.exit_code == 0, pooled.output
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "pool" / "posterior.parquet"),
                                  pd.read_parquet(out / "posterior.parquet"))
    columns = ["generation", "epsilon", "evaluations", "accepted", "effective_sample_size"]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "pool" / "generations.csv")[columns],
                                  pd.read_csv(out / "generations.csv")[columns])
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "pool" / "checks.csv"),
                                  pd.read_csv(out / "checks.csv"))


def test_a_dask_cluster_gives_the_same_posterior(reference, tmp_path):
    path, out = reference
    dask = calibrate(str(path), "--out", str(tmp_path / "dask"), "--scheduler", "local",
                     "--workers", "2")
    assert dask.exit_code == 0, dask.output
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask" / "posterior.parquet"),
                                  pd.read_parquet(out / "posterior.parquet"))


def start(path: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ci_sim.cli", "calibrate", str(path),
                             "--out", str(out), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def stored_generations(database: Path) -> int:
    """Generations stored so far, read without writing: opening the database through
    pyabc would create its tables, racing the fitting process that is creating them."""
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            return connection.execute(
                "SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()[0]
    except sqlite3.Error:  # not created yet, or its tables not yet
        return 0


def kill_after_first_generation(path: Path, out: Path) -> None:
    """Start the calibration and kill -9 it once a generation is stored."""
    from ci_sim.folders import checkpoint_folder
    from ci_sim.studies.calibration.smc import DATABASE

    database = checkpoint_folder(out) / DATABASE
    process = start(path, out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if stored_generations(database) >= 1:
            break
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read().decode()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not out.exists(), "nothing is published before the end"


def test_a_killed_calibration_resumes_to_the_same_posterior(reference, tmp_path):
    path, out = reference
    resumed_out = tmp_path / "out"
    kill_after_first_generation(path, resumed_out)
    again = calibrate(str(path), "--out", str(resumed_out), "--workers", "1")
    assert again.exit_code == 2 and "--resume" in again.stderr
    resumed = calibrate(str(path), "--out", str(resumed_out), "--workers", "1", "--resume")
    assert resumed.exit_code == 0, resumed.output
    pd.testing.assert_frame_equal(pd.read_parquet(resumed_out / "posterior.parquet"),
                                  pd.read_parquet(out / "posterior.parquet"))
    pd.testing.assert_frame_equal(pd.read_csv(resumed_out / "checks.csv"),
                                  pd.read_csv(out / "checks.csv"))
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["out"], "store removed"


def test_a_changed_targets_file_is_not_resumed_into_the_old_fit(tmp_path):
    path = targets_file(tmp_path)
    out = tmp_path / "out"
    kill_after_first_generation(path, out)
    path.write_text(TINY.replace("target = 0.35", "target = 0.36"))
    resumed = calibrate(str(path), "--out", str(out), "--resume")
    assert resumed.exit_code == 2
    assert "has changed since" in resumed.stderr and len(resumed.stderr.splitlines()) == 1


def test_results_are_not_replaced_without_overwrite(reference):
    path, out = reference
    before = (out / "posterior.parquet").read_bytes()
    again = calibrate(str(path), "--out", str(out))
    assert again.exit_code == 2 and "--overwrite" in again.stderr
    assert (out / "posterior.parquet").read_bytes() == before


def test_pyabc_is_imported_only_by_a_calibration():
    code = ("import sys\nfrom ci_sim.cli import app\n"
            "from ci_sim.studies.calibration import targets, patterns, checks\n"
            "print('pyabc' in sys.modules)")
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                  [str(Path(__file__).resolve().parents[1] / "src"),
                                   os.environ.get("PYTHONPATH", "")])})
    assert finished.stdout.strip().splitlines()[-1] == "False", finished.stderr


# ---------------------------------------------------------------------------- bad input
def edit(old: str, new: str) -> str:
    assert old in TINY, old
    return TINY.replace(old, new, 1)


#: Bad targets files: content, and what the one-line message must name.
BAD_TARGETS = {
    "unknown_top": ("budgett = 3\n" + TINY, "unknown key 'budgett'"),
    "unknown_budget_key": (edit("particles = 20", "particle = 20"), "budget.particle"),
    "unknown_pattern_key": (edit("tolerance = 0.01", "tolerence = 0.01"),
                            "patterns.level.tolerence"),
    "unknown_prior_key": (edit("low = 0.02", "lo = 0.02"), "responsiveness.lo"),
    "unknown_parameter": (edit('"problem.responsiveness"]', '"problem.responsivness"]'),
                          "did you mean 'problem.responsiveness'"),
    "integer_parameter": (edit('"problem.responsiveness"]\nlow = 0.02\nhigh = 0.12',
                               '"organizations.count"]\nlow = 10.0\nhigh = 20.0'),
                          "only parameters that are numbers"),
    "prior_outside": (edit("high = 0.12", "high = 2.0"), "allowed range 0 to 1"),
    "prior_inverted": (edit("high = 0.12", "high = 0.01"), "low must be below high"),
    "loguniform_zero": (edit("low = 0.02", "low = 0.0\nprior = 'loguniform'"), "low > 0"),
    "prior_kind": (edit("low = 0.02", "low = 0.02\nprior = 'normal'"), "prior"),
    "no_band": (edit("target = 0.35\n", ""), "give a band"),
    "two_bands": (edit("target = 0.35", "target = 0.35\nat_least = 0.3"), "not both"),
    "no_versus": (edit('versus = "isolated"\n', ""), "needs versus"),
    "no_year": (edit("year = 2\ntarget", "target"), "needs year"),
    "unknown_run": (edit('run = "ci"\nyear = 2\ntarget', 'run = "cii"\nyear = 2\ntarget'),
                    "no run 'cii'"),
    "unused_run": (TINY + "\n[runs.spare]\n", "runs.spare: no pattern reads it"),
    "bad_metric": (edit('statistic = "value"', 'statistic = "value"\nmetric = "happiness"'),
                   "metric: must be one of"),
    "past_horizon": (edit("year = 2\ntarget", "year = 3\ntarget"), "past the runs' horizon"),
    "same_seeds": (edit("check_base = 6", "check_base = 5"), "seeds.check_base"),
    "budget_too_small": (edit("evaluations = 400", "evaluations = 10"),
                         "budget.evaluations"),
    "bad_statistic": (edit('statistic = "value"', 'statistic = "mean"'), "statistic"),
    "zero_tolerance": (edit("tolerance = 0.01", "tolerance = 0"), "tolerance"),
    "string_particles": (edit("particles = 20", "particles = 'many'"), "budget.particles"),
    "duplicate_pattern": (edit('name = "lead"', 'name = "level"'), "used twice"),
    "fitted_and_set": (edit('"organizations.count" = 12',
                            '"organizations.count" = 12\n"problem.responsiveness" = 0.05'),
                       "set.problem.responsiveness"),
    "unknown_scenario": (edit('scenario = "isolated_impact"', 'scenario = "no_such"'),
                         "no_such"),
    "nothing_fitted": (edit("tolerance = 0.01", "tolerance = 0.01\nfit = false"),
                       "at least one pattern must be fitted"),
    "bad_engine": (edit('years = 2', 'years = 2\nengine = "gpu"'), "engine"),
    "run_sets_years_too": (edit('scenario = "isolated_impact"',
                                'scenario = "isolated_impact"\nset = { years = 1.0 }'),
                           "runs.isolated.set.years"),
    "other_horizon": (edit('scenario = "isolated_impact"',
                           'scenario = "isolated_impact"\nset = { years = 3.0 }')
                      .replace("years = 2\n", "", 1), "same horizon"),
    "read_but_unused_key": (edit("year = 2\ntarget", "year = 2\nlevel = 0.1\ntarget"),
                            "does not read level"),
    "not_toml": ("name = [", "not valid TOML"),
    "scenario_file": ("[conditions]\ncommon_agenda = 0.5\n", "a scenario file"),
}


@pytest.mark.parametrize("case", sorted(BAD_TARGETS))
def test_a_bad_targets_file_is_one_line_naming_file_and_key(case, tmp_path, monkeypatch):
    text, fragment = BAD_TARGETS[case]
    path = targets_file(tmp_path, text, f"{case}.toml")
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    result = calibrate(str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.stderr
    assert fragment in lines[0], lines[0]
    assert f"{case}.toml" in lines[0] or fragment.startswith("--"), lines[0]
    assert sorted(tmp_path.rglob("*")) == before, "nothing written"


@pytest.mark.parametrize(("args", "fragment"), [
    (["--particles", "5"], "--particles"),
    (["--particles", "many"], "--particles"),
    (["--generations", "0"], "--generations"),
    (["--evaluations", "5"], "--evaluations"),
    (["--evaluations", "15"], "--evaluations"),  # fewer than the file's 20 particles
    (["--checks", "-1"], "--checks"),
    (["--workers", "0"], "--workers"),
    (["--scheduler", "nowhere"], "--scheduler"),
    (["--scheduler", "tcp://127.0.0.1:9", "--workers", "2"], "--workers"),
    (["--resume", "--overwrite"], "--resume"),
    (["--out", ""], "--out"),
    (["--out", "{tmp}/a_file"], "a_file"),
])
def test_bad_options_are_one_line(args, fragment, tmp_path):
    path = targets_file(tmp_path)
    (tmp_path / "a_file").write_text("not a folder")
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    result = calibrate(str(path), *args)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1 and fragment in result.stderr, result.stderr


def test_a_missing_targets_file_and_an_unknown_built_in_are_named(tmp_path):
    for source in (str(tmp_path / "missing.toml"), "no_such_calibration"):
        result = calibrate(source)
        assert result.exit_code == 2 and source in result.stderr


@pytest.mark.parametrize("kind", ["uniform", "loguniform"])
def test_a_priors_cdf_inverts_its_quantiles(kind):
    """Where a value lies in the prior (``cdf``, the fit-to-fit moves of docs/calibration.md)
    is the inverse of ``quantile``: on a log scale for a loguniform prior, so its median is
    the geometric mean of the ends."""
    prior = Prior(low=2.0, high=32.0, prior=kind)
    for q in (0.0, 0.1, 0.5, 0.9, 1.0):
        assert prior.cdf(float(prior.quantile(q))) == pytest.approx(q, abs=1e-12)
    assert prior.cdf(8.0) == pytest.approx(0.5 if kind == "loguniform" else 0.2)
