"""tunekit_uvloop: the ``uvloop`` backend, tunekit's asyncio backend on uvloop's event loop.

Everything but the loop is the built-in ``asyncio`` backend's: ``workers`` consumer coroutines
share one iterator of calls; plain functions go to a thread pool through ``run_in_executor``.
So the two backends side by side measure what the loop alone changes.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from tunekit.backends import Runner
from tunekit.backends.asyncio_loop import AsyncioBackend, loop_session
from tunekit.hookspecs import hookimpl

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.target import Target


class UvloopBackend(AsyncioBackend):
    """uvloop: asyncio's API on libuv, for coroutines that wait on I/O. All but the loop (what
    it supports, its cheap workers, plain functions on threads) is the asyncio backend's."""

    name = "uvloop"
    description = "one uvloop event loop (sync functions: loop.run_in_executor on threads)"

    def session(self, target: Target, workers: int) -> AbstractContextManager[Runner]:
        """Create a uvloop loop (and the executor's threads for sync code), yield a runner."""
        import uvloop

        return loop_session(target, workers, uvloop.new_event_loop)


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the uvloop backend."""
    register(UvloopBackend())
