"""Helpers for the tests of tunekit plugins: run tunekit as a user does, read what it printed.

A plugin's own test suite checks that the plugin is found, listed and measured by the real
command, in a fresh interpreter; these helpers do that part so every plugin does it alike.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Seconds a venv's installs may take: from the local package index, tunekit's dependencies
#: took 75 s on the 2-core test machine; ten times that for a loaded one.
VENV_INSTALL_TIMEOUT_S = 750.0


def analyze_trials(
    target: str,
    *backends: str,
    max_workers: int = 2,
    budget: float = 8.0,
    code: int = 0,
    timeout: float = 120.0,
    setup: str | None = None,
    python: str | None = None,
) -> list[dict[str, Any]]:
    """The trials of ``tunekit analyze TARGET`` on ``backends`` without probes, as JSON (with
    ``--setup`` when ``setup`` is given), run by ``python`` (default: this interpreter); raises
    AssertionError (with tunekit's stderr) unless it exits with ``code``."""
    proc = subprocess.run(
        [
            *[python or sys.executable, "-m", "tunekit", "analyze", target],
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


def find_python(version: str) -> str | None:
    """An interpreter of ``version`` (e.g. "3.13"): the newest of pyenv's
    (``$PYENV_ROOT/versions/X.Y.*``), else ``pythonX.Y`` on PATH but for pyenv's shims (which
    fail for a version not selected); None when there is none."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(root.glob(f"versions/{version}.*/bin/python{version}"))
    if candidates:
        return str(candidates[-1])
    found = shutil.which(f"python{version}")
    return found if found is not None and "shims" not in Path(found).parts else None


def venv_with(python: str, requirements: Sequence[str], cache: Path) -> Path:
    """The python of a venv that ``python`` made, with ``requirements`` (pip arguments, e.g.
    ``["-e", "/src/tunekit"]``) installed: as a user points ``--python`` at a venv with tunekit
    in it. Kept in ``cache`` under a key of both and of the ``pyproject.toml`` of each local
    folder installed (its dependencies), so it is made once and again when those change."""
    projects = [Path(r) / "pyproject.toml" for r in requirements if Path(r).is_dir()]
    declared = [p.read_text(encoding="utf-8") for p in projects if p.is_file()]
    key = hashlib.sha256("\0".join([python, *requirements, *declared]).encode()).hexdigest()[:16]
    folder = cache / key
    executable = folder / "bin" / "python"
    if (folder / "ready").exists():
        return executable
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(folder)], check=True, timeout=120)
    subprocess.run(
        [str(executable), "-m", "pip", "install", "-q", *requirements],
        check=True,
        timeout=VENV_INSTALL_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    (folder / "ready").touch()
    return executable
