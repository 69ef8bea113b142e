"""``multiprocessing`` Lock, RLock, Semaphore and BoundedSemaphore stand-ins whose counts are
shared by every process that uses them.

Their counters live in shared memory (a ``RawArray`` made with the primitive), so the
processes of a pool that inherit the primitive count into the same place and the probe reads
the total, aggregated across processes. A lock's counters change only while it is held, so
they need no guard; a semaphore, held by several at once, guards them with a raw lock of its
own. ``perf_counter`` is the system-wide monotonic clock on Linux, so a hold started in one
process and ended in another is still timed right. Each subclasses the real class.
"""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing import synchronize
from multiprocessing.sharedctypes import RawArray
from pathlib import Path
from time import perf_counter, thread_time
from typing import Any

from tunekit.probes.locks.frames import PACKAGE_FILES, AtTable, at_entry, table_rows
from tunekit.probes.locks.registry import REGISTRY

RAW_MP = {
    "Lock": synchronize.Lock,
    "RLock": synchronize.RLock,
    "Semaphore": synchronize.Semaphore,
    "BoundedSemaphore": synchronize.BoundedSemaphore,
}
#: multiprocessing's own frames (the context's factory methods): never a creation site.
_MP_FILES = frozenset(str(path) for path in Path(multiprocessing.__file__).parent.glob("*.py"))
_PASSED = PACKAGE_FILES | _MP_FILES
#: Shared slots: acquisitions, contended, wait_s, hold_s (or permit_s), hold start or last
#: change, permits in use, all_held_s, and a lock's hold CPU time over the wall time of the
#: same holds (every hold is sampled: the lock's own take, a semaphore system call, costs
#: more than the two thread-CPU reads).
_SLOTS = 9
_ACQ, _CONTENDED, _WAIT, _HOLD, _T0, _IN_USE, _ALL_HELD, _CPU, _CPU_WALL = range(_SLOTS)


def _creation_frame() -> Any:
    frame: Any = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename in _PASSED:
        frame = frame.f_back
    return frame


class SharedCounts:
    """Counters in shared memory, for a ``multiprocessing`` primitive (mixed in before it)."""

    _kind = "multiprocessing.Lock"
    _semlock: Any
    _shared: Any

    def _count_here(self) -> None:
        self._shared = RawArray("d", _SLOTS)
        self._depth = 0
        self._c0 = -1.0
        #: Acquisition lines: this process's (``_at``) and those its workers sent back.
        self._at: AtTable = {}
        self._rows: list[dict[str, Any]] = []
        self._site = REGISTRY.site_of(_creation_frame(), self._kind)
        REGISTRY.add_primitive(self._site, self)

    def _make_methods(self) -> None:
        self.acquire = self._acquire
        self.release = self._release

    def __enter__(self) -> bool:
        return self._acquire()

    def __exit__(self, *exc: object) -> None:
        self._release()

    def _take(self, block: bool, timeout: float | None) -> float:
        """Seconds waited (0.0 uncontended), or -1.0 if not taken."""
        if self._semlock.acquire(False):
            return 0.0
        if not block:
            return -1.0
        start = perf_counter()
        if not self._semlock.acquire(True, timeout):
            return -1.0
        return perf_counter() - start or 1e-9

    def _acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        waited = self._take(block, timeout)
        if waited < 0.0:
            return False
        shared = self._shared
        self._depth += 1
        if self._depth == 1:  # an RLock's outermost take; a Lock's every take
            self._cur = at = at_entry(self._at, sys._getframe(1))
            at[0] += 1
            if waited:
                at[1] += 1
                at[2] += waited
            shared[_ACQ] += 1
            if waited:
                shared[_CONTENDED] += 1
                shared[_WAIT] += waited
            self._c0 = thread_time()
            shared[_T0] = perf_counter()
        return True

    def _release(self) -> None:
        shared = self._shared
        if self._depth == 1 and shared[_T0] > 0:
            held = perf_counter() - shared[_T0]
            shared[_HOLD] += held
            if self._c0 >= 0.0:
                self._cur[3] += held
            if self._c0 >= 0.0:  # taken in this process: its CPU time is this thread's
                shared[_CPU] += thread_time() - self._c0
                shared[_CPU_WALL] += held
            shared[_T0] = 0.0
            self._c0 = -1.0
        self._depth = max(self._depth - 1, 0)
        self._semlock.release()

    def lines(self) -> list[dict[str, Any]]:
        """This process's acquisition lines (a worker sends them back to the probe)."""
        return table_rows(self._at)

    def add_lines(self, rows: list[dict[str, Any]]) -> None:
        """Keep the acquisition lines a worker process counted."""
        self._rows.extend(rows)

    def zero(self) -> None:
        """Start counting afresh (in the process that made it, before the workers start)."""
        self._at, self._rows = {}, []
        for slot in range(_SLOTS):
            self._shared[slot] = 0.0
        self._shared[_T0] = 0.0 if not self._depth else perf_counter()

    def tally(self) -> dict[str, Any]:
        """The counts of every process that used it."""
        shared = self._shared
        return {
            "acquisitions": int(shared[_ACQ]),
            "contended": int(shared[_CONTENDED]),
            "wait_s": shared[_WAIT],
            "hold_s": shared[_HOLD],
            "hold_cpu_s": shared[_CPU],
            "hold_cpu_wall_s": shared[_CPU_WALL],
            "acquired_at": {key: list(counts) for key, counts in self._at.items()},
            "acquired_rows": list(self._rows),
        }

    def __getstate__(self) -> Any:
        return (super().__getstate__(), self._shared, self._kind)

    def __setstate__(self, state: Any) -> None:
        semlock_state, self._shared, self._kind = state
        self._depth = 0
        self._c0 = -1.0
        self._at, self._rows = {}, []
        super().__setstate__(semlock_state)  # type: ignore[misc]


class InstrumentedMpLock(SharedCounts, synchronize.Lock):
    """A ``multiprocessing.Lock`` whose counts are shared by the processes that use it."""

    def __init__(self, *, ctx: Any) -> None:
        super().__init__(ctx=ctx)
        self._count_here()


class InstrumentedMpRLock(SharedCounts, synchronize.RLock):
    """A ``multiprocessing.RLock``: a hold runs from the outermost take to its release."""

    _kind = "multiprocessing.RLock"

    def __init__(self, *, ctx: Any) -> None:
        super().__init__(ctx=ctx)
        self._count_here()


class InstrumentedMpSemaphore(SharedCounts, synchronize.Semaphore):
    """A ``multiprocessing.Semaphore``: permits in use over time, shared by the processes."""

    _kind = "multiprocessing.Semaphore"

    def __init__(self, value: int = 1, *, ctx: Any) -> None:
        super().__init__(value, ctx=ctx)
        self._permits = value
        self._guard = RAW_MP["Lock"](ctx=ctx)
        self._count_here()

    def _advance(self, now: float, change: int) -> None:
        shared = self._shared
        if shared[_T0] > 0:
            span = now - shared[_T0]
            shared[_HOLD] += shared[_IN_USE] * span
            if shared[_IN_USE] >= self._permits:
                shared[_ALL_HELD] += span
        shared[_T0] = now
        shared[_IN_USE] = max(shared[_IN_USE] + change, 0)

    def _acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        waited = self._take(block, timeout)
        if waited < 0.0:
            return False
        with self._guard:
            shared = self._shared
            self._advance(perf_counter(), +1)
            at = at_entry(self._at, sys._getframe(1))
            at[0] += 1
            if waited:
                at[1] += 1
                at[2] += waited
            shared[_ACQ] += 1
            if waited:
                shared[_CONTENDED] += 1
                shared[_WAIT] += waited
        return True

    def _release(self) -> None:
        self._semlock.release()
        with self._guard:
            self._advance(perf_counter(), -1)

    def zero(self) -> None:
        """Start counting afresh, from the permits in use now."""
        with self._guard:
            self._at, self._rows = {}, []
            in_use = self._shared[_IN_USE]
            for slot in range(_SLOTS):
                self._shared[slot] = 0.0
            self._shared[_IN_USE], self._shared[_T0] = in_use, perf_counter()
            self._since = perf_counter()

    def tally(self) -> dict[str, Any]:
        """The counts of every process that used it."""
        with self._guard:
            now = perf_counter()
            self._advance(now, 0)
            shared = self._shared
            return {
                "acquisitions": int(shared[_ACQ]),
                "contended": int(shared[_CONTENDED]),
                "wait_s": shared[_WAIT],
                "permit_s": shared[_HOLD],
                "all_held_s": shared[_ALL_HELD],
                "permits_max": self._permits,
                "observed_s": now - self._since,
                "acquired_at": {key: list(counts) for key, counts in self._at.items()},
                "acquired_rows": list(self._rows),
            }


class InstrumentedMpBoundedSemaphore(InstrumentedMpSemaphore, synchronize.BoundedSemaphore):
    """A ``multiprocessing.BoundedSemaphore`` that counts like ``InstrumentedMpSemaphore``."""

    _kind = "multiprocessing.BoundedSemaphore"


def instrument_multiprocessing() -> None:
    """Make ``multiprocessing``'s Lock, RLock, Semaphore and BoundedSemaphore counting: the
    context's factories import them from ``multiprocessing.synchronize`` at each call."""
    synchronize.Lock = InstrumentedMpLock  # type: ignore[misc]
    synchronize.RLock = InstrumentedMpRLock  # type: ignore[misc]
    synchronize.Semaphore = InstrumentedMpSemaphore  # type: ignore[misc]
    synchronize.BoundedSemaphore = InstrumentedMpBoundedSemaphore  # type: ignore[misc]
