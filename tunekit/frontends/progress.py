"""A live progress line for ``tunekit analyze`` on a terminal: what runs, and budget left.

It is fed by the ``progress`` callback of ``run_analysis`` and drawn by rich on the terminal
only; it leaves nothing behind (``transient``), so the report that follows stays clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import IO, TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, TaskID, TextColumn
from rich.progress_bar import ProgressBar
from rich.text import Text

if TYPE_CHECKING:
    from rich.progress import Task

    from tunekit.plan.sizing import TrialPlan


def wants_progress(stream: IO[str], quiet: bool) -> bool:
    """Show progress only on an interactive terminal and when not ``--quiet``."""
    return not quiet and stream.isatty()


@contextmanager
def progress_display(
    stream: IO[str], budget_s: float, enabled: bool
) -> Iterator[ProgressDisplay | None]:
    """A live display on ``stream`` while the block runs, or ``None`` when not ``enabled``."""
    if not enabled:
        yield None
        return
    with ProgressDisplay(Console(file=stream), budget_s) as display:
        yield display


class _BudgetBar(BarColumn):
    """The share of the budget used so far, moving between trials too."""

    def render(self, task: Task) -> ProgressBar:
        total = task.total or 1.0
        return ProgressBar(
            total=total, completed=min(task.elapsed or 0.0, total), width=self.bar_width
        )


class _BudgetLeft(ProgressColumn):
    """Seconds of the budget left, counting down between trials."""

    def render(self, task: Task) -> Text:
        left = max((task.total or 0.0) - (task.elapsed or 0.0), 0.0)
        return Text(f"{left:4.0f} s left", style="progress.remaining")


class ProgressDisplay:
    """A context manager whose instance is the ``progress`` callback of ``run_analysis``."""

    def __init__(self, console: Console, budget_s: float) -> None:
        self.budget_s = budget_s
        self.trials = 0
        self.used_s = 0.0
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            _BudgetBar(bar_width=24),
            _BudgetLeft(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressDisplay:
        self._progress.start()
        self._task = self._progress.add_task("calibrating", total=self.budget_s)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, event: str, plan: TrialPlan | None, left_s: float) -> None:
        """One event of the analysis: ``"trial"`` before each trial, with the budget left."""
        if self._task is None:
            return
        if event == "trial" and plan is not None:
            self.trials += 1
            workers = f"{plan.workers} worker{'s' if plan.workers != 1 else ''}"
            description = f"trial {self.trials}: {plan.backend} with {workers}"
        else:
            description = event
        self.used_s = max(self.budget_s - left_s, 0.0)
        self._progress.update(self._task, description=description)

    def describe(self) -> str:
        """What the display shows now, in words (for tests and logs)."""
        if self._task is None:
            return ""
        task = self._progress.tasks[0]
        return f"{task.description} ({self.used_s:.1f} of {self.budget_s:g} s used)"
