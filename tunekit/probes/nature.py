"""What one task does with its time: CPU share, thread parallelism, awaiting, dispatch costs.

The numbers behind ``workload.kind`` (see ``tunekit.advice.classify``), measured in a process of
their own so that no profiler and no other trial disturbs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from time import perf_counter
from typing import TYPE_CHECKING, Any

from tunekit.calls import blocking_caller, start_all_threads
from tunekit.hookspecs import hookimpl
from tunekit.probes import ProbeContext, calls_for

if TYPE_CHECKING:
    from tunekit.probes import Probe
    from tunekit.target import Call, Target

#: No-op tasks per backend when measuring dispatch cost (process pools are slower per task).
DISPATCH_TASKS = {"thread": 2000, "asyncio": 2000, "process": 300}
#: How long the spin loop runs that measures the share of a core this process gets.
SPIN_S = 0.03
#: Coroutines started together to see whether they overlap.
OVERLAP_TASKS = 8
#: Times the overlap is measured at most, when the probe's time allows (the quickest kept).
OVERLAP_REPEATS = 3


def _noop(_: object = None) -> None:
    return None


class NatureProbe:
    """CPU/wall of a call, cores kept busy by 2 threads, await overlap, dispatch costs."""

    name = "nature"
    description = "CPU share, 2-thread parallelism, await overlap, per-backend dispatch cost"
    #: Its shortest run, in call times: a warm-up, two sequential calls, two on two threads.
    min_calls = 4

    def supports(self, target: Target) -> str | None:
        """Every target can be measured."""
        return None

    def run(self, target: Target, context: ProbeContext) -> dict[str, Any]:
        """Measure; the results go to ``workload``."""
        n = max(2, calls_for(context, 0.3))
        calls = [target.calls[i % len(target.calls)] for i in range(n)]
        caller = blocking_caller(target)
        caller(calls[0])  # warm-up
        share_before = core_share()
        cpu0, wall0 = time.process_time(), perf_counter()
        for call in calls:
            caller(call)
        wall = perf_counter() - wall0
        cpu = time.process_time() - cpu0
        share = (share_before + core_share()) / 2
        workload: dict[str, Any] = {
            # On a busy machine a computing call gets only part of a core: divide by the part
            # a pure spin loop got just before and after, so busy != waiting.
            "cpu_fraction": min(1.0, cpu / wall / share) if wall and share else 0.0,
            "core_share": share,
            "thread_parallelism": thread_parallelism(caller, calls),
            "await_overlap": (
                await_overlap(target, context.time_s * 0.3) if target.is_coroutine else None
            ),
            "dispatch_s": dispatch_costs(),
        }
        return {"workload": workload}


def core_share(seconds: float = SPIN_S) -> float:
    """CPU time / wall time of a pure spin loop: the share of a core this process gets now."""
    cpu0, wall0 = time.process_time(), perf_counter()
    while perf_counter() - wall0 < seconds:
        pass
    wall = perf_counter() - wall0
    return (time.process_time() - cpu0) / wall


def thread_parallelism(caller: Callable[[Call], Any], calls: list[Call]) -> float:
    """Sum of the threads' CPU time over wall time, running ``calls`` on 2 threads.

    Each thread runs its half of the calls in a loop, so that no per-call hand-off to a pool
    (tens of microseconds) is timed with them: on a call of a microsecond that hand-off would
    be nearly all of what is measured, and 100 000 of them take seconds."""

    def cpu_of(share: list[Call]) -> float:
        start = time.thread_time()
        for call in share:
            caller(call)
        return time.thread_time() - start

    with ThreadPoolExecutor(max_workers=2) as pool:
        start_all_threads(pool, 2)
        wall0 = perf_counter()
        cpu = sum(pool.map(cpu_of, [calls[0::2], calls[1::2]]))
        wall = perf_counter() - wall0
    return cpu / wall if wall else 0.0


def await_overlap(target: Target, time_s: float = 0.0) -> float:
    """How many of ``OVERLAP_TASKS`` coroutines were in progress at once when started together:
    their time awaited one after another over their time gathered, both on one running loop.

    Both are timed in turn up to ``OVERLAP_REPEATS`` times while that fits in ``time_s``, and
    the quickest of each is kept (as ``timeit`` does): a busy spell of the machine only ever
    lengthens a run, and one that fell on the runs one after another made a coroutine that
    never awaits look 2.9x overlapped."""
    func = target.func
    calls = [target.calls[i % len(target.calls)] for i in range(OVERLAP_TASKS)]

    async def one_by_one() -> float:
        start = perf_counter()
        for args, kwargs in calls:
            with contextlib.suppress(Exception):
                await func(*args, **kwargs)
        return perf_counter() - start

    async def together() -> float:
        start = perf_counter()
        await asyncio.gather(*(func(*a, **k) for a, k in calls), return_exceptions=True)
        return perf_counter() - start

    spent = perf_counter()
    alone, gathered = asyncio.run(one_by_one()), asyncio.run(together())
    pair_s = perf_counter() - spent
    for _ in range(min(OVERLAP_REPEATS - 1, int(time_s / pair_s) - 1 if pair_s else 0)):
        alone = min(alone, asyncio.run(one_by_one()))
        gathered = min(gathered, asyncio.run(together()))
    return alone / gathered if gathered else 0.0


def dispatch_costs() -> dict[str, float]:
    """Seconds per no-op task for a thread pool, asyncio and a process pool (2 workers each)."""
    costs: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=2) as threads:
        start_all_threads(threads, 2)
        costs["thread"] = _per_task(lambda n: list(threads.map(_noop, range(n))), "thread")

    async def gather(n: int) -> None:
        await asyncio.gather(*(asyncio.sleep(0) for _ in range(n)))

    costs["asyncio"] = _per_task(lambda n: asyncio.run(gather(n)), "asyncio")
    with ProcessPoolExecutor(max_workers=2) as processes:
        list(processes.map(_noop, range(4)))  # start the children
        costs["process"] = _per_task(lambda n: list(processes.map(_noop, range(n))), "process")
    return costs


def _per_task(run: Callable[[int], Any], backend: str) -> float:
    n = DISPATCH_TASKS[backend]
    start = perf_counter()
    run(n)
    return (perf_counter() - start) / n


@hookimpl
def tunekit_register_probes(register: Callable[[Probe], None]) -> None:
    """Register the nature probe."""
    register(NatureProbe())
