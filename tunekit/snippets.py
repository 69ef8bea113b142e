"""Code to paste: what a backend's snippet is asked for, and the parts every snippet shares.

Every snippet defines ``run_all(tasks)``: it runs the user's function once per task (a tuple of
positional arguments) in the recommended model and pool and returns the results in task order,
so each snippet is used, and tested, the same way: ``results = run_all([(1,), (2,)])``.
Backends give their snippet through the ``tunekit_snippet`` hook (``hookspecs.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class SnippetRequest:
    """What a snippet is for: the recommended model and pool, and the target it calls."""

    #: The recommended backend's name.
    model: str
    #: The target as given: "pkg.module:function" or "path/file.py:function".
    target: str
    workers: int
    is_coroutine: bool
    #: A process pool's tasks per message (``executor.map``'s chunksize).
    chunksize: int | None = None
    #: Threads to limit native pools (BLAS, OpenMP) to per worker, when that measured a gain.
    inner_threads: int | None = None

    @property
    def function(self) -> str:
        """The name the snippet calls: the target's last name (``method`` of ``Class.method``)."""
        return self.target.rpartition(":")[2].rsplit(".", 1)[-1]

    def import_lines(self) -> str:
        """The lines that make ``function`` a name of the snippet's module."""
        where, _, attr = self.target.rpartition(":")
        first, _, rest = attr.partition(".")
        comment = ""
        if where.endswith(".py") or "/" in where or "\\" in where:
            path = PurePath(where)
            comment = f"  # {path.name}, in {path.parent}/ (on sys.path)"
            where = path.stem
        lines = f"from {where} import {first}{comment}"
        if rest:
            lines += f"\n\n{self.function} = {first}.{rest}"
        return lines


def plural(count: int, noun: str) -> str:
    """``1 thread``, ``8 threads``, ``2 processes``."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {noun}{'es' if noun.endswith('s') else 's'}"
