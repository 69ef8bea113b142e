"""The terminal report: the answer first, a table that fits 80, 100 and 120 columns without
cutting a name, wrapped lines at their indent, a one-line legend, notes only with verbose."""

from __future__ import annotations

import pytest

from tunekit.models import Latency, Machine, Recommendation, Report, Trial, Workload
from tunekit.plan.sizing import UNSTABLE_SPREAD as ENGINE_UNSTABLE_SPREAD
from tunekit.reporters.text import TextReporter
from tunekit.reporters.text_table import UNSTABLE_SPREAD

LONG_NAME = "interpreter_pool_backend"


def trial(backend: str, workers: int, goodput: float, **extra: object) -> Trial:
    return Trial(
        backend,
        workers,
        "ok",
        tasks=100,
        repeats=3,
        throughput=goodput,
        throughput_spread=0.04,
        throughput_values=[goodput * 0.97, goodput, goodput * 1.02],
        latency_s=Latency(0.0123, 0.0151, 0.0456),
        cpu_s=0.4,
        wall_s=0.5,
        peak_rss_bytes=123 * 2**20,
        startup_s=0.0312,
        **extra,  # type: ignore[arg-type]
    )


def report() -> Report:
    trials = [trial("sequential", 1, 98.0)]
    for workers in (2, 4, 8):
        trials.append(trial("thread", workers, 98.0 * min(workers, 4)))
        trials.append(trial(LONG_NAME, workers, 90.0 * workers, reruns=1, unstable=True))
    trials.append(Trial("twisted", 2, "failed", reason="exit code 3 " + "x" * 150))
    reasons = [
        "thread x4 reached 392 calls/s, 4.00x sequential, and a pool of 8 gained nothing over "
        "it within the noise of 4%, so the smaller pool is the knee of the curve",
        "second reason",
        "third reason",
    ]
    return Report(
        target="app.jobs:fetch",
        machine=Machine(cpus=2, python="3.11.7", platform="linux-x86_64"),
        workload=Workload(is_coroutine=False, task_wall_s=0.0102, task_cpu_s=0.0001),
        trials=trials,
        recommendation=Recommendation(
            "thread", 4, 392.0, 4.0, reasons, goodput=392.0, snippet="import x\n\nx.run()\n"
        ),
        notes=["thread: stopped growing: thread x8 gained +0% over thread x4 (noise 4%)"],
        budget_s=30.0,
        elapsed_s=29.1,
    )


@pytest.mark.parametrize("width", [80, 100, 120])
def test_the_report_fits_without_cutting_names(width: int) -> None:
    """GIVEN a report with a long backend name WHEN rendered at 80, 100 and 120 columns
    THEN no line is wider, every backend name is whole and wrapped lines keep their indent."""
    text = TextReporter(width=width).render(report())
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in text
    rows = [line for line in lines if line.startswith(LONG_NAME)]
    assert len(rows) == 3
    reason = next(i for i, line in enumerate(lines) if line.startswith("  - thread x4 reached"))
    assert lines[reason + 1].startswith("    ") and not lines[reason + 1].startswith("     ")
    failed = next(i for i, line in enumerate(lines) if line.startswith("  twisted x2 failed"))
    assert lines[failed + 1].startswith("  ")


def test_the_answer_comes_first_and_notes_wait_for_verbose() -> None:
    """GIVEN a report THEN the recommendation comes before the table, two reasons are shown, the
    legend is one line under the table, and the notes appear only with verbose."""
    text = TextReporter(width=100).render(report())
    lines = text.splitlines()
    assert lines[1].startswith("Recommendation: thread with 4 workers: 392 calls/s, 4.00x")
    header = next(i for i, line in enumerate(lines) if line.startswith("backend"))
    assert header > 2
    assert "second reason" in text and "third reason" not in text
    assert "(1 more reason: --verbose)" in text
    last_row = max(i for i, line in enumerate(lines) if line.startswith(("thread", LONG_NAME)))
    assert lines[last_row + 2] == (
        "  ± spread · ! over 10% · *N: N runs merged · speed-up vs sequential x1"
    )
    assert "steadiest" not in text
    assert "note: thread" not in text and "1 note on how the sweep went" in text
    verbose = TextReporter(width=100, verbose=True).render(report())
    assert "note: thread: stopped growing" in verbose and "third reason" in verbose
    assert "Code to paste" in text and "    x.run()" in text


def test_narrow_tables_say_which_columns_they_left_out() -> None:
    """GIVEN 80 columns THEN whole columns are left out, and named under the table."""
    text = TextReporter(width=80).render(report())
    assert "left out at this width: start-up" in text
    assert "start-up" not in text.split("left out")[0]


def test_the_legend_quotes_the_engines_bound() -> None:
    assert UNSTABLE_SPREAD == ENGINE_UNSTABLE_SPREAD
