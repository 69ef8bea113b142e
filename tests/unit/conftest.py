"""Unit tests start no process: every way to start one raises here, so a test that needs a
child process must live in tests/integration/ (which the fast run leaves out)."""

from __future__ import annotations

import multiprocessing.process
import os
import subprocess
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("a unit test started a process: move it to tests/integration/")


@pytest.fixture(scope="module", autouse=True)
def no_child_processes() -> Iterator[None]:
    """GIVEN any unit test, or a fixture of its module THEN it cannot fork, spawn or exec."""
    # On a machine where matplotlib has never run, importing it builds its font cache by
    # running ``fc-list``: the library's start-up, not the test's, so it happens before the ban.
    import matplotlib.font_manager  # noqa: F401

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess, "Popen", _refuse)
        patch.setattr(os, "fork", _refuse)
        patch.setattr(os, "posix_spawn", _refuse)
        patch.setattr(os, "posix_spawnp", _refuse)
        patch.setattr(multiprocessing.process.BaseProcess, "start", _refuse)
        yield
