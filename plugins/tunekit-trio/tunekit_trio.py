"""tunekit_trio: the ``trio`` backend: structured concurrency under a limit of ``workers``.

Coroutine functions written for trio (or anyio) run natively in one ``trio.run`` per batch,
each call in a nursery task that holds a ``trio.CapacityLimiter(workers)`` token. Plain
functions run through ``trio.to_thread.run_sync`` under the same limiter, i.e. on at most
``workers`` of trio's cached threads. A coroutine that needs asyncio's loop (``asyncio.sleep``,
aiohttp, ...) cannot run under trio: ``supports`` finds that out by one call under each. A
coroutine written for trio cannot run under asyncio: ``run_loop`` lets the calibration call it
under trio instead, and the backends that run coroutines on asyncio are then skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tunekit.backends import Runner, TaskResult
from tunekit.calls import call_async, call_sync, one_result, setup_slots, with_first
from tunekit.hookspecs import hookimpl

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.target import Call, Target


class TrioBackend:
    """trio: a nursery of tasks bounded by a CapacityLimiter; sync code on trio's threads."""

    name = "trio"
    description = (
        "trio.run with a CapacityLimiter of `workers` (sync functions: trio.to_thread.run_sync)"
    )
    scales = True
    #: A worker is a task in the nursery or a cached thread: cheap, pools may grow fast.
    cheap_workers = True
    #: Plain functions run on threads: for them this is the thread backend plus a loop.
    sync_via = "thread"
    #: Runs a per-worker setup for coroutine functions: one per slot of the limiter.
    worker_setup = True

    def supports(self, target: Target) -> str | None:
        """Plain functions always; a coroutine function unless it runs under asyncio but
        fails under trio (asyncio-only). A call that fails under both proves nothing."""
        if not target.is_coroutine:
            if target.setup is not None:
                return (
                    "trio cannot run a per-worker setup for a plain function: trio.to_thread "
                    "runs each call on any of its cached threads, not on one thread per worker"
                )
            return None
        trio_error = run_batch(target, [target.calls[0]], 1)[0].error
        if trio_error is None:
            return None
        _, asyncio_error = one_result(target)
        if asyncio_error is not None:
            return None
        return (
            "an asyncio-only coroutine: it runs under asyncio but under trio it raised "
            f"{trio_error}"
        )

    def run_loop(self, main: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``main`` to completion under ``trio.run``: the calibration calls a coroutine
        through this when asyncio's loop cannot run it (``trio.sleep`` needs trio's)."""
        import trio

        return trio.run(main)

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[Runner]:
        """Nothing to start but the per-worker setup, one per slot of the limiter: trio's
        threads are cached by the first batch (the warm-up)."""
        with setup_slots(target, workers) as firsts:
            yield lambda calls: run_batch(target, calls, workers, firsts)


def run_batch(
    target: Target, calls: Sequence[Call], workers: int, firsts: list[Any] | None = None
) -> list[TaskResult]:
    """Run ``calls`` in one ``trio.run`` with at most ``workers`` in flight, results in order;
    with ``firsts`` (a setup result per slot) a task holding a slot passes its value first."""
    import trio

    func = target.func
    results: list[TaskResult] = [TaskResult(0.0, "not run")] * len(calls)
    free = list(firsts or [])

    async def with_slot(index: int, call: Call, limiter: trio.CapacityLimiter) -> None:
        async with limiter:  # coroutines only (``supports``): the slot's value stays here
            value = free.pop()
            try:
                results[index] = await call_async(func, with_first(call, value))
            finally:
                free.append(value)

    async def one(index: int, call: Call, limiter: trio.CapacityLimiter) -> None:
        if firsts is not None:
            await with_slot(index, call, limiter)
        elif target.is_coroutine:
            async with limiter:
                results[index] = await call_async(func, call)
        else:  # the thread holds the token while it runs
            results[index] = await trio.to_thread.run_sync(call_sync, func, call, limiter=limiter)

    async def main() -> None:
        limiter = trio.CapacityLimiter(workers)
        async with trio.open_nursery() as nursery:
            for index, call in enumerate(calls):
                nursery.start_soon(one, index, call, limiter)

    trio.run(main)
    return results


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the trio backend."""
    register(TrioBackend())
