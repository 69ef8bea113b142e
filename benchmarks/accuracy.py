"""Accuracy of tunekit's adaptive sweep against an exhaustive grid, measured side by side.

For each workload of ``benchmarks/workloads.py`` this runs two analyses in the same run, over
the same backends and worker counts: the adaptive sweep (``--budget``) and the grid, every
backend at every size 1, 2, 4... max_workers, with 1.5 s per configuration and 10 s besides
(``--grid-seconds``): the standard grid. If it skipped configurations for lack of budget, the
grid is run again with 1.5x that (up to twice) so that the throughput reference is exhaustive;
the time ratio stays that of the standard grid, since a grid fills whatever budget it gets.
Their order alternates between workloads (adaptive first for the 1st, 3rd...; grid first for
the 2nd, 4th...), so drift on the machine does not favour one. Printed per workload:

- the recommended configuration and the grid's best;
- throughput ratio: the recommended configuration's throughput / that of the grid's best
  configuration, both measured again side by side after the two analyses (alternating, for
  ``SIDE_BY_SIDE_ROUNDS`` rounds of one trial each, 0.4 s batches): the grid's best is the
  largest of ~30 noisy values, so its own number is biased high (the winner's curse), and
  the recommended pool size may lie between the grid's powers of two. 1.00 when they are
  the same configuration. The grid's own ratio is printed beside it (``grid`` column, ``-``
  when the grid did not measure the recommended size);
- pool size / knee: the knee is the smallest worker count of the grid's best backend within
  5 % of that backend's best throughput;
- time ratio: the adaptive analysis's elapsed time / the standard grid's;
- the workload's kind, from the adaptive analysis;
- for the lock workloads, the adaptive recommendation's lock advice per site, judged right
  when it names the line that creates the lock or enters it (``-``: no lock advice).

The loopback service the two service workloads call runs in a process of its own for the
whole run. Acceptance (issue 4), on an idle 2-core machine: every throughput workload (all but
the two lock workloads) at >= 0.95 of the grid's best, pool size <= 2x the knee, time ratio
<= 0.25; lock advice shrink/split for ``coarse_lock`` and merge for ``fine_lock``.

    python benchmarks/accuracy.py [--workloads cpu_bound,tiny] [--budget 30] [--quick]
                                  [--grid-seconds 1.5] [--max-workers 32] [--probe NAME ...]
                                  [--backends sequential,thread,...] [--json PATH]

The full run takes about 25 minutes (9 x (about 9 s + 56.5 s), the side-by-side rounds, and
grids run again when they skipped configurations); --quick about 35 s per workload.
``--reports DIR`` keeps every analysis's JSON report.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import multiprocessing
import os
import signal
import statistics
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import service  # benchmarks/ is on sys.path when this script runs
import workloads

from tunekit.engine import AnalysisConfig, run_analysis
from tunekit.engine.machine import BUSY_BELOW
from tunekit.errors import Terminated, TunekitError
from tunekit.isolation.protocol import TrialRequest
from tunekit.isolation.spawn import run_in_child
from tunekit.models import Report, Trial
from tunekit.plan.sizing import tasks_for, worker_counts
from tunekit.plugins import collect_backends, get_plugin_manager
from tunekit.target import TargetSpec

WORKLOADS_FILE = Path(workloads.__file__).resolve()
#: The built-in backends: installed plugins (dask, ...) are left out unless --backends names them.
BACKENDS = ("sequential", "thread", "process", "asyncio", "tornado", "twisted")
#: Acceptance thresholds of issue 4.
MIN_THROUGHPUT_RATIO = 0.95
MAX_POOL_OVER_KNEE = 2.0
MAX_TIME_RATIO = 0.25
#: The knee: smallest worker count within this share of the best backend's best throughput.
KNEE_SHARE = 0.95
#: Rounds (each a trial of each configuration, alternating) and seconds per batch of the
#: side-by-side measurement of a recommended configuration the grid did not measure.
SIDE_BY_SIDE_ROUNDS = 3
SIDE_BY_SIDE_BATCH_S = 0.4
#: The built-in probes: installed plugins' probes are left out unless --probe names them.
PROBES = ("nature", "pyinstrument", "memray", "locks")
#: Grid trials with these statuses are listed under the table.
FAILED = ("failed", "timeout")
#: Seconds of a grid analysis outside its trials: free-core checks, calibration, probes.
GRID_FIXED_S = 10.0
#: A grid that skipped configurations for budget is run again with this much more budget,
#: at most GRID_RETRIES times: trials overrun their share of the budget (a batch sized for a
#: 1.5x gain over the previous pool lasts 1.5x longer when the pool gains nothing), and the
#: last ones, or large pools of slow tasks, no longer fit.
GRID_GROWTH = 1.5
GRID_RETRIES = 2
#: Lock workloads: the module-level name of their lock and the advice words that are right.
LOCK_ADVICE = {
    "coarse_lock": ("_COARSE_LOCK", ("shrink", "split")),
    "fine_lock": ("_FINE_LOCK", ("merge",)),
}


@dataclass
class Settings:
    """What every analysis of one run shares."""

    budget_s: float
    grid_seconds_per_config: float
    max_workers: int
    backends: list[str]
    probes: list[str] | None
    #: Folder to save every analysis's JSON report in, or None.
    reports: str | None = None
    service_limit: int = workloads.SERVICE_LIMIT
    service_delay_s: float = workloads.SERVICE_DELAY_S


@dataclass
class Row:
    """One workload's comparison, as printed and as written with --json."""

    workload: str
    kind: str | None
    recommended: str | None
    pool_size: int | None
    grid_best: str | None
    knee: int | None
    #: Side by side (1.0 when the recommended configuration is the grid's best).
    throughput_ratio: float | None
    #: The grid's own numbers, when it measured the recommended configuration.
    grid_ratio: float | None
    adaptive_s: float
    #: Elapsed time and budget of the standard grid (the time ratio's denominator).
    grid_s: float
    grid_budget_s: float
    #: Budget of the grid whose throughputs are the reference: the standard grid's, unless
    #: that one skipped configurations for budget and was run again.
    reference_budget_s: float
    adaptive_first: bool
    #: Free cores (``machine.capacity_cores``) when the adaptive and the grid analyses began.
    adaptive_free_cores: float | None = None
    grid_free_cores: float | None = None
    #: Configurations the reference grid skipped for lack of budget (it was not exhaustive).
    grid_skipped: list[str] = field(default_factory=list)
    #: Grid runs that skipped configurations and were run again: budget and what they skipped.
    grid_retries: list[str] = field(default_factory=list)
    #: Adaptive configurations skipped for lack of budget (a reason for a poor choice).
    adaptive_skipped: list[str] = field(default_factory=list)
    #: Grid configurations that failed or timed out, with the reason.
    grid_failed: list[str] = field(default_factory=list)
    locks: list[dict[str, Any]] = field(default_factory=list)
    #: Lock workloads only: "right", "wrong" or "not measured" (no lock advice at all).
    lock_verdict: str | None = None

    @property
    def time_ratio(self) -> float:
        return self.adaptive_s / self.grid_s if self.grid_s else float("inf")

    @property
    def is_lock_workload(self) -> bool:
        return self.workload in LOCK_ADVICE

    def checks(self) -> dict[str, bool]:
        """Pass or fail for each acceptance threshold."""
        ratio, pool, knee = self.throughput_ratio, self.pool_size, self.knee
        return {
            "throughput": ratio is not None and ratio >= MIN_THROUGHPUT_RATIO,
            "pool": pool is not None and knee is not None and pool <= MAX_POOL_OVER_KNEE * knee,
            "time": self.time_ratio <= MAX_TIME_RATIO,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "time_ratio": self.time_ratio, "checks": self.checks()}


# --- the loopback service ------------------------------------------------------------------


@contextmanager
def running_service(limit: int, delay_s: float) -> Iterator[int]:
    """Start the loopback service in a process of its own; yield its port; stop and reap it."""
    context = multiprocessing.get_context("spawn")  # a clean interpreter, nothing inherited
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=service.serve, args=(sender, limit, delay_s), name="loopback-service"
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(30):
            raise RuntimeError("the loopback service did not start within 30 s")
        try:
            port = int(receiver.recv())
        except EOFError:
            process.join(5)
            raise RuntimeError(
                f"the loopback service exited at start (exit code {process.exitcode})"
            ) from None
        yield port
    finally:
        receiver.close()
        process.terminate()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()


# --- the analyses --------------------------------------------------------------------------


def grid_budget(settings: Settings) -> tuple[float, int]:
    """The grid's first budget, and its number of configurations: every size for backends
    that scale, size 1 for the others."""
    registered = collect_backends(get_plugin_manager())
    sizes = len(worker_counts(settings.max_workers))
    configs = sum(sizes if registered[name].item.scales else 1 for name in settings.backends)
    return GRID_FIXED_S + configs * settings.grid_seconds_per_config, configs


def target(workload: str) -> str:
    return f"{WORKLOADS_FILE}:{workload}"


def finished(report: Report) -> Report:
    """``report``, unless Ctrl-C or SIGTERM stopped its analysis: then stop the benchmark."""
    if report.interrupted == "SIGTERM":
        raise Terminated()
    if report.interrupted is not None:
        raise KeyboardInterrupt
    return report


def analyze(
    workload: str, sweep: str, budget_s: float, settings: Settings, name: str | None = None
) -> Report:
    """One analysis of ``workload``, its report saved as ``WORKLOAD.NAME.json`` with
    ``--reports`` (NAME: ``sweep`` by default); Ctrl-C or SIGTERM stop the whole benchmark."""
    config = AnalysisConfig(
        target=target(workload),
        backends=settings.backends,
        max_workers=settings.max_workers,
        budget=budget_s,
        probes=settings.probes,
        sweep=sweep,
    )
    report = finished(run_analysis(config))
    if settings.reports is not None:
        Path(settings.reports, f"{workload}.{name or sweep}.json").write_text(report.to_json())
    return report


def measure(
    label: str, workload: str, adaptive_first: bool, settings: Settings
) -> tuple[Row, Report]:
    """Both analyses of ``workload``, in the order given; its row, and the first report."""
    adaptive: Report | None = None
    grids: list[Report] = []
    for sweep in ("adaptive", "grid") if adaptive_first else ("grid", "adaptive"):
        if sweep == "adaptive":
            print(f"{label}: adaptive (budget {settings.budget_s:g} s)", file=sys.stderr)
            adaptive = analyze(workload, sweep, settings.budget_s, settings)
        else:
            grids = exhaustive_grid(label, workload, settings)
    assert adaptive is not None
    row = compare(workload, adaptive, grids[0], grids[-1], adaptive_first)
    row.grid_retries = [
        f"{grid.budget_s or 0:.1f} s skipped {', '.join(_skipped_for_budget(grid))}"
        for grid in grids[:-1]
    ]
    return row, adaptive if adaptive_first else grids[0]


def exhaustive_grid(label: str, workload: str, settings: Settings) -> list[Report]:
    """The standard grid and, while the last run skipped configurations for lack of budget,
    runs with ``GRID_GROWTH`` times more (at most ``GRID_RETRIES``)."""
    budget, _ = grid_budget(settings)
    grids: list[Report] = []
    while True:
        sweep = "grid" if not grids else f"grid-retry{len(grids)}"
        print(f"{label}: {sweep} (budget {budget:.1f} s)", file=sys.stderr)
        grids.append(analyze(workload, "grid", budget, settings, name=sweep))
        if not _skipped_for_budget(grids[-1]) or len(grids) > GRID_RETRIES:
            return grids
        budget *= GRID_GROWTH


def compare(
    workload: str, adaptive: Report, standard: Report, reference: Report, adaptive_first: bool
) -> Row:
    """The row for one workload: the adaptive analysis against the ``reference`` grid's
    throughputs and the ``standard`` grid's time (the same report unless it was run again)."""
    rec = adaptive.recommendation
    measured = [t for t in reference.trials if t.usable]
    best = max(measured, key=_throughput, default=None)
    knee = None
    if best is not None:
        same = [t for t in measured if t.backend == best.backend]
        knee = min(t.workers for t in same if _throughput(t) >= KNEE_SHARE * _throughput(best))
    ratio = grid_ratio = None
    if best is not None and rec.model is not None and rec.pool_size is not None:
        throughput = grid_throughput(measured, rec.model, rec.pool_size)
        if throughput is not None:
            grid_ratio = throughput / _throughput(best)
        chosen = next(
            t for t in adaptive.trials if t.key == f"{rec.model} x{rec.pool_size}" and t.usable
        )
        if chosen.key == best.key:
            ratio = 1.0
        else:
            print(f"{workload}: {chosen.key} against {best.key}, side by side", file=sys.stderr)
            mine, theirs = side_by_side(workload, [chosen, best])
            if mine is not None and theirs:
                ratio = mine / theirs
    row = Row(
        workload=workload,
        kind=adaptive.workload.kind,
        recommended=f"{rec.model} x{rec.pool_size}" if rec.model else None,
        pool_size=rec.pool_size,
        grid_best=best.key if best else None,
        knee=knee,
        throughput_ratio=ratio,
        grid_ratio=grid_ratio,
        adaptive_s=adaptive.elapsed_s or 0.0,
        grid_s=standard.elapsed_s or 0.0,
        grid_budget_s=standard.budget_s or 0.0,
        reference_budget_s=reference.budget_s or 0.0,
        adaptive_first=adaptive_first,
        adaptive_free_cores=adaptive.machine.capacity_cores,
        grid_free_cores=reference.machine.capacity_cores,
        grid_skipped=_skipped_for_budget(reference),
        adaptive_skipped=_skipped_for_budget(adaptive),
        grid_failed=[
            f"{t.key}: {t.status} ({t.reason})" for t in reference.trials if t.status in FAILED
        ],
        locks=[dict(lock) for lock in rec.locks],
    )
    if workload in LOCK_ADVICE:
        name, words = LOCK_ADVICE[workload]
        row.lock_verdict = lock_verdict(row.locks, lock_lines(name), words)
    return row


def grid_throughput(measured: Sequence[Trial], backend: str, workers: int) -> float | None:
    """The grid's throughput of ``backend`` x ``workers``, if it measured that configuration."""
    return next(
        (_throughput(t) for t in measured if t.backend == backend and t.workers == workers), None
    )


def side_by_side(workload: str, configs: Sequence[Trial]) -> list[float | None]:
    """Median throughput of each configuration, measured again in alternation: each round
    runs one trial of each (``SIDE_BY_SIDE_BATCH_S`` batches, sized by its earlier throughput),
    so drift on the machine affects them alike. None for one that never succeeded."""
    values: list[list[float]] = [[] for _ in configs]
    spec = TargetSpec(target(workload))
    for _ in range(SIDE_BY_SIDE_ROUNDS):
        for index, config in enumerate(configs):
            tasks = tasks_for(_throughput(config), config.workers, SIDE_BY_SIDE_BATCH_S)
            request = TrialRequest(spec, config.backend, config.workers, tasks, repeats=3)
            planned = 4 * tasks / max(_throughput(config), 1e-9)
            outcome = run_in_child(request, timeout_s=10 * planned + 10)
            if outcome.status == "ok" and isinstance(outcome.reply, Trial):
                values[index] += outcome.reply.throughput_values
    return [statistics.median(v) if v else None for v in values]


def _throughput(trial: Trial) -> float:
    return trial.throughput or 0.0


def _skipped_for_budget(report: Report) -> list[str]:
    return [
        t.key
        for t in report.trials
        if t.status == "skipped" and t.reason is not None and t.reason.startswith("out of budget")
    ]


# --- lock advice ---------------------------------------------------------------------------


def lock_lines(name: str) -> set[int]:
    """Lines of ``workloads.py`` that create the module-level lock ``name`` or enter it in a
    ``with`` statement: lock advice is right on either."""
    tree = ast.parse(WORKLOADS_FILE.read_text(), str(WORKLOADS_FILE))
    created = {
        node.lineno
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(target, ast.Name) and target.id == name for target in node.targets)
    }
    if not created:
        raise LookupError(f"{WORKLOADS_FILE} has no module-level {name} = ...")
    entered = {
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.With)
        and any(
            isinstance(item.context_expr, ast.Name) and item.context_expr.id == name
            for item in node.items
        )
    }
    return created | entered


def lock_verdict(entries: Sequence[dict[str, Any]], lines: set[int], words: Sequence[str]) -> str:
    """Whether the lock advice is right: "right" if an entry names ``workloads.py:LINE`` (or
    has a ``line`` field) for one of ``lines`` and its advice holds one of ``words``; "not
    measured" without entries; else "wrong"."""
    if not entries:
        return "not measured"
    name = WORKLOADS_FILE.name
    for entry in entries:
        text = json.dumps(entry)
        at_line = any(f"{name}:{line}" in text for line in lines) or (
            entry.get("line") in lines and name in text
        )
        advice = _advice(entry)
        said = (advice if isinstance(advice, str) else text).lower()
        if at_line and any(word in said for word in words):
            return "right"
    return "wrong"


def _advice(entry: dict[str, Any]) -> Any:
    return entry.get("advice", entry.get("action"))


def describe_lock(entry: dict[str, Any]) -> str:
    """``advice@file:line`` when the entry has such fields, else its JSON."""
    advice = _advice(entry)
    site = entry.get("site", entry.get("location"))
    if advice is None and site is None:
        return json.dumps(entry, separators=(",", ":"))
    if isinstance(site, str):
        site = Path(site).name
    return f"{advice or '?'}@{site or '?'}"


# --- output --------------------------------------------------------------------------------

COLUMNS = (
    "workload",
    "kind",
    "recommended",
    "grid best",
    "throughput",
    "grid",
    "pool/knee",
    "time adaptive/grid",
    "locks",
)


def format_row(row: Row) -> list[str]:
    checks = row.checks()
    ratio = "-"
    if row.throughput_ratio is not None:
        shown = math.floor(row.throughput_ratio * 100) / 100  # 0.949 shows as 0.94, not 0.95
        ratio = f"{shown:.2f} {_mark(checks['throughput'])}"
    grid = "-" if row.grid_ratio is None else f"{math.floor(row.grid_ratio * 100) / 100:.2f}"
    pool = "-"
    if row.pool_size is not None and row.knee is not None:
        pool = f"{row.pool_size}/{row.knee} {_mark(checks['pool'])}"
    seconds = f"{row.adaptive_s:.1f}/{row.grid_s:.1f} s"
    shown = math.ceil(row.time_ratio * 100) / 100
    time = f"{seconds} = {shown:.2f} {_mark(checks['time'])}"
    locks = "-"
    if row.locks:
        locks = ", ".join(describe_lock(entry) for entry in row.locks)
    if row.lock_verdict is not None and row.lock_verdict != "not measured":
        locks += f" ({row.lock_verdict})"
    return [
        row.workload,
        row.kind or "-",
        row.recommended or "-",
        row.grid_best or "-",
        ratio,
        grid,
        pool,
        time,
        locks,
    ]


def _mark(passed: bool) -> str:
    return "ok" if passed else "NO"


def print_table(rows: Sequence[Row]) -> None:
    lines = [list(COLUMNS), *(format_row(row) for row in rows)]
    widths = [max(len(cells[i]) for cells in lines) + 2 for i in range(len(COLUMNS))]
    for cells in lines:
        print(
            "".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        )
    for row in rows:
        for retry in row.grid_retries:
            print(f"note: {row.workload}: the grid with {retry} for budget")
        if row.grid_retries and not row.grid_skipped:
            print(
                f"note: {row.workload}: throughputs are from the grid with "
                f"{row.reference_budget_s:.1f} s; the time ratio is the standard grid's"
            )
        if row.grid_skipped:
            print(
                f"note: {row.workload}: the grid skipped {len(row.grid_skipped)} configurations "
                f"for budget ({', '.join(row.grid_skipped)}) even with "
                f"{row.reference_budget_s:.1f} s: it was not exhaustive; raise --grid-seconds"
            )
        if row.adaptive_skipped:
            print(
                f"note: {row.workload}: the adaptive analysis skipped "
                f"{', '.join(row.adaptive_skipped)} for budget"
            )
        for failure in row.grid_failed:
            print(f"note: {row.workload}: grid trial {failure}")


def summary(rows: Sequence[Row], cpus: int) -> dict[str, Any]:
    throughput_rows = [row for row in rows if not row.is_lock_workload]
    lock_rows = [row for row in rows if row.is_lock_workload]

    def passing(check: str) -> int:
        return sum(row.checks()[check] for row in throughput_rows)

    return {
        "throughput_workloads": len(throughput_rows),
        "throughput_ok": passing("throughput"),
        "pool_ok": passing("pool"),
        "time_ok": passing("time"),
        "lock_workloads": len(lock_rows),
        "locks_right": sum(row.lock_verdict == "right" for row in lock_rows),
        "locks_not_measured": sum(row.lock_verdict == "not measured" for row in lock_rows),
        "grid_exhaustive": not any(row.grid_skipped for row in rows),
        "cpus": cpus,
        "min_free_cores": min(
            (
                cores
                for row in rows
                for cores in (row.adaptive_free_cores, row.grid_free_cores)
                if cores is not None
            ),
            default=None,
        ),
    }


def print_summary(totals: dict[str, Any]) -> None:
    n = totals["throughput_workloads"]
    print(
        f"throughput workloads: {totals['throughput_ok']}/{n} at >= {MIN_THROUGHPUT_RATIO} of "
        f"the grid's best, {totals['pool_ok']}/{n} with pool <= {MAX_POOL_OVER_KNEE:g}x knee, "
        f"{totals['time_ok']}/{n} with time <= {MAX_TIME_RATIO} of the grid's"
    )
    if totals["lock_workloads"]:
        print(
            f"lock workloads: advice right for {totals['locks_right']}/"
            f"{totals['lock_workloads']} ({totals['locks_not_measured']} without lock advice)"
        )
    if not totals["grid_exhaustive"]:
        print("warning: the grid skipped configurations for budget (see the notes above)")
    free, cpus = totals["min_free_cores"], totals["cpus"]
    if free is not None and free < BUSY_BELOW * cpus:
        print(
            f"warning: the machine was busy: as few as {free:.1f} of {cpus} cores were free as "
            "an analysis began; the acceptance thresholds assume an idle machine"
        )


def header(report: Report, settings: Settings, configs: int) -> str:
    machine = report.machine
    return (
        f"tunekit accuracy: {machine.cpus} CPUs, Python {machine.python}, {machine.platform}\n"
        f"backends {', '.join(settings.backends)}; max_workers {settings.max_workers}; "
        f"adaptive budget {settings.budget_s:g} s; standard grid budget {GRID_FIXED_S:g} s + "
        f"{configs} configurations x {settings.grid_seconds_per_config:g} s (run again with "
        f"x{GRID_GROWTH:g} if it skipped some); service: {settings.service_limit} requests at "
        f"once, {settings.service_delay_s * 1000:g} ms each"
    )


# --- the command ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--workloads",
        default=",".join(workloads.WORKLOADS),
        help="comma-separated subset of: %(default)s",
    )
    parser.add_argument(
        "--budget", type=float, help="adaptive budget in seconds (default 30; 10 with --quick)"
    )
    parser.add_argument(
        "--grid-seconds",
        type=float,
        help="grid budget per configuration, in seconds (default 1.5; 1.0 with --quick)",
    )
    parser.add_argument(
        "--max-workers", type=int, help="largest pool size (default 32; 4 with --quick)"
    )
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help="comma-separated backends to measure (default: %(default)s)",
    )
    parser.add_argument(
        "--probe",
        action="append",
        dest="probes",
        help=f"run only this probe in both analyses (repeatable; default: {', '.join(PROBES)})",
    )
    parser.add_argument("--quick", action="store_true", help="small budgets: a smoke run")
    parser.add_argument("--json", type=Path, help="also write the table as JSON to this file")
    parser.add_argument(
        "--reports",
        type=Path,
        help="save every analysis's report in this folder (WORKLOAD.adaptive.json, ...)",
    )
    options = parser.parse_args(argv)
    chosen = [name.strip() for name in options.workloads.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in workloads.WORKLOADS]
    if unknown or not chosen:
        parser.error(f"unknown workload {unknown[0] if unknown else '(none)'!r}")
    options.workloads = chosen
    if options.json is not None and not options.json.parent.is_dir():
        parser.error(f"--json: no folder {options.json.parent}")
    if options.reports is not None:
        options.reports.mkdir(parents=True, exist_ok=True)
    options.backends = [name.strip() for name in options.backends.split(",") if name.strip()]
    registered = collect_backends(get_plugin_manager())
    missing = [name for name in options.backends if name not in registered]
    if missing or not options.backends:
        parser.error(f"unknown backend {missing[0] if missing else '(none)'!r}")
    return options


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    quick = options.quick
    settings = Settings(
        budget_s=options.budget or (10.0 if quick else 30.0),
        grid_seconds_per_config=options.grid_seconds or (1.0 if quick else 1.5),
        max_workers=options.max_workers or (4 if quick else 32),
        backends=options.backends,
        probes=options.probes or list(PROBES),
        reports=str(options.reports) if options.reports is not None else None,
    )
    _, configs = grid_budget(settings)
    rows: list[Row] = []
    first: Report | None = None
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with running_service(settings.service_limit, settings.service_delay_s) as port:
            os.environ[workloads.PORT_ENV] = str(port)  # trial processes inherit it
            for number, workload in enumerate(options.workloads, start=1):
                label = f"[{number}/{len(options.workloads)}] {workload}"
                # Odd workloads run the adaptive analysis first, even ones the grid.
                row, report = measure(label, workload, number % 2 == 1, settings)
                rows.append(row)
                first = first or report
    except (KeyboardInterrupt, Terminated) as exc:
        print("interrupted: the workloads finished so far:", file=sys.stderr)
        if rows:
            print_table(rows)
        return 143 if isinstance(exc, Terminated) else 130
    except (RuntimeError, TunekitError) as exc:  # the service did not start, a bad target
        print(f"accuracy: error: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
        os.environ.pop(workloads.PORT_ENV, None)
    assert first is not None
    print(header(first, settings, configs))
    print_table(rows)
    totals = summary(rows, first.machine.cpus)
    print_summary(totals)
    if options.json is not None:
        document = {
            "settings": {**asdict(settings), "configs": configs},
            "machine": asdict(first.machine),
            "rows": [row.to_dict() for row in rows],
            "summary": totals,
        }
        options.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
