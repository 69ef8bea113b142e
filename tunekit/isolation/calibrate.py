"""In a child: import the target, learn which backends run it, and time a few calls.

The first look at the user's code, and the only one that times it sequentially before the
trials: the call time it measures sizes every trial after it.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from tunekit.backends.sequential import SequentialBackend
from tunekit.calls import TaskResult, blocking_caller
from tunekit.gil import gil_enabled_now
from tunekit.isolation.protocol import Inspection, InspectRequest
from tunekit.models import Latency
from tunekit.plugins import PluginManager, collect_backends
from tunekit.stats import percentiles
from tunekit.target import Call, Target, load_target

#: Calibration stops after this many calls even if they are very fast.
MAX_CALIBRATION_CALLS = 1_000_000


def inspect_target(request: InspectRequest, plugins: PluginManager) -> Inspection:
    """Resolve the target, ask each backend to be measured whether it supports it (all, if the
    request names none), and time sequential calls."""
    target = load_target(request.target)
    backends = collect_backends(plugins)
    wanted = request.backends or tuple(backends)  # a plugin's check may be slow (dask)
    found = calibrate(target, request.calibrate_s, request.deadline_s)
    # the checks get the calibration's first result: none of them calls a long call again
    checked = dataclasses.replace(target, first_result=found.first_result)
    started = perf_counter()
    inspection = found.inspection
    inspection.supports = {
        name: backends[name].item.supports(checked) for name in wanted if name in backends
    }
    inspection.checks_s = perf_counter() - started
    # after the import and the calls: an extension imported by either can turn the GIL on
    inspection.gil_enabled = gil_enabled_now()
    return inspection


@dataclass
class Calibrated:
    """What the calibration child learned, and the first call's result for the checks."""

    inspection: Inspection
    first_result: Any = None


def calibrate(target: Target, min_time_s: float, deadline_s: float | None = None) -> Calibrated:
    """Like ``timeit.Timer.autorange``: sequential batches of 1, 2, 4... calls until
    ``min_time_s`` has passed; the first call is a warm-up and is not counted, unless it left
    no room within ``deadline_s`` for another: then it is the only measurement."""
    kept: list[Any] = []
    cpu0, started = time.process_time(), perf_counter()
    first = blocking_caller(target, deliver=kept.append)(target.calls[0])
    first_s, first_cpu = perf_counter() - started, time.process_time() - cpu0
    first_result = kept[0] if kept else None
    if deadline_s is not None and 2 * first_s > deadline_s:
        return Calibrated(_first_call_only(target, first, first_s, first_cpu), first_result)
    warmup = [first]
    with SequentialBackend().session(target, 1) as run:
        results: list[TaskResult] = []
        wall = cpu = 0.0
        batch = 1
        while wall < min_time_s and len(results) < MAX_CALIBRATION_CALLS:
            calls = cycle(target.calls, batch)
            cpu0, wall0 = time.process_time(), perf_counter()
            results += run(calls)
            wall += perf_counter() - wall0
            cpu += time.process_time() - cpu0
            batch *= 2
    errors = [r.error for r in warmup + results if r.error]
    latencies = [r.latency_s for r in results]
    inspection = Inspection(
        is_coroutine=target.is_coroutine,
        consumes=target.consumes,
        inputs=len(target.calls),
        supports={},
        calls=len(results),
        task_wall_s=wall / len(results),
        task_cpu_s=cpu / len(results),
        errors=len(errors),
        first_error=errors[0] if errors else None,
        timed_errors=sum(r.error is not None for r in results),
        latency_s=Latency(*percentiles(latencies)) if latencies else None,
        first_call_s=first_s,
    )
    return Calibrated(inspection, first_result)


def _first_call_only(target: Target, result: TaskResult, wall: float, cpu: float) -> Inspection:
    """The calibration of a call so long that only its first run fits."""
    return Inspection(
        is_coroutine=target.is_coroutine,
        consumes=target.consumes,
        inputs=len(target.calls),
        supports={},
        calls=1,
        task_wall_s=wall,
        task_cpu_s=cpu,
        errors=int(result.error is not None),
        first_error=result.error,
        timed_errors=int(result.error is not None),
        latency_s=Latency(result.latency_s, result.latency_s, result.latency_s),
        warmup_only=True,
        first_call_s=wall,
    )


def cycle(calls: list[Call], n: int) -> list[Call]:
    """``n`` calls, going round ``calls`` as often as needed."""
    return list(itertools.islice(itertools.cycle(calls), n))
