"""The adaptive sweep as the engine runs it: the planner's trials (``plan.sweep``), each made
steady before the planner decides from it, then the knee placed more precisely and the close
contenders measured again side by side (``duel``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from tunekit.engine.strategies import Bench, ruled_out
from tunekit.engine.strategies.duel import duel
from tunekit.engine.strategies.reruns import steady
from tunekit.plan import TrialPlan
from tunekit.plan.stops import Stop
from tunekit.plan.sweep import AdaptiveSweep, Contender, LimitOf, knee_gap

#: Trials an adaptive sweep expects besides two per backend (the leader's doublings, the
#: knee, the duel): what is left of the budget is shared by this many when it is short.
ADAPTIVE_EXTRA_TRIALS = 8


@dataclass
class SweepResult:
    """What the sweep leaves for the report: notes, and why each backend stopped (put in words
    at the end, with the final numbers)."""

    notes: list[str] = field(default_factory=list)
    stops: dict[str, Stop] = field(default_factory=dict)


def adaptive_sweep(
    bench: Bench,
    contenders: Sequence[Contender],
    *,
    limit_of: LimitOf,
    core_limit: int | None,
    is_coroutine: bool,
    computes: bool = False,
) -> SweepResult:
    """Screen every backend, grow the leader's pool while it pays, challenge it with the
    others at its knee; then refine the chosen backend's knee and duel."""
    names = {c.name for c in contenders}
    contenders = [
        dataclasses.replace(c, via=c.via if not is_coroutine and c.via in names else None)
        for c in contenders
    ]
    planner = AdaptiveSweep(
        contenders,
        limit_of=limit_of,
        core_limit=core_limit,
        is_coroutine=is_coroutine,
        computes=computes,
    )
    expected = 2 * len(contenders) + ADAPTIVE_EXTRA_TRIALS
    while (plan := planner.next_plan(bench.trials)) is not None:
        if ruled_out(bench.trials, plan):  # recorded as skipped: the planner stops that backend
            continue
        measure_steadily(bench, plan, expected)
    result = SweepResult(stops=planner.stops)
    if planner.first_size(bench.trials) > 1 and any(c.scales for c in contenders):
        result.notes.append(
            "pools of 1 worker were not measured: one worker runs one call at a time, like "
            "sequential, plus the cost of handing each call over"
        )
    refine_knee(bench, expected)
    duel(bench, expected, is_coroutine=is_coroutine)
    return result


def measure_steadily(bench: Bench, plan: TrialPlan, expected: int) -> None:
    """Measure ``plan``, and again at once if the value is too noisy to decide from."""
    batch_s = bench.adaptive_batch(expected)
    trial = bench.measure(plan, batch_s)
    bench.trials.append(trial)
    steady(bench, trial, batch_s)


def refine_knee(bench: Bench, expected: int) -> None:
    """Measure the pool between the chosen backend's knee and the smaller pool before it,
    when one lies between: the recommended size is then the knee itself, not a doubling."""
    chosen = bench.recommended()
    if chosen is None:
        return
    curve = [t for t in bench.trials if t.backend == chosen.backend]
    baseline = [t for t in bench.trials if t.backend == "sequential"]
    middle = knee_gap(curve, baseline)
    if middle is None:
        return
    plan = TrialPlan(chosen.backend, middle)
    if not ruled_out(bench.trials, plan):
        measure_steadily(bench, plan, expected)
