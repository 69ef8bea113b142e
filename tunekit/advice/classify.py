"""What kind of work a task is, from measured fractions: a pure function with its thresholds.

Every threshold is here, with where it comes from. The label is advice for people and for the
recommender; the fractions behind it are always reported next to it.
"""

from __future__ import annotations

from dataclasses import dataclass

#: At or below this CPU/wall a sequential call mostly waits (sleep, socket, disk).
WAITING_CPU_FRACTION = 0.2
#: At or above this CPU/wall a sequential call mostly computes. Between the two: mixed.
COMPUTING_CPU_FRACTION = 0.8

#: Free cores needed to tell GIL-releasing code from GIL-holding code with 2 threads.
MIN_CORES_TO_TELL_GIL = 1.5
#: A coroutine whose concurrent runs overlap at least this much (8 at once: 8x ideal, 1x for
#: pure CPU) really awaits something.
AWAIT_OVERLAP = 2.0
#: A task shorter than this many times the cheapest concurrent dispatch (thread pool ~18 us,
#: asyncio ~9 us per no-op task) cannot gain from concurrency: dispatch dominates.
OVERHEAD_FACTOR = 2.0

KINDS = ("cpu-bound", "gil-releasing", "io-bound", "async-io", "overhead-bound", "mixed")


@dataclass(frozen=True)
class Nature:
    """The measurements a kind is decided from."""

    is_coroutine: bool
    task_wall_s: float
    cpu_fraction: float
    #: Sum of thread CPU time / wall with 2 threads (None when not measured).
    thread_parallelism: float | None
    #: For coroutines: how many ran at once when 8 were started together.
    await_overlap: float | None
    #: Measured per-task dispatch cost of the cheapest fitting concurrent backend (a thread
    #: pool for plain functions, an asyncio loop for coroutines), in seconds.
    min_dispatch_s: float | None
    #: Cores free for this work, measured.
    free_cores: float
    #: The GIL was on once the target was imported (``Machine.gil_enabled``). With it off,
    #: pure-Python threads run in parallel: scaling threads say nothing of native code.
    gil_enabled: bool = True


def releases_gil(thread_parallelism: float, usable_cores: float) -> bool:
    """Two threads computing keep ``thread_parallelism`` cores busy: one if the task holds the
    GIL throughout, all ``usable_cores`` (up to 2) if it releases it. The measurement is closer
    to the second when it passes the midpoint between the two, (1 + usable) / 2."""
    return thread_parallelism >= (1 + usable_cores) / 2


def classify(nature: Nature) -> tuple[str, str]:
    """The kind, and one sentence with the numbers behind it."""
    cpu = f"CPU/wall {nature.cpu_fraction:.0%}"
    dispatch = nature.min_dispatch_s
    if dispatch is not None and nature.task_wall_s < OVERHEAD_FACTOR * dispatch:
        return "overhead-bound", (
            f"a call takes {nature.task_wall_s * 1e6:.2g} us, less than {OVERHEAD_FACTOR:g}x the "
            f"cheapest dispatch to a worker ({dispatch * 1e6:.2g} us)"
        )
    if nature.is_coroutine and nature.await_overlap is None:
        if nature.cpu_fraction <= WAITING_CPU_FRACTION:
            return "async-io", f"the coroutine mostly awaits: {cpu} (overlap not measured)"
        if nature.cpu_fraction >= COMPUTING_CPU_FRACTION:
            return "cpu-bound", f"the coroutine computes: {cpu} (overlap not measured)"
        return "mixed", f"the coroutine computes and awaits: {cpu} (overlap not measured)"
    if nature.is_coroutine and nature.await_overlap is not None:
        overlap = f"8 started together overlapped {nature.await_overlap:.1f}x"
        if nature.await_overlap >= AWAIT_OVERLAP:
            return "async-io", f"the coroutine awaits: {overlap}; {cpu}"
        if nature.cpu_fraction >= COMPUTING_CPU_FRACTION:
            return "cpu-bound", f"the coroutine never really awaits: {overlap}; {cpu}"
        return "mixed", f"{overlap}; {cpu}"
    if nature.cpu_fraction <= WAITING_CPU_FRACTION:
        return "io-bound", f"a call mostly waits: {cpu}"
    if nature.cpu_fraction < COMPUTING_CPU_FRACTION:
        return "mixed", f"a call both computes and waits: {cpu}"
    if nature.thread_parallelism is None:
        return "cpu-bound", f"a call computes: {cpu} (thread parallelism not measured)"
    usable = min(2.0, nature.free_cores)
    threads = f"2 threads kept {nature.thread_parallelism:.2f} cores busy"
    if usable < MIN_CORES_TO_TELL_GIL:
        question = (
            "whether threads run it in parallel"
            if not nature.gil_enabled
            else "whether it releases the GIL"
        )
        return "cpu-bound", (
            f"a call computes: {cpu}; only {nature.free_cores:.1f} cores were free, too few to "
            f"tell {question}"
        )
    if not nature.gil_enabled:
        # the same midpoint test: with no GIL to release, it says whether threads run at once
        if releases_gil(nature.thread_parallelism, usable):
            return "cpu-bound", (
                f"{threads} of {usable:.1f} free: the GIL is disabled, so threads compute in "
                f"parallel; {cpu}"
            )
        return "cpu-bound", (
            f"{threads} of {usable:.1f} free: the GIL is disabled, yet the threads did not "
            f"compute in parallel (a lock or shared object serializes them); {cpu}"
        )
    if releases_gil(nature.thread_parallelism, usable):
        return (
            "gil-releasing",
            f"{threads} of {usable:.1f} free: native code releases the GIL; {cpu}",
        )
    return "cpu-bound", f"{threads} of {usable:.1f} free: the task holds the GIL; {cpu}"
