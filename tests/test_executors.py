"""Executors: same results in any executor, errors surface in the caller, bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

from ci_sim.executors import (InProcessExecutor, LocalPoolExecutor, available_cores, batch_size,
                              batched, make_executor)
from ci_sim.errors import InputError


def draw_batch(seeds: list[int]) -> list[float]:
    """A stand-in for model runs: one random draw per seed, from that seed only."""
    return [float(np.random.default_rng(seed).normal()) for seed in seeds]


def fail_on_three(seeds: list[int]) -> list[int]:
    if 3 in seeds:
        raise ValueError("seed 3 is bad")
    return seeds


def collect(executor, function, batches) -> dict[int, object]:
    results = {}
    for index, result in executor.map_unordered(function, batches):
        assert index not in results
        results[index] = result
    return results


@pytest.fixture(scope="module")
def dask_cluster():
    """A real Dask LocalCluster (threads, to keep start-up short) to connect to by address."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=":0")
    yield cluster
    cluster.close()


def test_batched_keeps_order_and_everything():
    items = list(range(23))
    batches = batched(items, 5)
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    assert sum(batches, []) == items
    with pytest.raises(ValueError):
        batched(items, 0)


def test_batch_size_gives_each_worker_several_batches():
    assert batch_size(1000, 2) == 63
    assert batch_size(100_000, 2) == 64
    assert batch_size(3, 8) == 1


def test_every_executor_returns_the_same_results(dask_cluster):
    batches = batched(list(range(40)), 3)
    expected = {index: draw_batch(batch) for index, batch in enumerate(batches)}
    with make_executor(workers=1) as executor:
        assert isinstance(executor, InProcessExecutor)
        assert collect(executor, draw_batch, batches) == expected
    with make_executor(workers=2) as executor:
        assert isinstance(executor, LocalPoolExecutor) and executor.workers == 2
        assert collect(executor, draw_batch, batches) == expected
    with make_executor(scheduler=dask_cluster.scheduler_address) as executor:
        assert executor.kind == "dask" and executor.workers == 2
        assert collect(executor, draw_batch, batches) == expected


def test_default_is_a_pool_over_every_core():
    executor = make_executor()
    with executor:
        expected_kind = "in-process" if available_cores() == 1 else "process pool"
        assert executor.kind == expected_kind
        assert executor.workers == available_cores()


@pytest.mark.parametrize("where", ["in-process", "pool", "dask"])
def test_a_failing_batch_raises_in_the_caller(where, dask_cluster):
    options = {"in-process": {"workers": 1}, "pool": {"workers": 2},
               "dask": {"scheduler": dask_cluster.scheduler_address}}[where]
    with make_executor(**options) as executor:
        with pytest.raises(ValueError, match="seed 3 is bad"):
            collect(executor, fail_on_three, batched(list(range(10)), 1))


def test_leaving_the_loop_early_stops_cleanly():
    with make_executor(workers=2) as executor:
        for _ in executor.map_unordered(draw_batch, batched(list(range(200)), 1)):
            break
        # the executor is still usable after an abandoned loop
        assert dict(executor.map_unordered(draw_batch, [[1], [2]])) == {0: draw_batch([1]),
                                                                         1: draw_batch([2])}


@pytest.mark.parametrize(("options", "message"), [
    ({"workers": 0}, "--workers: must be a whole number of at least 1, got 0"),
    ({"workers": 1.5}, "--workers: must be a whole number"),
    ({"scheduler": "cluster"}, "--scheduler: expected 'local' or an address"),
    ({"scheduler": "tcp://127.0.0.1:8786", "workers": 2}, "--workers: a running Dask cluster"),
])
def test_bad_options_are_refused_in_one_line(options, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")) as caught:
        make_executor(**options)
    assert "\n" not in str(caught.value)


def test_a_scheduler_that_does_not_answer_is_an_input_error(monkeypatch):
    import socket

    from ci_sim import executors

    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 1.0)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(InputError, match=f"--scheduler tcp://127.0.0.1:{port}: cannot connect"):
        make_executor(scheduler=f"tcp://127.0.0.1:{port}")


def test_local_dask_cluster_of_processes_starts_runs_and_stops():
    batches = batched(list(range(12)), 2)
    with make_executor(scheduler="local", workers=2) as executor:
        assert executor.kind == "dask" and executor.workers == 2
        results = collect(executor, draw_batch, batches)
    assert results == {index: draw_batch(batch) for index, batch in enumerate(batches)}
