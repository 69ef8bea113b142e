"""Workloads for the subinterpreter backend's tests, named by file path."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

#: Where ``opened`` logs each worker's setup opening and closing (set by the test).
LOG_ENV = "TUNEKIT_TEST_INTERPRETERS_LOG"


def spin(n: int = 20_000) -> int:
    """Pure Python that holds a GIL: only a GIL per worker lets two run at once."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def opened() -> Iterator[str]:
    """A per-worker setup that logs where it opens and closes."""
    key = f"{os.getpid()}-{threading.get_ident()}"
    log = Path(os.environ[LOG_ENV])
    with log.open("a") as handle:
        handle.write(f"open {key}\n")
    yield key
    with log.open("a") as handle:
        handle.write(f"close {key}\n")


def spin_with(key: str, n: int = 20_000) -> int:
    """``spin`` with the worker's setup value first."""
    return spin(n)
