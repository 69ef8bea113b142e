"""One backend's next step in the adaptive sweep: grow its pool, or stop and say why.

Pure functions of the curves measured so far (no timing, no I/O), used by
``plan.sweep.AdaptiveSweep``: ``grow`` decides a growing backend's next pool size, ``judge``
whether a challenger measured at the leader's knee stops there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tunekit.advice.rules import (
    KNEE_THRESHOLD,
    errors_rise,
    goodput,
    model_cost,
    model_family,
    queue_of,
)
from tunekit.models import Trial
from tunekit.plan.growth import may_cross, predicted_gain
from tunekit.plan.limits import Limit
from tunekit.plan.sizing import TrialPlan, noise_of
from tunekit.plan.stops import Stop

#: A doubling that delivered at least this share of the ideal 2x lets cheap workers grow by 4x
#: at the next step. Under Amdahl's law, a doubling from N at 90% efficiency means a serial
#: share of at most 0.1 / (0.8 N + 0.1), so the doubling after it still gains over 60%: the size
#: skipped would not have been the knee. A capacity cliff inside the step (a service that serves
#: so many at once) is not Amdahl-shaped; the knee refinement measures the pool between.
NEAR_PERFECT = 0.9
#: Pools of cheap workers grow by this factor at a step while doublings are near-perfect.
LARGE_STEP = 4


def usable(curve: Sequence[Trial]) -> list[Trial]:
    """The trials of ``curve`` that count (``Trial.usable``)."""
    return [t for t in curve if t.usable]


def gains(before: Trial, after: Trial) -> bool:
    """``after`` gained more than the noise over ``before``."""
    return goodput(after) / (goodput(before) or 1.0) - 1 > noise_of(before, after)


def failure_stop(curve: Sequence[Trial]) -> Stop | None:
    """Why a backend whose last trial is ``curve[-1]`` stops: it failed, did not fit the budget
    (gaining or not), or measured something that cannot happen; None if it may go on."""
    last = curve[-1]
    if last.status == "ok":
        return None if last.suspect is None else Stop("suspect", last.key, detail=last.suspect)
    if last.status == "skipped" and (last.reason or "").startswith("out of budget"):
        previous = usable(curve)
        return Stop(
            "out of budget",
            previous[-1].key if previous else None,
            previous[-2].key if len(previous) >= 2 else None,
            f"{last.key} did not fit: {last.reason}",
            gaining=len(previous) >= 2 and gains(previous[-2], previous[-1]),
            next_size=last.workers,
        )
    return Stop("failed", last.key)


def cheapest_tied(screened: Sequence[tuple[str, Trial]], is_coroutine: bool) -> str | None:
    """Of the backends' best screened trials, the cheapest model (``model_cost``) tied with the
    best one within the noise; None if there are none."""
    if not screened:
        return None
    best = max((t for _, t in screened), key=goodput)
    tied = [(n, t) for n, t in screened if goodput(t) >= goodput(best) * (1 - noise_of(t, best))]
    cheapest = min(tied, key=lambda pair: (model_cost(pair[0], is_coroutine), -goodput(pair[1])))
    return cheapest[0]


def step_factor(previous: Trial | None, last: Trial, *, cheap: bool, core_limit: int | None) -> int:
    """Double; four times for cheap workers while a doubling is near-perfect and the pool is
    not past the free cores (``core_limit``) for core-bound work."""
    if previous is None or not cheap or goodput(previous) <= 0:
        return 2
    if core_limit is not None and last.workers >= core_limit:
        return 2
    ideal = last.workers / previous.workers
    efficiency = goodput(last) / goodput(previous) / ideal
    steps = math.log2(ideal) if ideal > 1 else 1.0
    return LARGE_STEP if efficiency ** (1 / steps) >= NEAR_PERFECT else 2


def between(smaller: int, larger: int) -> int | None:
    """The pool halfway, on a doubling scale, between two pool sizes more than a doubling
    apart (the geometric mean: 16 between 8 and 32); None when they are a doubling or less."""
    if larger <= 2 * smaller:
        return None
    return round(math.sqrt(smaller * larger))


def _errors_began(
    name: str,
    below: Trial,
    above: Trial,
    began: Trial,
    clean: Trial,
    measured: set[int],
) -> TrialPlan | Stop:
    """Errors rose from pool ``below`` to pool ``above``: measure the pool between them when a
    large step jumped over where they began (it may be clean and faster than both: a service
    that refuses beyond its capacity), else stop, naming the first failing pool ``began``
    against the cleanest smaller one."""
    middle = between(below.workers, above.workers)
    if middle is not None and middle not in measured:
        return TrialPlan(name, middle)
    return Stop("errors", began.key, clean.key)


def grow(
    name: str,
    ok: Sequence[Trial],
    previous: Trial | None,
    *,
    limit: Limit | None,
    step: int,
    best: Trial,
    dead: Sequence[Trial] = (),
) -> TrialPlan | Stop:
    """The next pool of ``name`` while growing pays, or why it stops.

    ``ok`` is its usable curve, ``previous`` the trial its largest pool is judged against (the
    next smaller pool, or the baseline at the screen), ``step`` the growth factor
    (``step_factor``) and ``best`` the best trial of any backend so far; ``dead``, its trials
    whose every call raised (measured, but with no goodput to rank). Errors are judged against
    the cleanest smaller pool, so that a pool failing as often as the one before it still stops
    where the failures began."""
    last = max(ok, key=lambda t: t.workers)
    measured = {t.workers for t in [*ok, *dead]}
    smaller = [t for t in ok if t.workers < last.workers] or ([previous] if previous else [])
    cleanest = min(smaller, key=lambda t: (t.error_rate, -t.workers), default=None)
    if previous is not None and cleanest is not None and errors_rise(cleanest, last):
        failing = [t for t in ok if t.workers > cleanest.workers and errors_rise(cleanest, t)]
        began = min(failing, key=lambda t: t.workers, default=last)
        return _errors_began(name, previous, last, began, cleanest, measured)
    larger = [t for t in dead if t.workers > last.workers]
    if larger:  # every call raised at a larger pool
        first = min(larger, key=lambda t: t.workers)
        return _errors_began(name, last, first, first, last, measured)
    if previous is not None and not gains(previous, last):
        return Stop("stalled", last.key, previous.key, noise=noise_of(previous, last))
    queue = queue_of(last, [*ok, *([previous] if previous is not None else [])])
    if queue is not None:
        return Stop("queue", last.key, queue[0].key)
    if limit is not None and last.workers >= limit.workers:
        other = previous.key if previous is not None else None
        return Stop("limit", last.key, other, limit.reason, gaining=previous is not None)
    size = last.workers * step
    if limit is not None:
        size = min(size, limit.workers)
    predicted = predicted_gain(ok, size)
    if predicted is not None and previous is not None:
        noise = noise_of(previous, last)
        if predicted < noise:
            detail = f"{predicted:+.0%} at {size} workers, less than the {noise:.0%} noise"
            return Stop("fit", last.key, previous.key, detail, noise=noise)
    if goodput(last) * size / last.workers < goodput(best) * KNEE_THRESHOLD:
        # even perfect scaling at the next step would leave it behind the best so far
        return Stop("cannot win", last.key, best.key, f"{size} workers")
    return TrialPlan(name, size)


def judge(
    name: str,
    curve: Sequence[Trial],
    trial: Trial,
    leader: Trial,
    leader_curve: Sequence[Trial],
    *,
    leader_name: str,
    follows: str | None,
    baseline: Trial | None = None,
) -> Stop | None:
    """Why challenger ``name`` stops at the leader's knee (``trial`` against ``leader``), or
    None to let it grow. ``follows``: the measured backend whose pool runs its plain calls;
    ``baseline``: the one-at-a-time trial its growth is judged from when the knee is its first
    pool measured."""
    noise = noise_of(trial, leader)
    ratio = goodput(trial) / goodput(leader) if goodput(leader) else 0.0
    if ratio < 1 - noise and not may_cross(curve, trial, leader, leader_curve, noise, baseline):
        return Stop("measured less", trial.key, leader.key, noise=noise)
    if follows is not None and ratio <= 1 + noise:
        return Stop("via", trial.key, leader.key, follows)
    stalled = max(leader_curve, key=lambda t: t.workers)
    if (
        ratio <= 1 + noise
        and stalled.workers > leader.workers
        and model_family(leader_name) == model_family(name)
    ):
        return Stop("same family", trial.key, leader.key, stalled.key)
    return None
