"""The probe's run: the target called concurrently, on threads or as coroutines on one loop."""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter, process_time
from typing import TYPE_CHECKING, Any

from tunekit.calls import blocking_caller, start_all_threads
from tunekit.probes.locks.registry import REGISTRY

if TYPE_CHECKING:
    from tunekit.target import Call, Target

#: Threads of the run: at least 4, so that contention shows even on 1-2 cores; 2 per CPU, so
#: that GIL-releasing holds can overlap on every core with a thread waiting behind each; at
#: most 16, the analysis's default largest pool.
MIN_THREADS = 4
THREADS_PER_CPU = 2
MAX_THREADS = 16
#: Coroutines kept in flight on the one event loop (as many as the nature probe starts).
IN_FLIGHT = 8


def run_threads(target: Target, seconds: float, threads: int) -> dict[str, Any]:
    """Each of ``threads`` threads calls the target until ``seconds`` have passed."""
    caller = blocking_caller(target)
    caller(target.calls[0])  # warm-up: imports and caches are not the task's locking
    starts = itertools.count()

    def work(deadline: float) -> tuple[int, int]:
        calls = errors = 0
        index = next(starts)
        while perf_counter() < deadline:
            result = caller(target.calls[(index + calls) % len(target.calls)])
            calls += 1
            errors += result.error is not None
        return calls, errors

    with ThreadPoolExecutor(max_workers=threads) as pool:
        start_all_threads(pool, threads)
        REGISTRY.reset()
        cpu0, wall0 = process_time(), perf_counter()
        futures = [pool.submit(work, wall0 + seconds) for _ in range(threads)]
        counts = [future.result() for future in futures]
        wall, cpu = perf_counter() - wall0, process_time() - cpu0
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "calls": sum(c for c, _ in counts),
        "errors": sum(e for _, e in counts),
    }


async def run_coroutines(target: Target, seconds: float, in_flight: int) -> dict[str, Any]:
    """``in_flight`` coroutines on this loop, each awaiting calls until ``seconds`` passed."""
    func = target.func

    async def call(args_kwargs: Call) -> bool:
        args, kwargs = args_kwargs
        try:
            await func(*args, **kwargs)
        except Exception:
            return False
        return True

    await call(target.calls[0])  # warm-up, on the loop the run uses
    REGISTRY.reset()
    cpu0, wall0 = process_time(), perf_counter()
    deadline = wall0 + seconds

    async def work(index: int) -> tuple[int, int]:
        calls = errors = 0
        while perf_counter() < deadline:
            ok = await call(target.calls[(index + calls) % len(target.calls)])
            calls += 1
            errors += not ok
        return calls, errors

    counts = await asyncio.gather(*(work(i) for i in range(in_flight)))
    wall, cpu = perf_counter() - wall0, process_time() - cpu0
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "calls": sum(c for c, _ in counts),
        "errors": sum(e for _, e in counts),
    }


def run_processes(target: Target, seconds: float, processes: int) -> dict[str, Any]:
    """Each of ``processes`` forked processes calls the target until ``seconds`` have passed,
    as a process pool's workers would; primitives made before (at import) are inherited, and
    those of ``multiprocessing`` count into memory they share with this process. Every child
    is joined. The CPU time is the children's, as each measured its own."""
    caller = blocking_caller(target)
    caller(target.calls[0])  # warm-up, in this process: the children inherit its imports
    context = multiprocessing.get_context("fork")
    results = context.SimpleQueue()
    REGISTRY.reset()
    wall0 = perf_counter()
    deadline = wall0 + seconds

    def work(index: int) -> None:
        calls = errors = 0
        cpu0 = process_time()
        while perf_counter() < deadline:
            result = caller(target.calls[(index + calls) % len(target.calls)])
            calls += 1
            errors += result.error is not None
        results.put((calls, errors, process_time() - cpu0, REGISTRY.shared_lines()))

    children = [context.Process(target=work, args=(i,), daemon=True) for i in range(processes)]
    for child in children:
        child.start()
    counts = [results.get() for _ in children]
    for child in children:
        child.join()
    for *_, lines in counts:
        REGISTRY.add_shared_lines(lines)
    return {
        "wall_s": perf_counter() - wall0,
        "cpu_s": sum(cpu for _, _, cpu, _ in counts),
        "calls": sum(c for c, _, _, _ in counts),
        "errors": sum(e for _, e, _, _ in counts),
    }
