"""Which pools to measure again with their native thread pools (BLAS, OpenMP) limited.

A process pool of N workers, each process running a BLAS pool of as many threads as the
machine has cores, keeps N x cores threads busy on cores CPUs; a thread pool shares one BLAS
pool, but every thread that calls into it starts its threads' work. Limiting each worker to
max(1, cores // N) native threads keeps the total at the cores (threadpoolctl's documented
remedy, and what joblib's loky workers do by default). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from tunekit.models import Trial
from tunekit.plan.sizing import TrialPlan

#: The pools whose workers run the target's native code in this machine's processes: the
#: process pool (a BLAS pool per worker) and the thread pool (one, shared); the event loops
#: run plain functions on a thread pool, and cluster engines start workers of their own.
LIMITED_BACKENDS = ("process", "thread")


def inner_threads_for(cores: int, workers: int) -> int:
    """Native threads per worker that keep ``workers`` of them within ``cores``."""
    return max(1, cores // workers)


def inner_limit_plans(
    trials: Sequence[Trial], native_threads: int, cores: int, backends: Sequence[str]
) -> list[tuple[TrialPlan, TrialPlan]]:
    """(unlimited, limited) plans for each pool worth comparing: a backend of
    ``LIMITED_BACKENDS`` among ``backends`` that measured, at the cores and at its best size,
    where the limit is fewer threads than the native pools run (``native_threads``)."""
    pairs = []
    for name in LIMITED_BACKENDS:
        if name not in backends:
            continue
        usable = [t for t in trials if t.backend == name and t.usable and t.inner_threads is None]
        if not usable:
            continue
        best = max(usable, key=lambda t: t.goodput or 0.0)
        # two sizes at most, four trials each (unlimited, limited, limited, unlimited)
        for workers in dict.fromkeys([cores, best.workers]):
            limit = inner_threads_for(cores, workers)
            if workers < 2 or limit >= native_threads:
                continue
            pairs.append((TrialPlan(name, workers), TrialPlan(name, workers, limit)))
    return pairs
