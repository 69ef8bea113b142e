"""The probe contract: a measurement that needs its own process, such as a profiler.

Probes never run during a throughput trial, and never two in one process: profilers share the
interpreter's hooks and corrupt each other. Each probe runs in a fresh child process
(``tunekit.isolation.worker``) and returns JSON-compatible data. Keys ``workload``, ``machine``
and ``profiles`` of that data are merged into the report sections of the same name (fields the
report knows); everything is also kept as the probe's raw ``data`` in ``report.probes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from tunekit.target import Target


@dataclass(frozen=True)
class ProbeContext:
    """What a probe knows before it runs."""

    #: Folder for files the probe saves (HTML profiles); it exists.
    profile_dir: Path
    #: Seconds of calls the probe should aim for (its share of the budget).
    time_s: float
    #: Wall time of one sequential call, from calibration.
    task_wall_s: float
    #: CPUs this process may use.
    cpus: int
    #: Concurrent callers to run, when the caller knows better than the probe (the pool size
    #: being recommended); None: the probe's own default.
    workers: int | None = None
    #: The model being recommended, when known (the lock probe runs processes for "process").
    model: str | None = None


@runtime_checkable
class Probe(Protocol):
    """A measurement of the target that runs in its own process."""

    name: str
    description: str

    def supports(self, target: Target) -> str | None:
        """None if the probe can measure ``target`` here; otherwise why not."""

    def run(self, target: Target, context: ProbeContext) -> dict[str, Any]:
        """Measure and return JSON-compatible data."""


# A probe may also define ``min_calls`` (float, default 3): how many call times its shortest run
# takes; the analysis skips it, with the reason, when that does not fit its share of the budget
# (``plan.budget``). And ``prepare(self) -> None``: called in its process before the target
# is imported (the lock probe replaces ``threading.Lock`` there, since ``_thread.lock`` cannot
# be subclassed and locks made at import time must be seen).


def calls_for(context: ProbeContext, fraction: float = 1.0) -> int:
    """How many calls fill ``fraction`` of the probe's time (at least 1, at most 100 000)."""
    wanted = context.time_s * fraction / max(context.task_wall_s, 1e-7)
    return max(1, min(int(wanted), 100_000))


def timed(run: Any, *args: Any) -> float:
    """Wall seconds of ``run(*args)``."""
    start = perf_counter()
    run(*args)
    return perf_counter() - start
