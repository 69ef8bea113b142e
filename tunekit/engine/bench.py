"""The engine's test bench: one trial measured in a child process, sized to fit the budget.

``TrialBench`` is what the strategies (``tunekit.engine.strategies``) measure with. It sizes a
trial's batches from what was measured before (``plan.sizing``), refuses one that cannot fit
in the budget left, sends it to a child (``isolation``) and turns the outcome into a ``Trial``.
Tests give the strategies a fake bench instead, with no processes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tunekit.engine.budget import Budget
from tunekit.engine.config import ProgressCallback
from tunekit.isolation.protocol import TrialRequest
from tunekit.isolation.spawn import ChildOutcome, run_in_child
from tunekit.models import MEMORY_LIMIT_REASON, Recommendation, Trial
from tunekit.plan import TrialPlan
from tunekit.plan.sizing import (
    UNSTABLE_SPREAD,
    TrialShape,
    predicted_throughput,
    trial_shape,
)
from tunekit.plan.sweep import Contender
from tunekit.target import TargetSpec

#: A trial of long calls takes at most this share of the budget left, with fewer windows if
#: need be: half, so that another model can still be measured after it (each of its windows is
#: a whole call time per worker, and the prediction it is sized from may be off by 2x).
LONG_TRIAL_SHARE = 0.5


@dataclass
class TrialBench:
    """Measures (backend, workers) configurations for one analysis; ``trials`` is the report's
    list, which the strategies append to."""

    spec: TargetSpec
    budget: Budget
    memory_limit: int
    #: Seconds of one sequential call, from the calibration.
    task_wall_s: float
    contenders: Sequence[Contender]
    #: The recommendation the trials so far would give (``advice.recommend``).
    advise: Callable[[Sequence[Trial]], Recommendation]
    trials: list[Trial] = field(default_factory=list)
    progress: ProgressCallback | None = None
    #: Why a measured trial cannot be ranked (``advice.sanity``), or None; such a trial is
    #: measured once more before it is flagged.
    check: Callable[[Trial, Sequence[Trial]], str | None] | None = None
    #: Threads the target's native pools (BLAS) run per process, from the calibration.
    native_threads: int = 1
    #: The process backend's start method in the trials (None: the interpreter's default).
    start_method: str | None = None

    def measure(
        self, plan: TrialPlan, batch_s: float, throughput: float | None = None, grid: bool = False
    ) -> Trial:
        """One trial, sized from ``throughput`` or what earlier trials measured (see
        ``predicted_throughput``). In the grid, only from the backend's own smaller pools,
        assuming no gain: a gain then shortens the batches instead of overrunning the grid.

        A trial whose numbers cannot be (``suspect``, or ``check``) is measured once more: the
        second run replaces it when it is sound, else the trial is kept, flagged, not ranked.
        When it is its speed-up over the baseline that cannot be, either measurement may have
        met a slow spell, so the baseline is measured again first, just before it: the ratio
        judged is then one of two trials side by side.
        """
        trial = self._measure_once(plan, batch_s, throughput, grid)
        why = self._why_suspect(trial)
        if why is None:
            return trial
        beside = trial.suspect is None and self._baseline_again(batch_s)
        again = self._measure_once(plan, batch_s, trial.throughput, grid)
        if again.status == "ok":
            why_again = self._why_suspect(again)
            if why_again is None or beside:
                # sound, or flagged against the baseline measured beside it: the later run counts
                again.suspect, again.reruns = why_again, trial.reruns + 1
                return again
        trial.suspect, trial.reruns = why, trial.reruns + 1
        return trial

    def _baseline_again(self, batch_s: float) -> bool:
        """Measure the baseline (the first sound trial of a backend that does not scale) once
        more, in its place: the later run is kept whatever its value, so that what it is
        compared with next was measured beside it. False if it could not be."""
        index = self._baseline_index()
        if index is None:
            return False
        baseline = self.trials[index]
        plan = TrialPlan(baseline.backend, baseline.workers)
        fresh = self._measure_once(plan, batch_s, baseline.throughput, grid=False)
        if fresh.status == "ok" and fresh.suspect is None:
            fresh.reruns = baseline.reruns + 1
            # in place, not a new object in its slot: the strategies hold trials by identity
            # (the duel's lineup had the old baseline and found it gone from ``trials``)
            for attribute in dataclasses.fields(baseline):
                setattr(baseline, attribute.name, getattr(fresh, attribute.name))
            return True
        return False

    def _baseline_index(self) -> int | None:
        """Where in ``trials`` the baseline is: the first sound trial of a backend that does
        not scale (sequential); None before one was measured."""
        fixed = {c.name for c in self.contenders if not c.scales}
        return next(
            (
                i
                for i, t in enumerate(self.trials)
                if t.backend in fixed and t.status == "ok" and t.suspect is None
            ),
            None,
        )

    def _why_suspect(self, trial: Trial) -> str | None:
        if trial.status != "ok":
            return None
        if trial.suspect is not None:
            return trial.suspect
        return self.check(trial, self.trials) if self.check is not None else None

    def _measure_once(
        self, plan: TrialPlan, batch_s: float, throughput: float | None, grid: bool
    ) -> Trial:
        if throughput is None:
            throughput = self._predicted(plan, grid)
        budget = self.budget
        left = budget.left()
        batch_s = budget.fitting(batch_s)
        shape = trial_shape(throughput, plan.workers, batch_s, budget.repeats)
        planned = self.planned_s(plan, shape, throughput)
        while planned > left * LONG_TRIAL_SHARE and shape.long and shape.repeats > 1:
            # windows of one wave each: fewer of them still measure, at the cost of a spread
            shape = dataclasses.replace(shape, repeats=shape.repeats - 1)
            planned = self.planned_s(plan, shape, throughput)
        if planned > left:
            return skipped(
                plan,
                f"out of budget: needs about {planned:.1f} s, "
                f"{max(left, 0):.1f} s left (raise --budget)",
            )
        if self.progress is not None:
            self.progress("trial", plan, left)
        request = TrialRequest(
            target=self.spec,
            backend=plan.backend,
            workers=plan.workers,
            tasks=shape.tasks,
            repeats=shape.repeats,
            batch_s=batch_s,  # the worker re-sizes its batches if the guess was far off
            warmup=shape.warmup,
            lead_waves=shape.lead_waves,
            checked=True,
            inner_threads=plan.inner_threads,
            native_threads=self.native_threads,
            start_method=self.start_method,
        )
        outcome = run_in_child(request, budget.trial_timeout(planned), self.memory_limit)
        trial = trial_from_outcome(plan, shape.tasks, outcome)
        trial.inner_threads = plan.inner_threads
        trial.unstable = (trial.goodput_spread or 0.0) > UNSTABLE_SPREAD
        return trial

    def planned_s(self, plan: TrialPlan, shape: TrialShape, throughput: float) -> float:
        """Seconds a trial should take: the child's fixed cost, the pool's start-up (from this
        backend's earlier trials, per worker), and its calls at ``throughput``."""
        return (
            self.budget.overhead_s + self.startup_s(plan) + shape.seconds(plan.workers, throughput)
        )

    def startup_s(self, plan: TrialPlan) -> float:
        """The start-up a pool of ``plan.workers`` of this backend should take: its largest
        earlier pool's, scaled by the number of workers (a process pool forks each)."""
        earlier = [t for t in self.trials if t.backend == plan.backend and t.startup_s is not None]
        if not earlier:  # what the backend declares (slow-starting clusters), else nothing
            return next((c.startup_s for c in self.contenders if c.name == plan.backend), 0.0)
        largest = max(earlier, key=lambda t: t.workers)
        return (largest.startup_s or 0.0) * plan.workers / largest.workers

    def _predicted(self, plan: TrialPlan, grid: bool) -> float:
        if grid:
            own = [t for t in self.trials if t.backend == plan.backend]
            return predicted_throughput(plan, own, self.task_wall_s, 1.0)
        index = self._baseline_index()
        baseline = self.trials[index] if index is not None else None
        return predicted_throughput(plan, self.trials, self.task_wall_s, baseline=baseline)

    def adaptive_batch(self, expected: int) -> float:
        """Seconds per batch for the next adaptive trial, of ``expected`` in all."""
        done = sum(t.status != "skipped" for t in self.trials)
        return self.budget.adaptive_batch(expected - done)

    def grid_batch(self, trials_left: int) -> float:
        """Seconds per batch for the next grid trial, ``trials_left`` to go."""
        return self.budget.grid_batch(trials_left)

    def fitting(self, batch_s: float) -> float:
        """The batch length ``measure`` will really plan for ``batch_s`` now."""
        return self.budget.fitting(batch_s)

    def recommended(self) -> Trial | None:
        """The trial the recommendation would choose now, from the trials measured so far."""
        rec = self.advise(self.trials)
        return next(
            (
                t
                for t in self.trials
                if t.status == "ok" and t.backend == rec.model and t.workers == rec.pool_size
            ),
            None,
        )


def trial_from_outcome(plan: TrialPlan, tasks: int, outcome: ChildOutcome) -> Trial:
    """The trial a child's outcome amounts to: its measurement, or why there is none."""
    if outcome.error is not None:
        return skipped(plan, outcome.error.message, status="failed", tasks=tasks)
    if outcome.status == "ok" and isinstance(outcome.reply, Trial):
        return outcome.reply
    if outcome.status == "memory":
        return skipped(plan, f"{MEMORY_LIMIT_REASON}{outcome.reason}", status="failed", tasks=tasks)
    reason = outcome.reason or "unknown failure"
    status = "failed" if outcome.status == "ok" else outcome.status
    return skipped(plan, reason, status=status, tasks=tasks)


def skipped(plan: TrialPlan, reason: str, status: Any = "skipped", tasks: int = 0) -> Trial:
    """A trial of ``plan`` that did not measure, and why."""
    return Trial(
        backend=plan.backend,
        workers=plan.workers,
        status=status,
        reason=reason,
        tasks=tasks,
        inner_threads=plan.inner_threads,
    )
