"""One workload in one run: the adaptive analysis, the reference grid, and their ``Row``.

The two are measured one after the other, in the order given (it alternates between
workloads, so drift on the machine favours neither); then, unless the recommendation is the
grid's best, the two configurations are measured again side by side and the goodput ratio is
theirs. The adaptive analysis gets the settings' budget and backends, and ``--max-workers``
as the workload's plan says (none for the wide service: the engine's default).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import traceback
from pathlib import Path
from typing import Any

from goodput import error_rate, goodput_of
from reference import Grid, Measured, Say, measure_grid, side_by_side
from scoring import CLEAN_SHARE, MAX_ERROR_RATE, Row, chosen_trial, sanity_problems
from suite import Plan, Settings

from tunekit.engine import AnalysisConfig, run_analysis
from tunekit.errors import Terminated, TunekitError
from tunekit.models import Report
from tunekit.target import TargetSpec

#: Seconds each window of a side-by-side trial lasts (as before: the grid's windows of the
#: standard grid lasted about that long).
SIDE_BY_SIDE_WINDOW_S = 0.4


def compare(
    workload: str,
    target: str,
    plan: Plan,
    settings: Settings,
    run: int,
    adaptive_first: bool,
    label: str,
) -> tuple[Row, Report | None]:
    """Measure ``workload`` both ways in the order given; its row, and the adaptive report
    (None if the analysis raised: that costs this row, not the run)."""

    def say(text: str) -> None:
        print(f"{label}: {text}", file=sys.stderr)

    adaptive: Report | None = None
    failure: str | None = None
    grid: Grid | None = None
    for step in ("adaptive", "grid") if adaptive_first else ("grid", "adaptive"):
        if step == "adaptive":
            cap = settings.adaptive_max_workers(plan)
            said = "the default max-workers" if cap is None else f"max-workers {cap}"
            say(f"adaptive (budget {settings.budget_s:g} s, {said})")
            try:
                adaptive = analyze(target, settings, cap)
            except TunekitError as exc:  # the target cannot be analyzed (it fails to import)
                failure = f"{type(exc).__name__}: {exc}"
            except (KeyboardInterrupt, Terminated):
                raise
            except Exception as exc:  # a defect of tunekit: it fails this row, not the run
                traceback.print_exc()
                failure = f"tunekit raised {type(exc).__name__}: {exc}"
        else:
            grid = measure_grid(
                TargetSpec(target), settings.grid(plan), settings.rounds, settings.window_s, say
            )
    assert grid is not None
    if settings.reports is not None:
        folder = Path(settings.reports)
        folder.joinpath(f"{workload}.grid.run{run}.json").write_text(grid_json(grid))
        if adaptive is not None:
            folder.joinpath(f"{workload}.adaptive.run{run}.json").write_text(adaptive.to_json())
    if adaptive is None:
        best = grid.best
        row = Row(workload, run, grid_best=best.key if best else None, knee=grid.knee)
        row.adaptive_failure, row.grid_failure = failure, grid.failure
        row.grid_s, row.budget_s = grid.elapsed_s, settings.budget_s
    else:
        row = score(workload, run, adaptive, grid, target, plan, settings, say)
    row.adaptive_first = adaptive_first
    row.grid_covers = plan_covers(settings, plan)
    return row, adaptive


def analyze(target: str, settings: Settings, max_workers: int | None) -> Report:
    """The adaptive analysis; Ctrl-C or SIGTERM during it stop the whole benchmark."""
    options: dict[str, Any] = {} if max_workers is None else {"max_workers": max_workers}
    config = AnalysisConfig(
        target=target,
        backends=settings.backends,
        budget=settings.budget_s,
        probes=settings.probes,
        sweep="adaptive",
        **options,
    )
    report = run_analysis(config)
    if report.interrupted == "SIGTERM":
        raise Terminated()
    if report.interrupted is not None:
        raise KeyboardInterrupt
    return report


def score(
    workload: str,
    run: int,
    adaptive: Report,
    grid: Grid,
    target: str,
    plan: Plan,
    settings: Settings,
    say: Say,
) -> Row:
    """The row: the recommendation against the grid, side by side when they differ."""
    rec = adaptive.recommendation
    best = grid.best
    row = Row(
        workload=workload,
        run=run,
        kind=adaptive.workload.kind,
        model=rec.model,
        pool_size=rec.pool_size,
        still_scaling=getattr(rec, "still_scaling", None),
        tied=list(getattr(rec, "tied", None) or []),
        grid_best=best.key if best else None,
        knee=grid.knee,
        adaptive_s=adaptive.elapsed_s or 0.0,
        budget_s=adaptive.budget_s or settings.budget_s,
        grid_s=grid.elapsed_s,
        free_cores=adaptive.machine.capacity_cores,
        cpus=adaptive.machine.cpus,
        grid_failed=[f"{c.key}: {c.failure}" for c in grid.configs if c.failure]
        + [f"{name}: {reason}" for name, reason in grid.unsupported.items()],
        grid_failure=grid.failure,
        adaptive_skipped=[
            t.key
            for t in adaptive.trials
            if t.status == "skipped" and (t.reason or "").startswith("out of budget")
        ],
        sanity=sanity_problems(adaptive),
        locks=[dict(lock) for lock in rec.locks],
    )
    chosen = chosen_trial(adaptive)
    if best is None or best.goodput is None or chosen is None or rec.model is None:
        return row
    measured = grid.find(chosen.backend, chosen.workers)
    if measured is not None and measured.goodput is not None:
        row.grid_ratio = measured.goodput / best.goodput
    mine: Measured | None = measured
    if chosen.key == best.key:
        row.goodput_ratio = 1.0
    else:
        say(f"{chosen.key} against {best.key}, side by side")
        rounds = plan.side_by_side_rounds
        window = settings.window_s if settings.quick else SIDE_BY_SIDE_WINDOW_S
        pairs = [(Measured(chosen.backend, chosen.workers), chosen.throughput or 1.0)]
        pairs.append((best, best.throughput or 1.0))
        mine, theirs = side_by_side(TargetSpec(target), pairs, rounds, window)
        if theirs.goodput:
            row.goodput_ratio = (mine.goodput or 0.0) / theirs.goodput
    row.error_rate = mine.error_rate if mine is not None and mine.trials else error_rate(chosen)
    if row.error_rate > MAX_ERROR_RATE:
        goodput = (mine.goodput if mine is not None else None) or goodput_of(chosen) or 0.0
        clean = grid.clean_alternative(goodput, CLEAN_SHARE)
        row.clean_alternative = None if clean is None else clean.key
    return row


def plan_covers(settings: Settings, plan: Plan) -> str:
    """What the grid measured under these settings, in words."""
    return Plan(settings.grid(plan)).covers()


def grid_json(grid: Grid) -> str:
    """The grid's configurations and every trial, for --reports."""
    document = {
        "rounds": grid.rounds,
        "elapsed_s": grid.elapsed_s,
        "failure": grid.failure,
        "unsupported": grid.unsupported,
        "configs": [
            {
                "key": c.key,
                "goodput": c.goodput,
                "spread": c.spread,
                "error_rate": c.error_rate,
                "values": c.values,
                "trials": [dataclasses.asdict(t) for t in c.trials],
            }
            for c in grid.configs
        ],
    }
    return json.dumps(document, indent=2) + "\n"
