"""``queue.Queue``, ``LifoQueue`` and ``PriorityQueue`` stand-ins that count both sides.

A producer-consumer queue's waits are in its conditions, on its mutex: counted as such they
are the standard library's and hidden. These subclasses count per line of the ``put`` and the
``get``: calls, those that found the queue full (a put) or empty (a get) and so could wait,
and the time those calls took, whether they ended with an item or timed out; and, updated
under the queue's own mutex at every change, the depth integrated over time, and the time the
queue spent empty and full.
"""

from __future__ import annotations

import queue
import sys
from time import perf_counter
from typing import Any

from tunekit.probes.locks.frames import AtTable, at_entry
from tunekit.probes.locks.registry import RAW_LOCK, REGISTRY

RAW_QUEUES = (queue.Queue, queue.LifoQueue, queue.PriorityQueue)


def fresh_queue_stats() -> dict[str, float]:
    """A queue's times at zero: waits of each side, depth x time, time empty and full, and the
    deepest it was."""
    return dict.fromkeys(
        ("put_wait_s", "get_wait_s", "depth_s", "empty_s", "full_s", "depth_max"), 0.0
    )


def advance_depth(stats: dict[str, float], last: float, depth: int, maxsize: int) -> float:
    """Add the time since ``last`` at ``depth`` to a queue's ``stats``; the time now."""
    now = perf_counter()
    span = now - last
    stats["depth_s"] += depth * span
    if depth == 0:
        stats["empty_s"] += span
    elif 0 < maxsize <= depth:
        stats["full_s"] += span
    stats["depth_max"] = max(stats["depth_max"], depth)
    return now


class QueueCounts:
    """What an instrumented queue counts, mixed in before a ``queue`` class."""

    _kind = "Queue"
    maxsize: int
    mutex: Any
    _qsize: Any

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)  # type: ignore[call-arg]
        self._stats = RAW_LOCK()
        self._site = REGISTRY.site_of(sys._getframe(1), self._kind)
        REGISTRY.add_primitive(self._site, self)

    def zero(self) -> None:
        """Start counting afresh."""
        self._n = {"puts": 0, "gets": 0, "put_waits": 0, "get_waits": 0}
        self._s = fresh_queue_stats()
        self._put_at: AtTable = {}
        self._get_at: AtTable = {}
        self._since = self._last = perf_counter()

    def _advance(self) -> None:
        """Add the time since the last change at the depth then (mutex held)."""
        self._last = advance_depth(self._s, self._last, self._qsize(), self.maxsize)

    def _put(self, item: Any) -> None:
        self._advance()
        super()._put(item)  # type: ignore[misc]

    def _get(self) -> Any:
        self._advance()
        return super()._get()  # type: ignore[misc]

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """Put as ``Queue.put``; counted at the caller's line, waiting if it found it full."""
        frame = sys._getframe(1)
        full = block and 0 < self.maxsize <= self._qsize()
        start = perf_counter()
        try:
            super().put(item, block, timeout)  # type: ignore[misc]
        finally:  # a put that timed out (queue.Full) waited all the same
            self._count(self._put_at, frame, "put", full, perf_counter() - start)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Get as ``Queue.get``; counted at the caller's line, waiting if it found it empty."""
        frame = sys._getframe(1)
        empty = block and not self._qsize()
        start = perf_counter()
        try:
            return super().get(block, timeout)  # type: ignore[misc]
        finally:  # a get that timed out (queue.Empty) waited all the same
            self._count(self._get_at, frame, "get", empty, perf_counter() - start)

    def _count(self, table: AtTable, frame: Any, side: str, waited: bool, took: float) -> None:
        with self._stats:
            at = at_entry(table, frame)
            at[0] += 1
            self._n[side + "s"] += 1
            if waited:
                at[1] += 1
                at[2] += took
                self._n[side + "_waits"] += 1
                self._s[side + "_wait_s"] += took

    def tally(self) -> dict[str, Any]:
        """What was counted, up to now."""
        with self.mutex:
            self._advance()
            observed = perf_counter() - self._since
        with self._stats:
            return {
                **self._n,
                **self._s,
                "maxsize_max": self.maxsize,
                "observed_s": observed,
                "put_at": {key: list(counts) for key, counts in self._put_at.items()},
                "get_at": {key: list(counts) for key, counts in self._get_at.items()},
            }

    def __del__(self) -> None:
        site = getattr(self, "_site", None)
        if site is not None:
            REGISTRY.fold_primitive(site, self)


class InstrumentedQueue(QueueCounts, queue.Queue):  # type: ignore[type-arg]
    """A ``queue.Queue`` that counts its puts, gets, waits and depth."""


# The kin subclass ``InstrumentedQueue`` (what ``queue.Queue`` becomes), so that
# ``isinstance(q, queue.Queue)`` holds for them as it does for the real ones.


class InstrumentedLifoQueue(InstrumentedQueue, queue.LifoQueue):  # type: ignore[type-arg]
    """A ``queue.LifoQueue`` that counts like ``InstrumentedQueue``."""

    _kind = "LifoQueue"


class InstrumentedPriorityQueue(InstrumentedQueue, queue.PriorityQueue):  # type: ignore[type-arg]
    """A ``queue.PriorityQueue`` that counts like ``InstrumentedQueue``."""

    _kind = "PriorityQueue"
