"""The acceptance of the issue, per workload and run: the thresholds and how each is judged.

A ``Row`` is one workload in one run: the adaptive recommendation against the reference grid.
Its ``checks`` are those of one run; ``Judged`` is a workload over every run: its worst run
(lowest goodput ratio), the checks that must hold in every run, and its stability.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from goodput import goodput_of

from tunekit.models import Report, Trial

#: Acceptance thresholds of the issue: each throughput workload's goodput at >= 0.90 of the
#: grid's best, their geometric mean >= 0.95.
MIN_GOODPUT_RATIO = 0.90
MIN_GEOMETRIC_MEAN = 0.95
#: A recommended configuration may not fail more than 5% of its calls when a configuration
#: without errors reaches 0.9 of its goodput (the issue).
MAX_ERROR_RATE = 0.05
CLEAN_SHARE = 0.9
#: Every analysis must finish within 1.1x its budget (the issue).
MAX_OVER_BUDGET = 1.1
#: Stability across runs (the issue): pool sizes within 2x of each other.
MAX_POOL_RATIO = 2.0
#: The noise floor of a ratio of measured values: the smallest gain the engine itself tells
#: apart from noise (``tunekit.plan.sizing.MIN_GAIN``); a trial's own spread when larger.
NOISE = 0.05
#: Seconds per clock tick of /proc's CPU times (pool processes still running are read there,
#: at the stream's start and end: 2 ticks of error per process; docs/how-it-measures.md
#: step 8). 100 ticks a second on Linux when sysconf cannot say.
TICK_S = 1 / (os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100)
#: Backends whose workers are threads of the trial process (read by getrusage, exact to the
#: microsecond, and bounded by the workers); the others' workers are processes, fed by the
#: trial process besides, so that their CPU/wall may reach one more than the workers.
IN_PROCESS = ("sequential", "thread", "asyncio", "tornado", "twisted")
#: Work whose speed-up the cores bound: a worker per core is all that helps.
CORE_BOUND_KINDS = ("cpu-bound", "gil-releasing")
#: asyncio, tornado and twisted are one family for stability (the issue).
FAMILIES = {"asyncio": "event loop", "tornado": "event loop", "twisted": "event loop"}


@dataclass
class Row:
    """One workload in one run, as printed and as written with --json."""

    workload: str
    run: int
    kind: str | None = None
    model: str | None = None
    pool_size: int | None = None
    #: Growth stopped while still gaining (``Recommendation.still_scaling``; None: not said).
    still_scaling: bool | None = None
    #: Configurations within noise of the chosen one ("no clear winner").
    tied: list[str] = field(default_factory=list)
    grid_best: str | None = None
    knee: int | None = None
    #: Recommended goodput / the grid's best's, measured side by side (1.0 when the same).
    goodput_ratio: float | None = None
    #: The same ratio from the grid's own values, when it measured the recommended one.
    grid_ratio: float | None = None
    #: Share of the recommended configuration's calls that raised, as the reference saw it.
    error_rate: float | None = None
    #: A configuration without errors at >= CLEAN_SHARE of the recommended goodput.
    clean_alternative: str | None = None
    adaptive_s: float = 0.0
    budget_s: float = 0.0
    adaptive_first: bool = True
    grid_s: float = 0.0
    grid_covers: str = ""
    free_cores: float | None = None
    cpus: int | None = None
    #: What the reference could not measure: failed configurations, refusing backends.
    grid_failed: list[str] = field(default_factory=list)
    grid_failure: str | None = None
    #: Why the adaptive analysis gave no report (it raised), or None.
    adaptive_failure: str | None = None
    adaptive_skipped: list[str] = field(default_factory=list)
    #: CPU/wall above the workers or the CPUs, or a core-bound speed-up above the free cores.
    sanity: list[str] = field(default_factory=list)
    locks: list[dict[str, Any]] = field(default_factory=list)
    #: Lock workloads only (``accuracy.LOCK_ADVICE``): "right", "wrong" or "not measured".
    lock_verdict: str | None = None
    lock_workload: bool = False

    @property
    def recommended(self) -> str | None:
        return f"{self.model} x{self.pool_size}" if self.model else None

    def checks(self) -> dict[str, bool | None]:
        """Pass or fail of each threshold in this run (None: does not apply)."""
        ratio = self.goodput_ratio
        erring = (self.error_rate or 0.0) > MAX_ERROR_RATE
        return {
            "goodput": None
            if self.lock_workload
            else (ratio is not None and ratio >= MIN_GOODPUT_RATIO),
            "errors": not (erring and self.clean_alternative is not None),
            "budget": None
            if self.adaptive_failure
            else self.adaptive_s <= MAX_OVER_BUDGET * self.budget_s,
            "sanity": not self.sanity,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "recommended": self.recommended, "checks": self.checks()}


def sanity_problems(report: Report) -> list[str]:
    """What no report may show: a trial's CPU/wall above its workers, each with the threads
    of the native pool (BLAS) its calls loaded, as the engine's ``impossible_cpu`` bounds it
    (above one more for process workers, fed by the trial process), or above the CPUs, or a
    core-bound speed-up above the free cores, beyond the noise (the trial's spread, at least
    ``NOISE``, and the clock ticks of /proc). OpenBLAS's 2 threads, spinning after numpy
    loaded them, kept a sequential numpy reduction at 1.06 cores busy."""
    cpus = report.machine.cpus
    native = max(report.workload.native_threads, 1)
    problems = []
    for trial in report.trials:
        if trial.status != "ok" or not trial.cpu_s or not trial.wall_s:
            continue
        in_process = trial.backend in IN_PROCESS
        per_worker = trial.inner_threads or native
        limit = min(cpus, trial.workers * per_worker + (0 if in_process else 1))
        read = 0 if in_process else trial.workers
        ticks = 2 * TICK_S * read / (max(trial.repeats, 1) * trial.wall_s)
        allowed = limit * (1 + max(NOISE, trial.throughput_spread or 0.0)) + ticks
        ratio = trial.cpu_s / trial.wall_s
        if ratio > allowed:
            problems.append(f"{trial.key}: CPU/wall {ratio:.2f} > {limit} (allowed {allowed:.2f})")
    rec, machine = report.recommendation, report.machine
    if report.workload.kind in CORE_BOUND_KINDS and rec.speedup is not None:
        # One worker's speed-up is 1 however busy the machine (0.43 free cores were measured
        # with other tests running): the bound is on what more workers add.
        free = max(machine.capacity_cores or 0.0, machine.capacity_after_cores or 0.0) or cpus
        free = max(free, 1.0)
        chosen = _trial(report.trials, rec.model, rec.pool_size)
        baseline = _trial(report.trials, "sequential", 1)
        spreads = sum((t.throughput_spread or 0.0) for t in (chosen, baseline) if t is not None)
        allowed = free * (1 + max(NOISE, spreads))
        if rec.speedup > allowed:
            problems.append(
                f"speed-up {rec.speedup:.2f}x of {report.workload.kind} work > "
                f"{free:.2f} free cores (allowed {allowed:.2f})"
            )
    return problems


def chosen_trial(report: Report) -> Trial | None:
    """The adaptive analysis's trial of its recommended configuration."""
    rec = report.recommendation
    return _trial(report.trials, rec.model, rec.pool_size)


def _trial(trials: Sequence[Trial], backend: str | None, workers: int | None) -> Trial | None:
    found = [t for t in trials if (t.backend, t.workers) == (backend, workers) and t.usable]
    return max(found, key=lambda t: goodput_of(t) or 0.0, default=None)


def family(model: str | None) -> str | None:
    return FAMILIES.get(model, model) if model is not None else None


def stability(rows: Sequence[Row]) -> tuple[bool | None, str]:
    """Whether every run got the same family and pool sizes within ``MAX_POOL_RATIO``, or
    the same "no clear winner" set (the chosen and its ties); None with fewer than 2 runs."""
    if len(rows) < 2:
        return None, "-"
    sets = {frozenset((row.recommended or "-", *row.tied)) for row in rows}
    if all(row.tied for row in rows) and len(sets) == 1:
        return True, "no clear winner: " + ", ".join(sorted(next(iter(sets))))
    families = {family(row.model) for row in rows}
    sizes = [row.pool_size for row in rows if row.pool_size is not None]
    said = ", ".join(row.recommended or "-" for row in rows)
    same_family = len(families) == 1 and None not in families
    if same_family and len(sizes) == len(rows) and max(sizes) <= MAX_POOL_RATIO * min(sizes):
        return True, said
    return False, said


@dataclass
class Judged:
    """One workload over every run: its worst run, and the checks that must hold in all."""

    worst: Row
    runs: list[Row]
    stable: bool | None
    stability: str

    def failing_runs(self, check: str) -> list[int]:
        return [row.run for row in self.runs if row.checks()[check] is False]

    def checks(self) -> dict[str, bool | None]:
        """The goodput of the worst run; errors, budget and sanity in every run; stability."""
        checks: dict[str, bool | None] = {"goodput": self.worst.checks()["goodput"]}
        for check in ("errors", "budget", "sanity"):
            checks[check] = not self.failing_runs(check)
        checks["stability"] = self.stable
        return checks

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.worst.to_dict(),
            "stable": self.stable,
            "stability": self.stability,
            "all_checks": self.checks(),
        }


def judge(rows: Sequence[Row]) -> list[Judged]:
    """Each workload's rows, by workload in the order first seen: the run of lowest goodput
    ratio (one without a ratio is the lowest; the first of equals) is its worst."""
    by_workload: dict[str, list[Row]] = {}
    for row in rows:
        by_workload.setdefault(row.workload, []).append(row)
    judged = []
    for runs in by_workload.values():
        worst = min(runs, key=lambda r: -math.inf if r.goodput_ratio is None else r.goodput_ratio)
        stable, said = stability(runs)
        judged.append(Judged(worst, runs, stable, said))
    return judged


def geometric_mean(rows: Sequence[Row]) -> float | None:
    """Of the throughput workloads' goodput ratios (None if any has none: it failed)."""
    ratios = [row.goodput_ratio for row in rows if not row.lock_workload]
    if not ratios or any(r is None or r <= 0 for r in ratios):
        return None
    return math.exp(sum(math.log(r) for r in ratios if r is not None) / len(ratios))
