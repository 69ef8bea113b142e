"""The plan of trials: which (backend, workers) pairs to measure, and how many tasks each gets.

This is the plain doubling sweep, ordered by worker count across backends so that a budget that
runs out cuts the largest pools of every backend rather than whole backends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tunekit.models import Trial

#: Each worker gets at least this many tasks per measured batch, so every worker is busy.
MIN_TASKS_PER_WORKER = 2
#: Never fewer tasks than this in a batch (tiny batches measure the pool, not the task).
MIN_TASKS = 4
#: Upper bound on tasks per batch: keeps memory for per-task latencies bounded.
MAX_TASKS = 200_000
#: Throughput growth assumed from one pool size to the next when sizing batches: between no
#: gain (1x) and perfect doubling (2x), so a batch lasts between 0.75x and 1.5x its target.
GROWTH = 1.5
#: Repeats spreading more than this around their median make a trial unstable: it is
#: measured again while budget is left (pyperf warns from a similar spread).
UNSTABLE_SPREAD = 0.10


#: Per-task dispatch cost to plan with, in seconds: 1.5x what a no-op task cost per backend in
#: one trial on a 2-core machine (sequential 0.4 us, thread 18 us, process 1.7 us once
#: chunked, asyncio/tornado/twisted 36-37 us for a sync function on their executor).
#: Without it, sub-microsecond tasks get batches that take 100x longer than planned.
DISPATCH_S = {
    "sequential": 1e-6,
    "thread": 3e-5,
    "process": 1e-5,
    "asyncio": 6e-5,
    "tornado": 6e-5,
    "twisted": 6e-5,
}
#: For a plugin backend, whose cost is unknown: as slow as an unchunked process pool.
UNKNOWN_DISPATCH_S = 2e-4


def task_cost(backend: str, task_s: float) -> float:
    """Planned seconds per task under ``backend``: the task plus its dispatch cost."""
    return task_s + DISPATCH_S.get(backend, UNKNOWN_DISPATCH_S)


@dataclass(frozen=True)
class TrialPlan:
    """One configuration to measure."""

    backend: str
    workers: int


def worker_counts(max_workers: int) -> list[int]:
    """1, 2, 4, ... up to ``max_workers`` (which is included even if not a power of two)."""
    counts = [2**i for i in range(int(math.log2(max_workers)) + 1)]
    if counts[-1] != max_workers:
        counts.append(max_workers)
    return counts


def plan_sweep(backends: Sequence[tuple[str, bool]], max_workers: int) -> list[TrialPlan]:
    """Every (backend, workers) pair, by worker count then backend; ``(name, scales)`` pairs."""
    plans: list[TrialPlan] = []
    for workers in worker_counts(max_workers):
        plans += [TrialPlan(name, workers) for name, scales in backends if scales or workers == 1]
    return plans


def predicted_throughput(plan: TrialPlan, earlier: Sequence[Trial], task_wall_s: float) -> float:
    """Tasks/s to size ``plan``'s batches with: from the backend's largest earlier pool (times
    ``GROWTH``), or for a first trial one task after another at its sequential cost."""
    measured = [
        t for t in earlier if t.status == "ok" and t.throughput and t.workers < plan.workers
    ]
    if measured:
        previous = max(measured, key=lambda t: t.workers)
        assert previous.throughput is not None
        return previous.throughput * min(GROWTH, plan.workers / previous.workers)
    return 1.0 / task_cost(plan.backend, task_wall_s)


def tasks_for(throughput: float, workers: int, batch_s: float) -> int:
    """Tasks per measured batch: about ``batch_s`` at ``throughput``, and enough for all workers."""
    by_time = int(batch_s * throughput)
    return max(MIN_TASKS, MIN_TASKS_PER_WORKER * workers, min(by_time, MAX_TASKS))


#: A doubling must gain more than this (or twice the measured spread) to count as scaling.
MIN_GAIN = 0.05


def noise_of(*trials: Trial) -> float:
    """The gain two measurements must differ by to be told apart: max(5%, 2 x their spread)."""
    spread = max((t.throughput_spread or 0.0) for t in trials)
    return max(MIN_GAIN, 2 * spread)


def next_step(
    curve: Sequence[Trial],
    *,
    scales: bool,
    max_workers: int,
    leader_throughput: float,
    scaling_limit: int,
) -> tuple[int | None, str]:
    """The adaptive sweep's next worker count for one backend, or None and why it stops.

    ``curve`` holds the backend's successful trials. Doubling goes on while each doubling
    gains more than the noise; then the gap between the last two counts is refined once (the
    knee lies there). A backend stops early when even perfect scaling up to ``scaling_limit``
    workers (the free cores, for work that needs a core each) could not reach the leader.
    """
    measured = {t.workers: t for t in curve if t.throughput}
    if not measured:
        return None, "no successful trial to grow from"
    if not scales:
        return None, "runs one task at a time"
    counts = sorted(measured)
    best = max(measured.values(), key=lambda t: t.throughput or 0.0)
    last = counts[-1]
    previous = counts[-2] if len(counts) > 1 else None
    growing = previous is None or (
        last == 2 * previous
        and _gain(measured[previous], measured[last]) > noise_of(measured[previous], measured[last])
    )
    if growing:
        if last >= max_workers:
            return None, f"reached --max-workers {max_workers}"
        if last >= scaling_limit < max_workers:
            return None, (
                f"reached the {_count(scaling_limit)} the free cores allow for work that "
                "needs a core each: larger pools would only oversubscribe them"
            )
        potential = (best.throughput or 0.0) * max(scaling_limit, best.workers) / best.workers
        if potential < leader_throughput * (1 - MIN_GAIN):
            return None, (
                f"cannot win: even perfect scaling to {_count(max(scaling_limit, best.workers))} "
                f"would give {potential:,.0f} tasks/s, below the best so far "
                f"({leader_throughput:,.0f} tasks/s)"
            )
        return min(2 * last, max_workers), ""
    assert previous is not None
    low, high = previous, last
    if high == 2 * low:  # the doubling that stopped paying: the knee is between
        middle = (low + high) // 2
        if low < middle < high and middle not in measured:
            return middle, ""
    lower = max((c for c in counts if c < high), default=low)
    gain = _gain(measured[lower], measured[high])
    return None, (
        f"stopped growing: x{high} gained {gain:+.0%} over x{lower} "
        f"(noise {noise_of(measured[lower], measured[high]):.0%})"
    )


def _count(workers: int) -> str:
    return "1 worker" if workers == 1 else f"{workers} workers"


def _gain(before: Trial, after: Trial) -> float:
    return (after.throughput or 0.0) / (before.throughput or 1.0) - 1
