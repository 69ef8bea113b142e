"""The sizes of trials: how a trial's stream of calls is laid out, and the grid's plan.

A trial is a warm-up (for short calls), a lead of unmeasured waves (a wave is one call per
worker), the measured windows, and a tail of one wave in flight while the last window ends.
Its shape is planned from the call time: a window lasts about ``batch_s``, or one wave when a
single call is longer than that, so a call of two seconds costs a trial a few calls per
worker, not dozens. The grid measures every (backend, workers) pair, ordered by worker count
across backends so that a budget that runs out cuts the largest pools of every backend rather
than whole backends. The adaptive sweep's plan is ``tunekit.plan.sweep``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tunekit.advice.rules import spread_of

if TYPE_CHECKING:
    from tunekit.models import Trial

#: Each worker gets at least this many tasks per measured batch, so every worker is busy.
MIN_TASKS_PER_WORKER = 2
#: Never fewer tasks than this in a batch (tiny batches measure the pool, not the task).
MIN_TASKS = 4
#: Upper bound on tasks per batch: keeps memory for per-task latencies bounded.
MAX_TASKS = 200_000
#: Throughput growth assumed per doubling of the pool when sizing batches: between no gain (1x)
#: and perfect doubling (2x), so a batch lasts between 0.75x and 1.5x its target. A step of
#: four doublings' worth compounds it: 1.5 ** log2(ratio).
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
    #: Threads per native pool (BLAS, OpenMP) per worker; None: as the libraries start them.
    inner_threads: int | None = None


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


def predicted_throughput(
    plan: TrialPlan,
    earlier: Sequence[Trial],
    task_wall_s: float,
    growth: float | None = None,
    baseline: Trial | None = None,
) -> float:
    """Tasks/s to size ``plan``'s batches with, from what was measured before.

    - From the backend's largest earlier pool: times ``growth`` (default ``GROWTH``), no more
      than perfect scaling; and at least as fast as the fastest other backend measured at this
      pool size, up to perfect scaling (a challenger that jumps to the leader's pool size is
      sized like the leader).
    - A backend's first trial: like the fastest other backend at this size or ``baseline``
      (the sequential trial) times ``growth``, whichever is faster, but no more than the
      workers can do at the task's planned cost with this backend's dispatch (a sub-microsecond
      task costs an event loop 60 us, not the 2 us a chunked process pool needs). Without
      either, one task after another at that cost.
    """
    gain = GROWTH if growth is None else growth
    ok = [t for t in earlier if t.status == "ok" and t.throughput]
    own = [t for t in ok if t.backend == plan.backend and t.workers < plan.workers]
    same_size = [t.throughput or 0.0 for t in ok if t.workers == plan.workers]
    if own:
        previous = max(own, key=lambda t: t.workers)
        assert previous.throughput is not None
        ratio = plan.workers / previous.workers
        predicted: float = previous.throughput * min(gain ** math.log2(ratio), ratio)
        if same_size:
            predicted = max(predicted, min(max(same_size), previous.throughput * ratio))
        return predicted
    single = 1.0 / task_cost(plan.backend, task_wall_s)
    guesses = [*same_size]
    if baseline is not None and baseline.throughput:
        guesses.append(baseline.throughput * min(gain, plan.workers))
    if not guesses:
        return single
    return min(max(guesses), single * plan.workers)


#: Waves a stream runs before its first window: two, so that every worker has finished a call and
#: clients that started together have fallen out of step; one when a single wave already lasts
#: a window, where the long calls have desynchronised the workers by the time it ends.
LEAD_WAVES = 2
LONG_LEAD_WAVES = 1
#: Windows of long calls: two, the fewest that give a spread. The noise the tie rules use comes
#: from measurements at different moments (the duel's rounds), which a third window of the
#: same stream would not give; each window of long calls costs a whole call time per worker.
LONG_REPEATS = 2
#: Calls of the warm-up before the stream of short calls: a wave, and at least this many (first
#: calls pay for imports and caches). Long calls have no warm-up: their lead wave is one.
WARMUP_CALLS = 10


@dataclass(frozen=True)
class TrialShape:
    """How one trial's calls are laid out (see the module docstring)."""

    #: Calls per measured window, and windows.
    tasks: int
    repeats: int
    lead_waves: int
    #: Calls of the warm-up before the stream (0: none).
    warmup: int

    def calls(self, workers: int) -> int:
        """Every call the trial runs: warm-up, lead, windows and the tail wave."""
        return self.warmup + (self.lead_waves + 1) * workers + self.repeats * self.tasks

    def seconds(self, workers: int, throughput: float) -> float:
        """Seconds of calls at ``throughput`` calls per second."""
        return self.calls(workers) / throughput

    @property
    def long(self) -> bool:
        """Windows of one wave: calls too long for more in a window."""
        return self.warmup == 0


def trial_shape(throughput: float, workers: int, batch_s: float, repeats: int) -> TrialShape:
    """The trial for ``workers`` at a predicted ``throughput``: windows of about ``batch_s``,
    or of one wave (a call per worker) when one call lasts that long or longer, and then at
    most ``LONG_REPEATS`` of them."""
    if workers / throughput >= batch_s:
        windows = min(repeats, LONG_REPEATS)
        return TrialShape(tasks=workers, repeats=windows, lead_waves=LONG_LEAD_WAVES, warmup=0)
    tasks = tasks_for(throughput, workers, batch_s)
    warmup = max(workers, min(tasks, WARMUP_CALLS))
    return TrialShape(tasks=tasks, repeats=repeats, lead_waves=LEAD_WAVES, warmup=warmup)


def tasks_for(throughput: float, workers: int, batch_s: float) -> int:
    """Tasks per measured batch: about ``batch_s`` at ``throughput``, and enough for all workers."""
    by_time = int(batch_s * throughput)
    return max(MIN_TASKS, MIN_TASKS_PER_WORKER * workers, min(by_time, MAX_TASKS))


#: A larger pool must gain more than this (or twice the measured spread) to count as scaling.
MIN_GAIN = 0.05


def noise_of(*trials: Trial) -> float:
    """The gain two measurements must differ by to be told apart: max(5%, 2 x the spread of
    their goodput, between rounds when they were measured more than once)."""
    spread = max(spread_of(t)[0] for t in trials)
    return max(MIN_GAIN, 2 * spread)
