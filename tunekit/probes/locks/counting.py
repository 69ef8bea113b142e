"""What one instrumented lock counts, and the totals of every lock made at one line."""

from __future__ import annotations

import weakref
from time import perf_counter
from typing import Any

#: Thread CPU time is read on one hold in this many (a power of two).
CPU_SAMPLE_EVERY = 8
#: A hold's CPU time is read when ``acquisitions & SAMPLE_MASK`` is 0.
SAMPLE_MASK = CPU_SAMPLE_EVERY - 1

_SUMMED = (
    "acquisitions",
    "reentrant",
    "contended",
    "failed",
    "foreign_releases",
    "wait_s",
    "hold_s",
    "hold_cpu_s",
    "hold_cpu_wall_s",
)
_MAXED = ("wait_max_s", "hold_max_s")


class Counts:
    """What every instrumented lock counts. Counters change only while the lock is held (a
    failed try is counted without it: exact unless two threads fail at the same instant)."""

    __slots__ = (
        "_acquisitions",
        "_contended",
        "_failed",
        "_foreign_releases",
        "_hold_cpu_s",
        "_hold_cpu_wall_s",
        "_hold_max_s",
        "_hold_s",
        "_reentrant",
        "_wait_max_s",
        "_wait_s",
    )
    _acquisitions: int
    _reentrant: int
    _contended: int
    _failed: int
    _foreign_releases: int
    _wait_s: float
    _wait_max_s: float
    _hold_s: float
    _hold_max_s: float
    _hold_cpu_s: float
    _hold_cpu_wall_s: float

    def _zero(self) -> None:
        for name in Counts.__slots__:
            setattr(self, name, 0)

    def _take(self, lock: Any, blocking: bool, timeout: float) -> bool:
        """Acquire ``lock``; a failed non-blocking try first marks the acquisition contended
        and its wait is timed."""
        if lock.acquire(False):
            return True
        if not blocking:
            if timeout != -1:
                raise ValueError("can't specify a timeout for a non-blocking call")
            self._failed += 1
            return False
        start = perf_counter()
        if not lock.acquire(True, timeout):
            self._failed += 1
            return False
        waited = perf_counter() - start
        self._contended += 1
        self._wait_s += waited
        self._wait_max_s = max(self._wait_max_s, waited)
        return True


class Site:
    """Every lock made at one line: the live ones, and the totals of those already freed."""

    __slots__ = ("created", "created_total", "folded", "kind", "live", "origin", "site")

    def __init__(self, site: str, kind: str, origin: str) -> None:
        self.site, self.kind, self.origin = site, kind, origin
        self.live: weakref.WeakSet[Counts] = weakref.WeakSet()
        self.folded: dict[str, float] = dict.fromkeys((*_SUMMED, *_MAXED, "busiest_hold_s"), 0)
        self.folded["busiest_acquisitions"] = 0
        #: Locks made here since the last reset, and in all.
        self.created = self.created_total = 0

    def fold(self, lock: Counts) -> None:
        """Keep the counts of a lock that is being freed."""
        folded = self.folded
        for name in _SUMMED:
            folded[name] += getattr(lock, "_" + name)
        for name in _MAXED:
            folded[name] = max(folded[name], getattr(lock, "_" + name))
        if lock._hold_s > folded["busiest_hold_s"]:
            folded["busiest_hold_s"] = lock._hold_s
            folded["busiest_acquisitions"] = lock._acquisitions
        self.live.discard(lock)

    def totals(self) -> dict[str, Any]:
        """The site's counts: freed locks plus live ones."""
        totals = dict(self.folded)
        for lock in list(self.live):
            for name in _SUMMED:
                totals[name] += getattr(lock, "_" + name)
            for name in _MAXED:
                totals[name] = max(totals[name], getattr(lock, "_" + name))
            if lock._hold_s > totals["busiest_hold_s"]:
                totals["busiest_hold_s"] = lock._hold_s
                totals["busiest_acquisitions"] = lock._acquisitions
        return {
            "site": self.site,
            "kind": self.kind,
            "origin": self.origin,
            "locks": self.created_total,
            "created": self.created,
            **totals,
        }
