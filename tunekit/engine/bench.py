"""The engine's test bench: one trial measured in a child process, sized to fit the budget.

``TrialBench`` is what the strategies (``tunekit.engine.strategies``) measure with. It sizes a
trial's batches from what was measured before (``plan.sizing``), refuses one that cannot fit
in the budget left, sends it to a child (``isolation``) and turns the outcome into a ``Trial``.
Tests give the strategies a fake bench instead, with no processes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tunekit.engine.budget import Budget
from tunekit.engine.config import ProgressCallback
from tunekit.isolation.protocol import TrialRequest
from tunekit.isolation.spawn import ChildOutcome, run_in_child
from tunekit.models import MEMORY_LIMIT_REASON, Recommendation, Trial
from tunekit.plan import TrialPlan
from tunekit.plan.sizing import UNSTABLE_SPREAD, predicted_throughput, tasks_for
from tunekit.plan.sweep import Contender
from tunekit.target import TargetSpec


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

    def measure(
        self, plan: TrialPlan, batch_s: float, throughput: float | None = None, grid: bool = False
    ) -> Trial:
        """One trial, sized from ``throughput`` or what earlier trials measured (see
        ``predicted_throughput``). In the grid, only from the backend's own smaller pools,
        assuming no gain: a gain then shortens the batches instead of overrunning the grid."""
        if throughput is None:
            throughput = self._predicted(plan, grid)
        budget = self.budget
        left = budget.left()
        batch_s = budget.fitting(batch_s)
        tasks = tasks_for(throughput, plan.workers, batch_s)
        planned = budget.overhead_s + budget.batches * tasks / throughput
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
            tasks=tasks,
            repeats=budget.repeats,
            batch_s=batch_s,  # the worker re-sizes its batches if the guess was far off
        )
        outcome = run_in_child(request, budget.trial_timeout(planned), self.memory_limit)
        trial = trial_from_outcome(plan, tasks, outcome)
        trial.unstable = (trial.throughput_spread or 0.0) > UNSTABLE_SPREAD
        return trial

    def _predicted(self, plan: TrialPlan, grid: bool) -> float:
        if grid:
            own = [t for t in self.trials if t.backend == plan.backend]
            return predicted_throughput(plan, own, self.task_wall_s, 1.0)
        fixed = {c.name for c in self.contenders if not c.scales}  # sequential
        baseline = next((t for t in self.trials if t.backend in fixed and t.status == "ok"), None)
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
        backend=plan.backend, workers=plan.workers, status=status, reason=reason, tasks=tasks
    )
