"""The ``uvloop`` backend: discovery and a real analysis on uvloop's loop (no mocks)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from typing import Any

import pytest

try:
    DIST = importlib.metadata.distribution("tunekit-uvloop")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("run `pip install -e plugins/tunekit-uvloop`", allow_module_level=True)

from tunekit.frontends.testing import analyze_trials


def analyze(example: str, *backends: str) -> list[dict[str, Any]]:
    """The trials of a small ``tunekit analyze``."""
    return analyze_trials(f"tunekit.examples:{example}", *backends, max_workers=2, budget=8)


def test_tunekit_plugins_lists_uvloop_with_its_distribution() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tunekit", "plugins"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    rows = [line.split()[:4] for line in out.splitlines()]
    assert ["backend", "uvloop", "tunekit-uvloop", DIST.version] in rows
    # and its library: installed, with its version, and importable
    version = importlib.metadata.version("uvloop")
    assert ["library", "uvloop", "tunekit-uvloop", f"{version},", "imports"] in [
        line.split() for line in out.splitlines()
    ]


def test_the_session_runs_on_a_uvloop_loop() -> None:
    import asyncio

    import uvloop
    from tunekit_uvloop import UvloopBackend

    from tunekit.target import TargetSpec, load_target

    async def loop_type() -> str:
        return type(asyncio.get_running_loop()).__module__

    target = load_target(TargetSpec("tunekit.examples:async_io", args=[0.0]))
    with UvloopBackend().session(target, 2) as run:
        assert [r.error for r in run(target.calls * 4)] == [None] * 4
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(loop_type()).startswith("uvloop")


@pytest.mark.slow
@pytest.mark.parametrize("example", ["blocking_io", "async_io"])
def test_uvloop_analyzes_the_bundled_examples(example: str) -> None:
    trials = analyze(example, "uvloop")
    assert trials and all(t["backend"] == "uvloop" for t in trials)
    assert all(t["status"] == "ok" and t["errors"] == 0 for t in trials), trials
