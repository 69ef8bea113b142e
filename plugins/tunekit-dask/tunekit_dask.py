"""tunekit_dask: the ``dask`` backend, which runs the tasks on a dask.distributed cluster.

By default every trial starts its own ``LocalCluster`` on 127.0.0.1: ``workers`` worker
processes, each under a nanny as ``dask worker`` runs them, with ``TUNEKIT_DASK_THREADS``
threads each (default 1). With ``TUNEKIT_DASK_SCHEDULER=tcp://host:port`` it connects to a
cluster that is already running and uses ``workers`` of that cluster's workers. Trial processes
inherit both variables, which is how a setting reaches them; the ``tunekit analyze`` options
``--dask-scheduler`` and ``--dask-threads`` that this plugin adds set them.

``startup_s`` covers starting the cluster (or connecting to it) and importing the target once in
every worker. The workers resolve the target themselves from its spec, so only the per-task
arguments and the timings cross the network. Latency is measured on the worker and includes
pickling the result, which is what sending it back costs.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from statistics import fmean
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tunekit.backends import TaskResult
from tunekit.calls import blocking_caller, one_result
from tunekit.hookspecs import hookimpl
from tunekit.plugin_options import PluginOption
from tunekit.snippets import SnippetRequest
from tunekit.target import Target, TargetSpec, is_coroutine_callable, resolve_callable

if TYPE_CHECKING:
    from distributed import Client

    from tunekit.backends import Backend
    from tunekit.target import Call

#: Address of an existing scheduler, e.g. ``tcp://10.0.0.5:8786``; unset: a LocalCluster.
SCHEDULER_ENV = "TUNEKIT_DASK_SCHEDULER"
#: Threads per worker process of the LocalCluster (an existing cluster has its own).
THREADS_ENV = "TUNEKIT_DASK_THREADS"
#: Seconds to wait for an existing scheduler to answer.
CONNECT_TIMEOUT_S = 10.0
#: Work per Dask task: a round trip through the scheduler costs about 1-3 ms, so each task runs
#: a chunk of calls worth this much time (once the call time is known)...
CHUNK_TARGET_S = 0.05
#: ...but at least this many chunks per worker thread, so no thread idles at the end of a batch.
MIN_CHUNKS_PER_THREAD = 4


#: A LocalCluster of 1 and 2 spawned workers started in 1.4-3.1 s (its trial child in 2.9-4.1 s)
#: on this 2-core machine at load averages of 7-11: a first trial is planned (and timed out)
#: with twice the slowest before its own start-up is measured, else its timeout of 4x the calls
#: stops the cluster starting.
STARTUP_ESTIMATE_S = 6.0


class DaskClusterTooSmall(RuntimeError):
    """An existing cluster has fewer workers than the trial asks for."""


@dataclass(frozen=True)
class DaskSettings:
    """Where the tasks run: an existing scheduler, or (``scheduler`` None) a LocalCluster."""

    scheduler: str | None
    threads_per_worker: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> DaskSettings:
        """Read ``TUNEKIT_DASK_SCHEDULER`` and ``TUNEKIT_DASK_THREADS``; ValueError if invalid."""
        scheduler = environ.get(SCHEDULER_ENV, "").strip() or None
        raw = environ.get(THREADS_ENV, "").strip() or "1"
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{THREADS_ENV} must be a whole number of at least 1, not {raw!r}")
        return cls(scheduler, int(raw))

    def describe(self) -> str:
        """One line for ``tunekit plugins``."""
        if self.scheduler is not None:
            return f"dask.distributed: `workers` of the workers of the cluster at {self.scheduler}"
        threads = self.threads_per_worker
        return (
            f"dask.distributed LocalCluster on 127.0.0.1: `workers` processes x {threads} "
            f"thread{'s' if threads > 1 else ''} (started per trial, counted in start-up)"
        )


class DaskBackend:
    """Dask: what one machine's cores reach through a scheduler, or what a cluster reaches."""

    name = "dask"
    #: Its workers may run on other machines: the advice on outgrowing one machine names it.
    distributed = True
    startup_estimate_s = STARTUP_ESTIMATE_S
    scales = True
    #: No per-worker setup: the workers are not started or stopped by the trial.
    worker_setup = False

    def __init__(self) -> None:
        try:
            self.description = DaskSettings.from_env().describe()
        except ValueError as exc:
            self.description = f"dask.distributed (misconfigured: {exc})"

    def supports(self, target: Target) -> str | None:
        """The settings must be valid, the scheduler reachable, arguments and results picklable.

        The result is checked on one real call (a failing call proves nothing, so it passes).
        """
        from distributed.protocol.pickle import dumps

        if target.setup is not None:
            return (
                "dask cannot run a per-worker setup: its workers may run on other machines and "
                "live past the trial, so tunekit cannot open and close one in each"
            )
        try:
            settings = DaskSettings.from_env()
        except ValueError as exc:
            return str(exc)
        try:
            dumps(target.calls)
        except Exception as exc:
            return f"arguments cannot be pickled ({type(exc).__name__}: {exc})"
        result, error = one_result(target)
        if error is None:
            try:
                dumps(result)
            except Exception as exc:
                return f"results cannot be pickled ({type(exc).__name__}: {exc})"
        return unreachable(settings.scheduler) if settings.scheduler else None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[DaskBatches]:
        """Start (or connect to) the cluster, import the target in each worker, yield a runner.

        Everything started here is closed when the session ends, also on error.
        """
        from distributed import Client, LocalCluster

        settings = DaskSettings.from_env()
        with ExitStack() as stack:
            if settings.scheduler is None:
                scratch = stack.enter_context(
                    tempfile.TemporaryDirectory(prefix="tunekit-dask-", ignore_cleanup_errors=True)
                )
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=workers,
                        threads_per_worker=settings.threads_per_worker,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                        local_directory=scratch,
                    )
                )
                client = stack.enter_context(Client(cluster, set_as_default=False))
                client.wait_for_workers(workers)
                where = "the LocalCluster"
            else:
                client = stack.enter_context(
                    Client(settings.scheduler, set_as_default=False, timeout=CONNECT_TIMEOUT_S)
                )
                where = f"the Dask cluster at {settings.scheduler}"
            nthreads: dict[str, int] = client.nthreads()
            chosen = choose_workers(nthreads, workers, where)
            restrict = chosen if len(chosen) < len(nthreads) else None
            client.gather(
                [
                    client.submit(_prepare, target.spec.target, workers=[address], pure=False)
                    for address in chosen
                ]
            )
            yield DaskBatches(
                client, target.spec.target, restrict, sum(nthreads[a] for a in chosen)
            )


class DaskBatches:
    """Runs batches as Dask tasks of ``chunksize`` calls each, chosen from the call time."""

    def __init__(
        self, client: Client, target: str, restrict: list[str] | None, threads: int
    ) -> None:
        self.client = client
        self.target = target
        self.restrict = restrict
        self.threads = threads
        self.chunksize = 1
        self._task_s: float | None = None

    def __call__(self, calls: Sequence[Call]) -> list[TaskResult]:
        """Run ``calls`` on the cluster; one TaskResult per call, in order."""
        size = self.chunksize = choose_chunksize(len(calls), self._task_s, self.threads)
        chunks = [list(calls[i : i + size]) for i in range(0, len(calls), size)]
        placement: dict[str, Any] = {}
        if self.restrict is not None:
            placement = {"workers": self.restrict, "allow_other_workers": False}
        futures = self.client.map(partial(_run_chunk, self.target), chunks, pure=False, **placement)
        results = [result for chunk in self.client.gather(futures) for result in chunk]
        self._task_s = fmean(r.latency_s for r in results) if results else self._task_s
        return results


def choose_workers(nthreads: Mapping[str, int], workers: int, where: str) -> list[str]:
    """The addresses of ``workers`` of the cluster's workers; an error if it has fewer."""
    if len(nthreads) < workers:
        raise DaskClusterTooSmall(
            f"{where} has {len(nthreads)} workers, fewer than the {workers} this trial asks "
            f"for (tunekit does not resize an existing cluster: use --max-workers "
            f"{max(len(nthreads), 1)})"
        )
    return sorted(nthreads)[:workers]


def choose_chunksize(n_calls: int, task_s: float | None, threads: int) -> int:
    """Calls per Dask task: 1 until the call time is known, then enough to amortize scheduling."""
    if task_s is None or n_calls == 0:
        return 1
    by_time = math.ceil(CHUNK_TARGET_S / max(task_s, 1e-9))
    by_balance = max(1, n_calls // (threads * MIN_CHUNKS_PER_THREAD))
    return max(1, min(by_time, by_balance))


def unreachable(address: str) -> str | None:
    """Why the scheduler at ``address`` cannot be reached, or None (only tcp:// is checked)."""
    parts = urlsplit(address)
    if parts.scheme != "tcp":
        return None
    try:
        port = parts.port
        if parts.hostname is None or port is None:
            raise ValueError("expected tcp://host:port")
        socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT_S).close()
    except (OSError, ValueError) as exc:
        return f"cannot reach the Dask scheduler at {address} ({SCHEDULER_ENV}): {exc}"
    return None


# Worker side: these run in the Dask worker processes.

_callers: dict[str, Callable[[Call], TaskResult]] = {}
_callers_lock = threading.Lock()


def worker_caller(target: str) -> Callable[[Call], TaskResult]:
    """The timed caller of ``target``, resolved once per worker process and then cached."""
    with _callers_lock:
        caller = _callers.get(target)
        if caller is None:
            from distributed.protocol.pickle import dumps

            func = resolve_callable(target)
            resolved = Target(TargetSpec(target), func, is_coroutine_callable(func), calls=[])
            caller = _callers[target] = blocking_caller(resolved, deliver=dumps)
    return caller


def _prepare(target: str) -> None:
    worker_caller(target)


def _run_chunk(target: str, calls: list[Call]) -> list[TaskResult]:
    caller = worker_caller(target)
    return [caller(call) for call in calls]


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the Dask backend."""
    register(DaskBackend())


@hookimpl
def tunekit_analyze_options(register: Callable[[PluginOption], None]) -> None:
    """``--dask-scheduler`` and ``--dask-threads``, which set the two variables for the trials."""
    register(
        PluginOption(
            "--dask-scheduler",
            SCHEDULER_ENV,
            "Run the dask trials on the cluster of this scheduler (default: a LocalCluster "
            "per trial).",
            metavar="tcp://HOST:PORT",
        )
    )
    register(
        PluginOption(
            "--dask-threads",
            THREADS_ENV,
            "Threads per worker process of the dask LocalCluster (default 1).",
            metavar="N",
        )
    )


@hookimpl
def tunekit_snippet(request: SnippetRequest) -> str | None:
    """A dask.distributed ``LocalCluster`` of the recommended size (or the cluster the analysis
    used), the tasks mapped over it in chunks as the trials ran them."""
    if request.model != "dask":
        return None
    settings = DaskSettings.from_env()
    func, workers = request.function, request.workers
    call = f"asyncio.run({func}(*args))" if request.is_coroutine else f"{func}(*args)"
    head = "import asyncio\n" if request.is_coroutine else ""
    if settings.scheduler is not None:
        connect = f'Client("{settings.scheduler}") as client'
        where = f"the cluster at {settings.scheduler}"
    else:
        connect = (
            f"LocalCluster(n_workers={workers}, threads_per_worker="
            f"{settings.threads_per_worker}) as cluster, Client(cluster) as client"
        )
        where = f"{workers} local worker process{'es' if workers != 1 else ''}"
    return f"""{head}from dask.distributed import Client, LocalCluster

{request.import_lines()}


def call_chunk(chunk):
    return [{call} for args in chunk]


def run_all(tasks, chunksize=100):
    \"\"\"Call {func} once per task (a tuple of arguments) on {where},
    ``chunksize`` tasks per Dask task (a scheduler round trip costs a millisecond or more).\"\"\"
    tasks = list(tasks)
    chunks = [tasks[i : i + chunksize] for i in range(0, len(tasks), chunksize)]
    with {connect}:
        done = client.gather(client.map(call_chunk, chunks, pure=False))
    return [result for chunk in done for result in chunk]
"""
