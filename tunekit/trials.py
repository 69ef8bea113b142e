"""The plan of trials: which (backend, workers) pairs to measure, and how many tasks each gets.

This is the plain doubling sweep, ordered by worker count across backends so that a budget that
runs out cuts the largest pools of every backend rather than whole backends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Each worker gets at least this many tasks per measured batch, so every worker is busy.
MIN_TASKS_PER_WORKER = 2
#: Never fewer tasks than this in a batch (tiny batches measure the pool, not the task).
MIN_TASKS = 4
#: Upper bound on tasks per batch: keeps memory for per-task latencies bounded.
MAX_TASKS = 200_000


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


def tasks_for(task_s: float, workers: int, batch_s: float) -> int:
    """Tasks per measured batch: about ``batch_s`` of sequential work, and enough for all workers.

    Sized as if the workers gave no speed-up, so a trial never overruns its share of the budget.
    """
    by_time = int(batch_s / max(task_s, 1e-9))
    return max(MIN_TASKS, MIN_TASKS_PER_WORKER * workers, min(by_time, MAX_TASKS))
