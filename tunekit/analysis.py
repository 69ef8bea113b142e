"""The engine behind ``tunekit analyze`` and ``tunekit.analyze()``.

Steps, each touching user code only in child processes (``tunekit.isolation``): measure the
machine's free cores, inspect and calibrate the target, run the probes (nature, profilers) one
per process, sweep the (backend, workers) trials, re-measure unstable trials while budget is
left, measure the machine again, and recommend.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

import psutil

from tunekit import __version__
from tunekit.classify import Nature, classify
from tunekit.errors import InputError, PluginError, TargetError, Terminated, TunekitError
from tunekit.isolation import ZYGOTE_READY_S, ChildOutcome, fork_server, run_in_child
from tunekit.lock_advice import advise_from_probe
from tunekit.models import (
    Machine,
    ProbeRun,
    Recommendation,
    Report,
    Trial,
    Workload,
    trial_from_dict,
)
from tunekit.plugins import collect_backends, collect_probes, get_plugin_manager
from tunekit.recommend import MIN_NOISE, recommend
from tunekit.scaling import fit_usl
from tunekit.stats import relative_spread
from tunekit.sweep import AdaptiveSweep, Contender, knee_gap
from tunekit.target import TargetSpec, split_spec
from tunekit.trials import (
    UNSTABLE_SPREAD,
    TrialPlan,
    plan_sweep,
    predicted_throughput,
    tasks_for,
)

#: Sequential time spent timing the target before the sweep (like timeit's autorange).
CALIBRATION_S = 0.2
#: Timing values per trial (the median is reported, with the spread).
DEFAULT_REPEATS = 3
#: Each measured batch should last at least this long (pyperf and timeit aim for 0.1-0.2 s):
#: shorter batches measure the clock and the scheduler more than the work.
MIN_BATCH_S = 0.2
#: The adaptive sweep's batches: short, because its trials only decide where to look next;
#: the close contenders are measured again, alternating, before one is chosen (pyperf's
#: shortest loop is 0.1 s too). It finishes early rather than fill the budget.
ADAPTIVE_BATCH_S = 0.1
#: A trial whose batches lasted under this share of the planned length is measured again.
SHORT_BATCH_SHARE = 0.5
#: Trials an adaptive sweep expects besides two per backend (the leader's doublings, the
#: knee, the duel): what is left of the budget is shared by this many when it is short.
ADAPTIVE_EXTRA_TRIALS = 8
#: ... but when the budget is nearly spent a trial may use batches down to this long.
SHORTEST_BATCH_S = 0.02
#: ... and at most this long: longer batches add no precision, only time.
MAX_BATCH_S = 1.0
#: What a trial runs besides its measured windows (a warm-up of one wave, the stream's lead of
#: two and tail of one; a wave is a task per worker) costs about this many measured batches in
#: the grid's batches of 0.2 s or more. In a 0.1 s adaptive window of a pool of 32 waiting
#: tasks it is closer to one: the trial's timeout (TIMEOUT_FACTOR) leaves room for that.
WARMUP_BATCHES = 0.25
#: A trial may run this many times longer than planned before it is stopped as hung.
TIMEOUT_FACTOR = 4.0
#: Seconds allowed beyond the budget for the last child to be stopped and the report written.
BUDGET_MARGIN_S = 1.0
#: Share of the budget the probes may use together, and the most seconds of calls each aims for
#: (half a second is 500 pyinstrument samples at its 1 ms interval, and thousands of lock
#: acquisitions for the lock probe).
PROBE_SHARE = 0.1
PROBE_TIME_S = 0.5
#: The best configuration of each backend within this share of the best overall is measured
#: again, alternating with the others (at most DUEL_SIZE backends): twice the tie band between
#: models (``recommend.MIN_NOISE``), so a contender is re-measured while a slow spell of the
#: machine could have hidden a tie. 10% re-measured backends 9% behind that could not win.
DUEL_BAND = 2 * MIN_NOISE
DUEL_SIZE = 3
#: ... in up to this many rounds (A B C A B C): a slow spell of the machine during one trial
#: then costs that contender one value of nine, not its median (one round once let a 10% dip
#: in a single re-measure move the knee). A round that leaves the choice as it was is the
#: last: the re-measure confirmed it. One that changes it brings the new choice in.
DUEL_ROUNDS = 2
#: Seconds the spinning processes of the capacity check run, before and after the sweep.
CAPACITY_BEFORE_S = 0.25
CAPACITY_AFTER_S = 0.1
#: Below this share of the CPUs free, the report says the machine was busy.
BUSY_BELOW = 0.9

SWEEPS = ("adaptive", "grid")

ProgressCallback = Callable[[str, TrialPlan | None, float], None]


@dataclass
class AnalysisConfig:
    """Everything an analysis needs; the CLI and the Python API both build one."""

    target: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    inputs: str | None = None
    backends: Sequence[str] | None = None
    max_workers: int = 16
    budget: float = 30.0
    repeats: int = DEFAULT_REPEATS
    #: Resident memory a trial's processes may use together; None: 90% of what is available.
    memory_limit: int | None = None
    #: Where profilers save their HTML; None: a new temporary folder, named in the report.
    profile_dir: str | None = None
    #: Probes to run (names); None: every installed probe; empty: none.
    probes: Sequence[str] | None = None
    #: "adaptive": grow each backend's pool while it pays, then refine the knee; "grid":
    #: measure every backend at every size 1, 2, 4... max_workers (the exhaustive reference).
    sweep: str = "adaptive"

    def validate(self) -> None:
        """Reject values no analysis can use (the CLI reports bad options as usage errors)."""
        split_spec(self.target)
        if self.inputs is not None:
            split_spec(self.inputs)
            if self.args:
                raise InputError("give per-task arguments with either --args or --inputs")
        if not math.isfinite(self.budget) or self.budget <= 0:
            raise InputError(f"budget must be positive, not {self.budget}")
        if self.max_workers < 1:
            raise InputError(f"max_workers must be at least 1, not {self.max_workers}")
        if self.memory_limit is not None and self.memory_limit <= 0:
            raise InputError(f"memory_limit must be positive, not {self.memory_limit}")
        if self.sweep not in SWEEPS:
            raise InputError(f"sweep must be one of {', '.join(SWEEPS)}, not {self.sweep!r}")
        if self.repeats < 1:
            raise InputError(f"repeats must be at least 1, not {self.repeats}")


def run_analysis(config: AnalysisConfig, progress: ProgressCallback | None = None) -> Report:
    """Measure the target under every selected backend within the budget and recommend one.

    Ctrl-C or SIGTERM stop the analysis: the report then holds what was measured so far, with
    ``complete`` false and ``interrupted`` naming the signal.
    """
    config.validate()
    return _Analysis(config, progress).run()


def default_memory_limit() -> int:
    """90% of the memory available now: a runaway trial is stopped before the machine swaps."""
    return int(psutil.virtual_memory().available * 0.9)


class _Analysis:
    """One analysis in progress: the budget's clock and the report being filled in."""

    def __init__(self, config: AnalysisConfig, progress: ProgressCallback | None) -> None:
        self.config = config
        self.progress = progress
        self.started = perf_counter()
        self.deadline = self.started + config.budget
        self.spec = TargetSpec(config.target, list(config.args), dict(config.kwargs), config.inputs)
        self.plugin_notes: list[str] = []
        self.backends = _select_backends(config.backends, self.plugin_notes)
        self.memory_limit = config.memory_limit or default_memory_limit()
        self.report = Report(
            target=config.target,
            machine=_machine(),
            workload=Workload(is_coroutine=False),
            trials=[],
            recommendation=Recommendation(None, None, None, None),
            tunekit_version=__version__,
            budget_s=config.budget,
            memory_limit_bytes=self.memory_limit,
            complete=False,
            notes=self.plugin_notes,
        )
        self.info: dict[str, Any] = {}

    def left(self) -> float:
        """Seconds of the budget left."""
        return self.deadline - perf_counter()

    def tell(self, event: str, plan: TrialPlan | None = None) -> None:
        if self.progress is not None:
            self.progress(event, plan, self.left())

    def run(self) -> Report:
        report = self.report
        failure: str | None = None
        try:
            # Every child below is forked from one warm zygote.
            with fork_server(min(ZYGOTE_READY_S, self.config.budget)):
                failure = self.measure_all()
            report.complete = True
        except KeyboardInterrupt:
            report.interrupted = "SIGINT"
        except Terminated:
            report.interrupted = "SIGTERM"
        report.notes += _capacity_notes(report.machine)
        report.recommendation = recommend(report.trials, report.workload, report.machine)
        locks = next((p for p in report.probes if p.name == "locks" and p.status == "ok"), None)
        if locks is not None:
            advice = advise_from_probe(locks.data, report.workload.kind)
            report.recommendation.locks = [a for a in advice if a["acquisitions"] > 0]
        if failure is not None:
            report.recommendation.reasons = [failure]
        report.elapsed_s = perf_counter() - self.started
        return report

    def measure_all(self) -> str | None:
        """Every measurement, in order; why nothing can be recommended, if so."""
        report = self.report
        self.tell("measuring free cores")
        machine = report.machine
        machine.capacity_cores = self.capacity(CAPACITY_BEFORE_S)
        if machine.capacity_cores is not None:
            machine.background_load = max(0.0, 1 - machine.capacity_cores / machine.cpus)
        self.tell("calibrating")
        self.info = self.inspect()
        if self.info["errors"] > self.info["calls"]:  # the warm-up call failed too
            return f"the target raised on every call: {self.info['first_error']}"
        self.probes()
        self.classify()
        self.sweep()
        self.rerun_unstable()
        self.fit_curves()
        if self.left() > 2 * CAPACITY_AFTER_S + 0.5:
            self.tell("measuring free cores again")
            machine.capacity_after_cores = self.capacity(CAPACITY_AFTER_S)
        return None

    # --- the machine -----------------------------------------------------------------------

    def capacity(self, seconds: float) -> float | None:
        """Cores' worth of CPU that ``cpus`` spinning processes obtain now (None if unknown)."""
        request = {"mode": "capacity", "cpus": self.report.machine.cpus, "seconds": seconds}
        outcome = run_in_child(request, timeout_s=seconds + 10)
        if outcome.status != "ok" or outcome.payload is None:
            return None
        return float(outcome.payload["capacity_cores"])

    # --- the target ------------------------------------------------------------------------

    def inspect(self) -> dict[str, Any]:
        """Import the target in a child, learn which backends support it, time a few calls."""
        spec = self.spec
        timeout = max(self.left(), 1.0) + BUDGET_MARGIN_S
        request = {
            "mode": "inspect",
            "target": spec.to_dict(),
            "calibrate_s": CALIBRATION_S,
            "backends": [backend.name for backend in self.backends],  # only those measured
        }
        outcome = run_in_child(request, timeout, self.memory_limit)
        payload = outcome.payload or {}
        if "error" in payload:
            error = payload["error"]
            raise (InputError if error["type"] == "InputError" else TargetError)(error["message"])
        if outcome.status == "timeout":
            raise TargetError(
                f"importing {spec.target!r} and calling it once took longer than the "
                f"{timeout:.0f} s budget; give a larger --budget"
            )
        if outcome.status == "memory":
            raise TargetError(f"importing or calling {spec.target!r} was {outcome.reason}")
        if outcome.status != "ok":
            raise TargetError(f"importing or calling {spec.target!r} crashed: {outcome.reason}")
        calls, wall = payload["calls"], payload["task_wall_s"]
        payload["overhead_s"] = max(outcome.elapsed_s - calls * wall, 0.0)
        self.report.workload = Workload(
            is_coroutine=payload["is_coroutine"],
            task_wall_s=wall,
            task_cpu_s=payload["task_cpu_s"],
            cpu_fraction=min(1.0, payload["task_cpu_s"] / wall) if wall else None,
            calibration_calls=calls,
            inputs=payload["inputs"],
        )
        return payload

    def probes(self) -> None:
        """Run every probe in a process of its own, within ``PROBE_SHARE`` of the budget."""
        probes = collect_probes(get_plugin_manager())
        if self.config.probes is not None:
            unknown = [name for name in self.config.probes if name not in probes]
            if unknown:
                raise TunekitError(f"unknown probe {unknown[0]!r}; known: {', '.join(probes)}")
            probes = {name: probes[name] for name in self.config.probes}
        if not probes:
            return
        profile_dir = self.profile_dir()
        time_s = min(PROBE_TIME_S, self.config.budget * PROBE_SHARE / len(probes) / 2)
        for name in probes:
            self.tell(f"probe: {name}")
            request = {
                "mode": "probe",
                "probe": name,
                "target": self.spec.to_dict(),
                "profile_dir": str(profile_dir),
                "time_s": time_s,
                "task_wall_s": self.info["task_wall_s"],
            }
            timeout = min(5 * time_s + 10 * self.info["task_wall_s"] + 5, self.left())
            if timeout <= 1:
                self.report.probes.append(ProbeRun(name, "skipped", "out of budget"))
                continue
            outcome = run_in_child(request, timeout, self.memory_limit)
            self.report.probes.append(self.probe_run(name, outcome))

    def probe_run(self, name: str, outcome: ChildOutcome) -> ProbeRun:
        """The probe's record; its ``workload``/``machine``/``profiles`` data go to the report."""
        payload = outcome.payload or {}
        if "error" in payload:
            return ProbeRun(name, "failed", payload["error"]["message"], outcome.elapsed_s)
        if "skipped" in payload:
            return ProbeRun(name, "skipped", payload["skipped"], outcome.elapsed_s)
        if outcome.status != "ok":
            return ProbeRun(
                name,
                "failed" if outcome.status == "memory" else outcome.status,
                outcome.reason,
                outcome.elapsed_s,
            )
        data = payload.get("data", {})
        for section in ("workload", "machine", "profiles"):
            _merge(getattr(self.report, section), data.get(section, {}))
        return ProbeRun(name, "ok", None, outcome.elapsed_s, data)

    def profile_dir(self) -> Path:
        """The folder profilers write to, made now; named in the report."""
        chosen = self.config.profile_dir
        path = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="tunekit-profiles-"))
        path.mkdir(parents=True, exist_ok=True)
        self.report.profiles.dir = str(path.resolve())
        return path

    def classify(self) -> None:
        """Label the workload from the calibration and the nature probe's fractions."""
        workload, machine = self.report.workload, self.report.machine
        if workload.task_wall_s is None:
            return
        cheapest = workload.dispatch_s.get("asyncio" if workload.is_coroutine else "thread")
        workload.kind, workload.kind_reason = classify(
            Nature(
                is_coroutine=workload.is_coroutine,
                task_wall_s=workload.task_wall_s,
                cpu_fraction=workload.cpu_fraction or 0.0,
                thread_parallelism=workload.thread_parallelism,
                await_overlap=workload.await_overlap,
                min_dispatch_s=cheapest,
                free_cores=machine.capacity_cores or float(machine.cpus),
            )
        )

    # --- the trials ------------------------------------------------------------------------

    def supported_backends(self) -> list[Contender]:
        """The selected backends that support the target; the others become skipped trials."""
        supported = []
        for contender in self.backends:
            reason = self.info["supports"].get(contender.name)
            if reason is None:
                supported.append(contender)
            else:
                self.report.trials.append(
                    Trial(backend=contender.name, workers=1, status="skipped", reason=reason)
                )
        return supported

    def sweep(self) -> None:
        """Measure the (backend, workers) configurations: adaptively, or the whole grid."""
        if self.config.sweep == "grid":
            self.grid_sweep()
        else:
            self.adaptive_sweep()

    def grid_sweep(self) -> None:
        """Every backend at every size 1, 2, 4... max_workers, the budget shared evenly."""
        supported = [(c.name, c.scales) for c in self.supported_backends()]
        plans = plan_sweep(supported, self.config.max_workers)
        for index, plan in enumerate(plans):
            if self.ruled_out(plan):
                continue
            share = self.left() / (len(plans) - index)
            self.report.trials.append(self.measure(plan, self.clamp_batch(share), grid=True))

    def adaptive_sweep(self) -> None:
        """Screen every backend, grow the leader's pool while it pays, challenge it with the
        others at its knee (``tunekit.sweep``); then place the knee of the chosen backend
        more precisely and measure the close contenders again, alternating."""
        report, workload = self.report, self.report.workload
        supported = self.supported_backends()
        names = {c.name for c in supported}
        contenders = [
            dataclasses.replace(
                c, via=c.via if not workload.is_coroutine and c.via in names else None
            )
            for c in supported
        ]
        planner = AdaptiveSweep(
            contenders,
            max_workers=self.config.max_workers,
            scaling_limit=self.scaling_limit(),
            is_coroutine=workload.is_coroutine,
        )
        expected = 2 * len(contenders) + ADAPTIVE_EXTRA_TRIALS
        while (plan := planner.next_plan(report.trials)) is not None:
            if self.ruled_out(plan):  # recorded as skipped: the planner stops that backend
                continue
            batch_s = self.adaptive_batch(expected)
            trial = self.measure(plan, batch_s)
            report.trials.append(trial)
            self.steady(trial, batch_s)
        if planner.first_size(report.trials) > 1 and any(c.scales for c in contenders):
            report.notes.append(
                "pools of 1 worker were not measured: one worker runs one task at a time, like "
                "sequential, plus the cost of handing each task over"
            )
        for name, why in planner.stops.items():
            if dict((c.name, c.scales) for c in contenders).get(name, True):
                report.notes.append(f"{name}: {why}")
        self.refine_knee(expected)
        self.duel(expected)

    def adaptive_batch(self, expected: int) -> float:
        """Seconds per batch for the next adaptive trial: ``ADAPTIVE_BATCH_S``, or less when
        the budget left would not fit the trials still expected."""
        done = sum(t.status != "skipped" for t in self.report.trials)
        share = self.left() / max(2, expected - done)
        return min(ADAPTIVE_BATCH_S, max(SHORTEST_BATCH_S, self.batch_s(share)))

    def refine_knee(self, expected: int) -> None:
        """Measure the pool between the chosen backend's knee and the smaller pool before it,
        when one lies between: the recommended size is then the knee itself, not a doubling."""
        chosen = recommend(self.report.trials, self.report.workload, self.report.machine)
        if chosen.model is None:
            return
        curve = [t for t in self.report.trials if t.backend == chosen.model]
        middle = knee_gap(curve)
        if middle is None or middle > self.scaling_limit():
            return
        plan = TrialPlan(chosen.model, middle)
        if not self.ruled_out(plan):
            batch_s = self.adaptive_batch(expected)
            trial = self.measure(plan, batch_s)
            self.report.trials.append(trial)
            self.steady(trial, batch_s)

    def steady(self, trial: Trial, batch_s: float) -> None:
        """Measure a trial once more before the sweep decides from it, keeping the steadier
        run, when it was unstable (a noisy point must not stop a backend that scales) or its
        batches lasted under half of ``batch_s`` (it ran much faster than predicted, so they
        measured the clock more than the work)."""
        if trial.reruns or trial.status != "ok" or not trial.throughput:
            return
        short = (trial.wall_s or 0.0) < SHORT_BATCH_SHARE * self.fitting(batch_s)
        if not trial.unstable and not short:
            return
        batch_s = min(max(ADAPTIVE_BATCH_S, trial.wall_s or 0.0), MAX_BATCH_S)
        again = self.measure(TrialPlan(trial.backend, trial.workers), batch_s, trial.throughput)
        trial.reruns += 1
        if again.status != "ok":
            return
        if (again.throughput_spread or 0.0) < (trial.throughput_spread or 0.0):
            again.reruns = trial.reruns
            self.report.trials[self.report.trials.index(trial)] = again

    def duel(self, expected: int) -> None:
        """Measure the backends whose best is within noise of the best again, alternating: the
        contenders' values are then the duel's, measured side by side, so drift on a shared
        machine hits all of them alike (the sweep measured them seconds apart: a process pool
        measured 2.5% ahead of threads there was 7% ahead side by side). The pool the
        recommendation would choose joins them when it is not its backend's best: whether it
        is within 5% of that best is the closest call the recommendation makes. Rounds go on
        (up to ``DUEL_ROUNDS``, their values merged) only while they change the choice."""
        ok = [t for t in self.report.trials if t.status == "ok" and t.throughput]
        if len(ok) < 2:
            return
        best = max(ok, key=lambda t: t.throughput or 0.0)
        band = max(DUEL_BAND, 2 * (best.throughput_spread or 0.0))
        peaks: dict[str, Trial] = {}  # each backend's best configuration, fastest first
        for trial in sorted(ok, key=lambda t: t.throughput or 0.0, reverse=True):
            peaks.setdefault(trial.backend, trial)
        contenders = [
            t
            for t in peaks.values()
            if (t.throughput or 0.0) >= (best.throughput or 0.0) * (1 - band)
        ][:DUEL_SIZE]
        chosen = self.recommended()
        if chosen is not None and chosen not in contenders:
            contenders.append(chosen)
        if len(contenders) < 2:
            return
        dueled: list[Trial] = []  # contenders whose values are the duel's own
        for _ in range(DUEL_ROUNDS):
            for index, trial in enumerate(contenders):
                plan = TrialPlan(trial.backend, trial.workers)
                batch_s = self.adaptive_batch(expected)
                again = self.measure(plan, batch_s, throughput=trial.throughput)
                if again.status == "skipped":
                    return
                if again.status != "ok":
                    continue
                if any(trial is d for d in dueled):
                    merge_repeats(trial, again)
                    continue
                again.reruns = trial.reruns + 1
                trials = self.report.trials
                trials[next(i for i, t in enumerate(trials) if t is trial)] = again
                contenders[index] = again
                dueled.append(again)
            after = self.recommended()
            if after is None or chosen is None or after.key == chosen.key:
                return  # the round confirmed the choice: no slow spell moved it
            chosen = after
            if all(after.key != t.key for t in contenders):
                contenders.append(after)

    def recommended(self) -> Trial | None:
        """The trial the recommendation would choose now, from the trials measured so far."""
        rec = recommend(self.report.trials, self.report.workload, self.report.machine)
        return next(
            (
                t
                for t in self.report.trials
                if t.status == "ok" and t.backend == rec.model and t.workers == rec.pool_size
            ),
            None,
        )

    def scaling_limit(self) -> int:
        """Most workers worth growing to: the free cores for work that needs a core each."""
        workload, machine = self.report.workload, self.report.machine
        if workload.kind in ("cpu-bound", "gil-releasing", "overhead-bound"):
            return max(1, round(machine.capacity_cores or machine.cpus))
        return self.config.max_workers

    def ruled_out(self, plan: TrialPlan) -> bool:
        """True (and recorded as a skipped trial) when a smaller pool of the same backend
        already exceeded the memory limit."""
        failed = [
            t.workers
            for t in self.report.trials
            if t.backend == plan.backend and (t.reason or "").startswith(MEMORY_LIMIT)
        ]
        if not failed or plan.workers <= min(failed):
            return False
        self.report.trials.append(
            _skip(
                plan, f"ruled out: {plan.backend} x{min(failed)} already exceeded the memory limit"
            )
        )
        return True

    def clamp_batch(self, share: float) -> float:
        """Seconds per measured batch for a trial given ``share`` of the budget."""
        return min(max(MIN_BATCH_S, self.batch_s(share)), MAX_BATCH_S)

    def fit_curves(self) -> None:
        """Fit the Universal Scalability Law to each scaling backend's measured curve."""
        for contender in self.backends:
            name = contender.name
            curve = [t for t in self.report.trials if t.backend == name and t.status == "ok"]
            if not contender.scales or not curve:
                continue
            points = [(t.workers, v) for t in curve for v in t.throughput_values]
            spreads = [t.throughput_spread or 0.0 for t in curve]
            self.report.fits[name] = fit_usl(points, noise=statistics.median(spreads))

    def batch_s(self, share: float) -> float:
        """Seconds per measured batch that fill ``share`` of the budget."""
        overhead_s = float(self.info["overhead_s"])
        return (share - overhead_s) / (self.config.repeats + WARMUP_BATCHES)

    def measure(
        self, plan: TrialPlan, batch_s: float, throughput: float | None = None, grid: bool = False
    ) -> Trial:
        """One trial, sized from ``throughput`` or what earlier trials measured (see
        ``predicted_throughput``). In the grid, only from the backend's own smaller pools,
        assuming no gain: a gain then shortens the batches instead of overrunning the grid."""
        if throughput is None:
            trials = self.report.trials
            if grid:
                own = [t for t in trials if t.backend == plan.backend]
                throughput = predicted_throughput(plan, own, self.info["task_wall_s"], 1.0)
            else:
                fixed = {c.name for c in self.backends if not c.scales}  # sequential
                baseline = next(
                    (t for t in trials if t.backend in fixed and t.status == "ok"), None
                )
                throughput = predicted_throughput(
                    plan, trials, self.info["task_wall_s"], baseline=baseline
                )
        overhead_s = float(self.info["overhead_s"])
        batches = self.config.repeats + WARMUP_BATCHES
        left = self.left()
        batch_s = self.fitting(batch_s)
        tasks = tasks_for(throughput, plan.workers, batch_s)
        planned = overhead_s + batches * tasks / throughput
        if planned > left:
            return _skip(
                plan,
                f"out of budget: needs about {planned:.1f} s, "
                f"{max(left, 0):.1f} s left (raise --budget)",
            )
        self.tell("trial", plan)
        request = {
            "mode": "trial",
            "target": self.spec.to_dict(),
            "backend": plan.backend,
            "workers": plan.workers,
            "tasks": tasks,
            "repeats": self.config.repeats,
            "batch_s": batch_s,  # the worker re-sizes its batches if the guess was far off
        }
        timeout = min(TIMEOUT_FACTOR * planned + 1.0, left + BUDGET_MARGIN_S)
        outcome = run_in_child(request, timeout, self.memory_limit)
        trial = _trial_from_outcome(plan, tasks, outcome)
        trial.unstable = (trial.throughput_spread or 0.0) > UNSTABLE_SPREAD
        return trial

    def fitting(self, batch_s: float) -> float:
        """``batch_s``, shortened near the end of the budget: shorter batches beat no
        measurement at all."""
        overhead_s = float(self.info["overhead_s"])
        batches = self.config.repeats + WARMUP_BATCHES
        return min(batch_s, max((self.left() * 0.8 - overhead_s) / batches, SHORTEST_BATCH_S))

    def rerun_unstable(self) -> None:
        """Measure each unstable trial once more while budget is left; keep the steadier run."""
        trials = self.report.trials
        for index, trial in enumerate(list(trials)):
            if trial.reruns or not trial.unstable or trial.status != "ok" or not trial.throughput:
                continue  # stable, failed, or already measured again (by the sweep or a duel)
            plan = TrialPlan(trial.backend, trial.workers)
            batch_s = min(max(MIN_BATCH_S, trial.wall_s or MIN_BATCH_S), MAX_BATCH_S)
            again = self.measure(plan, batch_s, throughput=trial.throughput)
            if again.status == "skipped":  # out of budget: the rest would be too
                return
            if again.status != "ok" or again.throughput_spread is None:
                continue
            steadier = again.throughput_spread < (trial.throughput_spread or 0.0)
            keep = again if steadier else trial
            keep.reruns = trial.reruns + 1
            trials[index] = keep


MEMORY_LIMIT = "memory limit: "


def _trial_from_outcome(plan: TrialPlan, tasks: int, outcome: ChildOutcome) -> Trial:
    payload = outcome.payload or {}
    if "error" in payload:
        return _skip(plan, payload["error"]["message"], status="failed", tasks=tasks)
    if outcome.status == "ok":
        return trial_from_dict(payload)
    if outcome.status == "memory":
        return _skip(plan, f"{MEMORY_LIMIT}{outcome.reason}", status="failed", tasks=tasks)
    return _skip(plan, outcome.reason or "unknown failure", status=outcome.status, tasks=tasks)


def _skip(plan: TrialPlan, reason: str, status: Any = "skipped", tasks: int = 0) -> Trial:
    return Trial(
        backend=plan.backend, workers=plan.workers, status=status, reason=reason, tasks=tasks
    )


def merge_repeats(trial: Trial, again: Trial) -> None:
    """Fold a second measurement of the same configuration into ``trial``: all values count.
    Its batches may have had another size: ``tasks`` becomes the mean per batch, so that tasks
    x repeats stays the number of tasks measured (the denominator of the error rate)."""
    measured = trial.tasks * trial.repeats + again.tasks * again.repeats
    trial.throughput_values = trial.throughput_values + again.throughput_values
    trial.throughput = statistics.median(trial.throughput_values)
    trial.throughput_spread = relative_spread(trial.throughput_values)
    trial.repeats += again.repeats
    trial.tasks = round(measured / trial.repeats) if trial.repeats else trial.tasks
    trial.errors += again.errors
    trial.reruns += 1
    trial.unstable = trial.throughput_spread > UNSTABLE_SPREAD


def _merge(section: Any, values: dict[str, Any]) -> None:
    """Set the fields of dataclass ``section`` that ``values`` names (unknown keys are kept
    only in the probe's raw data)."""
    known = {f.name for f in dataclasses.fields(section)}
    for key, value in values.items():
        if key in known:
            setattr(section, key, value)


def _capacity_notes(machine: Machine) -> list[str]:
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


def _select_backends(requested: Sequence[str] | None, notes: list[str]) -> list[Contender]:
    """The requested backends (all registered ones by default), as the sweep sees them.

    Plugin warnings go to ``notes``; asking by name for a backend two plugins registered is
    an error, since it is not clear which one is meant.
    """
    pm = get_plugin_manager()
    registered = collect_backends(pm)
    notes += [f"plugin warning: {warning}" for warning in pm.warnings]
    if requested:
        unknown = [name for name in requested if name not in registered]
        if unknown:
            raise TunekitError(f"unknown backend {unknown[0]!r}; known: {', '.join(registered)}")
        ambiguous = [name for name in requested if name in pm.duplicates]
        if ambiguous:
            raise PluginError(pm.duplicates[ambiguous[0]])
    else:
        requested = list(registered)
    contenders = []
    for name in dict.fromkeys(requested):
        backend = registered[name].item
        contenders.append(Contender(name, backend.scales, getattr(backend, "sync_via", None)))
    return contenders


def _machine() -> Machine:
    # sched_getaffinity respects taskset and cgroup cpusets; it is missing on macOS.
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity else os.cpu_count() or 1
    # allow_none: asking must not fix the start method for the user's own code.
    method = multiprocessing.get_start_method(allow_none=True)
    return Machine(
        cpus=cpus,
        python=platform.python_version(),
        platform=f"{sys.platform}-{platform.machine()}",
        start_method=method or multiprocessing.get_all_start_methods()[0],
        load_average=os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    )
