"""Workloads with locks of known granularity, for the lock probe (imported by path in children).

Each lock is made on a line marked ``# lock-site: NAME``: the tests find the line by the mark.
"""

from __future__ import annotations

import asyncio
import hashlib
import queue
import threading
import time

HOLD_SLEEP_S = 0.002

_cache_lock = threading.Lock()  # lock-site: coarse
_cache: dict[str, int] = {}


def coarse_lock(delay: float = HOLD_SLEEP_S) -> int:
    """Holds one shared lock across a blocking wait (a slow fetch done under the lock)."""
    with _cache_lock:  # lock-taken: coarse
        time.sleep(delay)
        _cache["hits"] = _cache.get("hits", 0) + 1
        return _cache["hits"]


_digest_lock = threading.Lock()  # lock-site: hot
_CHUNK = bytes(256 * 2**10)


def hashes_under_lock() -> bytes:
    """One shared lock around hashing 256 KiB (hashlib releases the GIL): short, hot holds."""
    with _digest_lock:
        return hashlib.sha256(_CHUNK).digest()


class Tally:
    """A total guarded by a lock of its own, taken for every single item."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # lock-site: fine
        self.total = 0

    def add(self, value: int) -> None:
        with self._lock:  # lock-taken: fine
            self.total += value


def over_fine_lock(items: int = 2000) -> int:
    """A tight loop that takes a (never contended) lock per item."""
    tally = Tally()
    for item in range(items):
        tally.add(item)
    return tally.total


_stats_lock = threading.Lock()  # lock-site: rare
_stats = {"calls": 0, "flushes": 0}


def rarely_locked(delay: float = 0.001) -> None:
    """Waits, and takes a lock on one call in ten, briefly."""
    time.sleep(delay)
    _stats["calls"] += 1
    if _stats["calls"] % 10 == 0:
        with _stats_lock:
            _stats["flushes"] += 1


_queue: queue.Queue[int] = queue.Queue()


def uses_a_queue() -> int:
    """Only the standard library's locks (inside queue.Queue) are taken."""
    _queue.put(1)
    time.sleep(0.0005)
    return _queue.get()


_session_lock = asyncio.Lock()  # lock-site: async-coarse


async def async_coarse_lock(delay: float = HOLD_SLEEP_S) -> None:
    """Holds an asyncio.Lock across an await of a slow operation."""
    async with _session_lock:
        await asyncio.sleep(delay)
