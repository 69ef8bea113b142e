"""In a child: measure one backend at one pool size, as steady throughput and goodput.

A session starts the pool (start-up is timed apart), a warm-up runs unmeasured (none for calls
so long that the stream's first wave is warm-up enough), and the repeats are back-to-back
windows of one continuous stream of calls (``stats.stream_windows``): every window is steady
state on one pool. Each window gives a throughput (calls per second) and a goodput (calls that
did not raise, per second). Backends whose tasks do not say when they ended on this clock
(workers on another machine) are measured as separate batches instead.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import statistics
import sys
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import psutil

from tunekit.backends import Backend, Runner, check_supports
from tunekit.calls import TaskResult
from tunekit.isolation.calibrate import cycle
from tunekit.isolation.protocol import TrialRequest
from tunekit.models import Latency, Trial
from tunekit.native_threads import limit_native_threads, native_pools
from tunekit.plan.sizing import UNSTABLE_SPREAD, WARMUP_CALLS, tasks_for
from tunekit.plugins import PluginManager, collect_backends
from tunekit.stats import percentiles, relative_spread, stream_windows, success_rates
from tunekit.target import Target, load_target

#: A trial's batches are re-sized from its warm-up when the planned ones would last over
#: RESIZE_LONGER or under RESIZE_SHORTER times the requested length, provided the warm-up
#: lasted RESIZE_MIN_WARMUP_S. Longer has the wide margin: a warm-up is slowed by every
#: worker's first call (a fresh pool of 16 processes ran its warm-up at half speed), and the
#: parent stops a trial at 4x its plan, which is what the re-sizing must prevent.
RESIZE_LONGER = 3.0
RESIZE_SHORTER = 0.5
RESIZE_MIN_WARMUP_S = 0.01


def run_trial(request: TrialRequest, plugins: PluginManager) -> Trial:
    """Measure one backend at one worker count: start-up, a warm-up batch, then the repeats."""
    name, workers = request.backend, request.workers
    tasks, repeats = request.tasks, request.repeats
    backend = _backend(name, plugins)
    if backend is None:  # e.g. a plugin not installed for another --python
        missing = f"the {name} backend is not installed for this interpreter ({sys.executable})"
        return Trial(backend=name, workers=workers, status="skipped", reason=missing)
    target = load_target(request.target)
    inner = request.inner_threads
    if inner is not None:  # process-wide: the trial's threads, and forked workers, share it
        limit_native_threads(inner)
        target = dataclasses.replace(target, inner_threads=inner)
    trial = Trial(backend=name, workers=workers, status="ok", tasks=tasks, inner_threads=inner)
    reason = None if request.checked else check_supports(backend, target)
    if reason is not None:
        trial.status, trial.reason = "skipped", reason
        return trial
    measured = _Measured()
    try:
        started = perf_counter()
        with backend.session(target, workers) as run:
            trial.startup_s = perf_counter() - started
            if target.setup_s:
                trial.setups = len(target.setup_s)
                trial.setup_s = statistics.fmean(target.setup_s)
            timed_here = True
            warmup = request.warmup
            if warmup is None:
                warmup = max(workers, min(tasks, WARMUP_CALLS))
            if warmup:
                warm_up = cycle(target.calls, warmup)
                warm_started = perf_counter()
                warm_results = run(warm_up)  # not measured
                warm_ended = perf_counter()
                trial.tasks = resized(
                    tasks, workers, len(warm_up), warm_ended - warm_started, request.batch_s
                )
                timed_here = _timed_here(warm_results, warm_started, warm_ended)
            if inner is not None:  # libraries the warm-up's calls imported
                limit_native_threads(inner)
            if timed_here:
                seen = max((p.threads for p in native_pools()), default=1)
                native = inner if inner is not None else max(seen, request.native_threads)
                measured = _stream(
                    run, target, trial.tasks, repeats, workers, request.lead_waves, native
                )
            if not measured.walls:
                measured = _batches(run, target, trial.tasks, repeats)
            trial.tasks = measured.tasks or trial.tasks
            trial.chunksize = getattr(run, "chunksize", None)
            trial.start_method = getattr(backend, "start_method", None)
    except Exception as exc:
        trial.status = "failed"
        trial.reason = f"the {name} backend raised {type(exc).__name__}: {exc}"
    _summarize(trial, measured)
    return trial


def _backend(name: str, plugins: PluginManager) -> Backend | None:
    """The backend ``name``, prepared to run in this process before the target is imported
    (gevent's monkey-patching); None when it is not installed here."""
    registered = collect_backends(plugins)
    if name not in registered:
        return None
    backend: Backend = registered[name].item
    prepare = getattr(backend, "prepare", None)
    if prepare is not None:
        prepare()
    return backend


@dataclass
class _Measured:
    """What the measured part of a trial collected: one wall time, rate and CPU time per
    repeat, and the latency and error of every measured task."""

    tasks: int = 0  # per repeat
    walls: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    #: Calls that did not raise, in each repeat.
    successes: list[int] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Why the numbers cannot be trusted, if so (``impossible_cpu``).
    suspect: str | None = None


def _stream(
    run: Runner,
    target: Target,
    tasks: int,
    repeats: int,
    workers: int,
    lead_waves: int,
    native_threads: int = 1,
) -> _Measured:
    """The repeats as back-to-back windows of one continuous stream of tasks.

    Separate batches each start with every worker taking a task at once and end with workers
    running out of work; both bias short batches low, and not alike for all backends: 16
    threads calling a loopback service measured 630 tasks/s in 0.1 s batches, 710 in 0.4 s
    batches, and 715-760 in 0.1 s windows of one stream. So the stream runs ``lead_waves``
    tasks per worker first and one pool's worth of tasks in flight last, neither measured
    (``stats.stream_windows``). An empty result when the windows cannot be told apart.
    ``native_threads``: threads per native pool (BLAS) per worker, which can keep more cores
    busy than there are workers.
    """
    lead = lead_waves * workers
    tail = _in_flight(run, workers)
    calls = cycle(target.calls, lead + repeats * tasks + tail)
    # The CPU clocks are read inside the wall time they are divided by: reading them costs
    # CPU (every child's /proc entry), which outside it read as 1.05 cores busy for one.
    clocked = perf_counter()
    cpu0 = cpu_seconds()
    start = perf_counter()
    results = run(calls)
    stop = perf_counter()
    cpu = cpu_seconds() - cpu0
    clocked = perf_counter() - clocked
    busy = cpu / clocked if clocked > 0 else 0.0
    processes = 1 + len(_descendants())
    suspect = impossible_cpu(cpu, clocked, workers, processes, native_threads)
    tail = max(tail, _in_flight(run, workers))  # a process pool chose its chunks for the stream
    ends = [r.end_s for r in results]
    split = stream_windows(ends, start, stop, lead, tail, repeats, wave=workers)
    if split is None:
        return _Measured()
    size, durations = split
    ordered = sorted(results, key=lambda r: r.end_s or 0.0)
    inside = ordered[lead : lead + size * repeats]
    # A window's tasks are the ``size`` completions that end it, from the one after its start.
    failed = [
        sum(r.error is not None for r in inside[i * size : (i + 1) * size]) for i in range(repeats)
    ]
    return _Measured(
        tasks=size,
        walls=durations,
        rates=[size / d for d in durations],
        successes=[size - bad for bad in failed],
        # the CPU clocks are read at the stream's ends only: each window is given the stream's
        # cores busy (CPU / wall) over its own wall time, which no clock can put above the
        # CPUs. Shared out by calls instead, a window's CPU followed the stream's mean CPU per
        # call while its wall time was its own: 2 threads of a numpy reduction read 2.14
        # cores busy on 2 CPUs.
        cpus=[busy * d for d in durations],
        latencies=[r.latency_s for r in inside],
        errors=[r.error for r in inside if r.error],
        suspect=suspect,
    )


def impossible_cpu(
    cpu_s: float, wall_s: float, workers: int, processes: int, native_threads: int = 1
) -> str | None:
    """Why ``cpu_s`` of CPU in ``wall_s`` cannot be, or None: more cores busy than the pool's
    workers (each with ``native_threads`` threads of a native pool such as BLAS) and the
    thread that feeds them, or than the process may use, beyond what the accounting's
    resolution can explain (two readings of every process's CPU clock, in ticks of
    ``1 / SC_CLK_TCK`` for other processes, micro-seconds for this one)."""
    if wall_s <= 0:
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    tick = 1 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
    bound = min(workers * max(native_threads, 1) + 1, cores or 1) + 2 * processes * tick / wall_s
    busy = cpu_s / wall_s
    if busy <= bound:
        return None
    return (
        f"its processes used {busy:.2f} cores' worth of CPU while measured, more than "
        f"{bound:.2f} ({workers} workers of {native_threads} native thread(s), {cores} CPUs, and "
        "the accounting's resolution): the "
        "CPU clocks or the wall clock went wrong"
    )


def _descendants() -> list[psutil.Process]:
    try:
        return list(psutil.Process().children(recursive=True))
    except psutil.Error:
        return []


def _batches(run: Runner, target: Target, tasks: int, repeats: int) -> _Measured:
    """The repeats as separate batches, each timed as tasks / wall time: for backends whose
    tasks do not say when they ended on this clock (workers on another machine)."""
    batch = cycle(target.calls, tasks)
    measured = _Measured(tasks=tasks)
    for _ in range(repeats):
        cpu0 = cpu_seconds()
        wall0 = perf_counter()
        results = run(batch)
        wall = perf_counter() - wall0
        measured.walls.append(wall)
        measured.cpus.append(cpu_seconds() - cpu0)
        measured.rates.append(len(results) / wall if wall > 0 else 0.0)
        measured.successes.append(sum(r.error is None for r in results))
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
    calls = measured.tasks * trial.repeats
    trial.error_rate = trial.errors / calls if calls else 0.0
    trial.suspect = measured.suspect
    trial.peak_rss_bytes, trial.worker_peak_rss_bytes = peak_rss_bytes()
    if measured.walls:
        values = measured.rates  # tasks/s of each repeat, every worker busy
        trial.throughput_values = values
        trial.throughput = statistics.median(values)
        trial.throughput_spread = relative_spread(values)
        # successes are counted, not timed: merged windows when few calls got through
        good, spread = success_rates(
            measured.successes, measured.walls, trial.error_rate, UNSTABLE_SPREAD
        )
        trial.goodput_values = good
        trial.goodput = statistics.median(good)
        trial.goodput_spread = spread
        trial.rounds = [trial.goodput]
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
