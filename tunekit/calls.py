"""Timed calls of the target: the only code on the measured path, public for plugin authors.

Every backend, built-in or a plugin's, runs the target through these helpers, so that a task is
timed the same way everywhere: ``call_sync`` for a plain function, ``call_async`` for a
coroutine awaited on a running loop, ``blocking_caller`` for either on a worker thread or
process. Each returns a ``TaskResult``: how long the task occupied its worker, the error it
raised (a call that raised is counted, never timed as throughput), and when it ended.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from tunekit.target import Call, Target

#: Runs an async function of no arguments to completion in a loop of its own and returns its
#: result: ``trio.run``, for coroutines asyncio's loop cannot run.
LoopRunner = Callable[[Callable[[], Awaitable[Any]]], Any]


class TaskResult(NamedTuple):
    """One task: how long it occupied a worker, and the error it raised (None when ok)."""

    latency_s: float
    error: str | None
    #: ``time.perf_counter()`` when the task ended, where it ran (None if not known): lets the
    #: trial measure throughput only while every worker was busy.
    end_s: float | None = None


def describe_error(exc: BaseException) -> str:
    """``TypeName: message`` as shown in reports."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def call_sync(
    func: Callable[..., Any], call: Call, deliver: Callable[[Any], Any] | None = None
) -> TaskResult:
    """Call a plain function once and time it; ``deliver`` (e.g. pickling) is part of the task."""
    args, kwargs = call
    start = perf_counter()
    try:
        result = func(*args, **kwargs)
        if deliver is not None:
            deliver(result)
    except Exception as exc:
        end = perf_counter()
        return TaskResult(end - start, describe_error(exc), end)
    end = perf_counter()
    return TaskResult(end - start, None, end)


def call_in_new_loop(
    func: Callable[..., Awaitable[Any]],
    call: Call,
    deliver: Callable[[Any], Any] | None = None,
    run: LoopRunner | None = None,
) -> TaskResult:
    """Run one call of a coroutine function in its own event loop (for thread/process pools):
    asyncio's, or the one ``run`` starts (``trio.run``)."""
    args, kwargs = call

    async def main() -> Any:
        return await func(*args, **kwargs)

    start = perf_counter()
    try:
        result = asyncio.run(main()) if run is None else run(main)
        if deliver is not None:
            deliver(result)
    except Exception as exc:
        end = perf_counter()
        return TaskResult(end - start, describe_error(exc), end)
    end = perf_counter()
    return TaskResult(end - start, None, end)


async def call_async(func: Callable[..., Awaitable[Any]], call: Call) -> TaskResult:
    """Await one call of a coroutine function on the running loop and time it."""
    args, kwargs = call
    start = perf_counter()
    try:
        await func(*args, **kwargs)
    except Exception as exc:
        end = perf_counter()
        return TaskResult(end - start, describe_error(exc), end)
    end = perf_counter()
    return TaskResult(end - start, None, end)


def blocking_caller(
    target: Target, deliver: Callable[[Any], Any] | None = None, run: LoopRunner | None = None
) -> Callable[[Call], TaskResult]:
    """A function that runs one call of ``target`` to completion on the calling thread; a
    coroutine in a new asyncio loop, or in the loop ``run`` starts."""
    func = target.func
    if target.is_coroutine:
        return lambda call: call_in_new_loop(func, call, deliver, run)
    return lambda call: call_sync(func, call, deliver)


def start_all_threads(pool: ThreadPoolExecutor, workers: int) -> None:
    """Make the pool create every thread now (it creates them lazily) so start-up is not timed."""
    barrier = threading.Barrier(workers)
    for future in [pool.submit(barrier.wait) for _ in range(workers)]:
        future.result()


def one_result(target: Target) -> tuple[Any, str | None]:
    """A result of the target and the error its call raised (``(None, error)``): the first
    call's, kept by the calibration, or one call made now. For ``supports()`` checks that need
    a real result, without costing a long call twice."""
    from tunekit.target import NOT_CALLED

    if target.first_result is not NOT_CALLED:
        return target.first_result, None
    kept: list[Any] = []
    outcome = blocking_caller(target, deliver=kept.append)(target.calls[0])
    return (kept[0] if kept else None), outcome.error
