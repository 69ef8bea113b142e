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
from tunekit.probes.locks.counting import Site
from tunekit.probes.locks.registry import RAW_ASYNC_LOCK, RAW_LOCK, Registry
from tunekit.probes.locks.wrappers import InstrumentedLock

#: Uncontended ``with lock:`` rounds per timing of the overhead benchmark, best of the repeats.
BENCH_ROUNDS = 20_000
BENCH_CREATIONS = 2_000
BENCH_REPEATS = 5


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
            f"{BENCH_REPEATS}, after the run in the same process; times the run's counts"
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
    if coroutines:
        raw_async, counted_async, per_hold = asyncio.run(_async_rounds())
        overhead["raw_async_acquire_s"] = raw_async
        overhead["instrumented_async_acquire_s"] = counted_async
        overhead["per_async_acquire_s"] = max(counted_async - raw_async, 0.0)
        overhead["per_async_hold_s"] = per_hold
    return overhead


def _per_round(lock: Any) -> float:
    best = float("inf")
    for _ in range(BENCH_REPEATS):
        start = perf_counter()
        for _ in range(BENCH_ROUNDS):
            with lock:
                pass
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
    return {"acquisitions": thread_acq + async_acq, "creations": created, "estimated_s": estimated}


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
