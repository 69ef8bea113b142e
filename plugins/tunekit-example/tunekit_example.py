"""tunekit_example: one of each kind of plugin, as short as they can be.

- backend ``mpthreads``: ``multiprocessing.pool.ThreadPool``;
- probe ``gc``: garbage-collector collections and collected objects per call of the target;
- report format ``markdown``: the recommendation and a table of the trials that ran.

Copy it to start your own (see docs/plugins.md).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import ThreadPool
from time import perf_counter
from typing import Any

from tunekit.backends import Backend, Runner, TaskResult
from tunekit.calls import blocking_caller, per_thread_setup
from tunekit.hookspecs import hookimpl
from tunekit.models import Report
from tunekit.probes import Probe, ProbeContext, calls_for
from tunekit.reporters import Reporter
from tunekit.target import Call, Target


class MpThreadPoolBackend:
    name = "mpthreads"  # unique among all installed backends
    description = "multiprocessing.pool.ThreadPool"
    scales = True  # False: only workers=1 is tried
    worker_setup = True  # runs --setup once per thread (False: skipped when one is given)

    def supports(self, target: Target) -> str | None:
        """None if this backend can run the target, else the reason (the trial is skipped)."""
        return "coroutine functions are not supported" if target.is_coroutine else None

    @contextmanager
    def session(self, target: Target, workers: int) -> Iterator[Runner]:
        """Start the pool (not timed), then yield a runner for batches of calls."""
        func = target.func
        with (
            ThreadPool(workers) as pool,  # starts all its threads here
            per_thread_setup(target, pool.apply_async, workers) as first,  # --setup per thread
        ):

            def timed(call: Call) -> TaskResult:  # runs on the worker: latency is measured there
                args, kwargs = call
                if first is not None:  # this thread's --setup result is the first argument
                    args = (first(), *args)
                start = perf_counter()
                try:
                    func(*args, **kwargs)
                except Exception as exc:
                    return TaskResult(perf_counter() - start, f"{type(exc).__name__}: {exc}")
                return TaskResult(perf_counter() - start, None)

            yield lambda calls: pool.map(timed, calls)  # one TaskResult per call, in order


class GcProbe:
    name = "gc"  # unique among all installed probes
    description = "garbage-collector collections and collected objects per call"

    def supports(self, target: Target) -> str | None:
        """None if the probe can measure the target (it runs in a process of its own)."""
        return None if gc.isenabled() else "the garbage collector is disabled"

    def run(self, target: Target, context: ProbeContext) -> dict[str, Any]:
        """Call the target for the probe's share of time; JSON-compatible data back."""
        n = calls_for(context)
        call = blocking_caller(target)  # runs coroutine functions to completion too
        call(target.calls[0])  # warm-up: first-call imports and caches are not per-call garbage
        gc.collect()  # start with no garbage left over: what is collected next is the calls'
        before = gc.get_stats()
        for i in range(n):
            call(target.calls[i % len(target.calls)])
        gc.collect()  # collect what the calls left for later too (one collection of each gen)
        after = gc.get_stats()
        generations = [
            {
                "collections_per_call": (a["collections"] - b["collections"] - forced) / n,
                "collected_per_call": (a["collected"] - b["collected"]) / n,
            }
            for b, a, forced in zip(before, after, (0, 0, 1), strict=True)
        ]
        return {"gc": {"calls": n, "generations": generations}}


class MarkdownReporter:
    name = "markdown"  # unique among all installed report formats
    file_extension = ".md"

    def render(self, report: Report) -> str:
        """A short Markdown summary: target, recommendation, the trials that ran."""
        rec = report.recommendation
        advice = f"`{rec.model}` with {rec.pool_size} workers" if rec.model else "none"
        lines = [
            f"# tunekit: `{report.target}`",
            "",
            f"**Recommendation:** {advice}",
            "",
            "| backend | workers | tasks/s | p50 latency |",
            "|---|---:|---:|---:|",
        ]
        for t in report.trials:
            if t.status == "ok" and t.throughput is not None:
                p50 = f"{t.latency_s.p50 * 1e3:.3g} ms" if t.latency_s else "-"
                lines.append(f"| {t.backend} | {t.workers} | {t.throughput:,.0f} | {p50} |")
        return "\n".join(lines) + "\n"


@hookimpl
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    register(MpThreadPoolBackend())


@hookimpl
def tunekit_register_probes(register: Callable[[Probe], None]) -> None:
    register(GcProbe())


@hookimpl
def tunekit_register_reporters(register: Callable[[Reporter], None]) -> None:
    register(MarkdownReporter())
