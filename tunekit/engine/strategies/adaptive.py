"""The adaptive sweep as the engine runs it: the planner's trials (``plan.sweep``), each made
steady before the planner decides from it, then the knee placed more precisely and the close
contenders measured again side by side (``duel``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tunekit.engine.strategies import Bench, ruled_out
from tunekit.engine.strategies.duel import duel
from tunekit.engine.strategies.reruns import steady
from tunekit.plan import TrialPlan
from tunekit.plan.sweep import AdaptiveSweep, Contender, knee_gap

#: Trials an adaptive sweep expects besides two per backend (the leader's doublings, the
#: knee, the duel): what is left of the budget is shared by this many when it is short.
ADAPTIVE_EXTRA_TRIALS = 8


def adaptive_sweep(
    bench: Bench,
    contenders: Sequence[Contender],
    *,
    max_workers: int,
    scaling_limit: int,
    is_coroutine: bool,
) -> list[str]:
    """Screen every backend, grow the leader's pool while it pays, challenge it with the
    others at its knee; then refine the chosen backend's knee and duel. Returns the notes
    for the report: why each backend stopped where it did."""
    names = {c.name for c in contenders}
    contenders = [
        dataclasses.replace(c, via=c.via if not is_coroutine and c.via in names else None)
        for c in contenders
    ]
    planner = AdaptiveSweep(
        contenders,
        max_workers=max_workers,
        scaling_limit=scaling_limit,
        is_coroutine=is_coroutine,
    )
    expected = 2 * len(contenders) + ADAPTIVE_EXTRA_TRIALS
    while (plan := planner.next_plan(bench.trials)) is not None:
        if ruled_out(bench.trials, plan):  # recorded as skipped: the planner stops that backend
            continue
        measure_steadily(bench, plan, expected)
    notes = []
    if planner.first_size(bench.trials) > 1 and any(c.scales for c in contenders):
        notes.append(
            "pools of 1 worker were not measured: one worker runs one task at a time, like "
            "sequential, plus the cost of handing each task over"
        )
    scales = {c.name: c.scales for c in contenders}
    notes += [f"{name}: {why}" for name, why in planner.stops.items() if scales.get(name, True)]
    refine_knee(bench, expected, scaling_limit)
    duel(bench, expected)
    return notes


def measure_steadily(bench: Bench, plan: TrialPlan, expected: int) -> None:
    """Measure ``plan``, and again at once if the value is too noisy to decide from."""
    batch_s = bench.adaptive_batch(expected)
    trial = bench.measure(plan, batch_s)
    bench.trials.append(trial)
    steady(bench, trial, batch_s)


def refine_knee(bench: Bench, expected: int, scaling_limit: int) -> None:
    """Measure the pool between the chosen backend's knee and the smaller pool before it,
    when one lies between: the recommended size is then the knee itself, not a doubling."""
    chosen = bench.recommended()
    if chosen is None:
        return
    curve = [t for t in bench.trials if t.backend == chosen.backend]
    middle = knee_gap(curve)
    if middle is None or middle > scaling_limit:
        return
    plan = TrialPlan(chosen.backend, middle)
    if not ruled_out(bench.trials, plan):
        measure_steadily(bench, plan, expected)
