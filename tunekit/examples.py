"""Small workloads of known nature, so a new user can run tunekit at once.

tunekit analyze tunekit.examples:cpu_bound       # holds the GIL: processes scale
tunekit analyze tunekit.examples:blocking_io     # waits: threads (many) scale
tunekit analyze tunekit.examples:async_io        # awaits: an event loop scales
tunekit analyze tunekit.examples:matrix_product  # numpy's BLAS threads: pools oversubscribe
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any


def cpu_bound(n: int = 30_000) -> int:
    """Pure-Python arithmetic (a few ms): holds the GIL the whole time."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def blocking_io(delay: float = 0.01) -> float:
    """A blocking wait, like a database or HTTP call made with a synchronous client."""
    time.sleep(delay)
    return delay


async def async_io(delay: float = 0.01) -> float:
    """A non-blocking wait, like an asyncio HTTP or database client."""
    await asyncio.sleep(delay)
    return delay


_BUFFER = bytes(range(256)) * 8192  # 2 MiB


def hash_buffer(rounds: int = 2) -> str:
    """SHA-256 of a 2 MiB buffer: native code that releases the GIL, so threads scale."""
    digest = hashlib.sha256()
    for _ in range(rounds):
        digest.update(_BUFFER)
    return digest.hexdigest()


def tiny(x: int = 1) -> int:
    """A sub-microsecond function: any dispatch costs more than the work itself."""
    return x + 1


def numbers(count: int = 64) -> list[tuple[int]]:
    """An ``--inputs`` factory: one argument tuple per task, for ``cpu_bound``."""
    return [(20_000 + 1_000 * (i % 8),) for i in range(count)]


_MATRICES: dict[int, Any] = {}


def matrix_product(rows: int = 300) -> float:
    """numpy's matrix product of two ``rows`` x ``rows`` matrices (about 1 ms for 300): BLAS
    runs it on a native thread pool of its own, as many threads as cores, so a pool of
    workers that each call it oversubscribes the machine."""
    import numpy as np

    if rows not in _MATRICES:
        _MATRICES[rows] = np.random.default_rng(rows).random((rows, rows))
    matrix = _MATRICES[rows]
    return float((matrix @ matrix).sum())
