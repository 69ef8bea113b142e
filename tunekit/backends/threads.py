"""A ``concurrent.futures.ThreadPoolExecutor`` of ``workers`` threads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tunekit.backends import Runner
from tunekit.calls import blocking_caller, per_thread_setup
from tunekit.hookspecs import hookimpl
from tunekit.snippets import SnippetRequest, plural

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.target import Target


class ThreadBackend:
    """Threads: scale blocking waits and GIL-releasing native code, not pure Python."""

    name = "thread"
    description = "concurrent.futures.ThreadPoolExecutor (coroutines: one event loop per task)"
    scales = True
    #: A worker is a thread or a task on the loop: cheap, so pools may grow in large steps.
    cheap_workers = True
    #: Runs a per-worker setup: on each thread, where it starts.
    worker_setup = True

    def supports(self, target: Target) -> str | None:
        """Any callable can run in a thread."""
        return None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[Runner]:
        """Start all ``workers`` threads, then yield a runner that maps calls over them."""
        with (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tunekit") as pool,
            per_thread_setup(target, pool.submit, workers) as first,
        ):
            call = blocking_caller(target, first=first)
            yield lambda calls: list(pool.map(call, calls))


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register the thread-pool backend."""
    register(ThreadBackend())


@hookimpl
def tunekit_snippet(request: SnippetRequest) -> str | None:
    """A ``ThreadPoolExecutor`` of the recommended size, mapped over the tasks."""
    if request.model != "thread":
        return None
    func = request.function
    call = f"asyncio.run({func}(*args))" if request.is_coroutine else f"{func}(*args)"
    head = "import asyncio\n" if request.is_coroutine else ""
    threads = plural(request.workers, "thread")
    limit, imports = "", ""
    if request.inner_threads is not None:
        # threadpoolctl's limits are process-wide: every thread of the pool shares them
        imports = "\nfrom threadpoolctl import threadpool_limits\n"
        limit = f"threadpool_limits(limits={request.inner_threads}), "
    return f"""{head}from concurrent.futures import ThreadPoolExecutor
{imports}
{request.import_lines()}


def call(args):
    return {call}


def run_all(tasks):
    \"\"\"Call {func} once per task (a tuple of arguments) on {threads}.\"\"\"
    with {limit}ThreadPoolExecutor(max_workers={request.workers}) as pool:
        return list(pool.map(call, tasks))
"""
