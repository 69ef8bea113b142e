"""How the engine decides what to measure: the grid, the adaptive sweep, the knee refinement,
the duel of close contenders, and re-runs of unstable trials.

Each strategy measures through a ``Bench`` (``tunekit.engine.bench.TrialBench`` in an analysis,
a table of canned trials in the unit tests) and appends to ``bench.trials``; none of them
starts a process or reads a clock itself.
"""

from __future__ import annotations

from typing import Protocol

from tunekit.models import Trial
from tunekit.plan import TrialPlan


class Bench(Protocol):
    """What a strategy measures with."""

    #: Every trial of the analysis so far, in the order measured (the report's list).
    trials: list[Trial]

    def measure(
        self, plan: TrialPlan, batch_s: float, throughput: float | None = None, grid: bool = False
    ) -> Trial:
        """Measure ``plan`` with batches of about ``batch_s`` (not appended to ``trials``)."""

    def adaptive_batch(self, expected: int) -> float:
        """Seconds per batch for the next adaptive trial, of ``expected`` trials in all."""

    def grid_batch(self, trials_left: int) -> float:
        """Seconds per batch for the next grid trial, ``trials_left`` to go."""

    def fitting(self, batch_s: float) -> float:
        """The batch length ``measure`` would really plan for ``batch_s`` now."""

    def recommended(self) -> Trial | None:
        """The trial the recommendation would choose from ``trials``."""


def ruled_out(trials: list[Trial], plan: TrialPlan) -> bool:
    """True (and recorded as a skipped trial) when a smaller pool of the same backend
    already exceeded the memory limit."""
    failed = [t.workers for t in trials if t.backend == plan.backend and t.over_memory]
    if not failed or plan.workers <= min(failed):
        return False
    reason = f"ruled out: {plan.backend} x{min(failed)} already exceeded the memory limit"
    trials.append(Trial(plan.backend, plan.workers, "skipped", reason))
    return True
