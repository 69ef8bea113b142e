"""Which frames belong to a primitive or to the probe, and the user's line that called them.

A creation site is the first frame outside these files; so is an acquisition site (the line
of the ``with``, ``acquire``, ``wait``, ``get`` or ``put``): a ``Condition`` taking its lock,
or a ``Queue`` taking its mutex, is acquired where the user called the condition or queue.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from pathlib import Path
from types import FrameType

PACKAGE_DIR = os.path.dirname(__file__)  # noqa: PTH120 (spelled as co_filename: not normalized)
#: Frames of every module of this package (wrappers, runs, benchmark) are the probe's own, never
#: a lock's site. A set, not a prefix test: ``startswith`` costs ~50 ns more per frame walked.
PACKAGE_FILES = frozenset(
    f"{PACKAGE_DIR}{os.sep}{path.name}" for path in Path(PACKAGE_DIR).glob("*.py")
)
THREADING = threading.__file__
ASYNC_LOCKS = asyncio.locks.__file__
#: The modules whose classes wrap the primitives: their frames are passed on the way out.
PRIMITIVE_FILES = frozenset({THREADING, ASYNC_LOCKS, queue.__file__, asyncio.queues.__file__})
PASSED = PACKAGE_FILES | PRIMITIVE_FILES

#: One acquisition site's counts: acquisitions, contended ones, seconds waited, seconds held.
AtCounts = list[float]
#: Per-acquisition-site counts, keyed by (file, line).
AtTable = dict[tuple[str, int], AtCounts]


def at_entry(table: AtTable, frame: FrameType | None) -> AtCounts:
    """The counts of the first frame outside the primitives and the probe, made if new."""
    while frame is not None and frame.f_code.co_filename in PASSED:
        frame = frame.f_back
    key = (frame.f_code.co_filename, frame.f_lineno) if frame is not None else ("?", 0)
    entry = table.get(key)
    if entry is None:
        entry = table[key] = [0, 0, 0.0, 0.0]
    return entry


def add_table(into: AtTable, table: AtTable) -> None:
    """Add the counts of ``table`` to ``into``."""
    for key, counts in list(table.items()):
        entry = into.get(key)
        if entry is None:
            into[key] = list(counts)
        else:
            for index, value in enumerate(counts):
                entry[index] += value


def table_rows(table: AtTable) -> list[dict[str, float | str]]:
    """The acquisition sites, busiest (held plus waited) first."""
    rows: list[dict[str, float | str]] = [
        {
            "site": f"{filename}:{line}",
            "acquisitions": int(counts[0]),
            "contended": int(counts[1]),
            "wait_s": counts[2],
            "hold_s": counts[3],
        }
        for (filename, line), counts in table.items()
    ]
    return sorted(rows, key=lambda r: float(r["hold_s"]) + float(r["wait_s"]), reverse=True)
