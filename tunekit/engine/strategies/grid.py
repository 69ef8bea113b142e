"""The exhaustive grid: every backend at every size 1, 2, 4... max_workers, the budget shared
evenly; the reference the adaptive sweep is measured against (``benchmarks/accuracy.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from tunekit.engine.strategies import Bench, ruled_out
from tunekit.plan.sizing import plan_sweep
from tunekit.plan.sweep import Contender


def grid_sweep(bench: Bench, contenders: Sequence[Contender], max_workers: int) -> None:
    """Measure every configuration of ``contenders`` up to ``max_workers``, by pool size."""
    plans = plan_sweep([(c.name, c.scales) for c in contenders], max_workers)
    for index, plan in enumerate(plans):
        if ruled_out(bench.trials, plan):
            continue
        batch_s = bench.grid_batch(len(plans) - index)
        bench.trials.append(bench.measure(plan, batch_s, grid=True))
