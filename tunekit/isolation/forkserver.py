"""The parent's side of the fork server: children forked from one warm ``zygote``.

``fork_server()`` starts ``python -m tunekit.isolation.zygote`` for the length of an analysis;
``run_in_child`` (``tunekit.isolation.spawn``) then asks it for each child instead of starting
an interpreter. The protocol is described in ``tunekit.isolation.zygote``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from time import perf_counter
from typing import Any

#: The zygote children are forked from, in this thread's analysis (None: fresh interpreters).
_ZYGOTE: ContextVar[Zygote | None] = ContextVar("tunekit_zygote", default=None)
#: Seconds the zygote may take to import tunekit and its plugins before it is given up.
ZYGOTE_READY_S = 30.0
#: Seconds a killed child's exit may take to be reported before the zygote is given up.
KILLED_EXIT_S = 5.0
#: What the zygote (``tunekit.isolation.zygote``) calls in ``os``: ``fork``; ``waitid`` with
#: ``WNOWAIT``, to learn a child's exit without reaping it (missing on macOS before 3.13, and
#: on Windows with ``fork``); ``setsid``, to give each child a process group of its own.
ZYGOTE_NEEDS = ("fork", "waitid", "WNOWAIT", "P_PID", "WEXITED", "CLD_EXITED", "setsid")


def zygote_unsupported(platform: object = os) -> str | None:
    """Why a zygote cannot run where ``platform`` (the ``os`` module) lacks what it calls, or
    None when it can."""
    missing = [name for name in ZYGOTE_NEEDS if not hasattr(platform, name)]
    if not missing:
        return None
    return f"os has no {', '.join(missing)} here, so children start as fresh interpreters"


def running_zygote() -> Zygote | None:
    """The zygote of the ``fork_server()`` block this runs in, if any."""
    return _ZYGOTE.get()


@contextlib.contextmanager
def fork_server(ready_s: float = ZYGOTE_READY_S, platform: object = os) -> Iterator[None]:
    """Within this block, ``run_in_child`` forks its children from one warm zygote (saving
    each the start of an interpreter); the zygote is stopped and reaped on the way out.
    If ``platform`` (the ``os`` module) lacks what the zygote calls, if it is not ready
    within ``ready_s``, or if it dies, children start as fresh interpreters (a trial the
    zygote died under is run again that way)."""
    zygote = Zygote.start(ready_s) if zygote_unsupported(platform) is None else None
    token = _ZYGOTE.set(zygote)
    try:
        yield
    finally:
        _ZYGOTE.reset(token)
        if zygote is not None:
            zygote.close()


class Zygote:
    """The parent's handle on a running zygote: a line protocol over its pipes."""

    def __init__(self, proc: subprocess.Popen[bytes], ready_s: float) -> None:
        self.proc = proc
        self.ready_s = ready_s
        self.buffer = b""
        self.broken = False

    @classmethod
    def start(cls, ready_s: float = ZYGOTE_READY_S) -> Zygote | None:
        """Start a zygote and wait until it is warm; None if it is not within ``ready_s``."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "tunekit.isolation.zygote"],
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
            raise subprocess.TimeoutExpired("tunekit.isolation.worker", timeout)
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
