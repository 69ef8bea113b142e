"""Every built-in backend, on sync and async targets, through the real isolated trial path."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tunekit.isolation.protocol import TrialRequest
from tunekit.isolation.spawn import run_in_child
from tunekit.models import Trial
from tunekit.target import TargetSpec

from ..conftest import target

BACKENDS = ["sequential", "thread", "process", "asyncio", "tornado", "twisted"]
SCALING = [b for b in BACKENDS if b != "sequential"]


def measure(
    backend: str, workers: int, func: str, tasks: int = 16, inputs: str | None = None
) -> dict[str, Any]:
    spec = TargetSpec(target(func), inputs=inputs)
    request = TrialRequest(spec, backend, workers, tasks, repeats=3)
    outcome = run_in_child(request, timeout_s=60)
    assert outcome.status == "ok", outcome.reason
    assert isinstance(outcome.reply, Trial)
    return dataclasses.asdict(outcome.reply)


@pytest.mark.parametrize("func", ["sleeper", "async_sleeper"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_runs_every_task_and_reports_all_fields(backend: str, func: str) -> None:
    trial = measure(backend, 1, func, tasks=8)
    assert trial["status"] == "ok"
    assert trial["errors"] == 0
    assert trial["repeats"] == 3
    assert len(trial["throughput_values"]) == 3
    assert trial["throughput"] > 0
    latency = trial["latency_s"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
    assert trial["peak_rss_bytes"] > 0
    assert trial["startup_s"] >= 0


@pytest.mark.parametrize("func", ["sleeper", "async_sleeper"])
@pytest.mark.parametrize("backend", SCALING)
def test_waiting_tasks_overlap_with_four_workers(backend: str, func: str) -> None:
    # GIVEN tasks that only wait WHEN run with 4 workers instead of 1
    one = measure(backend, 1, func)
    four = measure(backend, 4, func)
    # THEN throughput grows well beyond the noise (ideal: 4x; a ratio, never an absolute time)
    assert four["throughput"] / one["throughput"] > 2.5


@pytest.mark.parametrize("backend", BACKENDS)
def test_errors_are_counted_per_task_with_the_first_message(backend: str) -> None:
    trial = measure(backend, 2 if backend != "sequential" else 1, "always_fails", tasks=6)
    # every measured task failed, and only those are counted (not the warm-up, nor the
    # stream's ramp-up and wind-down around the measured windows)
    assert trial["repeats"] == 3 and trial["tasks"] >= 1
    assert trial["errors"] == trial["tasks"] * trial["repeats"]
    assert trial["first_error"] == "ValueError: always broken"


@pytest.mark.parametrize("backend", ["asyncio", "tornado", "twisted", "thread"])
def test_coroutine_errors_are_counted(backend: str) -> None:
    trial = measure(backend, 2, "async_always_fails", tasks=4)
    assert trial["repeats"] == 3 and trial["tasks"] >= 1
    assert trial["errors"] == trial["tasks"] * trial["repeats"]
    assert trial["first_error"] == "ValueError: always broken"


def test_twisted_runs_coroutines_that_await_deferreds() -> None:
    one = measure("twisted", 1, "deferred_sleeper")
    four = measure("twisted", 4, "deferred_sleeper")
    assert one["errors"] == four["errors"] == 0
    assert four["throughput"] / one["throughput"] > 2.5


def test_process_pool_uses_chunks_for_short_tasks() -> None:
    trial = measure("process", 2, "add", tasks=2000)
    assert trial["chunksize"] > 1


def test_process_backend_skips_arguments_that_cannot_be_pickled() -> None:
    trial = measure("process", 2, "add", inputs=target("lambdas"))
    assert trial["status"] == "skipped"
    assert "arguments cannot be pickled" in trial["reason"]


def test_process_cpu_time_includes_the_worker_processes() -> None:
    # GIVEN the same CPU-bound batch run in a loop and in a pool of 2 processes
    alone = measure("sequential", 1, "spin", tasks=400)
    pooled = measure("process", 2, "spin", tasks=400)
    # THEN the pool's CPU time counts the children's work (the parent only dispatches); 400
    # tasks of ~0.5 ms each, so the 10 ms clock ticks of live children's CPU times stay small
    assert pooled["cpu_s"] / alone["cpu_s"] > 0.8
