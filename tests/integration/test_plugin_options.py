"""Options that plugins add to ``tunekit analyze``, carried to the trials by the environment."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tunekit.frontends.cli import main
from tunekit.plugins import collect_options, get_plugin_manager

#: A plugin adding ``flag``. Its module stays in sys.modules after the test that imports it:
#: give a different body a different module name.
OPTION_PLUGIN = """
from tunekit.hookspecs import hookimpl
from tunekit.plugin_options import PluginOption

@hookimpl
def tunekit_analyze_options(register):
    register(PluginOption({flag!r}, "MY_OPT", "A value the trials need.", metavar="VALUE"))
"""

#: A target that fails every call unless the option's value reached its process.
NEEDS_MY_OPT = """
import os

def needs_my_opt():
    if os.environ.get("MY_OPT") != "X":
        raise RuntimeError(f"MY_OPT is {os.environ.get('MY_OPT')!r}")
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
    monkeypatch.delenv("MY_OPT", raising=False)
    return tmp_path


@pytest.fixture
def needs_my_opt(site: Path) -> str:
    """The target spec of a function that raises unless ``MY_OPT`` is ``X`` in its process."""
    (site / "needs_my_opt.py").write_text(textwrap.dedent(NEEDS_MY_OPT))
    return f"{site / 'needs_my_opt.py'}:needs_my_opt"


def analyze(target: str, *extra: str) -> int:
    quick = ["--backend", "sequential", "--max-workers", "1", "--budget", "5", "--probe", "none"]
    return main(["analyze", target, *quick, "--quiet", *extra])


def test_an_option_value_reaches_the_trial_processes_and_the_environment_is_restored(
    site: Path, needs_my_opt: str
) -> None:
    # GIVEN a plugin adding --my-opt, which sets MY_OPT
    install_fake_distribution(site, "tk-opt", "tk_opt", OPTION_PLUGIN.format(flag="--my-opt"))
    # WHEN the analysis is given --my-opt X
    code = analyze(needs_my_opt, "--my-opt", "X")
    # THEN the target saw MY_OPT=X in the trial processes, and this process is as it was
    assert code == 0
    assert "MY_OPT" not in os.environ


def test_a_variable_set_before_is_put_back_after(
    site: Path, needs_my_opt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fake_distribution(site, "tk-opt", "tk_opt", OPTION_PLUGIN.format(flag="--my-opt"))
    monkeypatch.setenv("MY_OPT", "before")
    assert analyze(needs_my_opt, "--my-opt", "X") == 0
    assert os.environ["MY_OPT"] == "before"


def test_analyze_help_works_and_lists_installed_plugin_options() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tunekit", "analyze", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "--max-workers" in proc.stdout
    if "dask" in {reg.plugin for reg in collect_options(get_plugin_manager()).values()}:
        assert "--dask-scheduler tcp://HOST:PORT" in proc.stdout
        assert "--dask-threads N" in proc.stdout


def test_the_cli_loads_no_plugin_until_analyze_is_parsed() -> None:
    # GIVEN a fresh interpreter WHEN the CLI module is imported and the top-level help is shown
    code = (
        "import sys, contextlib, io, tunekit.frontends.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    tunekit.frontends.cli.main(['--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('tunekit.backends.', "
        "'tunekit.probes.', 'tunekit.reporters.', 'tunekit_', 'twisted', 'tornado'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    # THEN no plugin module was imported
    assert out.strip() == "[]"
