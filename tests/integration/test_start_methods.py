"""Start methods: each of fork, forkserver and spawn runs a real process trial that records it,
the default is the interpreter's own, and the fork server falls back to fresh interpreters where
the platform lacks what the zygote calls."""

from __future__ import annotations

import multiprocessing
import os
import types

import psutil
import pytest

from tunekit.engine import AnalysisConfig, run_analysis
from tunekit.errors import InputError
from tunekit.isolation.forkserver import ZYGOTE_NEEDS, fork_server, running_zygote
from tunekit.isolation.forkserver import zygote_unsupported as unsupported
from tunekit.isolation.protocol import TrialRequest
from tunekit.isolation.spawn import run_in_child
from tunekit.models import Trial
from tunekit.reporters.text import TextReporter
from tunekit.target import TargetSpec

from ..conftest import target

METHODS = multiprocessing.get_all_start_methods()


def process_trial(start_method: str | None) -> Trial:
    """One real process trial of 2 workers, in a fresh child, with ``start_method``."""
    request = TrialRequest(
        TargetSpec(target("spin"), [20_000]),
        "process",
        workers=2,
        tasks=20,
        repeats=2,
        start_method=start_method,
    )
    outcome = run_in_child(request, timeout_s=60)
    assert outcome.status == "ok", outcome.reason
    assert isinstance(outcome.reply, Trial)
    return outcome.reply


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_each_start_method_runs_a_real_process_trial_and_records_it(method: str) -> None:
    if method not in METHODS:
        pytest.skip(f"{method} is not a start method of this platform")
    trial = process_trial(method)
    assert trial.status == "ok", trial.reason
    assert trial.start_method == method
    assert trial.goodput and trial.goodput > 0
    assert trial.startup_s is not None and trial.startup_s > 0


def test_without_a_start_method_the_pool_uses_the_interpreters_default() -> None:
    trial = process_trial(None)
    assert trial.start_method == METHODS[0]  # the first is the platform's default


def test_other_backends_start_no_processes_and_record_no_method() -> None:
    request = TrialRequest(TargetSpec(target("add"), [1, 2]), "thread", 2, 20, repeats=2)
    outcome = run_in_child(request, timeout_s=60)
    assert isinstance(outcome.reply, Trial)
    assert outcome.reply.start_method is None


@pytest.mark.slow
def test_the_report_says_which_method_started_the_process_pools() -> None:
    """GIVEN --start-method spawn WHEN a target is analyzed THEN the machine, every process
    trial and the terminal report name spawn, with the start-up of each pool measured."""
    report = run_analysis(
        AnalysisConfig(
            target=target("spin"),
            args=[20_000],
            backends=["sequential", "process"],
            probes=[],
            budget=8,
            max_workers=2,
            start_method="spawn",
        )
    )
    assert report.machine.start_method == "spawn"
    processes = [t for t in report.trials if t.backend == "process"]
    assert processes
    assert {t.start_method for t in processes} == {"spawn"}
    text = TextReporter(width=120).render(report)
    assert "process workers started by spawn: start-up " in text


def test_a_start_method_the_platform_lacks_is_one_line_of_error() -> None:
    config = AnalysisConfig(target=target("add"), start_method="vfork")
    with pytest.raises(InputError, match="start method 'vfork' is not available here"):
        config.validate()


@pytest.mark.parametrize("missing", ["waitid", "WNOWAIT", "fork"])
def test_the_fork_server_falls_back_to_fresh_interpreters_where_os_lacks_a_call(
    missing: str,
) -> None:
    """GIVEN an ``os`` without ``missing`` (as macOS before 3.13 has no ``os.waitid``) WHEN
    the fork server is asked for THEN no zygote starts and children run as fresh interpreters."""
    lacking = types.SimpleNamespace(
        **{name: getattr(os, name) for name in ZYGOTE_NEEDS if name != missing}
    )
    assert unsupported(lacking) == (
        f"os has no {missing} here, so children start as fresh interpreters"
    )
    before = psutil.Process().children()
    with fork_server(platform=lacking):
        assert running_zygote() is None
        assert psutil.Process().children() == before
        trial = process_trial("fork" if "fork" in METHODS else None)
    assert trial.status == "ok"


def test_this_platform_has_what_the_zygote_calls() -> None:
    assert unsupported() is None
    with fork_server():
        assert running_zygote() is not None
