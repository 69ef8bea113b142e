"""Workloads for the trio backend's tests, named by file path (``.../trio_targets.py:nap``)."""

from __future__ import annotations

import trio


async def nap(delay: float = 0.01) -> float:
    """A trio-native wait."""
    await trio.sleep(delay)
    return delay


async def always_fails() -> None:
    """Fails under any loop: proves nothing about the loop it needs."""
    raise ValueError("broken")
