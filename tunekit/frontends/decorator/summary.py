"""The decorator's report: one summary per decorated function, at exit or on
``tunekit.report()``, to standard error or as JSON to ``TUNEKIT_REPORT``."""

from __future__ import annotations

import atexit
import json
import multiprocessing
import os
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import IO

from tunekit.frontends.decorator.recorder import FunctionProfile, Recorder

REPORT_ENV = "TUNEKIT_REPORT"
PROFILE_SCHEMA = "tunekit.profile/1"

_recorders: list[Recorder] = []
_registry_lock = threading.Lock()
_exit_hook_registered = False


def register(recorder: Recorder) -> None:
    """Report ``recorder`` at exit (the exit hook is registered with the first one)."""
    global _exit_hook_registered
    with _registry_lock:
        _recorders.append(recorder)
        if not _exit_hook_registered:
            atexit.register(_report_at_exit, os.getpid())
            _exit_hook_registered = True


def report(file: IO[str] | None = None) -> list[FunctionProfile]:
    """Print the summary of every decorated function now (or write ``TUNEKIT_REPORT``).

    Runs any analysis still due (``analyze=True`` with fewer calls than ``sample``), and
    returns what it reported.
    """
    with _registry_lock:
        recorders = list(_recorders)
    for recorder in recorders:
        if recorder.analyze is not None and not recorder.analyzed and recorder.calls:
            recorder.run_analysis()
    profiles = [recorder.snapshot() for recorder in recorders]
    for recorder, snap in zip(recorders, profiles, strict=True):
        recorder.reported_calls = snap.calls
    path = os.environ.get(REPORT_ENV)
    if path:
        data = {"schema": PROFILE_SCHEMA, "functions": [asdict(p) for p in profiles]}
        Path(path).write_text(json.dumps(data, indent=2) + "\n")
        return profiles
    out = file if file is not None else sys.stderr
    count = f"{len(profiles)} function{'s' if len(profiles) != 1 else ''}"
    print(f"tunekit profile summary ({count}, pid {os.getpid()}):", file=out)
    for snap in profiles:
        print(f"  {snap.summary()}", file=out)
        if snap.sample:
            print(f"    first call: {snap.sample[0]}", file=out)
    return profiles


def _report_at_exit(pid: int) -> None:
    """Report once, in the process that decorated; not in pool children or after ``report()``."""
    if os.getpid() != pid or multiprocessing.parent_process() is not None:
        return
    with _registry_lock:
        recorders = list(_recorders)
    if recorders and any(r.calls != r.reported_calls for r in recorders):
        report()
