"""When one machine is not enough: the projection from a curve still gaining at the last CPU,
and the distributed backends' per-task overhead beside the process pool's, on table inputs."""

from __future__ import annotations

import pytest

from tunekit.advice.beyond_machine import amdahl, beyond_one_machine, per_task_overhead
from tunekit.advice.recommend import recommend
from tunekit.models import Machine, Trial, Workload

CPU = Workload(is_coroutine=False, kind="cpu-bound", task_wall_s=0.01)
TWO = Machine(cpus=2, python="3.11", platform="linux", capacity_cores=2.0)
FOUR = Machine(cpus=4, python="3.11", platform="linux", capacity_cores=4.0)


def ok(backend: str, workers: int, goodput: float) -> Trial:
    return Trial(
        backend=backend,
        workers=workers,
        status="ok",
        tasks=100,
        repeats=3,
        throughput=goodput,
        goodput=goodput,
        goodput_values=[goodput * 0.99, goodput, goodput * 1.01],
    )


def advice(trials: list[Trial], machine: Machine, distributed: list[str]) -> list[str]:
    rec = recommend(trials, CPU, machine)
    return beyond_one_machine(rec, trials, CPU, machine, distributed)


def test_amdahl_through_two_points_is_exact() -> None:
    """GIVEN 100/s alone and 190/s with 2 workers THEN sigma is 1/19 and the law passes
    through both points."""
    points = {1: 100.0, 2: 190.0}
    assert amdahl(points, 2) == pytest.approx(190.0)
    assert amdahl(points, 4) == pytest.approx(400 / (1 + 3 / 19))


def test_a_pool_still_gaining_at_the_last_cpu_is_projected_with_dask_beside_it() -> None:
    """GIVEN process x2 at 1.9x sequential on 2 CPUs, and dask x2 measured at 150/s THEN the
    reasons say the projection at 4 cores, and dask's overhead beside the process pool's with
    what it would leave of the projection."""
    trials = [ok("sequential", 1, 100), ok("process", 2, 190), ok("dask", 2, 150)]
    lines = advice(trials, TWO, ["dask", "ray"])
    assert lines[0] == (
        "one machine may not be enough: process x2 reached 1.90x sequential and was still "
        "gaining at this machine's 2 CPUs (3% noise); Amdahl's law through sequential and this "
        "pool projects 3.45x at 4 cores (2 machines like this one)"
    )
    # process: 2 / 190 - 0.01 = 0.526 ms a task; dask: 2 / 150 - 0.01 = 3.33 ms
    assert lines[1] == (
        "dask measured 3.33 ms of overhead per task (dask x2) beside the process pool's 526 µs, "
        "on calls of 10 ms: the projected 3.45x needs 4 dask workers, and dask's overhead would "
        "leave about 2.73x of it"
    )
    assert lines[2] == (
        "ray is installed but was not measured here: --backend ray measures its per-task "
        "overhead on this machine's workers"
    )


def test_three_sizes_within_the_cpus_are_fitted() -> None:
    """GIVEN process x2 and x4 on 4 CPUs, still gaining THEN the fit projects to 8 cores."""
    trials = [ok("sequential", 1, 100), ok("process", 2, 195), ok("process", 4, 370)]
    (line,) = advice(trials, FOUR, [])
    assert (
        "process x4 reached 3.70x sequential and was still gaining at this machine's 4 CPUs" in line
    )
    assert "the fit to 3 pool sizes projects" in line and "at 8 cores" in line


@pytest.mark.parametrize(
    "trials",
    [
        # flat at the last CPU: one machine is enough
        [ok("sequential", 1, 100), ok("process", 2, 101)],
        # the best pool never reached the last CPU
        [ok("sequential", 1, 100), ok("thread", 1, 99)],
        # no sequential baseline to project from
        [ok("process", 1, 100), ok("process", 2, 190)],
    ],
)
def test_nothing_is_said_when_the_curve_is_not_rising_at_the_cpus(trials: list[Trial]) -> None:
    assert advice(trials, TWO, ["dask"]) == []


def test_waiting_work_is_not_projected_to_more_machines() -> None:
    """GIVEN an io-bound workload still gaining at 2 CPUs THEN nothing is said: more threads on
    this machine serve it, not more cores."""
    waiting = Workload(is_coroutine=False, kind="io-bound", task_wall_s=0.01)
    trials = [ok("sequential", 1, 100), ok("process", 2, 190)]
    rec = recommend(trials, waiting, TWO)
    assert beyond_one_machine(rec, trials, waiting, TWO, ["dask"]) == []


def test_the_overhead_is_the_worker_time_beyond_the_call() -> None:
    """GIVEN 2 workers at 150/s on 10 ms calls THEN each task cost 3.3 ms beyond its call; a pool
    within the noise faster than the call costs none."""
    assert per_task_overhead(ok("dask", 2, 150), 0.01) == pytest.approx(2 / 150 - 0.01)
    assert per_task_overhead(ok("process", 2, 210), 0.01) == 0.0
