"""Failures caught before any process starts: bad option values (fuzzed), unwritable output
folders, and interrupted writes. Each ends with a clear message and the right exit code."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from tunekit.engine import AnalysisConfig, run_analysis
from tunekit.files import write_atomically
from tunekit.frontends.cli import main
from tunekit.models import Report

from ..conftest import target

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


def test_json_into_an_unwritable_folder_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["analyze", "m:f", "--json", "/proc/report.json"])
    assert code == 2
    assert "is not writable" in capsys.readouterr().err


def analyze(func: str, backends: list[str], budget: float = 15, **options: object) -> Report:
    return run_analysis(
        AnalysisConfig(probes=[], target=target(func), backends=backends, budget=budget, **options)  # type: ignore[arg-type]
    )


def test_an_interrupted_write_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")

    real_fdopen = os.fdopen

    class FailsMidway:
        """A file that writes a few bytes, then is interrupted."""

        def __init__(self, handle: io.TextIOWrapper) -> None:
            self.handle = handle

        def __enter__(self) -> FailsMidway:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, text: str) -> int:
            self.handle.write(text[:5])
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FailsMidway(real_fdopen(fd, mode)))
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, json.dumps({"new": True}))
    monkeypatch.undo()
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
