"""Small statistics over measurements: spread, latency percentiles, saturated throughput."""

from __future__ import annotations

import bisect
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


def saturated_throughput(
    ends: Sequence[float | None], start: float, stop: float, in_flight: int
) -> float:
    """Tasks/s of a batch while every worker was busy.

    A pool given ``len(ends)`` tasks from ``start`` keeps ``in_flight`` of them running until
    the queue is empty, which happens at the ``len(ends) - in_flight``-th completion; after
    it, workers run out of work one by one. Counting only that window, the batch's tail does
    not count against large pools (with 6 tasks per worker it cost a pool of 16 about 8%).
    Tasks / (stop - start) when an end time is missing or not on this clock (a remote
    worker), or when the window holds fewer completions than ``in_flight``.
    """
    tasks = len(ends)
    whole = tasks / (stop - start) if stop > start else 0.0
    full = tasks - in_flight
    if full < max(in_flight, 1) or any(end is None for end in ends):
        return whole
    done = sorted(end for end in ends if end is not None)
    if done[0] < start or done[-1] > stop:
        return whole
    last = done[full - 1]
    window = last - start
    counted = bisect.bisect_right(done, last)  # with the tasks that ended at the same instant
    return counted / window if window > 0 else whole
