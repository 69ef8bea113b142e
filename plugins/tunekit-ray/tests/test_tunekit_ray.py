"""The ``ray`` backend: discovery, its option, and a real local instance started and stopped.

Each test's Ray instance keeps its session files under the test's own ``RAY_TMPDIR``, which
every Ray process names on its command line: that is how the test finds any it left behind.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

try:
    DIST = importlib.metadata.distribution("tunekit-ray")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("run `pip install -e plugins/tunekit-ray`", allow_module_level=True)

from tunekit_ray import ADDRESS_ENV, RayBackend, choose_chunksize, ray_address

from tunekit.frontends.testing import plugin_rows


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A folder with a short path: Ray's socket paths under it must fit AF_UNIX's 107 bytes."""
    with tempfile.TemporaryDirectory(prefix="tkray", dir="/tmp") as folder:
        yield Path(folder)


def ray_processes(tmp: Path) -> list[str]:
    """Command lines of running processes that belong to a Ray session under ``tmp``."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(tmp) in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(cmdline)
    return found


def test_tunekit_plugins_lists_ray_and_its_address_option() -> None:
    rows = plugin_rows()
    assert ["backend", "ray", "tunekit-ray", DIST.version] in rows
    assert ["option", "--ray-address", "tunekit-ray", DIST.version] in rows


def test_the_address_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ray_address({}) is None
    assert ray_address({ADDRESS_ENV: " ray://10.0.0.5:10001 "}) == "ray://10.0.0.5:10001"
    monkeypatch.setenv(ADDRESS_ENV, "ray://10.0.0.5:10001")
    assert RayBackend().description.startswith("Ray remote functions on the cluster at ray://")


def test_chunks_amortize_scheduling_but_keep_every_worker_busy() -> None:
    assert choose_chunksize(1000, None, 2) == 1
    assert choose_chunksize(1000, 0.001, 2) == 50
    assert choose_chunksize(100, 1e-7, 2) == 12
    assert choose_chunksize(1000, 1.0, 2) == 1


@pytest.mark.slow
def test_an_analysis_starts_ray_reports_its_start_up_apart_and_stops_it(
    short_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN no Ray running for this test WHEN ray and process analyze a bundled example THEN
    ray's trial is ok, its start-up (ray.init) is far above the fork of a pool, and no Ray
    process of the session is left."""
    monkeypatch.delenv(ADDRESS_ENV, raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(short_tmp))
    proc = subprocess.run(
        [
            *[sys.executable, "-m", "tunekit", "analyze", "tunekit.examples:cpu_bound"],
            *["--args", "[3000]", "--backend", "ray", "--backend", "process"],
            *["--max-workers", "1", "--budget", "30", "--probe", "none", "--json", "-", "-q"],
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=150,
    )
    assert proc.returncode == 0, proc.stderr
    trials = {(t["backend"], t["workers"]): t for t in json.loads(proc.stdout)["trials"]}
    ray, process = trials["ray", 1], trials["process", 1]
    assert ray["status"] == process["status"] == "ok", ray["reason"]
    assert ray["errors"] == 0
    assert ray["startup_s"] > 3 * process["startup_s"]
    deadline = time.monotonic() + 10
    while ray_processes(short_tmp) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ray_processes(short_tmp) == []
