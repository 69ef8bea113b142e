"""Helpers for the tests of tunekit plugins: run tunekit as a user does, read what it printed.

A plugin's own test suite checks that the plugin is found, listed and measured by the real
command, in a fresh interpreter; these helpers do that part so every plugin does it alike.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def analyze_trials(
    target: str,
    *backends: str,
    max_workers: int = 2,
    budget: float = 8.0,
    code: int = 0,
    timeout: float = 120.0,
    setup: str | None = None,
) -> list[dict[str, Any]]:
    """The trials of ``tunekit analyze TARGET`` on ``backends`` without probes, as JSON (with
    ``--setup`` when ``setup`` is given); raises AssertionError (with tunekit's stderr) unless
    it exits with ``code``."""
    proc = subprocess.run(
        [
            *[sys.executable, "-m", "tunekit", "analyze", target],
            *[arg for name in backends for arg in ("--backend", name)],
            *["--max-workers", str(max_workers), "--budget", str(budget)],
            *(["--setup", setup] if setup is not None else []),
            *["--probe", "none", "--json", "-", "-q"],
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if proc.returncode != code:
        raise AssertionError(f"exit {proc.returncode}, expected {code}: {proc.stderr}")
    trials: list[dict[str, Any]] = json.loads(proc.stdout)["trials"]
    return trials


def plugin_rows(timeout: float = 60.0) -> list[list[str]]:
    """``tunekit plugins``, each line as its first four words: kind, name, source, version."""
    out = subprocess.run(
        [sys.executable, "-m", "tunekit", "plugins"],
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    ).stdout
    return [line.split()[:4] for line in out.splitlines()]
