"""tunekit_joblib: the ``joblib`` backend: ``Parallel(n_jobs=workers)`` on loky, auto batching.

This is how the scientific stack parallelizes, so beside the built-in ``process`` pool it shows
what joblib's choices cost or gain: loky's worker processes (started fresh, not forked) and
``batch_size="auto"``, which groups calls until a batch takes a fraction of a second. The
workers resolve the target themselves from its spec (cached per process), so only the
arguments and the timings cross the process boundary; results are pickled in the worker, as
sending them back would.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tunekit.backends import TaskResult
from tunekit.calls import blocking_caller, one_result
from tunekit.hookspecs import hookimpl
from tunekit.target import Target, TargetSpec, is_coroutine_callable, resolve_callable

if TYPE_CHECKING:
    from joblib import Parallel

    from tunekit.backends import Backend
    from tunekit.target import Call


class JoblibBackend:
    """joblib: the scientific stack's default pool, with loky processes and auto batching."""

    name = "joblib"
    description = 'joblib.Parallel(n_jobs=workers, backend="loky", batch_size="auto")'
    scales = True
    #: No per-worker setup: loky starts and reuses its processes with no hook run in each.
    worker_setup = False

    def supports(self, target: Target) -> str | None:
        """Arguments and results must pickle: they cross to and from loky's processes."""
        if target.setup is not None:
            return (
                "joblib cannot run a per-worker setup: loky starts and reuses its processes "
                "without a hook in each (measure the process backend instead)"
            )
        try:
            pickle.dumps(target.calls)
        except Exception as exc:
            return f"arguments cannot be pickled ({type(exc).__name__}: {exc})"
        result, error = one_result(target)
        if error is None:
            try:
                pickle.dumps(result)
            except Exception as exc:
                return f"results cannot be pickled ({type(exc).__name__}: {exc})"
        return None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[JoblibBatches]:
        """Start loky's ``workers`` processes (each imports the target), yield a runner; the
        workers are shut down at the end (loky would otherwise keep them for reuse)."""
        from joblib import Parallel

        with Parallel(n_jobs=workers, backend="loky", batch_size="auto") as parallel:
            try:
                start_all_workers(parallel, target.spec.target, workers)
                yield JoblibBatches(parallel, target.spec.target)
            finally:
                executor = getattr(parallel._backend, "_workers", None)
        if executor is not None:
            executor.shutdown(wait=True, kill_workers=True)


class JoblibBatches:
    """Runs a batch through the open ``Parallel``; joblib chooses how to batch the calls."""

    def __init__(self, parallel: Parallel, target: str) -> None:
        self.parallel = parallel
        self.target = target

    def __call__(self, calls: Sequence[Call]) -> list[TaskResult]:
        """One TaskResult per call, in order."""
        from joblib import delayed

        run = delayed(_run_call)
        results: list[TaskResult] = self.parallel(run(self.target, call) for call in calls)
        return results


def start_all_workers(parallel: Parallel, target: str, workers: int) -> None:
    """Make loky start every worker now, each resolving the target, so start-up is not timed."""
    from joblib import delayed

    seen: set[int] = set()
    for _ in range(5):
        seen.update(parallel(delayed(_prepare)(target) for _ in range(workers * 2)))
        if len(seen) >= workers:
            return


# Worker side: these run in loky's processes.

_callers: dict[str, Callable[[Call], TaskResult]] = {}


def worker_caller(target: str) -> Callable[[Call], TaskResult]:
    """The timed caller of ``target``, resolved once per worker process."""
    caller = _callers.get(target)
    if caller is None:
        func = resolve_callable(target)
        resolved = Target(TargetSpec(target), func, is_coroutine_callable(func), calls=[])
        caller = _callers[target] = blocking_caller(resolved, deliver=pickle.dumps)
    return caller


def _prepare(target: str) -> int:
    worker_caller(target)
    time.sleep(0.01)  # keep this worker busy so loky hands the next task to another one
    return os.getpid()


def _run_call(target: str, call: Call) -> TaskResult:
    return worker_caller(target)(call)


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the joblib backend."""
    register(JoblibBackend())
