"""Isolation: the only layer that starts processes or imports the user's code.

The parent sends a typed request (``protocol``) to a fresh child (``spawn.run_in_child``),
forked from a warm zygote where the platform allows (``forkserver``, ``zygote``); the child
(``worker``) inspects the target (``calibrate``), measures one trial (``trial``), runs one
probe or measures the free cores, and answers in the data model. A crash, hang or runaway
allocation costs that one child.

This module itself stays light: the ``@tunekit.profile`` decorator imports it at start-up.
"""

from __future__ import annotations

import sys

#: The main modules of tunekit's children: fresh workers, and those forked from the zygote.
CHILD_MAIN_MODULES = ("tunekit.isolation.worker", "tunekit.isolation.zygote")


def in_tunekit_worker() -> bool:
    """True inside a tunekit child process and the pool processes it starts."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return getattr(spec, "name", None) in CHILD_MAIN_MODULES
