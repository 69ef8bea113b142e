"""The lock advice on every lock workload, as a user gets it: one whole analysis each (the
nature and locks probes, thread and process pools), and the advice table.

For each workload of ``accuracy.LOCK_ADVICE`` (``workloads.py`` and ``lock_workloads.py``),
prints the recommended model and pool, the workload's kind, and for the primitive the workload
is about (found by its line, as the accuracy benchmark judges it): the advice, whether it is
the right one, and its reason; then the probe's estimated overhead share of the run's CPU.

    python benchmarks/lock_advice.py [--budget 20] [--workloads semaphore_bound,...]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import accuracy  # benchmarks/ is on sys.path when this script runs
from accuracy import LOCK_ADVICE, lock_lines, lock_verdict, target

import tunekit


def advice_row(workload: str, budget: float, backends: Sequence[str]) -> dict[str, Any]:
    """One analysis of ``workload``: its recommendation, and the advice on its primitive."""
    report = tunekit.analyze(
        target(workload), backends=list(backends), budget=budget, probes=["nature", "locks"]
    )
    name, words = LOCK_ADVICE[workload]
    lines = lock_lines(name)
    entries = [
        entry
        for entry in report.recommendation.locks
        if any(line in entry["reason"] for line in lines)
    ]
    run = next((p for p in report.probes if p.name == "locks"), None)
    overhead = (run.data or {}).get("lock_overhead", {}) if run is not None else {}
    return {
        "workload": workload,
        "model": f"{report.recommendation.model} x{report.recommendation.pool_size}",
        "kind": report.workload.kind,
        "expected": "/".join(words),
        "entry": entries[0] if entries else None,
        "verdict": lock_verdict(entries, lines, words),
        "callers": (run.data or {}).get("threads") if run is not None else None,
        "overhead": overhead.get("estimated_share"),
    }


def print_table(rows: Sequence[dict[str, Any]]) -> None:
    """The advice table, then each reason in full."""
    header = ("workload", "recommended", "kind", "callers", "expected", "advice", "verdict")
    table = [header] + [
        (
            row["workload"],
            row["model"],
            str(row["kind"]),
            str(row["callers"]),
            row["expected"],
            row["entry"]["advice"] if row["entry"] else "-",
            row["verdict"],
        )
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in table) for i in range(len(header))]
    for cells in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)))
    print()
    for row in rows:
        share = row["overhead"]
        cost = f"{share:.1%} of the run's CPU" if share is not None else "not measured"
        print(f"{row['workload']} (probe overhead {cost}):")
        print(f"  {row['entry']['reason'] if row['entry'] else 'no advice on its primitive'}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per analysis")
    parser.add_argument("--backends", default="thread,process")
    parser.add_argument("--workloads", default=",".join(LOCK_ADVICE))
    args = parser.parse_args(argv)
    chosen = [name for name in args.workloads.split(",") if name]
    unknown = [name for name in chosen if name not in LOCK_ADVICE]
    if unknown:
        print(f"unknown lock workload {unknown[0]!r}; known: {', '.join(LOCK_ADVICE)}")
        return 2
    print(f"lock advice, {args.budget:g} s per analysis, backends {args.backends}")
    print(f"workloads from {accuracy.WORKLOADS_FILE.parent}/")
    print()
    rows = [advice_row(name, args.budget, args.backends.split(",")) for name in chosen]
    print_table(rows)
    return 0 if all(row["verdict"] == "right" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
