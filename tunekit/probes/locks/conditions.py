"""``threading.Condition``, ``Event`` and ``Barrier`` stand-ins that count their waits.

A condition counts its waits (per line of the ``wait``/``wait_for``), the time waited, its
``notify`` and ``notify_all`` calls with the waiters each woke, and the wake-ups that found
nothing: a woken thread that waits again before it releases the lock (the ``while not ready:
wait()`` loop going round, or ``wait_for``'s predicate still false). Its lock is the user's (an
instrumented ``RLock`` by default), counted at the same site. An event counts its waits, those
that blocked, and its sets; a barrier its waits and breaks. Event and barrier are built on raw
primitives, so their internals are not counted twice. All subclass the real classes.
"""

from __future__ import annotations

import sys
import threading
from threading import get_ident
from time import perf_counter
from typing import Any

from tunekit.probes.locks.frames import at_entry
from tunekit.probes.locks.registry import RAW_CONDITION, RAW_LOCK
from tunekit.probes.locks.tally import Tallied

RawEvent = threading.Event
RawBarrier = threading.Barrier


class InstrumentedCondition(Tallied, RAW_CONDITION):
    """A ``threading.Condition`` that counts waits, notifies and wake-ups that found nothing."""

    _waiters: Any
    _lock: Any

    _counted = ("waits", "timeouts", "notifies", "notify_alls", "woken", "futile_wakeups")

    def __init__(self, lock: Any = None) -> None:
        super().__init__(lock)
        self._woke: dict[int, bool] = {}
        self._lock_release = self.release
        self.release = self._release  # type: ignore[method-assign]  # bound to the instance
        # Its default lock, made on the same line, already counted the instance.
        made_own_lock = lock is None and getattr(self._lock, "_site", None) is not None
        self._register("Condition", new=not made_own_lock)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait as ``Condition.wait``; a second wait without releasing marks the last wake-up
        as one that found nothing."""
        at = at_entry(self._at, sys._getframe(1))
        me = get_ident()
        if self._woke.pop(me, False):
            self._n["futile_wakeups"] += 1
        start = perf_counter()
        notified = super().wait(timeout)
        self._waited(at, perf_counter() - start)
        if not notified:
            self._n["timeouts"] += 1
        self._woke[me] = True
        return notified

    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` waiters, counting how many there were."""
        self._n["notifies"] += 1
        self._n["woken"] += min(n, len(self._waiters))
        super().notify(n)

    def notify_all(self) -> None:
        """Wake every waiter, counting how many."""
        waiters = len(self._waiters)
        self._n["notify_alls"] += 1
        self._n["woken"] += waiters
        RAW_CONDITION.notify(self, waiters)

    def tally(self) -> dict[str, Any]:
        """What was counted; its waits apart from its lock's acquisitions (counted alike)."""
        tally = super().tally()
        tally["cond_wait_s"] = tally.pop("wait_s")
        tally["cond_wait_max_s"] = tally.pop("wait_max_s")
        tally["wait_at"] = tally.pop("acquired_at")
        return tally

    def _release(self) -> None:
        self._woke.pop(get_ident(), None)
        self._lock_release()

    def __exit__(self, *exc: Any) -> None:
        self._woke.pop(get_ident(), None)
        super().__exit__(*exc)


class InstrumentedEvent(Tallied, RawEvent):
    """A ``threading.Event`` that counts its waits (and those that blocked) and its sets."""

    _counted = ("waits", "blocked", "timeouts", "sets", "clears")

    def __init__(self) -> None:
        self._cond = RAW_CONDITION(RAW_LOCK())
        self._flag = False
        self._register("Event")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait as ``Event.wait``; counted at the caller's line."""
        frame = sys._getframe(1)
        start = perf_counter()
        blocked = not self._flag
        flag = super().wait(timeout)
        waited = perf_counter() - start
        with self._cond:
            at = at_entry(self._at, frame)
            self._waited(at, waited if blocked else 0.0)
            at[1] += blocked
            self._n["blocked"] += blocked
            self._n["timeouts"] += not flag
        return flag

    def set(self) -> None:
        """Set the flag, waking the waiters."""
        super().set()
        with self._cond:
            self._n["sets"] += 1

    def clear(self) -> None:
        """Clear the flag."""
        super().clear()
        with self._cond:
            self._n["clears"] += 1


class InstrumentedBarrier(Tallied, RawBarrier):
    """A ``threading.Barrier`` that counts its waits, their time, and how often it broke."""

    _counted = ("waits", "broken")

    def __init__(self, parties: int, action: Any = None, timeout: float | None = None) -> None:
        if parties < 1:
            raise ValueError("parties must be > 0")
        self._cond = RAW_CONDITION(RAW_LOCK())
        self._action = action
        self._timeout = timeout
        self._parties = parties
        self._state = 0
        self._count = 0
        self._register("Barrier")

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the other parties, as ``Barrier.wait``."""
        frame = sys._getframe(1)
        start = perf_counter()
        try:
            return super().wait(timeout)
        except threading.BrokenBarrierError:
            with self._cond:
                self._n["broken"] += 1
            raise
        finally:
            with self._cond:
                self._waited(at_entry(self._at, frame), perf_counter() - start)
