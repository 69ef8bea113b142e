"""Measuring a configuration again: at once when the sweep is about to decide from a noisy value,
and at the end for every trial left unstable while budget is left.

A second measurement is merged into the first, never chosen over it: a disturbed run is usually
both noisier and slower, so keeping the steadier run would bias every re-measured trial upward.
Every value counts, and the goodput of each measurement is kept as a round, whose spread is the
noise between moments that the tie rules use.
"""

from __future__ import annotations

import statistics

from tunekit.engine.budget import ADAPTIVE_BATCH_S, MAX_BATCH_S, MIN_BATCH_S
from tunekit.engine.strategies import Bench
from tunekit.models import Trial
from tunekit.plan import TrialPlan
from tunekit.plan.sizing import UNSTABLE_SPREAD
from tunekit.stats import relative_spread

#: A trial whose batches lasted under this share of the planned length is measured again.
SHORT_BATCH_SHARE = 0.5


def steady(bench: Bench, trial: Trial, batch_s: float) -> None:
    """Measure a trial once more before the sweep decides from it, merging both runs, when it
    was unstable (a noisy point must not stop a backend that scales) or its windows lasted under
    half of ``batch_s`` (it ran much faster than predicted, so they measured the clock more
    than the work)."""
    if trial.reruns or trial.status != "ok" or not trial.goodput:
        return
    short = (trial.wall_s or 0.0) < SHORT_BATCH_SHARE * bench.fitting(batch_s)
    if not trial.unstable and not short:
        return
    batch_s = min(max(ADAPTIVE_BATCH_S, trial.wall_s or 0.0), MAX_BATCH_S)
    again = bench.measure(TrialPlan(trial.backend, trial.workers), batch_s, trial.throughput)
    if again.status != "ok":
        trial.reruns += 1
        return
    merge_repeats(trial, again)


def rerun_unstable(bench: Bench) -> None:
    """Measure each unstable trial once more while budget is left, merging both runs."""
    for trial in list(bench.trials):
        if trial.reruns or not trial.unstable or trial.status != "ok" or not trial.goodput:
            continue  # stable, failed, or already measured again (by the sweep or a duel)
        plan = TrialPlan(trial.backend, trial.workers)
        batch_s = min(max(MIN_BATCH_S, trial.wall_s or MIN_BATCH_S), MAX_BATCH_S)
        again = bench.measure(plan, batch_s, throughput=trial.throughput)
        if again.status == "skipped":  # out of budget: the rest would be too
            return
        if again.status != "ok":
            trial.reruns += 1
            continue
        merge_repeats(trial, again)


def merge_repeats(trial: Trial, again: Trial) -> None:
    """Fold a second measurement of the same configuration into ``trial``: all values count,
    and its goodput is one more round. Its windows may have had another size: ``tasks`` becomes
    the mean per window, so that tasks x repeats stays the number of calls measured (the
    denominator of the error rate)."""
    measured = trial.tasks * trial.repeats + again.tasks * again.repeats
    trial.throughput_values = trial.throughput_values + again.throughput_values
    trial.throughput = statistics.median(trial.throughput_values)
    trial.throughput_spread = relative_spread(trial.throughput_values)
    trial.goodput_values = trial.goodput_values + again.goodput_values
    trial.goodput = statistics.median(trial.goodput_values)
    trial.goodput_spread = relative_spread(trial.goodput_values)
    trial.rounds = trial.rounds + again.rounds
    trial.repeats += again.repeats
    trial.tasks = round(measured / trial.repeats) if trial.repeats else trial.tasks
    trial.errors += again.errors
    trial.error_rate = trial.errors / measured if measured else 0.0
    trial.first_error = trial.first_error or again.first_error
    trial.reruns += 1
    trial.unstable = trial.goodput_spread > UNSTABLE_SPREAD
