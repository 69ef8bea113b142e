"""Workloads of known nature get the right kind and memory figure (the probes, for real).

The thresholds behind the labels live in tunekit/classify.py. Each case runs the calibration,
the capacity check and one probe in child processes, plus one short sequential trial.
"""

from __future__ import annotations

import inspect
import sys
import sysconfig

import pytest

from tunekit.advice.classify import MIN_CORES_TO_TELL_GIL
from tunekit.engine import AnalysisConfig, run_analysis
from tunekit.models import Report

from .. import targets
from ..conftest import TARGETS, target


def analyze(func: str, probes: list[str], budget: float = 4) -> Report:
    return run_analysis(
        AnalysisConfig(target=target(func), backends=["sequential"], probes=probes, budget=budget)
    )


@pytest.mark.parametrize(
    ("func", "kind"),
    [
        ("spin", "cpu-bound"),
        ("sleeper", "io-bound"),
        ("async_sleeper", "async-io"),
        ("async_spin", "cpu-bound"),
        ("add", "overhead-bound"),
    ],
)
def test_kind_of_known_workloads(func: str, kind: str) -> None:
    report = analyze(func, ["nature"], budget=6)  # room for the probe on a busy machine
    assert report.workload.kind == kind, report.workload.kind_reason
    assert report.workload.kind_reason


def test_gil_releasing_native_code_is_told_apart_when_cores_are_free() -> None:
    report = analyze("hash_big", ["nature"])
    free = report.machine.capacity_cores or 0.0
    if free >= MIN_CORES_TO_TELL_GIL:
        assert report.workload.kind == "gil-releasing", (report.workload, report.machine)
    else:  # a busy machine cannot show it, and the report must say so rather than guess
        assert report.workload.kind == "cpu-bound"
        assert "too few to tell" in (report.workload.kind_reason or "")


def test_fractions_behind_the_label_are_reported() -> None:
    report = analyze("spin", ["nature"])
    workload = report.workload
    assert workload.cpu_fraction is not None and workload.cpu_fraction > 0.8
    assert workload.thread_parallelism is not None
    assert set(workload.dispatch_s) == {"thread", "asyncio", "process"}
    assert all(cost > 0 for cost in workload.dispatch_s.values())


def test_peak_memory_of_a_200_mb_task_is_within_20_percent() -> None:
    # memray's shortest run is 8 call times and probes get a fifth of the budget: 30 s holds
    # 8 calls of the 0.2-0.5 s this allocation takes on an idle-to-loaded machine; the analysis
    # runs one backend, so it stops long before the budget
    report = analyze("allocate_200mb", ["memray"], budget=30)
    peak = report.workload.peak_memory_bytes
    assert peak is not None, report.probes
    assert abs(peak - 200 * 2**20) / (200 * 2**20) < 0.2
    assert report.profiles.top_allocations[0]["function"] == "allocate_200mb"
    assert report.profiles.memory_html is not None
    assert report.profiles.memray_overhead is not None


def test_cpu_profile_names_the_hot_function_and_saves_html() -> None:
    report = analyze("spin", ["pyinstrument"])
    hot = report.profiles.hot_functions
    assert hot[0]["function"] == "spin"
    assert hot[0]["location"] == f"{TARGETS}:{inspect.getsourcelines(targets.spin)[1]}"
    assert 0.5 < hot[0]["self_share"] <= 1.0
    assert report.profiles.cpu_html is not None
    assert report.profiles.pyinstrument_overhead is not None
    assert [p.status for p in report.probes] == ["ok"]


def test_coroutine_profile_attributes_await_time() -> None:
    report = analyze("async_sleeper", ["pyinstrument"])
    functions = [h["function"] for h in report.profiles.hot_functions]
    assert "sleep" in functions


def test_the_report_says_whether_the_machine_was_busy() -> None:
    report = analyze("add", [])
    machine = report.machine
    assert machine.capacity_cores is not None and machine.capacity_cores > 0
    assert machine.background_load is not None
    busy = [n for n in report.notes if n.startswith("the machine was busy")]
    assert bool(busy) == (machine.capacity_cores < 0.9 * machine.cpus)


def test_the_machine_records_the_interpreters_gil_as_the_calibration_child_saw_it() -> None:
    """GIVEN this interpreter WHEN a target is analyzed THEN the report's machine says whether
    the build is free-threaded and whether the GIL was on after the import, as this Python
    would answer (on a standard build: not free-threaded, GIL on)."""
    report = analyze("add", [])
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert report.machine.free_threaded is free_threaded
    ask = getattr(sys, "_is_gil_enabled", None)
    assert report.machine.gil_enabled is (ask() if ask is not None else True)
