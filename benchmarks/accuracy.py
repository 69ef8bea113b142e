"""Accuracy of tunekit's adaptive analysis against an exhaustive grid, on the shapes users bring.

For each workload of ``benchmarks/workloads.py`` (each docstring says what the right answer is
and why), one run measures, in the same run and in alternating order (the adaptive analysis
first for every other workload, and the other way round in the next run):

- the adaptive analysis, as a user runs it: the default budget (30 s), every built-in backend,
  and ``--max-workers`` the largest pool of the workload's grid, except for the wide service,
  which gets none: the engine's default (16 today, a limit derived from the machine soon);
- the reference grid (``reference.py``): every configuration of the workload's plan
  (``suite.py``, printed in the header) in 2 interleaved rounds, by pool size and then in
  reverse, 3 windows of 0.3 s a trial (one wave a window for calls of seconds); each
  configuration's values from both rounds are merged, and the grid's best is the highest
  median goodput;
- unless the recommendation is the grid's best, both measured again side by side,
  alternating (3 rounds; 2 for calls of seconds).

Everything is ranked and scored by goodput, successful calls per second (``goodput.py``).
Printed per run, then for each workload's worst run (lowest goodput ratio) with its stability
across runs: the recommendation (``+``: growth stopped while still gaining), the grid's best,
the goodput ratio (side by side), the grid's own ratio, pool size / the grid's knee, the error
rate of the recommended configuration, the analysis's time against its budget, whether its
report is sane, and lock advice for the lock workloads (``LOCK_ADVICE``). Acceptance
(``scoring.py``, thresholds of the issue): every throughput workload at >= 0.90 of the grid's
best goodput and their geometric mean >= 0.95; no recommended configuration failing more than
5% of its calls where one without errors reaches 0.9 of its goodput; every analysis within
1.1x its budget; no report with CPU/wall above its workers or the CPUs, or a core-bound
speed-up above the free cores, beyond the noise; and the same model family (the event loops are
one) with pool sizes within 2x in every run, or "no clear winner" naming the same set.

The loopback services (``service.py``) are started afresh for each run, one process each, and
stopped and reaped at its end: runs are independent repetitions, so that the stability column
judges the engine and not a service's state; starting them costs about a second.

    python benchmarks/accuracy.py [--runs 3] [--workloads cpu_bound,tiny] [--quick]
                                  [--budget 30] [--max-workers N] [--grid-window 0.3]
                                  [--grid-rounds 2] [--backends ...] [--probe NAME ...]
                                  [--json PATH] [--reports DIR]

Time, on a 2-core machine, from the grid sizes: the grids hold 153 configurations of short
calls (about 1.2 s a trial: start-up, warm-up, 3 x 0.3 s windows; more for pools of 32-64
processes), 380 s for 2 rounds; the calls of seconds cost 7 calls a trial at or below the
service's width (a warm-up wave, 2 lead-in waves, 3 windows, a wave of wind-down), 21 s a
round for ``cpu_long``, 42 s for ``blocking_long``, 70 s for ``async_long``: 266 s for 2 rounds.
The 19 adaptive analyses take at most 19 x 33 s = 627 s, the side-by-side measurements at most
260 s (about 10 s for a short call, 14-56 s for the long ones), calibrations 10 s: at most
about 26 minutes a run, 77 minutes for the default 3 runs. Smoke runs on the shared machine
(0.4-1.2 free cores) took what was planned for the waits (blocking_long's grid: 64 s for 4 of
its 5 configurations) and up to twice that for computing calls (cpu_long's: 85 s, 46 s
planned). ``--quick`` (10 s budgets, pools up to 4, 0.1 s windows) takes about 30-50 s a
workload and run, 75-105 s for the calls of seconds. The total wall time is printed.
``--reports DIR`` keeps every analysis's report and every grid (``WORKLOAD.adaptive.run1.json``,
``WORKLOAD.grid.run1.json``).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from time import perf_counter
from types import FrameType
from typing import Any

import workloads  # benchmarks/ is on sys.path when this script runs
from comparison import compare, plan_covers
from scoring import Row, judge
from service import running_services
from suite import BUILT_IN, Settings, plan_for
from tables import print_run, print_worst

from tunekit.engine.machine import describe_machine
from tunekit.errors import Terminated, TunekitError
from tunekit.models import Machine, Report
from tunekit.plugins import collect_backends, get_plugin_manager

WORKLOADS_FILE = Path(workloads.__file__).resolve()
#: The built-in probes: installed plugins' probes are left out unless --probe names them.
PROBES = ("nature", "pyinstrument", "memray", "locks")
#: Lock workloads: the module-level name of their lock and the advice words that are right.
LOCK_ADVICE = {
    "coarse_lock": ("_COARSE_LOCK", ("shrink", "split")),
    "fine_lock": ("_FINE_LOCK", ("merge",)),
    # benchmarks/lock_workloads.py (re-exported by workloads.py)
    "semaphore_bound": ("_PERMITS", ("limit",)),
    "producer_consumer": ("_JOBS", ("grow-consumers",)),
    "condition_hand_off": ("_READY", ("notify-one",)),
    "read_mostly": ("_TABLE_LOCK", ("read-write",)),
}


# --- lock advice ---------------------------------------------------------------------------


#: The files whose module-level primitives the lock workloads use.
LOCK_FILES = (WORKLOADS_FILE, WORKLOADS_FILE.with_name("lock_workloads.py"))


def lock_lines(name: str) -> set[str]:
    """``file.py:LINE`` of the lines of the workload files that create the module-level
    primitive ``name`` or enter it in a ``with`` statement: lock advice is right on either
    (every advice names the creation line)."""
    lines: set[str] = set()
    for path in LOCK_FILES:
        tree = ast.parse(path.read_text(), str(path))
        created = {
            node.lineno
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            and any(
                isinstance(target, ast.Name) and target.id == name
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            )
        }
        entered = {
            node.lineno
            for node in ast.walk(tree)
            if created
            and isinstance(node, ast.With)
            and any(
                isinstance(item.context_expr, ast.Name) and item.context_expr.id == name
                for item in node.items
            )
        }
        lines |= {f"{path.name}:{line}" for line in created | entered}
    if not lines:
        raise LookupError(f"no workload file has a module-level {name} = ...")
    return lines


def lock_verdict(entries: Sequence[dict[str, Any]], lines: set[str], words: Sequence[str]) -> str:
    """Whether the lock advice is right: "right" if an entry names ``file.py:LINE`` (or has
    a ``line`` field and names the file) for one of ``lines`` and its advice holds one of
    ``words``; "not measured" without entries; else "wrong"."""
    if not entries:
        return "not measured"
    for entry in entries:
        text = json.dumps(entry)
        at_line = any(line in text for line in lines) or any(
            line == f"{line.partition(':')[0]}:{entry.get('line')}"
            and line.partition(":")[0] in text
            for line in lines
        )
        advice = _advice(entry)
        said = (advice if isinstance(advice, str) else text).lower()
        if at_line and any(word in said for word in words):
            return "right"
    return "wrong"


def _advice(entry: dict[str, Any]) -> Any:
    return entry.get("advice", entry.get("action"))


# --- the runs ------------------------------------------------------------------------------


def target(workload: str) -> str:
    return f"{WORKLOADS_FILE}:{workload}"


def run_suite(
    number: int, runs: int, chosen: Sequence[str], settings: Settings, rows: list[Row]
) -> Report | None:
    """One run of every workload in ``chosen``, with fresh services; appends to ``rows`` as
    each finishes (so that an interrupted run keeps them). The first adaptive report."""
    first: Report | None = None
    services = [name for workload in chosen for name in plan_for(workload).services]
    with running_services(services):
        for index, workload in enumerate(chosen, start=1):
            label = f"[run {number}/{runs}] [{index}/{len(chosen)}] {workload}"
            # Every other workload runs the adaptive analysis first, the other way each run.
            adaptive_first = (index + number) % 2 == 0
            row, report = compare(
                workload,
                target(workload),
                plan_for(workload),
                settings,
                number,
                adaptive_first,
                label,
            )
            row.lock_workload = workload in LOCK_ADVICE
            if workload in LOCK_ADVICE:
                name, words = LOCK_ADVICE[workload]
                row.lock_verdict = lock_verdict(row.locks, lock_lines(name), words)
            rows.append(row)
            first = first or report
    return first


def header(machine: Machine, settings: Settings, chosen: Sequence[str], runs: int) -> str:
    lines = [
        f"tunekit accuracy: {machine.cpus} CPUs, Python {machine.python}, {machine.platform}",
        f"{runs} run(s); adaptive: budget {settings.budget_s:g} s, backends "
        f"{', '.join(settings.backends)}; grid: {settings.rounds} interleaved rounds, "
        f"{settings.window_s:g} s windows; ranked by goodput",
        "grids (adaptive max-workers):",
    ]
    for workload in chosen:
        plan = plan_for(workload)
        cap = settings.adaptive_max_workers(plan)
        services = [
            f"{name} service {workloads.SERVICES[name].limit} at once, "
            f"{workloads.SERVICES[name].delay_s * 1000:g} ms, {workloads.SERVICES[name].policy}"
            for name in plan.services
        ]
        lines.append(
            f"  {workload}: {plan_covers(settings, plan)} "
            f"({'default' if cap is None else cap})" + "".join(f"; {s}" for s in services)
        )
    return "\n".join(lines)


def document(
    settings: Settings,
    machine: Machine,
    chosen: Sequence[str],
    by_run: Sequence[Sequence[Row]],
    passed: bool,
    wall_s: float,
) -> dict[str, Any]:
    """Everything printed, as JSON."""
    return {
        "settings": dataclasses.asdict(settings),
        "machine": dataclasses.asdict(machine),
        "grids": {w: plan_covers(settings, plan_for(w)) for w in chosen},
        "runs": [[row.to_dict() for row in rows] for rows in by_run],
        "worst": [j.to_dict() for j in judge([row for rows in by_run for row in rows])],
        "acceptance": passed,
        "wall_s": wall_s,
    }


# --- the command ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--workloads",
        default=",".join(workloads.WORKLOADS),
        help="comma-separated subset of: %(default)s",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of the suite (default 3)")
    parser.add_argument(
        "--budget", type=float, help="adaptive budget in seconds (default 30; 10 with --quick)"
    )
    parser.add_argument(
        "--grid-window",
        type=float,
        help="seconds of each measured window of a grid trial (default 0.3; 0.1 with --quick)",
    )
    parser.add_argument(
        "--grid-rounds", type=int, default=2, help="interleaved grid rounds (default 2)"
    )
    parser.add_argument(
        "--max-workers",
        type=int,
        help="cap every grid and adaptive analysis at this pool size (default: each "
        "workload's plan; 4 with --quick)",
    )
    parser.add_argument(
        "--backends",
        default=",".join(BUILT_IN),
        help="comma-separated backends to measure (default: %(default)s)",
    )
    parser.add_argument(
        "--probe",
        action="append",
        dest="probes",
        help=f"run only this probe in the analyses (repeatable; default: {', '.join(PROBES)})",
    )
    parser.add_argument("--quick", action="store_true", help="small budgets: a smoke run")
    parser.add_argument("--json", type=Path, help="also write the tables as JSON to this file")
    parser.add_argument(
        "--reports",
        type=Path,
        help="save every analysis's report and every grid in this folder",
    )
    options = parser.parse_args(argv)
    chosen = [name.strip() for name in options.workloads.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in workloads.WORKLOADS]
    if unknown or not chosen:
        parser.error(f"unknown workload {unknown[0] if unknown else '(none)'!r}")
    options.workloads = list(dict.fromkeys(chosen))
    for name, least in (("runs", 1), ("grid_rounds", 2), ("max_workers", 1)):
        value = getattr(options, name)
        if value is not None and value < least:
            parser.error(f"--{name.replace('_', '-')} must be at least {least}, not {value}")
    for name in ("budget", "grid_window"):
        value = getattr(options, name)
        if value is not None and not value > 0:
            parser.error(f"--{name.replace('_', '-')} must be positive, not {value}")
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
        window_s=options.grid_window or (0.1 if quick else 0.3),
        rounds=options.grid_rounds,
        backends=options.backends,
        probes=options.probes or list(PROBES),
        max_workers=options.max_workers,
        quick=quick,
        reports=str(options.reports) if options.reports is not None else None,
    )
    chosen, runs = options.workloads, options.runs
    started = perf_counter()
    by_run: list[list[Row]] = []
    first: Report | None = None
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        for number in range(1, runs + 1):
            by_run.append([])
            first = run_suite(number, runs, chosen, settings, by_run[-1]) or first
    except (KeyboardInterrupt, Terminated) as exc:
        print("interrupted: the workloads finished so far:", file=sys.stderr)
        for rows in by_run:
            if rows:
                print_run(rows)
        return 143 if isinstance(exc, Terminated) else 130
    except (RuntimeError, TunekitError) as exc:  # a service did not start
        print(f"accuracy: error: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    machine = first.machine if first is not None else describe_machine()
    print(header(machine, settings, chosen, runs))
    for number, rows in enumerate(by_run, start=1):
        print(f"\nrun {number}/{runs}")
        print_run(rows)
    print(f"\neach workload's worst run (lowest goodput ratio) of {runs}")
    passed = print_worst(judge([row for rows in by_run for row in rows]))
    wall_s = perf_counter() - started
    print(f"total wall time: {wall_s / 60:.1f} min ({wall_s:.0f} s)")
    if options.json is not None:
        data = document(settings, machine, chosen, by_run, passed, wall_s)
        options.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
