"""tunekit_gevent: the ``gevent`` backend: a ``gevent.pool.Pool`` of ``workers`` greenlets.

gevent makes blocking code cooperative by monkey-patching the standard library (sockets,
``time.sleep``, threading, ...), and the patching must happen before the code that uses those
modules is imported. So the backend's ``prepare()``, which a trial process runs before it
imports the target, calls ``gevent.monkey.patch_all()``: only gevent's own trials are patched.
Plain functions only: a coroutine function needs an event loop, not greenlets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tunekit.backends import Runner
from tunekit.calls import TaskResult, blocking_caller, setup_slots, with_first
from tunekit.hookspecs import hookimpl

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.target import Call, Target


class GeventBackend:
    """gevent: green threads, for blocking I/O made cooperative by monkey-patching."""

    name = "gevent"
    description = "gevent.pool.Pool of `workers` greenlets (trial process monkey-patched first)"
    scales = True
    #: A worker is a greenlet: cheap, so pools may grow in large steps.
    cheap_workers = True
    #: Runs a per-worker setup: one per slot of the pool, handed to the greenlet it runs.
    worker_setup = True

    def prepare(self) -> None:
        """Monkey-patch the standard library, before the target is imported."""
        from gevent import monkey

        monkey.patch_all()

    def supports(self, target: Target) -> str | None:
        """Plain functions; a coroutine function needs an event loop (asyncio, uvloop, trio)."""
        if target.is_coroutine:
            return (
                "a coroutine function: gevent runs plain functions in greenlets "
                "(measure it with an event-loop backend)"
            )
        return None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[Runner]:
        """A pool of ``workers`` greenlets; ``Pool.map`` keeps the order of the calls. The pool
        starts a greenlet per call, so a per-worker setup belongs to a slot of the pool: a
        greenlet takes a free one for its call and gives it back."""
        from gevent.pool import Pool
        from gevent.queue import Queue

        with setup_slots(target, workers) as firsts:
            call = blocking_caller(target)
            if firsts is not None:
                free: Queue[Any] = Queue(items=firsts)
                run = call

                def call(one: Call) -> TaskResult:
                    value = free.get()
                    try:
                        return run(with_first(one, value))
                    finally:
                        free.put(value)

            pool = Pool(workers)
            try:
                yield lambda calls: pool.map(call, calls)
            finally:
                pool.kill()


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the gevent backend."""
    register(GeventBackend())
