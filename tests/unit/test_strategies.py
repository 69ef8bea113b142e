"""The engine's strategies (duel, knee refinement, re-runs, grid) over a fake bench: canned
measurements, no processes, no clock. Each case says what was measured before, what every new
measurement of a configuration returns, and what the strategy must have measured and kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from tunekit.advice.recommend import recommend
from tunekit.engine.strategies import ruled_out
from tunekit.engine.strategies.adaptive import refine_knee
from tunekit.engine.strategies.duel import duel
from tunekit.engine.strategies.grid import grid_sweep
from tunekit.engine.strategies.reruns import merge_repeats, rerun_unstable, steady
from tunekit.models import MEMORY_LIMIT_REASON, Machine, Trial, Workload
from tunekit.plan import TrialPlan
from tunekit.plan.sweep import Contender

#: A workload whose pools are not capped by the cores (waiting on a service).
IO = Workload(is_coroutine=False, kind="io-bound")
MACHINE = Machine(cpus=2, python="3.11", platform="linux", capacity_cores=2.0)


def trial(key: str, *values: float, wall_s: float = 0.1) -> Trial:
    """``"thread x8"`` measured at ``values`` tasks/s (median and spread from them)."""
    backend, workers = key.split(" x")
    ordered = sorted(values)
    median = ordered[len(ordered) // 2]
    spread = max(abs(v - median) for v in values) / median
    return Trial(
        backend=backend,
        workers=int(workers),
        status="ok",
        tasks=100,
        repeats=len(values),
        throughput=median,
        throughput_spread=spread,
        throughput_values=list(values),
        wall_s=wall_s,
        unstable=spread > 0.10,
    )


@dataclass
class FakeBench:
    """A bench whose every measurement of a configuration is the next one of ``canned``."""

    trials: list[Trial]
    canned: dict[str, list[Trial]]
    measured: list[str] = field(default_factory=list)

    def measure(
        self, plan: TrialPlan, batch_s: float, throughput: float | None = None, grid: bool = False
    ) -> Trial:
        key = f"{plan.backend} x{plan.workers}"
        self.measured.append(key)
        queue = self.canned.get(key)
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
        rec = recommend(self.trials, IO, MACHINE)
        return next(
            (
                t
                for t in self.trials
                if t.status == "ok" and t.backend == rec.model and t.workers == rec.pool_size
            ),
            None,
        )


def keys(trials: Sequence[Trial]) -> list[str]:
    return [f"{t.key}={t.throughput:.0f}" if t.throughput else t.key for t in trials]


# --- the duel ---------------------------------------------------------------------------------

DUEL_CASES = [
    pytest.param(
        # GIVEN threads and processes within 6% at their best
        [
            trial("sequential x1", 100, 100, 100),
            trial("thread x16", 700),
            trial("process x16", 690),
        ],
        {
            "thread x16": [trial("thread x16", 705), trial("thread x16", 700)],
            "process x16": [trial("process x16", 680), trial("process x16", 684)],
            "sequential x1": [trial("sequential x1", 101)],
        },
        # THEN two rounds measure both again, the baseline beside them in the last, and the
        # choice stands
        ["thread x16", "process x16", "thread x16", "process x16", "sequential x1"],
        ["sequential x1=101", "thread x16=702", "process x16=682"],
        id="two rounds, the baseline in the last",
    ),
    pytest.param(
        # GIVEN a second round that turns the lead over
        [
            trial("sequential x1", 100, 100, 100),
            trial("thread x16", 700),
            trial("process x16", 690),
        ],
        {
            "thread x16": [trial("thread x16", 700), trial("thread x16", 600, 600, 600)] * 2,
            "process x16": [trial("process x16", 690), trial("process x16", 720, 720, 720)] * 2,
            "sequential x1": [trial("sequential x1", 101)] * 2,
        },
        # THEN a third round runs, the baseline again in it
        [
            "thread x16",
            "process x16",
            "thread x16",
            "process x16",
            "sequential x1",
            "thread x16",
            "process x16",
            "sequential x1",
        ],
        ["sequential x1=101", "thread x16=600", "process x16=720"],
        id="a last round that changes the choice brings another",
    ),
    pytest.param(
        # GIVEN a backend far behind the best (20%)
        [
            trial("sequential x1", 100, 100, 100),
            trial("thread x16", 700),
            trial("process x16", 560),
        ],
        {},
        # THEN there is nothing to duel: the choice is clear
        [],
        ["sequential x1=100", "thread x16=700", "process x16=560"],
        id="no close contender, no duel",
    ),
    pytest.param(
        # GIVEN contenders whose re-measure is out of budget
        [
            trial("sequential x1", 100, 100, 100),
            trial("thread x16", 700),
            trial("process x16", 690),
        ],
        {},
        # THEN the duel stops at the first refusal and keeps what the sweep measured
        ["thread x16"],
        ["sequential x1=100", "thread x16=700", "process x16=690"],
        id="out of budget stops the duel",
    ),
]


@pytest.mark.parametrize(("before", "canned", "measured", "after"), DUEL_CASES)
def test_the_duel(
    before: list[Trial], canned: dict[str, list[Trial]], measured: list[str], after: list[str]
) -> None:
    bench = FakeBench(before, canned)
    duel(bench, expected=10)
    assert (bench.measured, keys(bench.trials)) == (measured, after)


def test_the_duel_keeps_each_rounds_goodput_for_the_tie_rules() -> None:
    before = [
        trial("sequential x1", 100, 100, 100),
        trial("thread x16", 700),
        trial("process x16", 690),
    ]
    canned = {
        "thread x16": [trial("thread x16", 705), trial("thread x16", 695)],
        "process x16": [trial("process x16", 680), trial("process x16", 700)],
        "sequential x1": [trial("sequential x1", 101)],
    }
    bench = FakeBench(before, canned)
    duel(bench, expected=10)
    rounds = {t.key: t.rounds for t in bench.trials}
    assert rounds == {
        "sequential x1": [101.0],
        "thread x16": [705.0, 695.0],
        "process x16": [680.0, 700.0],
    }


def test_the_duel_brings_in_the_knee_the_recommendation_would_choose() -> None:
    # GIVEN threads whose knee (x8, 97% of x16) is not their peak
    before = [
        trial("sequential x1", 100, 100, 100),
        trial("thread x8", 680),
        trial("thread x16", 700),
        trial("process x16", 690),
    ]
    canned = {
        "thread x16": [trial("thread x16", 700)] * 2,
        "process x16": [trial("process x16", 690)] * 2,
        "thread x8": [trial("thread x8", 690)] * 2,
        "sequential x1": [trial("sequential x1", 100)],
    }
    bench = FakeBench(before, canned)
    duel(bench, expected=10)
    # THEN the knee is measured beside the peaks, as the closest call made
    assert bench.measured[:3] == ["thread x16", "process x16", "thread x8"]


# --- the knee ---------------------------------------------------------------------------------

KNEE_CASES = [
    pytest.param(
        # GIVEN threads at 68% of their best at x8 and 99% at x16: x12 could reach 97%
        [
            trial("sequential x1", 100, 100, 100),
            trial("thread x8", 480),
            trial("thread x16", 700),
            trial("thread x32", 710),
        ],
        {"thread x12": [trial("thread x12", 690)]},
        ["thread x12"],
        id="a pool between could be the knee",
    ),
    pytest.param(
        # GIVEN a straight line up to the knee: halfway cannot reach 97% of the best
        [
            trial("sequential x1", 100, 100, 100),
            trial("thread x8", 350),
            trial("thread x16", 700),
            trial("thread x32", 710),
        ],
        {},
        [],
        id="a straight line has no knee between",
    ),
]


@pytest.mark.parametrize(("before", "canned", "measured"), KNEE_CASES)
def test_the_knee_refinement(
    before: list[Trial], canned: dict[str, list[Trial]], measured: list[str]
) -> None:
    bench = FakeBench(before, canned)
    refine_knee(bench, expected=10)
    assert bench.measured == measured
    assert all(k in [t.key for t in bench.trials] for k in measured)


# --- re-runs ----------------------------------------------------------------------------------

RERUN_CASES = [
    pytest.param(
        [trial("thread x2", 100, 130, 80)],  # spread 30%: unstable
        {"thread x2": [trial("thread x2", 118, 120, 121)]},
        ["thread x2"],
        ["thread x2=119"],
        id="both runs count: the median of all six values",
    ),
    pytest.param(
        [trial("thread x2", 100, 130, 80)],
        {"thread x2": [trial("thread x2", 60, 140, 100)]},
        ["thread x2"],
        ["thread x2=100"],
        id="a noisier run is not dropped either",
    ),
    pytest.param(
        [trial("thread x2", 100, 101, 99), trial("process x2", 100, 130, 80)],
        {},
        ["process x2"],
        ["thread x2=100", "process x2=100"],
        id="only unstable trials, and out of budget stops",
    ),
]


@pytest.mark.parametrize(("before", "canned", "measured", "after"), RERUN_CASES)
def test_unstable_trials_are_measured_once_more(
    before: list[Trial], canned: dict[str, list[Trial]], measured: list[str], after: list[str]
) -> None:
    bench = FakeBench(before, canned)
    rerun_unstable(bench)
    assert (bench.measured, keys(bench.trials)) == (measured, after)


def test_a_trial_measured_again_is_not_measured_a_third_time() -> None:
    bench = FakeBench(
        [trial("thread x2", 100, 130, 80)], {"thread x2": [trial("thread x2", 90, 140, 60)]}
    )
    rerun_unstable(bench)
    rerun_unstable(bench)
    assert bench.measured == ["thread x2"]
    assert bench.trials[0].reruns == 1


@pytest.mark.parametrize(
    ("first", "measured"),
    [
        (trial("thread x2", 100, 101, 99, wall_s=0.1), []),  # steady and as long as planned
        (trial("thread x2", 100, 101, 99, wall_s=0.01), ["thread x2"]),  # far shorter: again
        (trial("thread x2", 100, 130, 80, wall_s=0.1), ["thread x2"]),  # unstable: again
    ],
    ids=["steady", "short", "unstable"],
)
def test_steady_measures_again_before_the_sweep_decides(first: Trial, measured: list[str]) -> None:
    bench = FakeBench([first], {"thread x2": [trial("thread x2", 100, 100, 100)]})
    steady(bench, first, batch_s=0.1)
    assert bench.measured == measured
    assert first.reruns == len(measured)


def test_merged_repeats_keep_every_value_and_the_task_count() -> None:
    first = trial("thread x2", 100, 110, 90)
    first.errors = 3
    again = trial("thread x2", 120, 100, 105)
    again.tasks, again.errors = 50, 1
    merge_repeats(first, again)
    assert first.throughput_values == [100, 110, 90, 120, 100, 105]
    assert (first.throughput, first.repeats, first.tasks, first.errors) == (102.5, 6, 75, 4)
    assert first.reruns == 1


# --- the grid ---------------------------------------------------------------------------------


def test_the_grid_measures_every_size_by_pool_size_and_rules_out_after_the_memory_limit() -> None:
    over = Trial("process", 2, "failed", f"{MEMORY_LIMIT_REASON}stopped", tasks=4)
    canned = {
        "sequential x1": [trial("sequential x1", 100)],
        "process x1": [trial("process x1", 90)],
        "thread x1": [trial("thread x1", 95)],
        "process x2": [over],
        "thread x2": [trial("thread x2", 180)],
        "thread x4": [trial("thread x4", 300)],
    }
    bench = FakeBench([], canned)
    contenders = [Contender("sequential", scales=False), Contender("process"), Contender("thread")]
    grid_sweep(bench, contenders, max_workers=4)
    assert bench.measured == [
        "sequential x1",
        "process x1",
        "thread x1",
        "process x2",
        "thread x2",
        "thread x4",
    ]
    assert [t.key for t in bench.trials if t.status == "skipped"] == ["process x4"]
    assert ruled_out(bench.trials, TrialPlan("process", 8))
    assert not ruled_out(bench.trials, TrialPlan("thread", 8))
