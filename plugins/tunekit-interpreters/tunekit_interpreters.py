"""tunekit_interpreters: ``InterpreterPoolExecutor`` as the ``interpreters`` backend.

Each worker is a thread running its own subinterpreter (PEP 734) with its own GIL, so pure
Python can run on several cores in one process, without forking. The pool is
``concurrent.futures.InterpreterPoolExecutor`` on Python 3.14, the ``interpreters-pep-734``
backport's on 3.13; on older Pythons the backend is skipped with the reason. As with the
process backend, each worker imports the target itself (in the pool's initializer), so only
the per-task arguments and results cross, pickled. Creating the interpreters and importing the
target in each is the trial's start-up, timed apart from the calls (``startup_s``).
"""

from __future__ import annotations

import atexit
import pickle
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tunekit.backends import TaskResult
from tunekit.calls import blocking_caller, one_result, open_setup, start_every_worker
from tunekit.hookspecs import hookimpl
from tunekit.snippets import SnippetRequest, plural
from tunekit.target import Target, worker_target

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.target import Call

#: This worker's caller of the target, set by the pool's initializer in each subinterpreter.
_caller: Callable[[Call], TaskResult] | None = None
#: Seconds this worker's per-worker setup took (None without one).
_setup_s: float | None = None


def pool_class() -> tuple[type[Executor] | None, str | None]:
    """The executor class on this Python, or None and why there is none."""
    try:
        from concurrent.futures import InterpreterPoolExecutor  # type: ignore[attr-defined]
    except ImportError:
        pass
    else:
        return InterpreterPoolExecutor, None  # type: ignore[no-any-return]
    if sys.version_info < (3, 13):
        return None, (
            "subinterpreter pools need Python 3.14, or 3.13 with the interpreters-pep-734 "
            f"backport; this is Python {platform.python_version()}"
        )
    try:
        from interpreters_backport.concurrent.futures import InterpreterPoolExecutor
    except ImportError:
        return None, (
            "on Python 3.13 subinterpreter pools need the backport: "
            "pip install interpreters-pep-734"
        )
    return InterpreterPoolExecutor, None  # type: ignore[no-any-return]


def _init_worker(spec: dict[str, Any]) -> None:
    """In each new subinterpreter: import the target, open its per-worker setup."""
    global _caller, _setup_s
    target = worker_target(spec)
    first = None
    if target.setup is not None:
        opened = open_setup(target)
        _setup_s = target.setup_s[0]
        atexit.register(opened.close)  # a subinterpreter runs its own atexit as it ends
        first = lambda: opened.value  # noqa: E731 - the value is fixed for this worker
    _caller = blocking_caller(target, deliver=pickle.dumps, first=first)


def _run_call(call: Call) -> TaskResult:
    assert _caller is not None, "pool initializer did not run"
    return _caller(call)


def _worker_id(_: int) -> tuple[int, float | None]:
    time.sleep(0.01)  # keep this worker busy so the pool starts another one
    return threading.get_ident(), _setup_s


class InterpretersBackend:
    """Subinterpreters: a GIL per worker in one process, paid for in start-up and pickling."""

    name = "interpreters"
    description = "concurrent.futures.InterpreterPoolExecutor (one subinterpreter per worker)"
    scales = True
    #: Runs a per-worker setup: in each subinterpreter, as it starts (the pool's initializer).
    worker_setup = True

    def supports(self, target: Target) -> str | None:
        """A pool must exist on this Python; arguments and results must pickle (they cross
        between interpreters), the result checked on one real call."""
        _, missing = pool_class()
        if missing is not None:
            return missing
        try:
            pickle.dumps(target.calls)
        except Exception as exc:
            return f"arguments cannot be pickled ({type(exc).__name__}: {exc})"
        result, error = one_result(target)
        if error is None:
            try:
                pickle.dumps(result)
            except Exception as exc:
                return f"results cannot be pickled ({type(exc).__name__}: {exc})"
        return None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[Callable[..., Any]]:
        """Start all ``workers`` subinterpreters (each imports the target), yield a runner."""
        cls, missing = pool_class()
        if cls is None:
            raise RuntimeError(missing)
        pool = cls(  # type: ignore[call-arg]
            max_workers=workers, initializer=_init_worker, initargs=(target.spec.to_dict(),)
        )
        with pool:
            setups = start_every_worker(pool, workers, _worker_id)
            target.setup_s.extend(s for s in setups.values() if s is not None)

            def run(calls: Sequence[Call]) -> list[TaskResult]:
                return list(pool.map(_run_call, calls))

            yield run


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the subinterpreter backend."""
    register(InterpretersBackend())


@hookimpl
def tunekit_snippet(request: SnippetRequest) -> str | None:
    """An ``InterpreterPoolExecutor`` of the recommended size (3.14, or 3.13's backport)."""
    if request.model != "interpreters":
        return None
    func = request.function
    call = f"asyncio.run({func}(*args))" if request.is_coroutine else f"{func}(*args)"
    head = "import asyncio\n" if request.is_coroutine else ""
    interpreters = plural(request.workers, "subinterpreter")
    return f"""{head}try:
    from concurrent.futures import InterpreterPoolExecutor  # Python 3.14
except ImportError:  # Python 3.13: pip install interpreters-pep-734
    from interpreters_backport.concurrent.futures import InterpreterPoolExecutor

{request.import_lines()}


def call(args):
    # module level, so that each subinterpreter imports it by name
    return {call}


def run_all(tasks):
    \"\"\"Call {func} once per task (a tuple of arguments) on {interpreters}.\"\"\"
    with InterpreterPoolExecutor(max_workers={request.workers}) as pool:
        return list(pool.map(call, tasks))
"""
