"""The recommender, table-driven over synthetic trials (no timing involved): goodput ranking,
knees, ties from interleaved rounds, errors as a limit, the simplest model on a tie, the free
cores, and the reasons' words and numbers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tunekit.advice.recommend import recommend
from tunekit.advice.rules import model_cost
from tunekit.models import Machine, Trial, Workload

SYNC = Workload(is_coroutine=False)
ASYNC = Workload(is_coroutine=True)
WAITING = Workload(is_coroutine=False, kind="io-bound")
SYNC_CPU = Workload(is_coroutine=False, kind="cpu-bound", thread_parallelism=0.98)
IDLE = Machine(cpus=2, python="3.11", platform="linux", capacity_cores=1.97)
BUSY = Machine(cpus=2, python="3.11", platform="linux", capacity_cores=0.9)
LOOPS = {"asyncio": "thread", "tornado": "thread"}


def ok(
    backend: str,
    workers: int,
    goodput: float,
    spread: float = 0.01,
    error_rate: float = 0.0,
    values: Sequence[float] = (),
    rounds: Sequence[float] = (),
) -> Trial:
    """A trial of ``goodput`` calls that succeeded per second (and more calls that raised)."""
    calls = goodput / (1 - error_rate) if error_rate < 1 else 0.0
    return Trial(
        backend=backend,
        workers=workers,
        status="ok",
        tasks=100,
        repeats=3,
        throughput=calls,
        throughput_spread=spread,
        goodput=goodput,
        goodput_spread=spread,
        goodput_values=list(values),
        error_rate=error_rate,
        errors=round(error_rate * 300),
        first_error="ConnectionRefusedError: busy" if error_rate else None,
        rounds=list(rounds),
    )


@pytest.mark.parametrize(
    ("trials", "workload", "expected"),
    [
        # clear winner
        (
            [ok("sequential", 1, 100), ok("thread", 4, 390), ok("process", 2, 180)],
            SYNC,
            "thread x4",
        ),
        # tie within 5%: fewer workers win
        ([ok("sequential", 1, 100), ok("thread", 4, 390), ok("thread", 8, 400)], SYNC, "thread x4"),
        # tie within 3% (the knee's margin): thread beats process (simpler to adopt)
        (
            [ok("sequential", 1, 100), ok("process", 2, 200), ok("thread", 2, 195)],
            SYNC,
            "thread x2",
        ),
        # 4% apart is no tie
        (
            [ok("sequential", 1, 100), ok("process", 2, 200), ok("thread", 2, 192)],
            SYNC,
            "process x2",
        ),
        # models are compared at their knees: thread's peak ties with process, but the pool it
        # would be recommended at (x12, 97% of its peak) is 4.5% below process x16
        (
            [
                ok("sequential", 1, 100),
                ok("thread", 12, 955),
                ok("thread", 24, 980),
                ok("process", 8, 900),
                ok("process", 16, 1000),
            ],
            SYNC,
            "process x16",
        ),
        # a noisy best widens the band (2 x spread) ...
        ([ok("sequential", 1, 100), ok("process", 2, 115, spread=0.08)], SYNC, "sequential x1"),
        # ... but never beyond 25%, however noisy
        ([ok("sequential", 1, 100), ok("process", 2, 190, spread=0.9)], SYNC, "process x2"),
        # ... unless the values do not overlap
        (
            [
                ok("sequential", 1, 100),
                ok("thread", 8, 668, values=[668] * 3),
                ok("process", 16, 723, spread=0.055, values=[730, 685, 745, 717, 684, 763]),
            ],
            SYNC,
            "process x16",
        ),
        # for coroutines asyncio is the simplest, before threads and other loops
        ([ok("sequential", 1, 10), ok("thread", 8, 78), ok("asyncio", 8, 80)], ASYNC, "asyncio x8"),
        (
            [ok("sequential", 1, 10), ok("tornado", 8, 81), ok("asyncio", 8, 80)],
            ASYNC,
            "asyncio x8",
        ),
        # sequential is a legitimate answer
        (
            [ok("sequential", 1, 1000), ok("thread", 2, 700), ok("process", 2, 300)],
            SYNC,
            "sequential x1",
        ),
        # goodput, not calls: thread x2's many calls mostly raised
        (
            [ok("sequential", 1, 100), ok("thread", 2, 150, error_rate=0.6)],
            SYNC,
            "thread x2",
        ),
        (
            [ok("sequential", 1, 100), ok("thread", 2, 90, error_rate=0.6), ok("process", 2, 180)],
            SYNC,
            "process x2",
        ),
        # trials where every call failed do not count
        ([ok("sequential", 1, 100), ok("thread", 2, 0.0, error_rate=1.0)], SYNC, "sequential x1"),
    ],
)
def test_choice(trials: list[Trial], workload: Workload, expected: str) -> None:
    rec = recommend(trials, workload)
    assert f"{rec.model} x{rec.pool_size}" == expected


def test_a_service_that_refuses_beyond_its_capacity_gets_the_pool_without_errors() -> None:
    # GIVEN a service that takes 8 at once and refuses the rest at once: at 16 workers 87% of
    # the calls raise, and the goodput is no better than at 8
    trials = [
        ok("sequential", 1, 100),
        ok("thread", 2, 200),
        ok("thread", 8, 790),
        ok("thread", 16, 800, error_rate=0.87),
    ]
    rec = recommend(trials, WAITING, IDLE)
    # THEN the pool is where the errors had not begun
    assert (rec.model, rec.pool_size, rec.still_scaling) == ("thread", 8, False)
    assert "calls raised in other configurations: up to 87% in thread x16" in rec.reasons[-1]


def test_a_cleaner_tie_is_preferred_across_models() -> None:
    trials = [
        ok("sequential", 1, 100),
        ok("thread", 16, 800, error_rate=0.5),
        ok("process", 8, 795),
    ]
    rec = recommend(trials, WAITING, IDLE)
    assert (rec.model, rec.pool_size) == ("process", 8)


def test_no_clear_winner_names_the_set_and_the_simplest() -> None:
    trials = [ok("sequential", 1, 100), ok("thread", 4, 390), ok("process", 4, 400)]
    rec = recommend(trials, SYNC)
    assert rec.tied == ["thread x4", "process x4"]
    assert rec.reasons[1] == (
        "no clear winner: thread x4 and process x4 (400 calls/s) are within the 3% noise of "
        "each other; thread is the simplest to adopt"
    )
    clear = recommend([ok("sequential", 1, 100), ok("thread", 4, 390)], SYNC)
    assert clear.tied == []


def test_ties_are_judged_on_the_rounds_measured_at_different_moments() -> None:
    # GIVEN two configurations 6% apart whose windows (back to back) agree to 1%
    steady_windows = [
        ok("sequential", 1, 100),
        ok("thread", 8, 940, values=[938, 940, 942]),
        ok("process", 8, 1000, values=[998, 1000, 1002]),
    ]
    assert recommend(steady_windows, WAITING, IDLE).model == "process"
    # WHEN rounds at different moments show the machine moving them by 5% THEN it is a tie
    # the simpler model wins
    rounds = [
        ok("sequential", 1, 100),
        ok("thread", 8, 940, values=[938, 940, 942], rounds=[900, 980]),
        ok("process", 8, 1000, values=[998, 1000, 1002], rounds=[950, 1050]),
    ]
    rec = recommend(rounds, WAITING, IDLE)
    assert (rec.model, rec.tied) == ("thread", ["thread x8", "process x8"])


def test_a_loop_that_runs_plain_functions_on_threads_is_not_chosen_over_threads() -> None:
    trials = [ok("sequential", 1, 100), ok("thread", 2, 195), ok("asyncio", 2, 200)]
    rec = recommend(trials, SYNC, IDLE, via=LOOPS)
    assert (rec.model, rec.pool_size) == ("thread", 2)
    assert (
        "asyncio is not recommended for a plain function: it runs it on a thread pool, so it "
        "can only tie with thread or trail it"
    ) in rec.reasons
    # ... unless threads were not measured
    alone = recommend([ok("sequential", 1, 100), ok("asyncio", 2, 200)], SYNC, IDLE, via=LOOPS)
    assert alone.model == "asyncio"


def test_still_scaling_when_the_largest_pool_still_gained() -> None:
    trials = [ok("sequential", 1, 50), ok("thread", 8, 400), ok("thread", 16, 800)]
    stopped = {"thread": "growth stopped at --max-workers 16; try 32 workers with --max-workers 32"}
    rec = recommend(trials, WAITING, IDLE, stopped=stopped)
    assert (rec.model, rec.pool_size, rec.still_scaling) == ("thread", 16, True)
    assert (
        "still scaling: thread x16 gained +100% over thread x8 and is the largest thread pool "
        "measured, so a larger one may be faster; growth stopped at --max-workers 16; try 32 "
        "workers with --max-workers 32"
    ) in rec.reasons
    flat = recommend([*trials, ok("thread", 32, 805)], WAITING, IDLE)
    assert not flat.still_scaling


@pytest.mark.parametrize(
    ("trials", "machine", "expected"),
    [
        # core-bound work gets no more workers than free cores when more only ties ...
        (
            [ok("sequential", 1, 100), ok("process", 2, 190), ok("process", 4, 195)],
            IDLE,
            "process x2",
        ),
        # ... on a busy machine the measured free cores, not os.cpu_count()
        (
            [ok("sequential", 1, 100), ok("process", 1, 101), ok("process", 2, 103)],
            BUSY,
            "sequential x1",
        ),
        # ... but a larger pool that measured better beyond the noise is taken: the work is
        # not what it looked like (a call that waits on a subprocess)
        (
            [ok("sequential", 1, 100), ok("thread", 2, 190), ok("thread", 8, 230)],
            IDLE,
            "thread x8",
        ),
    ],
)
def test_pools_and_the_free_cores(trials: list[Trial], machine: Machine, expected: str) -> None:
    rec = recommend(trials, SYNC_CPU, machine)
    assert f"{rec.model} x{rec.pool_size}" == expected


def test_the_capacity_cap_is_explained() -> None:
    trials = [ok("sequential", 1, 100), ok("process", 2, 190), ok("process", 4, 195)]
    rec = recommend(trials, SYNC_CPU, IDLE)
    assert (
        "pools are capped at 2 workers: the task is cpu-bound and 2.0 of 2 cores were measured "
        "free; process x4 measured 195 calls/s, no more than the noise above"
    ) in rec.reasons


def test_threads_on_gil_bound_code_are_explained_only_when_measured() -> None:
    trials = [ok("sequential", 1, 100), ok("thread", 2, 102), ok("process", 2, 190)]
    rec = recommend(trials, SYNC_CPU, IDLE)
    assert (
        "threads do not scale: thread x2 reached 1.02x sequential, and 2 threads kept only "
        "0.98 cores busy: the task holds the GIL"
    ) in rec.reasons
    unmeasured = Workload(is_coroutine=False, kind="cpu-bound")
    assert not any("GIL" in r for r in recommend(trials, unmeasured, IDLE).reasons)


def test_the_knee_is_the_smallest_pool_within_5_percent_of_the_best() -> None:
    trials = [
        ok("sequential", 1, 100),
        ok("thread", 2, 190),
        ok("thread", 4, 388),
        ok("thread", 8, 395),
    ]
    rec = recommend(trials, WAITING, IDLE)
    assert (rec.model, rec.pool_size) == ("thread", 4)
    assert (
        "4 workers is the knee for thread: 98% of its best (thread x8, 395 calls/s) with 4 "
        "fewer workers"
    ) in rec.reasons
    # 96% of the best as measured is too close to 95% to call: the larger pool is kept
    close = [
        ok("sequential", 1, 100),
        ok("thread", 2, 190),
        ok("thread", 4, 380),
        ok("thread", 8, 395),
    ]
    assert recommend(close, WAITING, IDLE).pool_size == 8


def test_a_process_pool_gets_a_chunksize_and_a_reason_only_when_chunked() -> None:
    chunked = ok("process", 2, 190)
    chunked.chunksize = 25
    rec = recommend([ok("sequential", 1, 100), chunked], SYNC_CPU, IDLE)
    assert rec.chunksize == 25
    assert (
        "hand the process pool 25 calls per message (executor.map(..., chunksize=25)): a "
        "message per call costs more than a call"
    ) in rec.reasons
    chunked.chunksize = 1
    assert not any("chunksize" in r for r in recommend([chunked], SYNC_CPU, IDLE).reasons)


def test_overhead_bound_work_is_told_to_batch() -> None:
    workload = Workload(
        is_coroutine=False,
        kind="overhead-bound",
        task_wall_s=2e-7,
        dispatch_s={"thread": 1.8e-5, "asyncio": 9e-6, "process": 1.3e-4},
    )
    rec = recommend([ok("sequential", 1, 2e6), ok("thread", 2, 1e5)], workload, IDLE)
    assert rec.model == "sequential"
    assert (
        "each call takes 0.2 us but handing a call to a worker costs 9 us or more: keep the "
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
    trials = [ok("sequential", 1, 100), ok("process", 2, 190), over]
    rec = recommend(trials, Workload(is_coroutine=False, kind="mixed"), IDLE)
    assert (rec.model, rec.pool_size) == ("process", 2)
    assert "process x4 exceeded the memory limit, so larger pools were ruled out" in rec.reasons


def test_speedup_and_reasons_carry_the_numbers() -> None:
    rec = recommend([ok("sequential", 1, 100), ok("thread", 4, 390), ok("process", 2, 180)], SYNC)
    assert rec.speedup == pytest.approx(3.9)
    assert rec.goodput == 390
    assert rec.reasons[0] == "thread x4 reached 390 calls/s, 3.90x sequential (100 calls/s)"
    assert "process peaked at 2 workers: 180 calls/s (1.80x sequential)" in rec.reasons


def test_no_usable_trial_gives_no_recommendation_and_says_why() -> None:
    failed = Trial(backend="thread", workers=1, status="failed", reason="boom")
    rec = recommend([failed], SYNC)
    assert rec.model is None
    assert rec.reasons == ["no trial completed, so nothing can be recommended"]
    odd = ok("process", 2, 300)
    odd.suspect = "its processes used 5.11 cores' worth of CPU"
    assert recommend([odd], SYNC).reasons == [
        "no trial gave numbers that can be trusted (process x2: its processes used 5.11 cores' "
        "worth of CPU)"
    ]


def test_errors_in_the_chosen_trial_are_flagged_with_their_rate() -> None:
    rec = recommend([ok("sequential", 1, 90, error_rate=0.1)], SYNC)
    assert rec.reasons[-1] == (
        "warning: 10% of the calls raised in sequential x1 (first: ConnectionRefusedError: "
        "busy); only the calls that succeeded count as its goodput"
    )


def test_model_cost_says_what_a_user_must_adopt() -> None:
    sync = [model_cost(b, False) for b in ("sequential", "thread", "process", "asyncio", "twisted")]
    assert sync == sorted(sync)
    coro = [model_cost(b, True) for b in ("sequential", "asyncio", "thread", "tornado", "twisted")]
    assert coro == sorted(coro)
    assert model_cost("some-plugin", True) > model_cost("twisted", True)


def test_a_pool_that_fails_many_calls_gives_way_to_a_clean_one_within_a_tenth() -> None:
    # GIVEN a service that refuses beyond 8 at once: 32 threads keep its 8 slots fuller than 8
    # threads do, so they reach more goodput, but 94% of their calls raise
    trials = [
        ok("sequential", 1, 50),
        ok("thread", 2, 100),
        ok("thread", 8, 370),
        ok("thread", 32, 400, error_rate=0.94),
    ]
    rec = recommend(trials, WAITING, IDLE)
    # THEN the clean pool, within a tenth of that goodput, is recommended, and the reason says why
    assert (rec.model, rec.pool_size) == ("thread", 8)
    assert rec.reasons[1].startswith("fewer failed calls: thread x32 reached 400 calls/s, but 94%")
    assert rec.reasons[1].endswith("thread x8 reached 0.93 of that with none failing")


def test_a_clean_pool_below_a_tenth_is_taken_within_the_failing_ones_noise() -> None:
    # GIVEN 32 threads whose few successful calls came in bursts: their goodput spread 100%
    trials = [
        ok("sequential", 1, 50),
        ok("thread", 8, 349),
        ok("thread", 32, 464, spread=1.0, error_rate=0.94),
    ]
    rec = recommend(trials, WAITING, IDLE)
    # THEN their lead is no lead: the clean pool, and the reason names the noise
    assert (rec.model, rec.pool_size) == ("thread", 8)
    assert rec.reasons[1].endswith(
        "thread x8 reached 0.75 of that with none failing, within the 25% noise of thread x32's "
        "measurement"
    )


@pytest.mark.parametrize(
    ("clean_goodput", "error_rate", "spread", "expected"),
    [
        # the clean pool gives up more than a tenth, beyond the 3% noise: errors pay
        (340, 0.94, 0.01, "thread x32"),
        (370, 0.04, 0.01, "thread x32"),  # within the tolerance: the goodput decides
        (370, 0.94, 0.01, "thread x8"),
        # the failing pool's goodput spread 30% over its windows (few, bursty successes): its
        # lead of 15% over the clean pool is within its noise (the 25% cap), so it does not pay
        (340, 0.94, 0.30, "thread x8"),
    ],
)
def test_the_price_of_errors(
    clean_goodput: float, error_rate: float, spread: float, expected: str
) -> None:
    trials = [
        ok("sequential", 1, 50),
        ok("thread", 8, clean_goodput),
        ok("thread", 32, 400, spread=spread, error_rate=error_rate),
    ]
    rec = recommend(trials, WAITING, IDLE)
    assert f"{rec.model} x{rec.pool_size}" == expected


def test_a_pool_whose_growth_the_measured_curve_ended_is_not_still_scaling() -> None:
    # GIVEN threads still gaining at their largest pool, x512
    trials = [ok("sequential", 1, 100), ok("thread", 128, 12_000), ok("thread", 512, 27_000)]
    assert recommend(trials, WAITING, IDLE).still_scaling
    # WHEN the sweep stopped there because the fitted curve (or a queue) said more would not pay
    rec = recommend(trials, WAITING, IDLE, settled=["thread"])
    # THEN the recommendation does not claim a larger pool may be faster
    assert not rec.still_scaling
    assert not any(r.startswith("still scaling") for r in rec.reasons)
