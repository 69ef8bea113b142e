"""tunekit_example: multiprocessing.pool.ThreadPool as the tunekit backend ``mpthreads``.

The shortest complete backend plugin; copy it to start your own (see plugins/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import ThreadPool
from time import perf_counter

from tunekit.backends import Backend, Runner, TaskResult
from tunekit.hookspecs import hookimpl
from tunekit.target import Call, Target


class MpThreadPoolBackend:
    name = "mpthreads"  # unique among all installed backends
    description = "multiprocessing.pool.ThreadPool"
    scales = True  # False: only workers=1 is tried

    def supports(self, target: Target) -> str | None:
        """None if this backend can run the target, else the reason (the trial is skipped)."""
        return "coroutine functions are not supported" if target.is_coroutine else None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[Runner]:
        """Start the pool (not timed), then yield a runner for batches of calls."""
        func = target.func

        def timed(call: Call) -> TaskResult:  # runs on the worker: latency is measured there
            args, kwargs = call
            start = perf_counter()
            try:
                func(*args, **kwargs)
            except Exception as exc:
                return TaskResult(perf_counter() - start, f"{type(exc).__name__}: {exc}")
            return TaskResult(perf_counter() - start, None)

        with ThreadPool(workers) as pool:  # starts all its threads here
            yield lambda calls: pool.map(timed, calls)  # one TaskResult per call, in order


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    register(MpThreadPoolBackend())
