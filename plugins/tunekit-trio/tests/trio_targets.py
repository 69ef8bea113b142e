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


class Slot:
    """What the per-worker setup gives each slot: it counts the calls made with it."""

    def __init__(self) -> None:
        self.calls = 0
        self.busy = False


def slot() -> Slot:
    """The per-worker setup factory."""
    return Slot()


async def nap_with(held: Slot, delay: float = 0.01) -> int:
    """A trio-native wait with the slot's value, which no two calls hold at once."""
    if held.busy:
        raise RuntimeError("two calls hold one slot's value at once")
    held.busy = True
    held.calls += 1
    await trio.sleep(delay)
    held.busy = False
    return held.calls


def sync_with(held: Slot) -> int:
    """A plain function taking the setup's value."""
    held.calls += 1
    return held.calls
