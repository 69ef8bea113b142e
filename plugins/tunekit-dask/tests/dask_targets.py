"""Workloads for the Dask backend's tests, named by file path (``.../dask_targets.py:square``)."""

from __future__ import annotations

import threading


def square(x: int = 3) -> int:
    """A tiny task: Dask's per-task cost dwarfs it."""
    return x * x


def fail_on_odd(x: int) -> int:
    """Raises for odd inputs, so the order of errors shows the order of results."""
    if x % 2:
        raise ValueError(f"odd: {x}")
    return x


def numbers() -> list[tuple[int]]:
    """An ``--inputs`` factory: 0..7."""
    return [(i,) for i in range(8)]


def unpicklable_result() -> object:
    """A result that not even cloudpickle can send back from a worker."""
    return threading.Lock()
