"""The child side of an isolated trial: ``python -m tunekit.worker REQUEST.json RESULT.json``.

Each process does one thing: ``inspect`` a target (import it, check which backends support it,
time a few sequential calls) or measure one ``trial`` (backend x workers). The result is written
atomically to RESULT.json; anything the user's code prints goes to the process's own output,
which the parent keeps apart from its report.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import signal
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

import psutil

from tunekit.backends import Backend, Runner, TaskResult
from tunekit.backends.sequential import SequentialBackend
from tunekit.errors import TunekitError
from tunekit.models import Latency, Trial
from tunekit.plugins import collect_backends, collect_probes, get_plugin_manager
from tunekit.probes import ProbeContext
from tunekit.stats import percentiles, relative_spread, stream_windows
from tunekit.target import Call, Target, TargetSpec, load_target
from tunekit.trials import tasks_for

#: Calibration stops after this many calls even if they are very fast.
MAX_CALIBRATION_CALLS = 1_000_000
#: A trial's batches are re-sized from its warm-up when the planned ones would last over
#: RESIZE_LONGER or under RESIZE_SHORTER times the requested length, provided the warm-up
#: lasted RESIZE_MIN_WARMUP_S. Longer has the wide margin: a warm-up is slowed by every
#: worker's first call (a fresh pool of 16 processes ran its warm-up at half speed), and the
#: parent stops a trial at 4x its plan, which is what the re-sizing must prevent.
RESIZE_LONGER = 3.0
RESIZE_SHORTER = 0.5
RESIZE_MIN_WARMUP_S = 0.01
#: Tasks per worker a trial's stream runs before its first measured window: two waves, so that
#: every worker has finished a task and clients that started together have fallen out of step.
STREAM_LEAD_WAVES = 2


def inspect_target(request: dict[str, Any]) -> dict[str, Any]:
    """Resolve the target, ask each backend to be measured whether it supports it (all, if the
    request names none), and time sequential calls."""
    target = load_target(TargetSpec.from_dict(request["target"]))
    backends = collect_backends(get_plugin_manager())
    wanted = request.get("backends") or list(backends)  # a plugin's check may be slow (dask)
    supports = {name: backends[name].item.supports(target) for name in wanted if name in backends}
    calibration = calibrate(target, float(request.get("calibrate_s", 0.2)))
    return {
        "is_coroutine": target.is_coroutine,
        "inputs": len(target.calls),
        "supports": supports,
        **calibration,
    }


def calibrate(target: Target, min_time_s: float) -> dict[str, Any]:
    """Like ``timeit.Timer.autorange``: sequential batches of 1, 2, 4... calls until
    ``min_time_s`` has passed; the first call is a warm-up and is not counted."""
    with SequentialBackend().session(target, 1) as run:
        warmup = run(target.calls[:1])
        results: list[TaskResult] = []
        wall = cpu = 0.0
        batch = 1
        while wall < min_time_s and len(results) < MAX_CALIBRATION_CALLS:
            calls = _cycle(target.calls, batch)
            cpu0, wall0 = time.process_time(), perf_counter()
            results += run(calls)
            wall += perf_counter() - wall0
            cpu += time.process_time() - cpu0
            batch *= 2
    errors = [r.error for r in warmup + results if r.error]
    return {
        "calls": len(results),
        "task_wall_s": wall / len(results),
        "task_cpu_s": cpu / len(results),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def run_trial(request: dict[str, Any]) -> dict[str, Any]:
    """Measure one backend at one worker count: start-up, a warm-up batch, then the repeats."""
    name, workers = request["backend"], int(request["workers"])
    tasks, repeats = int(request["tasks"]), int(request["repeats"])
    target = load_target(TargetSpec.from_dict(request["target"]))
    backend: Backend = collect_backends(get_plugin_manager())[name].item
    trial = Trial(backend=name, workers=workers, status="ok", tasks=tasks)
    reason = backend.supports(target)
    if reason is not None:
        trial.status, trial.reason = "skipped", reason
        return _trial_dict(trial)
    measured = _Measured()
    try:
        started = perf_counter()
        with backend.session(target, workers) as run:
            trial.startup_s = perf_counter() - started
            warm_up = _cycle(target.calls, max(workers, min(tasks, 10)))
            warm_started = perf_counter()
            warm_results = run(warm_up)  # not measured
            warm_ended = perf_counter()
            trial.tasks = resized(
                tasks, workers, len(warm_up), warm_ended - warm_started, request.get("batch_s")
            )
            if _timed_here(warm_results, warm_started, warm_ended):
                measured = _stream(run, target, trial.tasks, repeats, workers)
            if not measured.walls:
                measured = _batches(run, target, trial.tasks, repeats)
            trial.tasks = measured.tasks or trial.tasks
            trial.chunksize = getattr(run, "chunksize", None)
    except Exception as exc:
        trial.status = "failed"
        trial.reason = f"the {name} backend raised {type(exc).__name__}: {exc}"
    _summarize(trial, measured)
    return _trial_dict(trial)


@dataclass
class _Measured:
    """What the measured part of a trial collected: one wall time, rate and CPU time per
    repeat, and the latency and error of every measured task."""

    tasks: int = 0  # per repeat
    walls: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _stream(run: Runner, target: Target, tasks: int, repeats: int, workers: int) -> _Measured:
    """The repeats as back-to-back windows of one continuous stream of tasks.

    Separate batches each start with every worker taking a task at once and end with workers
    running out of work; both bias short batches low, and not alike for all backends: 16
    threads calling a loopback service measured 630 tasks/s in 0.1 s batches, 710 in 0.4 s
    batches, and 715-760 in 0.1 s windows of one stream. So the stream runs ``STREAM_LEAD_WAVES``
    tasks per worker first and one pool's worth of tasks in flight last, neither measured
    (``stats.stream_windows``). An empty result when the windows cannot be told apart.
    """
    lead = STREAM_LEAD_WAVES * workers
    tail = _in_flight(run, workers)
    calls = _cycle(target.calls, lead + repeats * tasks + tail)
    cpu0 = cpu_seconds()
    start = perf_counter()
    results = run(calls)
    stop = perf_counter()
    cpu = cpu_seconds() - cpu0
    tail = max(tail, _in_flight(run, workers))  # a process pool chose its chunks for the stream
    ends = [r.end_s for r in results]
    split = stream_windows(ends, start, stop, lead, tail, repeats, wave=workers)
    if split is None:
        return _Measured()
    size, durations = split
    ordered = sorted(results, key=lambda r: r.end_s or 0.0)
    inside = ordered[lead : lead + size * repeats]
    return _Measured(
        tasks=size,
        walls=durations,
        rates=[size / d for d in durations],
        cpus=[cpu * size / len(calls)] * repeats,
        latencies=[r.latency_s for r in inside],
        errors=[r.error for r in inside if r.error],
    )


def _batches(run: Runner, target: Target, tasks: int, repeats: int) -> _Measured:
    """The repeats as separate batches, each timed as tasks / wall time: for backends whose
    tasks do not say when they ended on this clock (workers on another machine)."""
    batch = _cycle(target.calls, tasks)
    measured = _Measured(tasks=tasks)
    for _ in range(repeats):
        cpu0 = cpu_seconds()
        wall0 = perf_counter()
        results = run(batch)
        wall = perf_counter() - wall0
        measured.walls.append(wall)
        measured.cpus.append(cpu_seconds() - cpu0)
        measured.rates.append(len(results) / wall if wall > 0 else 0.0)
        measured.latencies += [r.latency_s for r in results]
        measured.errors += [r.error for r in results if r.error]
    return measured


def _timed_here(results: list[TaskResult], start: float, stop: float) -> bool:
    """Every task says when it ended, on this process's clock."""
    return bool(results) and all(r.end_s is not None and start <= r.end_s <= stop for r in results)


def resized(tasks: int, workers: int, warm_tasks: int, warm_s: float, batch_s: float | None) -> int:
    """Tasks per measured batch: ``tasks`` as planned, unless the warm-up shows that they would
    last far longer or shorter than ``batch_s`` (the parent's guess of the throughput was off:
    a backend that serializes on a lock, say, is sized like the pool it is compared with). A
    warm-up shorter than ``RESIZE_MIN_WARMUP_S`` says too little to go on."""
    if batch_s is None or warm_s < RESIZE_MIN_WARMUP_S or warm_tasks <= 0:
        return tasks
    rate = warm_tasks / warm_s
    lasts = tasks / rate
    if batch_s * RESIZE_SHORTER <= lasts <= batch_s * RESIZE_LONGER:
        return tasks
    return tasks_for(rate, workers, batch_s)


def _in_flight(run: Any, workers: int) -> int:
    """Tasks a pool holds at once: one per worker; a process pool hands out chunks and
    queues one chunk more than it has workers."""
    chunksize = getattr(run, "chunksize", None)
    return workers if chunksize is None else (workers + 1) * chunksize


def _summarize(trial: Trial, measured: _Measured) -> None:
    trial.repeats = len(measured.walls)
    trial.errors = len(measured.errors)
    trial.first_error = measured.errors[0] if measured.errors else None
    trial.peak_rss_bytes, trial.worker_peak_rss_bytes = peak_rss_bytes()
    if measured.walls:
        values = measured.rates  # tasks/s of each repeat, every worker busy
        trial.throughput_values = values
        trial.throughput = statistics.median(values)
        trial.throughput_spread = relative_spread(values)
        trial.wall_s = statistics.median(measured.walls)
        trial.cpu_s = statistics.median(measured.cpus)
    if measured.latencies:
        trial.latency_s = Latency(*percentiles(measured.latencies))


def cpu_seconds() -> float:
    """CPU time of this process and all its children, live or already reaped."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):  # microsecond resolution
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def peak_rss_bytes() -> tuple[int, int | None]:
    """Peak resident memory of this process and of its largest reaped child (None if none)."""
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is KiB on Linux
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return own, children or None


def _cycle(calls: list[Call], n: int) -> list[Call]:
    return list(itertools.islice(itertools.cycle(calls), n))


def _trial_dict(trial: Trial) -> dict[str, Any]:
    return asdict(trial)


def write_json_atomically(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON so that a reader never sees half a file (temp file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload))
    tmp.replace(path)


def die_with_parent() -> None:
    """Linux: if the tunekit process is killed outright, this child is killed too."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def run_probe(request: dict[str, Any]) -> dict[str, Any]:
    """Run one probe on the target: ``{"data": ...}``, or ``{"skipped": reason}``."""
    probe = collect_probes(get_plugin_manager())[request["probe"]].item
    prepare = getattr(probe, "prepare", None)
    if prepare is not None:  # e.g. replace lock factories before the user's module imports
        prepare()
    target = load_target(TargetSpec.from_dict(request["target"]))
    reason = probe.supports(target)
    if reason is not None:
        return {"skipped": reason}
    context = ProbeContext(
        profile_dir=Path(request["profile_dir"]),
        time_s=float(request["time_s"]),
        task_wall_s=float(request["task_wall_s"]),
        cpus=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1,
    )
    return {"data": probe.run(target, context)}


def _spin(seconds: float) -> float:
    """Busy-loop for ``seconds`` of wall time; return the CPU time this process got."""
    cpu0 = time.process_time()
    deadline = perf_counter() + seconds
    while perf_counter() < deadline:
        pass
    return time.process_time() - cpu0


def measure_capacity(request: dict[str, Any]) -> dict[str, Any]:
    """Cores really free now: ``cpus`` processes spin together; the CPU they get, per second."""
    from concurrent.futures import ProcessPoolExecutor

    cpus, seconds = int(request["cpus"]), float(request["seconds"])
    with ProcessPoolExecutor(max_workers=cpus) as pool:
        list(pool.map(_spin, [0.01] * cpus))  # start every child before measuring
        obtained = sum(pool.map(_spin, [seconds] * cpus))
    return {"capacity_cores": obtained / seconds}


MODES = {
    "inspect": inspect_target,
    "trial": run_trial,
    "probe": run_probe,
    "capacity": measure_capacity,
}


def main(argv: list[str]) -> int:
    """Run the request in ``argv[1]``; write the outcome (or the error) to ``argv[2]``."""
    die_with_parent()
    request_path, result_path = Path(argv[1]), Path(argv[2])
    request = json.loads(request_path.read_text())
    try:
        payload = MODES[request["mode"]](request)
    except TunekitError as exc:
        payload = {
            "error": {"type": type(exc).__name__, "message": str(exc), "exit_code": exc.exit_code}
        }
    write_json_atomically(result_path, payload)
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # The result is written: exit now, without waiting for non-daemon threads or atexit
    # handlers that the user's code may have left behind (the parent kills its processes).
    os._exit(code)
