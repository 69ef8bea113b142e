"""A backend's declared start-up plans its first trial; a measured one replaces it."""

from __future__ import annotations

from tunekit.engine.bench import TrialBench
from tunekit.engine.budget import Budget
from tunekit.models import Recommendation, Trial
from tunekit.plan import TrialPlan
from tunekit.plan.sweep import Contender
from tunekit.target import TargetSpec


def bench() -> TrialBench:
    """GIVEN a bench whose ``ray`` contender declares 8 s of start-up, ``process`` none."""
    return TrialBench(
        spec=TargetSpec("tunekit.examples:tiny"),
        budget=Budget(30.0),
        memory_limit=2**30,
        task_wall_s=0.001,
        contenders=[Contender("ray", startup_s=8.0), Contender("process")],
        advise=lambda trials: Recommendation(model=None),
    )


def test_the_first_trial_is_planned_with_the_declared_start_up() -> None:
    assert bench().startup_s(TrialPlan("ray", 2)) == 8.0
    assert bench().startup_s(TrialPlan("process", 2)) == 0.0


def test_a_measured_start_up_replaces_the_declared_one() -> None:
    measuring = bench()
    measuring.trials.append(Trial(backend="ray", workers=1, status="ok", startup_s=4.0))
    assert measuring.startup_s(TrialPlan("ray", 2)) == 8.0  # 4 s per worker, measured
    assert measuring.startup_s(TrialPlan("ray", 1)) == 4.0
