"""``--python PATH``: the best configurations measured again under other interpreters.

The sweep runs under the interpreter that runs tunekit and decides what to measure; then each
backend's best pool (the recommended one first) is measured again under every interpreter,
this one included, one configuration at a time and back to back, sized as the sweep's trial
was, in trial processes started with that interpreter
(``PATH -m tunekit.isolation.worker``): a venv's python with tunekit installed, or any
interpreter that imports tunekit and its dependencies (``PYTHONPATH`` to the source tree).
Each interpreter is asked first whether it can, so a missing module is one line before any
time is spent.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence

from tunekit.engine.budget import Budget
from tunekit.errors import UsageError
from tunekit.isolation.protocol import TrialRequest
from tunekit.isolation.spawn import run_in_child
from tunekit.models import InterpreterRun, Trial
from tunekit.target import TargetSpec

#: Share of a host's budget each other interpreter gets: it re-measures one trial per backend
#: (its best pool), where the host's sweep measured several pool sizes per backend besides the
#: calibration and the probes, so half of the host's time bounds it.
OTHER_INTERPRETER_SHARE = 0.5
#: Seconds an interpreter may take to say what it is and import tunekit (a cold start of
#: tunekit's imports took 1.5 s on the 2-core test machine; 20x that for a loaded one).
ASK_TIMEOUT_S = 30.0
#: Seconds a trial process of a fresh interpreter costs besides its trial: the start and the
#: imports, not forked from a warm zygote as the host's are (1.5 s measured, see above).
FRESH_START_S = 1.5

#: Run by each interpreter: its version, and whether tunekit's trial worker imports there.
_ASK = """
import json, platform
answer = {"version": platform.python_version()}
try:
    import tunekit.isolation.worker
    from importlib.metadata import version
    try:
        answer["tunekit"] = version("tunekit")
    except Exception:
        answer["tunekit"] = None
except ImportError as exc:
    answer["missing"] = exc.name or str(exc)
print(json.dumps(answer))
"""


def host_share(budget_s: float, interpreters: int) -> float:
    """Seconds of ``budget_s`` the host's own analysis may use when ``interpreters`` others are
    compared after it (and this one measured again beside them)."""
    if not interpreters:
        return budget_s
    return budget_s / (1 + OTHER_INTERPRETER_SHARE * (interpreters + 1))


def this_interpreter() -> InterpreterRun:
    """This interpreter, measured again beside the others in fresh processes as theirs are
    (the sweep's trials were forked from a warm zygote, at another moment)."""
    return InterpreterRun(python=sys.executable, version=platform.python_version(), this=True)


def check_interpreter(path: str, host_tunekit: str) -> InterpreterRun:
    """What the interpreter at ``path`` is; ``UsageError`` (one line) if it cannot run
    tunekit's trials: not there, not Python, tunekit or one of its dependencies missing, or
    another version of tunekit (the trial protocol is the same only within a version)."""
    if not os.access(path, os.X_OK):
        raise UsageError(f"--python {path}: no executable there")
    try:
        done = subprocess.run(
            [path, "-c", _ASK],
            capture_output=True,
            text=True,
            timeout=ASK_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        raise UsageError(f"--python {path}: not a Python interpreter that answers") from None
    version = str(answer.get("version"))
    missing = answer.get("missing")
    if missing is not None:
        raise UsageError(
            f"--python {path} (Python {version}) cannot import {missing!r}, which tunekit needs "
            f"there: point it at a venv's python with tunekit installed ({path} -m pip install "
            "tunekit), or give PYTHONPATH the source tree and install its dependencies"
        )
    theirs = answer.get("tunekit")
    if theirs is not None and theirs != host_tunekit:
        raise UsageError(
            f"--python {path} has tunekit {theirs}, this is tunekit {host_tunekit}: trials "
            "talk to one version; install the same one there"
        )
    return InterpreterRun(python=path, version=version)


def compared_trials(trials: Sequence[Trial], recommended: str | None) -> list[Trial]:
    """What each interpreter re-measures: each backend's best usable pool by goodput, the
    recommended backend's first, then by goodput."""
    best: dict[str, Trial] = {}
    for trial in trials:
        kept = best.get(trial.backend)
        if trial.usable and (kept is None or (trial.goodput or 0.0) > (kept.goodput or 0.0)):
            best[trial.backend] = trial
    return sorted(best.values(), key=lambda t: (t.backend != recommended, -(t.goodput or 0.0)))


def measure_side_by_side(
    runs: Sequence[InterpreterRun],
    spec: TargetSpec,
    configurations: Sequence[Trial],
    budget: Budget,
    memory_limit: int,
) -> None:
    """Measure each of ``configurations`` again under every interpreter of ``runs`` (this one
    among them, in a fresh process as the others), one configuration at a time, back to back:
    the machine's load then weighs alike on every interpreter of a row. Each becomes a trial
    of its run; one whose time is not left in ``budget`` is skipped with the reason."""
    for host in configurations:
        planned = FRESH_START_S + (host.startup_s or 0.0) + (host.wall_s or 0.0) * host.repeats
        for run in runs:
            if planned > budget.left():
                reason = (
                    f"out of budget: needs about {planned:.1f} s, {max(budget.left(), 0):.1f} s "
                    "left (raise --budget)"
                )
                run.trials.append(Trial(host.backend, host.workers, "skipped", reason))
                continue
            run.trials.append(measure_under(run.python, spec, host, planned, budget, memory_limit))


def measure_under(
    python: str, spec: TargetSpec, host: Trial, planned: float, budget: Budget, memory_limit: int
) -> Trial:
    """``host``'s configuration, sized as it was, measured in a trial process of ``python``."""
    request = TrialRequest(
        target=spec,
        backend=host.backend,
        workers=host.workers,
        tasks=host.tasks,
        repeats=max(host.repeats, 1),
        batch_s=host.wall_s,
    )
    outcome = run_in_child(request, budget.trial_timeout(planned), memory_limit, python=python)
    if outcome.error is not None:
        return Trial(host.backend, host.workers, "failed", outcome.error.message)
    if outcome.status == "ok" and isinstance(outcome.reply, Trial):
        return outcome.reply
    if outcome.status == "timeout":
        return Trial(host.backend, host.workers, "timeout", outcome.reason)
    return Trial(host.backend, host.workers, "failed", outcome.reason)
