"""What one instrumented lock counts, and the totals of every lock made at one line."""

from __future__ import annotations

import weakref
from time import perf_counter
from typing import Any

from tunekit.probes.locks.frames import AtCounts, AtTable, add_table, table_rows

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
        "_at",
        "_contended",
        "_cur",
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
    #: Counts per acquisition site, and the entry of the hold in progress.
    _at: AtTable
    _cur: AtCounts | None
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
        self._at = {}
        self._cur = None

    def _take(self, lock: Any, blocking: bool, timeout: float) -> float:
        """Acquire ``lock``: seconds waited (0.0 uncontended), or -1.0 if it failed. A failed
        non-blocking try first marks the acquisition contended and its wait is timed."""
        if lock.acquire(False):
            return 0.0
        if not blocking:
            if timeout != -1:
                raise ValueError("can't specify a timeout for a non-blocking call")
            self._failed += 1
            return -1.0
        start = perf_counter()
        if not lock.acquire(True, timeout):
            self._failed += 1
            return -1.0
        waited = perf_counter() - start or 1e-9  # contended, however short the clock saw it
        self._contended += 1
        self._wait_s += waited
        self._wait_max_s = max(self._wait_max_s, waited)
        return waited


class Site:
    """Every lock made at one line: the live ones, and the totals of those already freed."""

    __slots__ = (
        "created",
        "created_total",
        "folded",
        "folded_at",
        "folded_tally",
        "kind",
        "live",
        "origin",
        "primitives",
        "site",
    )

    def __init__(self, site: str, kind: str, origin: str) -> None:
        self.site, self.kind, self.origin = site, kind, origin
        self.live: weakref.WeakSet[Counts] = weakref.WeakSet()
        self.folded: dict[str, float] = dict.fromkeys((*_SUMMED, *_MAXED, "busiest_hold_s"), 0)
        self.folded["busiest_acquisitions"] = 0
        self.folded_at: AtTable = {}
        #: Primitives counted here besides locks (semaphores, queues...), with ``tally()``.
        self.primitives: weakref.WeakSet[Any] = weakref.WeakSet()
        self.folded_tally: dict[str, Any] = {}
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
        add_table(self.folded_at, lock._at)
        self.live.discard(lock)

    def fold_primitive(self, primitive: Any) -> None:
        """Keep the tally of a primitive that is being freed."""
        add_tally(self.folded_tally, primitive.tally())
        self.primitives.discard(primitive)

    def reset(self) -> None:
        """Zero the counts of the freed locks and primitives (the live ones zero their own)."""
        for name in self.folded:
            self.folded[name] = 0
        self.folded_at = {}
        self.folded_tally = {}
        self.created = 0

    def totals(self) -> dict[str, Any]:
        """The site's counts: freed locks plus live ones."""
        totals = dict(self.folded)
        at: AtTable = {}
        add_table(at, self.folded_at)
        tally: dict[str, Any] = dict(self.folded_tally)
        for primitive in list(self.primitives):
            add_tally(tally, primitive.tally())
        add_table(at, tally.pop("acquired_at", {}))
        rows = tally.pop("acquired_rows", [])  # counted in other processes, by line already
        for name in [n for n in tally if n.endswith("_at")]:
            tally[name] = table_rows(tally[name])
        for lock in list(self.live):
            add_table(at, lock._at)
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
            **tally,
            "acquired_at": merge_rows(table_rows(at), rows),
        }


def merge_rows(rows: list[dict[str, Any]], more: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` of acquisition lines with ``more`` added, line by line, busiest first."""
    by_site = {row["site"]: dict(row) for row in rows}
    for row in more:
        into = by_site.setdefault(row["site"], dict.fromkeys(row, 0) | {"site": row["site"]})
        for name in ("acquisitions", "contended", "wait_s", "hold_s"):
            into[name] += row[name]
    return sorted(by_site.values(), key=lambda r: r["hold_s"] + r["wait_s"], reverse=True)


def add_tally(into: dict[str, Any], tally: dict[str, Any]) -> None:
    """Add a primitive's tally: sums, except ``*_max*`` (maxima) and ``*_at`` (tables of
    acquisition sites)."""
    for name, value in tally.items():
        if name == "acquired_rows":
            into[name] = [*into.get(name, []), *value]
        elif name.endswith("_at"):
            add_table(into.setdefault(name, {}), value)
        elif "_max" in name:
            into[name] = max(into.get(name, 0), value)
        else:
            into[name] = into.get(name, 0) + value
