"""Small statistics over measurements: spread, latency percentiles, steady-state windows."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence


def relative_spread(values: Sequence[float]) -> float:
    """Largest distance from the median, as a fraction of the median (0.0 for < 2 values)."""
    if len(values) < 2:
        return 0.0
    median = statistics.median(values)
    if median == 0:
        return 0.0
    return max(abs(v - median) for v in values) / median


def percentiles(values: Sequence[float], points: Sequence[int] = (50, 95, 99)) -> list[float]:
    """Percentiles by linear interpolation between closest ranks (any non-empty input)."""
    if not values:
        raise ValueError("percentiles of no values")
    if len(values) == 1:
        return [float(values[0])] * len(points)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return [cuts[p - 1] for p in points]


def stream_windows(
    ends: Sequence[float | None],
    start: float,
    stop: float,
    lead: int,
    tail: int,
    count: int,
    wave: int = 1,
) -> tuple[int, list[float]] | None:
    """Split one continuous stream of tasks into ``count`` windows of equal task counts.

    ``ends`` are the tasks' end times, started at ``start`` and all done by ``stop``. The first
    ``lead`` completions are the stream's ramp-up (workers getting their first tasks, clients
    falling out of step) and the last ``tail`` its wind-down (workers running out of work one
    by one): neither is measured. Between them, each window runs from one completion to the
    completion ``size`` later, so every window is steady state, measured back to back on one
    pool. ``size`` is a whole number of ``wave`` (the tasks a pool runs at once) when it can
    be: workers that start together end together, and a window from the first task of one
    wave to the last of another would count a wave it only partly timed (2 workers with 17
    tasks a window spread 10% between windows). Returns ``(size, [seconds of each window])``;
    None when an end time is missing or not on this clock (a remote worker), or fewer than
    one task per window is left.
    """
    if any(end is None for end in ends):
        return None
    done = sorted(end for end in ends if end is not None)
    if not done or done[0] < start or done[-1] > stop:
        return None
    size = (len(done) - lead - tail) // count if count > 0 else 0
    if size >= wave > 1:
        size -= size % wave
    if size < 1:
        return None
    first = done[lead - 1] if lead > 0 else start
    marks = [first, *(done[lead - 1 + size * (i + 1)] for i in range(count))]
    durations = [b - a for a, b in itertools.pairwise(marks)]
    if any(d <= 0 for d in durations):  # a window within one tick of the clock says nothing
        return None
    return size, durations
