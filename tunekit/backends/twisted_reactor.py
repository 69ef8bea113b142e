"""Twisted's asyncio reactor, running in its own thread for the whole session.

A reactor cannot be restarted in a process, and a session runs several batches, so the session
installs the asyncio reactor, runs it in a daemon thread and hands each batch over with
``blockingCallFromThread``. Plain functions go to a Twisted ``ThreadPool`` through
``deferToThreadPool``; coroutines run as asyncio tasks on the reactor's loop. Twisted is
imported only when a session starts, so registering this plugin costs nothing.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import types
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from tunekit.backends import Runner, TaskResult
from tunekit.backends.asyncio_loop import make_consumers, run_consumers
from tunekit.calls import blocking_caller, call_async, per_thread_setup, setup_slots
from tunekit.hookspecs import hookimpl
from tunekit.snippets import SnippetRequest

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

    from tunekit.backends import Backend
    from tunekit.target import Call, Target

#: How long to wait for the reactor thread to start, and to finish once asked to stop.
REACTOR_TIMEOUT_S = 10.0

#: Starts a batch in the reactor thread; the Deferred fires with its results in call order.
BatchStarter = Callable[["Sequence[Call]"], "Deferred[list[TaskResult]]"]


class TwistedBackend:
    """Twisted: coroutines on the asyncio reactor, plain functions in a Twisted ThreadPool."""

    name = "twisted"
    description = "Twisted asyncio reactor in a thread (sync functions: deferToThreadPool)"
    scales = True
    #: A worker is a thread or a task on the loop: cheap, so pools may grow in large steps.
    cheap_workers = True
    #: Plain functions run on a thread pool: for them this is the thread backend plus a loop.
    sync_via = "thread"
    #: Runs a per-worker setup: one per consumer on the loop, one per pool thread.
    worker_setup = True

    def supports(self, target: Target) -> str | None:
        """Coroutines run on the reactor's loop, anything else in a Twisted thread pool."""
        return None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[Runner]:
        """Install and start the reactor (and the pool's threads), then yield a runner."""
        reactor, loop = install_asyncio_reactor()
        from twisted.internet.threads import blockingCallFromThread

        with ExitStack() as stack:
            start_reactor_thread(reactor, loop, stack)
            if target.is_coroutine:
                firsts = stack.enter_context(setup_slots(target, workers))
                start_batch = coroutine_batches(loop, target.func, workers, firsts)
            else:
                start_batch = thread_pool_batches(reactor, target, workers, stack)
            yield lambda calls: blockingCallFromThread(reactor, start_batch, calls)


def install_asyncio_reactor() -> tuple[Any, asyncio.AbstractEventLoop]:
    """Install Twisted's asyncio reactor on a new loop (no reactor may be installed yet)."""
    installed = sys.modules.get("twisted.internet.reactor")
    if installed is not None:
        raise RuntimeError(
            f"a Twisted reactor ({type(installed).__name__}) is already installed in this "
            "process; the twisted backend installs its own asyncio reactor, and a reactor "
            "cannot be restarted, so it needs a fresh process"
        )
    from twisted.internet import asyncioreactor

    loop = asyncio.new_event_loop()
    asyncioreactor.install(loop)  # type: ignore[no-untyped-call]
    from twisted.internet import reactor

    return reactor, loop


def start_reactor_thread(reactor: Any, loop: asyncio.AbstractEventLoop, stack: ExitStack) -> None:
    """Run the reactor in a daemon thread until ``stack`` closes; return once it is running."""
    running = threading.Event()
    reactor.callWhenRunning(running.set)
    thread = threading.Thread(
        target=reactor.run,
        kwargs={"installSignalHandlers": False},
        name="tunekit-twisted-reactor",
        daemon=True,
    )
    thread.start()
    stack.callback(_stop_reactor, reactor, loop, thread)
    if not running.wait(REACTOR_TIMEOUT_S):
        raise RuntimeError(f"the Twisted reactor did not start within {REACTOR_TIMEOUT_S} s")


def _stop_reactor(reactor: Any, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    reactor.callFromThread(reactor.stop)
    thread.join(REACTOR_TIMEOUT_S)
    if not thread.is_alive():
        loop.close()


def thread_pool_batches(
    reactor: Any, target: Target, workers: int, stack: ExitStack
) -> BatchStarter:
    """Start a ``ThreadPool`` of ``workers`` threads (stopped with ``stack``), with the
    target's per-worker setup opened on each; batches use it."""
    from twisted.internet.defer import Deferred, gatherResults
    from twisted.internet.threads import deferToThreadPool
    from twisted.python.threadpool import ThreadPool

    pool = ThreadPool(minthreads=workers, maxthreads=workers, name="tunekit")
    pool.start()  # creates all ``minthreads`` threads now
    stack.callback(pool.stop)
    first = stack.enter_context(per_thread_setup(target, pool.callInThread, workers))
    call_one = blocking_caller(target, first=first)

    def submit_one(call: Call) -> Deferred[TaskResult]:
        return deferToThreadPool(reactor, pool, call_one, call)

    def start_batch(calls: Sequence[Call]) -> Deferred[list[TaskResult]]:
        results, consumers = make_consumers(calls, workers, submit_one)
        done = gatherResults([Deferred.fromCoroutine(c) for c in consumers], consumeErrors=True)
        return done.addCallback(lambda _: results)

    return start_batch


def coroutine_batches(
    loop: asyncio.AbstractEventLoop,
    func: Callable[..., Any],
    workers: int,
    firsts: Sequence[Any] | None = None,
) -> BatchStarter:
    """Batches of coroutines, run as asyncio tasks on the reactor's loop.

    Not ``Deferred.fromCoroutine``: Twisted's driver accepts only Deferreds, so a coroutine
    awaiting ``asyncio.sleep`` fails with "await wasn't used with future", while an asyncio
    Task fails on an awaited Deferred ("Task got bad yield"). Running an asyncio Task through
    ``accepting_deferreds`` supports both kinds of coroutine, and mixes of them.
    """
    from twisted.internet.defer import Deferred

    user_func = accepting_deferreds(func, loop)

    def await_one(call: Call) -> Awaitable[TaskResult]:
        return call_async(user_func, call)

    def start_batch(calls: Sequence[Call]) -> Deferred[list[TaskResult]]:
        batch = run_consumers(calls, workers, await_one, firsts)
        return Deferred.fromFuture(loop.create_task(batch))

    return start_batch


def accepting_deferreds(
    func: Callable[..., Coroutine[Any, Any, Any]], loop: asyncio.AbstractEventLoop
) -> Callable[..., Awaitable[Any]]:
    """``func`` for an asyncio Task, with every Deferred its coroutine awaits made waitable.

    The coroutine is stepped by hand: asyncio futures pass through to the Task untouched; for a
    Deferred the Task waits on a future that a pass-through callback resolves, after which the
    Deferred's own ``__await__`` returns its result or raises its failure. Costs ~0.2 us per
    await and ~0.35 us per call.
    """
    from twisted.internet.defer import Deferred

    def wake(result: object, future: asyncio.Future[None]) -> object:
        if not future.done():
            future.set_result(None)
        return result

    @types.coroutine
    def drive(coro: Coroutine[Any, Any, Any]) -> Generator[Any, Any, Any]:
        to_send: Any = None
        to_throw: BaseException | None = None
        while True:
            try:
                yielded = coro.send(to_send) if to_throw is None else coro.throw(to_throw)
            except StopIteration as stop:
                return stop.value
            to_send = to_throw = None
            try:
                if isinstance(yielded, Deferred):
                    woken = loop.create_future()
                    yielded.addBoth(wake, woken)
                    yield from woken
                else:
                    to_send = yield yielded
            except BaseException as exc:  # e.g. cancellation: deliver it to the coroutine
                to_throw = exc

    def call(*args: Any, **kwargs: Any) -> Awaitable[Any]:
        return drive(func(*args, **kwargs))

    return call


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the Twisted backend."""
    register(TwistedBackend())


@hookimpl
def tunekit_snippet(request: SnippetRequest) -> str | None:
    """A ``DeferredSemaphore``-bounded ``gatherResults`` on the asyncio reactor (plain
    functions: the reactor's thread pool, sized to the pool)."""
    if request.model != "twisted":
        return None
    func, workers = request.function, request.workers
    if request.is_coroutine:
        one = f"""    def one(args):
        return defer.Deferred.fromFuture(loop.create_task({func}(*args)))

    semaphore = defer.DeferredSemaphore(limit)
    calls = [semaphore.run(one, args) for args in tasks]"""
    else:
        one = f"""    reactor.suggestThreadPoolSize(limit)
    calls = [threads.deferToThread({func}, *args) for args in tasks]"""
    return f"""import asyncio

from twisted.internet import asyncioreactor

loop = asyncio.new_event_loop()
asyncioreactor.install(loop)  # before anything imports twisted.internet.reactor

from twisted.internet import defer, reactor, threads
from twisted.python.failure import Failure

{request.import_lines()}


def gather_all(tasks, limit={workers}):
    \"\"\"A Deferred of {func}'s results, one call per task (a tuple of arguments), at most
    ``limit`` at a time; call it with the reactor running.\"\"\"
{one}
    return defer.gatherResults(calls, consumeErrors=True)


def run_all(tasks):
    \"\"\"Run the reactor until every task is done (a reactor runs once per process).\"\"\"
    outcome = []

    def start():
        done = gather_all(tasks)
        done.addBoth(outcome.append)
        done.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run()
    if isinstance(outcome[0], Failure):
        outcome[0].raiseException()
    return outcome[0]
"""
