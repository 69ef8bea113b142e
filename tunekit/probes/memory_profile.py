"""memray memory profile of the target, in a process of its own.

One Tracker per process, never beside another profiler. The Tracker sees the heap of this
process only (``follow_fork`` does not follow spawn/forkserver children), so process-pool
workers are measured by their peak RSS in the trials instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any

from tunekit.calls import blocking_caller
from tunekit.hookspecs import hookimpl
from tunekit.probes import ProbeContext, calls_for, timed
from tunekit.probes.user_frames import user_trace

if TYPE_CHECKING:
    from tunekit.probes import Probe
    from tunekit.target import Call, Target

#: How many allocating locations the report lists.
TOP_LOCATIONS = 10
#: At most this many calls run under the Tracker: its file grows with every allocation.
MAX_TRACKED_CALLS = 200
#: ... and about this many seconds of calls: reading the capture back costs time per
#: allocation, and 200 calls of a 1 ms task that allocates 3 MiB took over 7 s to read.
TRACKED_S = 1e-3


class MemoryProfileProbe:
    """Peak heap of a call, bytes allocated per call, and where, with memray."""

    name = "memray"
    description = "memray memory profile: peak heap per call, allocations, flamegraph HTML"
    #: Its shortest run, in call times: a warm-up, a plain call, and a tracked one, which runs
    #: up to about 6x slower on allocation-heavy code (measured: 6.3x on call-dense Python).
    min_calls = 8

    def supports(self, target: Target) -> str | None:
        """memray runs on Linux and macOS only."""
        if not sys.platform.startswith(("linux", "darwin")):
            return f"memray does not run on {sys.platform} (Linux and macOS only)"
        return None

    def run(self, target: Target, context: ProbeContext) -> dict[str, Any]:
        """Track a few calls; results go to ``workload`` and ``profiles``."""
        import memray

        # One call shows one task's peak; tasks under a millisecond are tracked a few at a time,
        # about a millisecond of them (their peak is then that of the busiest call, if each
        # frees what it allocates).
        per_ms = round(TRACKED_S / max(context.task_wall_s, 1e-9))
        n = max(1, min(per_ms, calls_for(context, 0.2), MAX_TRACKED_CALLS))
        calls = [target.calls[i % len(target.calls)] for i in range(n)]
        caller = blocking_caller(target)
        caller(calls[0])  # warm-up: first-call caches are not the task's memory
        plain_s = timed(_loop, caller, calls)
        capture = context.profile_dir / "memory.bin"
        capture.unlink(missing_ok=True)
        started = perf_counter()
        # trace_python_allocators: see small objects too, not just pymalloc's arenas.
        with memray.Tracker(
            capture, native_traces=False, follow_fork=False, trace_python_allocators=True
        ):
            _loop(caller, calls)
        tracked_s = perf_counter() - started
        reader = memray.FileReader(capture)
        try:
            peak = reader.metadata.peak_memory
            allocated = allocated_bytes(reader, memray.AllocatorType)
            top = top_locations(reader)
        finally:
            reader.close()
        html = context.profile_dir / "memory-flamegraph.html"
        flamegraph_error, offline = write_flamegraph(capture, html)
        return {
            "workload": {
                "peak_memory_bytes": peak,
                "allocated_bytes_per_task": allocated // n,
            },
            "profiles": {
                "top_allocations": top,
                "memory_html": None if flamegraph_error else str(html),
                "memory_html_offline": None if flamegraph_error else offline,
                "memray_overhead": tracked_s / plain_s if plain_s else None,
                "memory_calls": n,
            },
        }


def allocated_bytes(reader: Any, allocator_type: Any) -> int:
    """Bytes requested by every allocation (frees and unmaps excluded) in the capture."""
    releases = {allocator_type.FREE, allocator_type.MUNMAP, allocator_type.PYMALLOC_FREE}
    return sum(
        record.size
        for record in reader.get_allocation_records()
        if allocator_type(record.allocator) not in releases
    )


def top_locations(reader: Any, top: int = TOP_LOCATIONS) -> list[dict[str, Any]]:
    """Where the memory live at the peak was allocated: location, bytes, allocation count."""
    records = sorted(
        reader.get_high_watermark_allocation_records(merge_threads=True),
        key=lambda record: record.size,
        reverse=True,
    )
    found: list[dict[str, Any]] = []
    for record in records[:top]:
        trace = record.stack_trace(max_stacks=1)
        function, filename, line = trace[0] if trace else ("?", "?", 0)
        found.append(
            {
                "function": function,
                "location": f"{filename}:{line}",
                "bytes": record.size,
                "allocations": record.n_allocations,
            }
        )
    return found


def write_flamegraph(capture: Path, html: Path) -> tuple[str | None, bool]:
    """memray's flame graph of the heap at its peak, each allocation's trace cut at the frame
    tunekit called: (None if written, else the error; whether the page works offline).
    ``no_web`` inlines memray's scripts instead of loading them from a CDN; a memray too old to
    know it writes the CDN page."""
    from memray import FileReader
    from memray.reporters.flamegraph import FlameGraphReporter

    reader = FileReader(capture)
    try:
        records = [
            _UserRecord(record, trace)
            for record in reader.get_high_watermark_allocation_records(merge_threads=True)
            if (trace := user_trace(record.stack_trace()))
        ]
        reporter = FlameGraphReporter.from_snapshot(
            records,  # type: ignore[arg-type]  # what the reporter reads of a record
            memory_records=tuple(reader.get_memory_snapshots()),
            native_traces=False,
        )
        options = {"show_memory_leaks": False, "merge_threads": True, "inverted": False}
        with html.open("w") as out:
            try:
                reporter.render(out, reader.metadata, no_web=True, **options)
                offline = True
            except TypeError:  # a memray before the no_web option
                out.seek(0)
                out.truncate()
                reporter.render(out, reader.metadata, **options)
                offline = False
    except Exception as exc:  # the reporter's internals vary by version: the link is dropped
        return f"{type(exc).__name__}: {exc}"[-300:], False
    finally:
        reader.close()
    return None, offline


class _UserRecord:
    """An allocation record whose stack trace is cut at the frame tunekit called."""

    def __init__(self, record: Any, trace: list[tuple[str, str, int]]) -> None:
        self._record = record
        self._trace = trace

    def stack_trace(self, max_stacks: int | None = None) -> list[tuple[str, str, int]]:
        return self._trace if max_stacks is None else self._trace[:max_stacks]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._record, name)


def _loop(caller: Callable[[Call], Any], calls: Sequence[Call]) -> None:
    for call in calls:
        caller(call)


@hookimpl
def tunekit_register_probes(register: Callable[[Probe], None]) -> None:
    """Register the memray probe."""
    register(MemoryProfileProbe())
