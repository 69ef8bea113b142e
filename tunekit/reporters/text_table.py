"""The terminal report's table of trials, fitted to the console's width, and its legend.

A column is never cut: the table leaves out whole columns, least needed first, until it fits,
and says under it which ones it left out. Backend names and values never wrap.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table

from tunekit.units import format_bytes, format_rate, format_seconds

if TYPE_CHECKING:
    from tunekit.models import Report, Trial

#: The spread above which the engine flags ``Trial.unstable`` (``plan.sizing.UNSTABLE_SPREAD``,
#: a layer above the reporters; a unit test keeps the two equal), quoted by the legend.
UNSTABLE_SPREAD = 0.10


@dataclass(frozen=True)
class Column:
    """One column: its header, how its cells are aligned, and which to leave out first
    (higher ``drop`` goes first when the table does not fit; 0 is never left out)."""

    header: str
    cell: Callable[[Trial, float | None], str]
    drop: int = 0
    left: bool = False


def _goodput(trial: Trial, baseline: float | None) -> str:
    return format_rate(trial.goodput) if trial.goodput else "-"


def _spread(trial: Trial, baseline: float | None) -> str:
    """The spread of the values; ``!`` marks an unstable trial, ``*N`` one measured N times."""
    spread = trial.goodput_spread if trial.goodput_spread is not None else trial.throughput_spread
    if spread is None:
        return "-"
    marks = ("!" if trial.unstable else "") + (f"*{trial.reruns + 1}" if trial.reruns else "")
    return f"{spread:.0%}{marks}"


def _speedup(trial: Trial, baseline: float | None) -> str:
    return f"{trial.goodput / baseline:.2f}x" if trial.goodput and baseline else "-"


def _latency(which: str) -> Callable[[Trial, float | None], str]:
    def cell(trial: Trial, baseline: float | None) -> str:
        latency = trial.latency_s
        return format_seconds(getattr(latency, which)) if latency else "-"

    return cell


def _cpu(trial: Trial, baseline: float | None) -> str:
    if trial.cpu_s is None or not trial.wall_s:
        return "-"
    return f"{trial.cpu_s / trial.wall_s:.2f}"


def _rss(trial: Trial, baseline: float | None) -> str:
    return format_bytes(trial.peak_rss_bytes) if trial.peak_rss_bytes else "-"


def _startup(trial: Trial, baseline: float | None) -> str:
    return startup_cell(trial)


def startup_cell(trial: Trial) -> str:
    """The pool's start-up, and the per-worker setup it includes (``setup_s``, each worker's)."""
    if trial.startup_s is None:
        return "-"
    if trial.setup_s is None:
        return format_seconds(trial.startup_s)
    return f"{format_seconds(trial.startup_s)} (setup {format_seconds(trial.setup_s)} each)"


def _errors(trial: Trial, baseline: float | None) -> str:
    return f"{trial.error_rate:.0%}" if trial.error_rate else "-"


COLUMNS = (
    Column("backend", lambda t, b: t.backend, left=True),
    Column("workers", lambda t, b: str(t.workers)),
    Column("status", lambda t, b: t.status, drop=2, left=True),
    Column("calls/s", _goodput),
    Column("±", _spread, drop=1),
    Column("speed-up", _speedup),
    Column("p50", _latency("p50"), drop=3),
    Column("p99", _latency("p99"), drop=5),
    Column("CPU/wall", _cpu, drop=6),
    Column("peak RSS", _rss, drop=7),
    Column("start-up", _startup, drop=8),
    Column("errors", _errors, drop=4),
)


def ordered_trials(report: Report) -> list[Trial]:
    """The trials by backend, in the order the backends were first run, then by pool size."""
    order = {name: i for i, name in enumerate(dict.fromkeys(t.backend for t in report.trials))}
    return sorted(report.trials, key=lambda t: (order[t.backend], t.workers))


def fitted_table(report: Report, width: int) -> tuple[Table, list[str]]:
    """The table of trials at most ``width`` columns wide, and the headers it left out."""
    trials = ordered_trials(report)
    baseline = next(
        (t.goodput for t in trials if t.backend == "sequential" and t.status == "ok"), None
    )
    columns = [c for c in COLUMNS if c.header != "errors" or any(t.error_rate for t in trials)]
    if all(t.status == "ok" for t in trials):
        columns = [c for c in columns if c.header != "status"]
    left_out: list[str] = []
    while True:
        table = _table(columns, trials, baseline)
        if _width(table) <= width or not any(c.drop for c in columns):
            return table, left_out
        dropped = max(columns, key=lambda c: c.drop)
        columns.remove(dropped)
        left_out.append(dropped.header)


def _table(columns: list[Column], trials: list[Trial], baseline: float | None) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        header_style="bold",
    )
    for column in columns:
        table.add_column(column.header, justify="left" if column.left else "right", no_wrap=True)
    for trial in trials:
        table.add_row(*(column.cell(trial, baseline) for column in columns))
    return table


def _width(table: Table) -> int:
    """The width the table takes when nothing limits it."""
    buffer = io.StringIO()
    Console(file=buffer, width=1000, color_system=None).print(table)
    return max((len(line.rstrip()) for line in buffer.getvalue().splitlines()), default=0)


def legend(report: Report) -> str:
    """One line under the table: what the marks mean (only those shown); the columns are
    explained in docs/reading-the-report.md."""
    parts = ["± spread"]
    if any(t.unstable for t in report.trials):
        parts.append(f"! over {UNSTABLE_SPREAD:.0%}")
    if any(t.reruns for t in report.trials):
        parts.append("*N: N runs merged")
    parts.append("speed-up vs sequential x1")
    return " · ".join(parts)
