"""The example plugin, tested the way a plugin author should test theirs.

The backend is checked in-process through a plugin manager into which a fixture registers it
(and from which it unregisters it). The installed distribution is checked as a user meets it:
found through its entry point, blocked by name, and measured in a real trial process, which
finds plugins through entry points only. Needs ``pip install -e plugins/tunekit-example``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator

import pytest

try:
    DIST = importlib.metadata.distribution("tunekit-example")
except importlib.metadata.PackageNotFoundError:
    pytest.skip(
        "tunekit-example is not installed: run `pip install -e plugins/tunekit-example`",
        allow_module_level=True,
    )

import tunekit_example

from tunekit.isolation import run_in_child
from tunekit.plugins import PluginManager, collect_backends, get_plugin_manager
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
    request = {
        "mode": "trial",
        "target": TargetSpec("tunekit.examples:cpu_bound", args=[1000]).to_dict(),
        "backend": "mpthreads",
        "workers": 2,
        "tasks": 20,
        "repeats": 3,
    }
    outcome = run_in_child(request, timeout_s=60)
    assert outcome.status == "ok", outcome.reason
    trial = outcome.payload
    assert trial is not None
    assert (trial["status"], trial["repeats"], trial["errors"]) == ("ok", 3, 0)
    assert trial["throughput"] > 0
