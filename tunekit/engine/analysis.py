"""The engine behind ``tunekit analyze`` and ``tunekit.analyze()``: one analysis, step by step.

Each step touches user code only in child processes (``tunekit.isolation``): measure the
machine's free cores, calibrate the target, run the probes one per process, sweep the
(backend, workers) trials (``strategies``), re-measure unstable trials while budget is left,
fit the scaling curves, measure the machine again, and recommend.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version

from tunekit.advice.classify import COMPUTING_CPU_FRACTION
from tunekit.advice.recommend import recommend
from tunekit.advice.sanity import implausible_speedup
from tunekit.advice.scaling import fit_curves
from tunekit.engine.bench import TrialBench
from tunekit.engine.budget import ADAPTIVE_BATCH_S, Budget
from tunekit.engine.calibration import calibrate, classify_workload
from tunekit.engine.conclusion import conclude
from tunekit.engine.config import AnalysisConfig, ProgressCallback, run_record
from tunekit.engine.interpreters import (
    check_interpreter,
    compared_trials,
    host_share,
    measure_side_by_side,
    this_interpreter,
)
from tunekit.engine.machine import (
    CAPACITY_AFTER_S,
    CAPACITY_BEFORE_S,
    capacity_notes,
    default_memory_limit,
    describe_machine,
    free_cores,
    read_limits,
)
from tunekit.engine.probing import rerun_at_pool, run_probes, selected_probes
from tunekit.engine.strategies.adaptive import adaptive_sweep
from tunekit.engine.strategies.grid import grid_sweep
from tunekit.engine.strategies.inner_limits import limit_native_pools, may_limit, reserve_share
from tunekit.engine.strategies.reruns import rerun_unstable
from tunekit.errors import PluginError, Terminated, TunekitError
from tunekit.isolation.forkserver import ZYGOTE_READY_S, fork_server, zygote_unsupported
from tunekit.models import InterpreterRun, Machine, Recommendation, Report, Trial, Workload
from tunekit.plan.budget import budget_needed_line, smallest_sweep_s
from tunekit.plan.limits import pool_limit
from tunekit.plan.sizing import MIN_GAIN, noise_of
from tunekit.plan.stops import Stop
from tunekit.plan.sweep import Contender
from tunekit.plugins import PluginManager, collect_backends, get_plugin_manager
from tunekit.target import TargetSpec
from tunekit.units import format_seconds

#: Work that needs a core per worker: its pools grow past the free cores only while they gain.
CORE_BOUND_KINDS = ("cpu-bound", "gil-releasing", "overhead-bound")
#: The grid's largest pool when no --max-workers is given: the grid measures every size up to
#: it, so it needs a bound (the adaptive sweep does not).
GRID_MAX_WORKERS = 16


def run_analysis(
    config: AnalysisConfig,
    progress: ProgressCallback | None = None,
    plugins: PluginManager | None = None,
) -> Report:
    """Measure the target under every selected backend within the budget and recommend one.

    ``plugins`` is the run's plugin manager (one is made if not given). Ctrl-C or SIGTERM stop
    the analysis: the report then holds what was measured so far, with ``complete`` false and
    ``interrupted`` naming the signal.
    """
    config.validate()
    return _Analysis(config, progress, plugins or get_plugin_manager()).run()


class _Analysis:
    """One analysis in progress: its budget, its bench of trials, the report being filled."""

    def __init__(
        self, config: AnalysisConfig, progress: ProgressCallback | None, plugins: PluginManager
    ) -> None:
        self.config = config
        self.progress = progress
        # with --python, the host's sweep leaves the other interpreters their share
        self.budget = Budget(host_share(config.budget, len(config.pythons)), config.repeats)
        self.spec = TargetSpec(
            config.target, list(config.args), dict(config.kwargs), config.inputs, config.setup
        )
        self.plugins = plugins
        self.plugin_notes: list[str] = []
        self.contenders = select_backends(plugins, config.backends, self.plugin_notes)
        self.probes = selected_probes(plugins, config.probes)
        self.memory_limit = config.memory_limit or default_memory_limit()
        #: Why each backend stopped growing (the adaptive sweep's).
        self.stops: dict[str, Stop] = {}
        self.report = Report(
            target=config.target,
            machine=describe_machine(config.start_method),
            workload=Workload(is_coroutine=False),
            trials=[],
            recommendation=Recommendation(None, None, None, None),
            tunekit_version=version("tunekit"),
            budget_s=config.budget,
            memory_limit_bytes=self.memory_limit,
            complete=False,
            notes=self.plugin_notes,
            run=run_record(
                config, [c.name for c in self.contenders], [name for name, _ in self.probes]
            ),
        )

    def tell(self, event: str) -> None:
        if self.progress is not None:
            self.progress(event, None, self.budget.left())

    def advise(self, trials: Sequence[Trial]) -> Recommendation:
        """The recommendation ``trials`` would give."""
        return recommend(trials, self.report.workload, self.report.machine, via=self.via())

    def via(self) -> dict[str, str]:
        """Backend -> the backend whose pool runs plain functions for it."""
        return {c.name: c.via for c in self.contenders if c.via is not None}

    def check(self, trial: Trial, trials: Sequence[Trial]) -> str | None:
        """Why a just-measured trial cannot be ranked, or None (``advice.sanity``)."""
        machine = self.report.machine
        baseline = next((t for t in trials if t.backend == "sequential" and t.usable), None)
        noise = noise_of(trial, baseline) if baseline is not None else MIN_GAIN
        # the CPUs, not the free cores measured at the start: on a shared machine those move
        return implausible_speedup(trial, baseline, self.report.workload, machine.cpus, noise)

    def run(self) -> Report:
        report = self.report
        failure: str | None = None
        no_zygote = zygote_unsupported()
        if no_zygote is not None:
            report.notes.append(f"no fork server: {no_zygote}")
        try:
            others = [check_interpreter(p, report.tunekit_version) for p in self.config.pythons]
            # Every child below is forked from one warm zygote (not the other interpreters').
            with fork_server(min(ZYGOTE_READY_S, self.config.budget)):
                failure = self.measure_all()
            if failure is None and others:
                self.compare_interpreters(others)
            report.complete = True
        except KeyboardInterrupt:
            report.interrupted = "SIGINT"
        except Terminated:
            report.interrupted = "SIGTERM"
        report.notes += capacity_notes(report.machine)
        conclude(report, self.stops, self.contenders, self.plugins, failure)
        report.elapsed_s = self.budget.elapsed()
        return report

    def measure_all(self) -> str | None:
        """Every measurement, in order; why nothing can be recommended, if so."""
        report, machine, budget = self.report, self.report.machine, self.budget
        self.tell("measuring free cores")
        machine.capacity_cores = free_cores(machine.cpus, CAPACITY_BEFORE_S)
        if machine.capacity_cores is not None:
            machine.background_load = max(0.0, 1 - machine.capacity_cores / machine.cpus)
        self.tell("calibrating")
        measured = [c.name for c in self.contenders]  # only those asked whether they support it
        calibration = calibrate(self.spec, measured, budget.left(), self.memory_limit)
        budget.overhead_s = calibration.overhead_s
        report.workload = calibration.workload()
        found = calibration.inspection
        machine.gil_enabled = found.gil_enabled
        if calibration.always_fails:
            return f"the target raised on every call: {found.first_error}"
        long_calls = found.task_wall_s >= ADAPTIVE_BATCH_S
        if long_calls and any(not c.scales for c in self.contenders):
            report.trials.append(calibration.baseline())
            timed = (
                "its first call, the only one that fit"
                if found.warmup_only
                else f"{found.calls} call(s) of {format_seconds(found.task_wall_s)} after a "
                "warm-up call"
            )
            report.notes.append(
                f"sequential x1 is the calibration's sequential run ({timed}): calls this long "
                "would cost a trial of their own several calls more"
            )
        run_probes(
            report,
            self.probes,
            self.spec,
            budget,
            found.task_wall_s,
            self.memory_limit,
            self.config.profile_dir,
            self.progress,
            reserve_s=smallest_sweep_s(found.task_wall_s, budget.overhead_s, long_calls),
            start_method=self.config.start_method,
        )
        classify_workload(report.workload, machine)
        needed = smallest_sweep_s(found.task_wall_s, budget.overhead_s, long_calls)
        if needed > budget.left():
            return budget_needed_line(found.task_wall_s, needed, budget.left(), budget.elapsed())
        bench = TrialBench(
            spec=self.spec,
            budget=budget,
            memory_limit=self.memory_limit,
            task_wall_s=found.task_wall_s,
            contenders=self.contenders,
            advise=self.advise,
            trials=report.trials,
            progress=self.progress,
            check=self.check,
            native_threads=max(report.workload.native_threads, 1),
            start_method=self.config.start_method,
        )
        supported = supporting(self.contenders, found.supports, report.trials)
        names = [c.name for c in supported]
        limits = may_limit(report.workload.native_threads, machine.cpus, names)
        with budget.held_back(reserve_share(names) * budget.left() if limits else 0.0):
            self.sweep(bench, supported)
            rerun_unstable(bench)
        report.inner_limits = limit_native_pools(bench, report.workload, machine.cpus, names)
        provisional = self.advise(report.trials)
        note = rerun_at_pool(
            report,
            "locks",
            self.spec,
            budget,
            found.task_wall_s,
            self.memory_limit,
            provisional.model,
            provisional.pool_size,
        )
        report.notes += [note] if note else []
        self.report.fits.update(
            fit_curves(self.report.trials, [c.name for c in self.contenders if c.scales])
        )
        if budget.left() > 2 * CAPACITY_AFTER_S + 0.5:
            self.tell("measuring free cores again")
            machine.capacity_after_cores = free_cores(machine.cpus, CAPACITY_AFTER_S)
        return None

    def compare_interpreters(self, others: list[InterpreterRun]) -> None:
        """Measure the best configurations again under this and each other interpreter."""
        report = self.report
        rec = self.advise(report.trials)
        configurations = compared_trials(report.trials, rec.model)
        report.interpreters = [this_interpreter(), *others]
        left = Budget(self.config.budget - self.budget.elapsed(), self.config.repeats)
        self.tell("measuring under each Python")
        measure_side_by_side(
            report.interpreters, self.spec, configurations, left, self.memory_limit
        )

    def sweep(self, bench: TrialBench, supported: list[Contender]) -> None:
        """The grid or the adaptive sweep of the supported backends."""
        report = self.report
        if self.config.sweep == "grid":
            grid_sweep(bench, supported, self.config.max_workers or GRID_MAX_WORKERS)
            return
        limits = read_limits(self.memory_limit)
        sweep = adaptive_sweep(
            bench,
            supported,
            limit_of=lambda name, curve: pool_limit(name, curve, limits, self.config.max_workers),
            core_limit=core_limit(report.workload, report.machine),
            is_coroutine=report.workload.is_coroutine,
            computes=(report.workload.cpu_fraction or 0.0) >= COMPUTING_CPU_FRACTION,
        )
        report.notes += sweep.notes
        self.stops = sweep.stops


def core_limit(workload: Workload, machine: Machine) -> int | None:
    """For work that needs a core per worker: the free cores, past which pools grow only
    while each doubling still gains."""
    if workload.kind in CORE_BOUND_KINDS:
        return max(1, round(machine.capacity_cores or machine.cpus))
    return None


def supporting(
    contenders: Sequence[Contender], supports: dict[str, str | None], trials: list[Trial]
) -> list[Contender]:
    """The contenders that support the target (``supports``: why not, per backend); each other
    one becomes a skipped trial in ``trials``."""
    found = []
    for contender in contenders:
        reason = supports.get(contender.name)
        if reason is None:
            found.append(contender)
        else:
            trials.append(Trial(contender.name, 1, "skipped", reason))
    return found


def select_backends(
    plugins: PluginManager, requested: Sequence[str] | None, notes: list[str]
) -> list[Contender]:
    """The requested backends (all registered ones by default), as the sweep sees them.

    Plugin warnings go to ``notes``; asking by name for a backend two plugins registered is
    an error, since it is not clear which one is meant.
    """
    registered = collect_backends(plugins)
    notes += [f"plugin warning: {warning}" for warning in plugins.warnings]
    if requested:
        unknown = [name for name in requested if name not in registered]
        if unknown:
            raise TunekitError(f"unknown backend {unknown[0]!r}; known: {', '.join(registered)}")
        ambiguous = [name for name in requested if name in plugins.duplicates]
        if ambiguous:
            raise PluginError(plugins.duplicates[ambiguous[0]])
    else:
        requested = list(registered)
    contenders = []
    for name in dict.fromkeys(requested):
        backend = registered[name].item
        contenders.append(
            Contender(
                name,
                backend.scales,
                getattr(backend, "sync_via", None),
                cheap=bool(getattr(backend, "cheap_workers", False)),
                startup_s=float(getattr(backend, "startup_estimate_s", 0.0)),
            )
        )
    return contenders
