"""The ``ci-sim`` command line end to end: run, compare, scenarios and check write what the
issue promises, give the same files for the same seed on either engine, and refuse bad
input with one line on stderr, exit code 2, no traceback and nothing written."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import ci_sim
from ci_sim.cli import app
from ci_sim.model import GATEWAYS, METRICS
from ci_sim.model.scenarios import builtin_names, builtin_path, load_scenario
from ci_sim.parquet import parameters_digest
from ci_sim.simulate import replicate_seeds

REPOSITORY = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: A small run: 20 organizations, one year, two replicates.
SMALL = ["--years", "1", "--replicates", "2", "--set", "organizations.count=20"]
SMALL_OVERRIDES = {"years": 1.0, "organizations.count": 20}

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(arg) for arg in args])


def snapshot(folder: Path) -> dict[str, bytes] | None:
    """Every file below ``folder`` with its bytes (None if the folder does not exist)."""
    if not folder.exists():
        return None
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def assert_refused(result, *fragments: str) -> str:
    """Exit code 2, exactly one line on stderr naming ``fragments``, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """``ci-sim run`` of the default scenario at a small size, seed 5."""
    out = tmp_path_factory.mktemp("run") / "out"
    result = invoke("run", *SMALL, "--seed", "5", "--out", out)
    assert result.exit_code == 0, (result.output, result.exception)
    return out, result


# ---------------------------------------------------------------- run
def test_run_writes_one_timeseries_row_per_replicate_and_step(small_run):
    out, _ = small_run
    frame = pd.read_parquet(out / "timeseries.parquet")
    assert list(frame.columns) == ["scenario", "replicate", "seed", "step", "year", *METRICS]
    assert (frame["scenario"] == "collective_impact").all()
    assert frame["gateway"].dtype == np.int64
    assert len(frame) == 2 * (12 + 1)
    for replicate, rows in frame.groupby("replicate"):
        assert list(rows["step"]) == list(range(13))
        assert np.allclose(rows["year"], rows["step"] / 12)
        assert rows["seed"].nunique() == 1
    assert sorted(frame["replicate"].unique()) == [0, 1]
    seeds = frame.groupby("replicate")["seed"].first().tolist()
    assert seeds == replicate_seeds(5, 2) and seeds[0] != seeds[1]
    assert np.isfinite(frame[list(METRICS)].to_numpy(dtype=float)).all()
    # The file itself records the seed, the package version and the parameters' hash.
    recorded = json.loads(pq.read_schema(out / "timeseries.parquet").metadata[b"ci_sim"])
    assert recorded["seed"] == 5 and recorded["versions"]["ci_sim"] == ci_sim.__version__
    assert recorded["replicate_seeds"] == seeds
    scenario, _ = load_scenario("collective_impact", SMALL_OVERRIDES)
    assert recorded["scenarios"][0]["parameters_sha256"] == parameters_digest(scenario)


def test_run_summary_has_intervals_seed_version_parameters_and_hash(small_run):
    out, _ = small_run
    summary = json.loads((out / "summary.json").read_text())
    frame = pd.read_parquet(out / "timeseries.parquet")
    final = frame[frame["step"] == frame["step"].max()]
    # The ordinal gateway has shares by level, not a mean; every interval says its level.
    assert set(summary["final"]) == set(METRICS) - {"gateway"}
    assert summary["interval"]["level"] == 0.95
    for metric, value in summary["final"].items():
        assert value["low"] <= value["mean"] <= value["high"], metric
        assert value["mean"] == pytest.approx(final[metric].mean(), rel=1e-12, abs=1e-12)
        assert value["level"] == 0.95
    assert summary["gateway_labels"] == list(GATEWAYS)
    assert sum(summary["gateway_final"].values()) == pytest.approx(1.0)
    assert summary["seed"] == 5
    assert summary["replicate_seeds"] == replicate_seeds(5, 2)
    assert summary["versions"]["ci_sim"] == ci_sim.__version__
    scenario, digest = load_scenario("collective_impact", SMALL_OVERRIDES)
    record = summary["scenario_file"]
    assert record["parameters"] == json.loads(scenario.model_dump_json())
    assert record["parameters"]["organizations"]["count"] == 20
    assert record["sha256"] == digest == hashlib.sha256(
        builtin_path("collective_impact").read_bytes()).hexdigest()
    assert record["parameters_sha256"] == parameters_digest(scenario)
    assert set(summary["gateway_reached"]) == set(GATEWAYS)


def test_run_writes_a_plot_and_prints_a_summary(small_run):
    out, result = small_run
    image = (out / "outcome.png").read_bytes()
    assert image.startswith(PNG_SIGNATURE) and len(image) > 10_000
    assert sorted(path.name for path in out.iterdir()) == ["outcome.png", "summary.json",
                                                           "timeseries.parquet"]
    for metric in ("outcome", "agenda_alignment", "mean_trust", "gateway"):
        assert metric in result.stdout
    assert result.stderr == ""


def test_same_seed_same_timeseries_and_another_seed_another(small_run, tmp_path):
    out, _ = small_run
    again = invoke("run", *SMALL, "--seed", "5", "--out", tmp_path / "again")
    other = invoke("run", *SMALL, "--seed", "6", "--out", tmp_path / "other")
    assert again.exit_code == other.exit_code == 0
    first = pd.read_parquet(out / "timeseries.parquet")
    pd.testing.assert_frame_equal(first, pd.read_parquet(tmp_path / "again" / "timeseries.parquet"),
                                  check_exact=True)
    changed = pd.read_parquet(tmp_path / "other" / "timeseries.parquet")
    assert not np.allclose(first["mean_trust"], changed["mean_trust"])


def test_python_engine_writes_the_numba_engine_s_timeseries(small_run, tmp_path):
    out, _ = small_run
    result = invoke("run", *SMALL, "--seed", "5", "--engine", "python", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    numba = pd.read_parquet(out / "timeseries.parquet")
    python = pd.read_parquet(tmp_path / "timeseries.parquet")
    assert list(python.columns) == list(numba.columns)
    numbers = numba.columns.drop("scenario")
    np.testing.assert_allclose(python[numbers].to_numpy(dtype=float),
                               numba[numbers].to_numpy(dtype=float), rtol=1e-9, atol=1e-9)
    assert json.loads((tmp_path / "summary.json").read_text())["engine"] == "python"


def test_run_of_a_scenario_file_with_problem_option(tmp_path):
    scenario = write(tmp_path / "mine.toml", 'name = "mine"\ndescription = "Mine."\n'
                     "[organizations]\ncount = 15\n")
    out = tmp_path / "out"
    result = invoke("run", scenario, "--problem", "simple", "--years", "1", "--replicates", "1",
                    "--out", out)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    parameters = summary["scenario_file"]["parameters"]
    assert parameters["name"] == "mine" and parameters["problem"]["type"] == "simple"
    assert parameters["problem"]["interdependence"] == 0  # filled in from the type
    assert summary["scenario_file"]["sha256"] == hashlib.sha256(scenario.read_bytes()).hexdigest()


# ---------------------------------------------------------------- compare
SMALL_FILES = {
    "ci_small": "[organizations]\ncount = 20\n",
    "isolated_small": ("[organizations]\ncount = 20\n[conditions]\ncommon_agenda = 0.0\n"
                       "shared_measurement = 0.0\nmutually_reinforcing = 0.0\n"
                       "continuous_communication = 0.0\n[backbone]\nenabled = false\n"),
}


def test_compare_runs_scenarios_on_the_run_command_s_seeds(tmp_path):
    files = [write(tmp_path / f"{name}.toml", f'name = "{name}"\n{text}')
             for name, text in SMALL_FILES.items()]
    out = tmp_path / "compare"
    result = invoke("compare", *files, "--years", "1", "--replicates", "2", "--seed", "9",
                    "--out", out)
    assert result.exit_code == 0, (result.output, result.exception)
    assert (out / "compare.png").read_bytes().startswith(PNG_SIGNATURE)
    table = pd.read_csv(out / "compare.csv")
    assert {"scenario", "metric", "mean", "low", "high", "seed"} <= set(table.columns)
    assert len(table) == len(SMALL_FILES) * len(METRICS)
    for name in SMALL_FILES:
        assert set(table.loc[table["scenario"] == name, "metric"]) == set(METRICS)
    amounts = table[table["metric"] != "gateway"]
    assert (amounts["low"] <= amounts["mean"] + 1e-12).all()
    assert (amounts["mean"] <= amounts["high"] + 1e-12).all()
    assert (amounts["level"] == 0.95).all()
    # The ordinal gateway is not averaged: its row gives the most common gateway.
    gateways = table[table["metric"] == "gateway"]
    assert gateways["mean"].isna().all() and set(gateways["most_common"]) <= set(GATEWAYS)
    assert (table["seed"] == 9).all()
    assert table.groupby("scenario")["parameters_sha256"].nunique().eq(1).all()
    assert table["parameters_sha256"].nunique() == len(SMALL_FILES)
    # Each scenario ran on the seeds `ci-sim run` uses for the same base seed.
    alone = tmp_path / "alone"
    assert invoke("run", files[0], "--years", "1", "--replicates", "2", "--seed", "9",
                  "--out", alone).exit_code == 0
    summary = json.loads((alone / "summary.json").read_text())
    rows = table[table["scenario"] == "ci_small"].set_index("metric")
    for metric in set(METRICS) - {"gateway"}:
        assert rows.loc[metric, "mean"] == pytest.approx(summary["final"][metric]["mean"],
                                                         rel=1e-9, abs=1e-12), metric
    # Different scenarios, same seeds: the differences come from the scenarios.
    other = table[table["scenario"] == "isolated_small"].set_index("metric")
    assert other.loc["agenda_alignment", "mean"] < rows.loc["agenda_alignment", "mean"]


# ---------------------------------------------------------------- scenarios and check
def test_scenarios_lists_every_built_in_on_one_line_each():
    result = invoke("scenarios")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == builtin_names()
    for line, name in zip(lines, builtin_names()):
        description = load_scenario(name)[0].description
        assert description[:30] in line


def test_check_passes_every_scenario_file():
    files = sorted((REPOSITORY / "scenarios").glob("*.toml"))
    result = invoke("check", *files)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{path}: ok" for path in files]


def test_check_fails_bad_files_in_one_line_each_and_still_reports_good_ones(tmp_path):
    good = write(tmp_path / "good.toml", "[conditions]\ncommon_agenda = 0.4\n")
    bad = [write(tmp_path / "unknown.toml", "[conditions]\ncommon_agender = 0.4\n"),
           write(tmp_path / "range.toml", "[trust]\ninitial = 2\n"),
           write(tmp_path / "broken.toml", "[trust\n"),
           tmp_path / "missing.toml"]
    result = invoke("check", bad[0], good, *bad[1:])
    assert result.exit_code == 2, result.output
    assert result.stdout.splitlines() == [f"{good}: ok"]
    lines = result.stderr.splitlines()
    assert len(lines) == len(bad)
    for line, path in zip(lines, bad):
        assert str(path) in line
    assert "common_agender" in lines[0] and "trust.initial" in lines[1]
    assert "Traceback" not in result.output


def test_check_prints_an_error_with_square_brackets_literally(tmp_path):
    bad = write(tmp_path / "brackets.toml", "[conditions]\ncommon_agenda = '[/bold] or [red]x'\n")
    result = invoke("check", bad)
    line = assert_refused(result, str(bad), "conditions.common_agenda")
    assert "[/bold] or [red]x" in line


# ---------------------------------------------------------------- bad input
BAD_SCENARIO_FILES = {
    "broken TOML": ("[conditions\ncommon_agenda = 0.5\n", ["TOML"]),
    "unknown key": ("[conditions]\ncommon_agender = 0.5\n",
                    ["conditions.common_agender", "common_agenda"]),
    "wrong type": ("[organizations]\ncount = 'many'\n", ["organizations.count", "whole number"]),
    "out of range": ("[backbone]\nbudget_share = 1.5\n", ["backbone.budget_share", "1"]),
    "impossible combination": ("[backbone]\nenabled = false\ncut_year = 2\n",
                               ["backbone.cut_year", "enabled"]),
}


@pytest.fixture()
def untouched_out(tmp_path):
    """An existing --out folder with a sentinel file; the test checks it is unchanged."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "sentinel.txt").write_text("keep me")
    before = snapshot(out)
    yield out
    assert snapshot(out) == before


@pytest.mark.parametrize("case", BAD_SCENARIO_FILES)
@pytest.mark.parametrize("command", ["run", "compare"])
def test_bad_scenario_file_is_refused_and_nothing_written(command, case, tmp_path,
                                                          untouched_out):
    text, fragments = BAD_SCENARIO_FILES[case]
    bad = write(tmp_path / "bad.toml", text)
    extra = ["collective_impact"] if command == "compare" else []
    result = invoke(command, *extra, bad, "--years", "1", "--replicates", "1",
                    "--out", untouched_out)
    assert_refused(result, str(bad), *fragments)


@pytest.mark.parametrize("command", ["run", "compare", "check"])
def test_missing_scenario_file_is_refused_and_nothing_written(command, tmp_path):
    out = tmp_path / "never"
    missing = tmp_path / "nowhere.toml"
    options = [] if command == "check" else ["--replicates", "1", "--out", out]
    assert_refused(invoke(command, missing, *options), str(missing), "not found")
    assert snapshot(out) is None


BAD_OPTIONS = {
    "set without '='": (["--set", "conditions.common_agenda"], ["--set", "KEY=VALUE"]),
    "set of an unknown key": (["--set", "conditions.agenda=0.5"],
                              ["conditions.agenda", "common_agenda"]),
    "set of a wrong type": (["--set", "organizations.count=many"], ["organizations.count",
                                                                   "whole number", "many"]),
    "set of a value not allowed": (["--set", "learning.network=ring"],
                                   ["learning.network", "small_world", "ring"]),
    "set out of range": (["--set", "trust.negativity_bias=0.5"], ["trust.negativity_bias"]),
    "set of an impossible combination": (["--set", "funding.cut_year=3"],
                                         ["funding.cut_year", "horizon"]),
    "engine": (["--engine", "cuda"], ["--engine", "numba", "python", "cuda"]),
    "problem": (["--problem", "wicked"], ["--problem", "simple", "complex", "wicked"]),
    "years": (["--years", "0"], ["years"]),
    "built-in name": (["collective_impakt"], ["collective_impakt", "collective_impact"]),
}


@pytest.mark.parametrize("case", BAD_OPTIONS)
def test_run_refuses_bad_options_and_writes_nothing(case, untouched_out):
    options, fragments = BAD_OPTIONS[case]
    # The case's options come last, so they win over the small defaults.
    result = invoke("run", "--years", "1", "--replicates", "1", "--out", untouched_out, *options)
    assert_refused(result, *fragments)


@pytest.mark.parametrize("options, fragments", [
    (["--engine", "cuda"], ["--engine", "cuda"]),
    (["--problem", "wicked"], ["--problem", "wicked"]),
    (["--years", "200"], ["years", "100"]),
])
def test_compare_refuses_bad_options_and_writes_nothing(options, fragments, untouched_out):
    result = invoke("compare", "collective_impact", "isolated_impact", *options,
                    "--replicates", "1", "--out", untouched_out)
    assert_refused(result, *fragments)


def test_compare_refuses_two_scenarios_with_one_name(untouched_out):
    result = invoke("compare", "collective_impact", "collective_impact", "--years", "1",
                    "--replicates", "1", "--out", untouched_out)
    assert_refused(result, "collective_impact")


def test_missing_out_folder_is_not_created_on_bad_input(tmp_path):
    out = tmp_path / "new" / "out"
    result = invoke("run", "--set", "trust.initial=7", "--replicates", "1", "--out", out)
    assert_refused(result, "trust.initial")
    assert not (tmp_path / "new").exists()


def test_error_with_square_brackets_prints_literally(untouched_out):
    result = invoke("run", "--set", "conditions.common_agenda=[/bold] or [red]x",
                    "--replicates", "1", "--out", untouched_out)
    line = assert_refused(result, "conditions.common_agenda")
    assert "[/bold] or [red]x" in line


def console_script() -> str:
    script = Path(sys.executable).with_name("ci-sim")
    return str(script) if script.exists() else (shutil.which("ci-sim") or "ci-sim")


def test_console_script_refuses_bad_input_with_exit_code_2_and_no_traceback(tmp_path):
    bad = write(tmp_path / "bad.toml", "[learning]\nnetwork = 'ring'\n")
    out = tmp_path / "out"
    finished = subprocess.run([console_script(), "run", str(bad), "--replicates", "1",
                               "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 2, finished.stderr
    lines = finished.stderr.splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "learning.network" in lines[0], \
        finished.stderr
    assert "Traceback" not in finished.stderr + finished.stdout
    assert not out.exists()
