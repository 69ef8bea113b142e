"""``tunekit compare`` on real reports of one target run with different keyword arguments."""

from __future__ import annotations

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


def analyze(capsys: pytest.CaptureFixture[str], json_path: Path, delay: float) -> None:
    code, _, err = run(
        capsys,
        "analyze",
        target("sleeper"),
        "--kwargs",
        f'{{"delay": {delay}}}',
        "--backend",
        "sequential",
        "--backend",
        "thread",
        "--max-workers",
        "2",
        "--probe",
        "none",
        "--budget",
        "6",
        "--quiet",
        "--json",
        str(json_path),
    )
    assert code == 0, err


def test_reports_run_with_other_kwargs_warn_and_refuse_to_be_judged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # GIVEN two real reports of one target whose calls sleep 10 ms and 20 ms
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    analyze(capsys, old, 0.01)
    analyze(capsys, new, 0.02)
    record = Report.from_json(new.read_text()).run
    assert record is not None
    assert (record.kwargs, record.budget_s, record.max_workers) == ({"delay": 0.02}, 6.0, 2)
    assert (sorted(record.backends), record.probes) == (["sequential", "thread"], [])
    assert record.interpreter is not None
    assert record.interpreter.executable == sys.executable
    # WHEN they are compared THEN the warning names the keyword arguments
    code, out, _ = run(capsys, "compare", str(old), str(new))
    assert code == 0
    assert out.splitlines()[1] == 'warning: kwargs differ: {"delay": 0.01} vs {"delay": 0.02}'
    # AND judging them exits 2 with one line, unless --allow-different
    code, out, err = run(capsys, "compare", str(old), str(new), "--fail-on-regression", "10")
    assert (code, out) == (2, "")
    assert err.startswith("tunekit: error: the reports did not run the same analysis (kwargs")
    assert len(err.splitlines()) == 1
    allowed = ("--fail-on-regression", "10", "--allow-different")
    code, out, err = run(capsys, "compare", str(old), str(new), *allowed)
    # calls twice as long halve the rate: a regression beyond 10 % on every configuration
    assert (code, err) == (1, "")
    assert "regression" in out.splitlines()[-1]
