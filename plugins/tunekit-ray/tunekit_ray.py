"""tunekit_ray: the ``ray`` backend: tasks as Ray remote functions.

By default every trial starts a local Ray instance (``ray.init()``) with ``workers`` CPUs, so
Ray runs at most ``workers`` tasks at once; with ``TUNEKIT_RAY_ADDRESS`` (the ``tunekit
analyze`` option ``--ray-address`` sets it) it connects to a running cluster instead and keeps
at most ``workers`` tasks in flight there. ``startup_s`` covers ``ray.init`` and importing the
target once in the workers; the instance a trial started is shut down when it ends.

A Ray task costs about a millisecond of scheduling, so once the call time is known each task
runs a chunk of calls (as the dask plugin does). Latency is measured in the worker and includes
pickling the result.
"""

from __future__ import annotations

import math
import os
import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from statistics import fmean
from typing import TYPE_CHECKING, Any

from tunekit.backends import TaskResult
from tunekit.calls import blocking_caller, one_result
from tunekit.hookspecs import hookimpl
from tunekit.plugin_options import PluginOption
from tunekit.target import Target, TargetSpec, is_coroutine_callable, resolve_callable

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.target import Call

#: Address of a running Ray cluster (``ray://host:10001`` or ``host:6379``); unset: local.
ADDRESS_ENV = "TUNEKIT_RAY_ADDRESS"
#: ray.init of a local instance took 3.9 s on this 2-core machine under load (the issue saw
#: 5-15 s): a first trial is planned with this much start-up before Ray's own is measured.
STARTUP_ESTIMATE_S = 8.0
#: The local instance's object store: Ray's minimum is 75 MiB, and results here are small.
OBJECT_STORE_BYTES = 80 * 2**20
#: Work per Ray task once the call time is known: ~1 ms of scheduling is then ~2% of it...
CHUNK_TARGET_S = 0.05
#: ...but at least this many chunks per worker, so no worker idles at the end of a batch.
MIN_CHUNKS_PER_WORKER = 4


def ray_address(environ: Mapping[str, str] = os.environ) -> str | None:
    """The cluster to connect to, or None for a local instance."""
    return environ.get(ADDRESS_ENV, "").strip() or None


class RayBackend:
    """Ray: a distributed engine; on one machine, what its scheduling and workers cost."""

    name = "ray"
    #: Its workers may run on other machines: the advice on outgrowing one machine names it.
    distributed = True
    scales = True
    #: No per-worker setup: the workers are not started or stopped by the trial.
    worker_setup = False
    startup_estimate_s = STARTUP_ESTIMATE_S

    def __init__(self) -> None:
        address = ray_address()
        self.description = (
            f"Ray remote functions on the cluster at {address}, `workers` in flight"
            if address
            else "Ray remote functions on a local ray.init(num_cpus=workers) (started per "
            "trial, counted in start-up)"
        )

    def supports(self, target: Target) -> str | None:
        """Arguments and results must pickle (with Ray's cloudpickle) to reach the workers."""
        from ray import cloudpickle

        if target.setup is not None:
            return (
                "ray cannot run a per-worker setup: its remote functions run in worker "
                "processes that tunekit neither starts nor stops"
            )
        try:
            cloudpickle.dumps(target.calls)
        except Exception as exc:
            return f"arguments cannot be pickled ({type(exc).__name__}: {exc})"
        result, error = one_result(target)
        if error is None:
            try:
                cloudpickle.dumps(result)
            except Exception as exc:
                return f"results cannot be pickled ({type(exc).__name__}: {exc})"
        return None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[RayBatches]:
        """Start (or connect to) Ray, import the target in the workers, yield a runner; Ray is
        shut down when the session ends, also on error."""
        import ray

        address = ray_address()
        options: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False}
        if address is None:
            options |= {"num_cpus": workers, "object_store_memory": OBJECT_STORE_BYTES}
        ray.init(address=address, **options)
        try:
            remote = ray.remote(num_cpus=1)(_run_chunk)
            spec = target.spec.target
            ray.get([remote.remote(spec, []) for _ in range(workers)])
            yield RayBatches(remote, spec, workers)
        finally:
            ray.shutdown()


class RayBatches:
    """Runs batches as Ray tasks of ``chunksize`` calls, at most ``workers`` in flight."""

    def __init__(self, remote: Any, target: str, workers: int) -> None:
        self.remote = remote
        self.target = target
        self.workers = workers
        self.chunksize = 1
        self._task_s: float | None = None

    def __call__(self, calls: Sequence[Call]) -> list[TaskResult]:
        """Run ``calls`` on Ray; one TaskResult per call, in order."""
        import ray

        size = self.chunksize = choose_chunksize(len(calls), self._task_s, self.workers)
        chunks = [list(calls[i : i + size]) for i in range(0, len(calls), size)]
        refs: list[Any] = []
        pending: list[Any] = []
        for chunk in chunks:
            if len(pending) >= self.workers:
                _, pending = ray.wait(pending, num_returns=1)
            ref = self.remote.remote(self.target, chunk)
            refs.append(ref)
            pending.append(ref)
        results = [result for chunk in ray.get(refs) for result in chunk]
        self._task_s = fmean(r.latency_s for r in results) if results else self._task_s
        return results


def choose_chunksize(n_calls: int, task_s: float | None, workers: int) -> int:
    """Calls per Ray task: 1 until the call time is known, then enough to amortize scheduling."""
    if task_s is None or n_calls == 0:
        return 1
    by_time = math.ceil(CHUNK_TARGET_S / max(task_s, 1e-9))
    by_balance = max(1, n_calls // (workers * MIN_CHUNKS_PER_WORKER))
    return max(1, min(by_time, by_balance))


# Worker side: this runs in Ray's worker processes.

_callers: dict[str, Callable[[Call], TaskResult]] = {}


def _run_chunk(target: str, calls: list[Call]) -> list[TaskResult]:
    caller = _callers.get(target)
    if caller is None:
        func = resolve_callable(target)
        resolved = Target(TargetSpec(target), func, is_coroutine_callable(func), calls=[])
        caller = _callers[target] = blocking_caller(resolved, deliver=pickle.dumps)
    return [caller(call) for call in calls]


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the Ray backend."""
    register(RayBackend())


@hookimpl
def tunekit_analyze_options(register: Callable[[PluginOption], None]) -> None:
    """``--ray-address``, which sets ``TUNEKIT_RAY_ADDRESS`` for the trials."""
    register(
        PluginOption(
            "--ray-address",
            ADDRESS_ENV,
            "Run the ray trials on the Ray cluster at this address (default: a local "
            "ray.init() per trial).",
            metavar="ADDRESS",
        )
    )
