"""The console the front ends print reports on: the terminal's width, or a fixed one."""

from __future__ import annotations

from typing import IO

from rich.console import Console

#: Width of a report that does not go to a terminal (files, pipes, CI logs).
REPORT_WIDTH = 120


def console_for(stream: IO[str]) -> Console:
    """A console writing to ``stream``: as wide as the terminal, else ``REPORT_WIDTH``."""
    return Console(file=stream, highlight=False, width=None if stream.isatty() else REPORT_WIDTH)
