"""In a child: import the target, learn which backends run it, and time a few calls.

The first look at the user's code, and the only one that times it sequentially before the
trials: the call time it measures sizes every trial after it.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from tunekit.backends import Backend, Runner, check_supports
from tunekit.backends.sequential import SequentialBackend
from tunekit.calls import LoopRunner, TaskResult, blocking_caller, single_worker
from tunekit.errors import InputError
from tunekit.gil import gil_enabled_now
from tunekit.isolation.protocol import Inspection, InspectRequest
from tunekit.models import Latency
from tunekit.native_threads import native_pools
from tunekit.plugins import PluginManager, collect_backends
from tunekit.stats import percentiles
from tunekit.target import Call, Target, load_target, unfit_signature

#: Calibration stops after this many calls even if they are very fast.
MAX_CALIBRATION_CALLS = 1_000_000


def inspect_target(request: InspectRequest, plugins: PluginManager) -> Inspection:
    """Resolve the target, ask each backend to be measured whether it supports it (all, if the
    request names none), and time sequential calls."""
    target = load_target(request.target)
    backends = collect_backends(plugins)
    wanted = request.backends or tuple(backends)  # a plugin's check may be slow (dask)
    started = perf_counter()
    with single_worker(target) as one:  # one per-worker setup, if any, for the calls here
        found = calibrate(one, request.calibrate_s, request.deadline_s)
        native, asyncio_error, searching_s = None, found.inspection.first_error, 0.0
        if target.is_coroutine and found.first_failed:
            # asyncio could not run it: a coroutine written for another loop (trio) runs there
            for name in wanted:
                item = backends[name].item if name in backends else None
                run = getattr(item, "run_loop", None)
                if run is None:
                    continue
                failed_s = perf_counter() - started  # the calibrations that failed: a check
                retry = calibrate(one, request.calibrate_s, request.deadline_s, run)
                if not retry.first_failed:
                    found, native, searching_s = retry, name, failed_s
                    break
        # the checks get the calibration's first result: none of them calls a long call again
        checked = dataclasses.replace(one, first_result=found.first_result, setup=target.setup)
        started = perf_counter()
        inspection = found.inspection
        inspection.coroutine_loop = native
        inspection.supports = {
            name: _supports(backends[name].item, checked, native, asyncio_error)
            for name in wanted
            if name in backends
        }
        inspection.checks_s = perf_counter() - started + searching_s
    if target.setup_s:
        inspection.setup_s = target.setup_s[0]
    # after the import and the calls: an extension imported by either can turn the GIL on
    inspection.gil_enabled = gil_enabled_now()
    return inspection


def _supports(
    backend: Backend, target: Target, native: str | None, asyncio_error: str | None
) -> str | None:
    """The backend's own answer; for a coroutine that only ``native``'s loop runs, a reason for
    every backend that has no such loop (they run coroutines on asyncio's)."""
    if native is None or getattr(backend, "run_loop", None) is not None:
        return check_supports(backend, target)
    return (
        f"a {native}-native coroutine: it runs under {native}'s loop, but under asyncio's, which "
        f"this backend runs coroutines on, its first call raised {asyncio_error}"
    )


@dataclass
class Calibrated:
    """What the calibration child learned, and the first call's result for the checks."""

    inspection: Inspection
    first_result: Any = None
    #: The first (warm-up) call raised.
    first_failed: bool = False


def calibrate(
    target: Target,
    min_time_s: float,
    deadline_s: float | None = None,
    run: LoopRunner | None = None,
) -> Calibrated:
    """Like ``timeit.Timer.autorange``: sequential batches of 1, 2, 4... calls until
    ``min_time_s`` has passed; the first call is a warm-up and is not counted, unless it left
    no room within ``deadline_s`` for another: then it is the only measurement. A coroutine
    runs on asyncio's loop, or, with ``run``, in a loop ``run`` starts for each call."""
    kept: list[Any] = []
    cpu0, started = time.process_time(), perf_counter()
    first = blocking_caller(target, deliver=kept.append, run=run)(target.calls[0])
    first_s, first_cpu = perf_counter() - started, time.process_time() - cpu0
    first_result = kept[0] if kept else None
    _check_arguments(target, first)
    pools = native_pools()  # after a call: a target may import numpy only when called
    if deadline_s is not None and 2 * first_s > deadline_s:
        only = _first_call_only(target, first, first_s, first_cpu)
        only.native_pools = pools
        return Calibrated(only, first_result, first.error is not None)
    warmup = [first]
    with _sequential(target, run) as run_calls:
        results: list[TaskResult] = []
        wall = cpu = 0.0
        batch = 1
        while wall < min_time_s and len(results) < MAX_CALIBRATION_CALLS:
            calls = cycle(target.calls, batch)
            cpu0, wall0 = time.process_time(), perf_counter()
            results += run_calls(calls)
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
        native_pools=pools,
    )
    return Calibrated(inspection, first_result, first.error is not None)


@contextmanager
def _sequential(target: Target, run: LoopRunner | None) -> Iterator[Runner]:
    """Sequential calls: the sequential backend's, or each call in a loop ``run`` starts."""
    if run is None:
        with SequentialBackend().session(target, 1) as calls:
            yield calls
        return
    caller = blocking_caller(target, run=run)
    yield lambda calls: [caller(call) for call in calls]


def _check_arguments(target: Target, first: TaskResult) -> None:
    """Raise an ``InputError`` pointing at the options for arguments when the first call raised
    a ``TypeError`` because its arguments do not fit the target's signature."""
    if first.error is None or not first.error.startswith("TypeError"):
        return
    call = target.calls[0]
    signature = unfit_signature(target, call)
    if signature is None:  # the TypeError came from inside the target
        return
    spec = target.spec
    given = _arguments_given(call) if spec.inputs is None else f"{spec.inputs}'s first item"
    raise InputError(
        f"{spec.target} cannot be called with {given}: {first.error} (its signature is "
        f"{signature}); give every call's arguments with --args JSON and --kwargs JSON, or one "
        "set per task with --inputs MODULE:FACTORY (args=, kwargs=, inputs= in tunekit.analyze())"
    )


def _arguments_given(call: Call) -> str:
    args, kwargs = call
    if not args and not kwargs:
        return "no arguments"
    shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"({', '.join(shown)})"


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
