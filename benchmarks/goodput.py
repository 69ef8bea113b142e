"""Goodput: successful calls per second, by which the benchmark ranks and scores everything.

A trial's throughput counts every call that ended, raised or not: a service that refuses calls
at once makes a large pool look fast. The engine is gaining ``Trial.goodput`` and
``Trial.goodput_values`` (and ``error_rate`` as a field); until it has them, they are computed
here the way it will: throughput x (1 - error rate), error rate = errors / (tasks x repeats).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tunekit.models import Trial


def error_rate(trial: Trial) -> float:
    """Share of the measured calls that raised (a property of ``Trial`` today, soon a field)."""
    rate: Any = getattr(trial, "error_rate", None)
    if isinstance(rate, int | float):
        return float(rate)
    measured = trial.tasks * max(trial.repeats, 1)
    return trial.errors / measured if measured else 0.0


def goodput_of(trial: Trial) -> float | None:
    """Successful calls per second: ``trial.goodput`` when the engine has it, else computed."""
    value: Any = getattr(trial, "goodput", None)
    if isinstance(value, int | float):
        return float(value)
    if trial.throughput is None:
        return None
    return trial.throughput * (1 - error_rate(trial))


def goodput_values(trial: Trial) -> list[float]:
    """Every repeat's goodput: ``trial.goodput_values`` when the engine has them."""
    values: Any = getattr(trial, "goodput_values", None)
    if isinstance(values, list) and values:
        return [float(v) for v in values]
    kept = 1 - error_rate(trial)
    return [v * kept for v in trial.throughput_values]


def merged_error_rate(trials: Sequence[Trial]) -> float:
    """Share of the calls of all ``trials`` that raised."""
    measured = sum(t.tasks * max(t.repeats, 1) for t in trials)
    return sum(t.errors for t in trials) / measured if measured else 0.0
