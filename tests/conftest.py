"""Shared fixtures: paths to test workloads, and a check that no test leaks a process."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

TESTS = Path(__file__).parent
TARGETS = TESTS / "targets.py"


def target(name: str) -> str:
    """A target spec for a function in tests/targets.py."""
    return f"{TARGETS}:{name}"


#: Every process the test session starts inherits this variable, even one that outlives its
#: parent and is re-parented to init: that is how the session finds stragglers.
SESSION_MARK = "TUNEKIT_TEST_SESSION"


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_session() -> Iterator[None]:
    """GIVEN the whole suite WHEN it ends THEN no process it started (at any depth) is alive."""
    mark = uuid.uuid4().hex
    os.environ[SESSION_MARK] = mark
    yield
    deadline = time.monotonic() + 5.0
    while True:
        alive = [p for p in _marked(mark) if p.pid != os.getpid()]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not alive, f"processes outlived the test session: {[p.cmdline() for p in alive]}"


def _marked(mark: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if (
                process.environ().get(SESSION_MARK) == mark
                and process.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(process)
        except psutil.Error:
            continue
    return found


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
