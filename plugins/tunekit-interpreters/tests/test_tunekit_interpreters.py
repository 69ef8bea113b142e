"""The ``interpreters`` backend: skipped with the reason before 3.13, measured for real on 3.13
(a venv of the machine's 3.13 with tunekit, this plugin and the PEP 734 backport)."""

from __future__ import annotations

import importlib.metadata
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest

try:
    DIST = importlib.metadata.distribution("tunekit-interpreters")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("run `pip install -e plugins/tunekit-interpreters`", allow_module_level=True)

from tunekit_interpreters import InterpretersBackend, pool_class

from tunekit.frontends.testing import analyze_trials, find_python, plugin_rows, venv_with
from tunekit.target import TargetSpec, load_target

HERE = Path(__file__).parent
TARGETS = HERE / "interpreters_targets.py"
ROOT = HERE.parents[2]
#: The venv is kept across test sessions (it takes about a minute to install).
CACHE = Path(tempfile.gettempdir()) / "tunekit-test-venvs"


@pytest.fixture(scope="session")
def python313() -> str:
    """The python of a 3.13 venv with tunekit and this plugin (and so the backport)."""
    python = find_python("3.13")
    if python is None:
        pytest.skip("no Python 3.13 on this machine (PATH or pyenv)")
    return str(venv_with(python, ["-e", str(ROOT), "-e", str(HERE.parent)], CACHE))


def test_tunekit_plugins_lists_the_backend_with_its_distribution() -> None:
    assert ["backend", "interpreters", "tunekit-interpreters", DIST.version] in plugin_rows()


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="the skip is for Pythons before 3.13")
def test_before_3_13_the_backend_is_skipped_with_the_reason() -> None:
    """GIVEN Python 3.11 or 3.12 THEN the backend says why it cannot run, and an analysis
    skips it with that reason."""
    version = ".".join(map(str, sys.version_info[:3]))
    reason = (
        "subinterpreter pools need Python 3.14, or 3.13 with the interpreters-pep-734 "
        f"backport; this is Python {version}"
    )
    assert pool_class() == (None, reason)
    target = load_target(TargetSpec(f"{TARGETS}:spin"))
    assert InterpretersBackend().supports(target) == reason
    trials = analyze_trials(f"{TARGETS}:spin", "sequential", "interpreters", budget=6)
    (skipped,) = [t for t in trials if t["backend"] == "interpreters"]
    assert (skipped["status"], skipped["reason"]) == ("skipped", reason)


@pytest.mark.slow
def test_on_3_13_subinterpreters_run_pure_python_with_start_up_apart(python313: str) -> None:
    """GIVEN Python 3.13 with the backport WHEN pure Python is analyzed THEN every trial of the
    backend ran every call, and its start-up (the interpreters, the imports) is apart."""
    trials = analyze_trials(f"{TARGETS}:spin", "sequential", "interpreters", python=python313)
    ours = [t for t in trials if t["backend"] == "interpreters"]
    assert ours, trials
    for trial in ours:
        assert trial["status"] == "ok", trial["reason"]
        assert trial["errors"] == 0, trial["first_error"]
        assert trial["goodput"] > 0
        assert trial["startup_s"] > 0


@pytest.mark.slow
def test_on_3_13_each_subinterpreter_opens_its_setup_and_closes_it(
    python313: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "setup.log"
    monkeypatch.setenv("TUNEKIT_TEST_INTERPRETERS_LOG", str(log))
    trials = analyze_trials(
        f"{TARGETS}:spin_with", "interpreters", python=python313, setup=f"{TARGETS}:opened"
    )
    ours = [t for t in trials if t["backend"] == "interpreters"]
    assert ours and all(t["status"] == "ok" and t["errors"] == 0 for t in ours), ours
    assert all(t["setups"] == t["workers"] for t in ours)
    events = Counter(line.split()[0] for line in log.read_text().splitlines())
    # one per worker of every trial (a re-measured one ran again), and the calibration's
    expected = 1 + sum(t["workers"] * (1 + t["reruns"]) for t in ours)
    assert events["open"] == events["close"] == expected, (events, ours)
