"""Lock contention profile: where the user's code makes locks, and how they are taken and held.

``_thread.lock`` cannot be subclassed, so ``prepare()`` (run before the target is imported)
replaces the factories instead: ``threading.Lock`` and ``threading.RLock`` return small
wrappers, and ``asyncio.Lock`` becomes a counting subclass. CPython 3.11's ``threading`` makes
the locks of ``Condition`` (``RLock()``), ``Semaphore``, ``Event`` and ``Barrier``
(``Condition(Lock())``) through those module globals, so they are counted too and attributed
to the line that built them. ``threading._allocate_lock`` is left alone on purpose: it makes
the one-shot waiter lock of every ``Condition.wait``, a signal rather than a lock.

Each lock counts acquisitions, contended ones (a non-blocking try failed first), the wait for
those, and its holds: wall time always, thread CPU time on one hold in ``CPU_SAMPLE_EVERY``
(``time.thread_time`` is a system call here, ~0.45 us; sampling keeps the wrapper near the
~0.65 us of DESIGN.md). Counters live in the lock and change only while it is held, so they
need no lock of their own; at the end they are summed by creation site (the first frame
outside ``threading``, ``asyncio.locks`` and this module). Sites in the user's code are
reported; those of the standard library, site-packages and tunekit are summarized apart.

The instrumentation's cost is measured, not guessed: an uncontended ``with lock:`` on a raw
and on an instrumented lock, and lock creation, timed in this process after the run; times
the counts of the run, that is the estimated overhead (reported, and taken out of the CPU
time and of the hold times that the advice uses).
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import gc
import itertools
import os
import sys
import sysconfig
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import get_ident
from time import perf_counter, process_time, thread_time
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from tunekit.calls import blocking_caller, start_all_threads
from tunekit.hookspecs import hookimpl
from tunekit.probes import ProbeContext
from tunekit.probes.nature import core_share

if TYPE_CHECKING:
    from tunekit.probes import Probe
    from tunekit.target import Call, Target

#: The factories as they were before ``instrument()``.
RAW_LOCK = _thread.allocate_lock
RAW_RLOCK = _thread.RLock
RAW_ASYNC_LOCK = asyncio.Lock
#: Thread CPU time is read on one hold in this many (a power of two).
CPU_SAMPLE_EVERY = 8
_SAMPLE_MASK = CPU_SAMPLE_EVERY - 1
#: Threads of the run: at least 4, so that contention shows even on 1-2 cores; 2 per CPU, so
#: that GIL-releasing holds can overlap on every core with a thread waiting behind each; at
#: most 16, the analysis's default largest pool.
MIN_THREADS = 4
THREADS_PER_CPU = 2
MAX_THREADS = 16
#: Coroutines kept in flight on the one event loop (as many as the nature probe starts).
IN_FLIGHT = 8
#: Uncontended ``with lock:`` rounds per timing of the overhead benchmark, best of the repeats.
BENCH_ROUNDS = 20_000
BENCH_CREATIONS = 2_000
BENCH_REPEATS = 5
#: Sites outside the user's code listed in the result (the busiest), besides their totals.
HIDDEN_LISTED = 10

_HERE = __file__
_THREADING = threading.__file__
_ASYNC_LOCKS = asyncio.locks.__file__
#: Locks that ``Thread`` makes for itself (its ``_started`` event) belong to threading.
_THREAD_MACHINERY = frozenset({"Thread", "Timer", "_MainThread", "_DummyThread"})

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


class _Counts:
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
        for name in _Counts.__slots__:
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
        self.live: weakref.WeakSet[_Counts] = weakref.WeakSet()
        self.folded: dict[str, float] = dict.fromkeys((*_SUMMED, *_MAXED, "busiest_hold_s"), 0)
        self.folded["busiest_acquisitions"] = 0
        #: Locks made here since the last reset, and in all.
        self.created = self.created_total = 0

    def fold(self, lock: _Counts) -> None:
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

    def site_of(self, frame: FrameType | None, kind: str) -> Site:
        """The site of the first frame outside threading, asyncio.locks and this module; the
        outermost threading class on the way names the kind (``Semaphore``, ``Condition``)."""
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename in (_THREADING, _ASYNC_LOCKS):
                owner, dot, _ = frame.f_code.co_qualname.partition(".")
                if dot:
                    kind = owner if filename == _THREADING else f"asyncio.{owner}"
            elif filename != _HERE:
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
            site.created += 1
            site.created_total += 1
        return site

    def add(self, site: Site, lock: _Counts) -> None:
        """Count ``lock`` (its counters zeroed) at ``site``."""
        lock._zero()
        with self._guard:
            site.live.add(lock)

    def fold(self, site: Site, lock: _Counts) -> None:
        """Keep the counts of a lock being freed."""
        with self._guard:
            site.fold(lock)

    def reset(self) -> None:
        """Zero every count (after the warm-up); the locks themselves are kept."""
        with self._guard, _gc_paused():
            for site in self._sites.values():
                for name in site.folded:
                    site.folded[name] = 0
                site.created = 0
                for lock in list(site.live):
                    lock._zero()

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


class InstrumentedLock(_Counts):
    """A ``threading.Lock`` that counts its acquisitions, contention, waits and holds."""

    __slots__ = ("__weakref__", "_c0", "_lock", "_owner", "_registry", "_site", "_t0")

    def __init__(
        self, lock: _thread.LockType, site: Site, registry: Registry | None = None
    ) -> None:
        self._lock = lock
        self._site = site
        self._registry = registry or REGISTRY
        self._t0 = self._c0 = -1.0
        self._owner = 0
        self._registry.add(site, self)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire; a failed non-blocking try first marks the acquisition contended."""
        if not self._take(self._lock, blocking, timeout):
            return False
        self._c0 = -1.0 if self._acquisitions & _SAMPLE_MASK else thread_time()
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


class InstrumentedRLock(_Counts):
    """A ``threading.RLock`` that counts like ``InstrumentedLock``; a hold runs from the
    outermost acquire to the matching release."""

    __slots__ = ("__weakref__", "_c0", "_depth", "_lock", "_owner", "_registry", "_site", "_t0")

    def __init__(self, lock: Any, site: Site, registry: Registry | None = None) -> None:
        self._lock = lock
        self._site = site
        self._registry = registry or REGISTRY
        self._t0 = self._c0 = -1.0
        self._owner = self._depth = 0
        self._registry.add(site, self)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire (again, if this thread holds it); contended as for ``InstrumentedLock``."""
        if not self._take(self._lock, blocking, timeout):
            return False
        self._depth += 1  # only the owner gets here
        if self._depth == 1:
            self._c0 = -1.0 if self._acquisitions & _SAMPLE_MASK else thread_time()
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


class InstrumentedAsyncLock(asyncio.Lock, _Counts):
    """An ``asyncio.Lock`` that counts like ``InstrumentedLock``. Its hold CPU is the event
    loop thread's, so it includes other coroutines that ran while it was held."""

    def __init__(self) -> None:
        super().__init__()
        self._site = REGISTRY.site_of(sys._getframe(1), "asyncio.Lock")
        self._t0 = self._c0 = -1.0
        REGISTRY.add(self._site, self)

    async def acquire(self) -> Literal[True]:
        """Acquire; contended when it would wait (the test ``asyncio.Lock`` itself makes)."""
        waiters = self._waiters
        if self.locked() or (waiters and not all(w.cancelled() for w in waiters)):
            start = perf_counter()
            try:
                await super().acquire()
            except asyncio.CancelledError:
                self._failed += 1
                raise
            waited = perf_counter() - start
            self._contended += 1
            self._wait_s += waited
            self._wait_max_s = max(self._wait_max_s, waited)
        else:
            await super().acquire()
        self._c0 = -1.0 if self._acquisitions & _SAMPLE_MASK else thread_time()
        self._acquisitions += 1
        self._t0 = perf_counter()
        return True

    def release(self) -> None:
        """Release, adding the hold to the counts."""
        if self.locked() and self._t0 >= 0.0:
            held = perf_counter() - self._t0
            self._hold_s += held
            if held > self._hold_max_s:  # noqa: PLR1730 (as in InstrumentedLock.release)
                self._hold_max_s = held
            if self._c0 >= 0.0:
                self._hold_cpu_s += thread_time() - self._c0
                self._hold_cpu_wall_s += held
            self._t0 = -1.0
        super().release()

    def __del__(self) -> None:
        REGISTRY.fold(self._site, self)


#: The sites of this process's instrumented locks.
REGISTRY = Registry()


def _new_lock() -> InstrumentedLock:
    return InstrumentedLock(RAW_LOCK(), REGISTRY.site_of(sys._getframe(1), "Lock"))


def _new_rlock() -> InstrumentedRLock:
    return InstrumentedRLock(RAW_RLOCK(), REGISTRY.site_of(sys._getframe(1), "RLock"))


def instrument() -> None:
    """Make ``threading.Lock``/``RLock`` and ``asyncio.Lock`` counting, in this process, for
    good (call it before the code to measure is imported)."""
    threading.Lock = _new_lock  # type: ignore[assignment]
    threading.RLock = _new_rlock  # type: ignore[assignment]
    asyncio.Lock = asyncio.locks.Lock = InstrumentedAsyncLock  # type: ignore[misc]


# --- where a lock was made ---------------------------------------------------------------------


def _dirs(*paths: str | None) -> tuple[str, ...]:
    return tuple({os.path.realpath(p) + os.sep for p in paths if p})


_TUNEKIT_DIR = _dirs(str(Path(__file__).parent.parent))
_PATHS = sysconfig.get_paths()
_SITE_DIRS = _dirs(_PATHS.get("purelib"), _PATHS.get("platlib"))
_STDLIB_DIRS = _dirs(_PATHS.get("stdlib"), _PATHS.get("platstdlib"))
_origins: dict[str, str] = {}


def origin_of(filename: str) -> str:
    """``user``, ``stdlib``, ``site-packages``, ``tunekit`` or ``unknown`` (frozen, exec'd)."""
    origin = _origins.get(filename)
    if origin is None:
        origin = _origins[filename] = _classify_path(filename)
    return origin


def _classify_path(filename: str) -> str:
    if filename.startswith("<"):
        return "unknown"
    path = os.path.realpath(filename)
    if path.startswith(_TUNEKIT_DIR):
        return "tunekit"
    parts = Path(path).parts
    if path.startswith(_SITE_DIRS) or "site-packages" in parts or "dist-packages" in parts:
        return "site-packages"
    if path.startswith(_STDLIB_DIRS):
        return "stdlib"
    return "user"


# --- the probe ---------------------------------------------------------------------------------


class LockProbe:
    """Lock contention by creation site, with the target run on threads (or a loop)."""

    name = "locks"
    description = "lock acquisitions, contention, waits and holds by creation site, overhead"

    def supports(self, target: Target) -> str | None:
        """Every target can be measured."""
        return None

    def prepare(self) -> None:
        """Replace the lock factories before the target is imported."""
        instrument()

    def run(self, target: Target, context: ProbeContext) -> dict[str, Any]:
        """Run the target concurrently for ``context.time_s``; counts by site, and overhead."""
        if getattr(threading, "Lock", None) is not _new_lock:
            instrument()  # prepare() was not called: locks made at import are not seen
        share_before = core_share()
        if target.is_coroutine:
            workers, runner = IN_FLIGHT, "asyncio"
            run = asyncio.run(_run_coroutines(target, context.time_s, workers))
        else:
            workers = max(MIN_THREADS, min(THREADS_PER_CPU * context.cpus, MAX_THREADS))
            runner = "threads"
            run = _run_threads(target, context.time_s, workers)
        share = (share_before + core_share()) / 2
        sites = REGISTRY.snapshot()
        overhead = measure_overhead(target.is_coroutine)
        estimate = _estimate_overhead(sites, overhead)
        estimate["estimated_share"] = (
            estimate["estimated_s"] / run["cpu_s"] if run["cpu_s"] else 0.0
        )
        for site in sites:
            _correct_holds(site, overhead)
        user = [s for s in sites if s["origin"] == "user"]
        hidden = [s for s in sites if s["origin"] != "user"]
        return {
            "locks": sorted(user, key=_rank, reverse=True),
            "hidden_locks": _hidden_summary(hidden),
            "lock_overhead": {**overhead, **estimate},
            "wall_s": run["wall_s"],
            "cpu_s": run["cpu_s"],
            "cpu_s_without_probe": max(run["cpu_s"] - estimate["estimated_s"], 0.0),
            "core_share": share,
            # Concurrent callers: threads, or coroutines in flight on one loop (``runner``).
            "threads": workers,
            "runner": runner,
            "calls": run["calls"],
            "errors": run["errors"],
        }


def _run_threads(target: Target, seconds: float, threads: int) -> dict[str, Any]:
    """Each of ``threads`` threads calls the target until ``seconds`` have passed."""
    caller = blocking_caller(target)
    caller(target.calls[0])  # warm-up: imports and caches are not the task's locking
    starts = itertools.count()

    def work(deadline: float) -> tuple[int, int]:
        calls = errors = 0
        index = next(starts)
        while perf_counter() < deadline:
            result = caller(target.calls[(index + calls) % len(target.calls)])
            calls += 1
            errors += result.error is not None
        return calls, errors

    with ThreadPoolExecutor(max_workers=threads) as pool:
        start_all_threads(pool, threads)
        REGISTRY.reset()
        cpu0, wall0 = process_time(), perf_counter()
        futures = [pool.submit(work, wall0 + seconds) for _ in range(threads)]
        counts = [future.result() for future in futures]
        wall, cpu = perf_counter() - wall0, process_time() - cpu0
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "calls": sum(c for c, _ in counts),
        "errors": sum(e for _, e in counts),
    }


async def _run_coroutines(target: Target, seconds: float, in_flight: int) -> dict[str, Any]:
    """``in_flight`` coroutines on this loop, each awaiting calls until ``seconds`` passed."""
    func = target.func

    async def call(args_kwargs: Call) -> bool:
        args, kwargs = args_kwargs
        try:
            await func(*args, **kwargs)
        except Exception:
            return False
        return True

    await call(target.calls[0])  # warm-up, on the loop the run uses
    REGISTRY.reset()
    cpu0, wall0 = process_time(), perf_counter()
    deadline = wall0 + seconds

    async def work(index: int) -> tuple[int, int]:
        calls = errors = 0
        while perf_counter() < deadline:
            ok = await call(target.calls[(index + calls) % len(target.calls)])
            calls += 1
            errors += not ok
        return calls, errors

    counts = await asyncio.gather(*(work(i) for i in range(in_flight)))
    wall, cpu = perf_counter() - wall0, process_time() - cpu0
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "calls": sum(c for c, _ in counts),
        "errors": sum(e for _, e in counts),
    }


# --- the probe's own cost ----------------------------------------------------------------------


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


def _estimate_overhead(sites: list[dict[str, Any]], overhead: dict[str, Any]) -> dict[str, Any]:
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


def _correct_holds(site: dict[str, Any], overhead: dict[str, Any]) -> None:
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
    busiest = site.pop("busiest_acquisitions")
    site["busiest_hold_s"] = max(site["busiest_hold_s"] - busiest * per_hold, 0.0)


def _rank(site: dict[str, Any]) -> float:
    """Busiest first: time held plus time waited for."""
    return float(site["hold_s"] + site["wait_s"])


def _hidden_summary(hidden: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals of the locks outside the user's code, by origin, and the busiest sites."""
    by_origin: dict[str, dict[str, float]] = {}
    for site in hidden:
        totals = by_origin.setdefault(
            site["origin"], {"sites": 0, "acquisitions": 0, "contended": 0, "wait_s": 0.0}
        )
        totals["sites"] += 1
        for name in ("acquisitions", "contended", "wait_s"):
            totals[name] += site[name]
    busiest = sorted((s for s in hidden if s["acquisitions"]), key=_rank, reverse=True)
    return {"by_origin": by_origin, "busiest": busiest[:HIDDEN_LISTED]}


@hookimpl
def tunekit_register_probes(register: Callable[[Probe], None]) -> None:
    """Register the lock probe."""
    register(LockProbe())
