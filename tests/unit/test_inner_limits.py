"""Native thread pools (BLAS) and the pools that oversubscribe them: which pools are compared,
the ABBA rounds that compare them, and the advice on table inputs (no process, no clock)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import pytest

from tunekit.advice.inner_limits import advise_inner_limits, limit_effect
from tunekit.advice.recommend import recommend
from tunekit.advice.sanity import implausible_speedup
from tunekit.engine.strategies.inner_limits import compare_inner_limits, may_limit
from tunekit.models import (
    InnerLimit,
    Machine,
    NativePool,
    Recommendation,
    Report,
    Trial,
    Workload,
)
from tunekit.native_threads import package_of
from tunekit.plan import TrialPlan
from tunekit.plan.inner_limits import inner_limit_plans, inner_threads_for

BLAS = NativePool(library="openblas", api="blas", threads=2, version="0.3", package="numpy")
NUMPY = Workload(is_coroutine=False, kind="cpu-bound", native_pools=[BLAS])
MACHINE = Machine(cpus=2, python="3.11", platform="linux", capacity_cores=2.0)


def ok(backend: str, workers: int, goodput: float, inner: int | None = None) -> Trial:
    return Trial(
        backend=backend,
        workers=workers,
        status="ok",
        tasks=100,
        repeats=3,
        throughput=goodput,
        goodput=goodput,
        goodput_values=[goodput] * 3,
        inner_threads=inner,
    )


def comparison(
    backend: str, workers: int, unlimited: list[float], limited: list[float]
) -> InnerLimit:
    """An ABBA comparison whose rounds measured ``unlimited`` and ``limited`` goodput."""
    trials = [ok(backend, workers, v) for v in unlimited]
    trials += [ok(backend, workers, v, inner=1) for v in limited]
    ratio = statistics.median(limited) / statistics.median(unlimited)
    return InnerLimit(backend, workers, 1, 2, unlimited, limited, ratio, trials)


def report(trials: list[Trial], limits: list[InnerLimit], workload: Workload = NUMPY) -> Report:
    rec = recommend(trials, workload, MACHINE)
    return Report("t:f", MACHINE, workload, trials, rec, inner_limits=limits)


def advised(trials: list[Trial], limits: list[InnerLimit]) -> Recommendation:
    measured = report(trials, limits)
    advise_inner_limits(measured.recommendation, measured, MACHINE.cpus)
    return measured.recommendation


def test_package_of_names_the_wheel_that_bundles_the_library() -> None:
    """GIVEN library paths as threadpoolctl reports them THEN the package is the folder after
    site-packages, without the wheel's ``.libs``."""
    path = "/v/lib/python3.11/site-packages/numpy.libs/libscipy_openblas64_-32a4b2a6.so"
    assert package_of(path) == "numpy"
    assert package_of("/usr/lib/x86_64-linux-gnu/libgomp.so.1") is None


@pytest.mark.parametrize(
    ("cores", "workers", "expected"), [(2, 1, 2), (2, 2, 1), (2, 4, 1), (8, 2, 4), (8, 3, 2)]
)
def test_the_limit_keeps_the_workers_threads_within_the_cores(
    cores: int, workers: int, expected: int
) -> None:
    """GIVEN a pool of ``workers`` on ``cores`` THEN each worker gets cores // workers, at least
    one."""
    assert inner_threads_for(cores, workers) == expected


def test_pools_are_compared_at_the_cores_and_the_best_size_where_the_limit_is_fewer() -> None:
    """GIVEN process and thread curves on 2 cores with 2 BLAS threads THEN each is compared at 2
    workers (its best x4 too, for threads), never at 1 (the limit would be 2, no change), and
    the event loop is not compared."""
    trials = [
        ok("sequential", 1, 100),
        ok("process", 1, 90),
        ok("process", 2, 80),
        ok("thread", 2, 120),
        ok("thread", 4, 150),
        ok("asyncio", 2, 120),
    ]
    pairs = inner_limit_plans(trials, 2, 2, ["sequential", "process", "thread", "asyncio"])
    assert pairs == [
        (TrialPlan("process", 2), TrialPlan("process", 2, 1)),
        (TrialPlan("thread", 2), TrialPlan("thread", 2, 1)),
        (TrialPlan("thread", 4), TrialPlan("thread", 4, 1)),
    ]
    assert inner_limit_plans(trials, 1, 2, ["process"]) == []  # one BLAS thread: nothing to limit


@dataclass
class CannedBench:
    """A bench that answers each plan (limited or not) with the next of its canned trials."""

    canned: dict[int | None, list[Trial]]
    trials: list[Trial] = field(default_factory=list)
    measured: list[TrialPlan] = field(default_factory=list)

    def measure(
        self, plan: TrialPlan, batch_s: float, throughput: float | None = None, grid: bool = False
    ) -> Trial:
        self.measured.append(plan)
        queue = self.canned[plan.inner_threads]
        if not queue:
            return Trial(plan.backend, plan.workers, "skipped", "out of budget")
        return queue.pop(0)

    def adaptive_batch(self, expected: int) -> float:
        return 0.1

    def grid_batch(self, trials_left: int) -> float:
        return 0.2

    def fitting(self, batch_s: float) -> float:
        return batch_s

    def recommended(self) -> Trial | None:
        return None


@pytest.mark.parametrize(
    ("threads", "cores", "backends", "expected"),
    [
        (2, 2, ["sequential", "process"], True),
        (2, 2, ["sequential", "asyncio"], False),  # no pool that runs BLAS in this machine
        (1, 2, ["process"], False),  # one BLAS thread: nothing to limit
        (4, 1, ["process", "thread"], False),  # one core: no pool of computing workers gains
    ],
)
def test_budget_is_kept_for_a_comparison_only_when_one_can_run(
    threads: int, cores: int, backends: list[str], expected: bool
) -> None:
    assert may_limit(threads, cores, backends) is expected


def test_rounds_are_interleaved_unlimited_limited_limited_unlimited() -> None:
    """GIVEN a pair of plans THEN they are measured ABBA, and the ratio is of the medians."""
    bench = CannedBench(
        {
            None: [ok("process", 2, 80), ok("process", 2, 100)],
            1: [ok("process", 2, v, 1) for v in (180, 200)],
        }
    )
    pair = (TrialPlan("process", 2), TrialPlan("process", 2, 1))
    (found,) = compare_inner_limits(bench, [pair], 2)
    assert [p.inner_threads for p in bench.measured] == [None, 1, 1, None]
    assert (found.unlimited, found.limited) == ([80, 100], [180, 200])
    assert found.ratio == pytest.approx(190 / 90)
    assert limit_effect(found) == "gain"


def test_a_round_out_of_budget_ends_the_pair() -> None:
    """GIVEN no limited round fits THEN the pair has no ratio, and the advice says so."""
    bench = CannedBench({None: [ok("process", 2, 80)], 1: []})
    (found,) = compare_inner_limits(
        bench, [(TrialPlan("process", 2), TrialPlan("process", 2, 1))], 2
    )
    assert found.ratio is None
    assert limit_effect(found) == "unmeasured"
    trials = [ok("sequential", 1, 100), ok("process", 2, 80)]
    rec = advised(trials, [found])
    assert (
        "numpy's openblas runs 2 threads per process; no pool was measured with them limited "
        "(out of budget)" in rec.reasons
    )


def test_a_limited_pool_that_beats_the_choice_becomes_the_recommendation() -> None:
    """GIVEN sequential at 100/s, process x2 at 80/s unlimited and 180-200/s limited to 1 BLAS
    thread THEN the recommendation is process x2 with 1 native thread, and its reasons say the
    BLAS threads and the measured gain, with both medians."""
    trials = [ok("sequential", 1, 100), ok("process", 2, 80), ok("thread", 2, 90)]
    rec = advised(trials, [comparison("process", 2, [80, 82], [180, 200])])
    assert (rec.model, rec.pool_size, rec.inner_threads) == ("process", 2, 1)
    assert rec.speedup == pytest.approx(1.9)
    assert (
        rec.reasons[0]
        == "process x2, 1 native thread reached 190 calls/s, 1.90x sequential (100 calls/s)"
    )
    assert rec.reasons[1] == (
        "limit the native threads: numpy's openblas runs 2 threads per process; limited to 1 "
        "per worker, process x2 reached 2.35x the unlimited (190 vs 81 calls/s, medians of 2 "
        "and 2 interleaved rounds); in each worker, threadpoolctl.threadpool_limits(limits=1)"
    )


def test_a_gain_that_does_not_beat_the_choice_is_reported_not_chosen() -> None:
    """GIVEN thread x2 at 300/s and limiting process x2 gaining from 80 to 120/s THEN threads
    stay the recommendation, and the limit's effect is among the reasons."""
    trials = [ok("sequential", 1, 100), ok("process", 2, 80), ok("thread", 2, 300)]
    rec = advised(trials, [comparison("process", 2, [80, 80], [120, 120])])
    assert (rec.model, rec.inner_threads) == ("thread", None)
    assert any(
        "process x2 reached 1.50x the unlimited (120 vs 80 calls/s" in r for r in rec.reasons
    )


def test_no_difference_beyond_the_noise_is_said_so() -> None:
    """GIVEN limited and unlimited rounds that overlap THEN no limit is recommended, and the
    reason says there was no difference beyond the noise."""
    trials = [ok("sequential", 1, 100), ok("thread", 2, 180), ok("process", 2, 190)]
    rec = advised(trials, [comparison("process", 2, [190, 200], [195, 185])])
    assert rec.inner_threads is None
    assert any(
        (
            "process x2 reached 0.97x the unlimited (190 vs 195 calls/s, medians of 2 and 2 "
            "interleaved rounds): no difference beyond the 5% noise"
        )
        in r
        for r in rec.reasons
    )


def test_no_pool_helps_when_blas_already_uses_every_core() -> None:
    """GIVEN sequential at 200/s (BLAS on both cores) and every pool below it, limited or not
    THEN the recommendation stays sequential, and says no pool helps, with the numbers."""
    trials = [ok("sequential", 1, 200), ok("process", 2, 100), ok("thread", 2, 150)]
    rec = advised(trials, [comparison("process", 2, [100, 104], [190, 194])])
    assert rec.model == "sequential"
    assert rec.reasons[1] == (
        "no pool helps: numpy's openblas runs 2 threads per process, so one sequential call "
        "already uses the 2 cores; the best pool compared, process x2, reached 0.96x sequential "
        "(192 vs 200 calls/s, medians) with or without the limit, within the 4% noise"
    )


def test_a_pool_beyond_sequential_is_never_called_no_help() -> None:
    """GIVEN sequential chosen from the sweep, and a comparison whose pool measured 1.85x it,
    with the limit making no difference (its rounds overlap) THEN sequential stays, and the
    reasons do not say that no pool helps."""
    trials = [ok("sequential", 1, 100), ok("process", 2, 50)]
    rec = advised(trials, [comparison("process", 2, [170, 200], [180, 190])])
    assert rec.model == "sequential"
    assert not any(r.startswith("no pool helps") for r in rec.reasons)
    assert any("no difference beyond the" in r for r in rec.reasons)


def test_without_native_pools_the_advice_is_unchanged() -> None:
    """GIVEN a workload with no native pool THEN nothing is added."""
    trials = [ok("sequential", 1, 100), ok("process", 2, 190)]
    plain = Workload(is_coroutine=False, kind="cpu-bound")
    measured = report(trials, [], plain)
    before = list(measured.recommendation.reasons)
    advise_inner_limits(measured.recommendation, measured, 2)
    assert measured.recommendation.reasons == before


def test_a_speedup_beyond_the_workers_is_possible_with_native_pools() -> None:
    """GIVEN an oversubscribed sequential baseline and a limited pool 4x faster on 2 CPUs THEN
    the sanity check does not call it impossible; without native pools it does."""
    baseline, fast = ok("sequential", 1, 50), ok("process", 2, 200, inner=1)
    assert implausible_speedup(fast, baseline, NUMPY, 2, 0.05) is None
    plain = Workload(is_coroutine=False, kind="cpu-bound")
    assert implausible_speedup(fast, baseline, plain, 2, 0.05) is not None


def test_a_limited_trial_round_trips_through_the_report() -> None:
    """GIVEN a report with native pools and a comparison THEN its JSON rebuilds the same."""
    measured = report([ok("sequential", 1, 100)], [comparison("process", 2, [80], [180])])
    again = Report.from_json(measured.to_json())
    assert again.inner_limits == measured.inner_limits
    assert again.workload.native_pools == [BLAS]
    assert again.inner_limits[0].trials[1].key == "process x2, 1 native thread"
