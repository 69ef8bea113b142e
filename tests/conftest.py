"""Shared fixtures: paths to test workloads, and a check that no test leaks a process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

TESTS = Path(__file__).parent
TARGETS = TESTS / "targets.py"


def target(name: str) -> str:
    """A target spec for a function in tests/targets.py."""
    return f"{TARGETS}:{name}"


@pytest.fixture(autouse=True)
def no_leaked_processes() -> Iterator[None]:
    """GIVEN any test WHEN it ends THEN it has left no child process of the test runner."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield
    deadline = time.monotonic() + 2.0
    while True:
        leaked = [
            p
            for p in psutil.Process().children(recursive=True)
            if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"processes left running: {[(p.pid, p.cmdline()) for p in leaked]}"
