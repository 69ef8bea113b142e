"""What an analysis ran (the call, the budget, the backends and probes, the interpreter), recorded
in the report so that ``tunekit compare`` can tell whether two reports measured the same thing.
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass, field
from typing import Any

#: A value longer than this is cut in a warning: two of them, "warning: kwargs differ: " and
#: " vs " (28 characters) then fit on one line of a 120-column terminal (2 * 44 + 28 = 116).
SHOWN_CHARS = 44


@dataclass
class Interpreter:
    """The Python that ran the analysis and its trial processes."""

    executable: str
    #: ``platform.python_version()``, e.g. "3.11.7".
    version: str
    #: ``platform.python_implementation()``, e.g. "CPython".
    implementation: str = "CPython"


@dataclass
class RunRecord:
    """What one analysis was asked to run, as given (None: the default was used)."""

    #: Positional arguments of every call (``--args``).
    args: list[Any] = field(default_factory=list)
    #: Keyword arguments of every call (``--kwargs``).
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: The ``--inputs`` factory, or what stands for a list given to ``tunekit.analyze()``.
    inputs: str | None = None
    #: The ``--setup`` factory whose result every worker's calls took first; None: no setup.
    setup: str | None = None
    budget_s: float | None = None
    #: The backends measured (the installed ones when none was named).
    backends: list[str] = field(default_factory=list)
    #: The probes run (the installed ones when none was named).
    probes: list[str] = field(default_factory=list)
    #: ``--max-workers``; None: pools grew as far as the machine allowed.
    max_workers: int | None = None
    #: ``--memory-limit`` as given; None: 90% of what was available, which varies by moment.
    memory_limit_bytes: int | None = None
    sweep: str = "adaptive"
    repeats: int = 3
    interpreter: Interpreter | None = None


@dataclass(frozen=True)
class Difference:
    """One field of the run that is not the same in two reports."""

    name: str
    old: str
    new: str
    #: False when the numbers stay comparable (only the interpreter's path moved).
    decisive: bool = True

    def describe(self) -> str:
        """``kwargs: {"n": 1} vs {"n": 3}``."""
        return f"{self.name}: {self.old} vs {self.new}"


def current_interpreter() -> Interpreter:
    """This process's interpreter, which the trial processes run too."""
    return Interpreter(
        executable=sys.executable,
        version=platform.python_version(),
        implementation=platform.python_implementation(),
    )


def differences(old: RunRecord, new: RunRecord) -> list[Difference]:
    """Every field of the run that differs, in the order of ``RunRecord``."""
    found = [
        Difference(name, _shown(before), _shown(after))
        for name, before, after in (
            ("args", old.args, new.args),
            ("kwargs", old.kwargs, new.kwargs),
            ("inputs", old.inputs, new.inputs),
            ("setup", old.setup, new.setup),
            ("budget", _seconds(old.budget_s), _seconds(new.budget_s)),
            ("backends", sorted(old.backends), sorted(new.backends)),
            ("probes", sorted(old.probes), sorted(new.probes)),
            ("max workers", old.max_workers, new.max_workers),
            ("memory limit", old.memory_limit_bytes, new.memory_limit_bytes),
            ("sweep", old.sweep, new.sweep),
            ("repeats", old.repeats, new.repeats),
            ("interpreter", _python(old.interpreter), _python(new.interpreter)),
        )
        if before != after
    ]
    same_python = _python(old.interpreter) == _python(new.interpreter)
    if same_python and old.interpreter is not None and new.interpreter is not None:
        before, after = old.interpreter.executable, new.interpreter.executable
        if before != after:  # e.g. another virtual environment of the same Python
            found.append(Difference("executable", before, after, decisive=False))
    return found


def summary(record: RunRecord) -> str:
    """What was run, in one line, for a report's details."""
    call = (
        f"inputs {record.inputs}"
        if record.inputs is not None
        else f"args {_json(record.args)}, kwargs {_json(record.kwargs)}"
    )
    parts = [
        call,
        *([f"setup {record.setup}"] if record.setup is not None else []),
        f"budget {_seconds(record.budget_s) or 'not given'}",
        f"backends {', '.join(record.backends) or 'none'}",
        f"probes {', '.join(record.probes) or 'none'}",
        f"max workers {record.max_workers or 'not given'}",
        f"{record.sweep} sweep, {record.repeats} repeats",
    ]
    if record.interpreter is not None:
        parts.append(f"{_python(record.interpreter)} ({record.interpreter.executable})")
    return "; ".join(parts)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _python(interpreter: Interpreter | None) -> str | None:
    if interpreter is None:
        return None
    return f"{interpreter.implementation} {interpreter.version}"


def _seconds(value: float | None) -> str | None:
    return None if value is None else f"{value:g} s"


def _shown(value: Any) -> str:
    """A value as one short line: JSON for data, the text itself for a string."""
    if value is None:
        return "not given"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
