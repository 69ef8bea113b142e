"""The instrumentation's own cost: measured in this process after the run, and taken out.

An uncontended ``with lock:`` on a raw and on an instrumented lock, and lock creation, are
timed; times the counts of the run, that is the estimated overhead. The instrumentation's part
of each hold is taken out of the hold times the advice uses (the measured ones are kept).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from time import perf_counter
from typing import Any

from tunekit.probes.locks.async_lock import InstrumentedAsyncLock
from tunekit.probes.locks.conditions import InstrumentedCondition, InstrumentedEvent, RawEvent
from tunekit.probes.locks.counting import Site
from tunekit.probes.locks.queues import RAW_QUEUES, InstrumentedQueue
from tunekit.probes.locks.registry import RAW_ASYNC_LOCK, RAW_CONDITION, RAW_LOCK, Registry
from tunekit.probes.locks.semaphores import InstrumentedSemaphore, RawSemaphore
from tunekit.probes.locks.wrappers import InstrumentedLock

#: Uncontended ``with lock:`` rounds per timing of the overhead benchmark, best of the repeats.
BENCH_ROUNDS = 20_000
BENCH_CREATIONS = 2_000
BENCH_REPEATS = 5
#: Uses per timing of a primitive other than a lock: each costs 1-10 us (measured here under
#: load), so a timing lasts 0.5-5 ms, far above the clock's ~50 ns, and the 4 kinds x raw and
#: counted x 5 repeats take ~0.15 s (2000 uses took 0.6 s, a share of a 20 s budget's sweep).
BENCH_PRIMITIVE_USES = 500
#: Kinds charged at a primitive's measured cost (the asyncio ones at their threading twin's).
CHARGED_AS = {
    "Semaphore": "Semaphore",
    "BoundedSemaphore": "Semaphore",
    "Queue": "Queue",
    "LifoQueue": "Queue",
    "PriorityQueue": "Queue",
    "Condition": "Condition",
    "Event": "Event",
}


def measure_overhead(coroutines: bool = False) -> dict[str, Any]:
    """Seconds per uncontended ``with lock:`` raw and instrumented, per hold (the part of the
    instrumentation timed as held), and per lock made; best of ``BENCH_REPEATS``. Locks made
    here are counted in a registry of their own, not in the run's."""
    registry = Registry()
    site = Site("tunekit:overhead", "Lock", "tunekit")
    raw = _per_round(RAW_LOCK())
    bench = InstrumentedLock(RAW_LOCK(), site, registry)
    counted = _per_round(bench)
    rounds = bench._acquisitions
    overhead: dict[str, Any] = {
        "method": (
            f"uncontended 'with lock:' timed {BENCH_ROUNDS} times on a raw and on an "
            f"instrumented lock, and {BENCH_CREATIONS} lock creations, best of "
            f"{BENCH_REPEATS}, after the run in the same process; the same for one "
            f"uncontended use of a Semaphore, Queue, Condition and Event ({BENCH_PRIMITIVE_USES}"
            " times each); times the run's counts"
        ),
        "raw_acquire_s": raw,
        "instrumented_acquire_s": counted,
        "per_acquire_s": max(counted - raw, 0.0),
        "per_hold_s": bench._hold_s / rounds if rounds else 0.0,
        "raw_create_s": _per_creation(RAW_LOCK),
        "instrumented_create_s": _per_creation(registry.new_lock),
    }
    overhead["per_create_s"] = max(
        overhead["instrumented_create_s"] - overhead["raw_create_s"], 0.0
    )
    overhead["primitives"] = measure_primitives()
    if coroutines:
        raw_async, counted_async, per_hold = asyncio.run(_async_rounds())
        overhead["raw_async_acquire_s"] = raw_async
        overhead["instrumented_async_acquire_s"] = counted_async
        overhead["per_async_acquire_s"] = max(counted_async - raw_async, 0.0)
        overhead["per_async_hold_s"] = per_hold
    return overhead


#: The threading and queue primitives' benchmarks: one uncontended use each, raw and counted.
#: Each names the counts of the run it is charged to (``estimate_overhead``).
PRIMITIVE_USES: dict[str, tuple[tuple[str, ...], Callable[[Any], object]]] = {
    "Semaphore": (("acquisitions",), lambda s: (s.acquire(), s.release())),
    "Queue": (("puts", "gets"), lambda q: (q.put(1), q.get())),
    "Condition": (("waits",), lambda c: (c.acquire(), c.wait(0), c.release())),
    "Event": (("waits",), lambda e: e.wait(0)),
}


def measure_primitives() -> dict[str, dict[str, float]]:
    """Seconds per uncontended use of each primitive, raw and counted, best of the repeats
    (a ``Queue``'s use is a put and a get, charged half to each). The raw semaphore and event
    get raw internals, as the counted ones have; both queues have the same (counted) mutex,
    whose acquisitions are charged as a lock's, so only the subclass's own work is compared.
    The counted ones are made here, so they count at a tunekit site, which the report hides."""
    raw_semaphore, raw_event = RawSemaphore(1), RawEvent()
    raw_semaphore._cond = RAW_CONDITION(RAW_LOCK())  # type: ignore[attr-defined]
    raw_event._cond = RAW_CONDITION(RAW_LOCK())  # type: ignore[attr-defined]
    pairs = {
        "Semaphore": (raw_semaphore, InstrumentedSemaphore(1)),
        "Queue": (RAW_QUEUES[0](), InstrumentedQueue()),
        "Condition": (RAW_CONDITION(RAW_LOCK()), InstrumentedCondition(RAW_LOCK())),
        "Event": (raw_event, InstrumentedEvent()),
    }
    costs: dict[str, dict[str, float]] = {}
    for kind, (raw, counted) in pairs.items():
        counts, use = PRIMITIVE_USES[kind]
        raw_s, counted_s = _per_use(raw, use), _per_use(counted, use)
        per_count = max(counted_s - raw_s, 0.0) / len(counts)
        costs[kind] = {"raw_s": raw_s, "instrumented_s": counted_s, "per_count_s": per_count}
    return costs


def _per_use(primitive: Any, use: Callable[[Any], object]) -> float:
    best = float("inf")
    for _ in range(BENCH_REPEATS):
        start = perf_counter()
        for _ in range(BENCH_PRIMITIVE_USES):
            use(primitive)
        best = min(best, (perf_counter() - start) / BENCH_PRIMITIVE_USES)
    return best


#: The timed loop, compiled under a name outside this package: a counted lock looks for its
#: acquisition line in the first frame outside the package, which is then the loop itself, as
#: it is the user's line in a real run (from here it would walk up to the probe's caller).
_ROUNDS_SOURCE = """
def rounds(lock, count):
    for _ in range(count):
        with lock:
            pass
"""
_ROUNDS: dict[str, Any] = {}
exec(compile(_ROUNDS_SOURCE, "<tunekit lock overhead>", "exec"), _ROUNDS)


def _per_round(lock: Any) -> float:
    rounds = _ROUNDS["rounds"]
    best = float("inf")
    for _ in range(BENCH_REPEATS):
        start = perf_counter()
        rounds(lock, BENCH_ROUNDS)
        best = min(best, (perf_counter() - start) / BENCH_ROUNDS)
    return best


def _per_creation(make: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(BENCH_REPEATS):
        start = perf_counter()
        for _ in range(BENCH_CREATIONS):
            make()
        best = min(best, (perf_counter() - start) / BENCH_CREATIONS)
    return best


async def _async_rounds() -> tuple[float, float, float]:
    async def per_round(lock: asyncio.Lock) -> float:
        best = float("inf")
        for _ in range(BENCH_REPEATS):
            start = perf_counter()
            for _ in range(BENCH_ROUNDS):
                async with lock:
                    pass
            best = min(best, (perf_counter() - start) / BENCH_ROUNDS)
        return best

    raw = await per_round(RAW_ASYNC_LOCK())
    counted_lock = InstrumentedAsyncLock()  # counted at this site (tunekit, hidden)
    counted = await per_round(counted_lock)
    rounds = counted_lock._acquisitions
    per_hold = counted_lock._hold_s / rounds if rounds else 0.0
    return raw, counted, per_hold


def estimate_overhead(sites: list[dict[str, Any]], overhead: dict[str, Any]) -> dict[str, Any]:
    """The run's instrumentation cost: its acquisitions and creations at the measured costs."""
    thread_acq = sum(s["acquisitions"] for s in sites if not s["kind"].startswith("asyncio."))
    async_acq = sum(s["acquisitions"] for s in sites if s["kind"].startswith("asyncio."))
    created = sum(s["created"] for s in sites)
    estimated = (
        thread_acq * overhead["per_acquire_s"]
        + async_acq * overhead.get("per_async_acquire_s", overhead["per_acquire_s"])
        + created * overhead["per_create_s"]
    )
    primitive_s: dict[str, float] = {}
    for site in sites:
        charged = CHARGED_AS.get(site["kind"])
        cost = overhead.get("primitives", {}).get(charged) if charged else None
        if charged is None or cost is None:
            continue
        counts, _ = PRIMITIVE_USES[charged]
        uses = sum(site.get(name, 0) for name in counts)
        primitive_s[charged] = primitive_s.get(charged, 0.0) + uses * cost["per_count_s"]
    return {
        "acquisitions": thread_acq + async_acq,
        "creations": created,
        "primitive_s": primitive_s,
        "estimated_s": estimated + sum(primitive_s.values()),
    }


def correct_holds(site: dict[str, Any], overhead: dict[str, Any]) -> None:
    """Take the instrumentation's own share out of the hold times (kept as measured too), and
    add the raw cost of one acquisition of this kind (what taking the lock costs the code)."""
    if site["kind"].startswith("asyncio."):
        per_hold = overhead.get("per_async_hold_s", 0.0)
        site["acquire_s"] = overhead.get("raw_async_acquire_s", 0.0)
    else:
        per_hold = overhead["per_hold_s"]
        site["acquire_s"] = overhead["raw_acquire_s"]
    site["hold_measured_s"] = site["hold_s"]
    site["hold_s"] = max(site["hold_s"] - site["acquisitions"] * per_hold, 0.0)
    for at in site.get("acquired_at", []):
        at["hold_measured_s"] = at["hold_s"]
        at["hold_s"] = max(at["hold_s"] - at["acquisitions"] * per_hold, 0.0)
    busiest = site.pop("busiest_acquisitions")
    site["busiest_hold_s"] = max(site["busiest_hold_s"] - busiest * per_hold, 0.0)
