"""How large a pool may grow: a hard cap the user gave, and what the machine allows.

Pools grow while they pay (``plan.sweep``); these are the limits that stop them even while they
still pay, each with the reason the report gives. An explicit ``--max-workers`` is a hard cap;
without one, a pool is bounded by what each of its workers costs the machine, measured or read
from the operating system (``engine.machine.read_limits``):

- threads: every worker is a thread, counted against the threads this user may have;
- file descriptors: a worker that calls a service holds a connection while it waits, and a
  process pool's parent holds pipes per worker: ``FDS_PER_WORKER`` each;
- memory: what one more worker added to the peak resident memory of the largest pools measured.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tunekit.models import Trial

#: File descriptors a worker may hold: a connection it waits on, and one more (a process
#: pool's parent keeps a pipe end per worker process; a thread calling a service keeps one
#: socket open while it waits). A stated assumption: code that opens many files per call needs
#: an explicit ``--max-workers``.
FDS_PER_WORKER = 2
#: Share of the memory limit the workers of one pool may take together: the rest is headroom
#: for the measured peak to vary between trials (peak RSS of one configuration measured twice
#: differed by up to a third on this kind of machine).
MEMORY_SHARE = 0.75


@dataclass(frozen=True)
class MachineLimits:
    """What the operating system lets one analysis's pools have (None: no known limit)."""

    #: Threads (and processes, which count alike on Linux) this user may still start.
    threads: int | None = None
    #: File descriptors this process may still open.
    file_descriptors: int | None = None
    #: Resident memory all the trial's processes may use together, in bytes.
    memory_bytes: int | None = None


@dataclass(frozen=True)
class Limit:
    """The largest pool allowed, and why."""

    workers: int
    reason: str
    #: True for the user's ``--max-workers``: never exceeded, whatever the curve.
    explicit: bool = False


def pool_limit(
    backend: str,
    curve: Sequence[Trial],
    machine: MachineLimits,
    max_workers: int | None,
) -> Limit | None:
    """The tightest limit on ``backend``'s pool, from ``max_workers`` (explicit, when given),
    the machine, and the memory per worker its ``curve`` measured; None if nothing limits it."""
    if max_workers is not None:
        return Limit(max_workers, f"--max-workers {max_workers}", explicit=True)
    limits: list[Limit] = []
    if machine.threads is not None:
        limits.append(
            Limit(machine.threads, f"the {machine.threads} threads this user may still start")
        )
    if machine.file_descriptors is not None:
        fds = machine.file_descriptors
        limits.append(
            Limit(
                max(1, fds // FDS_PER_WORKER),
                f"the {fds} file descriptors left ({FDS_PER_WORKER} per worker; raise "
                "`ulimit -n` for more)",
            )
        )
    per_worker = memory_per_worker(curve)
    if machine.memory_bytes is not None and per_worker:
        largest = max((t for t in curve if t.peak_rss_bytes), key=lambda t: t.workers)
        room = machine.memory_bytes * MEMORY_SHARE - (largest.peak_rss_bytes or 0)
        workers = largest.workers + max(0, int(room // per_worker))
        limits.append(
            Limit(
                max(1, workers),
                f"memory: {per_worker / 2**20:.1f} MiB more per worker, {MEMORY_SHARE:.0%} of "
                f"the {machine.memory_bytes / 2**30:.1f} GiB limit",
            )
        )
    return min(limits, key=lambda limit: limit.workers, default=None)


def memory_per_worker(curve: Sequence[Trial]) -> float | None:
    """Bytes of resident memory one more worker costs: a worker process's own peak
    (``worker_peak_rss_bytes``, for pools of processes), or what one more worker added to the
    trial process's peak between the two largest pools of ``curve`` (threads, event-loop
    tasks); None if unknown, or if the memory did not grow with the pool."""
    measured = sorted(
        (t for t in curve if t.status == "ok" and t.peak_rss_bytes), key=lambda t: t.workers
    )
    children = [t.worker_peak_rss_bytes for t in measured if t.worker_peak_rss_bytes]
    slope = 0.0
    if len(measured) >= 2 and measured[-1].workers != measured[-2].workers:
        small, large = measured[-2], measured[-1]
        added = (large.peak_rss_bytes or 0) - (small.peak_rss_bytes or 0)
        slope = added / (large.workers - small.workers)
    per_worker = max(slope, float(max(children, default=0)))
    return per_worker if per_worker > 0 else None
