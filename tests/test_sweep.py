"""Sweeps: the pipeline recovers known indices, gives the same table on every executor,
resumes after kill -9 without running anything twice, and refuses bad input in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ci_sim.cli import app
from ci_sim.errors import InputError
from ci_sim.studies.sweep import analyze_sweep, load_experiment, run_sweep

PI = "3.141592653589793"

ISHIGAMI = f"""
name = "ishigami"
target = "ishigami"
method = "sobol"
samples = 4096
seed = 7

[parameters]
x1 = [-{PI}, {PI}]
x2 = [-{PI}, {PI}]
x3 = [-{PI}, {PI}]

[outputs]
y = {{ metric = "y" }}
"""

#: Analytic indices of Ishigami (a = 7, b = 0.1): Ishigami & Homma 1990; Sobol' & Levitan 1999.
ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}

#: A small model sweep: 8 base samples x (3 + 2) points x 2 replicates = 80 runs of 2 years.
SMALL_MODEL = """
name = "small"
scenario = "collective_impact"
problem = "complex"
years = 2
method = "sobol"
samples = 8
replicates = 2
seed = 11

[parameters]
"conditions.common_agenda" = [0.0, 1.0]
"backbone.budget_share" = [0.0, 0.3]
"organizations.count" = [20, 30]

[outputs]
outcome = { metric = "outcome", year = 2 }
trust_year1 = { metric = "mean_trust", year = 1 }
years_to_alignment = { metric = "agenda_alignment", first_year_at_least = 0.2 }

[discovery]
output = "trust_year1"
at_least = 0.333
"""


def write(folder: Path, text: str, name: str = "experiment.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def dask_address():
    """A real Dask LocalCluster; threads (processes=False) to keep start-up short."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=":0")
    yield cluster.scheduler_address
    cluster.close()


@pytest.fixture(scope="module")
def small_reference(tmp_path_factory) -> tuple[Path, pd.DataFrame, bytes]:
    """The small model sweep run in this process: the table every other way must match."""
    folder = tmp_path_factory.mktemp("reference")
    path = write(folder, SMALL_MODEL)
    result = run_sweep(path, folder / "out", workers=1)
    return path, result.runs, (folder / "out" / "runs.parquet").read_bytes()


# ---------------------------------------------------------------------------- analytic check
def test_ishigami_indices_match_the_analytic_values_within_their_intervals(tmp_path):
    result = run_sweep(write(tmp_path, ISHIGAMI), tmp_path / "out", workers=1)
    indices = result.analysis.indices.set_index(["index", "parameter"])
    for name, expected in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        for parameter, value in expected.items():
            row = indices.loc[(name, parameter)]
            assert row["low"] <= value <= row["high"], (name, parameter, row.to_dict())
            assert row["conf"] < 0.05  # intervals narrow enough that the check means something
    assert result.analysis.ranking["y"] == ["x1", "x2", "x3"]
    assert result.analysis.warnings == []
    written = {path.name for path in result.written}
    assert {"indices.csv", "indices.png", "convergence.csv", "summary.json"} <= written
    convergence = pd.read_csv(tmp_path / "out" / "convergence.csv")
    assert sorted(convergence["points"].unique()) == [512 * 5, 1024 * 5, 2048 * 5, 4096 * 5]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["seed"] == 7 and summary["ci_sim"]


def test_too_few_samples_warn_that_the_ranking_is_uncertain(tmp_path):
    small = ISHIGAMI.replace("samples = 4096", "samples = 16")
    result = run_sweep(write(tmp_path, small), tmp_path / "out", workers=1)
    assert any("cannot be ranked" in message for message in result.analysis.warnings)


@pytest.mark.parametrize(("method", "samples", "index", "tolerance"), [
    ("latin", 2000, "S1", None), ("fast", 1000, "S1", 0.03), ("grid", 24, "S1", 0.08)])
def test_other_designs_find_the_first_order_indices(tmp_path, method, samples, index,
                                                    tolerance):
    text = ISHIGAMI.replace('method = "sobol"', f'method = "{method}"') \
        .replace("samples = 4096", f"samples = {samples}")
    result = run_sweep(write(tmp_path, text), tmp_path / "out", workers=1)
    table = result.analysis.indices.set_index(["index", "parameter"])
    for parameter, value in ISHIGAMI_S1.items():
        row = table.loc[(index, parameter)]
        if tolerance is None:
            assert row["low"] <= value <= row["high"], (parameter, row.to_dict())
        else:  # FAST's and the grid's errors are deterministic, not sampling intervals
            assert abs(row["value"] - value) < tolerance, (parameter, row.to_dict())


def test_morris_screening_separates_influential_from_inert_parameters(tmp_path):
    text = f"""
name = "morris"
target = "ishigami"
method = "morris"
samples = 40
seed = 3
[parameters]
x1 = [-{PI}, {PI}]
x2 = [-{PI}, {PI}]
x3 = [-{PI}, {PI}]
[outputs]
y = {{ metric = "y" }}
"""
    result = run_sweep(write(tmp_path, text), tmp_path / "out", workers=1)
    table = result.analysis.indices
    mu_star = table[table["index"] == "mu_star"].set_index("parameter")["value"]
    assert (mu_star > 0).all() and {"mu", "sigma"} <= set(table["index"])
    # x3 acts only through its interaction with x1: no main effect, so mu is near 0
    mu = table[table["index"] == "mu"].set_index("parameter")["value"]
    assert abs(mu["x3"]) < mu_star["x3"]


# ---------------------------------------------------------------------------- executors
def test_the_model_sweep_gives_one_table_on_every_executor(tmp_path, small_reference,
                                                           dask_address):
    path, reference, reference_bytes = small_reference
    assert len(reference) == 80 and not reference.duplicated(["sample", "replicate"]).any()
    assert list(reference.columns[:3]) == ["sample", "replicate", "seed"]
    assert reference["organizations.count"].dtype == np.int64
    pool = run_sweep(path, tmp_path / "pool", workers=2)
    dask = run_sweep(path, tmp_path / "dask", scheduler=dask_address)
    pd.testing.assert_frame_equal(pool.runs, reference)
    pd.testing.assert_frame_equal(dask.runs, reference)
    assert (tmp_path / "pool" / "runs.parquet").read_bytes() == reference_bytes
    assert (tmp_path / "dask" / "runs.parquet").read_bytes() == reference_bytes


def test_replicates_share_seeds_across_sample_points_and_differ_from_each_other(
        small_reference):
    _, runs, _ = small_reference
    seeds = runs.pivot(index="sample", columns="replicate", values="seed")
    assert (seeds.nunique() == 1).all() and seeds.iloc[0, 0] != seeds.iloc[0, 1]
    assert runs.groupby("sample")["outcome"].nunique().max() == 2  # replicates differ


def test_analyze_recomputes_the_same_analysis_from_saved_runs(tmp_path, small_reference):
    path, _, _ = small_reference
    first = run_sweep(path, tmp_path / "out", workers=1)
    before = (tmp_path / "out" / "indices.csv").read_text()
    (tmp_path / "out" / "indices.csv").unlink()
    again = analyze_sweep(tmp_path / "out")
    assert (tmp_path / "out" / "indices.csv").read_text() == before
    pd.testing.assert_frame_equal(first.analysis.indices, again.analysis.indices)
    assert [b.coverage for b in first.analysis.boxes] == [b.coverage for b in again.analysis.boxes]
    assert (tmp_path / "out" / "discovery.png").stat().st_size > 0


# ---------------------------------------------------------------------------- resume
def test_resume_after_kill_finishes_only_what_is_missing(tmp_path, small_reference):
    path, reference, reference_bytes = small_reference
    out = tmp_path / "out"
    command = [sys.executable, "-m", "ci_sim.cli", "sweep", str(path), "--out", str(out),
               "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    chunks = out / "chunks"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if chunks.is_dir() and len(list(chunks.glob("batch-*.parquet"))) >= 2:
            break
        time.sleep(0.02)
    assert process.poll() is None, process.stderr.read().decode()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    kept = {p.name: p.read_bytes() for p in chunks.glob("batch-*.parquet")}
    saved = sum(len(pd.read_parquet(chunks / name)) for name in kept)
    assert 0 < saved < len(reference) and not (out / "runs.parquet").exists()

    refused = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1"])
    assert refused.exit_code == 2 and "--resume" in refused.output

    resumed = run_sweep(path, out, workers=2, resume=True)
    assert resumed.ran == len(reference) - saved  # nothing that was saved ran again
    pd.testing.assert_frame_equal(resumed.runs, reference)
    assert (out / "runs.parquet").read_bytes() == reference_bytes
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs_this_session"] == len(reference) - saved

    again = run_sweep(path, out, workers=1, resume=True)  # finished: analysis only
    assert again.ran == 0
    pd.testing.assert_frame_equal(again.runs, reference)


def test_a_changed_experiment_refuses_to_resume(tmp_path, small_reference):
    path, _, _ = small_reference
    copy = write(tmp_path, path.read_text())
    run_sweep(copy, tmp_path / "out", workers=1)
    copy.write_text(path.read_text().replace("seed = 11", "seed = 12"))
    before = sorted(p.name for p in (tmp_path / "out").iterdir())
    with pytest.raises(InputError, match="has changed since the sweep in .* started"):
        run_sweep(copy, tmp_path / "out", workers=1, resume=True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == before


# ---------------------------------------------------------------------------- discovery
def test_discovery_finds_a_box_that_beats_the_base_rate(small_reference, tmp_path):
    path, _, _ = small_reference
    result = run_sweep(path, tmp_path / "out", workers=1)
    boxes = result.analysis.boxes
    assert boxes and boxes[0].density > result.analysis.success_rate
    table = pd.read_csv(tmp_path / "out" / "discovery.csv")
    assert set(table["box"]) == set(range(1, len(boxes) + 1))


# ---------------------------------------------------------------------------- bad input
GOOD = SMALL_MODEL


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: "sampels = 3\n" + t, "unknown key 'sampels' (allowed: name,"),
    (lambda t: t.replace('method = "sobol"', 'method = "sobolev"'),
     "key 'method' must be 'sobol', 'morris', 'fast', 'latin' or 'grid', got 'sobolev'"),
    (lambda t: t.replace('method = "sobol"\n', ""), "missing key 'method'"),
    (lambda t: t.replace("samples = 8", "samples = 1"), "key 'samples' must be greater than"),
    (lambda t: t.replace('"conditions.common_agenda"', '"conditions.common_agendaa"'),
     "parameters.conditions.common_agendaa: not a model parameter"),
    (lambda t: t.replace('"conditions.common_agenda" = [0.0, 1.0]',
                         '"problem.landscape" = [0, 1]'),
     "parameters.problem.landscape: only numeric parameters can vary"),
    (lambda t: t.replace("[0.0, 1.0]", "[0.0, 2.0]"),
     "parameters.conditions.common_agenda: values 0..2 leave the declared range 0..1"),
    (lambda t: t.replace("[0.0, 1.0]", "[0.7, 0.2]"), "low must be below high"),
    (lambda t: t.replace("[0.0, 1.0]", "[0.1]"), "expected two numbers, low and high, got [0.1]"),
    (lambda t: t.replace("[0.0, 1.0]", '{ distribution = "normal", mean = 0.5 }'),
     "a normal distribution needs mean, sd (missing sd)"),
    (lambda t: t.replace('metric = "outcome"', 'metric = "income"'),
     "outputs.outcome.metric: must be one of outcome,"),
    (lambda t: t.replace("year = 2 }", "year = 3 }"),
     "outputs.outcome.year: must be a whole month within the horizon of 2 years, got 3"),
    (lambda t: t.replace("year = 1 }", "year = 1, first_year_at_least = 0.3 }"),
     "give one of year, first_year_at_least, first_year_at_most"),
    (lambda t: t.replace('output = "trust_year1"', 'output = "trust_year3"'),
     "discovery.output: must be one of the outputs"),
    (lambda t: t.replace("at_least = 0.333", "at_least = 0.333\nat_most = 0.9"),
     "give exactly one of at_least, at_most"),
    (lambda t: t.replace("replicates = 2", "replicates = 2\nsecond_order = true")
     .replace('method = "sobol"', 'method = "morris"'),
     "second_order: only the sobol method"),
    (lambda t: t.replace('scenario = "collective_impact"', 'scenario = "collective_impacts"'),
     "scenario: collective_impacts: no such scenario file or built-in"),
    (lambda t: t.replace('"organizations.count" = [20, 30]',
                         '"problem.interdependence" = [2, 14]'),
     r"sample point \d+ \(.*\) is not a valid scenario: problem.interdependence: must be below"),
    (lambda t: t.replace("[0.0, 0.3]", "[0.0, 0.3"), "not valid TOML"),
])
def test_bad_experiments_are_refused_in_one_line_with_exit_2(tmp_path, change, message):
    path = write(tmp_path, change(GOOD))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), result.stderr
    import re

    assert re.search(message if message.startswith("sample point") else re.escape(message),
                     lines[0]), lines[0]
    assert not out.exists()  # nothing partially written


@pytest.mark.parametrize(("options", "message"), [
    (["--workers", "0"], "--workers: must be greater than or equal to 1"),
    (["--scheduler", "somewhere"], "--scheduler: expected 'local' or an address"),
])
def test_bad_options_are_refused_before_anything_is_written(tmp_path, options, message):
    path = write(tmp_path, GOOD)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), *options])
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not out.exists()


def test_missing_file_and_foreign_folders_are_refused(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(app, ["sweep", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 2 and "nope.toml: file not found" in missing.stderr
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    taken = runner.invoke(app, ["sweep", str(write(tmp_path, GOOD)), "--out", str(foreign)])
    assert taken.exit_code == 2 and "is not empty and holds no sweep" in taken.stderr
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    empty = runner.invoke(app, ["analyze", str(tmp_path / "nothing")])
    assert empty.exit_code == 2 and "no sweep here" in empty.stderr


def test_shipped_experiments_are_valid():
    root = Path(__file__).resolve().parents[1] / "experiments"
    for name in ("sobol_conditions", "morris_screening", "mindset_shifts"):
        loaded = load_experiment(root / f"{name}.toml")
        assert loaded.experiment.name == name


def test_a_threshold_every_run_meets_is_flagged(tmp_path):
    text = ISHIGAMI.replace("samples = 4096", "samples = 64") + \
        '\n[discovery]\noutput = "y"\nat_least = -100\n'
    result = run_sweep(write(tmp_path, text), tmp_path / "out", workers=1)
    assert result.analysis.success_rate == 1.0
    assert any("every run has y >= -100" in message for message in result.analysis.warnings)


# ---------------------------------------------------------------------------- the language
LANGUAGE = """
name = "language"
scenario = "collective_impact"
years = 2
method = "grid"
samples = 2
replicates = 2
seed = 5

[levers]
"backbone.budget_share" = [0.0, 0.1, 0.3]
"backbone.enabled" = [true, false]

[uncertainties]
"problem.type" = ["complicated", "complex"]

[constants]
"organizations.count" = 20

[outputs]
outcome = { metric = "outcome", year = "every" }
trust = { metric = "mean_trust", year = [1, 2] }

[discovery]
output = "trust_year2"
at_least = 0.4
"""


def test_value_lists_choices_switches_and_yearly_outputs_run_and_are_analysed(tmp_path):
    result = run_sweep(write(tmp_path, LANGUAGE), tmp_path / "out", workers=1)
    runs = result.runs
    assert len(runs) == 3 * 2 * 2 * 2  # the grid has one level per listed value
    assert sorted(runs["backbone.budget_share"].unique()) == [0.0, 0.1, 0.3]
    assert set(runs["problem.type"]) == {"complicated", "complex"}
    assert runs["backbone.enabled"].dtype == bool
    assert {"outcome_year1", "outcome_year2", "trust_year1", "trust_year2"} <= set(runs)
    # a point that sets problem.type gets that type's defaults, as a scenario file would
    complicated = runs[(runs["problem.type"] == "complicated") & (runs["replicate"] == 0)]
    complex_ = runs[(runs["problem.type"] == "complex") & (runs["replicate"] == 0)]
    assert not np.allclose(complicated["outcome_year2"], complex_["outcome_year2"])
    indices = pd.read_csv(tmp_path / "out" / "indices.csv")
    assert set(indices["output"]) == {"outcome_year1", "outcome_year2", "trust_year1",
                                      "trust_year2"}
    roles = indices.set_index("parameter")["role"].to_dict()
    assert roles == {"backbone.budget_share": "lever", "backbone.enabled": "lever",
                     "problem.type": "uncertainty"}
    scenario = result.analysis  # the constant reached every run: 20 organizations
    assert scenario is not None
    discovery = pd.read_csv(tmp_path / "out" / "discovery.csv")
    assert {"quasi_p", "resampled", "restriction"} <= set(discovery.columns)
    assert discovery["quasi_p"].between(0, 1).all()
    assert discovery["resampled"].between(0, 1).all()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert "quasi_p" in summary["discovery"]["boxes"][0]
    assert set(summary["discovery"]["feature_scores"]) == {
        "backbone.budget_share", "backbone.enabled", "problem.type", "replicate"}


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.replace('["complicated", "complex"]', '["complicated", 3]'),
     "values must all be numbers, all names or all true/false"),
    (lambda t: t.replace('[0.0, 0.1, 0.3]', '[0.0, 0.1, 1.5]'),
     "levers.backbone.budget_share: values 0..1.5 leave the declared range"),
    (lambda t: t.replace('year = [1, 2]', 'year = [1, 3]'),
     "outputs.trust.year: must be a whole month within the horizon of 2 years, got 3"),
    (lambda t: t.replace('"organizations.count" = 20', '"organizations.count" = -2'),
     "constants"),
    (lambda t: t.replace('"organizations.count" = 20', '"problem.type" = "simple"'),
     "constants.problem.type: also varied in [uncertainties]"),
    (lambda t: t.replace('["complicated", "complex"]', '["complicated", "hard"]'),
     "is not a valid scenario"),
    (lambda t: t.replace('year = "every"', 'year = "often"'), "outputs.outcome.year"),
])
def test_bad_language_is_refused_in_one_line(tmp_path, change, message):
    path = write(tmp_path, change(LANGUAGE))
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


def test_shipped_experiments_run_by_name_outside_a_checkout(tmp_path, monkeypatch):
    from ci_sim.studies.loading import study_file

    monkeypatch.chdir(tmp_path)  # no experiments/ folder here
    loaded = load_experiment("sobol_conditions")
    assert loaded.experiment.name == "sobol_conditions"
    root = Path(__file__).resolve().parents[1]
    for path in (root / "experiments").glob("*.toml"):
        # one copy: the repository's files link to the package's, and an installed package
        # (editable or not) ships the same bytes
        assert path.resolve().parent == root / "src" / "ci_sim" / "builtin" / "experiments"
        assert path.read_bytes() == study_file(path.stem).read_bytes()
    with pytest.raises(InputError, match="no such experiment file or built-in"):
        load_experiment("sobol_conditionz")


def test_a_target_the_replicate_seed_explains_is_flagged(tmp_path):
    from ci_sim.studies.sweep.analysis import discover

    loaded = load_experiment(write(tmp_path, ISHIGAMI.replace("seed = 7", "seed = 7\nreplicates = 4")
                                   + '\n[discovery]\noutput = "y"\nat_least = 0.5\n'))
    rng = np.random.default_rng(0)
    runs = pd.DataFrame(rng.uniform(-3, 3, size=(400, 3)), columns=["x1", "x2", "x3"])
    runs["replicate"] = np.tile(np.arange(4), 100)
    runs["y"] = (runs["replicate"] >= 2).astype(float) + rng.normal(scale=0.1, size=400)
    analysis = discover(loaded.experiment, runs)
    assert analysis.feature_scores["replicate"] > max(analysis.feature_scores[name]
                                                      for name in ("x1", "x2", "x3"))
    assert any("replicate seed explains" in message for message in analysis.warnings)


def test_replicates_are_added_to_every_point_until_the_interval_is_narrow(tmp_path):
    from ci_sim.studies.stats import half_width

    text = LANGUAGE.replace("[discovery]", "[precision]\noutput = \"outcome_year2\"\n"
                            "half_width = 0.01\nmax_replicates = 6\n\n[discovery]")
    result = run_sweep(write(tmp_path, text), tmp_path / "out", workers=1)
    counts = result.runs.groupby("sample").size()
    assert counts.nunique() == 1 and 2 < counts.iloc[0] <= 6  # every point alike
    widths = result.runs.groupby("sample")["outcome_year2"].apply(half_width)
    assert (widths <= 0.01).all() or counts.iloc[0] == 6
    again = analyze_sweep(tmp_path / "out")  # a finished adaptive sweep reads back
    assert len(again.runs) == len(result.runs)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["replicates"] == counts.iloc[0]
