"""The plugin host: built-ins, entry-point discovery, blocking, duplicates and broken plugins."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tunekit.engine import AnalysisConfig, run_analysis

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

FAKE_OPTION_PLUGIN = """
from tunekit.hookspecs import hookimpl
from tunekit.plugin_options import PluginOption

@hookimpl
def tunekit_analyze_options(register):
    register(PluginOption("--loop-speed", "TK_LOOP_SPEED", "How fast the loop goes.", "N"))
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


def test_nothing_is_loaded_at_import_time() -> None:
    code = (
        "import sys, tunekit, tunekit.plugins, tunekit.frontends.cli; "
        "print(sorted(m for m in sys.modules if m.startswith(('tunekit.backends.', "
        "'twisted', 'tornado'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"


def plugins_listing() -> str:
    """What ``tunekit plugins`` prints, run as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "tunekit", "plugins"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_plugins_command_lists_source_and_version(site: Path) -> None:
    install_fake_distribution(site, "tk-loop", "tk_loop", FAKE_PLUGIN.format(name="loop"))
    rows = [line.split() for line in plugins_listing().splitlines()]
    assert ["backend", "loop", "tk-loop", "1.2"] in [row[:4] for row in rows]
    assert [row[1] for row in rows[:6]] == BUILT_IN
    assert all(row[2] == "built-in" for row in rows[:6])
    probes = [row[1] for row in rows if row[0] == "probe"]
    assert probes[:4] == ["nature", "pyinstrument", "memray", "locks"]


def test_plugins_command_lists_the_options_plugins_add_to_analyze(site: Path) -> None:
    install_fake_distribution(site, "tk-speed", "tk_speed", FAKE_OPTION_PLUGIN)
    out = plugins_listing()
    option = next(line.split(None, 4) for line in out.splitlines() if "--loop-speed" in line)
    assert option == [
        "option",
        "--loop-speed",
        "tk-speed",
        "1.2",
        "How fast the loop goes. (sets TK_LOOP_SPEED)",
    ]


def test_an_analysis_goes_on_past_a_duplicate_and_says_so_once(site: Path) -> None:
    install_fake_distribution(site, "tk-dup2", "tk_dup2", FAKE_PLUGIN.format(name="sequential"))
    report = run_analysis(
        AnalysisConfig(
            target=target("add"), backends=["thread"], max_workers=1, budget=6, probes=[]
        )
    )
    assert [t.status for t in report.trials] == ["ok"]
    assert [n for n in report.notes if "registered twice" in n] == [
        "plugin warning: backend name 'sequential' is registered twice: by plugin 'sequential' "
        "(built-in) and by plugin 'tk_dup2' (tk-dup2 1.2); 'sequential' keeps it; disable one "
        "with TUNEKIT_DISABLE_PLUGINS"
    ]


def test_a_plugin_backend_is_measured_in_the_analysis(site: Path) -> None:
    install_fake_distribution(site, "tk-loop", "tk_loop", FAKE_PLUGIN.format(name="loop"))
    report = run_analysis(
        AnalysisConfig(target=target("add"), backends=["sequential", "loop"], budget=8, probes=[])
    )
    by_backend = {t.backend: t for t in report.trials}
    assert by_backend["loop"].status == "ok"
    assert by_backend["loop"].throughput is not None
