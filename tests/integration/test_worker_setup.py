"""``--setup``: one sqlite connection per worker, across thread, process and asyncio."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tunekit.frontends.cli import main
from tunekit.models import Report

from ..setup_targets import LOG_ENV

pytestmark = pytest.mark.slow

SETUP_TARGETS = Path(__file__).parent.parent / "setup_targets.py"


def spec(name: str) -> str:
    return f"{SETUP_TARGETS}:{name}"


def run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    target: str,
    setup: str,
    *backends: str,
) -> tuple[int, str, Report | None, list[list[str]]]:
    log = tmp_path / "setup.log"
    monkeypatch.setenv(LOG_ENV, str(log))
    out_file = tmp_path / "report.json"
    argv = ["analyze", spec(target), "--setup", spec(setup), "--probe", "none"]
    for backend in backends:
        argv += ["--backend", backend]
    argv += ["--sweep", "grid", "--max-workers", "2", "--budget", "15", "--json", str(out_file)]
    code = main(argv)
    out, err = capsys.readouterr()
    report = Report.from_json(out_file.read_text()) if out_file.exists() else None
    lines = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    return code, out + err, report, lines


def connections_per_trial(lines: list[list[str]]) -> Counter[str]:
    """Connections opened, by the trial process they served; every one was closed."""
    opened = {key: trial for event, key, trial in lines if event == "open"}
    closed = {key for event, key, _ in lines if event == "close"}
    assert set(opened) == closed, f"not closed: {set(opened) - closed}"
    assert len(opened) == sum(event == "open" for event, _, _ in lines), "a key opened twice"
    return Counter(opened.values())


@pytest.mark.parametrize(
    ("target", "backends"),
    [
        ("query", ("sequential", "thread", "process")),
        ("query", ("asyncio",)),
        ("query_async", ("sequential", "asyncio")),
    ],
)
def test_every_worker_gets_its_own_connection_and_closes_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    target: str,
    backends: tuple[str, ...],
) -> None:
    """GIVEN a generator factory opening a sqlite connection (usable on its own thread only)
    WHEN the target runs with --setup under each backend
    THEN each trial opened one connection per worker, every call succeeded on its worker's
    own connection, and each connection was closed."""
    code, out, report, lines = run(tmp_path, monkeypatch, capsys, target, "connection", *backends)
    assert code == 0, out
    assert report is not None
    trials = [t for t in report.trials if t.backend in backends]
    assert {t.backend for t in trials} == set(backends)
    for trial in trials:
        assert trial.status == "ok", trial.reason
        assert trial.errors == 0, trial.first_error
        assert trial.setups == trial.workers, trial.key
        assert trial.setup_s is not None and trial.setup_s > 0
    counts = connections_per_trial(lines)
    # the calibration's process opened one; each trial process as many as its workers
    # (a re-measured trial ran in a process of its own each time)
    expected = [1] + [t.workers for t in trials for _ in range(1 + t.reruns)]
    assert sorted(counts.values()) == sorted(expected)
    assert report.workload.setup == spec("connection")
    snippet = report.recommendation.snippet
    assert snippet is not None and "each worker needs its own connection() result" in snippet
    assert "per-worker setup" in out
    assert "setup " in out and " each)" in out  # the start-up cell shows the setup apart


def test_a_result_with_close_is_closed_in_every_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, report, lines = run(
        tmp_path, monkeypatch, capsys, "uses_closing", "closing", "thread", "process"
    )
    assert code == 0, out
    assert report is not None
    assert all(t.setups == t.workers for t in report.trials if t.status == "ok")
    connections_per_trial(lines)


def test_a_backend_that_cannot_run_a_setup_is_skipped_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, report, _ = run(
        tmp_path, monkeypatch, capsys, "query", "connection", "sequential", "joblib"
    )
    assert code == 0, out
    assert report is not None
    (joblib,) = [t for t in report.trials if t.backend == "joblib"]
    assert joblib.status == "skipped"
    assert joblib.reason is not None and "cannot run a per-worker setup" in joblib.reason


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("raising", "raised ConnectionRefusedError: database is down"),
        ("no_yield", "returned without yielding a value"),
        ("async_factory", "is an async function"),
        ("missing", "has no attribute 'missing'"),
    ],
)
def test_a_broken_setup_is_one_line_and_exit_code_1(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setup: str,
    message: str,
) -> None:
    code, out, _, _ = run(tmp_path, monkeypatch, capsys, "query", setup, "sequential")
    assert code == 1
    assert message in out
    assert "Traceback" not in out
