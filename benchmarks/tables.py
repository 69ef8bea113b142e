"""What the benchmark prints: a table per run, the worst-run table, notes and acceptance.

Ratios are rounded down (0.899 shows as 0.89, not 0.90) so that a number never looks as if it
passed a threshold it missed; each judged cell carries ``ok`` or ``NO``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scoring import (
    MAX_ERROR_RATE,
    MAX_OVER_BUDGET,
    MIN_GEOMETRIC_MEAN,
    MIN_GOODPUT_RATIO,
    Judged,
    Row,
    geometric_mean,
)

from tunekit.engine.machine import BUSY_BELOW

RUN_COLUMNS = (
    "workload",
    "kind",
    "recommended",
    "grid best",
    "goodput",
    "grid",
    "pool/knee",
    "errors",
    "time",
    "sanity",
    "locks",
)
WORST_COLUMNS = (*RUN_COLUMNS[:1], "run", *RUN_COLUMNS[1:-1], "stability", RUN_COLUMNS[-1])


def mark(passed: bool | None) -> str:
    return "-" if passed is None else "ok" if passed else "NO"


def _floor(value: float) -> str:
    return f"{math.floor(value * 100) / 100:.2f}"


def cells(row: Row, judged: Judged | None = None) -> dict[str, str]:
    """The cells of one row, by column; errors, time and sanity judged over every run of
    ``judged`` when given (``NO (run 2)``)."""
    checks = row.checks()
    if judged is not None:
        checks.update({c: not judged.failing_runs(c) for c in ("errors", "budget", "sanity")})
    goodput = "-"
    if row.goodput_ratio is not None:
        goodput = f"{_floor(row.goodput_ratio)} {mark(checks['goodput'])}"
    errors = "-"
    if row.error_rate is not None:
        errors = f"{row.error_rate * 100:.1f}%"
        if row.error_rate > MAX_ERROR_RATE:
            errors += f" {mark(checks['errors'])}"
    locks = ", ".join(describe_lock(entry) for entry in row.locks) or "-"
    if row.lock_verdict is not None and row.lock_verdict != "not measured":
        locks += f" ({row.lock_verdict})"
    return {
        "workload": row.workload,
        "run": str(row.run),
        "kind": row.kind or "-",
        "recommended": (row.recommended or "-") + ("+" if row.still_scaling else ""),
        "grid best": row.grid_best or "-",
        "goodput": goodput,
        "grid": "-" if row.grid_ratio is None else _floor(row.grid_ratio),
        "pool/knee": "-" if row.pool_size is None else f"{row.pool_size}/{row.knee or '-'}",
        "errors": errors,
        "time": f"{row.adaptive_s:.1f}/{row.budget_s:g} s {mark(checks['budget'])}",
        "sanity": mark(checks["sanity"]),
        "locks": locks,
    }


def describe_lock(entry: dict[str, Any]) -> str:
    """``advice@file:line`` when the entry has such fields, else its JSON."""
    advice = entry.get("advice", entry.get("action"))
    site = entry.get("site", entry.get("location"))
    if advice is None and site is None:
        return json.dumps(entry, separators=(",", ":"))
    if isinstance(site, str):
        site = Path(site).name
    return f"{advice or '?'}@{site or '?'}"


def print_table(columns: Sequence[str], lines: Sequence[dict[str, str]]) -> None:
    rows = [list(columns), *([line[c] for c in columns] for line in lines)]
    widths = [max(len(cells[i]) for cells in rows) + 2 for i in range(len(columns))]
    for cells_ in rows:
        print("".join(c.ljust(w) for c, w in zip(cells_, widths, strict=True)).rstrip())


def print_run(rows: Sequence[Row]) -> None:
    """One run's table, its notes and its summary."""
    print_table(RUN_COLUMNS, [cells(row) for row in rows])
    for row in rows:
        for note in notes(row):
            print(f"note: {row.workload}: {note}")
    print_summary(rows)


def notes(row: Row) -> list[str]:
    """What the table cannot show of one row."""
    said = []
    if row.adaptive_failure:
        said.append(f"the adaptive analysis failed: {row.adaptive_failure}")
    if row.grid_failure:
        said.append(f"the grid measured nothing: {row.grid_failure}")
    said += [f"grid: {failed}" for failed in row.grid_failed]
    if row.adaptive_skipped:
        said.append(f"the adaptive analysis skipped {', '.join(row.adaptive_skipped)} for budget")
    said += [f"report: {problem}" for problem in row.sanity]
    if row.tied:
        others = [key for key in row.tied if key != row.recommended]
        said.append(f"no clear winner: {row.recommended} tied with {', '.join(others)}")
    if row.still_scaling:
        said.append(f"{row.recommended}: growth stopped while still gaining")
    if row.checks()["errors"] is False:
        said.append(
            f"{row.recommended} fails {row.error_rate or 0:.0%} of its calls; "
            f"{row.clean_alternative} has no error at >= 0.9 of its goodput"
        )
    return said


def print_summary(rows: Sequence[Row]) -> None:
    throughput = [row for row in rows if not row.lock_workload]
    if throughput:
        passing = sum(row.checks()["goodput"] is True for row in throughput)
        mean = geometric_mean(throughput)
        shown = "-" if mean is None else _floor(mean)
        print(
            f"throughput workloads: {passing}/{len(throughput)} at >= {MIN_GOODPUT_RATIO} of the "
            f"grid's best goodput; geometric mean {shown} "
            f"{mark(mean is not None and mean >= MIN_GEOMETRIC_MEAN)}"
        )
    counts = {c: sum(row.checks()[c] is True for row in rows) for c in ("errors", "budget")}
    print(
        f"errors ok {counts['errors']}/{len(rows)}; within {MAX_OVER_BUDGET}x budget "
        f"{counts['budget']}/{len(rows)}; sane reports "
        f"{sum(row.checks()['sanity'] is True for row in rows)}/{len(rows)}"
    )
    locks = [row for row in rows if row.lock_workload]
    if locks:
        right = sum(row.lock_verdict == "right" for row in locks)
        missing = sum(row.lock_verdict == "not measured" for row in locks)
        print(f"lock workloads: advice right for {right}/{len(locks)} ({missing} without)")
    cores = [(row.free_cores, row.cpus) for row in rows if row.free_cores and row.cpus]
    busy = [(free, cpus) for free, cpus in cores if free < BUSY_BELOW * cpus]
    if busy:
        free, cpus = min(busy)
        print(
            f"warning: the machine was busy: as few as {free:.1f} of {cpus} cores were free as "
            "an analysis began; the acceptance thresholds assume an idle machine"
        )


def worst_cells(judged: Judged) -> dict[str, str]:
    """The worst run's cells; errors, time and sanity as judged over every run."""
    line = cells(judged.worst, judged)
    for check, column in (("errors", "errors"), ("budget", "time"), ("sanity", "sanity")):
        failing = judged.failing_runs(check)
        if failing and len(judged.runs) > 1:
            line[column] += f" (run {', '.join(map(str, failing))})"
    line["stability"] = (
        "-" if judged.stable is None else f"{mark(judged.stable)} {judged.stability}"
    )
    return line


def print_worst(judged: Sequence[Judged]) -> bool:
    """The worst-run table and the acceptance over every run; whether all of it passed."""
    print_table(WORST_COLUMNS, [worst_cells(j) for j in judged])
    worst = [j.worst for j in judged]
    throughput = [j for j in judged if not j.worst.lock_workload]
    mean = geometric_mean([j.worst for j in throughput])
    failed = []
    for check in ("goodput", "errors", "budget", "sanity", "stability"):
        failing = [j.worst.workload for j in judged if j.checks()[check] is False]
        if failing:
            failed.append(f"{check} ({', '.join(failing)})")
    if throughput and (mean is None or mean < MIN_GEOMETRIC_MEAN):
        failed.append(f"geometric mean {'-' if mean is None else _floor(mean)}")
    print_summary(worst)
    unjudged = all(j.stable is None for j in judged)
    print(
        "stability: "
        + ("- (one run)" if unjudged else f"{sum(j.stable is True for j in judged)}/{len(judged)}")
    )
    print("acceptance: " + ("PASS" if not failed else "FAIL: " + "; ".join(failed)))
    return not failed
