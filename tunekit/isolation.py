"""The parent side of isolated trials: one fresh interpreter per request, always reaped.

Every child runs ``python -m tunekit.worker`` in its own session (process group), with a
timeout. Whatever happens (success, crash, hang, Ctrl-C, SIGTERM), the child and everything it
started in its group are killed and reaped before ``run_in_child`` returns or raises.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any, Literal

import psutil

#: How much of a failed child's output is quoted in the trial's reason.
OUTPUT_TAIL_LINES = 3


@dataclass
class ChildOutcome:
    """What came back from one child: its JSON payload, or why there is none."""

    status: Literal["ok", "failed", "timeout"]
    payload: dict[str, Any] | None
    reason: str | None
    elapsed_s: float


def run_in_child(request: dict[str, Any], timeout_s: float) -> ChildOutcome:
    """Run ``request`` in a fresh ``tunekit.worker`` process and return its outcome."""
    with tempfile.TemporaryDirectory(prefix="tunekit-") as tmp:
        request_path = Path(tmp, "request.json")
        result_path = Path(tmp, "result.json")
        output_path = Path(tmp, "output.log")
        request_path.write_text(json.dumps(request))
        started = perf_counter()
        with output_path.open("wb") as output:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tunekit.worker", str(request_path), str(result_path)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                returncode: int | None = proc.wait(timeout=max(timeout_s, 0.1))
            except subprocess.TimeoutExpired:
                returncode = None
            finally:
                kill_process_tree(proc)
        elapsed = perf_counter() - started
        if returncode is None:
            return ChildOutcome(
                "timeout",
                _read(result_path),
                f"no result within the {timeout_s:.1f} s trial timeout",
                elapsed,
            )
        payload = _read(result_path)
        if payload is not None and returncode == 0:
            return ChildOutcome("ok", payload, None, elapsed)
        reason = f"{describe_exit(returncode)}{_tail(output_path)}"
        return ChildOutcome("failed", payload, reason, elapsed)


def kill_process_tree(proc: subprocess.Popen[bytes]) -> None:
    """Kill ``proc``, its process group and its descendants, then reap ``proc``."""
    try:
        descendants = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for child in descendants:
        with contextlib.suppress(psutil.Error):
            child.kill()
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    psutil.wait_procs(descendants, timeout=1)


def describe_exit(returncode: int) -> str:
    """'exit code 3' or 'killed by SIGSEGV' for a child's return code."""
    if returncode < 0:
        try:
            return f"the trial process was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"the trial process was killed by signal {-returncode}"
    return f"the trial process exited with code {returncode} before reporting"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    tail = [line.strip() for line in lines[-OUTPUT_TAIL_LINES:] if line.strip()]
    return f": {' | '.join(tail)}" if tail else ""
