"""Generator and async generator targets: a call consumes them, under every kind of worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunekit.frontends.cli import main
from tunekit.models import Report

from ..conftest import target
from ..targets import SLEEP_S

pytestmark = pytest.mark.slow

#: tests/targets.py:generator_steps gives passes of 1, 2 and 3 steps of SLEEP_S / 2 each, and
#: the calibration may stop anywhere in that cycle: a consumed call sleeps at least one step
#: (sleep never returns early), while creating the generator object alone takes microseconds.
MIN_SLEEP_S = SLEEP_S / 2


def analyze(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, *backends: str
) -> tuple[str, Report]:
    out_file = tmp_path / "report.json"
    argv = ["analyze", target(name), "--inputs", target("generator_steps")]
    for backend in backends:
        argv += ["--backend", backend]
    code = main([*argv, "--max-workers", "2", "--budget", "12", "--json", str(out_file)])
    out, _ = capsys.readouterr()
    assert code == 0
    return out, Report.from_json(out_file.read_text())


def test_a_generator_is_exhausted_by_every_call(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out, report = analyze(capsys, tmp_path, "sleeping_generator", "sequential", "thread", "process")
    assert report.workload.consumes == "generator"
    assert report.workload.task_wall_s is not None
    assert report.workload.task_wall_s >= MIN_SLEEP_S
    assert report.workload.kind != "overhead-bound"
    assert "generator function (a call consumes it to the end)" in out
    ran = {t.backend for t in report.trials if t.status == "ok" and not t.errors}
    assert {"sequential", "thread", "process"} <= ran


def test_an_async_generator_is_iterated_to_the_end_by_every_call(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out, report = analyze(
        capsys, tmp_path, "async_sleeping_generator", "sequential", "asyncio", "process"
    )
    assert report.workload.consumes == "async generator"
    assert report.workload.is_coroutine
    assert report.workload.task_wall_s is not None
    assert report.workload.task_wall_s >= MIN_SLEEP_S
    assert "async generator function (a call consumes it to the end)" in out
    ran = {t.backend for t in report.trials if t.status == "ok" and not t.errors}
    assert {"sequential", "asyncio", "process"} <= ran


def test_the_python_api_consumes_a_generator_function_object() -> None:
    from tunekit import analyze as api_analyze

    from ..targets import sleeping_generator

    report = api_analyze(
        sleeping_generator, inputs=[(1,), (2,)], backends=["sequential", "thread"], budget=8
    )
    assert report.workload.consumes == "generator"
    assert report.workload.task_wall_s is not None
    assert report.workload.task_wall_s >= MIN_SLEEP_S
    assert "generator function (a call consumes it to the end)" in report.render("text")
    assert "generator, consumed to the end" in report.render("html")
    assert '"consumes": "generator"' in report.render("json")
