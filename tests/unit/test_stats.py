"""Steady-state windows and batch re-sizing, over synthetic task end times (no timing)."""

from __future__ import annotations

import pytest

from tunekit.isolation.trial import resized
from tunekit.stats import relative_spread, stream_windows, success_rates


def steady(tasks: int, workers: int, latency: float, start: float = 100.0) -> list[float | None]:
    """End times of ``tasks`` equal tasks on ``workers``, started together: waves."""
    return [start + (i // workers + 1) * latency for i in range(tasks)]


def test_windows_are_steady_state_between_the_lead_and_the_tail() -> None:
    # 16 workers, 10 ms tasks: 1,600 tasks/s. A lead of 2 waves, 3 windows of 64, a tail of
    # 16: each window is 4 waves, 40 ms, whatever the stream did before and after.
    ends = steady(32 + 3 * 64 + 16, 16, 0.01)
    size, durations = stream_windows(ends, 100.0, 100.3, lead=32, tail=16, count=3) or (0, [])
    assert size == 64
    assert [size / d for d in durations] == pytest.approx([1600.0] * 3)


def test_a_slow_start_is_not_measured() -> None:
    # The first 32 completions straggle in over 100 ms (clients in step, a cold cache);
    # tasks / wall time would say 1,085 tasks/s, the windows after them 1,600.
    ramp = [100.0 + 0.1 * (i + 1) / 32 for i in range(32)]
    rest = [100.1 + (i // 16 + 1) * 0.01 for i in range(3 * 64 + 16)]
    ends: list[float | None] = [*ramp, *rest]
    split = stream_windows(ends, 100.0, 100.3, lead=32, tail=16, count=3)
    assert split is not None
    size, durations = split
    assert [size / d for d in durations] == pytest.approx([1600.0] * 3)


def test_a_larger_tail_than_planned_shortens_the_windows() -> None:
    ends = steady(32 + 3 * 64 + 16, 16, 0.01)
    split = stream_windows(ends, 100.0, 100.3, lead=32, tail=64, count=3)
    assert split is not None and split[0] == 48


def test_windows_hold_whole_waves() -> None:
    # 2 workers, 10 ms tasks, 17 tasks a window: windows of 17 would alternate between 8
    # and 9 waves' time for 17 tasks (+6% / -6%); windows of 16 measure 200 tasks/s each
    ends = steady(4 + 3 * 17 + 2, 2, 0.01)
    split = stream_windows(ends, 100.0, 100.5, lead=4, tail=2, count=3, wave=2)
    assert split is not None
    size, durations = split
    assert size == 16
    assert [size / d for d in durations] == pytest.approx([200.0] * 3)
    unaligned = stream_windows(ends, 100.0, 100.5, lead=4, tail=2, count=3)
    assert unaligned is not None
    assert max(unaligned[0] / d for d in unaligned[1]) > 210


@pytest.mark.parametrize(
    "ends",
    [
        [None] * 100,  # the backend does not say when tasks ended
        [e + 5000.0 for e in steady(100, 16, 0.01) if e is not None],  # another machine's clock
        steady(40, 16, 0.01),  # not one task per window after the lead and the tail
        [100.01] * 100,  # every task ended at one tick of the clock
    ],
)
def test_windows_that_cannot_be_told_apart_are_none(ends: list[float | None]) -> None:
    assert stream_windows(ends, 100.0, 100.5, lead=32, tail=16, count=3) is None


@pytest.mark.parametrize(
    ("tasks", "warm_tasks", "warm_s", "expected"),
    [
        # the warm-up ran at the planned rate: the plan stands
        (100, 32, 0.032, 100),
        # ... or at half of it, as a fresh pool's first calls do: the plan stands
        (291, 32, 0.023, 291),
        # 12x slower than planned (a loop that serializes on a lock, sized like a pool that
        # does not): the batches are cut to 0.1 s at the warm-up's rate
        (365, 32, 0.11, 32),
        # much faster than planned: more tasks, so that a batch is not over before it starts
        (20, 32, 0.016, 200),
        # a warm-up too short to time says nothing: the plan stands
        (100, 10, 0.000_01, 100),
    ],
)
def test_a_trial_resizes_its_batches_when_the_plan_was_far_off(
    tasks: int, warm_tasks: int, warm_s: float, expected: int
) -> None:
    assert resized(tasks, 16, warm_tasks, warm_s, batch_s=0.1) == expected


@pytest.mark.parametrize(
    ("successes", "error_rate", "rates", "spread"),
    [
        # no errors: every window counts as it is, however few its calls (a wave of 2)
        ([2, 2, 2], 0.0, [20.0, 20.0, 20.0], 0.0),
        # busy_service's thread x32, 95% refused: windows of 59, 60, 0 and 51, 0, 61 successes
        # need 95 each; merged, they read 595 and 280 a second and spread by 36%, not six
        # values whose median is 549 a second
        ([59, 60, 0, 51, 0, 61], 0.95, [119 / 0.2, 112 / 0.4], 0.95**0.5 / 112**0.5),
        # a short remainder joins the group before it
        ([100, 100, 5], 0.5, [100 / 0.1, 105 / 0.2], 0.5**0.5 / 100**0.5),
        # nothing got through: one value of 0
        ([0, 0, 0], 1.0, [0.0], 0.0),
    ],
)
def test_windows_are_merged_until_their_successes_tell_a_rate_from_chance(
    successes: list[int], error_rate: float, rates: list[float], spread: float
) -> None:
    # GIVEN windows of 0.1 s with these successes at this error rate
    durations = [0.1] * len(successes)
    # WHEN their goodput is taken to a precision of 10%
    got, got_spread = success_rates(successes, durations, error_rate, 0.10)
    # THEN the windows are merged into groups of at least e / 0.1**2 successes
    assert got == pytest.approx(rates)
    assert got_spread == pytest.approx(max(spread, relative_spread(rates)))
