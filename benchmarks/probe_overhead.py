"""Overhead of each tunekit probe beside cProfile's, measured side by side in one run.

For a CPU-bound and an allocation-heavy function, every tool times the same N calls in a fresh
interpreter of its own (profilers share interpreter hooks and must never be nested). Rounds are
interleaved, so drift on a shared machine hits every tool alike. Printed: the median time of
the N calls under each tool as a ratio to the plain loop, and the spread of that ratio.

    python benchmarks/probe_overhead.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter

TOOLS = ("plain", "timers", "cProfile", "pyinstrument", "memray")
WORKLOADS = {
    "cpu-bound (tunekit.examples:cpu_bound)": ("tunekit.examples:cpu_bound", 300),
    "allocation-heavy (benchmarks/probe_overhead.py:allocate)": (f"{__file__}:allocate", 300),
}


def allocate() -> int:
    """Many short-lived objects: lists, dicts and bytes, about 5 MB per call."""
    rows = [{"id": i, "name": str(i), "payload": bytes(200)} for i in range(20_000)]
    return len(rows)


def run_child(tool: str, spec: str, calls: int) -> float:
    """In this (fresh) process: seconds for ``calls`` calls of ``spec`` under ``tool``."""
    from tunekit.calls import call_sync
    from tunekit.target import resolve_callable

    func = resolve_callable(spec)
    # Warm-up, outside every tool: a third of the calls, so that the allocator's arenas and
    # the page tables are grown before timing (the first calls of an allocation-heavy task
    # run ~2x slower while the process's memory grows).
    for _ in range(max(1, calls // 3)):
        func()

    def loop() -> None:
        for _ in range(calls):
            func()

    if tool == "plain":
        start = perf_counter()
        loop()
        return perf_counter() - start
    if tool == "timers":  # the timing wrapper every backend puts around a task
        start = perf_counter()
        for _ in range(calls):
            call_sync(func, ((), {}))
        return perf_counter() - start
    if tool == "cProfile":
        import cProfile

        tracer = cProfile.Profile()
        start = perf_counter()
        tracer.runcall(loop)
        return perf_counter() - start
    if tool == "pyinstrument":
        from pyinstrument import Profiler

        sampler = Profiler(interval=0.001, async_mode="disabled")
        start = perf_counter()
        sampler.start()
        loop()
        sampler.stop()
        return perf_counter() - start
    if tool == "memray":
        import memray

        with tempfile.TemporaryDirectory() as folder:
            start = perf_counter()
            with memray.Tracker(Path(folder, "capture.bin"), native_traces=False):
                loop()
            return perf_counter() - start
    raise SystemExit(f"unknown tool {tool}")


def measure(tool: str, spec: str, calls: int) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--child", tool, spec, str(calls)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", nargs=3, metavar=("TOOL", "SPEC", "CALLS"))
    options = parser.parse_args()
    if options.child:
        tool, spec, calls = options.child
        print(run_child(tool, spec, int(calls)))
        return
    for title, (spec, calls) in WORKLOADS.items():
        times: dict[str, list[float]] = {tool: [] for tool in TOOLS}
        for _ in range(options.rounds):
            for tool in TOOLS:  # interleaved: every round measures every tool once
                times[tool].append(measure(tool, spec, calls))
        plain = statistics.median(times["plain"])
        print(f"\n{title}: {calls} calls, {options.rounds} interleaved rounds")
        print(f"  {'tool':<13}{'median s':>10}{'x plain':>10}{'spread':>9}")
        for tool in TOOLS:
            ratios = [t / plain for t in times[tool]]
            median = statistics.median(ratios)
            spread = (max(ratios) - min(ratios)) / median
            print(
                f"  {tool:<13}{statistics.median(times[tool]):>10.3f}{median:>10.2f}{spread:>9.0%}"
            )


if __name__ == "__main__":
    main()
