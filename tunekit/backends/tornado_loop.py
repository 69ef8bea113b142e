"""Tornado's ``IOLoop``: coroutines natively, plain functions through ``IOLoop.run_in_executor``.

Each batch is one ``IOLoop.run_sync`` with ``workers`` consumer coroutines sharing an iterator
over the calls. Tornado is imported only when a session starts, so registering this plugin
costs nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING

from tunekit.backends import Runner, TaskResult
from tunekit.backends.asyncio_loop import run_consumers
from tunekit.calls import blocking_caller, call_async, per_thread_setup, setup_slots
from tunekit.hookspecs import hookimpl
from tunekit.snippets import SnippetRequest

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.target import Call, Target


class TornadoBackend:
    """Tornado: an asyncio-based loop, measured through Tornado's own entry points."""

    name = "tornado"
    description = "tornado.ioloop.IOLoop.run_sync (sync functions: IOLoop.run_in_executor)"
    scales = True
    #: A worker is a thread or a task on the loop: cheap, so pools may grow in large steps.
    cheap_workers = True
    #: Plain functions run on a thread pool: for them this is the thread backend plus a loop.
    sync_via = "thread"
    #: Runs a per-worker setup: one per consumer on the loop, one per executor thread.
    worker_setup = True

    def supports(self, target: Target) -> str | None:
        """Coroutines run on the IOLoop, anything else in its executor."""
        return None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[Runner]:
        """Create a fresh IOLoop (and the executor's threads for sync code), yield a runner."""
        from tornado.ioloop import IOLoop

        func = target.func
        # make_current=False: leave the thread's current loop alone (run_sync sets it anyway).
        io_loop: IOLoop = IOLoop(make_current=False)
        with closing(io_loop):
            if target.is_coroutine:

                def await_one(call: Call) -> Awaitable[TaskResult]:
                    return call_async(func, call)

                with setup_slots(target, workers) as firsts:
                    yield lambda calls: io_loop.run_sync(
                        lambda: run_consumers(calls, workers, await_one, firsts)
                    )
                return
            with (
                ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tunekit") as pool,
                per_thread_setup(target, pool.submit, workers) as first,
            ):
                call = blocking_caller(target, first=first)

                def submit_one(call_args: Call) -> Awaitable[TaskResult]:
                    return io_loop.run_in_executor(pool, call, call_args)

                yield lambda calls: io_loop.run_sync(
                    lambda: run_consumers(calls, workers, submit_one)
                )


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the Tornado backend."""
    register(TornadoBackend())


@hookimpl
def tunekit_snippet(request: SnippetRequest) -> str | None:
    """A ``tornado.locks.Semaphore``-bounded ``gen.multi`` on an ``IOLoop``."""
    if request.model != "tornado":
        return None
    func, workers = request.function, request.workers
    if request.is_coroutine:
        body = f"""    semaphore = Semaphore(limit)

    async def one(args):
        async with semaphore:
            return await {func}(*args)

    return await gen.multi([one(args) for args in tasks])"""
        imports = (
            "from tornado import gen\nfrom tornado.ioloop import IOLoop\n"
            "from tornado.locks import Semaphore"
        )
    else:
        body = f"""    io_loop = IOLoop.current()
    with ThreadPoolExecutor(max_workers=limit) as pool:
        calls = [functools.partial({func}, *args) for args in tasks]
        return await gen.multi([io_loop.run_in_executor(pool, call) for call in calls])"""
        imports = (
            "import functools\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
            "from tornado import gen\nfrom tornado.ioloop import IOLoop"
        )
    return f"""{imports}

{request.import_lines()}


async def gather_all(tasks, limit={workers}):
    \"\"\"Run {func} once per task (a tuple of arguments), at most ``limit`` at a time.\"\"\"
{body}


def run_all(tasks):
    return IOLoop.current().run_sync(lambda: gather_all(tasks))
"""
