"""``tunekit compare OLD.json NEW.json``: what changed between two reports, for people and CI.

A regression is a configuration that was measured in both reports and whose median throughput
fell by more than the threshold, or that was ``ok`` in OLD and failed or timed out in NEW.
Configurations skipped in either report (out of budget, unsupported) are shown, never judged.
Reports that did not run the same thing (another target, other arguments, budget, backends...)
are compared with a warning naming each difference, and judged only with ``--allow-different``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.table import Table

from tunekit.errors import ExitCode, ReportError, UsageError
from tunekit.frontends.terminal import console_for
from tunekit.models import Recommendation, Report, Trial
from tunekit.runs import Difference, differences
from tunekit.units import format_rate


@dataclass(frozen=True)
class Change:
    """One (backend, workers) configuration in the old and the new report."""

    backend: str
    workers: int
    old: Trial | None
    new: Trial | None

    @property
    def key(self) -> str:
        """``thread x4``."""
        return f"{self.backend} x{self.workers}"

    @property
    def change(self) -> float | None:
        """Relative change of median throughput (0.1 = 10 % faster); None unless both ran."""
        old = self.old.throughput if self.old is not None and self.old.status == "ok" else None
        new = self.new.throughput if self.new is not None and self.new.status == "ok" else None
        return new / old - 1.0 if old and new is not None else None

    def regressed(self, threshold_pct: float) -> bool:
        """Slower by more than ``threshold_pct`` percent, or ok before and broken now."""
        if self.old is None or self.new is None or self.old.status != "ok":
            return False
        if self.new.status in ("failed", "timeout"):
            return True
        change = self.change
        return change is not None and change < -threshold_pct / 100.0


@dataclass(frozen=True)
class Comparison:
    """Two reports side by side."""

    old: Report
    new: Report
    changes: list[Change]

    def regressions(self, threshold_pct: float) -> list[Change]:
        """The configurations that regressed by more than ``threshold_pct`` percent."""
        return [c for c in self.changes if c.regressed(threshold_pct)]

    def differences(self) -> list[Difference]:
        """What the two analyses ran differently: the target, then the fields of their runs."""
        old, new = self.old, self.new
        found = []
        if old.target != new.target:
            found.append(Difference("target", old.target, new.target))
        if old.run is not None and new.run is not None:
            found += differences(old.run, new.run)
        return found

    def unchecked(self) -> list[str]:
        """The reports ("old", "new") that do not record what was run."""
        return [label for label, r in (("old", self.old), ("new", self.new)) if r.run is None]


def run_compare(
    old_path: Path,
    new_path: Path,
    threshold_pct: float | None,
    out: IO[str],
    allow_different: bool = False,
) -> int:
    """Print the comparison; the exit code: 0, 1 on a regression beyond the threshold.

    Judging reports that ran different things is a ``UsageError`` unless ``allow_different``.
    """
    comparison = compare(load_report(old_path), load_report(new_path))
    if threshold_pct is not None and not allow_different:
        decisive = [d.name for d in comparison.differences() if d.decisive]
        if decisive:
            raise UsageError(
                f"the reports did not run the same analysis ({', '.join(decisive)} "
                f"differ{'s' if len(decisive) == 1 else ''}): --fail-on-regression would judge "
                "the difference, not the code; pass --allow-different to judge them anyway"
            )
    console = console_for(out)
    print_comparison(console, comparison, threshold_pct)
    if threshold_pct is not None and comparison.regressions(threshold_pct):
        return ExitCode.FAILED
    return ExitCode.OK


def load_report(path: Path) -> Report:
    """Read a JSON report, turning every failure into a one-line ``UsageError``."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        return Report.from_json(text)
    except ReportError as exc:
        raise UsageError(f"{str(path)!r}: {exc}") from None


def compare(old: Report, new: Report) -> Comparison:
    """Pair the trials of both reports by (backend, workers), in the old report's order."""
    old_trials = {(t.backend, t.workers): t for t in old.trials}
    new_trials = {(t.backend, t.workers): t for t in new.trials}
    keys = list(dict.fromkeys([*old_trials, *new_trials]))
    backends = {name: i for i, name in enumerate(dict.fromkeys(k[0] for k in keys))}
    keys.sort(key=lambda k: (backends[k[0]], k[1]))
    changes = [Change(b, w, old_trials.get((b, w)), new_trials.get((b, w))) for b, w in keys]
    return Comparison(old, new, changes)


def print_comparison(console: Console, comparison: Comparison, threshold_pct: float | None) -> None:
    """The side-by-side table, the recommendation change, and the regressions if judged."""
    old, new = comparison.old, comparison.new
    console.print(f"[bold]tunekit compare[/bold] {old.target} -> {new.target}")
    for difference in comparison.differences():
        console.print(f"[yellow]warning:[/yellow] {_differs(difference)}")
    for label in comparison.unchecked():
        console.print(
            f"[yellow]note:[/yellow] the {label} report does not record what was run (an "
            "earlier tunekit made it): it cannot be checked"
        )
    for note in _context_notes(old, new):
        console.print(f"[yellow]note:[/yellow] {note}")
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for column in ("backend", "workers", "old tasks/s", "new tasks/s", "change", "note"):
        table.add_column(column, justify="left" if column in ("backend", "note") else "right")
    for change in comparison.changes:
        flag = ""
        if threshold_pct is not None and change.regressed(threshold_pct):
            flag = "[red]regression[/red]"
        elif change.change is None:
            flag = _status_change(change)
        table.add_row(
            change.backend,
            str(change.workers),
            _throughput(change.old),
            _throughput(change.new),
            f"{change.change:+.1%}" if change.change is not None else "-",
            flag,
        )
    console.print(table)
    console.print(_recommendation_change(old.recommendation, new.recommendation))
    if threshold_pct is None:
        return
    regressions = comparison.regressions(threshold_pct)
    if regressions:
        console.print(
            f"[bold red]{len(regressions)} regression{'s' if len(regressions) != 1 else ''} "
            f"beyond {threshold_pct:g} %:[/bold red] " + ", ".join(c.key for c in regressions)
        )
    else:
        console.print(f"[green]No regression beyond {threshold_pct:g} %[/green]")


def _throughput(trial: Trial | None) -> str:
    if trial is None:
        return "-"
    if trial.status != "ok" or not trial.throughput:
        return trial.status
    return format_rate(trial.throughput)


def _status_change(change: Change) -> str:
    if change.old is None:
        return "new"
    if change.new is None:
        return "gone"
    if change.old.status != change.new.status:
        return f"{change.old.status} -> {change.new.status}"
    return ""


def _recommendation_change(old: Recommendation, new: Recommendation) -> str:
    if (old.model, old.pool_size) == (new.model, new.pool_size):
        rates = " -> ".join(
            format_rate(r.throughput) if r.throughput is not None else "-" for r in (old, new)
        )
        return f"Recommendation unchanged: {_configuration(new)} ({rates} tasks/s)"
    return (
        f"[bold]Recommendation changed:[/bold] {_configuration(old)}{_rate(old)} -> "
        f"{_configuration(new)}{_rate(new)}"
    )


def _configuration(rec: Recommendation) -> str:
    if rec.model is None:
        return "none"
    return f"{rec.model} with {rec.pool_size} worker{'s' if rec.pool_size != 1 else ''}"


def _rate(rec: Recommendation) -> str:
    return f" ({format_rate(rec.throughput)} tasks/s)" if rec.throughput is not None else ""


def _differs(difference: Difference) -> str:
    if not difference.decisive:
        return f"{difference.describe()} (the same Python version: not a reason to refuse)"
    verb = "differ" if difference.name.endswith("s") else "differs"
    return f"{difference.name} {verb}: {difference.old} vs {difference.new}"


def _context_notes(old: Report, new: Report) -> list[str]:
    """Differences that make the numbers less comparable, but not a different analysis."""
    notes = []
    if (old.machine.cpus, old.machine.python, old.machine.platform) != (
        new.machine.cpus,
        new.machine.python,
        new.machine.platform,
    ):
        notes.append(
            f"measured on different machines: {old.machine.cpus} CPUs, Python "
            f"{old.machine.python} vs {new.machine.cpus} CPUs, Python {new.machine.python}"
        )
    for label, report in (("old", old), ("new", new)):
        if not report.complete:
            notes.append(f"the {label} report is partial (interrupted by {report.interrupted})")
    return notes
