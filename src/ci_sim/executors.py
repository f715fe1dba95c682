"""Executors: one interface to run many independent model runs, here or on a cluster.

An executor maps a function over *batches* (each batch a list of runs, or any picklable
object) and yields each batch's result as soon as it completes, tagged with the batch's
position. Three kinds sit behind :func:`make_executor`:

``in-process``
    ``workers=1``: batches run one after the other in this process. No pickling, no
    start-up cost; the reference the other two must agree with.
``process pool``
    The default: a pool of ``workers`` processes on this machine (default: the cores this
    process may use). Workers are started with ``spawn``, so nothing of the parent's state
    leaks into them and the same code works on Linux, macOS and Windows; their math
    libraries run single-threaded (one process per core already uses every core). Each
    worker imports ci-sim once and keeps it; numba kernels compile once and are cached on
    disk, so workers load them in a second or two instead of compiling.
``dask``
    ``scheduler="tcp://host:port"`` connects to a running Dask scheduler (start one with
    ``dask scheduler`` and ``dask worker tcp://host:port --nthreads 1`` on each machine;
    every worker needs ci-sim installed). ``scheduler="local"`` starts a
    ``distributed.LocalCluster`` of ``workers`` single-threaded processes on this machine
    and shuts it down on exit.

Usage::

    from ci_sim.executors import batched, make_executor

    batches = batched(points, size=8)            # a few dozen runs per task or fewer
    with make_executor(workers=2) as executor:
        for index, result in executor.map_unordered(run_points, batches):
            store(index, result)                 # completion order, not batch order

Rules for ``function``: a module-level function (so it pickles by reference), taking one
batch and returning a picklable result; it must not depend on global state set in the
parent, and it must draw its random numbers from seeds carried in the batch. Then results
are identical whichever executor runs it; only their arrival order differs, which is why
each result comes with its batch index.

Batching: per-task overhead is about a millisecond for the process pool and a few for
Dask (pickling, queueing, a round trip), and a study also saves each finished batch (a few
milliseconds more, in the parent, which shares the cores with the workers). A model run
takes from a few milliseconds to a tenth of a second, so batches of tens of runs keep
overhead to a few percent, while many more batches than workers keep every worker busy
until the end. :func:`batch_size` picks such a size.
"""

from __future__ import annotations

import contextlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent import futures
from typing import Any, TypeVar

from ci_sim.errors import InputError

Batch = TypeVar("Batch")
Result = TypeVar("Result")

#: Batches kept queued per worker beyond the one it is running: enough that no worker
#: waits for the parent, few enough that results stream back while the rest is queued.
QUEUED_PER_WORKER = 2

#: Seconds to wait for a Dask scheduler to answer before giving up.
CONNECT_TIMEOUT = 10.0

#: Seconds a Dask cluster may have no worker at all before a run gives up (a restarted
#: worker comes back well within this).
NO_WORKER_TIMEOUT = 60.0


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def batched(items: Sequence[Batch], size: int) -> list[list[Batch]]:
    """Split ``items`` into consecutive lists of at most ``size`` items, in order."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    return [list(items[start:start + size]) for start in range(0, len(items), size)]


def batch_size(runs: int, workers: int, *, per_worker: int = 8, largest: int = 64) -> int:
    """Runs per batch so that each worker gets about ``per_worker`` batches.

    Many batches per worker balance the load at the end of a sweep and make checkpoints
    frequent; ``largest`` caps how much work a crash can lose.
    """
    return max(1, min(largest, -(-runs // max(1, workers * per_worker))))


class Executor(ABC):
    """Runs a function over batches and yields ``(batch_index, result)`` as batches finish.

    Use as a context manager; leaving the ``with`` block stops the workers (cancelling
    batches not yet started if the loop was left early or raised).

    Attributes:
        kind: ``"in-process"``, ``"process pool"`` or ``"dask"``.
        workers: how many batches run at the same time.
    """

    kind = ""
    workers = 1

    @abstractmethod
    def map_unordered(self, function: Callable[[Batch], Result], batches: Iterable[Batch]
                      ) -> Iterator[tuple[int, Result]]:
        """Yield ``(index, function(batch))`` for every batch, in completion order.

        ``index`` is the batch's position in ``batches``. An exception raised by
        ``function`` is raised here, in the caller, after which no new batches start.
        """

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers; safe to call twice."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}, {self.workers} workers>"


class InProcessExecutor(Executor):
    """Runs batches one after the other in this process, in order."""

    kind = "in-process"

    def map_unordered(self, function, batches):
        for index, batch in enumerate(batches):
            yield index, function(batch)


class _BoundedSubmission(Executor):
    """Shared logic of the pooled executors: keep a bounded number of batches in flight."""

    @abstractmethod
    def _submit(self, function: Callable, batch: Any) -> Any:
        """Start ``function(batch)`` on a worker; return its future."""

    @abstractmethod
    def _wait_any(self, pending: set) -> tuple[set, set]:
        """Wait until at least one of ``pending`` is done; return (done, still pending)."""

    def _cancel(self, pending: set) -> None:
        for future in pending:
            future.cancel()

    def map_unordered(self, function, batches):
        queue = enumerate(batches)
        limit = self.workers * (1 + QUEUED_PER_WORKER)
        index_of: dict[Any, int] = {}
        pending: set = set()
        try:
            for index, batch in queue:
                future = self._submit(function, batch)
                index_of[future] = index
                pending.add(future)
                if len(pending) >= limit:
                    break
            while pending:
                done, pending = self._wait_any(pending)
                for future in sorted(done, key=index_of.__getitem__):
                    result = future.result()  # re-raises the worker's exception here
                    yield index_of.pop(future), result
                    for index, batch in queue:
                        future = self._submit(function, batch)
                        index_of[future] = index
                        pending.add(future)
                        break
        finally:
            self._cancel(pending)


class LocalPoolExecutor(_BoundedSubmission):
    """A pool of worker processes on this machine, started with spawn."""

    kind = "process pool"

    def __init__(self, workers: int):
        import multiprocessing

        self.workers = workers
        # spawn, not fork or forkserver: a spawned worker inherits the environment of the
        # moment it starts, which is how it gets single-threaded math libraries below
        context = multiprocessing.get_context("spawn")
        self._pool = futures.ProcessPoolExecutor(max_workers=workers, mp_context=context)
        with single_threaded_libraries():
            # non-fork pools start every worker on the first submit: do it now, under the
            # environment above
            self._pool.submit(os.getpid).result()

    def _submit(self, function, batch) -> futures.Future:
        return self._pool.submit(function, batch)

    def _wait_any(self, pending):
        done, not_done = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
        return done, set(not_done)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(_BoundedSubmission):
    """Batches run as tasks on a Dask distributed cluster (a running one, or a LocalCluster)."""

    kind = "dask"

    def __init__(self, scheduler: str, workers: int | None):
        from distributed import Client, LocalCluster

        self._cluster = None
        if scheduler == "local":
            # this machine only: the scheduler and its dashboard listen on loopback
            self._cluster = LocalCluster(n_workers=workers or available_cores(),
                                         threads_per_worker=1, processes=True,
                                         host="127.0.0.1", dashboard_address="127.0.0.1:0")
            address = self._cluster
        else:
            address = scheduler
        try:
            self._client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as error:
            self._close_cluster()
            raise InputError(f"--scheduler {scheduler}: cannot connect to a Dask scheduler "
                             f"there ({type(error).__name__})") from None
        self.scheduler = scheduler
        self.workers = max(1, sum(self._client.nthreads().values()))

    def _submit(self, function, batch):
        # pure=False: two equal batches are two tasks, never merged by Dask's key hashing.
        return self._client.submit(function, batch, pure=False)

    def _wait_any(self, pending):
        """Wait for a batch, checking every few seconds that the cluster still has workers."""
        import time

        from distributed import wait as dask_wait

        alone_since = None
        while True:
            try:
                with self._client.as_current():  # wait() looks for a current client
                    done, not_done = dask_wait(list(pending), timeout=2,
                                               return_when="FIRST_COMPLETED")
                return set(done), set(not_done)
            except TimeoutError:
                pass
            try:
                workers = len(self._client.scheduler_info()["workers"])
            except (OSError, TimeoutError):
                workers = 0  # the scheduler itself is gone
            if workers:
                alone_since = None
            elif alone_since is None:
                alone_since = time.monotonic()
            elif time.monotonic() - alone_since > NO_WORKER_TIMEOUT:
                raise InputError(f"--scheduler {self.scheduler}: no Dask worker left for "
                                 f"{NO_WORKER_TIMEOUT:.0f} s; start workers and run again (a "
                                 f"sweep continues where it stopped with --resume)")

    def _cancel(self, pending) -> None:
        if pending:
            self._client.cancel(list(pending))

    def _close_cluster(self) -> None:
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
            self._client = None
        self._close_cluster()


#: Thread counts of the math libraries in pool workers (unless the user set them): with
#: one process per core, library threads would only compete for the same cores. Dask's
#: nanny does the same for its workers.
SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def single_threaded_libraries() -> Iterator[None]:
    """Set :data:`SINGLE_THREADED` in the environment for a moment, where not set."""
    added = {key: value for key, value in SINGLE_THREADED.items() if key not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def check_executor_options(workers: int | None, scheduler: str | None) -> None:
    """Refuse an invalid ``--workers``/``--scheduler`` in one line (nothing is started)."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise InputError(f"--workers: must be a whole number of at least 1, got {workers!r}")
    if scheduler is not None:
        scheduler = scheduler.strip()
        if scheduler != "local" and "://" not in scheduler:
            raise InputError(f"--scheduler: expected 'local' or an address such as "
                             f"tcp://host:8786, got {scheduler!r}")
        if scheduler != "local" and workers is not None:
            raise InputError("--workers: a running Dask cluster sets its own workers; "
                             "give --workers only with --scheduler local")


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor for ``--workers`` and ``--scheduler``.

    Args:
        workers: batches run at the same time. ``1`` runs in this process; more (or None
            for every available core) starts a local process pool. With
            ``scheduler="local"``: the number of Dask worker processes (default: cores).
        scheduler: ``None`` for this machine; ``"local"`` to start a Dask ``LocalCluster``;
            ``"tcp://host:port"`` (or any address Dask accepts) to use a running Dask
            scheduler, whose workers decide the parallelism (then ``workers`` must be None).

    Returns:
        An :class:`Executor`; use it in a ``with`` block.

    Raises:
        InputError: one-line message for an invalid ``workers``/``scheduler`` or a
            scheduler that does not answer within :data:`CONNECT_TIMEOUT` seconds.
    """
    check_executor_options(workers, scheduler)
    if scheduler is not None:
        return DaskExecutor(scheduler.strip(), workers)
    workers = workers or available_cores()
    if workers == 1:
        return InProcessExecutor()
    return LocalPoolExecutor(workers)
