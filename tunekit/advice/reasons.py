"""The recommendation's reasons in plain words, each with the measured numbers behind it.

Pure text from trials (``advice.recommend`` decides which apply); nothing here is said that was
not measured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tunekit.advice.classify import releases_gil
from tunekit.advice.rules import CLEAN_SHARE, goodput, noise_band
from tunekit.models import Machine, Trial, Workload
from tunekit.units import format_error_share, format_rate

#: Batch enough calls per task that dispatch is at most 1/this of the work (10: 10% overhead).
BATCH_DISPATCH_SHARE_INV = 10


def headline(chosen: Trial, baseline: Trial | None, speedup: float | None) -> str:
    """The chosen configuration's goodput, against sequential calls."""
    text = f"{chosen.key} reached {rate(chosen)} calls/s"
    if baseline is None or speedup is None:
        return text + " (sequential was not measured)"
    if chosen is baseline:
        return text + ": no concurrent configuration beat calling the function in a loop"
    return text + f", {speedup:.2f}x sequential ({rate(baseline)} calls/s)"


def no_clear_winner(chosen: Trial, tied: Sequence[Trial], noise: float) -> str:
    """Several configurations within the noise: say so, and why this one."""
    others = ", ".join(f"{t.key} ({rate(t)} calls/s)" for t in tied if t is not chosen)
    return (
        f"no clear winner: {chosen.key} and {others} are within the {noise:.0%} noise of each "
        f"other; {chosen.backend} is the simplest to adopt"
    )


def knee(usable: Sequence[Trial], chosen: Trial) -> list[str]:
    """Why this pool size: the smallest within 5% of the backend's best."""
    same = [t for t in usable if t.backend == chosen.backend]
    peak = max(same, key=goodput)
    if peak is chosen or len(same) < 2:
        return []
    share = goodput(chosen) / goodput(peak)
    fewer = peak.workers - chosen.workers
    return [
        f"{workers(chosen.workers)} is the knee for {chosen.backend}: {share:.0%} of its best "
        f"({peak.key}, {rate(peak)} calls/s) with {fewer} fewer workers"
    ]


def still_scaling(chosen: Trial, previous: Trial, stopped: str | None) -> str:
    """The chosen pool was still gaining when growth stopped: what to try next."""
    gain = goodput(chosen) / goodput(previous) - 1
    text = (
        f"still scaling: {chosen.key} gained {gain:+.0%} over {previous.key} and is the largest "
        f"{chosen.backend} pool measured, so a larger one may be faster"
    )
    return f"{text}; {stopped}" if stopped else text


def memory(trials: Sequence[Trial], chosen: Trial) -> list[str]:
    """Larger pools of the chosen backend were ruled out by the memory limit."""
    over = [t for t in trials if t.backend == chosen.backend and t.over_memory]
    if not over:
        return []
    smallest = min(over, key=lambda t: t.workers)
    return [f"{smallest.key} exceeded the memory limit, so larger pools were ruled out"]


def not_threads(
    usable: Sequence[Trial],
    workload: Workload,
    baseline: Trial | None,
    noise: float,
    *,
    gil_enabled: bool = True,
) -> list[str]:
    """For code that holds the GIL, threads being the usual guess: say so, with the numbers,
    when threads were measured not to scale and 2 threads were measured to keep one core busy.
    With the GIL off (a free-threaded build) there is no GIL to blame: what serializes the
    threads is then code of the task's own."""
    threads = [t for t in usable if t.backend == "thread" and t.workers > 1]
    parallel = workload.thread_parallelism
    if not threads or baseline is None or parallel is None or not goodput(baseline):
        return []
    best = max(threads, key=goodput)
    ratio = goodput(best) / goodput(baseline)
    if ratio > 1 + noise or releases_gil(parallel, 2.0):
        return []
    measured = (
        f"threads do not scale: {best.key} reached {ratio:.2f}x sequential, and 2 threads kept "
        f"only {parallel:.2f} cores busy"
    )
    if not gil_enabled:
        return [
            f"{measured} although the GIL is disabled: something in the task (a lock, a shared "
            "object) runs one thread at a time"
        ]
    return [f"{measured}: the task holds the GIL"]


def batching(workload: Workload) -> str:
    """An overhead-bound call: how many calls a task should carry before adding workers."""
    task = workload.task_wall_s or 0.0
    dispatch = workload.dispatch_s
    cheapest = min(dispatch.values()) if dispatch else None
    if cheapest is None or task <= 0:
        return "calls are so short that handing them to workers costs more than running them"
    per_task = max(1, round(BATCH_DISPATCH_SHARE_INV * cheapest / task))
    return (
        f"each call takes {task * 1e6:.2g} us but handing a call to a worker costs "
        f"{cheapest * 1e6:.2g} us or more: keep the loop, or batch at least {per_task:,} calls "
        f"per task (e.g. a process pool with chunksize={per_task:,}) before adding workers"
    )


def chunks(chunksize: int) -> str:
    """A process pool amortizes a message over ``chunksize`` calls."""
    return (
        f"hand the process pool {chunksize} calls per message "
        f"(executor.map(..., chunksize={chunksize})): a message per call costs more than a call"
    )


def capped(cap: int, fastest: Trial, workload: Workload, machine: Machine | None) -> str:
    """Core-bound work was kept within the free cores."""
    return (
        f"pools are capped at {workers(cap)}: the task is {workload.kind} and {cores(machine)} "
        f"free; {fastest.key} measured {rate(fastest)} calls/s, no more than the noise above"
    )


def beyond_cores(fastest: Trial, within: Trial, cap: int, workload: Workload) -> str:
    """A pool larger than the free cores measured better beyond the noise."""
    return (
        f"{fastest.key} measured {rate(fastest)} calls/s, beyond the noise above the best within "
        f"the {cap} free cores measured ({within.key}, {rate(within)}), so the larger pool is "
        f"kept: more cores were free than measured, or the {workload.kind}-looking work waits "
        "for something a larger pool overlaps"
    )


def runs_on_other(names: Sequence[str], via: Mapping[str, str]) -> list[str]:
    """Backends left out because, for a plain function, they run it on another's pool."""
    lines = []
    for pool in dict.fromkeys(via[name] for name in names):
        group = [name for name in names if via[name] == pool]
        verb = ("is", "runs it", "it") if len(group) == 1 else ("are", "run it", "they")
        lines.append(
            f"{', '.join(group)} {verb[0]} not recommended for a plain function: {verb[2]} "
            f"{verb[1]} on a {pool} pool, so {verb[2]} can only tie with {pool} or trail it"
        )
    return lines


def other_backends(usable: Sequence[Trial], chosen: Trial, baseline: Trial | None) -> list[str]:
    """Each other backend's best, against sequential."""
    lines = []
    for backend in dict.fromkeys(t.backend for t in usable):
        if backend in (chosen.backend, "sequential"):
            continue
        peak = max((t for t in usable if t.backend == backend), key=goodput)
        ratio = ""
        if baseline is not None and goodput(baseline):
            ratio = f" ({goodput(peak) / goodput(baseline):.2f}x sequential)"
        lines.append(f"{backend} peaked at {workers(peak.workers)}: {rate(peak)} calls/s{ratio}")
    return lines


def errors(chosen: Trial, usable: Sequence[Trial]) -> list[str]:
    """Calls that raised, in the chosen configuration or elsewhere."""
    if chosen.errors:
        return [
            f"warning: {chosen.error_rate:.0%} of the calls raised in {chosen.key} (first: "
            f"{chosen.first_error}); only the calls that succeeded count as its goodput"
        ]
    failing = [t for t in usable if t.errors]
    if not failing:
        return []
    worst = max(failing, key=lambda t: t.error_rate)
    return [
        f"calls raised in other configurations: up to {worst.error_rate:.0%} in {worst.key} "
        f"(first: {worst.first_error})"
    ]


def fewer_errors(chosen: Trial, failing: Trial) -> str:
    """Why a configuration with fewer errors was taken over one with more goodput."""
    share = goodput(chosen) / goodput(failing) if goodput(failing) else 0.0
    noise = (
        f", within the {noise_band(failing):.0%} noise of {failing.key}'s measurement"
        if share < CLEAN_SHARE
        else ""
    )
    return (
        f"fewer failed calls: {failing.key} reached {rate(failing)} calls/s, but "
        f"{failing.error_rate:.0%} of its calls raised ({failing.first_error}); {chosen.key} "
        f"reached {share:.2f} of that with {format_error_share(chosen.error_rate)} failing"
        f"{noise}"
    )


def nothing_worked(trials: Sequence[Trial]) -> str:
    """Why there is no recommendation."""
    if not trials:
        return "no trial was run"
    failing = [t for t in trials if t.status == "ok" and t.first_error]
    if failing:
        return f"every call raised, so nothing can be recommended (first: {failing[0].first_error})"
    suspect = [t for t in trials if t.suspect]
    if suspect:
        return f"no trial gave numbers that can be trusted ({suspect[0].key}: {suspect[0].suspect})"
    return "no trial completed, so nothing can be recommended"


def cores(machine: Machine | None) -> str:
    """How many cores were free, as measured."""
    if machine is None:
        return "the cores were"
    if machine.capacity_cores is None:
        return f"{machine.cpus} cores were"
    return f"{machine.capacity_cores:.1f} of {machine.cpus} cores were measured"


def workers(count: int) -> str:
    """``1 worker``, ``8 workers``."""
    return f"{count} worker" if count == 1 else f"{count} workers"


def rate(trial: Trial) -> str:
    """The trial's goodput for people."""
    return format_rate(goodput(trial))
