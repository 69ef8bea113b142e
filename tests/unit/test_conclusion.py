"""The conclusion of an analysis: which stops settle a backend's growth (``SETTLED_STOPS``),
so that the recommendation does not claim a larger pool may be faster."""

from __future__ import annotations

import pytest

from tunekit.engine.conclusion import conclude
from tunekit.models import Machine, Recommendation, Report, Trial, Workload
from tunekit.plan.stops import Stop
from tunekit.plan.sweep import Contender
from tunekit.plugins import get_plugin_manager


def trial(workers: int, goodput: float, error_rate: float = 0.0, backend: str = "thread") -> Trial:
    return Trial(
        backend=backend,
        workers=workers,
        status="ok",
        tasks=100,
        repeats=3,
        throughput=goodput / (1 - error_rate) if error_rate < 1 else 5000.0,
        throughput_spread=0.01,
        goodput=goodput,
        goodput_spread=0.01,
        error_rate=error_rate,
        errors=round(300 * error_rate),
        first_error="ServiceBusy: busy" if error_rate else None,
    )


@pytest.mark.parametrize(
    ("stop", "still_scaling"),
    [
        # every call of 16 workers was refused: the curve itself ended the growth
        (Stop("errors", "thread x16", "thread x8"), False),
        # the user's cap ended it: a larger pool may still be faster
        (Stop("limit", "thread x8", "thread x2", "--max-workers 8", gaining=True), True),
    ],
)
def test_a_stop_by_errors_settles_the_growth(stop: Stop, still_scaling: bool) -> None:
    # GIVEN threads gaining up to 8 workers, the largest pool with calls that succeeded
    trials = [trial(1, 50, backend="sequential"), trial(2, 100), trial(8, 380), trial(16, 0, 1.0)]
    report = Report(
        target="t:f",
        machine=Machine(cpus=2, python="3.11", platform="linux", capacity_cores=2.0),
        workload=Workload(is_coroutine=False, kind="io-bound"),
        trials=trials,
        recommendation=Recommendation(None, None, None, None),
    )
    contenders = [Contender("sequential", scales=False), Contender("thread", cheap=True)]
    # WHEN the analysis concludes with the sweep's stop for threads
    conclude(report, {"thread": stop}, contenders, get_plugin_manager(), None)
    # THEN the recommendation is thread x8, still scaling only when a limit stopped it
    rec = report.recommendation
    assert (rec.model, rec.pool_size, rec.still_scaling) == ("thread", 8, still_scaling)
