"""The analysis's clock: seconds left of the budget, and how long each measured batch may last.

A trial costs a fixed part (a child process, imports, pool start-up: ``overhead_s``, measured
by the calibration) plus its batches: a warm-up and the repeats. The lengths below share what
is left of the budget between the trials still to come.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from time import perf_counter

#: Each measured batch should last at least this long (pyperf and timeit aim for 0.1-0.2 s):
#: shorter batches measure the clock and the scheduler more than the work.
MIN_BATCH_S = 0.2
#: The adaptive sweep's batches: short, because its trials only decide where to look next;
#: the close contenders are measured again, alternating, before one is chosen (pyperf's
#: shortest loop is 0.1 s too). It finishes early rather than fill the budget.
ADAPTIVE_BATCH_S = 0.1
#: ... but when the budget is nearly spent a trial may use batches down to this long.
SHORTEST_BATCH_S = 0.02
#: ... and at most this long: longer batches add no precision, only time.
MAX_BATCH_S = 1.0
#: What a trial runs besides its measured windows (a warm-up of one wave, the stream's lead of
#: two and tail of one; a wave is a task per worker) costs about this many measured batches in
#: the grid's batches of 0.2 s or more. In a 0.1 s adaptive window of a pool of 32 waiting
#: tasks it is closer to one: the trial's timeout (TIMEOUT_FACTOR) leaves room for that.
WARMUP_BATCHES = 0.25
#: A trial may run this many times longer than planned before it is stopped as hung.
TIMEOUT_FACTOR = 4.0
#: Seconds allowed beyond the budget for the last child to be stopped and the report written.
BUDGET_MARGIN_S = 1.0
#: Share of the budget that batches near its end may plan for: the rest is their fixed cost's.
ENDGAME_SHARE = 0.8


@dataclass
class Budget:
    """Seconds of the analysis: what is left, and the batch lengths that fit in it."""

    seconds: float
    #: Measured repeats per trial.
    repeats: int = 3
    #: A trial's fixed cost besides its batches (set once the calibration measured it).
    overhead_s: float = 0.0
    clock: Callable[[], float] = perf_counter
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def deadline(self) -> float:
        """When the budget runs out, on ``clock``."""
        return self.started + self.seconds

    @contextmanager
    def held_back(self, seconds: float) -> Iterator[None]:
        """Within the block, ``seconds`` fewer: left for what comes after it."""
        self.seconds -= seconds
        try:
            yield
        finally:
            self.seconds += seconds

    def left(self) -> float:
        """Seconds of the budget left."""
        return self.deadline - self.clock()

    def elapsed(self) -> float:
        """Seconds since the analysis started."""
        return self.clock() - self.started

    @property
    def batches(self) -> float:
        """Batches' worth of time a trial runs: its repeats and its unmeasured parts."""
        return self.repeats + WARMUP_BATCHES

    def batch_s(self, share: float) -> float:
        """Seconds per measured batch that fill ``share`` seconds of the budget."""
        return (share - self.overhead_s) / self.batches

    def grid_batch(self, trials_left: int) -> float:
        """Batch length for a grid trial when ``trials_left`` share what is left."""
        share = self.left() / max(trials_left, 1)
        return min(max(MIN_BATCH_S, self.batch_s(share)), MAX_BATCH_S)

    def adaptive_batch(self, trials_left: int) -> float:
        """``ADAPTIVE_BATCH_S``, or less when what is left would not fit ``trials_left``."""
        share = self.left() / max(2, trials_left)
        return min(ADAPTIVE_BATCH_S, max(SHORTEST_BATCH_S, self.batch_s(share)))

    def fitting(self, batch_s: float) -> float:
        """``batch_s``, shortened near the end of the budget: shorter batches beat no
        measurement at all."""
        room = (self.left() * ENDGAME_SHARE - self.overhead_s) / self.batches
        return min(batch_s, max(room, SHORTEST_BATCH_S))

    def trial_timeout(self, planned_s: float) -> float:
        """Seconds a trial planned to take ``planned_s`` may run before it is stopped."""
        return min(TIMEOUT_FACTOR * planned_s + 1.0, self.left() + BUDGET_MARGIN_S)
