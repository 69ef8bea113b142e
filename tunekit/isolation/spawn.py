"""The parent side of isolated children: one fresh process per request, always reaped.

Every child runs ``tunekit.isolation.worker`` in its own session (process group), with a
timeout: forked from the zygote of ``fork_server()`` (``tunekit.isolation.forkserver``) when one
is running, else as a new ``python -m tunekit.isolation.worker``. Whatever happens (success,
crash, hang, Ctrl-C, SIGTERM), the child and everything it started in its group are killed and
reaped before ``run_in_child`` returns or raises.
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
from typing import Any, Literal, Protocol

import psutil

from tunekit.isolation.forkserver import ForkedChild, running_zygote
from tunekit.isolation.protocol import ChildError, Request, decode_answer, encode_request
from tunekit.units import format_bytes

#: How much of a failed child's output is quoted in the trial's reason.
OUTPUT_TAIL_LINES = 3
#: How often a child's memory is checked against the limit. Each check reads /proc for the
#: child's process tree (well under 1 ms), so the parent takes <1% of a core from the trial.
MEMORY_POLL_S = 0.1


@dataclass
class ChildOutcome:
    """What came back from one child: its reply or error, or why there is neither."""

    status: Literal["ok", "failed", "timeout", "memory"]
    #: The reply, of the class the request names (``request.reply``), when the child sent one.
    reply: Any
    #: The ``TunekitError`` the child raised, if it did (status is then "ok": it ran to the end).
    error: ChildError | None
    reason: str | None
    elapsed_s: float


def run_in_child(
    request: Request,
    timeout_s: float,
    memory_limit_bytes: int | None = None,
    python: str | None = None,
) -> ChildOutcome:
    """Run ``request`` in a fresh ``tunekit.isolation.worker`` process and return its outcome.

    The child is stopped at ``timeout_s``, or as soon as its process tree's resident memory
    exceeds ``memory_limit_bytes`` (checked every ``MEMORY_POLL_S``). ``python``: the
    interpreter to run it with (``--python``; never forked from the zygote, which runs this
    one), None for this one.
    """
    with tempfile.TemporaryDirectory(prefix="tunekit-") as tmp:
        request_path = Path(tmp, "request.json")
        result_path = Path(tmp, "result.json")
        output_path = Path(tmp, "output.log")
        request_path.write_text(json.dumps(encode_request(request)))
        started = perf_counter()
        proc = _start(request_path, result_path, output_path, python)
        try:
            returncode, peak = _wait(proc, started + max(timeout_s, 0.1), memory_limit_bytes)
        finally:
            try:
                kill_process_tree(proc)
            finally:
                if isinstance(proc, ForkedChild):
                    proc.release()
        if isinstance(proc, ForkedChild) and proc.lost:  # the zygote died under it
            return run_in_child(request, timeout_s, memory_limit_bytes, python)  # now a fresh one
        elapsed = perf_counter() - started
        payload = _read(result_path)
        answer = decode_answer(request, payload)
        if peak is not None:
            limit = format_bytes(memory_limit_bytes or 0)
            reason = f"stopped: its processes used {format_bytes(peak)}, over the {limit} limit"
            return ChildOutcome("memory", answer.reply, answer.error, reason, elapsed)
        if returncode is None:
            reason = f"no result within the {timeout_s:.1f} s trial timeout"
            return ChildOutcome("timeout", answer.reply, answer.error, reason, elapsed)
        if payload is not None and returncode == 0:
            return ChildOutcome("ok", answer.reply, answer.error, None, elapsed)
        reason = f"{describe_exit(returncode)}{_tail(output_path)}"
        return ChildOutcome("failed", answer.reply, answer.error, reason, elapsed)


class Child(Protocol):
    """What the parent needs of a child process: ``subprocess.Popen`` or a ``ForkedChild``."""

    pid: int

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def kill(self) -> None: ...


def _start(
    request_path: Path, result_path: Path, output_path: Path, python: str | None = None
) -> Child:
    """Fork the child from the running zygote, or start a fresh interpreter (``python``, or
    this one)."""
    argv = [str(request_path), str(result_path)]
    zygote = running_zygote() if python is None else None
    if zygote is not None:
        child = zygote.fork(argv, output_path)
        if child is not None:
            return child
    with output_path.open("wb") as output:
        return subprocess.Popen(
            [python or sys.executable, "-m", "tunekit.isolation.worker", *argv],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait(
    proc: Child, deadline: float, memory_limit_bytes: int | None
) -> tuple[int | None, int | None]:
    """Wait for ``proc`` until ``deadline``: (return code or None, RSS if over the limit)."""
    while True:
        left = deadline - perf_counter()
        if left <= 0:
            return None, None
        try:
            return proc.wait(timeout=min(left, MEMORY_POLL_S) if memory_limit_bytes else left), None
        except subprocess.TimeoutExpired:
            pass
        if memory_limit_bytes:
            rss = tree_rss_bytes(proc.pid)
            if rss > memory_limit_bytes:
                return None, rss


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (0 if it is gone)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


def kill_process_tree(proc: Child) -> None:
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
