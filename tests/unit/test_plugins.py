"""The plugin host: built-ins, entry-point discovery, blocking, duplicates and broken plugins."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tunekit.engine import AnalysisConfig, run_analysis
from tunekit.errors import PluginError
from tunekit.plugins import (
    Registered,
    collect_backends,
    collect_probes,
    collect_reporters,
    get_plugin_manager,
)

from ..conftest import target

BUILT_IN = ["sequential", "thread", "process", "asyncio", "tornado", "twisted"]

FAKE_PLUGIN = """
from contextlib import contextmanager
from tunekit.calls import call_sync
from tunekit.hookspecs import hookimpl

class LoopBackend:
    name = "{name}"
    description = "calls in a plain loop, from a plugin"
    scales = False

    def supports(self, target):
        return "coroutines are not supported" if target.is_coroutine else None

    @contextmanager
    def session(self, target, workers):
        yield lambda calls: [call_sync(target.func, call) for call in calls]

@hookimpl
def tunekit_register_backends(register):
    register(LoopBackend())
"""


def install_fake_distribution(site: Path, dist: str, module: str, body: str) -> None:
    """A real (if tiny) installed distribution with a ``tunekit`` entry point, found by
    importlib.metadata exactly as a pip-installed plugin would be."""
    (site / f"{module}.py").write_text(textwrap.dedent(body))
    info = site / f"{dist.replace('-', '_')}-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text(f"[tunekit]\n{module} = {module}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path (and on PYTHONPATH, for trial processes) to install plugins into."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return tmp_path


def built_in(found: dict[str, Registered[Any]]) -> list[str]:
    """The built-in names (plugins from plugins/ may be installed beside them)."""
    return [name for name, reg in found.items() if reg.source == "built-in"]


def test_built_ins_are_registered_as_plugins_in_order() -> None:
    pm = get_plugin_manager(disabled=[])
    assert built_in(collect_backends(pm)) == BUILT_IN
    assert built_in(collect_probes(pm)) == ["nature", "pyinstrument", "memray", "locks"]
    assert set(built_in(collect_reporters(pm))) >= {"text", "json"}


def test_disable_env_blocks_a_built_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEKIT_DISABLE_PLUGINS", "twisted, tornado")
    assert built_in(collect_backends(get_plugin_manager())) == BUILT_IN[:4]


def test_an_entry_point_plugin_is_discovered_with_its_distribution(site: Path) -> None:
    install_fake_distribution(site, "tk-loop", "tk_loop", FAKE_PLUGIN.format(name="loop"))
    backends = collect_backends(get_plugin_manager(disabled=[]))
    assert backends["loop"].source == "tk-loop 1.2"
    assert backends["loop"].plugin == "tk_loop"


@pytest.mark.parametrize("blocked", ["tk_loop", "tk-loop"])
def test_a_plugin_is_blocked_by_entry_point_or_distribution_name(
    site: Path, monkeypatch: pytest.MonkeyPatch, blocked: str
) -> None:
    install_fake_distribution(site, "tk-loop", "tk_loop", FAKE_PLUGIN.format(name="loop"))
    monkeypatch.setenv("TUNEKIT_DISABLE_PLUGINS", blocked)
    assert "loop" not in collect_backends(get_plugin_manager())


def test_a_duplicate_backend_name_is_a_warning_naming_both_plugins(site: Path) -> None:
    install_fake_distribution(site, "tk-dup", "tk_dup", FAKE_PLUGIN.format(name="thread"))
    pm = get_plugin_manager(disabled=[])
    backends = collect_backends(pm)
    message = (
        "backend name 'thread' is registered twice: by plugin 'thread' (built-in) and by "
        "plugin 'tk_dup' (tk-dup 1.2); 'thread' keeps it; disable one with "
        "TUNEKIT_DISABLE_PLUGINS"
    )
    assert backends["thread"].source == "built-in"
    assert pm.warnings == [message]
    collect_backends(pm)  # collecting again does not repeat the warning
    assert pm.warnings == [message]


def test_asking_by_name_for_a_duplicated_backend_is_an_error_naming_both(site: Path) -> None:
    install_fake_distribution(site, "tk-dup", "tk_dup", FAKE_PLUGIN.format(name="thread"))
    with pytest.raises(PluginError, match="'thread' is registered twice: by plugin 'thread'"):
        run_analysis(AnalysisConfig(target=target("add"), backends=["thread"], budget=5))


def test_a_plugin_whose_hook_raises_is_a_warning(site: Path) -> None:
    body = (
        "from tunekit.hookspecs import hookimpl\n"
        "@hookimpl\n"
        "def tunekit_register_backends(register):\n"
        "    raise RuntimeError('half-installed')\n"
    )
    install_fake_distribution(site, "tk-raises", "tk_raises", body)
    pm = get_plugin_manager(disabled=[])
    assert built_in(collect_backends(pm)) == BUILT_IN
    assert pm.warnings == [
        "plugin 'tk_raises' (tk-raises 1.2) failed to register its backends and was skipped: "
        "RuntimeError: half-installed"
    ]


def test_a_plugin_that_fails_to_import_is_a_warning_not_a_failure(site: Path) -> None:
    install_fake_distribution(site, "tk-broken", "tk_broken", "raise ImportError('no deps')\n")
    pm = get_plugin_manager(disabled=[])
    assert built_in(collect_backends(pm)) == BUILT_IN
    assert pm.warnings == [
        "plugin 'tk_broken' (tk-broken) failed to load and was skipped: ImportError: no deps"
    ]
