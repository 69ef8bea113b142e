"""One asyncio event loop: coroutines run natively, plain functions in ``run_in_executor``.

Concurrency is bounded by ``workers`` consumer coroutines that pull calls from one shared
iterator, which costs less than one Task per call behind a semaphore. The helpers here are
reused by the other event-loop backends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from tunekit.backends import Runner, TaskResult
from tunekit.calls import (
    blocking_caller,
    call_async,
    per_thread_setup,
    setup_slots,
    with_first,
)
from tunekit.hookspecs import hookimpl
from tunekit.snippets import SnippetRequest

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.target import Call, Target

#: Placeholder for a result not in yet; every slot is overwritten before the consumers finish.
_PENDING = TaskResult(0.0, "not run")


def make_consumers(
    calls: Sequence[Call],
    workers: int,
    one: Callable[[Call], Awaitable[TaskResult]],
    firsts: Sequence[Any] | None = None,
) -> tuple[list[TaskResult], list[Coroutine[Any, Any, None]]]:
    """``workers`` coroutines sharing one iterator over ``calls``, each awaiting ``one(call)``;
    with ``firsts`` (one setup result per consumer, ``calls.setup_slots``) consumer ``i``
    passes ``firsts[i]`` as each call's first argument.

    Returns the result list (filled in call order as the consumers run) and the consumers,
    which the caller runs with its framework's gather.
    """
    results = [_PENDING] * len(calls)
    pending = iter(enumerate(calls))

    async def consume() -> None:
        for index, call in pending:
            results[index] = await one(call)

    async def consume_with(first: Any) -> None:
        for index, call in pending:
            results[index] = await one(with_first(call, first))

    slots = range(min(workers, len(calls)))
    if firsts is None:
        return results, [consume() for _ in slots]
    return results, [consume_with(firsts[slot]) for slot in slots]


async def run_consumers(
    calls: Sequence[Call],
    workers: int,
    one: Callable[[Call], Awaitable[TaskResult]],
    firsts: Sequence[Any] | None = None,
) -> list[TaskResult]:
    """Run ``calls`` with at most ``workers`` in flight on the running asyncio loop."""
    results, consumers = make_consumers(calls, workers, one, firsts)
    await asyncio.gather(*consumers)
    return results


class AsyncioBackend:
    """asyncio: cheap concurrency for coroutines that wait on I/O; sync code goes to threads."""

    name = "asyncio"
    description = "one asyncio event loop (sync functions: loop.run_in_executor on threads)"
    scales = True
    #: A worker is a thread or a task on the loop: cheap, so pools may grow in large steps.
    cheap_workers = True
    #: Plain functions run on a thread pool: for them this is the thread backend plus a loop.
    sync_via = "thread"
    #: Runs a per-worker setup: one per consumer on the loop, one per executor thread.
    worker_setup = True

    def supports(self, target: Target) -> str | None:
        """Coroutines run on the loop, anything else in its executor."""
        return None

    def session(self, target: Target, workers: int) -> AbstractContextManager[Runner]:
        """Create the loop (and the executor's threads for sync code), then yield a runner."""
        return loop_session(target, workers)


@contextmanager
def loop_session(
    target: Target,
    workers: int,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> Iterator[Runner]:
    """A runner of calls on one asyncio loop (``loop_factory``'s, e.g. uvloop's, or the
    default): coroutines as at most ``workers`` tasks on it, anything else on ``workers``
    threads of its executor. Plugins of other asyncio loops share it. A per-worker setup is
    opened once per consumer (coroutines) or per executor thread (anything else)."""
    func = target.func
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        loop = runner.get_loop()
        if target.is_coroutine:

            def await_one(call: Call) -> Awaitable[TaskResult]:
                return call_async(func, call)

            with setup_slots(target, workers) as firsts:
                yield lambda calls: runner.run(run_consumers(calls, workers, await_one, firsts))
            return
        with (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tunekit") as pool,
            per_thread_setup(target, pool.submit, workers) as first,
        ):
            call = blocking_caller(target, first=first)

            def submit_one(call_args: Call) -> Awaitable[TaskResult]:
                return loop.run_in_executor(pool, call, call_args)

            yield lambda calls: runner.run(run_consumers(calls, workers, submit_one))


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the asyncio backend."""
    register(AsyncioBackend())


@hookimpl
def tunekit_snippet(request: SnippetRequest) -> str | None:
    """An ``asyncio.Semaphore``-bounded ``gather`` (plain functions: a bounded executor)."""
    if request.model != "asyncio":
        return None
    func, workers = request.function, request.workers
    if request.is_coroutine:
        return f"""import asyncio

{request.import_lines()}


async def gather_all(tasks, limit={workers}):
    \"\"\"Await {func} once per task (a tuple of arguments), at most ``limit`` at a time.\"\"\"
    semaphore = asyncio.Semaphore(limit)

    async def one(args):
        async with semaphore:
            return await {func}(*args)

    return await asyncio.gather(*(one(args) for args in tasks))


def run_all(tasks):
    return asyncio.run(gather_all(tasks))
"""
    return f"""import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor

{request.import_lines()}


async def gather_all(tasks, limit={workers}):
    \"\"\"Run {func} once per task (a tuple of arguments) on ``limit`` threads.\"\"\"
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=limit) as pool:
        calls = [loop.run_in_executor(pool, functools.partial({func}, *args)) for args in tasks]
        return await asyncio.gather(*calls)


def run_all(tasks):
    return asyncio.run(gather_all(tasks))
"""
