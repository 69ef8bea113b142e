"""Small statistics over repeated measurements: medians, spread and latency percentiles."""

from __future__ import annotations

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
