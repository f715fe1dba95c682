"""A sweep on a real Dask cluster whose scheduler and worker are started from the command line,
as docs/cluster.md tells users to: every process listens on loopback only, and every wait is
bounded, so the test ends (and stops what it started) within a few minutes at worst."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pandas as pd
import pytest

#: 4 base samples x (2 + 2) Sobol points x 1 replicate = 16 runs of 1 year.
EXPERIMENT = """
name = "on_a_cluster"
scenario = "collective_impact"
years = 1
method = "sobol"
samples = 4
replicates = 1
seed = 5

[parameters]
"conditions.common_agenda" = [0.0, 1.0]
"backbone.budget_share" = [0.0, 0.3]

[outputs]
outcome = { metric = "outcome", year = 1 }
"""

#: Longest wait for a process to start, a worker to join or the sweep to finish (s).
PATIENCE = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, what: str, processes: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        for process in processes:
            assert process.poll() is None, f"{process.args[3]} exited while waiting for {what}"
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"no {what} within {PATIENCE} s")


def dashboard_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture()
def cluster(tmp_path):
    """``dask scheduler`` and one ``dask worker`` started as a user types them."""
    port, dashboard = free_port(), free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    logs = {name: (tmp_path / f"{name}.log").open("w") for name in ("scheduler", "worker")}
    processes = [subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--dashboard-address", f"127.0.0.1:{dashboard}"],
        stdout=logs["scheduler"], stderr=subprocess.STDOUT)]
    try:
        wait_for(lambda: dashboard_answers(f"http://127.0.0.1:{dashboard}/status"),
                 "scheduler dashboard", processes)
        processes.append(subprocess.Popen(
            [*dask, "worker", address, "--nthreads", "1", "--nworkers", "1",
             "--host", "127.0.0.1", "--no-dashboard", "--death-timeout", "60"],
            stdout=logs["worker"], stderr=subprocess.STDOUT))
        from distributed import Client

        with Client(address, timeout=30) as client:
            wait_for(lambda: len(client.scheduler_info()["workers"]) == 1, "worker",
                     processes)
        yield {"address": address, "dashboard": f"http://127.0.0.1:{dashboard}"}
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        for log in logs.values():
            log.close()


def ci_sim(*args: str, timeout: float = PATIENCE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ci_sim.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_a_sweep_on_a_cli_started_dask_cluster_matches_one_run_here(cluster, tmp_path):
    experiment = tmp_path / "on_a_cluster.toml"
    experiment.write_text(EXPERIMENT)
    # The dashboard (bokeh, the cluster extra) shows the workers.
    assert dashboard_answers(cluster["dashboard"] + "/workers")
    remote = ci_sim("sweep", str(experiment), "--scheduler", cluster["address"],
                    "--out", str(tmp_path / "remote"))
    assert remote.returncode == 0, remote.stderr
    local = ci_sim("sweep", str(experiment), "--workers", "1", "--out", str(tmp_path / "here"))
    assert local.returncode == 0, local.stderr
    on_cluster = pd.read_parquet(tmp_path / "remote" / "runs.parquet")
    here = pd.read_parquet(tmp_path / "here" / "runs.parquet")
    assert len(on_cluster) == 16
    key = [column for column in here.columns if column != "outcome"]
    pd.testing.assert_frame_equal(on_cluster.sort_values(key).reset_index(drop=True),
                                  here.sort_values(key).reset_index(drop=True))

