"""Throughput while every worker was busy, over synthetic task end times (no timing)."""

from __future__ import annotations

import pytest

from tunekit.stats import saturated_throughput
from tunekit.worker import resized


def waves(tasks: int, workers: int, latency: float, start: float = 100.0) -> list[float | None]:
    """End times of ``tasks`` equal tasks on ``workers``: full waves, then a partial one."""
    return [start + (i // workers + 1) * latency for i in range(tasks)]


@pytest.mark.parametrize(
    ("tasks", "workers", "expected"),
    [
        # 100 tasks of 10 ms on 16 workers: 7 waves, the last with 4 tasks. Tasks / wall time
        # says 1,429 tasks/s; while all 16 were busy the pool did 1,600.
        (100, 16, 1600.0),
        (112, 16, 1600.0),  # full waves: both ways agree
        (10, 1, 100.0),  # one worker: no tail at all
    ],
)
def test_the_tail_of_a_batch_does_not_count(tasks: int, workers: int, expected: float) -> None:
    ends = waves(tasks, workers, 0.01)
    stop = max(e for e in ends if e is not None)
    assert saturated_throughput(ends, 100.0, stop, workers) == pytest.approx(expected)


def test_without_end_times_or_off_this_clock_it_is_tasks_over_wall_time() -> None:
    ends = waves(100, 16, 0.01)
    assert saturated_throughput([None] * 100, 100.0, 100.07, 16) == pytest.approx(100 / 0.07)
    remote = [e + 5000.0 for e in ends if e is not None]  # another machine's clock
    assert saturated_throughput(list(remote), 100.0, 100.07, 16) == pytest.approx(100 / 0.07)


def test_a_window_shorter_than_one_wave_is_not_trusted() -> None:
    ends = waves(20, 16, 0.01)  # 4 completions before the queue empties: fewer than 16
    assert saturated_throughput(ends, 100.0, 100.02, 16) == pytest.approx(20 / 0.02)


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
