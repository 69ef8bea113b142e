"""The example plugin, tested the way a plugin author should test theirs.

The backend and the report format are checked in-process, through a plugin manager into which
a fixture registers the plugin (and from which it unregisters it). The installed distribution is
checked as a user meets it: found through its entry point, blocked by name, and its backend and
probe run in a real trial or probe process, which finds plugins through entry points only.
Needs ``pip install -e plugins/tunekit-example``.
"""

from __future__ import annotations

import importlib.metadata
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    DIST = importlib.metadata.distribution("tunekit-example")
except importlib.metadata.PackageNotFoundError:
    pytest.skip(
        "tunekit-example is not installed: run `pip install -e plugins/tunekit-example`",
        allow_module_level=True,
    )

import tunekit_example

from tunekit.isolation.protocol import ProbeRequest, ProbeResult, TrialRequest
from tunekit.isolation.spawn import run_in_child
from tunekit.models import Latency, Machine, Recommendation, Report, Trial, Workload
from tunekit.plugins import (
    PluginManager,
    collect_backends,
    collect_probes,
    collect_reporters,
    get_plugin_manager,
)
from tunekit.target import Call, TargetSpec, load_target

UNDER_TEST = "example-under-test"


@pytest.fixture
def plugin_manager() -> Iterator[PluginManager]:
    """A manager with the plugin registered by hand; its entry point is blocked (by
    distribution name) so that the installed copy does not register the backend twice."""
    pm = get_plugin_manager(disabled=["tunekit-example"])
    pm.register(tunekit_example, name=UNDER_TEST)
    yield pm
    pm.unregister(name=UNDER_TEST)


def test_the_backend_returns_one_result_per_call_in_order(plugin_manager: PluginManager) -> None:
    registered = collect_backends(plugin_manager)["mpthreads"]
    assert registered.plugin == UNDER_TEST
    target = load_target(TargetSpec("tunekit.examples:cpu_bound", args=[10]))
    calls: list[Call] = [((10,), {}), (("x",), {})] * 3
    with registered.item.session(target, 2) as run:
        results = run(calls)
    assert [r.error for r in results] == [
        None,
        "TypeError: 'str' object cannot be interpreted as an integer",
    ] * 3
    assert all(r.latency_s >= 0 for r in results)


def test_coroutine_functions_are_skipped_with_a_reason(plugin_manager: PluginManager) -> None:
    backend = collect_backends(plugin_manager)["mpthreads"].item
    assert backend.supports(load_target(TargetSpec("tunekit.examples:async_io"))) == (
        "coroutine functions are not supported"
    )


SQLITE_TARGET = """
import sqlite3
import threading

OPENED = []
CLOSED = []


def connection():
    conn = sqlite3.connect(":memory:")  # usable on the thread that opened it only
    OPENED.append(threading.get_ident())
    yield conn
    conn.close()
    CLOSED.append(threading.get_ident())


def query(conn):
    return conn.execute("select 1").fetchone()[0]
"""


def test_the_backend_opens_a_setup_on_each_thread_and_closes_it_there(
    plugin_manager: PluginManager, tmp_path: Path
) -> None:
    """GIVEN a setup opening a sqlite connection (bound to its thread) WHEN the backend runs a
    batch on 3 threads THEN each thread opened one, every call used its own, each was closed
    on the thread that opened it."""
    module = tmp_path / "sqlite_target.py"
    module.write_text(SQLITE_TARGET)
    backend = collect_backends(plugin_manager)["mpthreads"].item
    target = load_target(TargetSpec(f"{module}:query", setup=f"{module}:connection"))
    with backend.session(target, 3) as run:
        results = run(target.calls * 12)
    assert [r.error for r in results] == [None] * 12
    loaded = __import__("sqlite_target")
    assert len(set(loaded.OPENED)) == 3 == len(target.setup_s)
    assert sorted(loaded.CLOSED) == sorted(loaded.OPENED)


def test_the_installed_plugin_is_found_through_its_entry_point() -> None:
    registered = collect_backends(get_plugin_manager(disabled=[]))["mpthreads"]
    assert registered.plugin == "mpthreads"  # the entry-point name
    assert registered.source == f"tunekit-example {DIST.version}"


@pytest.mark.parametrize("blocked", ["tunekit-example", "mpthreads"])
def test_the_installed_plugin_is_blocked_by_distribution_or_entry_point_name(
    monkeypatch: pytest.MonkeyPatch, blocked: str
) -> None:
    monkeypatch.setenv("TUNEKIT_DISABLE_PLUGINS", blocked)
    assert "mpthreads" not in collect_backends(get_plugin_manager())


@pytest.mark.slow
def test_a_real_trial_measures_the_installed_plugin() -> None:
    spec = TargetSpec("tunekit.examples:cpu_bound", args=[1000])
    outcome = run_in_child(TrialRequest(spec, "mpthreads", 2, 20, repeats=3), timeout_s=60)
    assert outcome.status == "ok", outcome.reason
    trial = outcome.reply
    assert isinstance(trial, Trial)
    assert (trial.status, trial.repeats, trial.errors) == ("ok", 3, 0)
    assert trial.throughput is not None and trial.throughput > 0


CYCLES_PER_CALL = 20
GARBAGE_TARGET = f"""
def make_cycles():
    for _ in range({CYCLES_PER_CALL}):
        garbage = []
        garbage.append(garbage)  # a cycle: only the garbage collector frees it
"""


def run_gc_probe(target: str, tmp_path: Path) -> dict[str, object]:
    """The gc probe in a fresh process, as the analysis runs it: 300 calls."""
    request = ProbeRequest("gc", TargetSpec(target), str(tmp_path), time_s=0.3, task_wall_s=0.001)
    outcome = run_in_child(request, timeout_s=60)
    assert outcome.status == "ok", outcome.reason
    assert isinstance(outcome.reply, ProbeResult) and outcome.reply.data is not None
    data: dict[str, object] = outcome.reply.data["gc"]
    return data


def test_the_gc_probe_counts_the_cycles_each_call_leaves(tmp_path: Path) -> None:
    # GIVEN a target that leaves 20 reference cycles per call
    module = tmp_path / "garbage_target.py"
    module.write_text(textwrap.dedent(GARBAGE_TARGET))
    # WHEN the installed gc probe measures it in its own process
    data = run_gc_probe(f"{module}:make_cycles", tmp_path)
    # THEN it ran 300 calls, and the collectors ran and freed the 20 objects each call left
    # (the probe collects before and after the calls, so none is left over or counted twice)
    assert data["calls"] == 300
    generations = data["generations"]
    assert isinstance(generations, list) and len(generations) == 3
    collected = sum(g["collected_per_call"] for g in generations)
    assert collected == CYCLES_PER_CALL
    assert generations[0]["collections_per_call"] > 0


def test_the_gc_probe_finds_no_garbage_where_there_is_none(tmp_path: Path) -> None:
    data = run_gc_probe("tunekit.examples:cpu_bound", tmp_path)
    generations = data["generations"]
    assert isinstance(generations, list)
    assert sum(g["collected_per_call"] for g in generations) < 1


def test_the_probe_and_the_reporter_are_registered_by_the_installed_plugin() -> None:
    pm = get_plugin_manager(disabled=[])
    assert collect_probes(pm)["gc"].source == f"tunekit-example {DIST.version}"
    assert collect_reporters(pm)["markdown"].source == f"tunekit-example {DIST.version}"


def synthetic() -> Report:
    return Report(
        target="m:f",
        machine=Machine(cpus=2, python="3.11.7", platform="linux-x86_64"),
        workload=Workload(is_coroutine=False, task_wall_s=0.01, task_cpu_s=0.001),
        trials=[
            Trial(
                backend="thread",
                workers=4,
                status="ok",
                tasks=40,
                repeats=3,
                throughput=1390.0,
                latency_s=Latency(0.01, 0.012, 0.02),
            ),
            Trial(backend="process", workers=1, status="skipped", reason="cannot pickle"),
        ],
        recommendation=Recommendation("thread", 4, 1390.0, 3.9, ["because"]),
    )


def test_the_markdown_report_summarizes_the_recommendation_and_the_ok_trials(
    plugin_manager: PluginManager,
) -> None:
    reporter = collect_reporters(plugin_manager)["markdown"].item
    assert reporter.file_extension == ".md"
    assert reporter.render(synthetic()) == (
        "# tunekit: `m:f`\n"
        "\n"
        "**Recommendation:** `thread` with 4 workers\n"
        "\n"
        "| backend | workers | tasks/s | p50 latency |\n"
        "|---|---:|---:|---:|\n"
        "| thread | 4 | 1,390 | 10 ms |\n"
    )


def test_the_installed_markdown_format_is_what_report_render_finds() -> None:
    report = synthetic()
    assert report.render("markdown") == tunekit_example.MarkdownReporter().render(report)
