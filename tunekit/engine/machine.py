"""The machine an analysis runs on: what it is, how many cores are really free, and what the
report must say when it was busy."""

from __future__ import annotations

import multiprocessing
import os
import platform
import resource
import sys
from pathlib import Path

import psutil

from tunekit.gil import free_threaded_build, gil_enabled_now
from tunekit.isolation.protocol import Capacity, CapacityRequest
from tunekit.isolation.spawn import run_in_child
from tunekit.models import Machine
from tunekit.plan.limits import MachineLimits

#: Seconds the spinning processes of the capacity check run, before and after the sweep.
CAPACITY_BEFORE_S = 0.25
CAPACITY_AFTER_S = 0.1
#: Below this share of the CPUs free, the report says the machine was busy.
BUSY_BELOW = 0.9
#: Seconds a capacity check may take beyond its spinning (starting a pool of processes).
CAPACITY_TIMEOUT_S = 10.0


def describe_machine(start_method: str | None = None) -> Machine:
    """The CPUs this process may use, the interpreter and its GIL, the platform, the start
    method. ``gil_enabled`` is this process's until the calibration child, which imports the
    target, says what it is there. ``start_method``: the one the analysis was asked for.
    """
    # sched_getaffinity respects taskset and cgroup cpusets; it is missing on macOS.
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity else os.cpu_count() or 1
    # allow_none: asking must not fix the start method for the user's own code.
    method = multiprocessing.get_start_method(allow_none=True)
    return Machine(
        cpus=cpus,
        python=platform.python_version(),
        platform=f"{sys.platform}-{platform.machine()}",
        start_method=start_method or method or multiprocessing.get_all_start_methods()[0],
        load_average=os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        free_threaded=free_threaded_build(),
        gil_enabled=gil_enabled_now(),
    )


def read_limits(memory_limit: int) -> MachineLimits:
    """What the operating system lets this analysis's pools have: the threads and processes this
    user may still start (``RLIMIT_NPROC``, the kernel's ``threads-max``, the cgroup's
    ``pids.max``, less what runs now) and the file descriptors this process may still open."""
    threads = [_soft_limit("RLIMIT_NPROC"), _read_int("/proc/sys/kernel/threads-max")]
    threads.append(_read_int("/sys/fs/cgroup/pids.max"))
    known = [t for t in threads if t is not None]
    running = _threads_running()
    nofile = _soft_limit("RLIMIT_NOFILE")
    fds = Path("/proc/self/fd")
    open_now = len(list(fds.iterdir())) if fds.is_dir() else 0
    return MachineLimits(
        threads=max(1, min(known) - running) if known else None,
        file_descriptors=max(1, nofile - open_now) if nofile is not None else None,
        memory_bytes=memory_limit,
    )


def _soft_limit(name: str) -> int | None:
    """A resource's soft limit, or None when unlimited or unknown (not on this platform)."""
    which = getattr(resource, name, None)
    if which is None:
        return None
    soft, _ = resource.getrlimit(which)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):  # missing, or "max"
        return None


def _threads_running() -> int:
    """Threads of this user's processes now, as far as they can be read."""
    me = os.getuid() if hasattr(os, "getuid") else None
    total = 0
    for process in psutil.process_iter(["uids", "num_threads"]):
        info = process.info
        uids = info.get("uids")
        if me is None or (uids is not None and uids.real == me):
            total += info.get("num_threads") or 0
    return total


def default_memory_limit() -> int:
    """90% of the memory available now: a runaway trial is stopped before the machine swaps."""
    return int(psutil.virtual_memory().available * 0.9)


def free_cores(cpus: int, seconds: float) -> float | None:
    """Cores' worth of CPU that ``cpus`` spinning processes obtain now (None if unknown)."""
    request = CapacityRequest(cpus=cpus, seconds=seconds)
    outcome = run_in_child(request, timeout_s=seconds + CAPACITY_TIMEOUT_S)
    if outcome.status != "ok" or not isinstance(outcome.reply, Capacity):
        return None
    return outcome.reply.capacity_cores


def capacity_notes(machine: Machine) -> list[str]:
    """Say when the machine was busy, and what that did to the sizing."""
    notes = []
    before, after = machine.capacity_cores, machine.capacity_after_cores
    if before is not None and before < BUSY_BELOW * machine.cpus:
        notes.append(
            f"the machine was busy: only {before:.1f} of {machine.cpus} cores were free when the "
            f"analysis started (background load {machine.background_load or 0:.0%}); pools for "
            f"CPU-bound work are sized by the {before:.1f} free cores, and throughput may be "
            "lower than on an idle machine"
        )
    if before is not None and after is not None and abs(after - before) > 0.2 * machine.cpus:
        notes.append(
            f"free cores changed during the analysis ({before:.1f} before, {after:.1f} after): "
            "other work started or stopped, so trials may not compare fairly"
        )
    return notes
