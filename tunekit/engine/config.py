"""What an analysis is asked to do: the CLI, the Python API and the decorator all build one."""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tunekit.errors import InputError, SetupError, TargetError
from tunekit.plan import TrialPlan
from tunekit.runs import RunRecord, current_interpreter
from tunekit.target import split_spec

#: Timing values per trial (the median is reported, with the spread).
DEFAULT_REPEATS = 3
SWEEPS = ("adaptive", "grid")

#: Told of each step: ``(event, plan, seconds of budget left)``; ``event`` is "trial" (with the
#: plan it measures) or a phrase such as "calibrating".
ProgressCallback = Callable[[str, TrialPlan | None, float], None]


@dataclass
class AnalysisConfig:
    """Everything an analysis needs to know before it starts."""

    target: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    inputs: str | None = None
    #: How the report names the inputs when ``inputs`` is a temporary factory (a list given to
    #: ``tunekit.analyze()``), whose path differs on every run; None: the spec itself.
    inputs_label: str | None = None
    #: "module:factory" run once per worker; its result is every call's first argument.
    setup: str | None = None
    backends: Sequence[str] | None = None
    #: The largest pool tried, a hard cap; None: pools grow while they pay, as far as the
    #: machine allows (``plan.limits``).
    max_workers: int | None = None
    budget: float = 30.0
    repeats: int = DEFAULT_REPEATS
    #: Resident memory a trial's processes may use together; None: 90% of what is available.
    memory_limit: int | None = None
    #: Where profilers save their HTML; None: a new temporary folder, named in the report.
    profile_dir: str | None = None
    #: Probes to run (names); None: every installed probe; empty: none.
    probes: Sequence[str] | None = None
    #: "adaptive": grow each backend's pool while it pays, then refine the knee; "grid":
    #: measure every backend at every size 1, 2, 4... max_workers (the exhaustive reference).
    sweep: str = "adaptive"
    #: Other interpreters (paths) under which the best configurations are measured again.
    pythons: Sequence[str] = ()
    #: How the process backend starts its workers (``fork``, ``forkserver``, ``spawn``); None:
    #: the interpreter's default (``multiprocessing.get_start_method()``).
    start_method: str | None = None

    def validate(self) -> None:
        """Reject values no analysis can use (the CLI reports bad options as usage errors)."""
        split_spec(self.target)
        if self.inputs is not None:
            split_spec(self.inputs)
            if self.args:
                raise InputError("give per-task arguments with either --args or --inputs")
        if self.setup is not None:
            try:
                split_spec(self.setup)
            except TargetError as exc:
                raise SetupError(f"--setup: {exc}") from None
        if not math.isfinite(self.budget) or self.budget <= 0:
            raise InputError(f"budget must be positive, not {self.budget}")
        if self.max_workers is not None and self.max_workers < 1:
            raise InputError(f"max_workers must be at least 1, not {self.max_workers}")
        if self.memory_limit is not None and self.memory_limit <= 0:
            raise InputError(f"memory_limit must be positive, not {self.memory_limit}")
        if self.sweep not in SWEEPS:
            raise InputError(f"sweep must be one of {', '.join(SWEEPS)}, not {self.sweep!r}")
        if self.repeats < 1:
            raise InputError(f"repeats must be at least 1, not {self.repeats}")
        methods = multiprocessing.get_all_start_methods()
        if self.start_method is not None and self.start_method not in methods:
            raise InputError(
                f"start method {self.start_method!r} is not available here; this platform has "
                f"{', '.join(methods)}"
            )


def run_record(config: AnalysisConfig, backends: Sequence[str], probes: Sequence[str]) -> RunRecord:
    """What an analysis of ``config`` runs (``backends`` and ``probes`` as selected), for
    comparing its report with another's."""
    return RunRecord(
        args=list(config.args),
        kwargs=dict(config.kwargs),
        inputs=config.inputs_label or config.inputs,
        setup=config.setup,
        budget_s=config.budget,
        backends=list(backends),
        probes=list(probes),
        max_workers=config.max_workers,
        memory_limit_bytes=config.memory_limit,
        sweep=config.sweep,
        repeats=config.repeats,
        interpreter=current_interpreter(),
    )
