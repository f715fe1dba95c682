"""Bad and edge inputs across every command, and the safety of results on disk.

Every bad input is refused the same way: exit code 2, one line on stderr naming the option
or file, no traceback, and nothing written or changed. Results already on disk are never
silently replaced; a killed command leaves the old set or the new one; two sweeps never
share a folder; a killed sweep resumes to the same table as an uninterrupted one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from ci_sim.cli import app

runner = CliRunner()

#: A model run that takes well under a second once compiled.
TINY = ["--years", "1", "--replicates", "1", "--set", "organizations.count=20"]

SWEEP = """
name = "tiny"
scenario = "collective_impact"
years = 1
method = "sobol"
samples = 8
replicates = 2
seed = 3

[parameters]
"conditions.common_agenda" = [0.0, 1.0]
"backbone.budget_share" = [0.0, 0.3]

[outputs]
outcome = { metric = "outcome", year = 1 }
"""

ISHIGAMI = """
name = "ish"
target = "ishigami"
method = "sobol"
samples = 64
seed = 7

[parameters]
x1 = [-3.14, 3.14]
x2 = [-3.14, 3.14]
x3 = [-3.14, 3.14]

[outputs]
y = { metric = "y" }
"""

#: Input files the cases name as {in}/FILE.
FILES = {
    "bad.toml": "years = [",
    "deep_array.toml": "years = " + "[" * 3000 + "]" * 3000,
    "deep_table.toml": "years = " + "{a = " * 3000 + "1" + "}" * 3000,
    "binary.toml": b"\xff\xfe\x00years = 1",
    "years_string.toml": "years = '10'",
    "years_bool.toml": "years = true",
    "agenda_bool.toml": "[conditions]\ncommon_agenda = true",
    "agenda_string.toml": "[conditions]\ncommon_agenda = '0.5'",
    "count_float.toml": "[organizations]\ncount = 20.5",
    "count_string.toml": "[organizations]\ncount = 'many'",
    "unknown_key.toml": "yeers = 3",
    "unknown_section.toml": "[backbonez]\nbudget_share = 0.1",
    "unknown_nested.toml": "[conditions]\ncommon_agendaa = 0.5",
    "negative_years.toml": "years = -1",
    "huge_years.toml": "years = 1e9",
    "bad_problem.toml": "[problem]\ntype = 'wicked'",
    "huge_landscape.toml": "[problem]\nstrategy_bits = 24\ninterdependence = 23",
    "k_too_big.toml": "[problem]\nstrategy_bits = 4\ninterdependence = 4",
    "experiment.toml": SWEEP,
    "ishigami.toml": ISHIGAMI,
    "stress_typo.toml": "replicats = 4",
    "stress_bad_shares.toml": "shares = 'a:b'",
    "stress_bad_replicates.toml": "replicates = 'four'",
    "sweep_bad_method.toml": SWEEP.replace('"sobol"', '"magic"'),
    "sweep_no_outputs.toml": SWEEP.split("[outputs]")[0],
    "sweep_bad_param.toml": SWEEP.replace('"backbone.budget_share"', '"backbone.budgt_share"'),
    "sweep_zero_samples.toml": SWEEP.replace("samples = 8", "samples = 0"),
    "sweep_string_samples.toml": SWEEP.replace("samples = 8", "samples = '8'"),
    "sweep_bool_seed.toml": SWEEP.replace("seed = 3", "seed = true"),
    "sweep_negative_seed.toml": SWEEP.replace("seed = 3", "seed = -1"),
    "sweep_inverted_range.toml": SWEEP.replace("[0.0, 1.0]", "[1.0, 0.0]"),
    "sweep_deep.toml": "method = " + "[" * 3000 + "]" * 3000,
    "empty_dir/": None,
    "a_file": "not a folder",
    "taken/summary.json": "{}",
    "no_sweep/notes.txt": "mine",
    "broken_sweep/study.json": '{"experiment": 1',
    "keyless_sweep/study.json": "[]",
}

#: Options every simulating command shares, with a bad value each.
SHARED = [
    (["--seed", "-1"], "--seed"),
    (["--seed", "abc"], "--seed"),
    (["--seed", "1.5"], "--seed"),
    (["--seed", str(2**64)], "--seed"),
    (["--workers", "0"], "--workers"),
    (["--workers", "-3"], "--workers"),
    (["--workers", "two"], "--workers"),
    (["--out", ""], "--out"),
    (["--out", "."], "--out"),
    (["--out", "{in}/a_file"], "a_file"),
    (["--bogus"], "--bogus"),
    (["--overwrite=yes"], "--overwrite"),
]

#: Options of run and compare, with a bad value each.
SCENARIO_OPTIONS = [
    (["--replicates", "0"], "--replicates"),
    (["--replicates", "-1"], "--replicates"),
    (["--replicates", "abc"], "--replicates"),
    (["--replicates", "1.5"], "--replicates"),
    (["--replicates", "100001"], "--replicates"),
    (["--years", "0"], "--years"),
    (["--years", "-1"], "--years"),
    (["--years", "abc"], "--years"),
    (["--years", "101"], "--years"),
    (["--years", "nan"], "--years"),
    (["--years", "inf"], "--years"),
    (["--engine", "cuda"], "--engine"),
    (["--engine", ""], "--engine"),
    (["--problem", "hard"], "--problem"),
    (["--problem", "Simple"], "--problem"),
    (["--set", "noequals"], "--set"),
    (["--set", "=3"], "--set"),
    (["--set", "years=abc"], "years"),
    (["--set", "years=true"], "years"),
    (["--set", "years='10'"], "years"),
    (["--set", "years=[[[[1]]]]"], "years"),
    (["--set", "years=" + "[" * 3000], "years"),
    (["--set", "conditions.common_agenda=true"], "conditions.common_agenda"),
    (["--set", "conditions.common_agenda=2"], "conditions.common_agenda"),
    (["--set", "conditions.common_agenda=-0.1"], "conditions.common_agenda"),
    (["--set", "conditions.common_agendaa=0.5"], "conditions.common_agendaa"),
    (["--set", "nosuch.key=1"], "nosuch"),
    (["--set", "organizations.count=many"], "organizations.count"),
    (["--set", "organizations.count=1.5"], "organizations.count"),
    (["--set", "organizations.count=0"], "organizations.count"),
    (["--set", "years=3", "--years", "1"], "--years"),
    (["--set", "problem.type=simple", "--problem", "complex"], "--problem"),
    (["--set", "problem.strategy_bits=24", "--set", "problem.interdependence=23"],
     "problem.interdependence"),
    (["--set", "problem.strategy_bits=4", "--set", "problem.interdependence=4"],
     "problem.interdependence"),
    (["--set", "problem.strategy_bits=30", "--set", "problem.interdependence=2"],
     "problem.strategy_bits"),
]

#: Scenario files for run and compare, with the key each one's message must name.
SCENARIO_FILES = [
    ("bad.toml", "bad.toml"), ("deep_array.toml", "deep_array.toml"),
    ("deep_table.toml", "deep_table.toml"), ("binary.toml", "binary.toml"),
    ("years_string.toml", "years"), ("years_bool.toml", "years"),
    ("agenda_bool.toml", "conditions.common_agenda"),
    ("agenda_string.toml", "conditions.common_agenda"),
    ("count_float.toml", "organizations.count"), ("count_string.toml", "organizations.count"),
    ("unknown_key.toml", "yeers"), ("unknown_section.toml", "backbonez"),
    ("unknown_nested.toml", "common_agendaa"), ("negative_years.toml", "years"),
    ("huge_years.toml", "years"), ("bad_problem.toml", "problem.type"),
    ("huge_landscape.toml", "problem.interdependence"),
    ("k_too_big.toml", "problem.interdependence"), ("experiment.toml", "ci-sim sweep"),
    ("missing.toml", "missing.toml"), ("no_such_scenario", "no_such_scenario"),
    ("empty_dir", "empty_dir"),
]


def cases() -> list:
    found = []

    def add(command: list[str], args: list[str], fragment: str, label: str) -> None:
        found.append(pytest.param(command + args, fragment, id=f"{' '.join(command)} {label}"))

    for args, fragment in SHARED:
        for command in (["run"], ["compare", "collective_impact"], ["figures"],
                        ["stress-test"], ["validate", "trust_asymmetry"]):
            add(command, args, fragment, " ".join(args))
    for args, fragment in SCENARIO_OPTIONS:
        add(["run"], TINY[:4] + args if "--replicates" not in args and "--years" not in args
            else args, fragment, " ".join(args))
    for args, fragment in SCENARIO_OPTIONS[::3]:
        add(["compare", "collective_impact"], args, fragment, " ".join(args))
    for name, fragment in SCENARIO_FILES:
        path = name if name.startswith("no_such") else f"{{in}}/{name}"
        add(["run"], [path, "--replicates", "1"], fragment, name)
        if name in ("bad.toml", "deep_table.toml", "years_bool.toml", "unknown_key.toml",
                    "huge_landscape.toml", "experiment.toml", "missing.toml"):
            add(["compare", "collective_impact"], [path], fragment, name)
            add(["check"], [path], fragment, name)
    more = [
        (["run", *TINY, "--out", "{in}/taken"], "--overwrite"),
        (["run", *TINY, "--out", "{in}", "--overwrite"], "holds folders"),
        (["compare", "collective_impact", "--out", "{in}", "--overwrite"], "holds folders"),
        (["figures", "--out", "{in}", "--overwrite"], "holds folders"),
        (["stress-test", "--out", "{in}", "--overwrite"], "holds folders"),
        (["sweep", "{in}/ishigami.toml", "--out", "{in}/no_sweep", "--overwrite"], "no_sweep"),
        (["run", "collective_impact", "extra"], "extra"),
        (["compare"], "SCENARIO"),
        (["compare", "collective_impact", "collective_impact"], "names must differ"),
        (["compare", "collective_impact", "--out", "{in}/taken"], "--overwrite"),
        (["compare", "collective_impact", "--replicates", "0"], "--replicates"),
        (["check"], "FILE"),
        (["scenarios", "extra"], "extra"),
        (["scenarios", "--bogus"], "--bogus"),
        (["stress-test", "--shares", "a:b"], "--shares"),
        (["stress-test", "--shares", "0:2:0.1"], "--shares"),
        (["stress-test", "--shares", "0.3:0:0.1"], "--shares"),
        (["stress-test", "--shares", "0:0.3:0"], "--shares"),
        (["stress-test", "--shares", ""], "--shares"),
        (["stress-test", "--shares", "0.1,nope"], "--shares"),
        (["stress-test", "--shock", "explode:3"], "explode"),
        (["stress-test", "--shock", "backbone_cut:x"], "backbone_cut"),
        (["stress-test", "--shock", "backbone_cut:200"], "backbone_cut"),
        (["stress-test", "--shock", "pool_cut:3:2"], "pool_cut"),
        (["stress-test", "--shock", ""], "--shock"),
        (["stress-test", "--budget", "-1"], "budget"),
        (["stress-test", "--budget", "abc"], "--budget"),
        (["stress-test", "--replicates", "1"], "--replicates"),
        (["stress-test", "--replicates", "abc"], "--replicates"),
        (["stress-test", "--years", "0"], "--years"),
        (["stress-test", "--years", "3", "--set", "years=1"], "--years"),
        (["stress-test", "--problem", "simple", "--set", "problem.type=complex"], "--problem"),
        (["stress-test", "--years", "200"], "--years"),
        (["stress-test", "--engine", "cuda"], "--engine"),
        (["stress-test", "--problem", "hard"], "--problem"),
        (["stress-test", "--set", "conditions.common_agenda=true"], "common_agenda"),
        (["stress-test", "--set", "nosuch=1"], "nosuch"),
        (["stress-test", "--config", "{in}/missing.toml"], "missing.toml"),
        (["stress-test", "--config", "{in}/bad.toml"], "bad.toml"),
        (["stress-test", "--config", "{in}/deep_array.toml"], "deep_array.toml"),
        (["stress-test", "--config", "{in}/years_string.toml"], "years_string.toml"),
        (["stress-test", "--config", "{in}/stress_typo.toml"], "replicats"),
        (["stress-test", "--config", "{in}/stress_bad_shares.toml"], "shares"),
        (["stress-test", "--config", "{in}/stress_bad_replicates.toml"], "replicates"),
        (["stress-test", "{in}/years_bool.toml"], "years"),
        (["stress-test", "no_such_scenario"], "no_such_scenario"),
        (["stress-test", "--scheduler", "nowhere"], "--scheduler"),
        (["stress-test", "--scheduler", "tcp://127.0.0.1:9", "--workers", "2"], "--workers"),
        (["stress-test", "--out", "{in}/taken"], "--overwrite"),
        (["workshop", "--port", "0"], "--port"),
        (["workshop", "--port", "70000"], "--port"),
        (["workshop", "--port", "abc"], "--port"),
        (["workshop", "--open=maybe"], "--open"),
        (["figures", "--preset", "nope"], "nope"),
        (["figures", "--replicates", "1"], "--replicates"),
        (["figures", "--out", "{in}/taken"], "--overwrite"),
        (["sweep"], "EXPERIMENT"),
        (["sweep", "{in}/missing.toml"], "missing.toml"),
        (["sweep", "{in}/bad.toml"], "bad.toml"),
        (["sweep", "{in}/sweep_deep.toml"], "sweep_deep.toml"),
        (["sweep", "{in}/years_bool.toml"], "ci-sim run"),
        (["sweep", "{in}/sweep_bad_method.toml"], "method"),
        (["sweep", "{in}/sweep_no_outputs.toml"], "outputs"),
        (["sweep", "{in}/sweep_bad_param.toml"], "backbone.budgt_share"),
        (["sweep", "{in}/sweep_zero_samples.toml"], "samples"),
        (["sweep", "{in}/sweep_string_samples.toml"], "samples"),
        (["sweep", "{in}/sweep_bool_seed.toml"], "seed"),
        (["sweep", "{in}/sweep_negative_seed.toml"], "seed"),
        (["sweep", "{in}/sweep_inverted_range.toml"], "common_agenda"),
        (["sweep", "{in}/ishigami.toml", "--workers", "0"], "--workers"),
        (["sweep", "{in}/ishigami.toml", "--scheduler", "nowhere"], "--scheduler"),
        (["sweep", "{in}/ishigami.toml", "--resume", "--overwrite"], "--resume"),
        (["sweep", "{in}/ishigami.toml", "--out", "{in}/a_file"], "a_file"),
        (["sweep", "{in}/ishigami.toml", "--out", "{in}/no_sweep"], "no_sweep"),
        (["sweep", "{in}/ishigami.toml", "--out", "{in}/broken_sweep", "--resume"],
         "study.json"),
        (["sweep", "{in}/ishigami.toml", "--out", "{in}/keyless_sweep", "--resume"],
         "study.json"),
        (["sweep", "{in}/ishigami.toml", "--out", ""], "--out"),
        (["analyze"], "FOLDER"),
        (["analyze", "{in}/nothing"], "nothing"),
        (["analyze", "{in}/no_sweep"], "no_sweep"),
        (["analyze", "{in}/broken_sweep"], "broken_sweep"),
        (["analyze", "{in}/a_file"], "a_file"),
        (["validate", "nonsense"], "nonsense"),
        (["validate", "--replicates", "1"], "--replicates"),
        (["validate", "--runs", "1"], "--runs"),
        (["validate", "--replicates", "2", "--runs", "2"], "--runs"),
        (["validate", "--engine", "cuda"], "--engine"),
        (["validate", "trust_asymmetry", "--out", "{in}/taken2"], "--out"),
        (["--bogus"], "--bogus"),
        (["nosuchcommand"], "nosuchcommand"),
        (["run", "--version"], "--version"),
    ]
    for args, fragment in more:
        add(args[:1], args[1:], fragment, " ".join(args[1:]) or "(nothing)")
    return found


CASES = cases()


@pytest.fixture
def inputs(tmp_path, monkeypatch) -> Path:
    """The input files in tmp_path/in, with tmp_path as the current folder."""
    folder = tmp_path / "in"
    for name, content in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir(exist_ok=True)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    (folder / "taken2" / "validation.md").parent.mkdir()
    (folder / "taken2" / "validation.md").write_text("earlier")
    monkeypatch.chdir(tmp_path)
    return folder


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every entry below ``folder`` with a file's bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() if path.is_file() else None
            for path in sorted(folder.rglob("*"))}


def test_there_are_at_least_150_cases():
    assert len(CASES) >= 150


@pytest.mark.parametrize(("args", "fragment"), CASES)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(inputs, args, fragment):
    before = tree(inputs.parent)
    args = [arg.replace("{in}", str(inputs)) for arg in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert fragment.replace("{in}", str(inputs)) in lines[0], lines[0]
    assert tree(inputs.parent) == before


# ---------------------------------------------------------------- results on disk
def test_a_second_run_into_the_same_folder_is_refused_and_overwrite_replaces(tmp_path):
    out = tmp_path / "out"
    first = runner.invoke(app, ["run", *TINY, "--seed", "1", "--out", str(out)])
    assert first.exit_code == 0, first.output
    kept = tree(out)
    second = runner.invoke(app, ["run", *TINY, "--seed", "2", "--out", str(out)])
    assert second.exit_code == 2 and "--overwrite" in second.stderr
    assert tree(out) == kept
    third = runner.invoke(app, ["run", *TINY, "--seed", "2", "--out", str(out), "--overwrite"])
    assert third.exit_code == 0, third.output
    assert set(tree(out)) == set(kept) and tree(out) != kept
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]  # no leftovers


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/absolute", "", "..",
                                  "[link=file:///etc/passwd]x", "[/bad]"])
def test_scenario_names_stay_under_results_and_print_as_text(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", *TINY, "--set", f"name='{name}'"])
    assert result.exit_code == 0, result.output
    written = [path for path in tmp_path.rglob("summary.json")]
    assert len(written) == 1 and written[0].parent.parent == tmp_path / "results"
    if name.startswith("["):
        assert name in result.output


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ci_sim.cli", *args]


def kill_run_while_computing(out: Path, *options: str) -> None:
    """Start a long ``ci-sim run --out OUT`` and kill -9 it once it is computing."""
    process = subprocess.Popen(cli("run", "--years", "3", "--replicates", "50", "--out",
                                   str(out), *options),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(out.parent.glob(f".{out.name}.*.tmp")):
        time.sleep(0.02)
    time.sleep(1.0)  # well inside the computing
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_a_killed_run_leaves_nothing_or_the_complete_old_set(tmp_path):
    out = tmp_path / "out"
    kill_run_while_computing(out)
    assert not out.exists()
    assert runner.invoke(app, ["run", *TINY, "--out", str(out)]).exit_code == 0
    old = tree(out)
    kill_run_while_computing(out, "--overwrite")
    assert tree(out) == old
    again = runner.invoke(app, ["run", *TINY, "--seed", "5", "--out", str(out), "--overwrite"])
    assert again.exit_code == 0 and tree(out) != old
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]  # stale staging gone


# ---------------------------------------------------------------- sweeps
@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """The tiny sweep run without interruption."""
    from ci_sim.studies.sweep import run_sweep

    folder = tmp_path_factory.mktemp("reference")
    path = folder / "tiny.toml"
    path.write_text(SWEEP)
    return path, run_sweep(path, folder / "out", workers=1).runs


def start_sweep(path: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(cli("sweep", str(path), "--out", str(out), "--workers", "1"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def wait_for(condition, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None and not condition():
        time.sleep(0.005)
    assert process.poll() is None, process.stderr.read().decode()


def test_a_second_concurrent_sweep_into_the_folder_is_refused(tmp_path, reference):
    path, runs = reference
    out = tmp_path / "out"
    process = start_sweep(path, out)
    try:
        wait_for(lambda: (out / ".lock").exists(), process)
        time.sleep(0.2)
        second = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--resume",
                                     "--workers", "1"])
        assert second.exit_code == 2, second.output
        assert "in use by another sweep" in second.stderr
        assert len(second.stderr.splitlines()) == 1
    finally:
        process.wait(timeout=120)
    assert process.returncode == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), runs)
    assert not (out / "chunks").exists()


@pytest.mark.parametrize("moment", ["locked", "manifest", "chunk"])
def test_a_sweep_killed_at_any_moment_resumes_to_the_same_table(tmp_path, reference,
                                                                moment):
    path, runs = reference
    out = tmp_path / "out"
    condition = {"locked": lambda: (out / ".lock").exists(),
                 "manifest": lambda: (out / "study.json").exists(),
                 "chunk": lambda: any((out / "chunks").glob("batch-*.parquet"))}[moment]
    process = start_sweep(path, out)
    wait_for(condition, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    resumed = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--resume",
                                  "--workers", "1"])
    assert resumed.exit_code == 0, resumed.output
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), runs)
    assert not (out / "chunks").exists()


def test_a_damaged_chunk_is_named_on_resume(tmp_path, reference):
    path, _ = reference
    out = tmp_path / "out"
    process = start_sweep(path, out)
    wait_for(lambda: any((out / "chunks").glob("batch-*.parquet")), process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    chunk = sorted((out / "chunks").glob("batch-*.parquet"))[0]
    chunk.write_bytes(b"PAR1 not really")
    result = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--resume",
                                 "--workers", "1"])
    assert result.exit_code == 2 and chunk.name in result.stderr, result.output
    assert len(result.stderr.splitlines()) == 1


def test_a_dask_sweep_without_workers_fails_with_a_message(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    import ci_sim.executors
    from ci_sim.errors import InputError
    from ci_sim.studies.sweep import run_sweep

    monkeypatch.setattr(ci_sim.executors, "NO_WORKER_TIMEOUT", 1.0)
    path = tmp_path / "ish.toml"
    path.write_text(ISHIGAMI)
    cluster = distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None)
    try:
        with pytest.raises(InputError, match="no Dask worker left"):
            run_sweep(path, tmp_path / "out", scheduler=cluster.scheduler_address)
    finally:
        cluster.close()


def test_servers_print_bracketed_ipv6_urls_and_know_loopback():
    from ci_sim.cli import is_loopback, server_url

    assert server_url("::1", 8765) == "http://[::1]:8765"
    assert server_url("127.0.0.1", 8765) == "http://127.0.0.1:8765"
    assert is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("::")


def test_dask_local_cluster_listens_on_loopback_only():
    pytest.importorskip("distributed")
    from ci_sim.executors import DaskExecutor

    executor = DaskExecutor("local", 1)
    try:
        info = executor._client.scheduler_info()
        assert info["address"].startswith("tcp://127.0.0.1:")
        assert executor._cluster.dashboard_link.startswith("http://127.0.0.1:")
    finally:
        executor.close()


@pytest.mark.parametrize(("host", "warned", "url"), [
    ("127.0.0.1", False, "http://127.0.0.1:8765"), ("::1", False, "http://[::1]:8765"),
    ("0.0.0.0", True, "http://0.0.0.0:8765")])
def test_workshop_warns_when_it_serves_beyond_this_machine(monkeypatch, host, warned, url):
    import ci_sim.app

    monkeypatch.setattr(ci_sim.app, "serve", lambda **options: None)
    result = runner.invoke(app, ["workshop", "--host", host])
    assert result.exit_code == 0, result.output
    assert url in result.stdout
    assert ("warning: --host" in result.stderr) == warned
