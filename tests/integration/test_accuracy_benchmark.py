"""The accuracy benchmark (``benchmarks/accuracy.py``) runs end to end: a table per run, the
worst-run table with its stability column, the acceptance line, and the same in its JSON."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "benchmarks" / "accuracy.py"
WORST_COLUMNS = [
    "workload",
    "run",
    "kind",
    "recommended",
    "grid best",
    "goodput",
    "grid",
    "pool/knee",
    "errors",
    "time",
    "sanity",
    "stability",
    "locks",
]


def _table(lines: list[str], title: str) -> list[str]:
    """The lines of the table printed under ``title``: its header and its rows."""
    start = lines.index(title) + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("throughput "))
    return [line for line in lines[start:end] if not line.startswith("note:")]


def _columns(header: str, names: list[str]) -> list[int]:
    """Where each column of a left-aligned table starts, found left to right ("grid" comes
    after "grid best")."""
    starts: list[int] = []
    for name in names:
        after = starts[-1] + len(names[len(starts) - 1]) if starts else 0
        starts.append(header.index(name, after))
    return starts


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_quick_runs_print_each_run_and_the_worst(tmp_path: Path) -> None:
    # GIVEN the smallest workload, two quick runs, and a JSON copy of the tables
    json_path = tmp_path / "accuracy.json"
    # WHEN the benchmark runs
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--quick",
            "--runs",
            "2",
            "--workloads",
            "tiny",
            "--json",
            str(json_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=580,
        check=False,
    )
    # THEN it succeeds and says what it measured, in order
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("tunekit accuracy: ")
    assert "  tiny: sequential x1; thread x1-2; process x1-2; asyncio x1-2 (2)" in lines
    titles = ["run 1/2", "run 2/2", "each workload's worst run (lowest goodput ratio) of 2"]
    assert [line for line in lines if line in titles] == titles
    assert lines[-1].startswith("total wall time: ")
    assert lines[-2] == "acceptance: PASS" or lines[-2].startswith("acceptance: FAIL: ")
    # AND each run's table holds one row for the workload
    document = json.loads(json_path.read_text())
    ratios = []
    for number, title in enumerate(titles[:2], start=1):
        header, *rows = _table(lines, title)
        assert header.split()[:3] == ["workload", "kind", "recommended"]
        assert [row.split()[0] for row in rows] == ["tiny"]
        (row,) = document["runs"][number - 1]
        assert (row["workload"], row["run"]) == ("tiny", number)
        ratios.append(row["goodput_ratio"])
    # AND the worst-run table names the run of lowest goodput ratio (the first of equals)
    header, worst_row = _table(lines, titles[2])
    starts = _columns(header, WORST_COLUMNS)
    cells = [worst_row[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
    assert dict(zip(WORST_COLUMNS, cells, strict=True))["workload"] == "tiny"
    known = [-math.inf if r is None else r for r in ratios]
    expected_run = known.index(min(known)) + 1
    assert cells[1] == str(expected_run)
    (worst,) = document["worst"]
    assert worst["run"] == expected_run
    # AND with two runs, stability is judged, in the table as in the JSON
    assert worst["stable"] in (True, False)
    assert cells[WORST_COLUMNS.index("stability")].split()[0] == ("ok" if worst["stable"] else "NO")
    assert document["acceptance"] == (lines[-2] == "acceptance: PASS")


def test_an_unknown_workload_is_a_usage_error() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--workloads", "tiny,nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1].endswith("error: unknown workload 'nope'")
    assert proc.stdout == ""


GRID_OF_ONE = """
import sys
sys.path.insert(0, "benchmarks")
from reference import measure_grid
from tunekit.target import TargetSpec

grid = measure_grid(
    TargetSpec("benchmarks/lock_workloads.py:producer_consumer"), {"process": [1]}, 1, 0.1, print
)
trial = grid.configs[0].trials[0]
print("trial:", trial.status, trial.reason)
"""


@pytest.mark.timeout(120)
def test_the_grid_does_not_call_the_target_before_its_pool_forks() -> None:
    # GIVEN a workload whose first call starts the consumer thread its later calls need, in
    # the process that made it: a call in a trial's parent would leave every forked worker
    # believing its consumer runs, and its queue full
    # WHEN the reference grid measures it on one process (the calibration checked the backend)
    proc = subprocess.run(
        [sys.executable, "-c", GRID_OF_ONE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    # THEN the trial is measured, not timed out
    assert proc.returncode == 0, proc.stderr
    assert "trial: ok None" in proc.stdout.splitlines(), proc.stdout
