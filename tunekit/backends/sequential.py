"""The baseline: one call after another (coroutines awaited one by one on a single loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tunekit.backends import Runner, TaskResult
from tunekit.calls import call_async, call_sync
from tunekit.hookspecs import hookimpl

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.target import Call, Target


class SequentialBackend:
    """No concurrency at all: what every other model must beat."""

    name = "sequential"
    description = "one call after another on the calling thread"
    scales = False

    def supports(self, target: Target) -> str | None:
        """Every callable can be called in a loop."""
        return None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[Runner]:
        """Yield a runner that calls (or awaits) each task in turn."""
        func = target.func
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
