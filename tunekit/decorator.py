"""``@tunekit.profile``: count and time real calls of a function, and optionally analyze it.

Passive by default: calls, errors, wall and CPU time per call and the arguments of the first
few calls, at about 1.5 µs per call. At interpreter exit (or on ``tunekit.report()``) a
short summary per decorated function goes to standard error, or as JSON to ``TUNEKIT_REPORT``.
With ``analyze=True`` (or ``TUNEKIT_ANALYZE=1``) the recorded calls are replayed by the full
analysis, in fresh child processes like the CLI, right after the ``sample``-th call.

The decorator is inert inside tunekit's own trial processes: there it returns the function
untouched, so the trials measure the undecorated function and nothing is recorded or reported.
``TUNEKIT_DISABLE=1`` makes it inert everywhere.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import json
import multiprocessing
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, ParamSpec, TypeVar, overload

from tunekit.api import in_tunekit_worker

P = ParamSpec("P")
R = TypeVar("R")

DISABLE_ENV = "TUNEKIT_DISABLE"
ANALYZE_ENV = "TUNEKIT_ANALYZE"
REPORT_ENV = "TUNEKIT_REPORT"
PROFILE_SCHEMA = "tunekit.profile/1"
#: Longest ``repr`` of one recorded call kept for the summary.
REPR_LIMIT = 120


@dataclass
class FunctionProfile:
    """What the decorator saw of one function in this process (the ``TUNEKIT_REPORT`` entries)."""

    function: str
    is_coroutine: bool
    calls: int
    errors: int
    first_error: str | None
    wall_total_s: float
    wall_min_s: float | None
    wall_max_s: float | None
    cpu_total_s: float | None
    sample: list[str] = field(default_factory=list)
    analysis: dict[str, Any] | None = None
    analysis_error: str | None = None

    @property
    def wall_mean_s(self) -> float | None:
        """Mean wall time of one call."""
        return self.wall_total_s / self.calls if self.calls else None

    def summary(self) -> str:
        """One or two lines for the terminal."""
        from tunekit.units import format_seconds

        if not self.calls:
            return f"{self.function}: not called"
        mean = self.wall_total_s / self.calls
        line = (
            f"{self.function}: {self.calls} call{'s' if self.calls != 1 else ''}, "
            f"{self.errors} raised; wall {format_seconds(mean)}/call "
            f"(min {format_seconds(self.wall_min_s or 0.0)}, "
            f"max {format_seconds(self.wall_max_s or 0.0)})"
        )
        if self.cpu_total_s is not None:
            share = self.cpu_total_s / self.wall_total_s if self.wall_total_s else 0.0
            line += f"; CPU {format_seconds(self.cpu_total_s / self.calls)}/call ({share:.0%})"
        if self.first_error:
            line += f"\n    first error: {self.first_error}"
        if self.analysis is not None:
            rec = self.analysis["recommendation"]
            if rec["model"] is None:
                line += "\n    analysis: no recommendation"
            else:
                workers = f"{rec['pool_size']} worker{'s' if rec['pool_size'] != 1 else ''}"
                line += f"\n    recommendation: {rec['model']} with {workers}"
                if rec["speedup"] is not None:
                    line += f" ({rec['speedup']:.2f}x sequential)"
        elif self.analysis_error:
            line += f"\n    analysis failed: {self.analysis_error}"
        return line


@dataclass
class AnalyzeOptions:
    """How ``analyze=True`` runs the analysis on the recorded calls."""

    budget: float
    backends: Sequence[str] | None
    max_workers: int


class Recorder:
    """The counters of one decorated function; the wrapper updates them after every call."""

    def __init__(
        self,
        func: Callable[..., Any],
        is_coroutine: bool,
        sample: int,
        analyze: AnalyzeOptions | None,
    ) -> None:
        self.func = func
        self.is_coroutine = is_coroutine
        self.sample_size = sample
        self.analyze = analyze
        self.lock = threading.Lock()
        self.sampling = sample > 0
        self.calls = 0
        self.errors = 0
        self.first_error: str | None = None
        self.wall_total = 0.0
        self.wall_min = float("inf")
        self.wall_max = 0.0
        self.cpu_total = 0.0
        self.recorded: list[tuple[str, bytes | None]] = []  # (repr, pickled (args, kwargs))
        self.is_method: bool | None = None
        self.analysis: dict[str, Any] | None = None
        self.analysis_error: str | None = None
        self.analyzed = False
        self.reported_calls = 0

    @property
    def name(self) -> str:
        """``module:qualname`` of the function."""
        return f"{self.func.__module__}:{self.func.__qualname__}"

    def keep(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Record one call's arguments (before the call: the function may mutate them).

        A method's ``self``/``cls`` is left out: the trials call the method on a new instance.
        """
        if self.is_method is None:  # known only once the class exists, i.e. at the first call
            self.is_method = _is_bound_in_class(self.func)
        if self.is_method:
            args = args[1:]
        try:
            data: bytes | None = pickle.dumps((args, kwargs))
        except Exception:
            data = None
        text = _call_repr(args, kwargs)
        with self.lock:
            if len(self.recorded) < self.sample_size:
                self.recorded.append((text, data))
            self.sampling = len(self.recorded) < self.sample_size

    def done(self, wall: float, cpu: float | None, error: BaseException | None) -> None:
        """Count one finished call; after the ``sample``-th, run the analysis if asked."""
        with self.lock:  # comparisons, not min()/max(): this runs on every call
            self.calls += 1
            self.wall_total += wall
            if wall < self.wall_min:  # noqa: PLR1730
                self.wall_min = wall
            if wall > self.wall_max:  # noqa: PLR1730
                self.wall_max = wall
            if cpu is not None:
                self.cpu_total += cpu
            if error is not None:
                self.errors += 1
                if self.first_error is None:
                    self.first_error = f"{type(error).__name__}: {error}"
            if self.analyze is None or self.analyzed or self.calls < self.sample_size:
                return
            if not isinstance(error, Exception | None):  # Ctrl-C, exit: not the time for it
                return
            self.analyzed = True
        if multiprocessing.parent_process() is not None:
            self.analysis_error = "not analyzed in a worker process of a multiprocessing pool"
            return
        self.run_analysis()

    def run_analysis(self) -> None:
        """Analyze the recorded calls in child processes, synchronously; never raises."""
        from tunekit.api import analyze, target_spec
        from tunekit.errors import TunekitError

        assert self.analyze is not None
        self.analyzed = True
        try:
            spec = target_spec(self.func)
            items = recorded_items(self.func, [data for _, data in self.recorded])
            print(
                f"tunekit: analyzing {spec} on {len(items)} recorded calls "
                f"(budget {self.analyze.budget:g} s)",
                file=sys.stderr,
            )
            report = analyze(
                spec,
                inputs=items,
                budget=self.analyze.budget,
                backends=self.analyze.backends,
                max_workers=self.analyze.max_workers,
            )
            self.analysis = report.to_dict()
        except TunekitError as exc:
            self.analysis_error = str(exc)

    def snapshot(self) -> FunctionProfile:
        """The numbers so far."""
        with self.lock:
            return FunctionProfile(
                function=self.name,
                is_coroutine=self.is_coroutine,
                calls=self.calls,
                errors=self.errors,
                first_error=self.first_error,
                wall_total_s=self.wall_total,
                wall_min_s=self.wall_min if self.calls else None,
                wall_max_s=self.wall_max if self.calls else None,
                cpu_total_s=None if self.is_coroutine else self.cpu_total,
                sample=[text for text, _ in self.recorded],
                analysis=self.analysis,
                analysis_error=self.analysis_error,
            )


def _call_repr(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    try:
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    except Exception as exc:
        return f"<unrepresentable: {type(exc).__name__}>"
    text = f"({', '.join(parts)})"
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."


def recorded_items(func: Callable[..., Any], recorded: Sequence[bytes | None]) -> list[Any]:
    """Recorded ``(args, kwargs)`` as ``--inputs`` items: a tuple (positional) or a dict
    (keywords). Calls that no item can express, or whose arguments did not pickle, are left
    out; ``InputError`` if none is left."""
    from tunekit.errors import InputError

    signature = _signature(func)
    if signature is not None and _is_bound_in_class(func):  # self/cls was not recorded
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    items = []
    for data in recorded:
        if data is None:
            continue
        args, kwargs = pickle.loads(data)
        item = _as_item(signature, args, kwargs)
        if item is not None:
            items.append(item)
    if not items:
        raise InputError(
            "none of the recorded calls can be replayed (arguments that do not pickle, or "
            "positional-only and keyword arguments in one call)"
        )
    return items


def _signature(func: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return None


def _as_item(
    signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...] | dict[str, Any] | None:
    """One call as an item: all positional, or all keywords; None if neither can say it."""
    if not kwargs:
        return tuple(args)
    if not args:
        return dict(kwargs)
    if signature is None:
        return None
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return None
    if not bound.kwargs:
        return tuple(bound.args)
    as_keywords: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.name not in bound.arguments:
            continue
        if param.kind in (param.POSITIONAL_ONLY, param.VAR_POSITIONAL):
            return None
        if param.kind is param.VAR_KEYWORD:
            as_keywords.update(bound.arguments[param.name])
        else:
            as_keywords[param.name] = bound.arguments[param.name]
    return as_keywords


def _is_bound_in_class(func: Callable[..., Any]) -> bool:
    """Whether ``func`` is an instance or class method (called with ``self``/``cls`` first)."""
    parts = func.__qualname__.split(".")
    if len(parts) < 2 or "<locals>" in parts:
        return False
    owner: Any = sys.modules.get(func.__module__)
    for name in parts[:-1]:
        owner = getattr(owner, name, None)
    if not inspect.isclass(owner):
        return False
    raw = inspect.getattr_static(owner, parts[-1], None)
    return not isinstance(raw, staticmethod)


_recorders: list[Recorder] = []
_registry_lock = threading.Lock()
_exit_hook_registered = False


@overload
def profile(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def profile(
    *,
    analyze: bool | None = None,
    sample: int = 10,
    budget: float = 10.0,
    backends: Sequence[str] | None = None,
    max_workers: int = 16,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def profile(
    func: Callable[P, R] | None = None,
    /,
    *,
    analyze: bool | None = None,
    sample: int = 10,
    budget: float = 10.0,
    backends: Sequence[str] | None = None,
    max_workers: int = 16,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Record calls of a sync or async function or method; usable bare or with arguments.

    ``sample``: how many calls' arguments to keep (and, with ``analyze``, after how many calls
    the analysis runs); ``budget``, ``backends`` and ``max_workers`` are the analysis options.
    ``analyze`` defaults to ``TUNEKIT_ANALYZE=1``.
    """
    if analyze is None:
        analyze = os.environ.get(ANALYZE_ENV) == "1"
    if sample < (1 if analyze else 0):
        raise ValueError(f"sample must be at least {1 if analyze else 0}, not {sample}")
    options = AnalyzeOptions(budget, backends, max_workers) if analyze else None

    def decorate(inner: Callable[P, R]) -> Callable[P, R]:
        if os.environ.get(DISABLE_ENV) == "1" or in_tunekit_worker():
            return inner
        return _wrap(inner, sample, options)

    return decorate if func is None else decorate(func)


def _wrap(func: Callable[P, R], sample: int, options: AnalyzeOptions | None) -> Callable[P, R]:
    is_coroutine = inspect.iscoroutinefunction(func)
    recorder = Recorder(func, is_coroutine, sample, options)
    _register(recorder)
    perf, cpu = time.perf_counter, time.thread_time

    if is_coroutine:

        @functools.wraps(func)
        async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            if recorder.sampling:
                recorder.keep(args, kwargs)
            start = perf()
            try:
                result = await func(*args, **kwargs)  # type: ignore[misc]
            except BaseException as exc:  # cancelled calls count too
                recorder.done(perf() - start, None, exc)
                raise
            recorder.done(perf() - start, None, None)
            return result

        wrapper: Any = async_wrapper
    else:

        @functools.wraps(func)
        def sync_wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if recorder.sampling:
                recorder.keep(args, kwargs)
            cpu0 = cpu()
            start = perf()
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                recorder.done(perf() - start, cpu() - cpu0, exc)
                raise
            recorder.done(perf() - start, cpu() - cpu0, None)
            return result

        wrapper = sync_wrapper
    wrapper.__tunekit_recorder__ = recorder
    return wrapper  # type: ignore[no-any-return]


def _register(recorder: Recorder) -> None:
    global _exit_hook_registered
    with _registry_lock:
        _recorders.append(recorder)
        if not _exit_hook_registered:
            atexit.register(_report_at_exit, os.getpid())
            _exit_hook_registered = True


def report(file: IO[str] | None = None) -> list[FunctionProfile]:
    """Print the summary of every decorated function now (or write ``TUNEKIT_REPORT``).

    Runs any analysis still due (``analyze=True`` with fewer calls than ``sample``), and
    returns what it reported.
    """
    with _registry_lock:
        recorders = list(_recorders)
    for recorder in recorders:
        if recorder.analyze is not None and not recorder.analyzed and recorder.calls:
            recorder.run_analysis()
    profiles = [recorder.snapshot() for recorder in recorders]
    for recorder, snap in zip(recorders, profiles, strict=True):
        recorder.reported_calls = snap.calls
    path = os.environ.get(REPORT_ENV)
    if path:
        data = {"schema": PROFILE_SCHEMA, "functions": [asdict(p) for p in profiles]}
        Path(path).write_text(json.dumps(data, indent=2) + "\n")
        return profiles
    out = file if file is not None else sys.stderr
    count = f"{len(profiles)} function{'s' if len(profiles) != 1 else ''}"
    print(f"tunekit profile summary ({count}, pid {os.getpid()}):", file=out)
    for snap in profiles:
        print(f"  {snap.summary()}", file=out)
        if snap.sample:
            print(f"    first call: {snap.sample[0]}", file=out)
    return profiles


def _report_at_exit(pid: int) -> None:
    """Report once, in the process that decorated; not in pool children or after ``report()``."""
    if os.getpid() != pid or multiprocessing.parent_process() is not None:
        return
    with _registry_lock:
        recorders = list(_recorders)
    if recorders and any(r.calls != r.reported_calls for r in recorders):
        report()
