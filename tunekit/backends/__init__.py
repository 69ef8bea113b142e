"""The backend contract: how a concurrency model runs a batch of calls of the target.

A backend is a small object with a ``name``, ``supports(target)`` (None when it can run the
target, else the reason it cannot) and ``session(target, workers)``: a context manager that
starts the pool or event loop (outside the clock) and yields a ``Runner``. The runner executes
a batch of calls with ``workers`` of them in flight and returns one ``TaskResult`` per call
(``tunekit.calls`` times them). Sessions are reused across warm-up and repeats so start-up is
paid once and measured apart.

A backend may also set ``sync_via`` to the name of the backend whose pool runs plain
(non-coroutine) functions for it: the event loops hand them to a thread pool, so for a plain
function they are ``thread`` plus a loop, and the adaptive sweep measures them less. And it
may set ``cheap_workers = True`` when a worker costs little (a thread, a task on an event loop):
while its pool scales near-perfectly, the sweep grows it four times at a step. And it may
define ``prepare()``, which a trial process runs before it imports the target (as a probe's
``prepare`` is run): gevent's monkey-patching must come first. A backend whose start-up is
slow (a cluster) may set ``startup_estimate_s``: its first trial is planned and timed out with
that much start-up until one of its trials has measured the real one. A backend whose event
loop runs coroutines asyncio's cannot (trio) may define ``run_loop(main)``, which runs an async
function of no arguments to completion under its loop: when a coroutine's first call raises
under asyncio, the calibration calls it through each such backend's ``run_loop``; if one runs
it, the calibration's calls are timed there and every backend without ``run_loop`` is skipped,
with the reason.

A backend that runs the per-worker setup (``--setup``) sets ``worker_setup = True``: it opens
one where each of its workers starts and passes its value as every call's first argument
(``tunekit.calls``: ``per_thread_setup``, ``setup_slots``, ``open_setup``). When a setup is
given, a backend that does not declare it is skipped with a reason (``check_supports``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from tunekit.calls import TaskResult

if TYPE_CHECKING:
    from tunekit.target import Call, Target

__all__ = ["Backend", "Runner", "TaskResult", "check_supports"]

Runner = Callable[["Sequence[Call]"], list[TaskResult]]


@runtime_checkable
class Backend(Protocol):
    """A concurrency model tunekit can measure."""

    name: str
    description: str
    #: False for backends that always run one task at a time (only ``workers=1`` is tried).
    scales: bool

    def supports(self, target: Target) -> str | None:
        """None if this backend can run ``target``; otherwise the reason it cannot."""

    def session(self, target: Target, workers: int) -> AbstractContextManager[Runner]:
        """Start the executor or loop with ``workers`` and yield a runner for batches."""


def check_supports(backend: Backend, target: Target) -> str | None:
    """Why ``backend`` cannot run ``target``: its own answer, or, when the target has a
    per-worker setup, that the backend does not run one; None when it can."""
    reason = backend.supports(target)
    if reason is None and target.setup is not None and not getattr(backend, "worker_setup", False):
        reason = f"the {backend.name} backend does not run a per-worker setup (--setup)"
    return reason
