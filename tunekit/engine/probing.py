"""The probes stage: each probe (nature, profilers, locks) in a child of its own, within its
share of the budget; what it finds goes into the report's sections."""

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
from tunekit.plugins import PluginManager, collect_probes
from tunekit.target import TargetSpec

#: Share of the budget the probes may use together, and the most seconds of calls each aims for
#: (half a second is 500 pyinstrument samples at its 1 ms interval, and thousands of lock
#: acquisitions for the lock probe).
PROBE_SHARE = 0.1
PROBE_TIME_S = 0.5
#: A probe may run this many times its planned calls, plus this many calls' time and seconds,
#: before it is stopped (profilers slow the calls down, and write their files afterwards).
PROBE_TIMEOUT_FACTOR = 5
PROBE_TIMEOUT_CALLS = 10
PROBE_TIMEOUT_S = 5.0
#: Below this many seconds left a probe is skipped.
PROBE_MIN_S = 1.0
#: The report sections a probe's data may fill in.
SECTIONS = ("workload", "machine", "profiles")


def selected_probes(plugins: PluginManager, names: Sequence[str] | None) -> list[str]:
    """The probes to run: ``names`` (checked), or every installed one when None."""
    probes = collect_probes(plugins)
    if names is None:
        return list(probes)
    unknown = [name for name in names if name not in probes]
    if unknown:
        raise TunekitError(f"unknown probe {unknown[0]!r}; known: {', '.join(probes)}")
    return list(names)


def run_probes(
    report: Report,
    names: Sequence[str],
    spec: TargetSpec,
    budget: Budget,
    task_wall_s: float,
    memory_limit: int,
    profile_dir: str | None,
    progress: ProgressCallback | None = None,
) -> None:
    """Run every probe in ``names`` in a process of its own, within ``PROBE_SHARE`` of the
    budget; each leaves a ``ProbeRun`` in the report and fills in the sections it measured."""
    if not names:
        return
    folder = make_profile_dir(report, profile_dir)
    time_s = min(PROBE_TIME_S, budget.seconds * PROBE_SHARE / len(names) / 2)
    for name in names:
        if progress is not None:
            progress(f"probe: {name}", None, budget.left())
        request = ProbeRequest(
            probe=name,
            target=spec,
            profile_dir=str(folder),
            time_s=time_s,
            task_wall_s=task_wall_s,
        )
        timeout = min(
            PROBE_TIMEOUT_FACTOR * time_s + PROBE_TIMEOUT_CALLS * task_wall_s + PROBE_TIMEOUT_S,
            budget.left(),
        )
        if timeout <= PROBE_MIN_S:
            report.probes.append(ProbeRun(name, "skipped", "out of budget"))
            continue
        outcome = run_in_child(request, timeout, memory_limit)
        report.probes.append(probe_run(report, name, outcome))


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
