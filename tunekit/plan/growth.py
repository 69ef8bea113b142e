"""Whether a curve can still pay: one backend passing another further up, and the gain the
scaling law fitted to a curve predicts at the next pool size. Pure: no I/O.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from tunekit.advice.rules import goodput
from tunekit.advice.scaling import USL_POINTS, fit_usl, predict
from tunekit.models import Trial


def may_cross(
    curve: Sequence[Trial],
    trial: Trial,
    leader: Trial,
    leader_curve: Sequence[Trial],
    noise: float,
    baseline: Trial | None = None,
) -> bool:
    """A backend behind the leader at its knee may still pass it further up: when the leader
    stalled there (it measured a larger pool and gained nothing more), and the backend's own
    curve, still rising, would pass the leader's best in one more step at the rate it has
    grown per doubling so far (from ``baseline``, one call at a time, when the knee is its
    only pool measured). Curves cross only where one is still rising and the other flat."""
    if max(t.workers for t in leader_curve) <= leader.workers:
        return False
    smaller = [t for t in curve if t.workers < trial.workers and goodput(t)]
    if not smaller and baseline is not None and goodput(baseline):
        smaller = [baseline]
    if not smaller:
        return False
    start = max(smaller, key=lambda t: t.workers)
    doublings = math.log2(trial.workers / start.workers)
    per_doubling = (goodput(trial) / goodput(start)) ** (1 / doublings) if doublings else 1.0
    per_doubling = min(per_doubling, 2.0)  # one doubling of the pool at most doubles it
    best_leader = max(goodput(t) for t in leader_curve)
    return per_doubling > 1 + noise and goodput(trial) * per_doubling >= best_leader * (1 - noise)


def predicted_gain(curve: Sequence[Trial], size: int) -> float | None:
    """The gain over the largest pool of ``curve`` that a good fit of the whole scaling
    law (4 or more pool sizes, ``advice.scaling``) predicts at ``size``; None without one."""
    if len({t.workers for t in curve}) < USL_POINTS:
        return None
    points = [(t.workers, v) for t in curve for v in (t.goodput_values or [goodput(t)])]
    spread = statistics.median(t.goodput_spread or 0.0 for t in curve)
    fit = fit_usl(points, spread)
    last = max(curve, key=lambda t: t.workers)
    at_size, at_last = predict(fit, size), predict(fit, last.workers)
    if fit.parameters < 3 or at_size is None or not at_last:
        return None
    return at_size / at_last - 1
