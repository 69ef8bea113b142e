"""The reference a recommendation is scored against, measured by the benchmark itself.

``measure_grid`` measures every configuration of a workload's grid in interleaved rounds: all
of them by pool size, then all again in the reverse order, and so on. Each configuration's
values from every round are merged and its goodput is their median, so the grid's best is not
the luckiest of ~30 single noisy values (the winner's curse), and drift on the machine during
the grid hits the first and the last configurations alike. ``side_by_side`` then measures two
configurations again in alternation (A B, B A, ...), so that they see the same machine.

Every trial is one ``TrialRequest`` in a child process (``tunekit.isolation``), as the engine
measures, but sized here: the grid must not depend on the strategy it judges.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from time import perf_counter

from goodput import goodput_values, merged_error_rate
from scoring import CLEAN_SHARE, MAX_ERROR_RATE

from tunekit.engine.config import DEFAULT_REPEATS
from tunekit.engine.machine import default_memory_limit
from tunekit.isolation.forkserver import fork_server
from tunekit.isolation.protocol import Inspection, InspectRequest, TrialRequest
from tunekit.isolation.spawn import run_in_child
from tunekit.models import Trial, TrialStatus
from tunekit.plan.sizing import MAX_TASKS, TrialPlan, predicted_throughput
from tunekit.stats import relative_spread
from tunekit.target import TargetSpec

#: The knee: the smallest pool of the best backend within this share of its best goodput
#: (the engine's own rule, docs/how-it-measures.md step 12).
KNEE_SHARE = 0.95
#: Sequential seconds of calls the grid's calibration times (the engine's CALIBRATION_S).
CALIBRATION_S = 0.2
#: Seconds the calibration child may take: its import, a warm-up call, the timed calls and
#: the process backend's check (one more call) are 3 calls of 2 s for the longest workload.
CALIBRATION_TIMEOUT_S = 120.0
#: A trial is stopped at this many times its planned length, plus the margin: the plan
#: assumes no gain over the backend's smaller pool, so a trial lasts longer than planned only
#: when its pool loses throughput, and 10x (as the side-by-side trials had) is far past that.
TIMEOUT_FACTOR = 10.0
TIMEOUT_MARGIN_S = 10.0
#: Tasks a trial runs besides its windows (isolation/trial.py): a warm-up of up to 10 tasks
#: (at least one per worker), 2 lead-in waves and one wave of wind-down.
WARM_UP_TASKS = 10
LEAD_WAVES = 2
#: A trial whose windows lasted under this share of the planned length is measured again:
#: the engine's own rule for batches that lasted under half their plan (how-it-measures, 5).
SHORT_WINDOW = 0.5

Say = Callable[[str], None]


@dataclass
class Measured:
    """One configuration as the reference measured it: every round's trial, merged."""

    backend: str
    workers: int
    trials: list[Trial] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.backend} x{self.workers}"

    @property
    def usable(self) -> list[Trial]:
        return [t for t in self.trials if t.usable]

    @property
    def values(self) -> list[float]:
        """Every repeat's goodput, from every round."""
        return [v for t in self.usable for v in goodput_values(t)]

    @property
    def goodput(self) -> float | None:
        """The median of the merged values; None if no trial measured anything."""
        values = self.values
        return statistics.median(values) if values else None

    @property
    def spread(self) -> float:
        return relative_spread(self.values)

    @property
    def throughput(self) -> float | None:
        """Calls per second, errors included: what sizes the next trial's windows."""
        values = [v for t in self.usable for v in t.throughput_values]
        return statistics.median(values) if values else None

    @property
    def error_rate(self) -> float:
        return merged_error_rate(self.usable or self.trials)

    @property
    def failure(self) -> str | None:
        """Why nothing was measured: the last trial's status and reason."""
        if self.usable or not self.trials:
            return None
        last = self.trials[-1]
        return f"{last.status} ({last.reason or 'every call raised'})"


@dataclass
class Grid:
    """A workload's grid: every configuration, merged over the rounds."""

    configs: list[Measured]
    rounds: int
    elapsed_s: float
    #: Backends that said they cannot run the target, with their reason.
    unsupported: dict[str, str] = field(default_factory=dict)
    #: Why the grid measured nothing (its calibration failed), or None.
    failure: str | None = None

    @property
    def best(self) -> Measured | None:
        """The configuration of highest goodput, unless it fails more than ``MAX_ERROR_RATE``
        of its calls and one without errors reaches ``CLEAN_SHARE`` of its goodput: then that
        one, the best of them. The issue's price of errors, which its errors check holds the
        recommendation to: the reference is the configuration a user should run, and a pool
        failing 92% of its calls to a service that refuses beyond its capacity is not that
        when a clean one is within a tenth of it."""
        measured = [c for c in self.configs if c.goodput is not None]
        top = max(measured, key=lambda c: c.goodput or 0.0, default=None)
        if top is None or top.goodput is None or top.error_rate <= MAX_ERROR_RATE:
            return top
        return self.clean_alternative(top.goodput, CLEAN_SHARE) or top

    @property
    def knee(self) -> int | None:
        """The smallest pool of the best's backend within ``KNEE_SHARE`` of the best."""
        best = self.best
        if best is None or best.goodput is None:
            return None
        same = [c for c in self.configs if c.backend == best.backend and c.goodput is not None]
        return min(c.workers for c in same if (c.goodput or 0.0) >= KNEE_SHARE * best.goodput)

    def find(self, backend: str, workers: int) -> Measured | None:
        return next((c for c in self.configs if (c.backend, c.workers) == (backend, workers)), None)

    def clean_alternative(self, goodput: float, share: float) -> Measured | None:
        """The best configuration without a single error reaching ``share`` x ``goodput``."""
        clean = [
            c
            for c in self.configs
            if c.goodput is not None
            and c.goodput >= share * goodput
            and c.trials
            and all(t.errors == 0 for t in c.trials)
        ]
        return max(clean, key=lambda c: c.goodput or 0.0, default=None)


def measure_grid(
    spec: TargetSpec, grid: Mapping[str, Sequence[int]], rounds: int, window_s: float, say: Say
) -> Grid:
    """Every configuration of ``grid`` (backend -> pool sizes), in ``rounds`` rounds."""
    started = perf_counter()
    order = list(grid)
    with fork_server():
        inspection = _inspect(spec, order)
        if isinstance(inspection, str):
            return Grid([], rounds, perf_counter() - started, failure=inspection)
        unsupported = {b: r for b, r in inspection.supports.items() if b in grid and r}
        configs = sorted(
            (Measured(b, n) for b in order if b not in unsupported for n in grid[b]),
            key=lambda c: (c.workers, order.index(c.backend)),
        )
        for number in range(rounds):
            say(f"grid round {number + 1}/{rounds} ({len(configs)} configurations)")
            for config in configs if number % 2 == 0 else reversed(configs):
                if config.trials and not config.usable:
                    continue  # it failed: again would cost its timeout for the same answer
                expected = _expected(config, configs, inspection.task_wall_s)
                config.trials.append(_trial(spec, config, expected, window_s))
    return Grid(configs, rounds, perf_counter() - started, unsupported)


def side_by_side(
    spec: TargetSpec, pairs: Sequence[tuple[Measured, float]], rounds: int, window_s: float
) -> list[Measured]:
    """Each configuration measured again, alternating (A B, B A, ...) for ``rounds`` rounds;
    ``pairs`` holds each configuration with the throughput to size its first trial by."""
    again = [Measured(config.backend, config.workers) for config, _ in pairs]
    guesses = [throughput for _, throughput in pairs]
    with fork_server():
        for number in range(rounds):
            indices = range(len(again)) if number % 2 == 0 else reversed(range(len(again)))
            for index in indices:
                config = again[index]
                expected = config.throughput or guesses[index]
                config.trials.append(_trial(spec, config, expected, window_s))
    return again


def _inspect(spec: TargetSpec, backends: Sequence[str]) -> Inspection | str:
    """The target's calibration in a child (the call time, which backends run it), or why not."""
    request = InspectRequest(target=spec, calibrate_s=CALIBRATION_S, backends=tuple(backends))
    outcome = run_in_child(request, CALIBRATION_TIMEOUT_S, default_memory_limit())
    if outcome.error is not None:
        return f"calibration: {outcome.error.message}"
    if outcome.status != "ok" or not isinstance(outcome.reply, Inspection):
        return f"calibration {outcome.status}: {outcome.reason}"
    return outcome.reply


def _expected(config: Measured, configs: Sequence[Measured], task_wall_s: float) -> float:
    """Calls per second to size ``config``'s trial by: its own earlier rounds' median, else
    no gain over its backend's smaller pool (the engine's grid rule: a gain shortens the
    windows instead of overrunning them), else the sequential trial's, up to what its workers
    can do at the task's time and the backend's dispatch cost."""
    if config.throughput is not None:
        return config.throughput
    earlier = [c.usable[-1] for c in configs if c.usable]
    baseline = next((t for t in earlier if t.backend == "sequential"), None)
    plan = TrialPlan(config.backend, config.workers)
    return max(predicted_throughput(plan, earlier, task_wall_s, 1.0, baseline), 1e-3)


def _trial(spec: TargetSpec, config: Measured, expected: float, window_s: float) -> Trial:
    """One trial of ``config``, measured again (once) sized by its own throughput if its
    windows lasted under ``SHORT_WINDOW`` of ``window_s``: the child re-sizes a trial from
    its warm-up, which a pool's first calls slow down (asyncio x1 on a sub-microsecond call
    was re-sized to 43 tasks: windows of 2 ms, which measure the scheduler)."""
    trial = _one_trial(spec, config, expected, window_s)
    short = trial.usable and (trial.wall_s or 0.0) < SHORT_WINDOW * window_s
    if short and trial.throughput and trial.tasks < MAX_TASKS:
        return _one_trial(spec, config, trial.throughput, window_s)
    return trial


def _one_trial(spec: TargetSpec, config: Measured, expected: float, window_s: float) -> Trial:
    """One trial of ``config`` in a child: windows of about ``window_s`` at ``expected`` calls
    per second, at least one task per worker (a call of seconds gets one wave a window)."""
    workers = config.workers
    tasks = max(workers, min(MAX_TASKS, round(window_s * expected)))
    warm_up = max(workers, min(tasks, WARM_UP_TASKS))
    planned_s = (warm_up + (LEAD_WAVES + 1) * workers + DEFAULT_REPEATS * tasks) / expected
    # The child re-sizes a trial whose warm-up shows its windows far off their length, with
    # the engine's sizes (at least 4 tasks, 2 a worker): not a window of one wave, which a
    # call of seconds gets by design and which no warm-up should double.
    batch_s = tasks / expected if tasks > workers else None
    # checked: the calibration (``_inspect``) asked every backend whether it runs the target,
    # as the engine's does. Asking again in the trial's child can cost a call made before
    # the pool forks, which a forked worker inherits (a workload's started consumer thread).
    request = TrialRequest(
        spec,
        config.backend,
        workers,
        tasks,
        repeats=DEFAULT_REPEATS,
        batch_s=batch_s,
        checked=True,
    )
    timeout = TIMEOUT_FACTOR * planned_s + TIMEOUT_MARGIN_S
    outcome = run_in_child(request, timeout, default_memory_limit())
    if outcome.status == "ok" and isinstance(outcome.reply, Trial):
        return outcome.reply
    reason = outcome.error.message if outcome.error is not None else outcome.reason
    status: TrialStatus = "timeout" if outcome.status == "timeout" else "failed"
    return Trial(backend=config.backend, workers=workers, status=status, reason=reason)
