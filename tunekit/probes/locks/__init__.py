"""Lock contention profile: where the user's code makes locks and other primitives, where it
takes them, and how they are taken, held and waited for.

``_thread.lock`` cannot be subclassed, so ``prepare()`` (run before the target is imported)
replaces the factories instead: ``threading.Lock`` and ``threading.RLock`` return small
wrappers. The other primitives are replaced by subclasses of the real classes, which count
what their waits mean (``threading`` Semaphore, BoundedSemaphore, Condition, Event, Barrier;
``queue`` Queue, LifoQueue, PriorityQueue; ``asyncio`` Lock, Semaphore, BoundedSemaphore,
Condition, Event, Queue; ``multiprocessing`` Lock, RLock, Semaphore, BoundedSemaphore, whose
counts are in shared memory, totals of every process); their internal conditions are built of
raw primitives, so they are not counted twice. ``threading._allocate_lock`` is left alone on
purpose: it makes the one-shot waiter lock of every ``Condition.wait``, a signal rather than a
lock.

Each lock counts acquisitions, contended ones (a non-blocking try failed first), the wait for
those, and its holds: wall time always, thread CPU time on one hold in ``CPU_SAMPLE_EVERY``
(``time.thread_time`` is a system call here, ~0.45 us; sampling keeps the wrapper near the
~0.65 us of DESIGN.md); and the same per acquisition line (the first frame outside the
primitives and this package: the critical section). Counters live in the lock and change only
while it is held, so they need no lock of their own; at the end they are summed by creation
site (the first frame outside ``threading``, ``asyncio.locks`` and this package). Sites in the
user's code are reported; those of the standard library, site-packages and tunekit are
summarized apart. ``context.workers`` (the recommended pool, on a re-run) sets the callers;
with ``context.model == "process"`` they are forked processes (``runs.run_processes``).

The instrumentation's cost is measured, not guessed: an uncontended ``with lock:`` on a raw
and on an instrumented lock, lock creation, and one use of each other primitive, timed in this
process after the run; times the counts of the run, that is the estimated overhead (reported,
and taken out of the CPU time and of the hold times that the advice uses).

One concern per module: ``counting`` (what a lock counts, and a site's totals), ``frames``
(acquisition lines), ``wrappers`` and ``async_lock`` (the counting locks), ``semaphores``,
``conditions`` (conditions, events, barriers), ``queues``, ``async_primitives``, ``mp_locks``
and ``tally`` (the other primitives), ``registry`` (creation sites and the replacement factories),
``origin`` (whose code a file is), ``runs`` (the concurrent run) and ``overhead`` (the probe's
own cost); the probe itself is here.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tunekit.hookspecs import hookimpl
from tunekit.probes import ProbeContext
from tunekit.probes.locks.async_lock import InstrumentedAsyncLock
from tunekit.probes.locks.async_primitives import (
    InstrumentedAsyncBoundedSemaphore,
    InstrumentedAsyncCondition,
    InstrumentedAsyncEvent,
    InstrumentedAsyncLifoQueue,
    InstrumentedAsyncPriorityQueue,
    InstrumentedAsyncQueue,
    InstrumentedAsyncSemaphore,
)
from tunekit.probes.locks.conditions import (
    InstrumentedBarrier,
    InstrumentedCondition,
    InstrumentedEvent,
)
from tunekit.probes.locks.counting import CPU_SAMPLE_EVERY, Counts, Site
from tunekit.probes.locks.mp_locks import instrument_multiprocessing
from tunekit.probes.locks.origin import origin_of
from tunekit.probes.locks.overhead import correct_holds, estimate_overhead, measure_overhead
from tunekit.probes.locks.queues import (
    InstrumentedLifoQueue,
    InstrumentedPriorityQueue,
    InstrumentedQueue,
)
from tunekit.probes.locks.registry import REGISTRY, CountingLock, Registry, new_rlock
from tunekit.probes.locks.runs import (
    IN_FLIGHT,
    MAX_THREADS,
    MIN_THREADS,
    THREADS_PER_CPU,
    run_coroutines,
    run_processes,
    run_threads,
)
from tunekit.probes.locks.semaphores import InstrumentedBoundedSemaphore, InstrumentedSemaphore
from tunekit.probes.locks.wrappers import InstrumentedLock, InstrumentedRLock
from tunekit.probes.nature import core_share

if TYPE_CHECKING:
    from tunekit.probes import Probe
    from tunekit.target import Target

__all__ = [
    "CPU_SAMPLE_EVERY",
    "MIN_THREADS",
    "REGISTRY",
    "Counts",
    "InstrumentedAsyncLock",
    "InstrumentedLock",
    "InstrumentedRLock",
    "LockProbe",
    "Registry",
    "Site",
    "instrument",
    "measure_overhead",
    "origin_of",
    "tunekit_register_probes",
]

#: Sites outside the user's code listed in the result (the busiest), besides their totals.
HIDDEN_LISTED = 10


def instrument() -> None:
    """Make the threading, queue and asyncio primitives counting, in this process, for good
    (call it before the code to measure is imported)."""
    threading.Lock = CountingLock  # type: ignore[assignment]
    threading.RLock = new_rlock  # type: ignore[assignment]
    threading.Semaphore = InstrumentedSemaphore  # type: ignore[misc]
    threading.BoundedSemaphore = InstrumentedBoundedSemaphore  # type: ignore[misc]
    threading.Condition = InstrumentedCondition  # type: ignore[misc]
    threading.Event = InstrumentedEvent  # type: ignore[misc]
    threading.Barrier = InstrumentedBarrier  # type: ignore[misc]
    queue.Queue = InstrumentedQueue  # type: ignore[misc]
    queue.LifoQueue = InstrumentedLifoQueue  # type: ignore[misc]
    queue.PriorityQueue = InstrumentedPriorityQueue  # type: ignore[misc]
    asyncio.Lock = asyncio.locks.Lock = InstrumentedAsyncLock  # type: ignore[misc]
    asyncio.Semaphore = asyncio.locks.Semaphore = InstrumentedAsyncSemaphore  # type: ignore[misc]
    asyncio.BoundedSemaphore = asyncio.locks.BoundedSemaphore = (  # type: ignore[misc]
        InstrumentedAsyncBoundedSemaphore
    )
    asyncio.Event = asyncio.locks.Event = InstrumentedAsyncEvent  # type: ignore[misc]
    asyncio.Condition = asyncio.locks.Condition = InstrumentedAsyncCondition  # type: ignore[misc]
    asyncio.Queue = asyncio.queues.Queue = InstrumentedAsyncQueue  # type: ignore[misc]
    asyncio.LifoQueue = asyncio.queues.LifoQueue = InstrumentedAsyncLifoQueue  # type: ignore[misc]
    asyncio.PriorityQueue = asyncio.queues.PriorityQueue = (  # type: ignore[misc]
        InstrumentedAsyncPriorityQueue
    )
    instrument_multiprocessing()


class LockProbe:
    """Lock contention by creation site, with the target run on threads (or a loop)."""

    name = "locks"
    description = "lock acquisitions, contention, waits and holds by creation site, overhead"

    def supports(self, target: Target) -> str | None:
        """Every target can be measured."""
        return None

    def prepare(self) -> None:
        """Replace the lock factories before the target is imported."""
        instrument()

    def run(self, target: Target, context: ProbeContext) -> dict[str, Any]:
        """Run the target concurrently for ``context.time_s``; counts by site, and overhead."""
        if getattr(threading, "Lock", None) is not CountingLock:
            instrument()  # prepare() was not called: locks made at import are not seen
        share_before = core_share()
        chosen = context.workers
        if target.is_coroutine:
            workers, runner = chosen or IN_FLIGHT, "asyncio"
            run = asyncio.run(run_coroutines(target, context.time_s, workers))
        elif context.model == "process" and chosen:
            workers, runner = chosen, "processes"
            run = run_processes(target, context.time_s, workers)
        else:
            default = max(MIN_THREADS, min(THREADS_PER_CPU * context.cpus, MAX_THREADS))
            workers, runner = chosen or default, "threads"
            run = run_threads(target, context.time_s, workers)
        share = (share_before + core_share()) / 2
        sites = REGISTRY.snapshot()
        overhead = measure_overhead(target.is_coroutine)
        estimate = estimate_overhead(sites, overhead)
        estimate["estimated_share"] = (
            estimate["estimated_s"] / run["cpu_s"] if run["cpu_s"] else 0.0
        )
        for site in sites:
            correct_holds(site, overhead)
        user = [s for s in sites if s["origin"] == "user"]
        hidden = [s for s in sites if s["origin"] != "user"]
        return {
            "locks": sorted(user, key=_rank, reverse=True),
            "hidden_locks": _hidden_summary(hidden),
            "lock_overhead": {**overhead, **estimate},
            "wall_s": run["wall_s"],
            "cpu_s": run["cpu_s"],
            "cpu_s_without_probe": max(run["cpu_s"] - estimate["estimated_s"], 0.0),
            "core_share": share,
            # Concurrent callers: threads, or coroutines in flight on one loop (``runner``).
            "threads": workers,
            "runner": runner,
            # Whether ``threads`` is the pool size being recommended, or the probe's default.
            "workers_from": "recommended pool" if chosen else "default",
            "calls": run["calls"],
            "errors": run["errors"],
        }


def _rank(site: dict[str, Any]) -> float:
    """Busiest first: time held plus time waited for."""
    return float(site["hold_s"] + site["wait_s"])


def _hidden_summary(hidden: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals of the locks outside the user's code, by origin, and the busiest sites."""
    by_origin: dict[str, dict[str, float]] = {}
    for site in hidden:
        totals = by_origin.setdefault(
            site["origin"], {"sites": 0, "acquisitions": 0, "contended": 0, "wait_s": 0.0}
        )
        totals["sites"] += 1
        for name in ("acquisitions", "contended", "wait_s"):
            totals[name] += site[name]
    busiest = sorted((s for s in hidden if s["acquisitions"]), key=_rank, reverse=True)
    return {"by_origin": by_origin, "busiest": busiest[:HIDDEN_LISTED]}


@hookimpl
def tunekit_register_probes(register: Callable[[Probe], None]) -> None:
    """Register the lock probe."""
    register(LockProbe())
