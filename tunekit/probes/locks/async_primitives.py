"""``asyncio.Semaphore``, ``BoundedSemaphore``, ``Event``, ``Condition`` and ``Queue``
stand-ins that count as their ``threading`` and ``queue`` twins do.

One loop runs them, so their counters need no lock. A semaphore counts its permits in use over
time (``permit_s``, ``all_held_s``) and its waits; an event its waits, those that blocked, and
its sets; a condition its waits, notifies and the wake-ups that found nothing (a task that
waits again before releasing the lock); a queue its puts and gets per line, the awaited ones
that found it full or empty, and its depth over time. Each subclasses the real class.
"""

from __future__ import annotations

import asyncio
import sys
from time import perf_counter
from typing import Any

from tunekit.probes.locks.frames import AtTable, at_entry
from tunekit.probes.locks.queues import advance_depth, fresh_queue_stats
from tunekit.probes.locks.tally import Tallied


class InstrumentedAsyncSemaphore(Tallied, asyncio.Semaphore):
    """An ``asyncio.Semaphore`` that counts its waits and its permits in use over time."""

    _counted = ("acquisitions", "contended", "releases")
    _kind = "asyncio.Semaphore"

    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._permits = value
        self._register(self._kind)

    def zero(self) -> None:
        """Start counting afresh, from the permits in use now."""
        super().zero()
        self._s |= {"permit_s": 0.0, "all_held_s": 0.0}
        self._in_use = getattr(self, "_in_use", 0)
        self._since = self._last = perf_counter()

    def _advance(self) -> None:
        now = perf_counter()
        span = now - self._last
        self._s["permit_s"] += self._in_use * span
        if self._in_use >= self._permits:
            self._s["all_held_s"] += span
        self._last = now

    async def acquire(self) -> bool:  # type: ignore[override]
        """Take a permit; counted at the caller's line, contended if it had to wait."""
        at = at_entry(self._at, sys._getframe(1))
        waits = self.locked()
        start = perf_counter()
        await super().acquire()
        self._advance()
        self._in_use += 1
        self._n["acquisitions"] += 1
        at[0] += 1
        if waits:
            waited = perf_counter() - start
            self._n["contended"] += 1
            self._s["wait_s"] += waited
            self._s["wait_max_s"] = max(self._s["wait_max_s"], waited)
            at[1] += 1
            at[2] += waited
        return True

    def release(self) -> None:
        """Give a permit back."""
        super().release()
        self._advance()
        self._in_use = max(self._in_use - 1, 0)
        self._n["releases"] += 1

    def tally(self) -> dict[str, Any]:
        """What was counted, up to now."""
        self._advance()
        return {
            **super().tally(),
            "permits_max": self._permits,
            "observed_s": perf_counter() - self._since,
        }


class InstrumentedAsyncBoundedSemaphore(InstrumentedAsyncSemaphore, asyncio.BoundedSemaphore):
    """An ``asyncio.BoundedSemaphore`` that counts like ``InstrumentedAsyncSemaphore``."""

    _kind = "asyncio.BoundedSemaphore"


class InstrumentedAsyncEvent(Tallied, asyncio.Event):
    """An ``asyncio.Event`` that counts its waits (and those that blocked) and its sets."""

    _counted = ("waits", "blocked", "sets")

    def __init__(self) -> None:
        super().__init__()
        self._register("asyncio.Event")

    async def wait(self) -> bool:  # type: ignore[override]
        """Wait as ``Event.wait``; counted at the caller's line."""
        at = at_entry(self._at, sys._getframe(1))
        blocked = not self.is_set()
        start = perf_counter()
        await super().wait()
        self._waited(at, perf_counter() - start if blocked else 0.0)
        at[1] += blocked
        self._n["blocked"] += blocked
        return True

    def set(self) -> None:
        """Set the flag, waking the waiters."""
        self._n["sets"] += 1
        super().set()


class InstrumentedAsyncCondition(Tallied, asyncio.Condition):
    """An ``asyncio.Condition`` that counts waits, notifies and wake-ups that found nothing."""

    _counted = ("waits", "notifies", "notify_alls", "woken", "futile_wakeups")
    _waiters: Any
    _lock: Any

    def __init__(self, lock: Any = None) -> None:
        super().__init__(lock)
        self._woke: set[Any] = set()
        self._lock_release = self.release
        self.release = self._release  # type: ignore[method-assign]  # bound to the instance
        made_own_lock = lock is None and getattr(self._lock, "_site", None) is not None
        self._register("asyncio.Condition", new=not made_own_lock)

    async def wait(self) -> bool:  # type: ignore[override]
        """Wait as ``Condition.wait``; a second wait before releasing marks the last wake-up
        as one that found nothing."""
        at = at_entry(self._at, sys._getframe(1))
        task = asyncio.current_task()
        if task in self._woke:
            self._woke.discard(task)
            self._n["futile_wakeups"] += 1
        start = perf_counter()
        await super().wait()
        self._waited(at, perf_counter() - start)
        self._woke.add(task)
        return True

    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` waiters, counting how many there were."""
        self._n["notifies"] += 1
        self._n["woken"] += min(n, sum(not w.done() for w in self._waiters))
        super().notify(n)

    def notify_all(self) -> None:
        """Wake every waiter, counting how many."""
        self._n["notify_alls"] += 1
        self._n["woken"] += sum(not w.done() for w in self._waiters)
        asyncio.Condition.notify(self, len(self._waiters))

    def _release(self) -> None:
        self._woke.discard(asyncio.current_task())
        self._lock_release()

    def tally(self) -> dict[str, Any]:
        """What was counted; its waits apart from its lock's acquisitions (counted alike)."""
        tally = super().tally()
        tally["cond_wait_s"] = tally.pop("wait_s")
        tally["cond_wait_max_s"] = tally.pop("wait_max_s")
        tally["wait_at"] = tally.pop("acquired_at")
        return tally


class InstrumentedAsyncQueue(Tallied, asyncio.Queue):  # type: ignore[type-arg]
    """An ``asyncio.Queue`` that counts its puts, gets, waits and depth."""

    _counted = ("puts", "gets", "put_waits", "get_waits")

    _kind = "asyncio.Queue"

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self._register(self._kind)

    def zero(self) -> None:
        """Start counting afresh."""
        super().zero()
        self._s = fresh_queue_stats()
        self._put_at: AtTable = {}
        self._get_at: AtTable = {}
        self._since = self._last = perf_counter()

    def _advance(self) -> None:
        self._last = advance_depth(self._s, self._last, self.qsize(), self.maxsize)

    def _put(self, item: Any) -> None:
        self._advance()
        self._n["puts"] += 1
        super()._put(item)

    def _get(self) -> Any:
        self._advance()
        self._n["gets"] += 1
        return super()._get()

    async def put(self, item: Any) -> None:
        """Put as ``Queue.put``; counted at the caller's line, waiting if it found it full."""
        at = at_entry(self._put_at, sys._getframe(1))
        full, start = self.full(), perf_counter()
        try:
            await super().put(item)
        finally:  # cancelled (a wait_for that timed out) it waited all the same
            self._count(at, "put", full, perf_counter() - start)

    async def get(self) -> Any:
        """Get as ``Queue.get``; counted at the caller's line, waiting if it found it empty."""
        at = at_entry(self._get_at, sys._getframe(1))
        empty, start = self.empty(), perf_counter()
        try:
            return await super().get()
        finally:  # cancelled (a wait_for that timed out) it waited all the same
            self._count(at, "get", empty, perf_counter() - start)

    def _count(self, at: list[float], side: str, waited: bool, took: float) -> None:
        at[0] += 1
        if waited:
            at[1] += 1
            at[2] += took
            self._n[side + "_waits"] += 1
            self._s[side + "_wait_s"] += took

    def tally(self) -> dict[str, Any]:
        """What was counted, up to now."""
        self._advance()
        return {
            **self._n,
            **self._s,
            "maxsize_max": self.maxsize,
            "observed_s": perf_counter() - self._since,
            "put_at": {key: list(counts) for key, counts in self._put_at.items()},
            "get_at": {key: list(counts) for key, counts in self._get_at.items()},
        }


# The kin subclass ``InstrumentedAsyncQueue`` (what ``asyncio.Queue`` becomes), so that
# ``isinstance(q, asyncio.Queue)`` holds for them as it does for the real ones.


class InstrumentedAsyncLifoQueue(InstrumentedAsyncQueue, asyncio.LifoQueue):  # type: ignore[type-arg]
    """An ``asyncio.LifoQueue`` that counts like ``InstrumentedAsyncQueue``."""

    _kind = "asyncio.LifoQueue"


class InstrumentedAsyncPriorityQueue(InstrumentedAsyncQueue, asyncio.PriorityQueue):  # type: ignore[type-arg]
    """An ``asyncio.PriorityQueue`` that counts like ``InstrumentedAsyncQueue``."""

    _kind = "asyncio.PriorityQueue"
