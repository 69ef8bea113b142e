"""Workloads on primitives other than a plain lock, for the accuracy benchmark and for
``benchmarks/lock_advice.py``: semaphore-bound, producer-consumer, condition hand-off and
read-mostly (``workloads.py`` re-exports them, so they are ``workloads.py:NAME`` targets).

Each primitive is made at import, at module level and named, so that a lock probe that
replaces the factories before importing the target sees it, and the benchmark finds its line
(``accuracy.lock_lines``). The other side of a queue or condition is a daemon thread started on
the first call, in every process that calls the workload. Each docstring says which advice is
right, and why.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time

#: The slow step of each workload: 3 ms, as ``coarse_lock``'s wait.
STEP_S = 0.003

_PERMITS = threading.BoundedSemaphore(2)


def semaphore_bound() -> None:
    """A pool of 2 connections: each call holds one of 2 permits across a 3 ms wait.

    Right advice: ``limit`` (all 2 permits held nearly all the time; a pool of threads above 2
    only waits). Processes each get a semaphore of their own, so they are not limited by it:
    the advice then says the semaphore is per process (a real 2-connection limit would need a
    multiprocessing semaphore or the server's own).
    """
    with _PERMITS:
        time.sleep(STEP_S)


_started: set[str] = set()
_starting = threading.Lock()


def _start(name: str, loop: object) -> None:
    with _starting:
        if name not in _started:
            _started.add(name)
            threading.Thread(target=loop, daemon=True, name=name).start()  # type: ignore[arg-type]


_JOBS: queue.Queue[int] = queue.Queue(maxsize=4)


def _slow_consumer() -> None:
    while True:
        _JOBS.get()
        time.sleep(STEP_S)


def producer_consumer() -> None:
    """Producers (the callers) hand jobs to one consumer that takes 3 ms a job, through a queue
    bounded at 4.

    Right advice: ``grow-consumers`` (the queue is full nearly all the time and producers block
    on ``put``: the consuming side is the limit, and a larger bound would only queue more).
    """
    _start("consumer", _slow_consumer)
    _JOBS.put(1)


_READY = threading.Condition()
_items: list[int] = []


def _feeder() -> None:
    while True:
        time.sleep(STEP_S / 3)
        with _READY:
            _items.append(1)
            _READY.notify_all()


def condition_hand_off() -> int:
    """Each call waits on a condition for one item; a feeder adds one item every 1 ms and wakes
    every waiter with ``notify_all``.

    Right advice: ``notify-one`` (each item serves one waiter: the others wake, find nothing
    and wait again; ``notify()`` would wake only the one that can proceed).
    """
    _start("feeder", _feeder)
    with _READY:
        while not _items:
            _READY.wait()
        return _items.pop()


_TABLE_LOCK = threading.Lock()
_table = {"version": 0}
_CHUNK = bytes(256 * 2**10)
_calls = iter(range(1 << 62))


def read_mostly() -> bytes:
    """A table read under its lock on every call (hashing 256 KiB, which releases the GIL) and
    written on one call in 20 (a version bump).

    Right advice: ``read-write`` (one line takes the lock 95% of the time while callers wait
    for it; if that line only reads, which it does, readers could hold it together).
    """
    if next(_calls) % 20 == 0:
        with _TABLE_LOCK:
            _table["version"] += 1
    with _TABLE_LOCK:
        return hashlib.sha256(_CHUNK).digest()


LOCK_WORKLOADS = ("semaphore_bound", "producer_consumer", "condition_hand_off", "read_mostly")
