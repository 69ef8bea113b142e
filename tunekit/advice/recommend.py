"""From measured trials to advice: a pure function, no I/O.

Each backend is judged at its knee, the smallest pool within 5% of its own best. Backends whose
knee is within noise of the best configuration measured are ties, which go to the cheaper model.
Comparing at the knee, not at each backend's peak, keeps the two tolerances from adding up: the
recommended configuration itself is within the noise band of the best one.
"""

from __future__ import annotations

from collections.abc import Sequence

from tunekit.advice.rules import knee_of, model_cost, noise_band, ties
from tunekit.models import Machine, Recommendation, Trial, Workload
from tunekit.units import format_rate

#: Batch enough calls per task that dispatch is at most 1/this of the work (10: 10% overhead).
BATCH_DISPATCH_SHARE_INV = 10
#: Workloads that need a core per worker: more workers than free cores only add contention.
CORE_BOUND_KINDS = ("cpu-bound", "gil-releasing")


def core_cap(workload: Workload, machine: Machine | None) -> int | None:
    """Most workers worth having for work that needs a core each: the measured free cores."""
    if machine is None or workload.kind not in CORE_BOUND_KINDS:
        return None
    free = machine.capacity_cores if machine.capacity_cores is not None else machine.cpus
    return max(1, round(free))


def recommend(
    trials: Sequence[Trial], workload: Workload, machine: Machine | None = None
) -> Recommendation:
    """Choose the backend and pool size with the best throughput, ties to the cheaper one.

    For CPU-bound and GIL-releasing work, pools are capped at the measured free cores.
    """
    ok = everything = [t for t in trials if t.usable]
    if not ok:
        return Recommendation(None, None, None, None, [_nothing_worked(trials)])
    capped: list[str] = []
    cap = core_cap(workload, machine)
    if cap is not None and any(t.workers <= cap for t in ok):
        fastest = max(ok, key=_throughput)
        ok = [t for t in ok if t.workers <= cap]
        if fastest.workers > cap:
            capped.append(
                f"pools are capped at {_workers(cap)}: the task is {workload.kind} and "
                f"{_cores(machine)} free; {fastest.key} measured {_rate(fastest)} tasks/s "
                "only by oversubscribing them"
            )
    peaks = _peaks(ok)
    best = max(peaks.values(), key=_throughput)
    noise = noise_band(best)
    knees = [knee_of([t for t in ok if t.backend == name]) or peak for name, peak in peaks.items()]
    tied = [k for k in knees if ties(k, best, noise)]
    chosen = min(
        tied,
        key=lambda k: (model_cost(k.backend, workload.is_coroutine), k.workers, -_throughput(k)),
    )
    baseline = next((t for t in ok if t.backend == "sequential"), None)
    speedup = _throughput(chosen) / _throughput(baseline) if baseline else None
    reasons = [_headline(chosen, baseline, speedup)]
    if chosen.backend != best.backend:
        reasons.append(
            f"{best.key} measured {_rate(best)} tasks/s, within the {noise:.0%} noise "
            f"band of {chosen.key}; the cheaper model wins the tie"
        )
    reasons += capped
    reasons += _knee(ok, chosen)
    reasons += _memory(trials, chosen)
    reasons += _why_not_threads(everything, workload, baseline)
    if chosen.backend == "sequential" and workload.kind == "overhead-bound":
        reasons.append(_batching_advice(workload))
    if chosen.backend == "process" and chosen.chunksize:
        reasons.append(
            f"submit work to the process pool in chunks of {chosen.chunksize} tasks "
            f"(executor.map(..., chunksize={chosen.chunksize})): one message per task would "
            "cost more than many tasks do"
        )
    reasons += _other_backends(everything, chosen, baseline)
    if chosen.errors:
        reasons.append(
            f"warning: {chosen.error_rate:.0%} of the tasks raised in {chosen.key} "
            f"(first: {chosen.first_error}); failed tasks count in its throughput"
        )
    elif any(t.errors for t in ok):
        failing = sum(t.errors for t in ok)
        reasons.append(
            f"warning: {failing} tasks raised in other trials (first: {_first_error(ok)})"
        )
    return Recommendation(
        model=chosen.backend,
        pool_size=chosen.workers,
        throughput=_throughput(chosen),
        speedup=speedup,
        reasons=reasons,
        chunksize=chosen.chunksize if chosen.backend == "process" else None,
    )


def _peaks(ok: Sequence[Trial]) -> dict[str, Trial]:
    """Each backend's fastest trial."""
    peaks: dict[str, Trial] = {}
    for trial in ok:
        if trial.backend not in peaks or _throughput(trial) > _throughput(peaks[trial.backend]):
            peaks[trial.backend] = trial
    return peaks


def _knee(ok: Sequence[Trial], chosen: Trial) -> list[str]:
    """Why this pool size: the smallest within 5% of the backend's best (see KNEE_THRESHOLD)."""
    same = [t for t in ok if t.backend == chosen.backend]
    peak = max(same, key=_throughput)
    if peak is chosen or len(same) < 2:
        return []
    share = _throughput(chosen) / _throughput(peak)
    return [
        f"{_workers(chosen.workers)} is the knee for {chosen.backend}: {share:.0%} of its best "
        f"({peak.key}, {_rate(peak)} tasks/s) with {peak.workers - chosen.workers} fewer workers"
    ]


def _memory(trials: Sequence[Trial], chosen: Trial) -> list[str]:
    over = [t for t in trials if t.backend == chosen.backend and t.over_memory]
    if not over:
        return []
    smallest = min(over, key=lambda t: t.workers)
    return [f"{smallest.key} exceeded the memory limit, so larger pools were ruled out"]


def _why_not_threads(ok: Sequence[Trial], workload: Workload, baseline: Trial | None) -> list[str]:
    """For code that holds the GIL: say so with the numbers, threads being the usual guess."""
    threads = [t for t in ok if t.backend == "thread" and t.workers > 1]
    if workload.kind != "cpu-bound" or not threads or baseline is None:
        return []
    best = max(threads, key=_throughput)
    parallel = workload.thread_parallelism
    held = f"; 2 threads kept only {parallel:.2f} cores busy" if parallel is not None else ""
    return [
        f"threads do not scale: {best.key} reaches "
        f"{_throughput(best) / _throughput(baseline):.2f}x sequential; the task holds the "
        f"GIL{held}"
    ]


def _batching_advice(workload: Workload) -> str:
    task = workload.task_wall_s or 0.0
    dispatch = workload.dispatch_s
    cheapest = min(dispatch.values()) if dispatch else None
    if cheapest is None or task <= 0:
        return "tasks are so short that handing them to workers costs more than running them"
    per_task = max(1, round(BATCH_DISPATCH_SHARE_INV * cheapest / task))
    return (
        f"each call takes {task * 1e6:.2g} us but handing a task to a worker costs "
        f"{cheapest * 1e6:.2g} us or more: keep the loop, or batch at least {per_task:,} calls "
        f"per task (e.g. a process pool with chunksize={per_task:,}) before adding workers"
    )


def _headline(chosen: Trial, baseline: Trial | None, speedup: float | None) -> str:
    text = f"{chosen.key} reached {_rate(chosen)} tasks/s"
    if baseline is None or speedup is None:
        return text + " (sequential was not measured)"
    if chosen is baseline:
        return text + ": no concurrent configuration beat calling the function in a loop"
    return text + f", {speedup:.2f}x sequential ({_rate(baseline)} tasks/s)"


def _other_backends(ok: Sequence[Trial], chosen: Trial, baseline: Trial | None) -> list[str]:
    lines = []
    for backend in dict.fromkeys(t.backend for t in ok):
        if backend in (chosen.backend, "sequential"):
            continue
        peak = max((t for t in ok if t.backend == backend), key=_throughput)
        ratio = (
            f" ({_throughput(peak) / _throughput(baseline):.2f}x sequential)" if baseline else ""
        )
        lines.append(f"{backend} peaked at {_workers(peak.workers)}: {_rate(peak)} tasks/s{ratio}")
    return lines


def _nothing_worked(trials: Sequence[Trial]) -> str:
    if not trials:
        return "no trial was run"
    failing = [t for t in trials if t.status == "ok" and t.first_error]
    if failing:
        return f"every task raised, so nothing can be recommended (first: {failing[0].first_error})"
    return "no trial completed, so nothing can be recommended"


def _first_error(trials: Sequence[Trial]) -> str | None:
    return next((t.first_error for t in trials if t.first_error), None)


def _cores(machine: Machine | None) -> str:
    if machine is None:
        return "the cores were"
    if machine.capacity_cores is None:
        return f"{machine.cpus} cores were"
    return f"{machine.capacity_cores:.1f} of {machine.cpus} cores were measured"


def _workers(count: int) -> str:
    return f"{count} worker" if count == 1 else f"{count} workers"


def _rate(trial: Trial) -> str:
    return format_rate(_throughput(trial))


def _throughput(trial: Trial) -> float:
    return trial.throughput or 0.0
