"""The ``gevent`` backend: discovery, patching before the import, a real analysis."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import pytest

try:
    DIST = importlib.metadata.distribution("tunekit-gevent")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("run `pip install -e plugins/tunekit-gevent`", allow_module_level=True)

from tunekit.frontends.testing import analyze_trials, plugin_rows
from tunekit.isolation.protocol import TrialRequest
from tunekit.isolation.spawn import run_in_child
from tunekit.models import Trial
from tunekit.target import TargetSpec

TARGETS = Path(__file__).parent / "gevent_targets.py"


def analyze(example: str, *backends: str, code: int = 0) -> list[dict[str, Any]]:
    """The trials of a small ``tunekit analyze``."""
    return analyze_trials(
        f"tunekit.examples:{example}", *backends, max_workers=4, budget=8, code=code
    )


def test_tunekit_plugins_lists_gevent_with_its_distribution() -> None:
    rows = plugin_rows()
    assert ["backend", "gevent", "tunekit-gevent", DIST.version] in rows


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "patched"), [("gevent", True), ("thread", False)])
def test_only_gevents_trial_process_is_patched_and_before_the_import(
    backend: str, patched: bool
) -> None:
    """GIVEN a target that raises unless ``time`` was patched when it was imported WHEN a
    trial runs it THEN it succeeds under gevent and fails under threads (not patched)."""
    request = TrialRequest(TargetSpec(f"{TARGETS}:patched_nap"), backend, 2, 20, repeats=3)
    outcome = run_in_child(request, 60)
    assert isinstance(outcome.reply, Trial), outcome.reason
    trial = outcome.reply
    assert trial.status == "ok", trial.reason
    assert (trial.errors == 0) is patched


@pytest.mark.slow
def test_gevent_analyzes_the_bundled_sync_example() -> None:
    trials = analyze("blocking_io", "gevent")
    assert trials and all(t["status"] == "ok" and t["errors"] == 0 for t in trials), trials


@pytest.mark.slow
def test_gevent_is_skipped_for_the_bundled_coroutine_example() -> None:
    (trial,) = analyze("async_io", "gevent", code=1)
    assert trial["status"] == "skipped"
    assert trial["reason"].startswith("a coroutine function: gevent runs plain functions")


@pytest.mark.slow
def test_gevent_runs_a_per_worker_setup_once_per_slot_of_the_pool() -> None:
    """GIVEN --setup WHEN gevent is analyzed THEN each trial ran it once per greenlet slot and
    no two calls held one value at once."""
    trials = analyze_trials(f"{TARGETS}:nap_with", "gevent", setup=f"{TARGETS}:slot")
    gevent = [t for t in trials if t["backend"] == "gevent"]
    assert gevent
    for trial in gevent:
        assert trial["status"] == "ok", trial["reason"]
        assert trial["errors"] == 0, trial["first_error"]
        assert trial["setups"] == trial["workers"]
