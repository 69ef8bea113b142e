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
    loop = report.workload.coroutine_loop
    if loop is not None:
        reason = f"the coroutine runs under {loop}'s loop only; probes run coroutines on asyncio's"
        report.probes += [ProbeRun(name, "skipped", reason) for name, _ in probes]
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


#: Models whose workers share no memory: there a ``threading`` lock is per process, so the lock
#: probe's threads at that pool size would measure a contention the pool does not have.
PROCESS_MODELS = ("process",)
#: A re-run must leave the report its time: it runs only when the budget left holds twice the
#: first run's elapsed time (the run itself, and as much again for the child's start and noise).
RERUN_MARGIN = 2.0


def rerun_at_pool(
    report: Report,
    name: str,
    spec: TargetSpec,
    budget: Budget,
    task_wall_s: float,
    memory_limit: int,
    model: str | None,
    pool_size: int | None,
) -> str | None:
    """Run probe ``name`` again with ``pool_size`` callers, the pool being recommended, when
    its first run was ok with another count and it fits the budget. The new run replaces the
    first (whose caller count its data keeps); under a process model it runs processes, and
    only what processes share (``multiprocessing`` primitives, ``process_sites``) is taken from
    it, with its own run length and callers. A note, or None."""
    index = next((i for i, p in enumerate(report.probes) if p.name == name), None)
    if index is None or model is None or pool_size is None or pool_size < 2:
        return None
    first = report.probes[index]
    data = first.data or {}
    in_processes = model in PROCESS_MODELS
    if first.status != "ok" or (data.get("threads") == pool_size and not in_processes):
        return None
    elapsed = first.elapsed_s or 0.0
    if budget.left() < RERUN_MARGIN * elapsed:
        return (
            f"{name} probe: measured at {data.get('threads')} callers, not at the recommended "
            f"pool of {pool_size}: a re-run did not fit the budget left"
        )
    request = ProbeRequest(
        probe=name,
        target=spec,
        profile_dir=report.profiles.dir or tempfile.gettempdir(),
        time_s=float(data.get("wall_s") or task_wall_s),
        task_wall_s=task_wall_s,
        workers=pool_size,
        model=model,
    )
    outcome = run_in_child(request, RERUN_MARGIN * elapsed, memory_limit)
    rerun = probe_run(report, name, outcome)
    if rerun.status != "ok" or rerun.data is None:
        return f"{name} probe: the re-run at the recommended pool of {pool_size} {rerun.status}"
    if in_processes:
        shared = process_sites(rerun.data)
        first.data = {**data, "locks": [*without_process_sites(data), *shared]}
        first.data["process_run"] = {
            key: rerun.data.get(key) for key in ("threads", "wall_s", "calls", "errors")
        }
        return None
    rerun.data["first_run_threads"] = data.get("threads")
    report.probes[index] = rerun
    return None


def process_sites(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The sites of a run in processes that those processes share, each with its run's length
    and callers (the advice judges waits against them)."""
    return [
        {**site, "run_wall_s": data.get("wall_s"), "run_threads": data.get("threads")}
        for site in data.get("locks", [])
        if str(site.get("kind", "")).startswith("multiprocessing.")
    ]


def without_process_sites(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The sites of a run that processes do not share."""
    return [
        site
        for site in data.get("locks", [])
        if not str(site.get("kind", "")).startswith("multiprocessing.")
    ]
