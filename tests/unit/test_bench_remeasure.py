"""A speed-up that cannot be is judged again side by side: the baseline is measured once more
just before the trial, and the later runs are kept (``TrialBench.measure``)."""

from __future__ import annotations

from collections.abc import Sequence

from tunekit.advice.sanity import implausible_speedup
from tunekit.engine.bench import TrialBench
from tunekit.engine.budget import Budget
from tunekit.models import Recommendation, Trial, Workload
from tunekit.plan import TrialPlan
from tunekit.plan.sweep import Contender
from tunekit.target import TargetSpec

CPU_BOUND = Workload(is_coroutine=False, kind="cpu-bound")


class ScriptedBench(TrialBench):
    """A bench whose trials are given throughputs, in the order they are measured."""

    def __init__(self, script: dict[str, list[float]]) -> None:
        super().__init__(
            spec=TargetSpec("tunekit.examples:tiny"),
            budget=Budget(30.0),
            memory_limit=2**30,
            task_wall_s=0.01,
            contenders=[Contender("sequential", scales=False), Contender("process")],
            advise=lambda trials: Recommendation(model=None),
            check=self._check,
        )
        self.script = script
        self.measured: list[str] = []

    def _check(self, trial: Trial, trials: Sequence[Trial]) -> str | None:
        baseline = next((t for t in trials if t.backend == "sequential" and t.usable), None)
        return implausible_speedup(trial, baseline, CPU_BOUND, cpus=2, noise=0.05)

    def _measure_once(
        self, plan: TrialPlan, batch_s: float, throughput: float | None, grid: bool
    ) -> Trial:
        self.measured.append(f"{plan.backend} x{plan.workers}")
        value = self.script[plan.backend].pop(0)
        return Trial(plan.backend, plan.workers, "ok", throughput=value, tasks=100)


def test_a_baseline_met_in_a_slow_spell_is_measured_again_beside_the_trial() -> None:
    # GIVEN a baseline of 100 calls/s, then 260 with 2 workers on 2 CPUs (2.6x: cannot be)
    bench = ScriptedBench({"sequential": [100.0, 130.0], "process": [260.0, 250.0]})
    bench.trials.append(baseline := bench.measure(TrialPlan("sequential", 1), 0.1))
    # WHEN the pool is measured
    trial = bench.measure(TrialPlan("process", 2), 0.1)
    # THEN the baseline is the same object, measured anew: a strategy holding it (the duel's
    # lineup) still finds it in ``trials``
    assert bench.trials[0] is baseline
    # THEN the baseline was measured again just before the pool's second run, and both later
    # runs are kept: 250 / 130 = 1.92x, which can be
    assert bench.measured == ["sequential x1", "process x2", "sequential x1", "process x2"]
    assert bench.trials[0].throughput == 130.0 and bench.trials[0].reruns == 1
    assert trial.throughput == 250.0 and trial.suspect is None and trial.reruns == 1


def test_a_speed_up_that_still_cannot_be_side_by_side_is_flagged_not_ranked() -> None:
    bench = ScriptedBench({"sequential": [100.0, 101.0], "process": [260.0, 255.0]})
    bench.trials.append(bench.measure(TrialPlan("sequential", 1), 0.1))
    trial = bench.measure(TrialPlan("process", 2), 0.1)
    assert bench.trials[0].throughput == 101.0  # the later baseline, whatever its value
    assert trial.suspect is not None and "2.52x sequential" in trial.suspect
    assert not trial.usable


def test_a_plausible_speed_up_measures_nothing_again() -> None:
    bench = ScriptedBench({"sequential": [100.0], "process": [190.0]})
    bench.trials.append(bench.measure(TrialPlan("sequential", 1), 0.1))
    bench.measure(TrialPlan("process", 2), 0.1)
    assert bench.measured == ["sequential x1", "process x2"]
