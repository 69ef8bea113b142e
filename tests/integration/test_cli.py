"""The command line: exit codes, one-line errors, the report on stdout and in JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tunekit.frontends.cli import main
from tunekit.models import Report

from ..conftest import target


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_missing_module_is_one_line_exit_1_without_traceback() -> None:
    # the real console entry point, in its own process
    proc = subprocess.run(
        [sys.executable, "-m", "tunekit", "analyze", "nosuchmodule:f"],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert (
        proc.stderr
        == "tunekit: error: cannot import 'nosuchmodule': no module named 'nosuchmodule'\n"
    )
    assert proc.stdout == ""


def test_target_that_always_fails_exits_1_with_the_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "analyze", target("always_fails"), "--budget", "10")
    assert code == 1
    assert "the target raised on every call: ValueError: always broken" in out


def test_analyze_prints_the_report_and_writes_valid_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "report.json"
    code, out, _ = run(
        capsys,
        "analyze",
        target("sleeper"),
        "--backend",
        "sequential",
        "--backend",
        "thread",
        "--max-workers",
        "4",
        "--budget",
        "10",
        "--json",
        str(out_file),
    )
    assert code == 0
    assert "Recommendation: thread with" in out
    report = Report.from_json(out_file.read_text())
    # A pool of 1 cannot beat sequential: the adaptive sweep starts threads at 2.
    assert {(t.backend, t.workers) for t in report.trials} == {
        ("sequential", 1),
        ("thread", 2),
        ("thread", 4),
    }
    assert report.recommendation.model == "thread"


def test_json_to_stdout_keeps_stdout_pure_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "analyze",
        target("add"),
        "--backend",
        "sequential",
        "--budget",
        "8",
        "--json",
        "-",
        "--probe",
        "none",
    )
    assert code == 0
    assert json.loads(out)["schema"] == "tunekit.report/1"
    assert "Recommendation" in err


def test_quiet_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "analyze",
        target("add"),
        "--backend",
        "sequential",
        "--budget",
        "8",
        "--quiet",
        "--probe",
        "none",
    )
    assert (code, out, err) == (0, "", "")
