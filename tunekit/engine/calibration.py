"""The first look at the target: import it in a child, time a few calls, name its kind.

What it learns (the call time, and the fixed cost of a child) sizes every trial after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tunekit.advice.classify import Nature, classify
from tunekit.engine.budget import BUDGET_MARGIN_S
from tunekit.errors import TargetError
from tunekit.isolation.protocol import Inspection, InspectRequest
from tunekit.isolation.spawn import run_in_child
from tunekit.models import Machine, Trial, Workload
from tunekit.target import TargetSpec

#: Sequential time spent timing the target before the sweep (like timeit's autorange).
CALIBRATION_S = 0.2


@dataclass
class Calibration:
    """The target's inspection, and a child's cost besides its calls."""

    inspection: Inspection
    #: Seconds a child took beyond the calls it timed: start, import, clean-up.
    overhead_s: float
    #: The per-worker setup factory's spec, if one was given.
    setup: str | None = None

    @property
    def always_fails(self) -> bool:
        """The warm-up call failed, and so did every timed one."""
        found = self.inspection
        return found.errors > found.calls or (found.warmup_only and found.errors == 1)

    def baseline(self) -> Trial:
        """The calibration's timed calls as the sequential baseline: a sequential run of its
        own, after a warm-up call, in a child of its own, as a sequential trial is; used when
        calls are so long that a trial of their own would cost several calls more."""
        found = self.inspection
        wall = found.task_wall_s * found.calls
        rate = found.calls / wall if wall else 0.0
        good = (found.calls - found.timed_errors) / wall if wall else 0.0
        return Trial(
            backend="sequential",
            workers=1,
            status="ok",
            tasks=found.calls,
            repeats=1,
            throughput=rate,
            throughput_spread=0.0,
            throughput_values=[rate],
            goodput=good,
            goodput_spread=0.0,
            goodput_values=[good],
            error_rate=found.timed_errors / found.calls if found.calls else 0.0,
            errors=found.timed_errors,
            first_error=found.first_error if found.timed_errors else None,
            latency_s=found.latency_s,
            cpu_s=found.task_cpu_s * found.calls,
            wall_s=wall,
        )

    def workload(self) -> Workload:
        """What one call costs, as the report records it."""
        found = self.inspection
        wall = found.task_wall_s
        return Workload(
            is_coroutine=found.is_coroutine,
            consumes=found.consumes,
            task_wall_s=wall,
            task_cpu_s=found.task_cpu_s,
            cpu_fraction=min(1.0, found.task_cpu_s / wall) if wall else None,
            calibration_calls=found.calls,
            inputs=found.inputs,
            setup=self.setup,
            setup_s=found.setup_s,
            native_pools=list(found.native_pools),
            coroutine_loop=found.coroutine_loop,
        )


def calibrate(
    spec: TargetSpec, backends: list[str], left_s: float, memory_limit: int
) -> Calibration:
    """Import the target in a child, learn which ``backends`` support it, time a few calls.

    Raises the child's ``TargetError``/``InputError``, or a ``TargetError`` saying why the
    child gave no answer (too slow for the ``left_s`` of budget, over memory, crashed).
    """
    timeout = max(left_s, 1.0) + BUDGET_MARGIN_S
    request = InspectRequest(
        target=spec, calibrate_s=CALIBRATION_S, backends=tuple(backends), deadline_s=left_s
    )
    outcome = run_in_child(request, timeout, memory_limit)
    if outcome.error is not None:
        raise outcome.error.exception()
    if outcome.status == "timeout":
        raise TargetError(
            f"importing {spec.target!r} and calling it once took longer than the "
            f"{timeout:.0f} s budget; an analysis needs the time of four calls at the least (the "
            "calibration's, and a trial of one concurrent model, three calls long): give a "
            "--budget of four times a call or more"
        )
    if outcome.status == "memory":
        raise TargetError(f"importing or calling {spec.target!r} was {outcome.reason}")
    if outcome.status != "ok" or not isinstance(outcome.reply, Inspection):
        raise TargetError(f"importing or calling {spec.target!r} crashed: {outcome.reason}")
    found = outcome.reply
    # the child's fixed cost: what it took besides the calls and the backends' checks
    timed = 0.0 if found.warmup_only else found.calls * found.task_wall_s
    spent = found.first_call_s + timed + found.checks_s + (found.setup_s or 0.0)
    overhead = max(outcome.elapsed_s - spent, 0.0)
    return Calibration(found, overhead, spec.setup)


def classify_workload(workload: Workload, machine: Machine) -> None:
    """Label the workload from the calibration and the nature probe's fractions."""
    if workload.task_wall_s is None:
        return
    cheapest = workload.dispatch_s.get("asyncio" if workload.is_coroutine else "thread")
    workload.kind, workload.kind_reason = classify(
        Nature(
            is_coroutine=workload.is_coroutine,
            task_wall_s=workload.task_wall_s,
            cpu_fraction=workload.cpu_fraction or 0.0,
            thread_parallelism=workload.thread_parallelism,
            await_overlap=workload.await_overlap,
            min_dispatch_s=cheapest,
            free_cores=machine.capacity_cores or float(machine.cpus),
            gil_enabled=machine.gil_enabled,
        )
    )
