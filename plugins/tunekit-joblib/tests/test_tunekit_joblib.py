"""The ``joblib`` backend: discovery, a session that leaves no loky worker, a real analysis."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from typing import Any

import pytest

try:
    DIST = importlib.metadata.distribution("tunekit-joblib")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("run `pip install -e plugins/tunekit-joblib`", allow_module_level=True)

from tunekit.frontends.testing import analyze_trials, plugin_rows


def analyze(example: str, *backends: str) -> list[dict[str, Any]]:
    """The trials of a small ``tunekit analyze``."""
    return analyze_trials(f"tunekit.examples:{example}", *backends, max_workers=2, budget=10)


def test_tunekit_plugins_lists_joblib_with_its_distribution() -> None:
    rows = plugin_rows()
    assert ["backend", "joblib", "tunekit-joblib", DIST.version] in rows


#: A session in a fresh process, which reports its children during and after the session.
SESSION_SCRIPT = """
import json
import psutil
from tunekit.target import TargetSpec, load_target
from tunekit_joblib import JoblibBackend

target = load_target(TargetSpec("tunekit.examples:tiny", args=[3]))
me = psutil.Process()
out = {}
with JoblibBackend().session(target, 2) as run:
    out["workers"] = len({p.pid for p in me.children(recursive=True)})
    out["errors"] = [r.error for r in run(target.calls * 50)]
psutil.wait_procs(me.children(recursive=True), timeout=5)
out["left"] = [
    " ".join(p.cmdline())
    for p in me.children(recursive=True)
    if p.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(p.cmdline())
]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_a_session_starts_every_worker_and_leaves_none_behind() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SESSION_SCRIPT],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["workers"] >= 2
    assert out["errors"] == [None] * 50
    assert out["left"] == []


@pytest.mark.slow
@pytest.mark.parametrize("example", ["cpu_bound", "async_io"])
def test_joblib_analyzes_the_bundled_examples(example: str) -> None:
    trials = analyze(example, "joblib")
    assert trials and all(t["backend"] == "joblib" for t in trials)
    assert all(t["status"] == "ok" and t["errors"] == 0 for t in trials), trials
    assert all(t["startup_s"] > 0 for t in trials)
