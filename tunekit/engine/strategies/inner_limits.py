"""Measuring pools with their native thread pools (BLAS, OpenMP) as they are and limited,
in interleaved rounds, so that the limit's effect is measured side by side.

The rounds run unlimited, limited, limited, unlimited (ABBA): a drift in the machine's load
during the four weighs on both kinds alike, where AB would credit it to the second.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from tunekit.engine.budget import ADAPTIVE_BATCH_S
from tunekit.engine.strategies import Bench
from tunekit.engine.strategies.adaptive import ADAPTIVE_EXTRA_TRIALS
from tunekit.models import InnerLimit, Trial, Workload
from tunekit.plan import TrialPlan
from tunekit.plan.inner_limits import LIMITED_BACKENDS, inner_limit_plans


def may_limit(native_threads: int, cores: int, backends: Sequence[str]) -> bool:
    """Whether a comparison can follow the sweep (and needs budget kept for it): native pools
    of several threads, cores to share among workers, and a pool that runs them here."""
    return native_threads > 1 and cores >= 2 and any(b in LIMITED_BACKENDS for b in backends)


#: Trials of one comparison: the rounds unlimited, limited, limited, unlimited.
ABBA_ROUNDS = 4


def reserve_share(backends: Sequence[str]) -> float:
    """The share of the budget to keep for the comparison after the sweep: its trials (4 for
    each limited backend at the cores, the size it is usually best at when it computes) among
    those of the whole analysis, the sweep expecting two per backend and
    ``ADAPTIVE_EXTRA_TRIALS`` besides (``strategies.adaptive``). Six built-ins: 8 of 28."""
    compared = ABBA_ROUNDS * sum(name in backends for name in LIMITED_BACKENDS)
    swept = 2 * len(backends) + ADAPTIVE_EXTRA_TRIALS
    return compared / (compared + swept)


def limit_native_pools(
    bench: Bench, workload: Workload, cores: int, backends: Sequence[str]
) -> list[InnerLimit]:
    """When the target runs native thread pools, the process and thread pools measured with
    them as they are and limited to ``cores`` in all (``plan.inner_limits``)."""
    threads = workload.native_threads
    if threads <= 1:
        return []
    return compare_inner_limits(
        bench, inner_limit_plans(bench.trials, threads, cores, backends), threads
    )


def compare_inner_limits(
    bench: Bench, pairs: Sequence[tuple[TrialPlan, TrialPlan]], native_threads: int
) -> list[InnerLimit]:
    """Each (unlimited, limited) pair of plans measured in ABBA rounds; a pair stops at the
    first round that did not measure (out of budget, failed)."""
    found = []
    for unlimited, limited in pairs:
        comparison = InnerLimit(
            backend=unlimited.backend,
            workers=unlimited.workers,
            inner_threads=limited.inner_threads or 1,
            native_threads=native_threads,
        )
        hints = {
            unlimited.inner_threads: _swept(bench.trials, unlimited),
            limited.inner_threads: None,
        }
        for plan in (unlimited, limited, limited, unlimited):
            trial = bench.measure(plan, bench.fitting(ADAPTIVE_BATCH_S), hints[plan.inner_threads])
            comparison.trials.append(trial)
            if trial.status != "ok" or not trial.goodput:
                break
            hints[plan.inner_threads] = trial.throughput
            rounds = comparison.unlimited if plan.inner_threads is None else comparison.limited
            rounds.append(trial.goodput)
        if comparison.unlimited and comparison.limited:
            median = statistics.median
            comparison.ratio = median(comparison.limited) / median(comparison.unlimited)
        found.append(comparison)
    return found


def _swept(trials: Sequence[Trial], plan: TrialPlan) -> float | None:
    """The sweep's throughput of the same configuration, to size its first round."""
    same = [t for t in trials if t.key == f"{plan.backend} x{plan.workers}" and t.usable]
    return same[-1].throughput if same else None
