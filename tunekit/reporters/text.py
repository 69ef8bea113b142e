"""The terminal report: a table of trials and the recommendation with its reasons."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
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
        machine = report.machine
        console.print(
            f"[bold]tunekit[/bold] {report.target}  "
            f"({machine.cpus} CPUs, Python {machine.python}, {machine.platform})"
        )
        for line in machine_lines(report):
            console.print(line)
        for line in workload_lines(report):
            console.print(line)
        console.print(trial_table(report))
        for trial in report.trials:
            if trial.status != "ok":
                console.print(f"  [yellow]{trial.key} {trial.status}[/yellow]: {trial.reason}")
            elif trial.errors:
                console.print(
                    f"  [yellow]{trial.key}[/yellow]: {trial.error_rate:.0%} of tasks raised "
                    f"(first: {trial.first_error})"
                )
        if any(t.unstable for t in report.trials):
            console.print(
                "  [yellow]![/yellow] unstable: the repeats spread more than 10% around their "
                "median (*N: measured N times, the steadiest run kept)"
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
        for lock in rec.locks:
            console.print(
                f"  lock {lock['site']} ({lock['kind']}): [bold]{lock['advice']}[/bold] - "
                f"{lock['reason']}"
            )
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


def machine_lines(report: Report) -> list[str]:
    """Free cores measured before and after the sweep."""
    machine = report.machine
    if machine.capacity_cores is None:
        return []
    text = f"free cores: {machine.capacity_cores:.1f} of {machine.cpus} at the start"
    if machine.capacity_after_cores is not None:
        text += f", {machine.capacity_after_cores:.1f} after"
    if machine.load_average is not None:
        text += f" (load average {machine.load_average:.2f} at start)"
    return [text]


def workload_lines(report: Report) -> list[str]:
    """The "What the task does" section: kind, CPU/wall, memory, dispatch, hot functions."""
    workload, profiles = report.workload, report.profiles
    if workload.task_wall_s is None:
        return []
    function = "coroutine function" if workload.is_coroutine else "function"
    if workload.consumes:
        function = f"{workload.consumes} function (a call consumes it to the end)"
    cpu = workload.task_cpu_s or 0.0
    lines = ["[bold]What the task does[/bold]"]
    if workload.kind is not None:
        lines.append(f"  {workload.kind}: {workload.kind_reason}")
    lines.append(
        f"  one call of this {function}: {format_seconds(workload.task_wall_s)} wall, "
        f"{format_seconds(cpu)} CPU"
    )
    if workload.peak_memory_bytes is not None:
        allocated = workload.allocated_bytes_per_task or 0
        calls = profiles.memory_calls or 1
        tracked = "1 call" if calls == 1 else f"{calls} calls"
        lines.append(
            f"  memory (memray, {tracked} tracked): {format_bytes(workload.peak_memory_bytes)} "
            f"peak heap, {format_bytes(allocated)} allocated per call"
        )
    if workload.dispatch_s:
        costs = ", ".join(f"{k} {format_seconds(v)}" for k, v in workload.dispatch_s.items())
        lines.append(f"  dispatch cost per task: {costs}")
    if profiles.hot_functions:
        overhead = profiles.pyinstrument_overhead
        lines.append(
            "  hot functions (pyinstrument"
            + (f", {overhead:.1f}x overhead" if overhead else "")
            + "): self / total time"
        )
        for hot in profiles.hot_functions[:5]:
            lines.append(
                f"    {hot['self_share']:4.0%} / {hot['total_share']:4.0%}  {hot['function']}  "
                f"{hot['location']}"
            )
    saved = [p for p in (profiles.cpu_html, profiles.cpu_threads_html, profiles.memory_html) if p]
    if saved:
        lines.append(
            f"  profiles saved in {profiles.dir}: " + ", ".join(Path(p).name for p in saved)
        )
    for probe in report.probes:
        if probe.status != "ok":
            lines.append(f"  [yellow]{probe.name} {probe.status}[/yellow]: {probe.reason}")
    return lines


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


def _spread(trial: Trial) -> str:
    """The spread of the repeats; ``!`` marks an unstable trial, ``*N`` one measured N+1 times."""
    if trial.throughput_spread is None:
        return "-"
    marks = ("!" if trial.unstable else "") + (f"*{trial.reruns + 1}" if trial.reruns else "")
    return f"{trial.throughput_spread:.0%}{marks}"


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
        _spread(trial),
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
