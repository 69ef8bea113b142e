"""The interpreter's GIL: whether the build is free-threaded, and whether the GIL is on.

A free-threaded build (``python3.13t``, PEP 703) runs without the GIL unless an extension module
that does not declare itself safe without it turns it back on at import, or ``PYTHON_GIL=1``
asks for it: so the question is asked in the child, after the target is imported. The answers
decide whether pure-Python threads can scale and how the report speaks of the GIL.
"""

from __future__ import annotations

import sys
import sysconfig
from collections.abc import Callable


def is_free_threaded(py_gil_disabled: object) -> bool:
    """Whether the build is free-threaded, from ``sysconfig``'s ``Py_GIL_DISABLED`` (1 on
    such a build; 0 on a standard one from 3.13 on, None before)."""
    return bool(py_gil_disabled)


def is_gil_enabled(ask: Callable[[], bool] | None) -> bool:
    """Whether the GIL is on, from ``sys._is_gil_enabled`` (3.13 on); without that function
    the GIL is always on."""
    return True if ask is None else bool(ask())


def free_threaded_build() -> bool:
    """Whether this interpreter is a free-threaded build."""
    return is_free_threaded(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled_now() -> bool:
    """Whether this process runs with the GIL now (ask after importing the code to measure)."""
    return is_gil_enabled(getattr(sys, "_is_gil_enabled", None))


def gil_label(free_threaded: bool, gil_enabled: bool) -> str:
    """The GIL state after the version in a report's header (``Python 3.13.0 ...``)."""
    build = "free-threaded " if free_threaded else ""
    if not gil_enabled:
        return f"{build}with the GIL off"
    return f"{build}with the GIL re-enabled" if free_threaded else "with the GIL"


def interpreter(python: str, free_threaded: bool, gil_enabled: bool) -> str:
    """``Python 3.11.7 with the GIL``, ``Python 3.13.0 free-threaded with the GIL off``."""
    return f"Python {python} {gil_label(free_threaded, gil_enabled)}"
