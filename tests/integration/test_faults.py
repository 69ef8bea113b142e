"""What tunekit does when things go wrong: a matrix, one row per failure (see docs/failures.md).
Every row ends with a clear message, the right exit code, what was
measured kept, and no process left behind (the autouse fixture checks the last)."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tunekit.engine import AnalysisConfig, run_analysis
from tunekit.frontends.cli import main
from tunekit.models import Report

from ..conftest import TARGETS, target

# --- bad targets: one clear message, exit 1, no traceback unless --debug -----------------

BROKEN_MODULES = {
    "syntax_error.py": "def f(:\n    pass\n",
    "raises_on_import.py": "raise RuntimeError('missing configuration')\n",
}


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    for name, text in BROKEN_MODULES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_q:f", "cannot import 'no_such_module_q': no module named"),
        (target("no_such_function"), "has no attribute 'no_such_function'"),
        (target("NOT_CALLABLE"), "is not callable (it is a int)"),
        (target("Greeter"), "is a class, not a function"),
        ("{tmp}/syntax_error.py:f", "syntax_error.py:1: SyntaxError"),
        ("{tmp}/raises_on_import.py:f", "raised RuntimeError: missing configuration"),
        ("{tmp}/no_such_file.py:f", "no such file"),
    ],
)
def test_bad_target(
    capsys: pytest.CaptureFixture[str], broken: Path, spec: str, message: str
) -> None:
    code = main(["analyze", spec.format(tmp=broken), "--budget", "5"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.startswith("tunekit: error: ")
    assert message in err.splitlines()[0]
    assert "Traceback" not in err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analyze", "no_such_module_q:f", "--debug"])
    assert code == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


# --- bad options: usage errors exit 2; no combination ever gives a traceback ------------


# --- faults in user code: each costs one trial, never the analysis ----------------------


def analyze(func: str, backends: list[str], budget: float = 15, **options: object) -> Report:
    return run_analysis(
        AnalysisConfig(probes=[], target=target(func), backends=backends, budget=budget, **options)  # type: ignore[arg-type]
    )


def test_sometimes_failing_target_is_measured_and_flagged() -> None:
    report = analyze("fails_every_third", ["sequential", "thread"], max_workers=2)
    assert report.recommendation.model is not None
    assert all(t.errors > 0 for t in report.trials if t.status == "ok")
    assert any(
        r.startswith("warning: 3") and "KeyError" in r for r in report.recommendation.reasons
    )


@pytest.mark.parametrize(
    ("how", "status", "reason"),
    [
        ("hang", "timeout", "no result within the"),
        ("exit", "failed", "exited with code 7"),
        ("segfault", "failed", "SIGSEGV"),
    ],
)
def test_a_trial_that_hangs_or_dies_costs_that_trial_only(
    how: str, status: str, reason: str
) -> None:
    report = run_analysis(
        AnalysisConfig(
            probes=[],
            target=target("misbehaves_in_pools"),
            args=[how],
            backends=["sequential", "thread"],
            max_workers=1,
            budget=12,
        )
    )
    trials = {t.key: t for t in report.trials}
    assert trials["sequential x1"].status == "ok"
    assert trials["thread x1"].status == status
    assert reason in (trials["thread x1"].reason or "")
    assert report.recommendation.model == "sequential"
    assert report.complete


def test_a_process_pool_child_that_dies_fails_its_trial() -> None:
    report = run_analysis(
        AnalysisConfig(
            probes=[],
            target=target("misbehaves_in_pools"),
            args=["exit"],
            backends=["sequential", "process"],
            max_workers=1,
            budget=12,
        )
    )
    trials = {t.key: t for t in report.trials}
    assert trials["process x1"].status == "failed"
    assert "BrokenProcessPool" in (trials["process x1"].reason or "")


def test_a_trial_over_the_memory_limit_is_stopped_and_larger_pools_ruled_out() -> None:
    report = run_analysis(
        AnalysisConfig(
            probes=[],
            target=target("misbehaves_in_pools"),
            args=["allocate"],
            backends=["sequential", "thread"],
            max_workers=2,
            budget=15,
            sweep="grid",  # every size is planned: the larger one is ruled out, not measured
            memory_limit=200 * 2**20,
        )
    )
    trials = {t.key: t for t in report.trials}
    assert trials["sequential x1"].status == "ok"
    assert trials["thread x1"].status == "failed"
    assert (trials["thread x1"].reason or "").startswith(
        "memory limit: stopped: its processes used"
    )
    assert trials["thread x2"].status == "skipped"
    assert trials["thread x2"].reason == "ruled out: thread x1 already exceeded the memory limit"
    assert report.memory_limit_bytes == 200 * 2**20


def test_unpicklable_results_skip_the_process_backend_with_the_reason() -> None:
    report = analyze("returns_unpicklable", ["sequential", "process"], budget=8, max_workers=1)
    trials = {t.key: t for t in report.trials}
    assert trials["process x1"].status == "skipped"
    assert trials["process x1"].reason == (
        "results cannot be pickled (TypeError: cannot pickle 'Opaque' object)"
    )
    assert trials["sequential x1"].status == "ok"


def test_unpicklable_arguments_skip_the_process_backend_with_the_reason() -> None:
    report = run_analysis(
        AnalysisConfig(
            probes=[],
            target=target("takes_anything"),
            inputs=target("lambdas"),
            backends=["process"],
            budget=5,
        )
    )
    assert report.trials[0].status == "skipped"
    assert (report.trials[0].reason or "").startswith("arguments cannot be pickled")


def test_a_leaked_non_daemon_thread_does_not_hold_up_the_trial(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text(
        "import threading, time\n"
        "def work():\n"
        "    threading.Thread(target=time.sleep, args=(3600,)).start()\n"  # not a daemon
        "    time.sleep(0.001)\n"
    )
    report = run_analysis(
        AnalysisConfig(probes=[], target=f"{module}:work", backends=["sequential"], budget=10)
    )
    assert [t.status for t in report.trials] == ["ok"]


# --- interrupts: partial report, exit 130/143, nothing left running ---------------------


@pytest.mark.parametrize(
    ("signum", "code", "name"), [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")]
)
def test_an_interrupt_writes_the_partial_report_and_leaves_no_process(
    tmp_path: Path, signum: int, code: int, name: str
) -> None:
    out_file = tmp_path / "report.json"
    out_file.write_text("previous contents")
    argv = [sys.executable, "-m", "tunekit", "analyze", f"{TARGETS}:sleeper", "--probe", "none"]
    argv += ["--budget", "60", "--backend", "sequential", "--backend", "thread"]
    # on a terminal, so that the live progress says which trial runs: the cue to interrupt
    leader, follower = pty.openpty()
    # as from a terminal, where Ctrl-C is not ignored: a shell that starts a job in the
    # background (`&`, no job control) ignores SIGINT for it, an ignored signal stays ignored
    # across exec, and Python then installs no handler (tunekit rightly ran to the end). A
    # handler of ours is reset to the default by exec, so the child gets its own.
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen(
            [*argv, "--json", str(out_file)],
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
        )
    finally:
        signal.signal(signal.SIGINT, ignored)
    os.close(follower)
    tunekit = psutil.Process(proc.pid)
    seen: set[psutil.Process] = set()
    output, sent = b"", None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(psutil.Error):
            seen.update(tunekit.children(recursive=True))
        ready, _, _ = select.select([leader], [], [], 0.02)
        try:
            chunk = os.read(leader, 65536) if ready else b"."
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk if ready else b""
        # GIVEN an analysis that has finished a trial and is running the next one
        if sent is None and b"trial 2:" in output:
            # WHEN it is interrupted
            os.kill(proc.pid, signum)
            sent = time.monotonic()
    os.close(leader)
    returncode = proc.wait(timeout=30)
    assert sent is not None, output.decode(errors="replace")[-2000:]
    stopped_after = time.monotonic() - sent
    text = output.decode(errors="replace")
    # THEN it exits with the signal's code, soon, with a partial report in both forms
    assert returncode == code, text[-2000:]
    assert stopped_after < 10, f"took {stopped_after:.1f} s to stop"
    report = Report.from_json(out_file.read_text())
    assert report.complete is False
    assert report.interrupted == name
    assert any(t.status == "ok" for t in report.trials)
    assert f"Interrupted by {name}" in text
    # AND no process it started is still running
    assert not [p for p in seen if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


# --- output safety -------------------------------------------------------------------------
