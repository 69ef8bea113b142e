"""What ``@tunekit.profile`` keeps of one function: calls, errors, wall and CPU time, and the
arguments of the first few calls, at a cost per call of about a bare timing wrapper.

The hot path takes no lock. Each call's wall time is appended to one list (``list.append`` is
atomic, with or without the GIL); the list is folded into totals, min and max under a lock,
about every ``FOLD_EVERY`` calls and when a summary is taken, by deleting the prefix it summed, so
appends that race with a fold are never lost. CPU time costs two system calls (~0.45 µs each
here), so it is read on one call in ``CPU_SAMPLE_EVERY``; the summary says so and scales the
sampled CPU/wall to all calls.
"""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from tunekit.frontends.decorator.replay import call_repr, is_bound_in_class, recorded_items
from tunekit.units import format_seconds

#: CPU time is read on one call in this many (a power of two: the test is a bit mask), so its
#: ~1 µs costs each call ~4 ns on average; the first ``sample`` calls are read too.
CPU_SAMPLE_EVERY = 256
CPU_SAMPLE_MASK = CPU_SAMPLE_EVERY - 1
#: Wall times wait in the list until this many, then are folded into the totals (a multiple of
#: ``CPU_SAMPLE_EVERY``: the fold is tried on the sampled calls).
FOLD_EVERY = 4096


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
    #: Estimated CPU time of all calls: the sampled calls' CPU/wall times ``wall_total_s``.
    cpu_total_s: float | None
    sample: list[str] = field(default_factory=list)
    analysis: dict[str, Any] | None = None
    analysis_error: str | None = None
    #: Calls whose CPU time was read (one in ``CPU_SAMPLE_EVERY``); None for coroutines.
    cpu_sampled_calls: int | None = None

    @property
    def wall_mean_s(self) -> float | None:
        """Mean wall time of one call."""
        return self.wall_total_s / self.calls if self.calls else None

    def summary(self) -> str:
        """One or two lines for the terminal."""
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
            line += (
                f"; CPU {format_seconds(self.cpu_total_s / self.calls)}/call ({share:.0%}, "
                f"read on {self.cpu_sampled_calls} of {self.calls})"
            )
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
    max_workers: int | None
    #: The per-worker setup factory (a function or its spec), passed to the analysis.
    setup: str | Callable[[], Any] | None = None


class Recorder:
    """The counters of one decorated function (see the module docstring for how they stay
    right across threads without a lock per call)."""

    def __init__(
        self,
        func: Callable[..., Any],
        is_coroutine: bool,
        sample: int,
        analyze: AnalyzeOptions | None,
        takes_setup: bool = False,
    ) -> None:
        self.func = func
        #: The first argument is a per-worker setup's result: it is not recorded.
        self.takes_setup = takes_setup
        self.is_coroutine = is_coroutine
        self.sample_size = sample
        self.analyze = analyze
        self.lock = threading.Lock()
        #: Calls' arguments are still being kept.
        self.sampling = sample > 0
        #: Wall times of the calls not folded yet (appended by the wrappers, without a lock).
        self.walls: list[float] = []
        self.folded_calls = 0
        self.wall_total = 0.0
        self.wall_min = float("inf")
        self.wall_max = 0.0
        self.cpu_sampled = 0
        self.cpu_sampled_s = 0.0
        self.cpu_sampled_wall_s = 0.0
        self.errors = 0
        self.first_error: str | None = None
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

    @property
    def calls(self) -> int:
        """Calls finished so far."""
        return self.folded_calls + len(self.walls)

    def keep(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Record one call's arguments (before the call: the function may mutate them).

        A method's ``self``/``cls`` is left out: the trials call the method on a new instance.
        """
        if self.is_method is None:  # known only once the class exists, i.e. at the first call
            self.is_method = is_bound_in_class(self.func)
        if self.is_method:
            args = args[1:]
        if self.takes_setup:
            args = args[1:]
        try:
            data: bytes | None = pickle.dumps((args, kwargs))
        except Exception:
            data = None
        text = call_repr(args, kwargs)
        with self.lock:
            if len(self.recorded) < self.sample_size:
                self.recorded.append((text, data))
            self.sampling = len(self.recorded) < self.sample_size

    def sampled_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """One call with its arguments kept (while sampling) and its CPU time read: the first
        calls, one in ``CPU_SAMPLE_EVERY``, and every call of a function to be analyzed.
        Folds the wall times when they are due."""
        if self.sampling:
            self.keep(args, kwargs)
        func = self.func
        start = perf_counter()  # the wall interval encloses the CPU one: CPU <= wall
        cpu0 = time.thread_time()
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            self.failed(perf_counter() - start, exc)
            raise
        cpu = time.thread_time() - cpu0
        wall = perf_counter() - start
        with self.lock:
            self.cpu_sampled += 1
            self.cpu_sampled_s += cpu
            self.cpu_sampled_wall_s += wall
        self.walls.append(wall)
        self.after_call()
        return result

    def failed(self, wall: float, error: BaseException) -> None:
        """Count a call that raised (cancelled calls of coroutines too)."""
        with self.lock:
            self.errors += 1
            if self.first_error is None:
                self.first_error = f"{type(error).__name__}: {error}"
        self.walls.append(wall)
        if isinstance(error, Exception):  # not Ctrl-C or exit: no time for an analysis
            self.after_call()

    def after_call(self) -> None:
        """Fold the wall times if due; after the ``sample``-th call, run the analysis if asked."""
        if len(self.walls) >= FOLD_EVERY:
            self.fold()
        if self.analyze is None or self.analyzed or self.calls < self.sample_size:
            return
        with self.lock:
            if self.analyzed:
                return
            self.analyzed = True
        if multiprocessing.parent_process() is not None:
            self.analysis_error = "not analyzed in a worker process of a multiprocessing pool"
            return
        self.run_analysis()

    def fold(self) -> None:
        """Add the waiting wall times to the totals; appends made meanwhile stay waiting."""
        with self.lock:
            walls = self.walls
            count = len(walls)
            if not count:
                return
            chunk = walls[:count]
            del walls[:count]  # only the prefix summed: concurrent appends went after it
            self.folded_calls += count
            self.wall_total += sum(chunk)
            self.wall_min = min(self.wall_min, *chunk)
            self.wall_max = max(self.wall_max, *chunk)

    def run_analysis(self) -> None:
        """Analyze the recorded calls in child processes, synchronously; never raises."""
        from tunekit.errors import TunekitError
        from tunekit.frontends.api import analyze, target_spec

        assert self.analyze is not None
        self.analyzed = True
        try:
            spec = target_spec(self.func)
            recorded = [data for _, data in self.recorded]
            items = recorded_items(self.func, recorded, drop_first=self.takes_setup)
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
                setup=self.analyze.setup,
            )
            self.analysis = report.to_dict()
        except TunekitError as exc:
            self.analysis_error = str(exc)

    def snapshot(self) -> FunctionProfile:
        """The numbers so far."""
        self.fold()
        with self.lock:
            calls = self.folded_calls
            cpu: float | None = None
            if not self.is_coroutine and self.cpu_sampled:  # generators' CPU is not read
                sampled_wall = self.cpu_sampled_wall_s
                share = self.cpu_sampled_s / sampled_wall if sampled_wall > 0 else 0.0
                cpu = share * self.wall_total
            return FunctionProfile(
                function=self.name,
                is_coroutine=self.is_coroutine,
                calls=calls,
                errors=self.errors,
                first_error=self.first_error,
                wall_total_s=self.wall_total,
                wall_min_s=self.wall_min if calls else None,
                wall_max_s=self.wall_max if calls else None,
                cpu_total_s=cpu,
                sample=[text for text, _ in self.recorded],
                analysis=self.analysis,
                analysis_error=self.analysis_error,
                cpu_sampled_calls=None if self.is_coroutine else self.cpu_sampled,
            )
