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
