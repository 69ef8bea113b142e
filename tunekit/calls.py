"""Timed calls of the target: the only code on the measured path, public for plugin authors.

Every backend, built-in or a plugin's, runs the target through these helpers, so that a task is
timed the same way everywhere: ``call_sync`` for a plain function, ``call_async`` for a
coroutine awaited on a running loop, ``blocking_caller`` for either on a worker thread or
process. Each returns a ``TaskResult``: how long the task occupied its worker, the error it
raised (a call that raised is counted, never timed as throughput), and when it ended.

A per-worker setup (``--setup``) is opened where a worker starts, never on the clock of a
call: ``per_thread_setup`` on each thread of a pool, ``setup_slots`` for the consumers of an
event loop, ``open_setup`` in any other worker (a process); its result becomes each call's
first argument (``with_first``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import inspect
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from time import perf_counter
from typing import TYPE_CHECKING, Any, NamedTuple

from tunekit.errors import SetupError

if TYPE_CHECKING:
    from tunekit.target import Call, Target

#: Runs an async function of no arguments to completion in a loop of its own and returns its
#: result: ``trio.run``, for coroutines asyncio's loop cannot run.
LoopRunner = Callable[[Callable[[], Awaitable[Any]]], Any]


class TaskResult(NamedTuple):
    """One task: how long it occupied a worker, and the error it raised (None when ok)."""

    latency_s: float
    error: str | None
    #: ``time.perf_counter()`` when the task ended, where it ran (None if not known): lets the
    #: trial measure throughput only while every worker was busy.
    end_s: float | None = None


def describe_error(exc: BaseException) -> str:
    """``TypeName: message`` as shown in reports."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def call_sync(
    func: Callable[..., Any], call: Call, deliver: Callable[[Any], Any] | None = None
) -> TaskResult:
    """Call a plain function once and time it; ``deliver`` (e.g. pickling) is part of the task."""
    args, kwargs = call
    start = perf_counter()
    try:
        result = func(*args, **kwargs)
        if deliver is not None:
            deliver(result)
    except Exception as exc:
        end = perf_counter()
        return TaskResult(end - start, describe_error(exc), end)
    end = perf_counter()
    return TaskResult(end - start, None, end)


def call_in_new_loop(
    func: Callable[..., Awaitable[Any]],
    call: Call,
    deliver: Callable[[Any], Any] | None = None,
    run: LoopRunner | None = None,
) -> TaskResult:
    """Run one call of a coroutine function in its own event loop (for thread/process pools):
    asyncio's, or the one ``run`` starts (``trio.run``)."""
    args, kwargs = call

    async def main() -> Any:
        return await func(*args, **kwargs)

    start = perf_counter()
    try:
        result = asyncio.run(main()) if run is None else run(main)
        if deliver is not None:
            deliver(result)
    except Exception as exc:
        end = perf_counter()
        return TaskResult(end - start, describe_error(exc), end)
    end = perf_counter()
    return TaskResult(end - start, None, end)


async def call_async(func: Callable[..., Awaitable[Any]], call: Call) -> TaskResult:
    """Await one call of a coroutine function on the running loop and time it."""
    args, kwargs = call
    start = perf_counter()
    try:
        await func(*args, **kwargs)
    except Exception as exc:
        end = perf_counter()
        return TaskResult(end - start, describe_error(exc), end)
    end = perf_counter()
    return TaskResult(end - start, None, end)


def blocking_caller(
    target: Target,
    deliver: Callable[[Any], Any] | None = None,
    first: Callable[[], Any] | None = None,
    run: LoopRunner | None = None,
) -> Callable[[Call], TaskResult]:
    """A function that runs one call of ``target`` to completion on the calling thread; a
    coroutine in a new asyncio loop, or in the loop ``run`` starts. ``first`` gives the calling
    worker's setup result, passed as the first argument."""
    func = target.func
    if first is not None:
        inner = blocking_caller(target, deliver, run=run)
        return lambda call: inner(with_first(call, first()))
    if target.is_coroutine:
        return lambda call: call_in_new_loop(func, call, deliver, run)
    return lambda call: call_sync(func, call, deliver)


def with_first(call: Call, value: Any) -> Call:
    """``call`` with ``value`` (a worker's setup result) before its positional arguments."""
    args, kwargs = call
    return (value, *args), kwargs


def start_every_worker(
    pool: Executor, workers: int, identify: Callable[[int], tuple[int, float | None]]
) -> dict[int, float | None]:
    """Make ``pool`` start each of its ``workers`` now (executors start them as tasks arrive),
    so that start-up is timed apart. ``identify`` runs in a worker and names it (a pid, a
    thread id) with the seconds its per-worker setup took (None without one): rounds of two
    tasks per worker until every worker has answered, at most 5."""
    seen: dict[int, float | None] = {}
    for _ in range(5):
        seen.update(pool.map(identify, range(workers * 2)))
        if len(seen) >= workers:
            break
    return seen


def start_all_threads(pool: ThreadPoolExecutor, workers: int) -> None:
    """Make the pool create every thread now (it creates them lazily) so start-up is not timed."""
    on_every_thread(pool.submit, workers, _nothing)


def _nothing() -> None:
    pass


def on_every_thread(submit: Callable[..., Any], workers: int, func: Callable[[], None]) -> None:
    """Run ``func`` once on each of a pool's ``workers`` threads, through the pool's
    ``submit(fn)``: every task waits on a barrier until all ``workers`` run at once, so no
    thread takes two. Raises the first error a thread raised, once all are done."""
    barrier = threading.Barrier(workers)
    done = [threading.Event() for _ in range(workers)]
    errors: list[BaseException] = []

    def task(finished: threading.Event) -> None:
        try:
            barrier.wait()
            func()
        except BaseException as exc:
            errors.append(exc)
        finally:
            finished.set()

    for finished in done:
        submit(functools.partial(task, finished))
    for finished in done:
        finished.wait()
    if errors:
        raise errors[0]


#: What ``next`` returns for a generator factory that ends without yielding.
_NO_VALUE: Any = object()


class Opened(NamedTuple):
    """One worker's setup: the factory's result, and how to tear it down (in that worker)."""

    value: Any
    close: Callable[[], None]


def open_setup(target: Target) -> Opened:
    """Run the target's per-worker setup factory once, here, and time it (``target.setup_s``).

    A generator factory yields the value and is resumed by ``close`` to tear it down, as a
    pytest fixture is; any other result is closed by its own ``close()``, if it has one.
    """
    factory = target.setup
    if factory is None:
        raise SetupError("the target has no per-worker setup")
    name = target.spec.setup
    start = perf_counter()
    try:
        made = factory()
        if not inspect.isgenerator(made):
            close = getattr(made, "close", None)
            target.setup_s.append(perf_counter() - start)
            return Opened(made, close if callable(close) else _nothing)
        value = next(made, _NO_VALUE)
    except Exception as exc:
        raise SetupError(f"setup {name!r} raised {describe_error(exc)}") from None
    if value is _NO_VALUE:
        raise SetupError(f"setup {name!r} returned without yielding a value")
    close_generator: Callable[[], None] = functools.partial(_resume_to_end, made, name)
    target.setup_s.append(perf_counter() - start)
    return Opened(value, close_generator)


def _resume_to_end(generator: Any, name: str | None) -> None:
    try:
        next(generator)
    except StopIteration:
        return
    generator.close()
    raise SetupError(f"setup {name!r} yielded more than once; a setup yields one value")


@contextmanager
def per_thread_setup(
    target: Target, submit: Callable[..., Any], workers: int
) -> Iterator[Callable[[], Any] | None]:
    """Start every one of a pool's ``workers`` threads (through its ``submit(fn)``); with a
    setup, open one on each and yield a function giving the calling thread's value, and close
    each on its own thread at the end (a sqlite connection must be). Yields None without one."""
    if target.setup is None:
        on_every_thread(submit, workers, _nothing)
        yield None
        return
    here = threading.local()

    def open_here() -> None:
        here.opened = open_setup(target)

    def close_here() -> None:
        opened: Opened | None = here.__dict__.pop("opened", None)
        if opened is not None:
            opened.close()

    try:
        on_every_thread(submit, workers, open_here)
        yield lambda: here.opened.value
    finally:
        on_every_thread(submit, workers, close_here)


@contextmanager
def setup_slots(target: Target, workers: int) -> Iterator[list[Any] | None]:
    """For an event loop's ``workers`` consumers: with a setup, one value per consumer, opened
    here (the loop's thread) and closed here at the end; None without one."""
    if target.setup is None:
        yield None
        return
    with ExitStack() as stack:
        values = []
        for _ in range(workers):
            opened = open_setup(target)
            stack.callback(opened.close)
            values.append(opened.value)
        yield values


@contextmanager
def single_worker(target: Target) -> Iterator[Target]:
    """``target`` as one worker runs it, for the calibration and the probes: with a setup, its
    function takes the calling thread's value first, opened here now, or on first use on any
    other thread (a probe's threads each get their own); all are closed at the end, here.
    Unchanged without a setup."""
    if target.setup is None:
        yield target
        return
    here = threading.local()
    opened = [open_setup(target)]
    here.value = opened[0].value
    lock = threading.Lock()

    def first() -> Any:
        try:
            return here.value
        except AttributeError:
            one = open_setup(target)
            with lock:
                opened.append(one)
            here.value = one.value
            return one.value

    func = target.func

    def bound(*args: Any, **kwargs: Any) -> Any:
        return func(first(), *args, **kwargs)

    try:
        yield dataclasses.replace(target, func=bound, setup=None)
    finally:
        opened[0].close()
        for other in opened[1:]:  # opened on a probe's thread, which has ended by now
            with contextlib.suppress(Exception):  # e.g. sqlite: only its own thread may close
                other.close()


def one_result(target: Target) -> tuple[Any, str | None]:
    """A result of the target and the error its call raised (``(None, error)``): the first
    call's, kept by the calibration, or one call made now. For ``supports()`` checks that need
    a real result, without costing a long call twice."""
    from tunekit.target import NOT_CALLED

    if target.first_result is not NOT_CALLED:
        return target.first_result, None
    kept: list[Any] = []
    outcome = blocking_caller(target, deliver=kept.append)(target.calls[0])
    return (kept[0] if kept else None), outcome.error
