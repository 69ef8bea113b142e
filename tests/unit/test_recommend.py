"""The recommender, table-driven over synthetic trials (no timing involved)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tunekit.advice.recommend import recommend
from tunekit.advice.rules import model_cost
from tunekit.models import Trial, Workload


def ok(
    backend: str,
    workers: int,
    throughput: float,
    spread: float = 0.01,
    errors: int = 0,
    values: Sequence[float] = (),
) -> Trial:
    return Trial(
        backend=backend,
        workers=workers,
        status="ok",
        tasks=100,
        repeats=3,
        throughput=throughput,
        throughput_spread=spread,
        errors=errors,
        first_error="ValueError: x" if errors else None,
        throughput_values=list(values),
    )


SYNC = Workload(is_coroutine=False)
ASYNC = Workload(is_coroutine=True)


@pytest.mark.parametrize(
    ("trials", "workload", "expected"),
    [
        # clear winner
        (
            [ok("sequential", 1, 100), ok("thread", 4, 390), ok("process", 2, 180)],
            SYNC,
            ("thread", 4),
        ),
        # tie within 5%: fewer workers win
        (
            [ok("sequential", 1, 100), ok("thread", 4, 390), ok("thread", 8, 400)],
            SYNC,
            ("thread", 4),
        ),
        # tie within 3% (the knee's margin): thread beats process (cheaper model)
        (
            [ok("sequential", 1, 100), ok("process", 2, 200), ok("thread", 2, 195)],
            SYNC,
            ("thread", 2),
        ),
        # 4% apart is no tie: the recommendation is to stay within 5% of the best, with 2% of
        # that kept for noise
        (
            [ok("sequential", 1, 100), ok("process", 2, 200), ok("thread", 2, 192)],
            SYNC,
            ("process", 2),
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
            ("process", 16),
        ),
        # ... and a cheaper model whose knee ties still wins
        (
            [
                ok("sequential", 1, 100),
                ok("thread", 12, 975),
                ok("thread", 24, 990),
                ok("process", 16, 1000),
            ],
            SYNC,
            ("thread", 12),
        ),
        # a noisy best widens the band (2 x spread) ...
        ([ok("sequential", 1, 100), ok("process", 2, 115, spread=0.08)], SYNC, ("sequential", 1)),
        # ... but never beyond 25%, however noisy
        ([ok("sequential", 1, 100), ok("process", 2, 190, spread=0.9)], SYNC, ("process", 2)),
        # ... unless the values do not overlap: every value of the best above every value of
        # the other is no tie beyond the 3% margin, however wide the spread
        (
            [
                ok("sequential", 1, 100),
                ok("thread", 8, 668, values=[668] * 3),
                ok("process", 16, 723, spread=0.055, values=[730, 685, 745, 717, 684, 763]),
            ],
            SYNC,
            ("process", 16),
        ),
        # ... and a median of more values is surer: with 12 values, the same 8% spread
        # makes a band of 8%, and 13% is no tie
        (
            [ok("sequential", 1, 100), ok("process", 2, 115, spread=0.08, values=[115] * 12)],
            SYNC,
            ("process", 2),
        ),
        # for coroutines an event loop is cheaper than threads
        (
            [ok("sequential", 1, 10), ok("thread", 8, 78), ok("asyncio", 8, 80)],
            ASYNC,
            ("asyncio", 8),
        ),
        # for sync code an event loop (threads underneath) is not cheaper than threads
        ([ok("sequential", 1, 10), ok("asyncio", 8, 80), ok("thread", 8, 78)], SYNC, ("thread", 8)),
        # sequential is a legitimate answer
        (
            [ok("sequential", 1, 1000), ok("thread", 2, 700), ok("process", 2, 300)],
            SYNC,
            ("sequential", 1),
        ),
        # trials where every task failed do not count
        ([ok("sequential", 1, 100), ok("thread", 2, 500, errors=300)], SYNC, ("sequential", 1)),
    ],
)
def test_choice(trials: list[Trial], workload: Workload, expected: tuple[str, int]) -> None:
    rec = recommend(trials, workload)
    assert (rec.model, rec.pool_size) == expected


def test_speedup_and_reasons_carry_the_numbers() -> None:
    rec = recommend([ok("sequential", 1, 100), ok("thread", 4, 390), ok("process", 2, 180)], SYNC)
    assert rec.speedup == pytest.approx(3.9)
    assert rec.reasons[0] == "thread x4 reached 390 tasks/s, 3.90x sequential (100 tasks/s)"
    assert "process peaked at 2 workers: 180 tasks/s (1.80x sequential)" in rec.reasons


def test_a_tie_says_which_faster_model_lost_and_why() -> None:
    rec = recommend([ok("sequential", 1, 100), ok("thread", 4, 390), ok("process", 4, 400)], SYNC)
    assert rec.reasons[1] == (
        "process x4 measured 400 tasks/s, within the 3% noise band of "
        "thread x4; the cheaper model wins the tie"
    )


def test_the_pool_is_the_knee_of_the_chosen_model_not_the_noise_band() -> None:
    # A noisy best widens the band between models, not the pool size: x8 is 12% faster.
    trials = [ok("sequential", 1, 100), ok("process", 8, 450), ok("process", 16, 510, spread=0.1)]
    rec = recommend(trials, SYNC)
    assert (rec.model, rec.pool_size) == ("process", 16)


def test_no_usable_trial_gives_no_recommendation_and_says_why() -> None:
    failed = Trial(backend="thread", workers=1, status="failed", reason="boom")
    rec = recommend([failed], SYNC)
    assert rec.model is None
    assert rec.reasons == ["no trial completed, so nothing can be recommended"]


def test_errors_in_the_chosen_trial_are_flagged_with_their_rate() -> None:
    rec = recommend([ok("sequential", 1, 100, errors=30)], SYNC)
    assert rec.reasons[-1] == (
        "warning: 10% of the tasks raised in sequential x1 (first: "
        "ValueError: x); failed tasks count in its throughput"
    )


def test_errors_elsewhere_are_mentioned() -> None:
    rec = recommend([ok("sequential", 1, 100), ok("thread", 2, 50, errors=3)], SYNC)
    assert rec.reasons[-1] == "warning: 3 tasks raised in other trials (first: ValueError: x)"


def test_model_cost_orders_models() -> None:
    assert (
        model_cost("sequential", True)
        < model_cost("asyncio", True)
        < model_cost("thread", True)
        < model_cost("process", True)
        < model_cost("some-plugin", True)
    )
