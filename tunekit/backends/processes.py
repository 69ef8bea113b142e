"""A ``concurrent.futures.ProcessPoolExecutor``: real parallelism for code that holds the GIL.

The pool children resolve the target themselves (in the pool initializer), so only the per-task
arguments and results cross the process boundary, exactly the cost a user's own pool pays.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.util import Finalize
from statistics import fmean
from typing import TYPE_CHECKING, Any

from tunekit.backends import TaskResult
from tunekit.calls import blocking_caller, one_result, open_setup, start_every_worker
from tunekit.hookspecs import hookimpl
from tunekit.native_threads import limit_native_threads
from tunekit.snippets import SnippetRequest, plural
from tunekit.target import Target, worker_target

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.target import Call

#: Work per chunk sent to a child: large enough to hide ~130 us of IPC per message, small
#: enough that the last chunks still balance across workers.
CHUNK_TARGET_S = 0.005
#: At least this many chunks per worker in a batch, so no worker idles at the end.
MIN_CHUNKS_PER_WORKER = 4

_caller: Callable[[Call], TaskResult] | None = None
#: This child's per-worker setup: the seconds it took (None without one).
_setup_s: float | None = None
#: The native thread limit of this worker, applied again after its first call.
_inner_threads: int | None = None


def _init_child(spec: dict[str, Any], inner_threads: int | None = None) -> None:
    global _caller, _setup_s, _inner_threads
    # The arguments arrive pickled with each task; a generator is consumed here, in the child.
    target = worker_target(spec)
    first = None
    if target.setup is not None:
        opened = open_setup(target)
        _setup_s = target.setup_s[0]
        # Torn down in this child as it exits, when the pool shuts down (exitpriority: run by
        # multiprocessing's exit handler, which every pool child calls).
        Finalize(None, opened.close, exitpriority=10)
        first = lambda: opened.value  # noqa: E731 - the value is fixed for this child
    _caller = blocking_caller(target, deliver=pickle.dumps, first=first)
    _inner_threads = inner_threads
    if inner_threads is not None:
        limit_native_threads(inner_threads)


def _run_call(call: Call) -> TaskResult:
    global _inner_threads
    assert _caller is not None, "pool initializer did not run"
    result = _caller(call)
    if _inner_threads is not None:  # once more, for libraries the first call imported
        limit_native_threads(_inner_threads)
        _inner_threads = None
    return result


def _child_pid(_: int) -> tuple[int, float | None]:
    time.sleep(0.01)  # keep this child busy so the pool starts another one
    return os.getpid(), _setup_s


class ProcessBatches:
    """Runs batches on a started pool, choosing the chunksize from the task time seen so far."""

    def __init__(self, pool: ProcessPoolExecutor, workers: int) -> None:
        self.pool = pool
        self.workers = workers
        self.chunksize = 1
        self._task_s: float | None = None

    def __call__(self, calls: Sequence[Call]) -> list[TaskResult]:
        """Run ``calls`` on the pool; ``chunksize`` is recorded for the report."""
        self.chunksize = self.choose_chunksize(len(calls))
        results = list(self.pool.map(_run_call, calls, chunksize=self.chunksize))
        if self._task_s is None and results:  # once, from the warm-up: batches after it are timed
            self._task_s = fmean(r.latency_s for r in results)
        return results

    def choose_chunksize(self, n_calls: int) -> int:
        """1 until the task time is known; then enough tasks per chunk to amortize IPC."""
        if self._task_s is None or n_calls == 0:
            return 1
        by_time = math.ceil(CHUNK_TARGET_S / max(self._task_s, 1e-9))
        by_balance = max(1, n_calls // (self.workers * MIN_CHUNKS_PER_WORKER))
        return max(1, min(by_time, by_balance))


class ProcessBackend:
    """Processes: true parallelism, paid for in start-up, pickling and memory per worker."""

    name = "process"
    description = "concurrent.futures.ProcessPoolExecutor (--start-method, or the default)"
    scales = True
    #: Runs a per-worker setup: in each child, as it starts (the pool's initializer).
    worker_setup = True

    @property
    def start_method(self) -> str:
        """The start method its pool uses: this process's default (``--start-method`` sets it
        in the trial's child)."""
        return multiprocessing.get_start_method()

    def supports(self, target: Target) -> str | None:
        """Arguments and results must pickle: they cross to and from the child processes.

        The result is checked on one real call, the calibration's when it was made (a failing
        call proves nothing, so it passes).
        """
        try:
            pickle.dumps(target.calls)
        except Exception as exc:
            return f"arguments cannot be pickled ({type(exc).__name__}: {exc})"
        result, error = one_result(target)
        if error is not None:
            return None
        try:
            pickle.dumps(result)
        except Exception as exc:
            return f"results cannot be pickled ({type(exc).__name__}: {exc})"
        return None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[ProcessBatches]:
        """Start all ``workers`` children (each imports the target), then yield a runner."""
        context = multiprocessing.get_context(self.start_method)
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_child,
            initargs=(target.spec.to_dict(), target.inner_threads),
        ) as pool:
            setups = start_every_worker(pool, workers, _child_pid)
            target.setup_s.extend(s for s in setups.values() if s is not None)
            yield ProcessBatches(pool, workers)


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the process-pool backend."""
    register(ProcessBackend())


@hookimpl
def tunekit_snippet(request: SnippetRequest) -> str | None:
    """A ``ProcessPoolExecutor`` of the recommended size, with the measured chunksize."""
    if request.model != "process":
        return None
    func = request.function
    chunksize = request.chunksize or 1
    call = f"asyncio.run({func}(*args))" if request.is_coroutine else f"{func}(*args)"
    head = "import asyncio\n" if request.is_coroutine else ""
    limit, start, imports = "", "", ""
    if request.inner_threads is not None:
        imports = "\nfrom threadpoolctl import threadpool_limits\n"
        limit = f"""

def limit_native_threads():
    # each worker's BLAS/OpenMP pool: {request.inner_threads} thread(s), so the pool does not
    # oversubscribe the cores (measured faster than the libraries' default)
    threadpool_limits(limits={request.inner_threads})
"""
        start = ", initializer=limit_native_threads"
    return f"""{head}from concurrent.futures import ProcessPoolExecutor
{imports}
{request.import_lines()}


def call(args):
    # module level, so that it pickles: the pool's processes import this module
    return {call}
{limit}

def run_all(tasks):
    \"\"\"Call {func} once per task (a tuple of arguments) on {plural(request.workers, "process")},
    {plural(chunksize, "task")} per message. Call it under ``if __name__ == "__main__":``.\"\"\"
    with ProcessPoolExecutor(max_workers={request.workers}{start}) as pool:
        return list(pool.map(call, tasks, chunksize={chunksize}))
"""
