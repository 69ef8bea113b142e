"""The live progress display of ``tunekit analyze``: shown on terminals only, fed by events."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from tunekit.frontends.progress import ProgressDisplay, progress_display, wants_progress
from tunekit.plan.sizing import TrialPlan


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "quiet", "shown"),
    [(FakeTerminal(), False, True), (FakeTerminal(), True, False), (io.StringIO(), False, False)],
    ids=["terminal", "quiet", "pipe"],
)
def test_progress_only_on_a_terminal_without_quiet(
    stream: io.StringIO, quiet: bool, shown: bool
) -> None:
    assert wants_progress(stream, quiet) is shown


def test_the_display_names_the_running_trial_and_the_budget_used() -> None:
    # GIVEN a display on a terminal
    terminal = FakeTerminal()
    console = Console(file=terminal, force_terminal=True, width=100)
    with ProgressDisplay(console, budget_s=10.0) as display:
        assert display.describe() == "calibrating (0.0 of 10 s used)"
        # WHEN the analysis starts trials
        display("trial", TrialPlan("sequential", 1), 9.5)
        display("trial", TrialPlan("thread", 4), 6.0)
        # THEN it shows which backend and worker count runs, and how much budget is used
        assert display.describe() == "trial 2: thread with 4 workers (4.0 of 10 s used)"
        display._progress.refresh()
    assert "trial 2: thread with 4 workers" in terminal.getvalue()
    assert "s left" in terminal.getvalue()


@pytest.fixture(autouse=True)
def no_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyses here test the API around the engine: skip the profiling probes (time)."""
    monkeypatch.setenv("TUNEKIT_DISABLE_PLUGINS", "nature,pyinstrument,memray,locks")


def test_disabled_display_is_none() -> None:
    with progress_display(io.StringIO(), 5.0, enabled=False) as display:
        assert display is None
