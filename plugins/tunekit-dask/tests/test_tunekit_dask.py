"""The ``dask`` backend: discovery, settings, a LocalCluster per trial, and an existing cluster.

Needs ``pip install -e plugins/tunekit-dask``: trial processes find the plugin through its entry
point, exactly as a user's would. The existing cluster is a real ``dask scheduler`` and a
``dask worker`` process on 127.0.0.1, started and stopped here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

try:
    DIST = importlib.metadata.distribution("tunekit-dask")
except importlib.metadata.PackageNotFoundError:
    pytest.skip(
        "tunekit-dask is not installed: run `pip install -e plugins/tunekit-dask`",
        allow_module_level=True,
    )

import tunekit_dask
from distributed import Client
from tunekit_dask import (
    SCHEDULER_ENV,
    THREADS_ENV,
    DaskBackend,
    DaskClusterTooSmall,
    DaskSettings,
    choose_chunksize,
    choose_workers,
)

from tunekit.frontends.testing import plugin_rows
from tunekit.isolation.protocol import TrialRequest
from tunekit.isolation.spawn import ChildOutcome, run_in_child
from tunekit.models import Trial
from tunekit.plugins import collect_backends, get_plugin_manager
from tunekit.target import TargetSpec, load_target

TARGETS = Path(__file__).parent / "dask_targets.py"
EXTERNAL_WORKERS = 2


def target(name: str) -> str:
    """A target spec for a function in dask_targets.py."""
    return f"{TARGETS}:{name}"


@pytest.fixture(autouse=True)
def no_dask_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from the defaults, whatever the developer's environment says."""
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    monkeypatch.delenv(THREADS_ENV, raising=False)


@pytest.fixture(autouse=True)
def no_leaked_processes() -> Iterator[None]:
    """GIVEN any test WHEN it ends THEN it has left no child process of the test runner."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield
    deadline = time.monotonic() + 5.0
    while True:
        leaked = [
            p
            for p in psutil.Process().children(recursive=True)
            if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"processes left running: {[(p.pid, p.cmdline()) for p in leaked]}"


def trial_request(spec: TargetSpec, workers: int, tasks: int = 40) -> TrialRequest:
    return TrialRequest(spec, "dask", workers, tasks, repeats=3)


def trial_of(outcome: ChildOutcome) -> dict[str, Any]:
    """The trial a child answered, as JSON data."""
    assert isinstance(outcome.reply, Trial), outcome.reason
    return dataclasses.asdict(outcome.reply)


# Discovery and blocking


def test_tunekit_plugins_lists_dask_with_its_distribution_and_version() -> None:
    rows = plugin_rows()
    assert ["backend", "dask", "tunekit-dask", DIST.version] in rows


@pytest.mark.parametrize("blocked", ["tunekit-dask", "dask"])
def test_disable_env_hides_dask_by_distribution_or_entry_point_name(
    monkeypatch: pytest.MonkeyPatch, blocked: str
) -> None:
    assert "dask" in collect_backends(get_plugin_manager())
    monkeypatch.setenv("TUNEKIT_DISABLE_PLUGINS", blocked)
    assert "dask" not in collect_backends(get_plugin_manager())


# Settings, placement and chunking (no cluster)


def test_settings_default_to_a_local_cluster_of_one_thread_per_worker() -> None:
    assert DaskSettings.from_env({}) == DaskSettings(scheduler=None, threads_per_worker=1)
    assert DaskSettings.from_env({SCHEDULER_ENV: " tcp://h:1 ", THREADS_ENV: "3"}) == (
        DaskSettings(scheduler="tcp://h:1", threads_per_worker=3)
    )


def test_bad_threads_setting_skips_the_backend_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(THREADS_ENV, "0")
    reason = DaskBackend().supports(load_target(TargetSpec(target("square"))))
    assert reason == "TUNEKIT_DASK_THREADS must be a whole number of at least 1, not '0'"


def test_unreachable_scheduler_skips_the_backend_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(SCHEDULER_ENV, f"tcp://127.0.0.1:{port}")
    reason = DaskBackend().supports(load_target(TargetSpec(target("square"))))
    assert reason is not None
    assert reason.startswith(
        f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port} (TUNEKIT_DASK_SCHEDULER): "
    )


def test_unpicklable_results_skip_the_backend() -> None:
    reason = DaskBackend().supports(load_target(TargetSpec(target("unpicklable_result"))))
    assert reason is not None
    assert reason.startswith("results cannot be pickled (TypeError: ")


def test_the_description_says_where_tasks_run(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DaskBackend().description.startswith("dask.distributed LocalCluster on 127.0.0.1")
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://10.0.0.5:8786")
    assert DaskBackend().description == (
        "dask.distributed: `workers` of the workers of the cluster at tcp://10.0.0.5:8786"
    )


def test_chunks_amortize_scheduling_but_keep_every_thread_busy() -> None:
    assert choose_chunksize(1000, None, 2) == 1  # call time not known yet
    assert choose_chunksize(1000, 0.001, 2) == 50  # 50 ms of work per Dask task
    assert choose_chunksize(100, 1e-7, 2) == 12  # at least 4 chunks per thread
    assert choose_chunksize(1000, 1.0, 2) == 1  # long calls: one per task


def test_a_cluster_smaller_than_the_trial_is_a_clear_error() -> None:
    nthreads = {"tcp://127.0.0.1:2": 1, "tcp://127.0.0.1:1": 1}
    assert choose_workers(nthreads, 1, "c") == ["tcp://127.0.0.1:1"]
    with pytest.raises(DaskClusterTooSmall) as info:
        choose_workers(nthreads, 4, "the Dask cluster at tcp://h:1")
    assert str(info.value) == (
        "the Dask cluster at tcp://h:1 has 2 workers, fewer than the 4 this trial asks for "
        "(tunekit does not resize an existing cluster: use --max-workers 2)"
    )


# A LocalCluster per trial


#: Runs a session in a fresh process: multiprocessing's resource tracker, which spawning the
#: workers starts, lives as long as the process that started it, so it is not counted as left.
SESSION_SCRIPT = """
import json, sys
import psutil
from tunekit.target import TargetSpec, load_target
from tunekit_dask import DaskBackend

loaded = load_target(TargetSpec(sys.argv[1], inputs=sys.argv[2]))
me = psutil.Process()
out = {}
try:
    with DaskBackend().session(loaded, 2) as run:
        out["children"] = len(me.children(recursive=True))
        out["first"] = [r.error for r in run(loaded.calls * 4)]
        out["second"] = [r.error for r in run(loaded.calls * 4)]
        out["chunksize"] = run.chunksize
        raise RuntimeError("the caller failed")
except RuntimeError as exc:
    out["raised"] = str(exc)
psutil.wait_procs(me.children(recursive=True), timeout=5)
out["left"] = [
    " ".join(p.cmdline())
    for p in me.children(recursive=True)
    if p.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(p.cmdline())
]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_a_session_runs_calls_in_order_and_closes_its_cluster_even_on_error() -> None:
    """GIVEN a LocalCluster session WHEN two batches run and then the caller raises THEN the
    results come back in call order with errors as strings, and no worker process is left."""
    proc = subprocess.run(
        [sys.executable, "-c", SESSION_SCRIPT, target("fail_on_odd"), target("numbers")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    expected = [None if i % 2 == 0 else f"ValueError: odd: {i}" for i in range(8)] * 4
    assert out["children"] >= 2  # both workers are up before the session yields
    assert out["first"] == expected  # chunks of 1: the call time is not known yet
    assert out["second"] == expected
    assert out["chunksize"] > 1  # the second batch ran in larger chunks
    assert out["raised"] == "the caller failed"
    assert out["left"] == []


@pytest.mark.slow
def test_a_trial_on_a_local_cluster_measures_like_the_built_ins() -> None:
    outcome = run_in_child(trial_request(TargetSpec(target("square")), workers=2), 120)
    assert outcome.status == "ok", outcome.reason
    trial = trial_of(outcome)
    assert trial["status"] == "ok", trial["reason"]
    assert trial["repeats"] == 3
    assert len(trial["throughput_values"]) == 3
    assert trial["errors"] == 0
    assert trial["latency_s"]["p50"] <= trial["latency_s"]["p99"]
    assert trial["chunksize"] >= 1
    assert trial["startup_s"] > 0
    assert trial["worker_peak_rss_bytes"] is not None  # the Dask workers were its children


@pytest.mark.slow
def test_analyze_reports_dask_and_process_with_dasks_start_up_cost() -> None:
    proc = subprocess.run(
        [
            *[sys.executable, "-m", "tunekit", "analyze", "tunekit.examples:cpu_bound"],
            *["--args", "[3000]", "--backend", "dask", "--backend", "process"],
            *["--max-workers", "2", "--budget", "12", "--json", "-"],
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    trials = {(t["backend"], t["workers"]): t for t in json.loads(proc.stdout)["trials"]}
    dask, process = trials["dask", 1], trials["process", 1]
    assert dask["status"] == process["status"] == "ok"
    # Starting a scheduler and spawned workers costs far more than forking a pool.
    assert dask["startup_s"] > 3 * process["startup_s"]


# An existing cluster: `dask scheduler` and `dask worker` processes on loopback


@pytest.fixture(scope="module")
def external_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a running ``dask scheduler`` with ``EXTERNAL_WORKERS`` workers."""
    tmp = tmp_path_factory.mktemp("dask")
    scheduler_file = tmp / "scheduler.json"
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(
            _start(
                "scheduler",
                *["--host", "127.0.0.1", "--port", "0", "--no-dashboard"],
                *["--scheduler-file", str(scheduler_file)],
            )
        )
        address = _wait_for_address(scheduler_file, started[0])
        started.append(
            _start(
                "worker",
                address,
                *["--host", "127.0.0.1", "--nworkers", str(EXTERNAL_WORKERS), "--nthreads", "1"],
                *["--no-dashboard", "--local-directory", str(tmp), "--death-timeout", "30"],
            )
        )
        with Client(address, set_as_default=False, timeout=30) as client:
            client.wait_for_workers(EXTERNAL_WORKERS, timeout=60)
        yield address
    finally:
        for proc in reversed(started):
            _stop(proc)


def _start(command: str, *args: str) -> subprocess.Popen[bytes]:
    """``dask COMMAND ARGS`` of this interpreter, in its own process group."""
    return subprocess.Popen(
        [sys.executable, "-m", "dask", command, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_for_address(scheduler_file: Path, scheduler: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert scheduler.poll() is None, "dask scheduler exited"
        try:
            return str(json.loads(scheduler_file.read_text())["address"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.1)
    raise AssertionError("dask scheduler did not write its address within 30 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process and all it started (dask shuts down cleanly), SIGKILL what is left."""
    tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(tree, timeout=10)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=5)
    proc.wait()


def _resolved_on(address: str) -> dict[str, list[str]]:
    """Which targets each worker of the cluster has resolved (tunekit_dask's cache)."""
    with Client(address, set_as_default=False, timeout=30) as client:
        result: dict[str, list[str]] = client.run(lambda: sorted(tunekit_dask._callers))
    return result


@pytest.mark.slow
def test_a_trial_on_an_existing_cluster_uses_as_many_of_its_workers_as_asked(
    external_scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN TUNEKIT_DASK_SCHEDULER WHEN a trial asks for 1 of the cluster's 2 workers THEN the
    tasks run on that cluster (not on a LocalCluster), on exactly one of its workers."""
    monkeypatch.setenv(SCHEDULER_ENV, external_scheduler)
    spec = TargetSpec(target("square"), args=[7])
    outcome = run_in_child(trial_request(spec, workers=1), 120)
    assert outcome.status == "ok", outcome.reason
    trial = trial_of(outcome)
    assert trial["status"] == "ok", trial["reason"]
    assert trial["errors"] == 0
    resolved = _resolved_on(external_scheduler)
    assert len(resolved) == EXTERNAL_WORKERS
    assert [t for targets in resolved.values() for t in targets] == [target("square")]


@pytest.mark.slow
def test_a_trial_larger_than_the_existing_cluster_fails_saying_so(
    external_scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCHEDULER_ENV, external_scheduler)
    outcome = run_in_child(trial_request(TargetSpec(target("square")), workers=4), 120)
    trial = trial_of(outcome)
    assert trial["status"] == "failed"
    assert trial["reason"] == (
        f"the dask backend raised DaskClusterTooSmall: the Dask cluster at {external_scheduler} "
        "has 2 workers, fewer than the 4 this trial asks for (tunekit does not resize an "
        "existing cluster: use --max-workers 2)"
    )


@pytest.mark.slow
def test_the_advice_on_outgrowing_one_machine_names_dask_with_its_measured_overhead() -> None:
    """GIVEN a real analysis of CPU-bound calls with sequential, process and dask THEN the
    engine finds dask installed as a distributed backend, and whatever the advice says about
    outgrowing this machine is what ``beyond_one_machine`` derives from the measured trials:
    when the process pool was still gaining at the last CPU, the projection comes with dask's
    per-task overhead, measured on its trial."""
    from tunekit.advice.beyond_machine import beyond_one_machine, per_task_overhead
    from tunekit.engine import AnalysisConfig, run_analysis
    from tunekit.units import format_seconds

    backends = collect_backends(get_plugin_manager())
    assert getattr(backends["dask"].item, "distributed", False)
    config = AnalysisConfig(
        target="tunekit.examples:cpu_bound",
        backends=["sequential", "process", "dask"],
        max_workers=2,
        budget=30,
    )
    report = run_analysis(config)
    dask = [t for t in report.trials if t.backend == "dask" and t.usable]
    assert dask, [(t.key, t.status, t.reason) for t in report.trials]
    overhead = per_task_overhead(
        max(dask, key=lambda t: t.goodput or 0.0), report.workload.task_wall_s or 0.0
    )
    distributed = [n for n, b in backends.items() if getattr(b.item, "distributed", False)]
    said = beyond_one_machine(
        report.recommendation, report.trials, report.workload, report.machine, distributed
    )
    reasons = report.recommendation.reasons
    assert all(line in reasons for line in said)
    if said:
        assert said[0].startswith("one machine may not be enough")
        (dask_line,) = [line for line in said if line.startswith("dask measured")]
        assert f"dask measured {format_seconds(overhead)} of overhead per task" in dask_line
    else:
        assert not any(r.startswith("one machine may not be enough") for r in reasons)
