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
from types import CodeType, FrameType
from typing import Any

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

#: One acquisition site's counts: acquisitions, contended ones, seconds waited, seconds held;
#: then the code object and instruction offset that name the line (kept as they are: reading a
#: frame's line number costs ~10x its offset, so the line is found once, in ``table_rows``).
AtCounts = list[Any]
#: Per-acquisition-site counts, keyed by the code object's id and the offset in it (the code
#: object is held by its entry, so its id is not reused while the table lives).
AtTable = dict[int, AtCounts]
#: Offsets fit in 24 bits: CPython's code objects are far smaller than 16 MiB.
OFFSET_BITS = 24


def at_entry(table: AtTable, frame: FrameType | None) -> AtCounts:
    """The counts of the first frame outside the primitives and the probe, made if new."""
    while frame is not None and frame.f_code.co_filename in PASSED:
        frame = frame.f_back
    if frame is None:
        code, offset, key = None, -1, -1
    else:
        code, offset = frame.f_code, frame.f_lasti
        key = id(code) << OFFSET_BITS | offset
    entry = table.get(key)
    if entry is None:
        entry = table[key] = [0, 0, 0.0, 0.0, code, offset]
    return entry


def add_table(into: AtTable, table: AtTable) -> None:
    """Add the counts of ``table`` to ``into``."""
    for key, counts in list(table.items()):
        entry = into.get(key)
        if entry is None:
            into[key] = list(counts)
        else:
            for index in range(4):
                entry[index] += counts[index]


def line_of(code: CodeType | None, offset: int) -> str:
    """``file:line`` of the instruction at ``offset`` in ``code``."""
    if code is None:
        return "?"
    line = code.co_firstlineno
    for start, end, number in code.co_lines():
        if start <= offset < end and number is not None:
            line = number
            break
    return f"{code.co_filename}:{line}"


def table_rows(table: AtTable) -> list[dict[str, Any]]:
    """The acquisition sites by line, busiest (held plus waited) first."""
    by_line: dict[str, dict[str, Any]] = {}
    for counts in list(table.values()):
        site = line_of(counts[4], counts[5])
        row = by_line.setdefault(
            site, {"site": site, "acquisitions": 0, "contended": 0, "wait_s": 0.0, "hold_s": 0.0}
        )
        row["acquisitions"] += int(counts[0])
        row["contended"] += int(counts[1])
        row["wait_s"] += counts[2]
        row["hold_s"] += counts[3]
    return sorted(by_line.values(), key=lambda r: r["hold_s"] + r["wait_s"], reverse=True)
