"""The measurements and the report: plain dataclasses that round-trip through JSON.

Field meanings are documented in docs/json-report.md; a later schema version may add
fields but never change the meaning of one.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tunekit.errors import ReportError
from tunekit.runs import RunRecord
from tunekit.trials import MEMORY_LIMIT_REASON, Latency, Trial, TrialStatus

#: The data model; one trial's record is defined in tunekit.trials and belongs to it.
__all__ = [
    "MEMORY_LIMIT_REASON",
    "SCHEMA",
    "SCHEMA_VERSION",
    "InnerLimit",
    "InterpreterRun",
    "Latency",
    "Machine",
    "NativePool",
    "ProbeRun",
    "Profiles",
    "Recommendation",
    "Report",
    "ScalingFit",
    "Trial",
    "TrialStatus",
    "Workload",
    "from_data",
    "set_renderer",
]
SCHEMA = "tunekit.report/1"
SCHEMA_VERSION = 1

T = TypeVar("T")

#: Renders a report in a registered format; set by the package (``tunekit/__init__.py``) so that
#: the data model never imports its renderers (they live in the layers above it).
_renderer: Callable[[Report, str], str] | None = None


def set_renderer(render: Callable[[Report, str], str]) -> None:
    """Make ``Report.render`` use ``render(report, fmt)``."""
    global _renderer
    _renderer = render


@dataclass
class Machine:
    """Where the analysis ran."""

    cpus: int
    python: str
    platform: str
    start_method: str = "fork"
    #: Cores' worth of CPU time that spinning processes obtained when the analysis started.
    capacity_cores: float | None = None
    #: Share of the CPUs busy with other work then: 1 - capacity_cores / cpus.
    background_load: float | None = None
    #: The same capacity measured again after the sweep.
    capacity_after_cores: float | None = None
    #: 1-minute load average when the analysis started.
    load_average: float | None = None
    #: The interpreter is a free-threaded build (``Py_GIL_DISABLED``).
    free_threaded: bool = False
    #: The GIL was on once the target was imported (asked in the calibration child: an
    #: extension can turn it back on in a free-threaded build).
    gil_enabled: bool = True


@dataclass
class NativePool:
    """A native thread pool loaded in the calibration child after one call (threadpoolctl's
    ``threadpool_info()``): a BLAS or OpenMP library and the threads it runs per process."""

    library: str
    #: "blas" or "openmp".
    api: str
    threads: int
    version: str | None = None
    #: The installed package that ships the library (``numpy`` for numpy's bundled OpenBLAS).
    package: str | None = None

    @property
    def name(self) -> str:
        """``numpy's openblas``, or the library alone when no package ships it."""
        return f"{self.package}'s {self.library}" if self.package else self.library


@dataclass
class Workload:
    """What one task costs, from a short sequential calibration run."""

    is_coroutine: bool
    task_wall_s: float | None = None
    task_cpu_s: float | None = None
    kind: str | None = None
    peak_memory_bytes: int | None = None
    calibration_calls: int = 0
    inputs: int = 1
    #: Why ``kind`` is what it is, with the numbers.
    kind_reason: str | None = None
    #: CPU time / wall time of a sequential call, over the share of a core the process got.
    cpu_fraction: float | None = None
    #: Share of a core a spinning loop got beside the calls (1.0 on an idle machine).
    core_share: float | None = None
    #: Sum of thread CPU time / wall time with 2 threads.
    thread_parallelism: float | None = None
    #: Coroutines: how many of 8 started together were in progress at once.
    await_overlap: float | None = None
    #: Measured seconds per no-op task for thread, asyncio and process pools.
    dispatch_s: dict[str, float] = field(default_factory=dict)
    #: Bytes allocated per call (memray), freed or not.
    allocated_bytes_per_task: int | None = None
    #: "generator" / "async generator": a call consumed what the target yields to the end.
    consumes: str | None = None
    #: The per-worker setup factory ("module:factory") whose result is every call's first
    #: argument, and the seconds it took in the calibration (not part of ``task_wall_s``).
    setup: str | None = None
    setup_s: float | None = None
    #: The backend whose event loop ran the calibration's calls, for a coroutine asyncio's loop
    #: cannot run (written for trio); None: asyncio's, or a plain function.
    coroutine_loop: str | None = None
    #: Native thread pools (BLAS, OpenMP) the target's call loaded; empty when none.
    native_pools: list[NativePool] = field(default_factory=list)

    @property
    def native_threads(self) -> int:
        """The most threads one of its native pools runs per process; 0 without any."""
        return max((p.threads for p in self.native_pools), default=0)


@dataclass
class Profiles:
    """What the profilers found, and where their HTML files are."""

    dir: str | None = None
    hot_functions: list[dict[str, Any]] = field(default_factory=list)
    cpu_html: str | None = None
    cpu_threads_html: str | None = None
    pyinstrument_overhead: float | None = None
    top_allocations: list[dict[str, Any]] = field(default_factory=list)
    memory_html: str | None = None
    #: The flame graph's scripts are inlined (memray's ``--no-web``); False: it loads them from a
    #: CDN, so it needs a network connection (a memray without that option).
    memory_html_offline: bool | None = None
    memray_overhead: float | None = None
    memory_calls: int | None = None


@dataclass
class ScalingFit:
    """The Universal Scalability Law fitted to one backend's curve (``advice.scaling``), or why
    there is no fit."""

    points: int
    fitted: bool
    reason: str
    lambda_: float | None = None
    sigma: float | None = None
    kappa: float | None = None
    #: Predicted best worker count sqrt((1 - sigma) / kappa); None when kappa is 0.
    peak_workers: float | None = None
    #: Root mean square of the relative residuals.
    rms_residual: float | None = None
    #: True when the residuals are well above the noise: rely on the measured curve.
    poor: bool = False
    #: Parameters fitted: 2 (Amdahl's law: lambda, sigma) or 3 (the USL, with kappa).
    parameters: int = 0


@dataclass
class ProbeRun:
    """One probe's run: its status and everything it returned."""

    name: str
    status: TrialStatus
    reason: str | None = None
    elapsed_s: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class InterpreterRun:
    """The best configurations measured again under another interpreter (``--python``)."""

    #: The interpreter as given (a path).
    python: str
    #: Its ``platform.python_version()``.
    version: str | None = None
    #: One trial per configuration re-measured, in the order of the comparison.
    trials: list[Trial] = field(default_factory=list)
    #: The interpreter that ran the analysis, measured again beside the others.
    this: bool = False


@dataclass
class Recommendation:
    """The advice: which backend, how many workers, and why."""

    model: str | None
    pool_size: int | None
    throughput: float | None
    speedup: float | None
    reasons: list[str] = field(default_factory=list)
    locks: list[dict[str, Any]] = field(default_factory=list)
    #: For a process pool: tasks per message (executor.map's chunksize).
    chunksize: int | None = None
    #: Calls that succeeded per second in the chosen configuration.
    goodput: float | None = None
    #: The chosen pool was the largest measured and still gaining when growth had to stop
    #: (a limit, the budget, ``--max-workers``): a larger pool may be faster; the reasons say
    #: which size to try next and how.
    still_scaling: bool = False
    #: Configurations within the noise of the chosen one (including it): when there are two or
    #: more there is no clear winner, and the chosen one is the simplest of them.
    tied: list[str] = field(default_factory=list)
    # -- report issue 17: code to paste --
    #: Code that runs the target in the chosen model and pool: it defines ``run_all(tasks)``
    #: (``tunekit/snippets.py``); from the backend's plugin, None if it gives none.
    snippet: str | None = None
    #: Threads to limit each native pool (BLAS, OpenMP) to per worker, when limiting them
    #: measured a gain (``threadpoolctl.threadpool_limits(limits=N)``); None: leave them.
    inner_threads: int | None = None


@dataclass
class InnerLimit:
    """One pool measured with its native pools as they are and limited, in interleaved rounds
    (unlimited, limited, limited, unlimited): the limit's effect, side by side."""

    backend: str
    workers: int
    #: Threads per native pool per worker in the limited rounds.
    inner_threads: int
    #: The native pools' threads per process as they are.
    native_threads: int
    #: Goodput of each round, in the order measured.
    unlimited: list[float] = field(default_factory=list)
    limited: list[float] = field(default_factory=list)
    #: Median limited / median unlimited goodput; None unless both were measured.
    ratio: float | None = None
    #: The measured trials, both kinds, in the order run.
    trials: list[Trial] = field(default_factory=list)

    @property
    def key(self) -> str:
        """``process x2`` as the trials say it."""
        return f"{self.backend} x{self.workers}"


@dataclass
class Report:
    """Everything one analysis measured and concluded."""

    target: str
    machine: Machine
    workload: Workload
    trials: list[Trial]
    recommendation: Recommendation
    tunekit_version: str = ""
    schema: str = SCHEMA
    budget_s: float | None = None
    memory_limit_bytes: int | None = None
    elapsed_s: float | None = None
    complete: bool = True
    interrupted: str | None = None
    notes: list[str] = field(default_factory=list)
    profiles: Profiles = field(default_factory=Profiles)
    #: Universal Scalability Law fit per scaling backend (see tunekit/scaling.py).
    fits: dict[str, ScalingFit] = field(default_factory=dict)
    probes: list[ProbeRun] = field(default_factory=list)
    #: What was run (the call, budget, backends, probes, interpreter); None in reports made
    #: before tunekit recorded it, which ``tunekit compare`` then cannot check.
    run: RunRecord | None = None
    #: ``--python``: the best configurations measured again under each other interpreter.
    interpreters: list[InterpreterRun] = field(default_factory=list)
    #: Pools measured with and without their native thread pools limited (oversubscription).
    inner_limits: list[InnerLimit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-compatible data (``schema`` first)."""
        data = dataclasses.asdict(self)
        return {"schema": data.pop("schema"), **data}

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    def render(self, fmt: str = "text") -> str:
        """The report in a registered format: "text", "json", "html" or a plugin's."""
        if _renderer is None:  # only if tunekit/__init__.py did not run, which Python ensures
            raise ReportError("no renderer is registered")
        return _renderer(self, fmt)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Rebuild a report; refuses a schema this version does not know."""
        schema = data.get("schema")
        if not isinstance(schema, str) or not schema.startswith("tunekit.report/"):
            raise ReportError(f"not a tunekit report (schema is {schema!r})")
        try:
            version = int(schema.rsplit("/", 1)[1])
        except ValueError:
            raise ReportError(f"not a tunekit report (schema is {schema!r})") from None
        if version > SCHEMA_VERSION:
            raise ReportError(
                f"report schema {schema} is newer than this tunekit understands "
                f"({SCHEMA}); upgrade tunekit"
            )
        try:
            return from_data(cls, data)
        except (TypeError, KeyError, ValueError) as exc:
            raise ReportError(f"malformed tunekit report: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> Report:
        """Parse JSON text made by ``to_json``."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReportError(f"report is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ReportError("report is not a JSON object")
        return cls.from_dict(data)


def from_data(cls: type[T], data: dict[str, Any]) -> T:
    """Construct dataclass ``cls`` from JSON data made by ``dataclasses.asdict``, recursing into
    nested dataclass fields (keys it does not know are ignored)."""
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name])
    return cls(**kwargs)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(inner[0], value) if len(inner) == 1 else value
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_convert(item, v) for v in value]
    if origin is dict:
        _, item = typing.get_args(hint)
        return {k: _convert(item, v) for k, v in value.items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_data(hint, value)
    return value
