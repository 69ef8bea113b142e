"""tunekit_uvloop: the ``uvloop`` backend, tunekit's asyncio backend on uvloop's event loop.

Everything but the loop is the built-in ``asyncio`` backend's: ``workers`` consumer coroutines
share one iterator of calls; plain functions go to a thread pool through ``run_in_executor``.
So the two backends side by side measure what the loop alone changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tunekit.backends import Runner, TaskResult
from tunekit.backends.asyncio_loop import run_consumers
from tunekit.calls import call_async, call_sync, start_all_threads
from tunekit.hookspecs import hookimpl

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.target import Call, Target


class UvloopBackend:
    """uvloop: asyncio's API on libuv, for coroutines that wait on I/O."""

    name = "uvloop"
    description = "one uvloop event loop (sync functions: loop.run_in_executor on threads)"
    scales = True
    #: A worker is a task on the loop or a thread: cheap, so pools may grow in large steps.
    cheap_workers = True
    #: Plain functions run on a thread pool: for them this is the thread backend plus a loop.
    sync_via = "thread"

    def supports(self, target: Target) -> str | None:
        """Whatever asyncio runs: coroutines on the loop, anything else in its executor."""
        return None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[Runner]:
        """Create a uvloop loop (and the executor's threads for sync code), yield a runner."""
        import uvloop

        func = target.func
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            loop = runner.get_loop()
            if target.is_coroutine:

                def await_one(call: Call) -> Awaitable[TaskResult]:
                    return call_async(func, call)

                yield lambda calls: runner.run(run_consumers(calls, workers, await_one))
                return
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tunekit") as pool:
                start_all_threads(pool, workers)

                def submit_one(call: Call) -> Awaitable[TaskResult]:
                    return loop.run_in_executor(pool, call_sync, func, call)

                yield lambda calls: runner.run(run_consumers(calls, workers, submit_one))


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the uvloop backend."""
    register(UvloopBackend())
