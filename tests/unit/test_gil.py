"""The GIL state, table-driven: its detection from what the interpreter says, the report's
header, and every place that speaks of the GIL (the workload's kind, the threads reason, the
lock advice) with the GIL on and off. No free-threaded build is needed: the inputs are what
``sysconfig`` and ``sys._is_gil_enabled`` answer on one."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from tests.unit.test_lock_advice import HOT_LONG_CPU, HOT_SHORT_CPU, counts
from tests.unit.test_recommend import ok
from tunekit.advice.classify import Nature, classify
from tunekit.advice.locks import advise_from_probe, advise_locks
from tunekit.advice.recommend import recommend
from tunekit.gil import gil_label, is_free_threaded, is_gil_enabled
from tunekit.models import Machine, Recommendation, Report, Workload
from tunekit.reporters.html.page import header
from tunekit.reporters.text import TextReporter


@pytest.mark.parametrize(
    ("py_gil_disabled", "free_threaded"),
    [(1, True), (0, False), (None, False)],
    ids=["3.13t", "3.13", "3.12-has-no-variable"],
)
def test_the_build_is_free_threaded_when_sysconfig_says_so(
    py_gil_disabled: object, free_threaded: bool
) -> None:
    assert is_free_threaded(py_gil_disabled) is free_threaded


@pytest.mark.parametrize(
    ("ask", "enabled"),
    [(lambda: False, False), (lambda: True, True), (None, True)],
    ids=["3.13t-gil-off", "3.13t-re-enabled-or-standard", "before-3.13-no-function"],
)
def test_the_gil_is_on_unless_the_interpreter_says_it_is_off(
    ask: Callable[[], bool] | None, enabled: bool
) -> None:
    assert is_gil_enabled(ask) is enabled


@pytest.mark.parametrize(
    ("free_threaded", "gil_enabled", "label"),
    [
        (False, True, "with the GIL"),
        (True, False, "free-threaded with the GIL off"),
        (True, True, "free-threaded with the GIL re-enabled"),
    ],
)
def test_the_label(free_threaded: bool, gil_enabled: bool, label: str) -> None:
    assert gil_label(free_threaded, gil_enabled) == label


def report_on(machine: Machine) -> Report:
    return Report(
        target="app.jobs:fetch",
        machine=machine,
        workload=Workload(is_coroutine=False),
        trials=[],
        recommendation=Recommendation(None, None, None, None, ["no trial was run"]),
    )


FREE = Machine(cpus=2, python="3.13.0", platform="linux-x86_64", free_threaded=True)
FREE_OFF = dataclasses.replace(FREE, gil_enabled=False)
STANDARD = Machine(cpus=2, python="3.11.7", platform="linux-x86_64")


@pytest.mark.parametrize(
    ("machine", "line"),
    [
        (STANDARD, "tunekit app.jobs:fetch  (2 CPUs, Python 3.11.7 with the GIL, linux-x86_64)"),
        (
            FREE_OFF,
            "tunekit app.jobs:fetch  (2 CPUs, Python 3.13.0 free-threaded with the GIL off, "
            "linux-x86_64)",
        ),
        (
            FREE,
            "tunekit app.jobs:fetch  (2 CPUs, Python 3.13.0 free-threaded with the GIL "
            "re-enabled, linux-x86_64)",
        ),
    ],
)
def test_the_text_and_html_headers_show_the_gil(machine: Machine, line: str) -> None:
    text = TextReporter(width=120).render(report_on(machine))
    assert text.splitlines()[0] == line
    html_line = line.removeprefix("tunekit ").replace("  (", " on ").removesuffix(")")
    assert html_line in header(report_on(machine))


COMPUTING = Nature(
    is_coroutine=False,
    task_wall_s=0.01,
    cpu_fraction=0.99,
    thread_parallelism=1.9,
    await_overlap=None,
    min_dispatch_s=20e-6,
    free_cores=2.0,
)


@pytest.mark.parametrize(
    ("parallelism", "gil_enabled", "kind", "words"),
    [
        (1.9, True, "gil-releasing", "native code releases the GIL"),
        (1.0, True, "cpu-bound", "the task holds the GIL"),
        (1.9, False, "cpu-bound", "the GIL is disabled, so threads compute in parallel"),
        (1.0, False, "cpu-bound", "the GIL is disabled, yet the threads did not compute"),
    ],
    ids=["native-with-gil", "pure-python-with-gil", "gil-off-scales", "gil-off-serialized"],
)
def test_the_kind_reads_the_gil(
    parallelism: float, gil_enabled: bool, kind: str, words: str
) -> None:
    nature = dataclasses.replace(COMPUTING, thread_parallelism=parallelism, gil_enabled=gil_enabled)
    found, reason = classify(nature)
    assert found == kind
    assert words in reason
    if not gil_enabled:
        assert "holds the GIL" not in reason and "releases the GIL" not in reason


def test_too_few_cores_with_the_gil_off_asks_about_threads_not_the_gil() -> None:
    nature = dataclasses.replace(COMPUTING, free_cores=1.0, gil_enabled=False)
    assert classify(nature) == (
        "cpu-bound",
        "a call computes: CPU/wall 99%; only 1.0 cores were free, too few to tell whether "
        "threads run it in parallel",
    )


def test_threads_that_do_not_scale_with_the_gil_off_are_not_blamed_on_it() -> None:
    trials = [ok("sequential", 1, 100), ok("thread", 2, 102), ok("process", 2, 190)]
    workload = Workload(is_coroutine=False, kind="cpu-bound", thread_parallelism=0.98)
    machine = dataclasses.replace(FREE_OFF, capacity_cores=1.97)
    rec = recommend(trials, workload, machine)
    assert (
        "threads do not scale: thread x2 reached 1.02x sequential, and 2 threads kept only "
        "0.98 cores busy although the GIL is disabled: something in the task (a lock, a shared "
        "object) runs one thread at a time"
    ) in rec.reasons
    assert not any("holds the GIL" in reason for reason in rec.reasons)


@pytest.mark.parametrize(
    ("site", "kind", "with_gil", "without_gil"),
    [
        (counts(**HOT_SHORT_CPU), "cpu-bound", "keep", "split"),
        (counts(**HOT_SHORT_CPU), "io-bound", "keep", "split"),
        (counts(**HOT_LONG_CPU), "cpu-bound", "keep", "shrink"),
        (counts(**HOT_SHORT_CPU), "gil-releasing", "split", "split"),
    ],
    ids=["short-holds-pure-python", "short-holds-io", "long-holds-pure-python", "native"],
)
def test_lock_advice_with_the_gil_off_lets_every_kind_run_in_parallel(
    site: dict[str, object], kind: str, with_gil: str, without_gil: str
) -> None:
    [on] = advise_locks([site], kind, 1.0, 4)
    [off] = advise_locks([site], kind, 1.0, 4, gil_enabled=False)
    assert (on["advice"], off["advice"]) == (with_gil, without_gil)
    assert "GIL serializes" not in off["reason"] and "under the GIL" not in off["reason"]
    assert "releases the GIL" not in off["reason"]


def test_lock_advice_from_the_probe_passes_the_gil_state_on() -> None:
    data = {"locks": [counts(**HOT_SHORT_CPU)], "wall_s": 1.0, "threads": 4}
    [entry] = advise_from_probe(data, "cpu-bound", gil_enabled=False)
    assert entry["advice"] == "split"
    assert "the GIL is disabled, so threads could run it in parallel" in entry["reason"]
