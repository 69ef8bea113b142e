"""How trials are sized and the budget is shared, from the call time alone (no timing): the
shape of a trial of short and of long calls, the probes' share, and the plan of a 2 s call in
the default 30 s budget."""

from __future__ import annotations

import pytest

from tunekit.models import Trial
from tunekit.plan.budget import budget_needed_line, plan_probes, smallest_sweep_s
from tunekit.plan.sizing import TrialPlan, TrialShape, predicted_throughput, trial_shape

BUILT_IN_PROBES = [("nature", 4.0), ("pyinstrument", 4.0), ("memray", 8.0), ("locks", 2.0)]


def t(workers: int, throughput: float, backend: str = "thread") -> Trial:
    return Trial(backend, workers, "ok", tasks=100, repeats=3, throughput=throughput)


@pytest.mark.parametrize(
    ("plan", "earlier", "growth", "expected"),
    [
        # a larger pool: the previous one x 1.5, between no gain and perfect doubling
        (TrialPlan("thread", 4), [t(2, 200)], None, 300),
        # ... x 1 in the grid, so that a gain shortens the batch instead of overrunning it
        (TrialPlan("thread", 4), [t(2, 200)], 1.0, 200),
        # a challenger jumping to the leader's size is sized like the leader, up to perfect
        # scaling from its own last pool
        (TrialPlan("process", 16), [t(2, 190, "process"), t(16, 1200)], None, 1200),
        (TrialPlan("process", 16), [t(2, 100, "process"), t(16, 1200)], None, 800),
        # a first trial: sequential x 1.5, or the fastest backend at its size ...
        (TrialPlan("thread", 2), [t(1, 100, "sequential")], None, 150),
        (TrialPlan("asyncio", 8), [t(1, 100, "sequential"), t(8, 700)], None, 700),
        # ... but no more than its workers can do at the call's time plus its dispatch cost:
        # a sub-microsecond call on an event loop costs 60 us per call, not 0.1 us
        (TrialPlan("asyncio", 2), [t(1, 1e7, "sequential"), t(2, 6e5)], None, 2 / 60.1e-6),
    ],
)
def test_trials_are_sized_from_what_was_measured(
    plan: TrialPlan, earlier: list[Trial], growth: float | None, expected: float
) -> None:
    baseline = next((x for x in earlier if x.backend == "sequential"), None)
    call_s = 1 / baseline.throughput if baseline and baseline.throughput else 1e-3
    guess = predicted_throughput(plan, earlier, call_s, growth, baseline)
    assert guess == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize(
    ("throughput", "workers", "expected"),
    [
        # short calls: windows of 0.1 s (here 100 calls), a warm-up, two lead waves
        (1000.0, 4, TrialShape(tasks=100, repeats=3, lead_waves=2, warmup=10)),
        # a call of 0.5 s is longer than a window: two windows of one wave, one lead wave, no
        # warm-up
        (2.0, 1, TrialShape(tasks=1, repeats=2, lead_waves=1, warmup=0)),
        (4.0, 2, TrialShape(tasks=2, repeats=2, lead_waves=1, warmup=0)),
    ],
)
def test_the_shape_of_a_trial_follows_the_call_time(
    throughput: float, workers: int, expected: TrialShape
) -> None:
    assert trial_shape(throughput, workers, batch_s=0.1, repeats=3) == expected


def test_the_plan_of_a_2_s_call_in_a_30_s_budget() -> None:
    # GIVEN a call of 2 s, a child overhead of 0.3 s, and the default budget of 30 s
    call_s, overhead_s, budget_s = 2.0, 0.3, 30.0
    # THEN the probes get a fifth of it: each whose shortest run does not fit is skipped
    plans = plan_probes(BUILT_IN_PROBES, budget_s=budget_s, call_s=call_s, overhead_s=overhead_s)
    assert [(p.name, p.skipped is None) for p in plans] == [
        ("nature", False),
        ("pyinstrument", False),
        ("memray", False),
        ("locks", True),
    ]
    assert plans[0].skipped == (
        "its shortest run (4 calls of 2 s) needs about 8.3 s, more than the 6.0 s left of the "
        "probes' share of the budget; a --budget of 42 s would fit it"
    )
    probes_s = sum(p.planned_s for p in plans if p.skipped is None)
    assert probes_s == pytest.approx(4.3)
    # AND a trial of 2 workers is lead, two windows and tail: 4 calls a worker, 8 s, or with
    # one window when the budget is short, 3 calls a worker
    shape = trial_shape(1.0, 2, batch_s=0.1, repeats=3)
    assert shape.seconds(2, throughput=1.0) == 8.0
    assert TrialShape(2, 1, 1, 0).seconds(2, throughput=1.0) == 6.0
    # AND the smallest sweep that recommends fits what is left after calibration (2 calls)
    # and the probes: the calibration's calls are the baseline, one trial of one model remains
    spent = 4 * overhead_s + 2 * call_s + probes_s
    assert smallest_sweep_s(call_s, overhead_s, baseline_measured=True) <= budget_s - spent


def test_a_budget_that_cannot_hold_one_trial_says_what_it_needs() -> None:
    # a call of 20 s: after the calibration (40 s) nothing is left of 30 s
    needed = smallest_sweep_s(20.0, 0.3, baseline_measured=True)
    assert needed == pytest.approx(60.3)
    assert budget_needed_line(20.0, needed, left_s=-10.0, spent_s=40.5) == (
        "a call takes 20 s: the smallest sweep that can recommend (the sequential baseline and "
        "one concurrent model, a few calls each) needs about 60 s, and 0 s of the budget were "
        "left; give --budget 101 or more"
    )


def test_short_calls_give_every_probe_its_time() -> None:
    plans = plan_probes(BUILT_IN_PROBES, budget_s=30.0, call_s=0.002, overhead_s=0.3)
    assert all(p.skipped is None for p in plans)
    assert {p.time_s for p in plans} == {0.5}
