"""Native thread pools (BLAS, OpenMP) and the pools of workers that oversubscribe them.

From the interleaved rounds of ``InnerLimit`` comparisons: whether limiting each worker's
native threads gained beyond the noise, the recommendation that follows (the limited
configuration, when it beats the one chosen), and the words for it, with the numbers.
Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from typing import Literal

from tunekit.advice import reasons as why
from tunekit.advice.rules import MIN_NOISE, goodput, noise_band
from tunekit.models import InnerLimit, NativePool, Recommendation, Report, Trial
from tunekit.stats import relative_spread
from tunekit.units import format_rate

Effect = Literal["gain", "loss", "none", "unmeasured"]


def limit_noise(comparison: InnerLimit) -> float:
    """The share the medians must differ by: twice the larger spread of either kind's rounds,
    at least ``MIN_NOISE`` (the tie rules' floor)."""
    spread = max(relative_spread(comparison.unlimited), relative_spread(comparison.limited))
    return max(MIN_NOISE, 2 * spread)


def limit_effect(comparison: InnerLimit) -> Effect:
    """What limiting did: a gain or a loss when the medians differ beyond ``limit_noise`` and
    every round of one kind measured beyond every round of the other; else none."""
    limited, unlimited = comparison.limited, comparison.unlimited
    if comparison.ratio is None or not limited or not unlimited:
        return "unmeasured"
    noise = limit_noise(comparison)
    if comparison.ratio > 1 + noise and min(limited) > max(unlimited):
        return "gain"
    if comparison.ratio < 1 / (1 + noise) and max(limited) < min(unlimited):
        return "loss"
    return "none"


def pools_phrase(pools: Sequence[NativePool]) -> str:
    """``numpy's openblas runs 2 threads per process``."""
    names = " and ".join(dict.fromkeys(p.name for p in pools))
    threads = max(p.threads for p in pools)
    verb = "runs" if len(pools) == 1 else "run"
    return f"{names} {verb} {threads} thread{'s' if threads != 1 else ''} per process"


def effect_line(comparison: InnerLimit, pools: Sequence[NativePool]) -> str:
    """One comparison in words: the limit, the ratio, both medians and the rounds."""
    c = comparison
    where = "per worker" if c.backend != "thread" else "for the whole process (threads share it)"
    limited, unlimited = statistics.median(c.limited), statistics.median(c.unlimited)
    verdict = {
        "gain": "",
        "loss": ": limiting costs here",
        "none": f": no difference beyond the {limit_noise(c):.0%} noise",
        "unmeasured": "",
    }[limit_effect(c)]
    return (
        f"{pools_phrase(pools)}; limited to {c.inner_threads} {where}, {c.key} reached "
        f"{c.ratio or 0.0:.2f}x the unlimited ({format_rate(limited)} vs "
        f"{format_rate(unlimited)} calls/s, medians of {len(c.limited)} and {len(c.unlimited)} "
        f"interleaved rounds){verdict}"
    )


def _median_trial(comparison: InnerLimit) -> Trial:
    """The configuration to recommend, as its limited rounds measured it: the round at the
    median (the lower of the two middle ones) for its other numbers, with the medians of the
    rounds' goodput and throughput, which the comparison's words give."""
    limited = [t for t in comparison.trials if t.inner_threads is not None and t.usable]
    ordered = sorted(limited, key=goodput)
    rates = [t.throughput for t in limited if t.throughput is not None]
    return dataclasses.replace(
        ordered[(len(ordered) - 1) // 2],
        goodput=statistics.median(comparison.limited),
        throughput=statistics.median(rates) if rates else None,
        rounds=list(comparison.limited),
    )


def advise_inner_limits(rec: Recommendation, measured_in: Report, cores: int) -> None:
    """Add to ``rec`` what the native pools of the report's workload did, from its
    ``inner_limits``: switch it to a limited configuration that beat its choice beyond the
    noise (or keep its choice, with the limit that gained there), say every comparison's
    numbers, and say when no pool helps at all."""
    comparisons = measured_in.inner_limits
    pools = measured_in.workload.native_pools
    trials = measured_in.trials
    baseline = next((t for t in trials if t.backend == "sequential" and t.usable), None)
    if not pools or rec.model is None:
        return
    measured = [c for c in comparisons if c.ratio is not None]
    if not measured:
        rec.reasons.append(
            f"{pools_phrase(pools)}; no pool was measured with them limited"
            + (" (out of budget)" if comparisons else f" (the limit to {cores} cores is no fewer)")
        )
        return
    gains = [c for c in measured if limit_effect(c) == "gain"]
    best = max(gains, key=lambda c: statistics.median(c.limited), default=None)
    lines = [effect_line(c, pools) for c in measured]
    if best is not None:
        same = (best.backend, best.workers) == (rec.model, rec.pool_size)
        beats = statistics.median(best.limited) > (rec.goodput or 0.0) * (1 + limit_noise(best))
        if same or beats:
            _choose(rec, _median_trial(best), baseline)
            lines.remove(effect_line(best, pools))
            lines.insert(
                0,
                f"limit the native threads: {effect_line(best, pools)}; in each worker, "
                f"threadpoolctl.threadpool_limits(limits={best.inner_threads})",
            )
    rec.reasons[1:1] = lines
    if rec.model == "sequential" and baseline is not None and goodput(baseline):
        rec.reasons[1:1] = no_pool_helps(measured, pools, baseline, cores)


def _choose(rec: Recommendation, trial: Trial, baseline: Trial | None) -> None:
    rec.model, rec.pool_size, rec.inner_threads = trial.backend, trial.workers, trial.inner_threads
    rec.throughput, rec.goodput = trial.throughput, trial.goodput
    rec.chunksize = trial.chunksize if trial.backend == "process" else None
    rec.speedup = goodput(trial) / goodput(baseline) if baseline and goodput(baseline) else None
    rec.tied, rec.still_scaling = [], False
    rec.reasons[0] = why.headline(trial, baseline, rec.speedup)


def no_pool_helps(
    measured: Sequence[InnerLimit], pools: Sequence[NativePool], baseline: Trial, cores: int
) -> list[str]:
    """Sequential calls won, and no compared pool, limited or not, beat them beyond the noise:
    one call's BLAS already uses the cores. Nothing when one did (the recommendation kept
    sequential calls for another reason, which its own reasons give)."""
    best = max(measured, key=lambda c: max(statistics.median(c.limited), _unlimited(c)))
    top = max(statistics.median(best.limited), _unlimited(best))
    noise = max(limit_noise(best), noise_band(baseline))
    ratio = top / goodput(baseline)
    if ratio > 1 + noise:
        return []
    threads = max(p.threads for p in pools)
    uses = f"the {cores} cores" if threads >= cores else f"{threads} of the {cores} cores"
    return [
        f"no pool helps: {pools_phrase(pools)}, so one sequential call already uses {uses}; "
        f"the best pool compared, {best.key}, reached {ratio:.2f}x sequential ({format_rate(top)} "
        f"vs {format_rate(goodput(baseline))} calls/s, medians) with or without the limit, "
        f"within the {noise:.0%} noise"
    ]


def _unlimited(comparison: InnerLimit) -> float:
    return statistics.median(comparison.unlimited) if comparison.unlimited else 0.0
