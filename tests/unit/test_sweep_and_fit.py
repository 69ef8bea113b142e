"""The adaptive sweep's decisions and the scaling-law fit, over synthetic numbers (no timing)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tunekit.advice.recommend import recommend
from tunekit.advice.scaling import fit_usl
from tunekit.engine.strategies.reruns import merge_repeats
from tunekit.models import Latency, Machine, Trial, Workload
from tunekit.plan.sizing import TrialPlan, predicted_throughput
from tunekit.plan.sweep import AdaptiveSweep, Contender, knee_gap

BUILT_INS = [
    Contender("sequential", scales=False),
    Contender("thread"),
    Contender("process"),
    Contender("asyncio", via="thread"),
    Contender("tornado", via="thread"),
]
#: For a coroutine function the event loops run it themselves: no backend follows another.
FOR_COROUTINES = [
    Contender("sequential", scales=False),
    Contender("thread"),
    Contender("process"),
    Contender("asyncio"),
    Contender("tornado"),
]


def t(
    workers: int,
    throughput: float,
    spread: float = 0.01,
    backend: str = "thread",
    latency: float | None = None,
) -> Trial:
    return Trial(
        backend=backend,
        workers=workers,
        status="ok",
        tasks=100,
        repeats=3,
        throughput=throughput,
        throughput_spread=spread,
        latency_s=Latency(latency, latency, latency) if latency is not None else None,
    )


Curve = Callable[[str, int], float]


def simulate(
    curve: Curve,
    contenders: list[Contender] = BUILT_INS,
    *,
    max_workers: int = 32,
    limit: int = 32,
    is_coroutine: bool = False,
    cores: float | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Run the planner against a known throughput curve (each trial keeping ``cores`` busy,
    if given): the trials it asks for, and why each backend stopped."""
    planner = AdaptiveSweep(
        contenders, max_workers=max_workers, scaling_limit=limit, is_coroutine=is_coroutine
    )
    trials: list[Trial] = []
    while (plan := planner.next_plan(trials)) is not None:
        assert len(trials) < 60, "the sweep does not end"
        trial = t(plan.workers, curve(plan.backend, plan.workers), backend=plan.backend)
        if cores is not None:
            trial.cpu_s, trial.wall_s = cores * 0.1, 0.1
        trials.append(trial)
    return [trial.key for trial in trials], planner.stops


def gil_bound(backend: str, n: int) -> float:
    """Pure Python on 2 free cores: only processes scale, and only to 2."""
    return 100.0 * min(n, 2) if backend == "process" else 100.0


def service_limited(backend: str, n: int) -> float:
    """Every backend waits on a service that serves 8 requests at once."""
    return 100.0 * min(n, 8)


def mixed(backend: str, n: int) -> float:
    """CPU and waiting: threads stop at 8 (the GIL), processes go on to 24 (the cores)."""
    return 100.0 * min(n, 8 if backend != "process" else 24)


def overhead_bound(backend: str, n: int) -> float:
    """A sub-microsecond task: every pool costs more than the call."""
    return 1e6 if backend == "sequential" else 3e4 * min(n, 2)


@pytest.mark.parametrize(
    ("curve", "limit", "expected"),
    [
        # GIL-bound: the screen shows threads do not scale; processes stop at the free cores;
        # the event loops (threads underneath) are measured once, at the leader's knee
        (gil_bound, 2, "sequential x1, thread x2, process x2, asyncio x2, tornado x2"),
        # a service limit: the cheapest tied backend (threads) leads to its knee; process
        # ties there and gets one doubling, which gains nothing; the loops tie and stop
        (
            service_limited,
            32,
            "sequential x1, thread x2, process x2, thread x4, thread x8, thread x16, "
            "asyncio x8, tornado x8, process x8, process x16",
        ),
        # threads stop at 8; process ties there and keeps growing while it pays
        (
            mixed,
            32,
            "sequential x1, thread x2, process x2, thread x4, thread x8, thread x16, "
            "asyncio x8, tornado x8, process x8, process x16, process x32",
        ),
        # overhead-bound: nothing scales, and every backend is measured once
        (overhead_bound, 2, "sequential x1, thread x2, process x2, asyncio x2, tornado x2"),
    ],
)
def test_the_sweep_measures_what_it_needs(curve: Curve, limit: int, expected: str) -> None:
    assert ", ".join(simulate(curve, limit=limit)[0]) == expected


def test_a_limit_outside_the_process_stops_tied_challengers_of_the_leaders_family() -> None:
    # asyncio leads and stops gaining with 0.2 cores busy: the service is the limit, and
    # another event loop would meet it in the same way
    measured, stops = simulate(service_limited, FOR_COROUTINES, is_coroutine=True, cores=0.2)
    assert "tornado x16" not in measured
    assert stops["tornado"] == (
        "measured less: tornado x8 ties with 1.00x asyncio x8 (800 tasks/s), and asyncio's pool "
        "stopped gaining at asyncio x16 while its processes kept only 0.20 cores busy: the "
        "limit is outside them (a service, a lock, the network), so a larger pool would not "
        "help another event loop either"
    )
    # threads and processes reach the service another way: they are not spared the doubling
    assert {"thread x16", "process x16"} <= set(measured)
    # ... nor is a tied process pool when a core is busy (the GIL, say)
    measured, _ = simulate(mixed, cores=1.0)
    assert "process x32" in measured


def crossing(backend: str, n: int) -> float:
    """Threads stall at 8 (670 tasks/s); a process pool trails them there but goes on."""
    if backend == "process":
        return {2: 180.0, 8: 630.0, 16: 730.0, 32: 740.0}.get(n, 90.0 * n)
    return 84.0 * min(n, 8)


def test_a_backend_behind_a_stalled_leader_may_still_cross_it() -> None:
    measured, stops = simulate(crossing, cores=0.2)
    assert {"process x16", "process x32"} <= set(measured)
    assert stops["process"].startswith("stopped growing: process x32 gained +1%")
    # ... but not when the leader stopped at a limit (the cores), nor far behind it
    measured, _ = simulate(lambda b, n: crossing(b, n) if b == "process" else 84.0 * n, limit=8)
    assert "process x16" not in measured
    measured, _ = simulate(lambda b, n: 0.8 * crossing(b, n) if b == "process" else crossing(b, n))
    assert "process x16" not in measured


def test_every_backend_says_why_it_stopped() -> None:
    _, stops = simulate(mixed)
    follows = (
        "measured less: it runs plain functions on a thread pool, so it can only tie with "
        "thread or trail it; {} x8 reached 1.00x thread x8 (800 tasks/s)"
    )
    assert stops == {
        "sequential": "runs one task at a time",
        "thread": "stopped growing: thread x16 gained +0% over thread x8 (noise 5%)",
        "asyncio": follows.format("asyncio"),
        "tornado": follows.format("tornado"),
        "process": "reached --max-workers 32",
    }
    _, stops = simulate(gil_bound, limit=2)
    assert stops["thread"] == "does not scale: thread x2 reached 1.00x sequential x1 (noise 5%)"
    assert stops["process"] == (
        "reached the 2 workers the free cores allow for work that needs a core each: larger "
        "pools would only oversubscribe them"
    )
    assert stops["asyncio"] == (
        "measured less: asyncio x2 reached 100 tasks/s, 0.50x process x2 (200 tasks/s), "
        "beyond the 5% noise"
    )


def test_a_challenger_that_pulls_ahead_keeps_growing() -> None:
    def twisted_wins(backend: str, n: int) -> float:
        return 100.0 * min(n, 4 if backend == "thread" else 16)

    contenders = [Contender("sequential", False), Contender("thread"), Contender("twisted")]
    measured, stops = simulate(twisted_wins, contenders)
    assert measured[-3:] == ["twisted x8", "twisted x16", "twisted x32"]
    assert stops["twisted"] == "stopped growing: twisted x32 gained +0% over twisted x16 (noise 5%)"


def test_a_follower_that_beats_its_pool_grows() -> None:
    def loop_wins(backend: str, n: int) -> float:
        return 100.0 * min(n, 4) * (1.2 if backend == "asyncio" else 1.0)

    measured, _ = simulate(loop_wins, BUILT_INS[:4])
    assert "asyncio x8" in measured


def test_coroutines_lead_with_the_event_loop() -> None:
    contenders = [Contender("sequential", False), Contender("thread"), Contender("asyncio")]
    measured, _ = simulate(service_limited, contenders, is_coroutine=True)
    assert measured[:5] == ["sequential x1", "thread x2", "asyncio x2", "asyncio x4", "asyncio x8"]


def test_without_a_baseline_pools_start_at_one_worker() -> None:
    measured, stops = simulate(service_limited, [Contender("thread")], max_workers=16)
    assert measured == ["thread x1", "thread x2", "thread x4", "thread x8", "thread x16"]
    assert stops["thread"] == "stopped growing: thread x16 gained +0% over thread x8 (noise 5%)"


def test_max_workers_one_measures_one_worker_each() -> None:
    measured, _ = simulate(service_limited, BUILT_INS[:3], max_workers=1)
    assert measured == ["sequential x1", "thread x1", "process x1"]


def test_a_failed_trial_stops_its_backend() -> None:
    planner = AdaptiveSweep(BUILT_INS[:3], max_workers=32, scaling_limit=32)
    failed = Trial(backend="thread", workers=2, status="timeout", reason="no result in 3 s")
    trials = [t(1, 100, backend="sequential"), failed]
    assert planner.next_plan(trials) == TrialPlan("process", 2)
    assert planner.stops["thread"] == "thread x2 timeout: no result in 3 s"


def test_cannot_win_is_said_with_the_numbers() -> None:
    planner = AdaptiveSweep(BUILT_INS[:3], max_workers=32, scaling_limit=32)
    trials = [t(1, 100, backend="sequential"), t(2, 150), t(2, 900, spread=0.01, backend="process")]
    trials += [t(4, 1800, backend="process"), t(8, 1800, backend="process")]
    planner.next_plan(trials)  # process leads; thread is challenged at process's knee
    trials.append(t(4, 160))
    planner.next_plan(trials)
    assert planner.stops["thread"] == (
        "measured less: thread x4 reached 160 tasks/s, 0.09x process x4 (1,800 tasks/s), "
        "beyond the 5% noise"
    )


def test_a_queue_forming_is_named_with_littles_law() -> None:
    planner = AdaptiveSweep([Contender("thread")], max_workers=32, scaling_limit=32)
    trials = [t(1, 100, latency=0.01), t(2, 200, latency=0.01), t(4, 205, latency=0.02)]
    assert planner.next_plan(trials) is None
    assert planner.stops["thread"] == (
        "stopped growing: thread x4 gained +2% over thread x2 (noise 5%), while each task took "
        "2.0x longer (median 20 ms vs 10 ms): a queue is forming. By Little's law, 205 tasks/s "
        "at thread x2's task time is 2 tasks in flight, not 4: the other workers wait for "
        "something shared"
    )


@pytest.mark.parametrize(
    ("curve", "expected"),
    [
        # the knee (x16, within 5% of the best) is 8 workers from the pool before it
        ([t(2, 200), t(4, 390), t(8, 700), t(16, 800), t(32, 810)], 12),
        # the knee is x8: between 4 and 8, 6 places it more precisely
        ([t(2, 200), t(4, 500), t(8, 700), t(16, 720)], 6),
        ([t(2, 200), t(4, 300)], 3),
        # on a straight line, no pool between 2 and 4 can come within 5% of x4
        ([t(2, 200), t(4, 390)], None),
        # nothing lies between 2 and 3, or below the first pool
        ([t(2, 200), t(3, 400), t(4, 410)], None),
        ([t(1, 100)], None),
    ],
)
def test_knee_gap(curve: list[Trial], expected: int | None) -> None:
    assert knee_gap(curve) == expected


def usl_points(
    lam: float, sigma: float, kappa: float, counts: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
) -> list[tuple[int, float]]:
    return [(n, lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))) for n in counts]


def test_usl_fit_recovers_known_parameters() -> None:
    fit = fit_usl(usl_points(200.0, 0.05, 0.002))
    assert fit.fitted and not fit.poor
    assert fit.lambda_ == pytest.approx(200.0, rel=1e-3)
    assert fit.sigma == pytest.approx(0.05, abs=1e-3)
    assert fit.kappa == pytest.approx(0.002, abs=1e-4)
    assert fit.peak_workers == pytest.approx((0.95 / 0.002) ** 0.5, rel=1e-2)


def test_usl_needs_six_worker_counts() -> None:
    fit = fit_usl(usl_points(200.0, 0.05, 0.002, counts=(1, 2, 4, 8, 16)))
    assert not fit.fitted
    assert fit.reason == "5 worker counts measured; the fit needs 6"


def test_a_poor_fit_says_to_rely_on_the_measured_curve() -> None:
    zigzag = [(1, 100.0), (2, 300.0), (3, 90.0), (4, 400.0), (5, 80.0), (6, 500.0)]
    fit = fit_usl(zigzag, noise=0.02)
    assert fit.fitted and fit.poor
    assert fit.reason.endswith("rely on the measured curve")


SYNC_CPU = Workload(is_coroutine=False, kind="cpu-bound", thread_parallelism=0.98)
IDLE = Machine(cpus=2, python="3.11", platform="linux", capacity_cores=1.97)
BUSY = Machine(cpus=2, python="3.11", platform="linux", capacity_cores=0.9)


@pytest.mark.parametrize(
    ("trials", "machine", "expected"),
    [
        # capacity cap: CPU-bound work gets no more workers than free cores...
        (
            [
                t(1, 100, backend="sequential"),
                t(2, 190, backend="process"),
                t(4, 230, backend="process"),
            ],
            IDLE,
            ("process", 2),
        ),
        # ... and on a busy machine the measured free cores, not os.cpu_count()
        (
            [
                t(1, 100, backend="sequential"),
                t(1, 101, backend="process"),
                t(2, 150, backend="process"),
            ],
            BUSY,
            ("sequential", 1),
        ),
    ],
)
def test_pool_size_rules(trials: list[Trial], machine: Machine, expected: tuple[str, int]) -> None:
    rec = recommend(trials, SYNC_CPU, machine)
    assert (rec.model, rec.pool_size) == expected


def test_the_knee_is_the_smallest_pool_within_5_percent_of_the_best() -> None:
    waiting = Workload(is_coroutine=False, kind="io-bound")
    trials = [t(1, 100, backend="sequential"), t(2, 190), t(4, 388), t(8, 395)]
    rec = recommend(trials, waiting, IDLE)
    assert (rec.model, rec.pool_size) == ("thread", 4)
    assert (
        "4 workers is the knee for thread: 98% of its best (thread x8, 395 tasks/s) with 4 "
        "fewer workers"
    ) in rec.reasons


def test_the_knee_keeps_a_margin_for_noise() -> None:
    # 96% of the best as measured is too close to 95% to call: the larger pool is kept
    waiting = Workload(is_coroutine=False, kind="io-bound")
    trials = [t(1, 100, backend="sequential"), t(2, 190), t(4, 380), t(8, 395)]
    assert recommend(trials, waiting, IDLE).pool_size == 8


def test_the_capacity_cap_is_explained() -> None:
    rec = recommend(
        [
            t(1, 100, backend="sequential"),
            t(2, 190, backend="process"),
            t(4, 230, backend="process"),
        ],
        SYNC_CPU,
        IDLE,
    )
    assert (
        "pools are capped at 2 workers: the task is cpu-bound and 2.0 of 2 cores were "
        "measured free; process x4 measured 230 tasks/s only by oversubscribing them"
    ) in rec.reasons


def test_threads_on_gil_bound_code_are_explained() -> None:
    rec = recommend(
        [t(1, 100, backend="sequential"), t(2, 102), t(2, 190, backend="process")], SYNC_CPU, IDLE
    )
    assert (
        "threads do not scale: thread x2 reaches 1.02x sequential; the task holds the GIL; "
        "2 threads kept only 0.98 cores busy"
    ) in rec.reasons


def test_a_process_pool_gets_a_chunksize() -> None:
    chunked = t(2, 190, backend="process")
    chunked.chunksize = 25
    rec = recommend([t(1, 100, backend="sequential"), chunked], SYNC_CPU, IDLE)
    assert rec.chunksize == 25


def test_overhead_bound_work_is_told_to_batch() -> None:
    workload = Workload(
        is_coroutine=False,
        kind="overhead-bound",
        task_wall_s=2e-7,
        dispatch_s={"thread": 1.8e-5, "asyncio": 9e-6, "process": 1.3e-4},
    )
    rec = recommend([t(1, 2e6, backend="sequential"), t(2, 1e5)], workload, IDLE)
    assert rec.model == "sequential"
    assert (
        "each call takes 0.2 us but handing a task to a worker costs 9 us or more: keep the "
        "loop, or batch at least 450 calls per task (e.g. a process pool with "
        "chunksize=450) before adding workers"
    ) in rec.reasons


def test_a_memory_limit_rules_out_larger_pools_and_says_so() -> None:
    over = Trial(
        backend="process",
        workers=4,
        status="failed",
        reason="memory limit: stopped: its processes used 3 GiB, over the 2 GiB limit",
    )
    rec = recommend(
        [t(1, 100, backend="sequential"), t(2, 190, backend="process"), over],
        Workload(is_coroutine=False, kind="mixed"),
        IDLE,
    )
    assert (rec.model, rec.pool_size) == ("process", 2)
    assert "process x4 exceeded the memory limit, so larger pools were ruled out" in rec.reasons


@pytest.mark.parametrize(
    ("plan", "earlier", "growth", "expected"),
    [
        # a larger pool: the previous one x 1.5, between no gain and perfect doubling
        (TrialPlan("thread", 4), [t(2, 200)], None, 300),
        # ... x 1 in the grid, so that a gain shortens the batch instead of overrunning it
        (TrialPlan("thread", 4), [t(2, 200)], 1.0, 200),
        # a challenger jumping to the leader's size is sized like the leader, up to perfect
        # scaling from its own last pool
        (TrialPlan("process", 16), [t(2, 190, backend="process"), t(16, 1200)], None, 1200),
        (TrialPlan("process", 16), [t(2, 100, backend="process"), t(16, 1200)], None, 800),
        # a first trial: sequential x 1.5, or the fastest backend at its size ...
        (TrialPlan("thread", 2), [t(1, 100, backend="sequential")], None, 150),
        (TrialPlan("asyncio", 8), [t(1, 100, backend="sequential"), t(8, 700)], None, 700),
        # ... but no more than its workers can do at the task's time plus its dispatch cost:
        # a sub-microsecond task on an event loop costs 60 us per task, not 0.1 us
        (TrialPlan("asyncio", 2), [t(1, 1e7, backend="sequential"), t(2, 6e5)], None, 2 / 60.1e-6),
    ],
)
def test_trials_are_sized_from_what_was_measured(
    plan: TrialPlan, earlier: list[Trial], growth: float | None, expected: float
) -> None:
    baseline = next((x for x in earlier if x.backend == "sequential"), None)
    task_s = 1 / baseline.throughput if baseline and baseline.throughput else 1e-3
    guess = predicted_throughput(plan, earlier, task_s, growth, baseline)
    assert guess == pytest.approx(expected, rel=1e-3)


def test_merged_repeats_keep_the_count_of_measured_tasks() -> None:
    # a re-measure whose worker re-sized its batches to 50 tasks, from 100
    first, again = t(8, 100), t(8, 120)
    first.throughput_values, again.throughput_values = [99, 100, 101], [119, 120, 121]
    first.tasks, first.errors, again.tasks, again.errors = 100, 3, 50, 3
    merge_repeats(first, again)
    assert (first.tasks, first.repeats, first.errors) == (75, 6, 6)
    assert first.throughput == pytest.approx(110)
