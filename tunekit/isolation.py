"""The parent side of isolated trials: one fresh process per request, always reaped.

Every child runs ``tunekit.worker`` in its own session (process group), with a timeout: forked
from the zygote of ``fork_server()`` (``tunekit.zygote``) when one is running, else as a new
``python -m tunekit.worker``. Whatever happens (success, crash, hang, Ctrl-C, SIGTERM), the
child and everything it started in its group are killed and reaped before ``run_in_child``
returns or raises.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any, Literal, Protocol

import psutil

from tunekit.units import format_bytes

#: How much of a failed child's output is quoted in the trial's reason.
OUTPUT_TAIL_LINES = 3
#: How often a child's memory is checked against the limit. Each check reads /proc for the
#: child's process tree (well under 1 ms), so the parent takes <1% of a core from the trial.
MEMORY_POLL_S = 0.1


@dataclass
class ChildOutcome:
    """What came back from one child: its JSON payload, or why there is none."""

    status: Literal["ok", "failed", "timeout", "memory"]
    payload: dict[str, Any] | None
    reason: str | None
    elapsed_s: float


def run_in_child(
    request: dict[str, Any], timeout_s: float, memory_limit_bytes: int | None = None
) -> ChildOutcome:
    """Run ``request`` in a fresh ``tunekit.worker`` process and return its outcome.

    The child is stopped at ``timeout_s``, or as soon as its process tree's resident memory
    exceeds ``memory_limit_bytes`` (checked every ``MEMORY_POLL_S``).
    """
    with tempfile.TemporaryDirectory(prefix="tunekit-") as tmp:
        request_path = Path(tmp, "request.json")
        result_path = Path(tmp, "result.json")
        output_path = Path(tmp, "output.log")
        request_path.write_text(json.dumps(request))
        started = perf_counter()
        proc = _start(request_path, result_path, output_path)
        try:
            returncode, peak = _wait(proc, started + max(timeout_s, 0.1), memory_limit_bytes)
        finally:
            try:
                kill_process_tree(proc)
            finally:
                if isinstance(proc, ForkedChild):
                    proc.release()
        if isinstance(proc, ForkedChild) and proc.lost:  # the zygote died under it
            return run_in_child(request, timeout_s, memory_limit_bytes)  # now a fresh one
        elapsed = perf_counter() - started
        if peak is not None:
            limit = format_bytes(memory_limit_bytes or 0)
            reason = f"stopped: its processes used {format_bytes(peak)}, over the {limit} limit"
            return ChildOutcome("memory", _read(result_path), reason, elapsed)
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


class Child(Protocol):
    """What the parent needs of a child process: ``subprocess.Popen`` or a ``ForkedChild``."""

    pid: int

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def kill(self) -> None: ...


def _start(request_path: Path, result_path: Path, output_path: Path) -> Child:
    """Fork the child from the running zygote, or start a fresh interpreter."""
    argv = [str(request_path), str(result_path)]
    zygote = _ZYGOTE.get()
    if zygote is not None:
        child = zygote.fork(argv, output_path)
        if child is not None:
            return child
    with output_path.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "tunekit.worker", *argv],
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


# --- the fork server --------------------------------------------------------------------------

#: The zygote children are forked from, in this thread's analysis (None: fresh interpreters).
_ZYGOTE: ContextVar[Zygote | None] = ContextVar("tunekit_zygote", default=None)
#: Seconds the zygote may take to import tunekit and its plugins before it is given up.
ZYGOTE_READY_S = 30.0
#: Seconds a killed child's exit may take to be reported before the zygote is given up.
KILLED_EXIT_S = 5.0


@contextlib.contextmanager
def fork_server(ready_s: float = ZYGOTE_READY_S) -> Iterator[None]:
    """Within this block, ``run_in_child`` forks its children from one warm ``tunekit.zygote``
    (saving each the start of an interpreter); the zygote is stopped and reaped on the way out.
    If it is not ready within ``ready_s``, or dies, children start as fresh interpreters (a
    trial the zygote died under is run again that way)."""
    zygote = Zygote.start(ready_s)
    token = _ZYGOTE.set(zygote)
    try:
        yield
    finally:
        _ZYGOTE.reset(token)
        if zygote is not None:
            zygote.close()


class Zygote:
    """The parent's handle on a running ``tunekit.zygote``: a line protocol over its pipes."""

    def __init__(self, proc: subprocess.Popen[bytes], ready_s: float) -> None:
        self.proc = proc
        self.ready_s = ready_s
        self.buffer = b""
        self.broken = False

    @classmethod
    def start(cls, ready_s: float = ZYGOTE_READY_S) -> Zygote | None:
        """Start a zygote and wait until it is warm; None if it is not within ``ready_s``."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "tunekit.zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        zygote = cls(proc, ready_s)
        try:
            ready = zygote.message(ready_s)
        except BaseException:
            zygote.close()
            raise
        if ready != {"ready": True}:
            zygote.close()
            return None
        return zygote

    def fork(self, argv: list[str], output: Path) -> ForkedChild | None:
        """Ask for a child running the worker on ``argv``; None if the zygote is not usable."""
        if self.broken or self.proc.poll() is not None:
            return None
        try:
            self.send({"argv": argv, "output": str(output)})
            reply = self.message(self.ready_s)
        except OSError:
            reply = None
        except BaseException:  # Ctrl-C between the request and the reply
            self.abandon()
            raise
        if reply is None or "pid" not in reply:
            self.abandon()
            return None
        return ForkedChild(int(reply["pid"]), self)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def abandon(self) -> None:
        """Give the zygote up after a request whose reply did not come: if a child was forked
        all the same, kill its process group, since nobody else knows its pid."""
        self.broken = True
        with contextlib.suppress(Exception):
            reply = self.message(1.0)
            if reply is not None and "pid" in reply:
                os.killpg(int(reply["pid"]), signal.SIGKILL)

    def message(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message, or None if none came within ``timeout`` (or the zygote ended,
        which marks it broken)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = None if timeout is None else perf_counter() + timeout
        while b"\n" not in self.buffer:
            left = None if deadline is None else max(deadline - perf_counter(), 0.0)
            if not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                self.broken = True
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:  # not the protocol: nothing it says can be trusted
            message = None
        if not isinstance(message, dict):
            self.broken = True
            return None
        return message

    def close(self) -> None:
        """End the zygote (end of input) and reap it; kill it if it does not end at once."""
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class ForkedChild:
    """A child forked by the zygote: waited for through the zygote's exit message."""

    def __init__(self, pid: int, zygote: Zygote) -> None:
        self.pid = pid
        self.zygote = zygote
        self.returncode: int | None = None
        #: The zygote died (or stopped making sense) while this child ran.
        self.lost = False

    def wait(self, timeout: float | None = None) -> int:
        """The exit code; ``subprocess.TimeoutExpired`` if it is still running at ``timeout``."""
        if self.returncode is not None:
            return self.returncode
        # None only after kill(): the exit message is due at once, or the zygote is stuck.
        message = self.zygote.message(KILLED_EXIT_S if timeout is None else timeout)
        if message is None and timeout is not None and not self.zygote.broken:
            raise subprocess.TimeoutExpired("tunekit.worker", timeout)
        if message is None or "exit" not in message:  # the zygote died: so did its child
            self.zygote.broken = True
            self.lost = True
            self.returncode = -signal.SIGKILL
        else:
            self.returncode = int(message["exit"])
        return self.returncode

    def poll(self) -> int | None:
        try:
            return self.wait(0)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def release(self) -> None:
        """Let the zygote reap the child: the parent is done with its pid."""
        if not self.zygote.broken:
            with contextlib.suppress(OSError):
                self.zygote.send({"reap": self.pid})
