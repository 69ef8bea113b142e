"""``--python``: the best configurations measured again under the machine's 3.12 and 3.13."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

from tunekit.frontends.cli import main
from tunekit.frontends.testing import find_python, venv_with
from tunekit.models import Report

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
#: The venvs are kept across test sessions (each takes about a minute to install).
CACHE = Path(tempfile.gettempdir()) / "tunekit-test-venvs"


@pytest.fixture(scope="session", params=["3.12", "3.13"])
def other_python(request: pytest.FixtureRequest) -> str:
    """A venv of another Python with this tunekit installed, as a user would point at."""
    version = request.param
    if version == f"{sys.version_info.major}.{sys.version_info.minor}":
        pytest.skip(f"this is Python {version}: compared with another one only")
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine (PATH or pyenv)")
    return str(venv_with(python, ["-e", str(ROOT)], CACHE))


def test_the_best_configurations_are_measured_again_and_compared(
    other_python: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN another interpreter's venv WHEN --python names it THEN each backend's best pool is
    measured again there, the JSON keeps its trials, and the text compares them."""
    out_file = tmp_path / "report.json"
    code = main(
        [
            *["analyze", "tunekit.examples:blocking_io", "--args", "[0.005]"],
            *["--python", other_python, "--probe", "none", "--max-workers", "2"],
            *["--backend", "sequential", "--backend", "thread", "--backend", "process"],
            *["--budget", "20", "--json", str(out_file)],
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 0, out
    report = Report.from_json(out_file.read_text())
    this, run = report.interpreters
    assert this.this and this.version == report.machine.python
    assert {t.backend for t in this.trials} == {t.backend for t in run.trials}
    assert run.python == other_python and not run.this
    assert run.version is not None and run.version != report.machine.python
    measured = {t.key for t in run.trials if t.usable}
    best_here = {t.backend for t in report.trials if t.usable}
    assert {t.backend for t in run.trials} == best_here
    assert measured, [(t.key, t.status, t.reason) for t in run.trials]
    assert "Interpreters compared" in out
    assert f"under {run.version} " in out and " reaches " in out


def test_an_interpreter_without_tunekit_is_one_line_and_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    python = find_python("3.12") or find_python("3.13")
    if python is None:
        pytest.skip("no Python 3.12 or 3.13 on this machine (PATH or pyenv)")
    code = main(["analyze", "tunekit.examples:tiny", "--python", python, "--budget", "5"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "cannot import" in out + err and "pip install tunekit" in out + err
    assert "Traceback" not in out + err


def test_a_missing_interpreter_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analyze", "tunekit.examples:tiny", "--python", "/no/such/python"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "--python /no/such/python: no executable there" in out + err
