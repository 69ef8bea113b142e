"""The probes stage: each probe (nature, profilers, locks) in a child of its own, within its
share of the budget (``plan.budget.plan_probes``); what it finds goes into the report's
sections. A probe whose shortest run does not fit is skipped with the reason."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tunekit.engine.budget import Budget
from tunekit.engine.config import ProgressCallback
from tunekit.errors import TunekitError
from tunekit.isolation.protocol import ProbeRequest, ProbeResult
from tunekit.isolation.spawn import ChildOutcome, run_in_child
from tunekit.models import ProbeRun, Report
from tunekit.plan.budget import DEFAULT_MIN_CALLS, plan_probes
from tunekit.plugins import PluginManager, collect_probes
from tunekit.target import TargetSpec

#: The report sections a probe's data may fill in.
SECTIONS = ("workload", "machine", "profiles")


def selected_probes(plugins: PluginManager, names: Sequence[str] | None) -> list[tuple[str, float]]:
    """The probes to run, with the calls' worth of time each needs at the least
    (``Probe.min_calls``): ``names`` (checked), or every installed one when None."""
    probes = collect_probes(plugins)
    if names is None:
        names = list(probes)
    unknown = [name for name in names if name not in probes]
    if unknown:
        raise TunekitError(f"unknown probe {unknown[0]!r}; known: {', '.join(probes)}")
    return [
        (name, float(getattr(probes[name].item, "min_calls", DEFAULT_MIN_CALLS))) for name in names
    ]


def run_probes(
    report: Report,
    probes: Sequence[tuple[str, float]],
    spec: TargetSpec,
    budget: Budget,
    task_wall_s: float,
    memory_limit: int,
    profile_dir: str | None,
    progress: ProgressCallback | None = None,
    reserve_s: float = 0.0,
    start_method: str | None = None,
) -> None:
    """Run each of ``probes`` ((name, min_calls)) in a process of its own, within its part of
    the budget; each leaves a ``ProbeRun`` in the report and fills in the sections it measured.
    ``reserve_s`` is what the trials need at the least: a probe never runs into it."""
    if not probes:
        return
    folder = make_profile_dir(report, profile_dir)
    plans = plan_probes(
        probes, budget_s=budget.seconds, call_s=task_wall_s, overhead_s=budget.overhead_s
    )
    for plan in plans:
        if plan.skipped is not None:
            report.probes.append(ProbeRun(plan.name, "skipped", plan.skipped))
            continue
        spare = budget.left() - reserve_s
        if plan.planned_s > spare:
            report.probes.append(ProbeRun(plan.name, "skipped", "out of budget"))
            continue
        if progress is not None:
            progress(f"probe: {plan.name}", None, budget.left())
        request = ProbeRequest(
            probe=plan.name,
            target=spec,
            profile_dir=str(folder),
            time_s=plan.time_s,
            task_wall_s=task_wall_s,
            start_method=start_method,
        )
        outcome = run_in_child(request, plan.timeout_s(spare), memory_limit)
        report.probes.append(probe_run(report, plan.name, outcome))


def probe_run(report: Report, name: str, outcome: ChildOutcome) -> ProbeRun:
    """The probe's record; its ``workload``/``machine``/``profiles`` data go to the report."""
    if outcome.error is not None:
        return ProbeRun(name, "failed", outcome.error.message, outcome.elapsed_s)
    result = outcome.reply if isinstance(outcome.reply, ProbeResult) else None
    if result is not None and result.skipped is not None:
        return ProbeRun(name, "skipped", result.skipped, outcome.elapsed_s)
    if outcome.status == "timeout":
        return ProbeRun(name, "timeout", outcome.reason, outcome.elapsed_s)
    if outcome.status != "ok" or result is None:
        return ProbeRun(name, "failed", outcome.reason, outcome.elapsed_s)
    data = result.data or {}
    for section in SECTIONS:
        merge_known(getattr(report, section), data.get(section, {}))
    return ProbeRun(name, "ok", None, outcome.elapsed_s, data)


def make_profile_dir(report: Report, chosen: str | None) -> Path:
    """The folder profilers write to, made now; named in the report."""
    path = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="tunekit-profiles-"))
    path.mkdir(parents=True, exist_ok=True)
    report.profiles.dir = str(path.resolve())
    return path


def merge_known(section: Any, values: dict[str, Any]) -> None:
    """Set the fields of dataclass ``section`` that ``values`` names (unknown keys are kept
    only in the probe's raw data)."""
    known = {f.name for f in dataclasses.fields(section)}
    for key, value in values.items():
        if key in known:
            setattr(section, key, value)
