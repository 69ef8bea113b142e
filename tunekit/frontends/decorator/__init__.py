"""``@tunekit.profile``: count and time real calls of a function, and optionally analyze it.

Passive by default: calls, errors, wall time per call, CPU time on a sample of calls, and the
arguments of the first few calls, for about what a bare timing wrapper costs
(``benchmarks/decorator_overhead.py``). At interpreter exit (or on ``tunekit.report()``) a short
summary per decorated function goes to standard error, or as JSON to ``TUNEKIT_REPORT``. With
``analyze=True`` (or ``TUNEKIT_ANALYZE=1``) the recorded calls are replayed by the full
analysis, in fresh child processes like the CLI, right after the ``sample``-th call.

The decorator is inert inside tunekit's own trial processes: there it returns the function
untouched, so the trials measure the undecorated function and nothing is recorded or reported.
``TUNEKIT_DISABLE=1`` makes it inert everywhere.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any, ParamSpec, TypeVar, overload

from tunekit.frontends.decorator.exact import exact_wrapper
from tunekit.frontends.decorator.generators import async_generator_wrapper, generator_wrapper
from tunekit.frontends.decorator.recorder import (
    CPU_SAMPLE_MASK,
    AnalyzeOptions,
    FunctionProfile,
    Recorder,
)
from tunekit.frontends.decorator.replay import recorded_items
from tunekit.frontends.decorator.summary import register, report
from tunekit.isolation import in_tunekit_worker

__all__ = ["FunctionProfile", "Recorder", "profile", "recorded_items", "report"]

P = ParamSpec("P")
R = TypeVar("R")

DISABLE_ENV = "TUNEKIT_DISABLE"
ANALYZE_ENV = "TUNEKIT_ANALYZE"


@overload
def profile(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def profile(
    *,
    analyze: bool | None = None,
    sample: int = 10,
    budget: float = 10.0,
    backends: Sequence[str] | None = None,
    max_workers: int | None = None,
    setup: str | Callable[[], Any] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def profile(
    func: Callable[P, R] | None = None,
    /,
    *,
    analyze: bool | None = None,
    sample: int = 10,
    budget: float = 10.0,
    backends: Sequence[str] | None = None,
    max_workers: int | None = None,
    setup: str | Callable[[], Any] | None = None,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Record calls of a sync or async function, method or generator function (a call is
    measured as consumed: the time inside its steps); usable bare or with arguments.

    ``sample``: how many calls' arguments to keep (and, with ``analyze``, after how many calls
    the analysis runs); ``budget``, ``backends`` and ``max_workers`` are the analysis options.
    ``setup``: the per-worker factory (a function or "module:factory") whose result the caller
    passes as the first argument: that argument is not recorded, and the analysis's workers
    get one each from the factory (``--setup``). ``analyze`` defaults to ``TUNEKIT_ANALYZE=1``.
    """
    if analyze is None:
        analyze = os.environ.get(ANALYZE_ENV) == "1"
    if sample < (1 if analyze else 0):
        raise ValueError(f"sample must be at least {1 if analyze else 0}, not {sample}")
    options = AnalyzeOptions(budget, backends, max_workers, setup) if analyze else None

    def decorate(inner: Callable[P, R]) -> Callable[P, R]:
        if os.environ.get(DISABLE_ENV) == "1" or in_tunekit_worker():
            return inner
        return _wrap(inner, sample, options, setup)

    return decorate if func is None else decorate(func)


def _wrap(
    func: Callable[P, R],
    sample: int,
    options: AnalyzeOptions | None,
    setup: str | Callable[[], Any] | None = None,
) -> Callable[P, R]:
    is_async_generator = inspect.isasyncgenfunction(func)
    is_coroutine = inspect.iscoroutinefunction(func) or is_async_generator
    recorder = Recorder(func, is_coroutine, sample, options, takes_setup=setup is not None)
    register(recorder)
    walls = recorder.walls  # the same list for the recorder's life: folds delete from it
    perf = perf_counter
    wrapper: Any
    if is_async_generator:
        wrapper = async_generator_wrapper(func, recorder)
    elif inspect.isgeneratorfunction(func):
        wrapper = generator_wrapper(func, recorder)
    elif is_coroutine:

        @functools.wraps(func)
        async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            if recorder.sampling:
                recorder.keep(args, kwargs)
            start = perf()
            try:
                result = await func(*args, **kwargs)  # type: ignore[misc]
            except BaseException as exc:  # cancelled calls count too
                recorder.failed(perf() - start, exc)
                raise
            walls.append(perf() - start)
            if options is not None or not len(walls) & CPU_SAMPLE_MASK:
                recorder.after_call()
            return result

        wrapper = async_wrapper
    elif options is not None:  # analyzed: every call is checked for the sample-th

        @functools.wraps(func)
        def counting_wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            return recorder.sampled_call(args, kwargs)  # type: ignore[no-any-return]

        wrapper = counting_wrapper
    elif setup is None and (exact := exact_wrapper(func, recorder)) is not None:
        wrapper = functools.wraps(func)(exact)
    else:
        append = walls.append

        @functools.wraps(func)
        def sync_wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            # The first calls (arguments kept) and one in CPU_SAMPLE_EVERY take the slow path.
            waiting = len(walls)
            if (waiting < sample and recorder.sampling) or not waiting & CPU_SAMPLE_MASK:
                return recorder.sampled_call(args, kwargs)  # type: ignore[no-any-return]
            start = perf()
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                recorder.failed(perf() - start, exc)
                raise
            append(perf() - start)
            return result

        wrapper = sync_wrapper
    wrapper.__tunekit_recorder__ = recorder
    return wrapper  # type: ignore[no-any-return]
