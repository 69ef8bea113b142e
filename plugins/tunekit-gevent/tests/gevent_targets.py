"""Workloads for the gevent backend's tests, named by file path."""

from __future__ import annotations

import time

from gevent import monkey

#: Whether ``time`` was already patched when this module was imported.
PATCHED_AT_IMPORT = monkey.is_module_patched("time")


def patched_nap() -> None:
    """Waits 10 ms; raises when this module was imported before gevent patched ``time``."""
    if not PATCHED_AT_IMPORT:
        raise RuntimeError("imported before monkey-patching")
    time.sleep(0.01)


class Slot:
    """What the per-worker setup gives a slot of the pool."""

    def __init__(self) -> None:
        self.busy = False


def slot() -> Slot:
    """The per-worker setup factory."""
    return Slot()


def nap_with(held: Slot) -> None:
    """Waits 10 ms holding the slot's value; raises if another greenlet holds it too."""
    if held.busy:
        raise RuntimeError("two calls hold one slot's value at once")
    held.busy = True
    time.sleep(0.01)
    held.busy = False
