"""``threading.Lock`` and ``threading.RLock`` stand-ins that count while they are held.

``_thread.lock`` cannot be subclassed, so each wraps a raw lock and keeps its counts in the
slots of ``Counts``; the registry that made it sums them by creation site.
"""

from __future__ import annotations

import _thread
import sys
from threading import get_ident
from time import perf_counter, thread_time
from typing import TYPE_CHECKING, Any

from tunekit.probes.locks.counting import SAMPLE_MASK, Counts
from tunekit.probes.locks.frames import OFFSET_BITS, at_entry

if TYPE_CHECKING:
    from tunekit.probes.locks.counting import Site
    from tunekit.probes.locks.registry import Registry


class InstrumentedLock(Counts):
    """A ``threading.Lock`` that counts its acquisitions, contention, waits and holds."""

    __slots__ = ("__weakref__", "_c0", "_lock", "_owner", "_registry", "_site", "_t0")

    def __init__(self, lock: _thread.LockType, site: Site, registry: Registry) -> None:
        self._lock = lock
        self._site = site
        self._registry = registry
        self._t0 = self._c0 = -1.0
        self._owner = 0
        self._registry.add(site, self)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire; a failed non-blocking try first marks the acquisition contended. Counted
        at the caller's line too (the critical section)."""
        waited = self._take(self._lock, blocking, timeout)
        if waited < 0.0:
            return False
        frame = sys._getframe(1)
        # The key ``at_entry`` gives a line taken before (inlined: this is the hot path); a
        # primitive's own frame is never a key, so it always goes the long way out.
        at = self._at.get(id(frame.f_code) << OFFSET_BITS | frame.f_lasti)
        self._cur = at = at if at is not None else at_entry(self._at, frame)
        at[0] += 1
        if waited:
            at[1] += 1
            at[2] += waited
        self._c0 = -1.0 if self._acquisitions & SAMPLE_MASK else thread_time()
        self._acquisitions += 1
        self._owner = get_ident()
        self._t0 = perf_counter()
        return True

    __enter__ = acquire

    def release(self) -> None:
        """Release, adding the hold to the counts (CPU time only if this thread acquired)."""
        t0 = self._t0
        if t0 >= 0.0:
            held = perf_counter() - t0
            self._hold_s += held
            if held > self._hold_max_s:  # noqa: PLR1730 (max() costs 65 ns here, if 9 ns)
                self._hold_max_s = held
            at = self._cur
            if at is not None:
                at[3] += held
            if self._owner != get_ident():
                self._foreign_releases += 1
            elif self._c0 >= 0.0:
                self._hold_cpu_s += thread_time() - self._c0
                self._hold_cpu_wall_s += held
            self._t0 = -1.0
        self._lock.release()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def locked(self) -> bool:
        """Whether some thread holds the lock."""
        return self._lock.locked()

    def _is_owned(self) -> bool:
        # What Condition's fallback computes, without counting a failed try.
        return self._lock.locked()

    def _at_fork_reinit(self) -> None:
        self._lock._at_fork_reinit()  # type: ignore[attr-defined]
        self._t0 = -1.0

    def __repr__(self) -> str:
        state = "locked" if self.locked() else "unlocked"
        return f"<instrumented {state} lock from {self._site.site}>"

    def __del__(self) -> None:
        self._registry.fold(self._site, self)


class InstrumentedRLock(Counts):
    """A ``threading.RLock`` that counts like ``InstrumentedLock``; a hold runs from the
    outermost acquire to the matching release."""

    __slots__ = ("__weakref__", "_c0", "_depth", "_lock", "_owner", "_registry", "_site", "_t0")

    def __init__(self, lock: Any, site: Site, registry: Registry) -> None:
        self._lock = lock
        self._site = site
        self._registry = registry
        self._t0 = self._c0 = -1.0
        self._owner = self._depth = 0
        self._registry.add(site, self)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire (again, if this thread holds it); contended as for ``InstrumentedLock``."""
        waited = self._take(self._lock, blocking, timeout)
        if waited < 0.0:
            return False
        self._depth += 1  # only the owner gets here
        if self._depth == 1:
            frame = sys._getframe(1)
            at = self._at.get(id(frame.f_code) << OFFSET_BITS | frame.f_lasti)
            self._cur = at = at if at is not None else at_entry(self._at, frame)
            at[0] += 1
            if waited:
                at[1] += 1
                at[2] += waited
            self._c0 = -1.0 if self._acquisitions & SAMPLE_MASK else thread_time()
            self._owner = get_ident()
            self._t0 = perf_counter()
        else:
            self._reentrant += 1
        self._acquisitions += 1
        return True

    __enter__ = acquire

    def release(self) -> None:
        """Release once; the hold ends with the outermost release."""
        if self._depth and self._owner == get_ident():
            if self._depth == 1:
                self._end_hold()
            self._depth -= 1
        self._lock.release()  # raises for a thread that does not own it, as RLock does

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _end_hold(self) -> None:
        held = perf_counter() - self._t0
        self._hold_s += held
        if held > self._hold_max_s:  # noqa: PLR1730 (as in InstrumentedLock.release)
            self._hold_max_s = held
        if self._cur is not None:
            self._cur[3] += held
        if self._c0 >= 0.0:
            self._hold_cpu_s += thread_time() - self._c0
            self._hold_cpu_wall_s += held
        self._t0 = -1.0
        self._owner = 0

    # Condition.wait() releases an RLock fully and takes it back at the same depth.

    def _release_save(self) -> Any:
        if self._lock._is_owned():
            self._end_hold()
            self._depth = 0
        return self._lock._release_save()

    def _acquire_restore(self, state: tuple[int, int]) -> None:
        count, _owner = state
        self.acquire()
        for _ in range(count - 1):
            self._lock.acquire()
        self._depth = count

    def _is_owned(self) -> bool:
        return bool(self._lock._is_owned())

    def _recursion_count(self) -> int:
        return int(self._lock._recursion_count())

    def _at_fork_reinit(self) -> None:
        self._lock._at_fork_reinit()
        self._t0 = -1.0
        self._owner = self._depth = 0

    def __repr__(self) -> str:
        return f"<instrumented RLock from {self._site.site}, depth {self._depth}>"

    def __del__(self) -> None:
        self._registry.fold(self._site, self)
