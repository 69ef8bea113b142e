"""Trial isolation: a crash, a hang or a leaked process in user code costs one trial only."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tunekit.engine import AnalysisConfig, run_analysis
from tunekit.isolation.forkserver import fork_server
from tunekit.isolation.protocol import TrialRequest
from tunekit.isolation.spawn import run_in_child
from tunekit.models import Trial
from tunekit.target import TargetSpec

from ..conftest import target


@pytest.fixture(autouse=True, params=["fresh", "forked"])
def start(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every isolation test runs twice: children as fresh interpreters, and forked from the
    zygote of ``fork_server`` (as in an analysis)."""
    if request.param == "fresh":
        yield request.param
        return
    with fork_server():
        yield request.param


def gone(pid: int, within_s: float = 5.0) -> bool:
    """True once ``pid`` has exited (a zombie waiting for init to reap it counts as gone)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def trial_request(
    name: str,
    backend: str = "sequential",
    workers: int = 1,
    tasks: int = 4,
    args: list[object] | None = None,
) -> TrialRequest:
    spec = TargetSpec(target(name), args or [])
    return TrialRequest(spec, backend, workers, tasks, repeats=3)


def test_a_child_that_exits_hard_is_a_failed_trial_with_the_exit_code() -> None:
    outcome = run_in_child(trial_request("exits_hard"), timeout_s=30)
    assert outcome.status == "failed"
    assert outcome.reason is not None and "exited with code 3" in outcome.reason


def test_a_segfault_is_a_failed_trial_naming_the_signal() -> None:
    outcome = run_in_child(trial_request("segfaults"), timeout_s=30)
    assert outcome.status == "failed"
    assert outcome.reason is not None and "SIGSEGV" in outcome.reason


def test_a_hang_is_stopped_at_the_timeout() -> None:
    outcome = run_in_child(trial_request("hangs"), timeout_s=1.5)
    assert outcome.status == "timeout"
    assert outcome.reason == "no result within the 1.5 s trial timeout"


def test_a_hang_in_a_process_pool_leaves_no_pool_child() -> None:
    outcome = run_in_child(trial_request("hangs", backend="process", workers=2), timeout_s=2)
    assert outcome.status == "timeout"  # the autouse fixture checks that nothing is left


def test_processes_the_user_code_leaves_behind_are_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    outcome = run_in_child(trial_request("leaves_a_child", args=[str(pid_file)]), timeout_s=30)
    assert outcome.status == "ok"
    assert gone(int(pid_file.read_text()))


def test_threads_the_user_code_leaves_running_do_not_block_the_trial() -> None:
    outcome = run_in_child(
        trial_request("leaves_a_thread", backend="thread", workers=2), timeout_s=30
    )
    assert outcome.status == "ok"


def test_crashing_and_hanging_trials_do_not_stop_the_analysis(tmp_path: Path) -> None:
    # GIVEN a target that crashes its process only when run in a pool of 2 threads
    module = tmp_path / "picky.py"
    module.write_text(
        "import os, threading, time\n"
        "def work():\n"
        "    time.sleep(0.005)\n"
        "    if threading.current_thread().name.endswith('_1'):\n"
        "        os._exit(9)\n"
    )
    # WHEN it is analysed over sequential and thread x1, x2
    report = run_analysis(
        AnalysisConfig(
            probes=[],
            target=f"{module}:work",
            backends=["sequential", "thread"],
            max_workers=2,
            budget=20,
            sweep="grid",  # thread x1 too, which the adaptive sweep skips
        )
    )
    # THEN the crashing trial is recorded as failed with its reason and the others are measured
    by_key = {t.key: t for t in report.trials}
    assert by_key["thread x2"].status == "failed"
    assert "exited with code 9" in (by_key["thread x2"].reason or "")
    assert by_key["sequential x1"].status == "ok"
    assert by_key["thread x1"].status == "ok"
    assert report.recommendation.model in ("sequential", "thread")


def test_a_successful_child_returns_its_trial() -> None:
    outcome = run_in_child(trial_request("add"), timeout_s=30)
    assert outcome.status == "ok"
    assert isinstance(outcome.reply, Trial)
    assert outcome.reply.status == "ok"
    assert outcome.reply.tasks == 4
    assert outcome.reply.repeats == 3


def test_forked_children_come_from_one_zygote_that_is_reaped_after(start: str) -> None:
    if start == "fresh":
        pytest.skip("about the zygote")
    ours = psutil.Process()
    (zygote,) = ours.children()
    outcomes = [run_in_child(trial_request("add"), timeout_s=30) for _ in range(3)]
    assert [o.status for o in outcomes] == ["ok"] * 3
    assert ours.children() == [zygote]  # the children were the zygote's, and are reaped


def test_the_zygote_is_gone_when_the_block_ends(start: str) -> None:
    if start == "forked":
        pytest.skip("starts its own zygote")
    with fork_server():
        (zygote,) = psutil.Process().children()
        assert run_in_child(trial_request("add"), timeout_s=30).status == "ok"
    assert gone(zygote.pid)


def test_a_dead_zygote_falls_back_to_fresh_interpreters(start: str) -> None:
    if start == "forked":
        pytest.skip("starts its own zygote")
    with fork_server():
        (zygote,) = psutil.Process().children()
        os.kill(zygote.pid, 9)
        assert gone(zygote.pid)
        assert run_in_child(trial_request("add"), timeout_s=30).status == "ok"


def test_a_trial_the_zygote_dies_under_runs_again_in_a_fresh_interpreter(start: str) -> None:
    if start == "forked":
        pytest.skip("starts its own zygote")
    with fork_server():
        (zygote,) = psutil.Process().children()
        killer = threading.Timer(0.5, os.kill, (zygote.pid, signal.SIGKILL))
        killer.start()
        began = time.monotonic()
        outcome = run_in_child(trial_request("hangs"), timeout_s=3)
        killer.join()
    # not "failed, killed by SIGKILL" (its zygote's death), but the fresh run's own timeout
    assert outcome.status == "timeout"
    assert time.monotonic() - began >= 3
