"""The terminal report: the answer first (the recommendation, its deciding reasons), then the
table of trials with a one-line legend, the code to paste, then the details; the notes on how
each backend's sweep went only with ``verbose``.

Text is wrapped here, not by the console, so that a wrapped line keeps its indent.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from tunekit.gil import interpreter
from tunekit.hookspecs import hookimpl
from tunekit.reporters.text_interpreters import interpreter_lines
from tunekit.reporters.text_table import fitted_table, legend
from tunekit.units import format_bytes, format_rate, format_seconds

if TYPE_CHECKING:
    from tunekit.models import Report
    from tunekit.reporters import Reporter

#: Reasons shown without ``verbose``: the recommender puts the deciding ones first.
DECIDING_REASONS = 2


class TextReporter:
    """A human-readable report for the terminal."""

    name = "text"
    file_extension = ".txt"

    def __init__(self, width: int = 100, color: bool = False, verbose: bool = False) -> None:
        self.width = width
        self.color = color
        self.verbose = verbose

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
        """Print the report on a rich console, fitted to its width."""
        out = _Printer(console)
        machine = report.machine
        out.line(
            f"tunekit {report.target}  ({machine.cpus} CPUs, "
            f"{interpreter(machine.python, machine.free_threaded, machine.gil_enabled)}, "
            f"{machine.platform})",
            style="bold",
        )
        self.print_recommendation(out, report)
        table, left_out = fitted_table(report, console.width)
        console.print()
        console.print(table)
        out.line(legend(report), indent=2, style="dim")
        if left_out:
            out.line(f"left out at this width: {', '.join(left_out)} (--json has them)", indent=2)
        for trial in report.trials:
            if trial.status != "ok":
                out.line(f"{trial.key} {trial.status}: {trial.reason}", indent=2, style="yellow")
            elif trial.errors:
                out.line(
                    f"{trial.key}: {trial.error_rate:.0%} of calls raised "
                    f"(first: {trial.first_error})",
                    indent=2,
                    style="yellow",
                )
        compared = interpreter_lines(report)
        if compared:
            console.print()
            for line in compared:
                console.print(Text(line), crop=False, soft_wrap=True)
        snippet = report.recommendation.snippet
        if snippet:
            console.print()
            out.line("Code to paste: run_all(tasks) calls it once per task (a tuple of arguments)")
            for code in snippet.rstrip().splitlines():
                console.print(Text(f"    {code}".rstrip()), crop=False, soft_wrap=True)
        console.print()
        for line in workload_lines(report):
            out.line(line.strip(), indent=len(line) - len(line.lstrip()))
        for line in [*machine_lines(report), *start_method_lines(report)]:
            out.line(line)
        for probe in report.probes:
            if probe.status != "ok":
                out.line(f"{probe.name} {probe.status}: {probe.reason}", indent=2, style="yellow")
        if self.verbose:
            for note in report.notes:
                out.line(f"note: {note}", hang=6)
        elif report.notes:
            count = len(report.notes)
            out.line(
                f"{count} note{'s' if count != 1 else ''} on how the sweep went (why each "
                "backend stopped): --verbose, or `notes` in the JSON report",
                style="dim",
            )
        if report.interrupted:
            completed = sum(t.status == "ok" for t in report.trials)
            out.line(
                f"Interrupted by {report.interrupted}: partial report of {completed} completed "
                "trials",
                style="bold yellow",
            )
        if report.elapsed_s is not None:
            out.line(f"analysis took {report.elapsed_s:.1f} s of a {report.budget_s:g} s budget")

    def print_recommendation(self, out: _Printer, report: Report) -> None:
        """The answer: model and pool, goodput and speed-up, the deciding reasons, locks."""
        rec = report.recommendation
        if rec.model is None:
            out.line("No recommendation", style="bold red")
        else:
            head = (
                f"Recommendation: {rec.model} with {rec.pool_size} "
                f"worker{'s' if rec.pool_size != 1 else ''}"
            )
            rate = rec.goodput if rec.goodput is not None else rec.throughput
            if rate is not None:
                head += f": {format_rate(rate)} calls/s"
            if rec.speedup is not None:
                head += f", {rec.speedup:.2f}x sequential"
            if rec.chunksize and rec.chunksize > 1:
                head += f", {rec.chunksize} tasks per message"
            out.line(head, style="bold green")
        shown = rec.reasons if self.verbose else rec.reasons[:DECIDING_REASONS]
        for reason in shown:
            out.line(reason, indent=2, first="- ")
        if len(shown) < len(rec.reasons):
            more = len(rec.reasons) - len(shown)
            out.line(f"({more} more reason{'s' if more != 1 else ''}: --verbose)", indent=4)
        for lock in rec.locks:
            out.line(
                f"lock {lock['site']} ({lock['kind']}): {lock['advice']} - {lock['reason']}",
                indent=2,
                first="- ",
            )


class _Printer:
    """Prints plain text wrapped to the console's width, each wrapped line at its indent."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def line(
        self, text: str, indent: int = 0, first: str = "", hang: int = 0, style: str = ""
    ) -> None:
        """``text`` at ``indent`` (after ``first`` on its first line); wrapped lines line up
        under the text, or ``hang`` columns further in."""
        lead = " " * indent
        rest = " " * (indent + (len(first) if first else hang))
        width = max(self.console.width, len(rest) + 20)
        for wrapped in textwrap.wrap(
            text, width, initial_indent=lead + first, subsequent_indent=rest, break_on_hyphens=False
        ) or [""]:
            self.console.print(Text(wrapped, style=style), crop=False, soft_wrap=True)


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


def start_method_lines(report: Report) -> list[str]:
    """How each backend that starts processes started them, with the start-up it measured
    per pool size (the per-task cost is in the table)."""
    lines = []
    for backend in dict.fromkeys(t.backend for t in report.trials if t.start_method):
        trials = [t for t in report.trials if t.backend == backend and t.start_method]
        methods = ", ".join(dict.fromkeys(t.start_method or "" for t in trials))
        startups = ", ".join(
            f"{format_seconds(t.startup_s)} for {t.workers}"
            for t in sorted(trials, key=lambda t: t.workers)
            if t.startup_s is not None
        )
        lines.append(f"{backend} workers started by {methods}: start-up {startups}")
    return lines


def workload_lines(report: Report) -> list[str]:
    """The "What the task does" section: kind, CPU/wall, memory, dispatch, hot functions."""
    workload, profiles = report.workload, report.profiles
    if workload.task_wall_s is None:
        return []
    function = "coroutine function" if workload.is_coroutine else "function"
    if workload.consumes:
        function = f"{workload.consumes} function (a call consumes it to the end)"
    cpu = workload.task_cpu_s or 0.0
    lines = ["What the task does"]
    if workload.kind is not None:
        lines.append(f"  {workload.kind}: {workload.kind_reason}")
    lines.append(
        f"  one call of this {function}: {format_seconds(workload.task_wall_s)} wall, "
        f"{format_seconds(cpu)} CPU"
    )
    if workload.setup is not None:
        took = f" ({format_seconds(workload.setup_s)} here)" if workload.setup_s is not None else ""
        lines.append(
            f"  per-worker setup {workload.setup}{took}: run once where each worker starts, its "
            "result every call's first argument; timed apart (start-up), not in the calls"
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
    lines += native_lines(report)
    saved = [p for p in (profiles.cpu_html, profiles.cpu_threads_html, profiles.memory_html) if p]
    if saved:
        lines.append(
            f"  profiles saved in {profiles.dir}: " + ", ".join(Path(p).name for p in saved)
        )
    return lines


def native_lines(report: Report) -> list[str]:
    """The native thread pools the calls ran, and each pool measured with them limited."""
    pools = report.workload.native_pools
    if not pools:
        return []
    found = ", ".join(f"{p.name} ({p.api}, {p.threads} threads)" for p in pools)
    lines = [f"  native thread pools: {found}"]
    for c in report.inner_limits:
        rounds = " ".join(
            f"{'limited' if t.inner_threads else 'as is'} {format_rate(t.goodput or 0.0)}"
            for t in c.trials
            if t.usable
        )
        ratio = f"{c.ratio:.2f}x" if c.ratio is not None else "not measured"
        lines.append(
            f"    {c.key}, limited to {c.inner_threads} native thread(s): {ratio} the unlimited "
            f"(rounds in order, calls/s: {rounds or 'none'})"
        )
    return lines


@hookimpl
def tunekit_register_reporters(register: Callable[[Reporter], None]) -> None:
    """Register the text reporter."""
    register(TextReporter())
