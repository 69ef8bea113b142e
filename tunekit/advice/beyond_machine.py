"""When one machine is not enough: a pool still gaining at this machine's last CPU, the
speed-up its curve projects at more cores, and what a distributed backend costs per task.

The projection is fitted only to pool sizes within the CPUs: past them a curve measures the
machine's limit, not the work's, and would project no gain where more machines would give one.
With the sequential baseline as the pool of 1, three sizes or more are fitted by
``advice.scaling.fit_usl``; two (1 and the CPUs, the usual sweep of a 2-CPU machine) determine
Amdahl's law exactly, which the words say. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from tunekit.advice.rules import goodput, noise_band
from tunekit.advice.sanity import CORE_BOUND_KINDS
from tunekit.advice.scaling import AMDAHL_POINTS, fit_usl, predict
from tunekit.models import Machine, Recommendation, Trial, Workload
from tunekit.units import format_seconds

#: The projection is to this many machines like this one: the smallest step a cluster adds.
MACHINES_PROJECTED = 2


def amdahl(points: dict[int, float], workers: float) -> float | None:
    """Goodput at ``workers`` by Amdahl's law through the pool of 1 and one larger pool:
    X(n) = X(1) n / (1 + sigma (n - 1)), sigma clamped to [0, 1]."""
    (one, x1), (n, xn) = sorted(points.items())
    if one != 1 or n <= 1 or x1 <= 0 or xn <= 0:
        return None
    sigma = min(max((x1 * n / xn - 1) / (n - 1), 0.0), 1.0)
    return x1 * workers / (1 + sigma * (workers - 1))


def project(points: dict[int, float], workers: int) -> tuple[float, str] | None:
    """Goodput at ``workers`` from the (pool size -> median goodput) ``points``, and the law
    that projected it; None when there are too few sizes, or the fit is poor."""
    if len(points) >= AMDAHL_POINTS:
        fit = fit_usl(list(points.items()))
        value = predict(fit, workers)
        law = "the fit of the Universal Scalability Law" if fit.parameters == 3 else "the fit"
        return (value, f"{law} to {len(points)} pool sizes") if value else None
    if len(points) == 2:
        value = amdahl(points, workers)
        return (value, "Amdahl's law through sequential and this pool") if value else None
    return None


def per_task_overhead(trial: Trial, task_wall_s: float) -> float:
    """Worker-seconds a task cost beyond the call itself: workers / goodput - the call time
    (never below 0: within the noise a pool can look cheaper than the call)."""
    if not goodput(trial):
        return 0.0
    return max(trial.workers / goodput(trial) - task_wall_s, 0.0)


def beyond_one_machine(
    rec: Recommendation,
    trials: Sequence[Trial],
    workload: Workload,
    machine: Machine,
    distributed: Sequence[str],
) -> list[str]:
    """What to say when the recommended pool still gained at this machine's last CPU: the
    projection at ``MACHINES_PROJECTED`` machines' cores, and, for each distributed backend
    (installed: ``distributed``), its measured per-task overhead beside the process pool's."""
    usable = [t for t in trials if t.usable and t.inner_threads is None]
    baseline = next((t for t in usable if t.backend == "sequential"), None)
    cpus, task = machine.cpus, workload.task_wall_s
    if workload.kind not in CORE_BOUND_KINDS:
        return []  # waiting work grows on this machine's threads or loop, not on more cores
    if rec.model is None or baseline is None or not goodput(baseline) or not task or cpus < 2:
        return []
    curve = [t for t in usable if t.backend == rec.model and t.workers <= cpus]
    top = max(curve, key=lambda t: t.workers, default=None)
    if top is None or top.workers != cpus:
        return []
    points = {t.workers: goodput(t) for t in curve}  # as the headline says them
    points.setdefault(1, goodput(baseline))
    below = max((w for w in points if w < cpus), default=None)
    noise = noise_band(top)
    if below is None or points[cpus] <= points[below] * (1 + noise):
        return []  # not still rising at the last CPU
    cores = MACHINES_PROJECTED * cpus
    projected = project(points, cores)
    if projected is None or projected[0] <= points[cpus] * (1 + noise):
        return []
    value, law = projected
    base = goodput(baseline)
    lines = [
        f"one machine may not be enough: {top.key} reached {points[cpus] / base:.2f}x "
        f"sequential and was still gaining at this machine's {cpus} CPUs ({noise:.0%} noise); "
        f"{law} projects {value / base:.2f}x at {cores} cores ({MACHINES_PROJECTED} machines "
        "like this one)"
    ]
    lines += _distributed(usable, distributed, task, cores, value / base)
    return lines


def _distributed(
    usable: Sequence[Trial], distributed: Sequence[str], task: float, cores: int, speedup: float
) -> list[str]:
    """Each distributed backend's measured per-task overhead beside the process pool's, and
    what the projection needs of it; or how to measure it."""
    process = max((t for t in usable if t.backend == "process"), key=goodput, default=None)
    mine = per_task_overhead(process, task) if process is not None else None
    beside = f" beside the process pool's {format_seconds(mine)}" if mine is not None else ""
    lines = []
    measured_first = sorted(distributed, key=lambda n: not any(t.backend == n for t in usable))
    for name in measured_first:
        measured = [t for t in usable if t.backend == name]
        if not measured:
            lines.append(
                f"{name} is installed but was not measured here: --backend {name} measures its "
                "per-task overhead on this machine's workers"
            )
            continue
        best = max(measured, key=goodput)
        overhead = per_task_overhead(best, task)
        # the projection is of the process pool's cost per task; this backend's is another
        reach = speedup * (task + (mine or 0.0)) / (task + overhead)
        lines.append(
            f"{name} measured {format_seconds(overhead)} of overhead per task ({best.key}){beside}"
            f", on calls of {format_seconds(task)}: the projected {speedup:.2f}x needs {cores} "
            f"{name} workers, and {name}'s overhead would leave about {reach:.2f}x of it"
        )
    return lines
