"""The baseline: one call after another (coroutines awaited one by one on a single loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tunekit.backends import Runner, TaskResult
from tunekit.calls import call_async, call_sync, single_worker
from tunekit.hookspecs import hookimpl
from tunekit.snippets import SnippetRequest

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.target import Call, Target


class SequentialBackend:
    """No concurrency at all: what every other model must beat."""

    name = "sequential"
    description = "one call after another on the calling thread"
    scales = False
    #: Runs a per-worker setup: once, for its one worker.
    worker_setup = True

    def supports(self, target: Target) -> str | None:
        """Every callable can be called in a loop."""
        return None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[Runner]:
        """Yield a runner that calls (or awaits) each task in turn."""
        with single_worker(target) as one:
            func = one.func
            if not target.is_coroutine:
                yield lambda calls: [call_sync(func, call) for call in calls]
                return

            async def run_all(calls: Sequence[Call]) -> list[TaskResult]:
                return [await call_async(func, call) for call in calls]

            with asyncio.Runner() as loop:
                yield lambda calls: loop.run(run_all(calls))


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the sequential backend."""
    register(SequentialBackend())


@hookimpl
def tunekit_snippet(request: SnippetRequest) -> str | None:
    """A plain loop (coroutines awaited one by one on one event loop)."""
    if request.model != "sequential":
        return None
    func = request.function
    if request.is_coroutine:
        return f"""import asyncio

{request.import_lines()}


async def gather_all(tasks):
    \"\"\"Await {func} once per task (a tuple of arguments), one after another.\"\"\"
    return [await {func}(*args) for args in tasks]


def run_all(tasks):
    return asyncio.run(gather_all(tasks))
"""
    return f"""{request.import_lines()}


def run_all(tasks):
    \"\"\"Call {func} once per task (a tuple of arguments): no pool is faster here.\"\"\"
    return [{func}(*args) for args in tasks]
"""
