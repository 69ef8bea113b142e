"""In a child: import the target, learn which backends run it, and time a few calls.

The first look at the user's code, and the only one that times it sequentially before the
trials: the call time it measures sizes every trial after it.
"""

from __future__ import annotations

import itertools
import time
from time import perf_counter

from tunekit.backends.sequential import SequentialBackend
from tunekit.calls import TaskResult
from tunekit.isolation.protocol import Inspection, InspectRequest
from tunekit.plugins import PluginManager, collect_backends
from tunekit.target import Call, Target, load_target

#: Calibration stops after this many calls even if they are very fast.
MAX_CALIBRATION_CALLS = 1_000_000


def inspect_target(request: InspectRequest, plugins: PluginManager) -> Inspection:
    """Resolve the target, ask each backend to be measured whether it supports it (all, if the
    request names none), and time sequential calls."""
    target = load_target(request.target)
    backends = collect_backends(plugins)
    wanted = request.backends or tuple(backends)  # a plugin's check may be slow (dask)
    supports = {name: backends[name].item.supports(target) for name in wanted if name in backends}
    return calibrate(target, request.calibrate_s, supports)


def calibrate(
    target: Target, min_time_s: float, supports: dict[str, str | None] | None = None
) -> Inspection:
    """Like ``timeit.Timer.autorange``: sequential batches of 1, 2, 4... calls until
    ``min_time_s`` has passed; the first call is a warm-up and is not counted."""
    with SequentialBackend().session(target, 1) as run:
        warmup = run(target.calls[:1])
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
    return Inspection(
        is_coroutine=target.is_coroutine,
        inputs=len(target.calls),
        supports=supports or {},
        calls=len(results),
        task_wall_s=wall / len(results),
        task_cpu_s=cpu / len(results),
        errors=len(errors),
        first_error=errors[0] if errors else None,
    )


def cycle(calls: list[Call], n: int) -> list[Call]:
    """``n`` calls, going round ``calls`` as often as needed."""
    return list(itertools.islice(itertools.cycle(calls), n))
