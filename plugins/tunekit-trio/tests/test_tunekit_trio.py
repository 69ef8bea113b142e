"""The ``trio`` backend: discovery, trio-native and sync targets, asyncio-only ones skipped."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import pytest

try:
    DIST = importlib.metadata.distribution("tunekit-trio")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("run `pip install -e plugins/tunekit-trio`", allow_module_level=True)

from tunekit_trio import TrioBackend

from tunekit.frontends.testing import analyze_trials, plugin_rows
from tunekit.target import TargetSpec, load_target

TARGETS = Path(__file__).parent / "trio_targets.py"


def analyze(target: str, *backends: str, code: int = 0) -> list[dict[str, Any]]:
    """The trials of a small ``tunekit analyze``."""
    return analyze_trials(target, *backends, max_workers=2, budget=8, code=code)


def test_tunekit_plugins_lists_trio_with_its_distribution() -> None:
    rows = plugin_rows()
    assert ["backend", "trio", "tunekit-trio", DIST.version] in rows


def test_an_asyncio_only_coroutine_is_unsupported_with_the_reason() -> None:
    target = load_target(TargetSpec("tunekit.examples:async_io"))
    assert TrioBackend().supports(target) == (
        "an asyncio-only coroutine: it runs under asyncio but under trio it raised "
        "RuntimeError: no running event loop"
    )


def test_trio_native_sync_and_always_failing_targets_are_supported() -> None:
    for spec in (f"{TARGETS}:nap", "tunekit.examples:tiny", f"{TARGETS}:always_fails"):
        assert TrioBackend().supports(load_target(TargetSpec(spec))) is None, spec


def test_a_batch_keeps_call_order_and_at_most_workers_in_flight() -> None:
    target = load_target(TargetSpec(f"{TARGETS}:nap", args=[0.05]))
    with TrioBackend().session(target, 2) as run:
        results = run(target.calls * 4)
    assert [r.error for r in results] == [None] * 4
    ends = sorted(r.end_s or 0.0 for r in results)
    # two waves of two: the third call ends a whole nap after the first
    assert ends[2] - ends[0] >= 0.05 * 0.9


@pytest.mark.slow
def test_trio_analyzes_the_bundled_sync_example() -> None:
    trials = analyze("tunekit.examples:blocking_io", "trio")
    assert trials and all(t["status"] == "ok" and t["errors"] == 0 for t in trials), trials


@pytest.mark.slow
def test_trio_is_skipped_for_the_bundled_asyncio_example() -> None:
    # the only backend asked for cannot run it: no recommendation, exit code 1
    (trial,) = analyze("tunekit.examples:async_io", "trio", code=1)
    assert trial["status"] == "skipped"
    assert trial["reason"].startswith("an asyncio-only coroutine")


def test_each_slot_gets_its_own_setup_value_and_keeps_it_to_itself() -> None:
    """GIVEN a per-worker setup WHEN a batch runs with 2 slots THEN the factory ran twice, before
    the batch, and no value was held by two calls at once."""
    target = load_target(TargetSpec(f"{TARGETS}:nap_with", args=[0.01], setup=f"{TARGETS}:slot"))
    with TrioBackend().session(target, 2) as run:
        assert len(target.setup_s) == 2
        results = run(target.calls * 6)
    assert [r.error for r in results] == [None] * 6


def test_a_plain_function_with_a_setup_is_skipped_with_the_reason() -> None:
    target = load_target(TargetSpec(f"{TARGETS}:sync_with", setup=f"{TARGETS}:slot"))
    reason = TrioBackend().supports(target)
    assert reason is not None and "cannot run a per-worker setup for a plain function" in reason


@pytest.mark.slow
def test_a_trio_native_coroutine_is_analyzed_under_trio_and_skipped_elsewhere() -> None:
    """GIVEN a coroutine that awaits trio.sleep WHEN analyzed with trio and asyncio-based
    backends THEN the calibration runs it under trio: trio's trials are ok without errors, and
    every backend that runs coroutines on asyncio is skipped, saying why."""
    trials = analyze(f"{TARGETS}:nap", "trio", "asyncio", "sequential", "thread")
    trio_trials = [t for t in trials if t["backend"] == "trio"]
    assert trio_trials and all(t["status"] == "ok" and t["errors"] == 0 for t in trio_trials)
    skipped = {t["backend"]: t["reason"] for t in trials if t["backend"] != "trio"}
    assert set(skipped) == {"asyncio", "sequential", "thread"}
    for reason in skipped.values():
        assert reason.startswith(
            "a trio-native coroutine: it runs under trio's loop, but under "
            "asyncio's, which this backend runs coroutines on, its first "
            "call raised RuntimeError"
        ), reason
    assert all(t["status"] == "skipped" for t in trials if t["backend"] != "trio")


@pytest.mark.slow
def test_probes_are_skipped_for_a_trio_native_coroutine_saying_why() -> None:
    """GIVEN a trio-native coroutine THEN the probes, which run coroutines on asyncio, are
    skipped with the reason instead of measuring calls that raise, and the workload names
    trio as the loop that ran it."""
    from tunekit.engine import AnalysisConfig, run_analysis

    report = run_analysis(
        AnalysisConfig(target=f"{TARGETS}:nap", backends=["trio"], max_workers=2, budget=8)
    )
    assert report.workload.coroutine_loop == "trio"
    assert report.probes and all(p.status == "skipped" for p in report.probes)
    assert all("runs under trio's loop only" in (p.reason or "") for p in report.probes)
    assert report.recommendation.model == "trio"
