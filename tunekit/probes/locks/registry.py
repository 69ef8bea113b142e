"""Where instrumented locks were made: their creation sites, and the factories that make them.

``CountingLock`` and ``new_rlock`` are what ``threading.Lock`` and ``threading.RLock`` become once
the factories are replaced; they count at the sites of ``REGISTRY``. ``CountingLock`` is a
class, as ``threading.Lock`` is from 3.13 on: user code that writes ``isinstance(x,
threading.Lock)`` or ``threading.Lock | None`` keeps working, for raw and counting locks alike.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import gc
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from tunekit.probes.locks.counting import Counts, Site
from tunekit.probes.locks.frames import ASYNC_LOCKS, PACKAGE_FILES, THREADING
from tunekit.probes.locks.origin import origin_of
from tunekit.probes.locks.wrappers import InstrumentedLock, InstrumentedRLock

#: The factories as they were before ``instrument()``.
RAW_LOCK = _thread.allocate_lock
RAW_RLOCK = _thread.RLock
RAW_ASYNC_LOCK = asyncio.Lock
#: ``threading.Condition`` as it was: the internal condition of the counting primitives.
RAW_CONDITION = threading.Condition

#: Locks that ``Thread`` makes for itself (its ``_started`` event) belong to threading.
_THREAD_MACHINERY = frozenset({"Thread", "Timer", "_MainThread", "_DummyThread"})


class Registry:
    """Creation sites of instrumented locks, and the factories that make them."""

    def __init__(self) -> None:
        self._guard = RAW_RLOCK()  # reentrant: a lock freed while the guard is held folds in
        self._sites: dict[tuple[str, str], Site] = {}

    def new_lock(self) -> InstrumentedLock:
        """A counting ``threading.Lock``, attributed to the caller's line."""
        return InstrumentedLock(RAW_LOCK(), self.site_of(sys._getframe(1), "Lock"), self)

    def new_rlock(self) -> InstrumentedRLock:
        """A counting ``threading.RLock``, attributed to the caller's line."""
        return InstrumentedRLock(RAW_RLOCK(), self.site_of(sys._getframe(1), "RLock"), self)

    def site_of(self, frame: FrameType | None, kind: str, new: bool = True) -> Site:
        """The site of the first frame outside threading, asyncio.locks and this package; the
        outermost threading class on the way names the kind (``Semaphore``, ``Condition``).
        ``new``: one more instance made there (not for a condition's own default lock)."""
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename in (THREADING, ASYNC_LOCKS):
                owner, dot, _ = frame.f_code.co_qualname.partition(".")
                if dot:
                    kind = owner if filename == THREADING else f"asyncio.{owner}"
            elif filename not in PACKAGE_FILES:
                break
            frame = frame.f_back
        where = f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "?"
        origin = origin_of(frame.f_code.co_filename) if frame is not None else "unknown"
        if kind in _THREAD_MACHINERY:
            origin = "stdlib"
        with self._guard:
            site = self._sites.get((where, kind))
            if site is None:
                site = self._sites[(where, kind)] = Site(where, kind, origin)
            site.created += new
            site.created_total += new
        return site

    def add(self, site: Site, lock: Counts) -> None:
        """Count ``lock`` (its counters zeroed) at ``site``."""
        lock._zero()
        with self._guard:
            site.live.add(lock)

    def fold(self, site: Site, lock: Counts) -> None:
        """Keep the counts of a lock being freed."""
        with self._guard:
            site.fold(lock)

    def add_primitive(self, site: Site, primitive: Any) -> None:
        """Count ``primitive`` (a semaphore, queue...: ``tally()``, ``zero()``) at ``site``."""
        primitive.zero()
        with self._guard:
            site.primitives.add(primitive)

    def fold_primitive(self, site: Site, primitive: Any) -> None:
        """Keep the tally of a primitive being freed."""
        with self._guard:
            site.fold_primitive(primitive)

    def shared_lines(self) -> list[tuple[str, str, list[dict[str, Any]]]]:
        """The acquisition lines this process counted on primitives shared with other
        processes (those with ``lines()``), by their creation site and kind."""
        with self._guard:
            return [
                (site.site, site.kind, primitive.lines())
                for site in self._sites.values()
                for primitive in list(site.primitives)
                if hasattr(primitive, "lines")
            ]

    def add_shared_lines(self, lines: list[tuple[str, str, list[dict[str, Any]]]]) -> None:
        """Add the acquisition lines another process counted (``shared_lines``) to the same
        primitives here: the first of each site."""
        with self._guard:
            for where, kind, rows in lines:
                site = self._sites.get((where, kind))
                primitive = next(iter(list(site.primitives)), None) if site else None
                if primitive is not None and hasattr(primitive, "add_lines"):
                    primitive.add_lines(rows)

    def reset(self) -> None:
        """Zero every count (after the warm-up); the locks themselves are kept."""
        with self._guard, _gc_paused():
            for site in self._sites.values():
                site.reset()
                for lock in list(site.live):
                    lock._zero()
                for primitive in list(site.primitives):
                    primitive.zero()

    def snapshot(self) -> list[dict[str, Any]]:
        """Every site's totals."""
        with self._guard, _gc_paused():
            return [site.totals() for site in list(self._sites.values())]


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic collection (which could free and fold a lock) while the sites are walked."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: The sites of this process's instrumented locks.
REGISTRY = Registry()


#: What ``isinstance(x, threading.Lock)`` accepts once instrumented: either kind of lock.
LOCK_TYPES = (InstrumentedLock, _thread.LockType)


class _CountingLockType(type):
    """Calling the class makes a counting lock at the caller's site; instance and subclass
    checks accept raw locks and counting ones."""

    def __call__(cls) -> InstrumentedLock:
        return InstrumentedLock(RAW_LOCK(), REGISTRY.site_of(sys._getframe(1), "Lock"), REGISTRY)

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, LOCK_TYPES)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, LOCK_TYPES)


class CountingLock(metaclass=_CountingLockType):
    """What ``threading.Lock`` becomes: a class whose instances are counting locks."""


def new_rlock() -> InstrumentedRLock:
    """A counting ``threading.RLock`` at the caller's site in ``REGISTRY``."""
    return InstrumentedRLock(RAW_RLOCK(), REGISTRY.site_of(sys._getframe(1), "RLock"), REGISTRY)
