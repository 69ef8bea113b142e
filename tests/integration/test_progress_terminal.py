"""`tunekit analyze` on a real terminal shows its live progress line."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

from ..conftest import target


@pytest.fixture(autouse=True)
def no_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyses here test the API around the engine: skip the profiling probes (time)."""
    monkeypatch.setenv("TUNEKIT_DISABLE_PLUGINS", "nature,pyinstrument,memray,locks")


@pytest.mark.slow
def test_analyze_on_a_terminal_shows_progress() -> None:
    # GIVEN `tunekit analyze` whose standard output is a pseudo-terminal
    argv = [sys.executable, "-m", "tunekit", "analyze", target("sleeper"), "--budget", "4"]
    argv += ["--backend", "sequential"]
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(follower)
    output = b""
    while True:  # read until the child closes the terminal
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: no writer is left
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    text = output.decode(errors="replace")
    # THEN the display named the trials while they ran, and the report followed
    assert "trial 1: sequential with 1 worker" in text
    assert "s left" in text
    assert "Recommendation: sequential with 1 worker" in text
