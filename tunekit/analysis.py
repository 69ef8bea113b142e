"""The engine behind ``tunekit analyze`` and ``tunekit.analyze()``: inspect, sweep, recommend.

The parent never imports the user's code: every step that touches it runs in a child process
(``tunekit.isolation``), so a crash or hang costs one trial and the analysis goes on.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from tunekit import __version__
from tunekit.errors import InputError, TargetError, Terminated, TunekitError
from tunekit.isolation import ChildOutcome, run_in_child
from tunekit.models import Machine, Recommendation, Report, Trial, Workload, trial_from_dict
from tunekit.plugins import collect_backends, get_plugin_manager
from tunekit.recommend import recommend
from tunekit.target import TargetSpec, split_spec
from tunekit.trials import TrialPlan, plan_sweep, task_cost, tasks_for

#: Sequential time spent timing the target before the sweep (like timeit's autorange).
CALIBRATION_S = 0.2
#: Timing values per trial (the median is reported, with the spread).
DEFAULT_REPEATS = 3
#: A trial may run this many times longer than planned before it is stopped as hung.
TIMEOUT_FACTOR = 4.0
#: Seconds allowed beyond the budget for the last child to be stopped and the report written.
BUDGET_MARGIN_S = 1.0
#: Warm-up batch, plus the repeats: how many batches a trial runs.
WARMUP_BATCHES = 1

ProgressCallback = Callable[[str, TrialPlan | None, float], None]


@dataclass
class AnalysisConfig:
    """Everything an analysis needs; the CLI and the Python API both build one."""

    target: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    inputs: str | None = None
    backends: Sequence[str] | None = None
    max_workers: int = 16
    budget: float = 30.0
    repeats: int = DEFAULT_REPEATS

    def validate(self) -> None:
        """Reject values no analysis can use (the CLI reports bad options as usage errors)."""
        split_spec(self.target)
        if self.inputs is not None:
            split_spec(self.inputs)
            if self.args:
                raise InputError("give per-task arguments with either --args or --inputs")
        if self.budget <= 0:
            raise InputError(f"budget must be positive, not {self.budget}")
        if self.max_workers < 1:
            raise InputError(f"max_workers must be at least 1, not {self.max_workers}")
        if self.repeats < 1:
            raise InputError(f"repeats must be at least 1, not {self.repeats}")


def run_analysis(config: AnalysisConfig, progress: ProgressCallback | None = None) -> Report:
    """Measure the target under every selected backend within the budget and recommend one.

    Ctrl-C or SIGTERM stop the analysis: the report then holds what was measured so far, with
    ``complete`` false and ``interrupted`` naming the signal.
    """
    config.validate()
    started = perf_counter()
    deadline = started + config.budget
    spec = TargetSpec(config.target, list(config.args), dict(config.kwargs), config.inputs)
    names = _select_backends(config.backends)
    report = Report(
        target=config.target,
        machine=_machine(),
        workload=Workload(is_coroutine=False),
        trials=[],
        recommendation=Recommendation(None, None, None, None),
        tunekit_version=__version__,
        budget_s=config.budget,
        complete=False,
    )
    failure: str | None = None
    try:
        info = _inspect(spec, deadline)
        report.workload = Workload(
            is_coroutine=info["is_coroutine"],
            task_wall_s=info["task_wall_s"],
            task_cpu_s=info["task_cpu_s"],
            calibration_calls=info["calls"],
            inputs=info["inputs"],
        )
        if info["errors"] > info["calls"]:  # the warm-up call failed too: every call failed
            failure = f"the target raised on every call: {info['first_error']}"
        else:
            _sweep(
                config=config,
                spec=spec,
                names=names,
                info=info,
                deadline=deadline,
                report=report,
                progress=progress,
            )
        report.complete = True
    except KeyboardInterrupt:
        report.interrupted = "SIGINT"
    except Terminated:
        report.interrupted = "SIGTERM"
    report.recommendation = recommend(report.trials, report.workload)
    if failure is not None:
        report.recommendation.reasons = [failure]
    report.elapsed_s = perf_counter() - started
    return report


def _inspect(spec: TargetSpec, deadline: float) -> dict[str, Any]:
    """Import the target in a child, learn which backends support it and time a few calls."""
    timeout = max(deadline - perf_counter(), 1.0) + BUDGET_MARGIN_S
    request = {"mode": "inspect", "target": spec.to_dict(), "calibrate_s": CALIBRATION_S}
    outcome = run_in_child(request, timeout)
    payload = outcome.payload or {}
    if "error" in payload:
        error = payload["error"]
        raise (InputError if error["type"] == "InputError" else TargetError)(error["message"])
    if outcome.status == "timeout":
        raise TargetError(
            f"importing {spec.target!r} and calling it once took longer than the "
            f"{timeout:.0f} s budget; give a larger --budget"
        )
    if outcome.status != "ok":
        raise TargetError(f"importing or calling {spec.target!r} crashed: {outcome.reason}")
    payload["overhead_s"] = max(outcome.elapsed_s - payload["calls"] * payload["task_wall_s"], 0)
    return payload


def _sweep(
    *,
    config: AnalysisConfig,
    spec: TargetSpec,
    names: list[tuple[str, bool]],
    info: dict[str, Any],
    deadline: float,
    report: Report,
    progress: ProgressCallback | None,
) -> None:
    """Run every planned trial in its own child, sharing what is left of the budget evenly."""
    supported = []
    for name, scales in names:
        reason = info["supports"].get(name)
        if reason is None:
            supported.append((name, scales))
        else:
            report.trials.append(Trial(backend=name, workers=1, status="skipped", reason=reason))
    plans = plan_sweep(supported, config.max_workers)
    overhead_s = info["overhead_s"]
    batches = config.repeats + WARMUP_BATCHES
    for index, plan in enumerate(plans):
        left = deadline - perf_counter()
        share = left / (len(plans) - index)
        task_s = task_cost(plan.backend, info["task_wall_s"])
        tasks = tasks_for(task_s, plan.workers, (share - overhead_s) / batches)
        planned = overhead_s + batches * tasks * task_s
        if planned > left:
            report.trials.append(
                _skip(
                    plan,
                    f"out of budget: needs about {planned:.1f} s, "
                    f"{max(left, 0):.1f} s left (raise --budget)",
                )
            )
            continue
        if progress is not None:
            progress("trial", plan, left)
        timeout = min(TIMEOUT_FACTOR * planned + 1.0, left + BUDGET_MARGIN_S)
        report.trials.append(_measure(spec, plan, tasks, config.repeats, timeout))


def _measure(spec: TargetSpec, plan: TrialPlan, tasks: int, repeats: int, timeout: float) -> Trial:
    request = {
        "mode": "trial",
        "target": spec.to_dict(),
        "backend": plan.backend,
        "workers": plan.workers,
        "tasks": tasks,
        "repeats": repeats,
    }
    outcome = run_in_child(request, timeout)
    return _trial_from_outcome(plan, tasks, outcome)


def _trial_from_outcome(plan: TrialPlan, tasks: int, outcome: ChildOutcome) -> Trial:
    payload = outcome.payload or {}
    if "error" in payload:
        return _skip(plan, payload["error"]["message"], status="failed", tasks=tasks)
    if outcome.status == "ok":
        return trial_from_dict(payload)
    return _skip(plan, outcome.reason or "unknown failure", status=outcome.status, tasks=tasks)


def _skip(plan: TrialPlan, reason: str, status: Any = "skipped", tasks: int = 0) -> Trial:
    return Trial(
        backend=plan.backend, workers=plan.workers, status=status, reason=reason, tasks=tasks
    )


def _select_backends(requested: Sequence[str] | None) -> list[tuple[str, bool]]:
    """``(name, scales)`` for the requested backends (all registered ones by default)."""
    registered = collect_backends(get_plugin_manager())
    if not requested:
        return [(name, reg.item.scales) for name, reg in registered.items()]
    unknown = [name for name in requested if name not in registered]
    if unknown:
        raise TunekitError(f"unknown backend {unknown[0]!r}; known: {', '.join(registered)}")
    return [(name, registered[name].item.scales) for name in dict.fromkeys(requested)]


def _machine() -> Machine:
    # sched_getaffinity respects taskset and cgroup cpusets; it is missing on macOS.
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity else os.cpu_count() or 1
    # allow_none: asking must not fix the start method for the user's own code.
    method = multiprocessing.get_start_method(allow_none=True)
    return Machine(
        cpus=cpus,
        python=platform.python_version(),
        platform=f"{sys.platform}-{platform.machine()}",
        start_method=method or multiprocessing.get_all_start_methods()[0],
    )
