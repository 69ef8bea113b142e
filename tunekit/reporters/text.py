"""The terminal report: a table of trials and the recommendation with its reasons."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from tunekit.hookspecs import hookimpl
from tunekit.units import format_bytes, format_rate, format_seconds

if TYPE_CHECKING:
    from tunekit.models import Report, Trial
    from tunekit.reporters import Reporter


class TextReporter:
    """A human-readable report for the terminal."""

    name = "text"
    file_extension = ".txt"

    def __init__(self, width: int = 110, color: bool = False) -> None:
        self.width = width
        self.color = color

    def render(self, report: Report) -> str:
        """The report as plain text (ANSI colors only when ``color`` is set)."""
        buffer = io.StringIO()
        console = Console(
            file=buffer,
            width=self.width,
            force_terminal=self.color,
            color_system="standard" if self.color else None,
            highlight=False,
        )
        self.print_to(console, report)
        return buffer.getvalue()

    def print_to(self, console: Console, report: Report) -> None:
        """Print the report on a rich console."""
        machine, workload = report.machine, report.workload
        console.print(
            f"[bold]tunekit[/bold] {report.target}  "
            f"({machine.cpus} CPUs, Python {machine.python}, {machine.platform})"
        )
        if workload.task_wall_s is not None:
            kind = "coroutine function" if workload.is_coroutine else "function"
            cpu = workload.task_cpu_s or 0.0
            console.print(
                f"one call of this {kind}: {format_seconds(workload.task_wall_s)} wall, "
                f"{format_seconds(cpu)} CPU ({cpu / max(workload.task_wall_s, 1e-12):.0%})"
            )
        console.print(trial_table(report))
        for trial in report.trials:
            if trial.status != "ok":
                console.print(f"  [yellow]{trial.key} {trial.status}[/yellow]: {trial.reason}")
            elif trial.errors:
                console.print(
                    f"  [yellow]{trial.key}[/yellow]: {trial.errors} tasks raised "
                    f"(first: {trial.first_error})"
                )
        rec = report.recommendation
        if rec.model is None:
            console.print("[bold red]No recommendation[/bold red]")
        else:
            console.print(
                f"[bold green]Recommendation: {rec.model} with {rec.pool_size} "
                f"worker{'s' if rec.pool_size != 1 else ''}[/bold green]"
            )
        for reason in rec.reasons:
            console.print(f"  - {reason}")
        for note in report.notes:
            console.print(f"[yellow]note:[/yellow] {note}")
        if report.interrupted:
            console.print(
                f"[bold yellow]Interrupted by {report.interrupted}: partial report of "
                f"{sum(t.status == 'ok' for t in report.trials)} completed trials[/]"
            )
        if report.elapsed_s is not None:
            console.print(
                f"analysis took {report.elapsed_s:.1f} s of a {report.budget_s:g} s budget"
            )


def trial_table(report: Report) -> Table:
    """One row per trial: throughput with its spread, speed-up, latency, CPU and memory."""
    baseline = next(
        (t.throughput for t in report.trials if t.backend == "sequential" and t.status == "ok"),
        None,
    )
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for column in (
        "backend",
        "workers",
        "status",
        "tasks/s",
        "±",
        "speedup",
        "p50",
        "p99",
        "CPU/wall",
        "peak RSS",
        "start-up",
    ):
        table.add_column(column, justify="left" if column in ("backend", "status") else "right")
    order = {name: i for i, name in enumerate(dict.fromkeys(t.backend for t in report.trials))}
    for trial in sorted(report.trials, key=lambda t: (order[t.backend], t.workers)):
        table.add_row(*_row(trial, baseline))
    return table


def _row(trial: Trial, baseline: float | None) -> list[str]:
    tp = trial.throughput
    speedup = f"{tp / baseline:.2f}x" if tp and baseline else "-"
    latency = trial.latency_s
    cpu_ratio = (
        f"{trial.cpu_s / trial.wall_s:.2f}" if trial.cpu_s is not None and trial.wall_s else "-"
    )
    return [
        trial.backend,
        str(trial.workers),
        trial.status,
        format_rate(tp) if tp else "-",
        f"{trial.throughput_spread:.0%}" if trial.throughput_spread is not None else "-",
        speedup,
        format_seconds(latency.p50) if latency else "-",
        format_seconds(latency.p99) if latency else "-",
        cpu_ratio,
        format_bytes(trial.peak_rss_bytes) if trial.peak_rss_bytes else "-",
        format_seconds(trial.startup_s) if trial.startup_s is not None else "-",
    ]


@hookimpl
def tunekit_register_reporters(register: Callable[[Reporter], None]) -> None:
    """Register the text reporter."""
    register(TextReporter())
