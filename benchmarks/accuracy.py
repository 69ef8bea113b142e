"""Accuracy of tunekit's adaptive sweep against an exhaustive grid, measured side by side.

For each workload of ``benchmarks/workloads.py`` this runs two analyses in the same run, over
the same backends and worker counts: the adaptive sweep (``--budget``) and the grid, every
backend at every size 1, 2, 4... max_workers, with a budget computed to measure all of them.
Their order alternates between workloads (adaptive first for the 1st, 3rd...; grid first for
the 2nd, 4th...), so drift on the machine does not favour one. Printed per workload:

- the recommended configuration and the grid's best;
- throughput ratio: the grid's throughput of the recommended configuration / the grid's best
  (both from the grid run; ``~`` marks a pool size the grid did not measure, interpolated
  linearly between the two grid sizes around it);
- pool size / knee: the knee is the smallest worker count of the grid's best backend within
  5 % of that backend's best throughput;
- time ratio: the adaptive analysis's elapsed time / the grid's;
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

The full run takes about 9 x (30 s + 56.5 s): 13 minutes; --quick about 35 s per workload.
"""

from __future__ import annotations

import argparse
import ast
import json
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import workloads  # benchmarks/ is on sys.path when this script runs

from tunekit.analysis import BUSY_BELOW, AnalysisConfig, run_analysis
from tunekit.errors import Terminated
from tunekit.models import Report, Trial
from tunekit.plugins import collect_backends, get_plugin_manager
from tunekit.recommend import usable
from tunekit.trials import worker_counts

WORKLOADS_FILE = Path(workloads.__file__).resolve()
#: The built-in backends: installed plugins (dask, ...) are left out unless --backends names them.
BACKENDS = ("sequential", "thread", "process", "asyncio", "tornado", "twisted")
#: Acceptance thresholds of issue 4.
MIN_THROUGHPUT_RATIO = 0.95
MAX_POOL_OVER_KNEE = 2.0
MAX_TIME_RATIO = 0.25
#: The knee: smallest worker count within this share of the best backend's best throughput.
KNEE_SHARE = 0.95
#: Grid trials with these statuses are listed under the table.
FAILED = ("failed", "timeout")
#: Seconds of a grid analysis outside its trials: free-core checks, calibration, probes.
GRID_FIXED_S = 10.0
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
    throughput_ratio: float | None
    #: "grid": the grid measured the recommended configuration; "interpolated": between the
    #: grid sizes around it; "missing": the grid has no usable measurement of that backend.
    ratio_source: str
    adaptive_s: float
    grid_s: float
    grid_budget_s: float
    adaptive_first: bool
    #: Free cores (``machine.capacity_cores``) when the adaptive and the grid analyses began.
    adaptive_free_cores: float | None = None
    grid_free_cores: float | None = None
    #: Grid configurations skipped for lack of budget (the grid was then not exhaustive).
    grid_skipped: list[str] = field(default_factory=list)
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
        target=workloads.serve, args=(sender, limit, delay_s), name="loopback-service"
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


def count_configs(backends: Sequence[str], max_workers: int) -> int:
    """Configurations in the grid: every size for backends that scale, size 1 for the rest."""
    registered = collect_backends(get_plugin_manager())
    sizes = len(worker_counts(max_workers))
    return sum(sizes if registered[name].item.scales else 1 for name in backends)


def analyze(workload: str, sweep: str, budget_s: float, settings: Settings) -> Report:
    """One analysis of ``workload``; Ctrl-C or SIGTERM during it stop the whole benchmark."""
    config = AnalysisConfig(
        target=f"{WORKLOADS_FILE}:{workload}",
        backends=settings.backends,
        max_workers=settings.max_workers,
        budget=budget_s,
        probes=settings.probes,
        sweep=sweep,
    )
    report = run_analysis(config)
    if report.interrupted == "SIGTERM":
        raise Terminated()
    if report.interrupted is not None:
        raise KeyboardInterrupt
    return report


def compare(
    workload: str, adaptive: Report, grid: Report, grid_budget_s: float, adaptive_first: bool
) -> Row:
    """The row for one workload, from its adaptive and grid reports."""
    rec = adaptive.recommendation
    measured = [t for t in grid.trials if usable(t)]
    best = max(measured, key=_throughput, default=None)
    knee = None
    if best is not None:
        same = [t for t in measured if t.backend == best.backend]
        knee = min(t.workers for t in same if _throughput(t) >= KNEE_SHARE * _throughput(best))
    ratio, source = None, "missing"
    if best is not None and rec.model is not None and rec.pool_size is not None:
        throughput, source = grid_throughput(measured, rec.model, rec.pool_size)
        if throughput is not None:
            ratio = throughput / _throughput(best)
    row = Row(
        workload=workload,
        kind=adaptive.workload.kind,
        recommended=f"{rec.model} x{rec.pool_size}" if rec.model else None,
        pool_size=rec.pool_size,
        grid_best=best.key if best else None,
        knee=knee,
        throughput_ratio=ratio,
        ratio_source=source,
        adaptive_s=adaptive.elapsed_s or 0.0,
        grid_s=grid.elapsed_s or 0.0,
        grid_budget_s=grid_budget_s,
        adaptive_first=adaptive_first,
        adaptive_free_cores=adaptive.machine.capacity_cores,
        grid_free_cores=grid.machine.capacity_cores,
        grid_skipped=_skipped_for_budget(grid),
        adaptive_skipped=_skipped_for_budget(adaptive),
        grid_failed=[
            f"{t.key}: {t.status} ({t.reason})" for t in grid.trials if t.status in FAILED
        ],
        locks=[dict(lock) for lock in rec.locks],
    )
    if workload in LOCK_ADVICE:
        name, words = LOCK_ADVICE[workload]
        row.lock_verdict = lock_verdict(row.locks, lock_lines(name), words)
    return row


def grid_throughput(
    measured: Sequence[Trial], backend: str, workers: int
) -> tuple[float | None, str]:
    """The grid's throughput of ``backend`` x ``workers``: measured, else interpolated."""
    same = sorted((t for t in measured if t.backend == backend), key=lambda t: t.workers)
    for trial in same:
        if trial.workers == workers:
            return _throughput(trial), "grid"
    below = [t for t in same if t.workers < workers]
    above = [t for t in same if t.workers > workers]
    if not below or not above:
        return None, "missing"
    low, high = below[-1], above[0]
    share = (workers - low.workers) / (high.workers - low.workers)
    return _throughput(low) + share * (_throughput(high) - _throughput(low)), "interpolated"


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
    "pool/knee",
    "time adaptive/grid",
    "locks",
)


def format_row(row: Row) -> list[str]:
    checks = row.checks()
    ratio = "-"
    if row.throughput_ratio is not None:
        approx = "~" if row.ratio_source == "interpolated" else ""
        ratio = f"{approx}{row.throughput_ratio:.2f} {_mark(checks['throughput'])}"
    pool = "-"
    if row.pool_size is not None and row.knee is not None:
        pool = f"{row.pool_size}/{row.knee} {_mark(checks['pool'])}"
    seconds = f"{row.adaptive_s:.1f}/{row.grid_s:.1f} s"
    time = f"{seconds} = {row.time_ratio:.2f} {_mark(checks['time'])}"
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
        if row.grid_skipped:
            print(
                f"note: {row.workload}: the grid skipped {len(row.grid_skipped)} configurations "
                f"for budget ({', '.join(row.grid_skipped)}): it was not exhaustive; "
                "raise --grid-seconds"
            )
        if row.adaptive_skipped:
            print(
                f"note: {row.workload}: the adaptive analysis skipped "
                f"{', '.join(row.adaptive_skipped)} for budget"
            )
        for failure in row.grid_failed:
            print(f"note: {row.workload}: grid trial {failure}")
        if row.ratio_source == "interpolated":
            print(
                f"note: {row.workload}: the grid did not measure {row.recommended}; its "
                "throughput is interpolated between the grid sizes around it"
            )


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


def header(report: Report, settings: Settings, grid_budget_s: float) -> str:
    machine = report.machine
    return (
        f"tunekit accuracy: {machine.cpus} CPUs, Python {machine.python}, {machine.platform}\n"
        f"backends {', '.join(settings.backends)}; max_workers {settings.max_workers}; "
        f"adaptive budget {settings.budget_s:g} s; grid budget {grid_budget_s:g} s "
        f"({settings.grid_seconds_per_config:g} s per configuration + {GRID_FIXED_S:g} s); "
        f"service: {settings.service_limit} requests at once, "
        f"{settings.service_delay_s * 1000:g} ms each"
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
        help="run only this probe in both analyses (repeatable; default: every installed one)",
    )
    parser.add_argument("--quick", action="store_true", help="small budgets: a smoke run")
    parser.add_argument("--json", type=Path, help="also write the table as JSON to this file")
    options = parser.parse_args(argv)
    chosen = [name.strip() for name in options.workloads.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in workloads.WORKLOADS]
    if unknown or not chosen:
        parser.error(f"unknown workload {unknown[0] if unknown else '(none)'!r}")
    options.workloads = chosen
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
        probes=options.probes,
    )
    configs = count_configs(settings.backends, settings.max_workers)
    grid_budget_s = GRID_FIXED_S + configs * settings.grid_seconds_per_config
    rows: list[Row] = []
    first: Report | None = None
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with running_service(settings.service_limit, settings.service_delay_s) as port:
            os.environ[workloads.PORT_ENV] = str(port)  # trial processes inherit it
            for number, workload in enumerate(options.workloads, start=1):
                adaptive_first = number % 2 == 1
                order = ("adaptive", "grid") if adaptive_first else ("grid", "adaptive")
                reports: dict[str, Report] = {}
                for sweep in order:
                    budget = settings.budget_s if sweep == "adaptive" else grid_budget_s
                    print(
                        f"[{number}/{len(options.workloads)}] {workload}: {sweep} "
                        f"(budget {budget:g} s)",
                        file=sys.stderr,
                        flush=True,
                    )
                    reports[sweep] = analyze(workload, sweep, budget, settings)
                    first = first or reports[sweep]
                rows.append(
                    compare(
                        workload,
                        reports["adaptive"],
                        reports["grid"],
                        grid_budget_s,
                        adaptive_first,
                    )
                )
    except (KeyboardInterrupt, Terminated) as exc:
        print("interrupted: the workloads finished so far:", file=sys.stderr)
        if rows:
            print_table(rows)
        return 143 if isinstance(exc, Terminated) else 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        os.environ.pop(workloads.PORT_ENV, None)
    assert first is not None
    print(header(first, settings, grid_budget_s))
    print_table(rows)
    totals = summary(rows, first.machine.cpus)
    print_summary(totals)
    if options.json is not None:
        document = {
            "settings": {**asdict(settings), "grid_budget_s": grid_budget_s, "configs": configs},
            "machine": asdict(first.machine),
            "rows": [row.to_dict() for row in rows],
            "summary": totals,
        }
        options.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
