"""The adaptive sweep's decisions and the scaling-law fit, over synthetic numbers (no timing)."""

from __future__ import annotations

import pytest

from tunekit.models import Machine, Trial, Workload
from tunekit.recommend import recommend
from tunekit.scaling import fit_usl
from tunekit.trials import next_step


def t(workers: int, throughput: float, spread: float = 0.01, backend: str = "thread") -> Trial:
    return Trial(
        backend=backend,
        workers=workers,
        status="ok",
        tasks=100,
        repeats=3,
        throughput=throughput,
        throughput_spread=spread,
    )


def step(
    curve: list[Trial], leader: float | None = None, limit: int = 16, scales: bool = True
) -> tuple[int | None, str]:
    best = max(x.throughput or 0.0 for x in curve)
    return next_step(
        curve,
        scales=scales,
        max_workers=16,
        leader_throughput=leader if leader is not None else best,
        scaling_limit=limit,
    )


@pytest.mark.parametrize(
    ("curve", "leader", "limit", "expected"),
    [
        # doubling while each doubling gains more than the noise
        ([t(1, 100)], None, 16, 2),
        ([t(1, 100), t(2, 190)], None, 16, 4),
        ([t(1, 100), t(2, 190), t(4, 370), t(8, 700)], None, 16, 16),
        # the doubling that stopped paying is refined once, at its middle
        ([t(1, 100), t(2, 190), t(4, 360), t(8, 370)], None, 16, 6),
        ([t(1, 100), t(2, 190), t(4, 195)], None, 16, 3),
        # a gain inside twice the measured spread is noise: stop (1 -> 2 has no middle)
        ([t(1, 100, 0.1), t(2, 115, 0.1)], None, 16, None),
        # cannot win: even perfect scaling to the free cores stays below the leader
        ([t(1, 100)], 1000.0, 2, None),
        # ... but with room to scale it goes on
        ([t(1, 100)], 1000.0, 16, 2),
        # work that needs a core each stops at the free cores
        ([t(1, 100), t(2, 190)], None, 2, None),
    ],
)
def test_next_step(
    curve: list[Trial], leader: float | None, limit: int, expected: int | None
) -> None:
    assert step(curve, leader, limit)[0] == expected


def test_stop_reasons_say_why() -> None:
    assert step([t(1, 100), t(2, 190), t(3, 194), t(4, 195)])[1] == (
        "stopped growing: x4 gained +1% over x3 (noise 5%)"
    )
    assert step([t(1, 100)], 1000.0, 2)[1].startswith(
        "cannot win: even perfect scaling to 2 workers would give 200 tasks/s"
    )
    assert step([t(16, 100)])[1] == "reached --max-workers 16"
    assert step([t(1, 100)], scales=False) == (None, "runs one task at a time")


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


def test_the_knee_is_the_smallest_pool_within_noise_of_the_best() -> None:
    waiting = Workload(is_coroutine=False, kind="io-bound")
    trials = [t(1, 100, backend="sequential"), t(2, 190), t(4, 380), t(8, 395)]
    rec = recommend(trials, waiting, IDLE)
    assert (rec.model, rec.pool_size) == ("thread", 4)
    assert (
        "4 workers is the knee for thread: 96% of its best (thread x8, 395 tasks/s) with 4 "
        "fewer workers"
    ) in rec.reasons


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
