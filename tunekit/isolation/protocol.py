"""What the parent asks an isolated child, and what the child answers: typed, as JSON.

A request is one of four frozen dataclasses, each naming the reply it gets: ``InspectRequest``
(import the target, ask the backends, calibrate) gets an ``Inspection``; ``TrialRequest`` (one
backend at one pool size) a ``Trial``; ``ProbeRequest`` a ``ProbeResult``; ``CapacityRequest``
(how many cores are free) a ``Capacity``. A ``TunekitError`` raised in the child comes back as
a ``ChildError`` and is raised again in the parent as the same class (``errors.error_class``).
The wire form is ``{"mode": ..., **fields}`` for a request and ``{"reply": {...}}`` or
``{"error": {...}}`` for its answer; pyperf's JSON between its manager and workers is the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from tunekit.errors import TunekitError, error_class
from tunekit.models import Latency, NativePool, Trial, from_data
from tunekit.target import TargetSpec


@dataclass
class Inspection:
    """The target as a child found it: its kind, which backends run it, and its call time."""

    is_coroutine: bool
    inputs: int
    #: Backend name -> None when it supports the target, else the reason it does not.
    supports: dict[str, str | None]
    calls: int
    task_wall_s: float
    task_cpu_s: float
    #: Calls that raised, the warm-up call included.
    errors: int
    first_error: str | None
    #: Of the timed calls (after the warm-up): how many raised, and their latency.
    timed_errors: int = 0
    latency_s: Latency | None = None
    #: The warm-up call was the only one: it took too long for another within the deadline.
    warmup_only: bool = False
    #: Seconds of the first (warm-up) call, and of the backends' ``supports`` checks: the
    #: child's time besides them is its fixed cost.
    first_call_s: float = 0.0
    checks_s: float = 0.0
    #: "generator" / "async generator" when a call consumes what the target yields.
    consumes: str | None = None
    #: Seconds the per-worker setup took here (None without one).
    setup_s: float | None = None
    #: The backend whose loop ran the calls: a coroutine asyncio's loop could not run (written
    #: for trio); None: asyncio's, or a plain function.
    coroutine_loop: str | None = None
    #: Native thread pools (BLAS, OpenMP) loaded after the first call.
    native_pools: list[NativePool] = dataclasses.field(default_factory=list)
    #: The GIL was on after the target was imported and called (``tunekit.gil``).
    gil_enabled: bool = True


@dataclass
class ProbeResult:
    """A probe's data, or why it skipped the target."""

    data: dict[str, Any] | None = None
    skipped: str | None = None


@dataclass
class Capacity:
    """Cores' worth of CPU that ``cpus`` spinning processes obtained."""

    capacity_cores: float


@dataclass
class ChildError:
    """A ``TunekitError`` the child raised (bad target, bad inputs, a broken plugin)."""

    type: str
    message: str

    @classmethod
    def of(cls, exc: TunekitError) -> ChildError:
        """The error as it crosses to the parent."""
        return cls(type(exc).__name__, str(exc))

    def exception(self) -> TunekitError:
        """The same error, to raise in the parent."""
        return error_class(self.type)(self.message)


@dataclass(frozen=True)
class InspectRequest:
    """Import the target, ask each of ``backends`` whether it supports it, time a few calls."""

    mode: ClassVar[str] = "inspect"
    reply: ClassVar[type] = Inspection
    target: TargetSpec
    calibrate_s: float
    #: Only these backends are asked (a plugin's check may be slow); empty: every one.
    backends: tuple[str, ...] = ()
    #: Seconds the calls may take: when the warm-up call leaves no room for another, it is the
    #: only one timed (None: no bound).
    deadline_s: float | None = None


@dataclass(frozen=True)
class TrialRequest:
    """Measure ``backend`` with ``workers``: ``repeats`` windows of about ``tasks`` calls."""

    mode: ClassVar[str] = "trial"
    reply: ClassVar[type] = Trial
    target: TargetSpec
    backend: str
    workers: int
    tasks: int
    repeats: int
    #: Seconds a window should last: the child re-sizes ``tasks`` if its warm-up shows the
    #: parent's guess of the throughput was far off.
    batch_s: float | None = None
    #: The parent already asked the backend whether it supports the target (the calibration
    #: did): the child does not ask again, which can cost a call.
    checked: bool = False
    #: Calls run (unmeasured) before the stream, from which the child re-sizes; 0: none; None:
    #: a wave, and at least ``plan.sizing.WARMUP_CALLS`` (as for short calls).
    warmup: int | None = None
    #: Waves (a call per worker) the stream runs before its first measured window.
    lead_waves: int = 2
    #: Limit every native pool (BLAS, OpenMP) to this many threads per worker process (the
    #: trial's own process too, for every thread in it); None: leave them as they are.
    inner_threads: int | None = None
    #: Threads the calibration saw the target's native pools run per process: what a worker
    #: may keep busy besides itself (the trial's own process may not have loaded them).
    native_threads: int = 1
    #: The child's default ``multiprocessing`` start method for the trial (None: the
    #: interpreter's own default); the process backend's pool uses it.
    start_method: str | None = None


@dataclass(frozen=True)
class ProbeRequest:
    """Run the probe ``probe`` on the target for about ``time_s`` of calls."""

    mode: ClassVar[str] = "probe"
    reply: ClassVar[type] = ProbeResult
    probe: str
    target: TargetSpec
    profile_dir: str
    time_s: float
    task_wall_s: float
    #: Concurrent callers the probe should run, when it matters (the recommended pool size,
    #: after the sweep); None: the probe's own default.
    workers: int | None = None
    #: The model being recommended, when known: "process" runs the lock probe's callers as
    #: forked processes.
    model: str | None = None
    #: As ``TrialRequest.start_method``: the process pool a probe times uses it.
    start_method: str | None = None


@dataclass(frozen=True)
class CapacityRequest:
    """Spin ``cpus`` processes for ``seconds`` and count the CPU they get."""

    mode: ClassVar[str] = "capacity"
    reply: ClassVar[type] = Capacity
    cpus: int
    seconds: float


Request = InspectRequest | TrialRequest | ProbeRequest | CapacityRequest
Reply = Inspection | Trial | ProbeResult | Capacity

REQUESTS: dict[str, type[Request]] = {
    cls.mode: cls for cls in (InspectRequest, TrialRequest, ProbeRequest, CapacityRequest)
}


@dataclass
class Answer:
    """What came back: the reply, or the error the child raised (one of them is set)."""

    reply: Any = None
    error: ChildError | None = None


def encode_request(request: Request) -> dict[str, Any]:
    """The request as JSON data."""
    return {"mode": request.mode, **dataclasses.asdict(request)}


def decode_request(data: dict[str, Any]) -> Request:
    """The request that ``encode_request`` made ``data`` from."""
    fields = dict(data)
    cls = REQUESTS[fields.pop("mode")]
    if "backends" in fields:
        fields["backends"] = tuple(fields["backends"])
    request: Request = from_data(cls, fields)
    return request


def encode_reply(reply: Reply) -> dict[str, Any]:
    """A reply as JSON data."""
    return {"reply": dataclasses.asdict(reply)}


def encode_error(exc: TunekitError) -> dict[str, Any]:
    """An error raised in the child, as JSON data."""
    return {"error": dataclasses.asdict(ChildError.of(exc))}


def decode_answer(request: Request, data: dict[str, Any] | None) -> Answer:
    """The typed reply (of the class ``request.reply``) or error in ``data``; empty if neither."""
    if not data:
        return Answer()
    if "error" in data:
        return Answer(error=from_data(ChildError, data["error"]))
    if "reply" in data:
        return Answer(reply=from_data(request.reply, data["reply"]))
    return Answer()
