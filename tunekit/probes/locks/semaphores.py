"""``threading.Semaphore`` and ``BoundedSemaphore`` stand-ins that count permits over time.

A busy semaphore's waits happen in its internal condition, on raw locks the probe leaves alone:
counting its lock would show many short acquisitions. These subclasses count what matters
instead: acquisitions per line, the ones that had to wait and for how long, and the permits in
use integrated over time (``permit_s``), with the time all of them were taken
(``all_held_s``). Their internal condition is made of raw primitives, so it is not counted
twice. They subclass the real classes: ``isinstance`` and user subclasses keep working.
"""

from __future__ import annotations

import sys
import threading
from time import monotonic, perf_counter
from typing import Any

from tunekit.probes.locks.frames import AtTable, at_entry
from tunekit.probes.locks.registry import RAW_CONDITION, RAW_LOCK, REGISTRY

RawSemaphore = threading.Semaphore
RawBoundedSemaphore = threading.BoundedSemaphore


class InstrumentedSemaphore(RawSemaphore):
    """A ``threading.Semaphore`` that counts its waits and its permits in use over time."""

    _kind = "Semaphore"

    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._cond = RAW_CONDITION(RAW_LOCK())
        self._value = self._permits = value
        self._site = REGISTRY.site_of(sys._getframe(1), self._kind)
        REGISTRY.add_primitive(self._site, self)

    def zero(self) -> None:
        """Start counting afresh, from the permits in use now."""
        with self._cond:
            self._n = {"acquisitions": 0, "contended": 0, "failed": 0, "releases": 0}
            self._s = {"wait_s": 0.0, "wait_max_s": 0.0, "permit_s": 0.0, "all_held_s": 0.0}
            self._at: AtTable = {}
            self._since = self._last = perf_counter()

    def _advance(self, now: float) -> None:
        """Add the time since the last change at the permits in use then (cond held)."""
        span = now - self._last
        self._s["permit_s"] += (self._permits - self._value) * span
        if self._value <= 0:
            self._s["all_held_s"] += span
        self._last = now

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take a permit, as ``threading.Semaphore.acquire``; counted at the caller's line."""
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        frame = sys._getframe(1)
        taken = False
        end = None
        with self._cond:
            start = perf_counter()
            waited = self._value == 0 and blocking
            while self._value == 0:
                if not blocking:
                    break
                if timeout is not None:
                    if end is None:
                        end = monotonic() + timeout
                    else:
                        timeout = end - monotonic()
                        if timeout <= 0:
                            break
                self._cond.wait(timeout)
            else:
                now = perf_counter()
                self._advance(now)
                self._value -= 1
                taken = True
            at = at_entry(self._at, frame)
            if not taken:
                self._n["failed"] += 1
                return False
            self._n["acquisitions"] += 1
            at[0] += 1
            if waited:
                wait = now - start
                self._n["contended"] += 1
                self._s["wait_s"] += wait
                self._s["wait_max_s"] = max(self._s["wait_max_s"], wait)
                at[1] += 1
                at[2] += wait
        return True

    __enter__ = acquire

    def release(self, n: int = 1) -> None:
        """Give back ``n`` permits, waking as many waiters."""
        if n < 1:
            raise ValueError("n must be one or more")
        with self._cond:
            self._check_release(n)
            self._advance(perf_counter())
            self._value += n
            self._n["releases"] += n
            self._cond.notify(n)

    def _check_release(self, n: int) -> None:
        """Nothing to check: a plain semaphore may be released more than taken."""

    def tally(self) -> dict[str, Any]:
        """What was counted, up to now."""
        with self._cond:
            now = perf_counter()
            self._advance(now)
            return {
                **self._n,
                **self._s,
                "permits_max": self._permits,
                "observed_s": now - self._since,
                "acquired_at": {key: list(counts) for key, counts in self._at.items()},
            }

    def __repr__(self) -> str:
        return f"<instrumented {self._kind} from {self._site.site}, value {self._value}>"

    def __del__(self) -> None:
        site = getattr(self, "_site", None)
        if site is not None:
            REGISTRY.fold_primitive(site, self)


class InstrumentedBoundedSemaphore(InstrumentedSemaphore, RawBoundedSemaphore):
    """A ``threading.BoundedSemaphore`` that counts like ``InstrumentedSemaphore``."""

    _kind = "BoundedSemaphore"

    def __init__(self, value: int = 1) -> None:
        self._initial_value = value
        super().__init__(value)

    def _check_release(self, n: int) -> None:
        if self._value + n > self._initial_value:
            raise ValueError("Semaphore released too many times")
