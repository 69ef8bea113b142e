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


def success_rates(
    successes: Sequence[int], durations: Sequence[float], error_rate: float, precision: float
) -> tuple[list[float], float]:
    """Successful calls per second of consecutive windows, merged until each holds enough
    successes to be told from chance, and the spread to judge them by.

    A window is a fixed number of completions, so when some calls fail, how many of them
    succeeded is random: binomially, the count of ``k`` successes at error rate ``e`` varies
    by sqrt(e / k) of itself. A window needs ``k >= e / precision**2`` for that to stay
    within ``precision`` (a window of 800 calls at 95% errors held 0-60 successes, and the
    median of such rates read 549/s from a service that serves 400). Windows are merged in
    order until each group holds that many, a short remainder joins the group before it. The
    spread is the groups' own, and at least the counting noise of the smallest group. With
    no errors every window counts as it is.
    """
    if not successes:
        return [], 0.0
    needed = error_rate / precision**2
    groups: list[tuple[int, float]] = []
    count, seconds = 0, 0.0
    for good, duration in zip(successes, durations, strict=True):
        count, seconds = count + good, seconds + duration
        if not error_rate or (count > 0 and count >= needed):
            groups.append((count, seconds))
            count, seconds = 0, 0.0
    if seconds:
        if groups:
            last_count, last_seconds = groups.pop()
            count, seconds = count + last_count, seconds + last_seconds
        groups.append((count, seconds))
    rates = [c / s if s > 0 else 0.0 for c, s in groups]
    fewest = min(c for c, _ in groups)
    counting = (error_rate / fewest) ** 0.5 if error_rate and fewest else 0.0
    return rates, max(relative_spread(rates), counting)
