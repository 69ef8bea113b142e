"""Options that plugins add to ``tunekit analyze``, carried to the trials by the environment."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tunekit.frontends.cli import main
from tunekit.plugin_options import PluginOption
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


def test_without_the_option_the_value_does_not_arrive(site: Path, needs_my_opt: str) -> None:
    install_fake_distribution(site, "tk-opt", "tk_opt", OPTION_PLUGIN.format(flag="--my-opt"))
    assert analyze(needs_my_opt) == 1  # every call raised: nothing to recommend


def test_analyze_help_lists_the_option_with_its_plugin_and_variable(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_fake_distribution(site, "tk-opt", "tk_opt", OPTION_PLUGIN.format(flag="--my-opt"))
    assert main(["analyze", "--help"]) == 0
    out, err = capsys.readouterr()
    assert "--my-opt VALUE" in out
    assert "A value the trials need. (plugin tk_opt; sets MY_OPT)" in " ".join(out.split())
    assert out.rstrip().endswith("Show this message and exit.")  # --help stays last
    assert err == ""


def test_a_duplicate_flag_is_one_warning_and_the_first_is_kept(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN two plugins adding the same flag
    for dist in ("tk-opt-a", "tk-opt-b"):
        module = dist.replace("-", "_")
        install_fake_distribution(site, dist, module, OPTION_PLUGIN.format(flag="--my-opt"))
    # WHEN the options are collected, twice, and when the help is shown
    pm = get_plugin_manager(disabled=[])
    first = collect_options(pm)["--my-opt"].plugin
    collect_options(pm)
    assert main(["analyze", "--help"]) == 0
    out, err = capsys.readouterr()
    # THEN one warning names both plugins, and the option is listed once
    assert len(pm.warnings) == 1
    assert pm.warnings[0].startswith("option name '--my-opt' is registered twice: by plugin")
    assert f"{first!r} keeps it" in pm.warnings[0]
    assert err.splitlines() == [f"warning: {pm.warnings[0]}"]
    assert out.count("--my-opt VALUE") == 1


def test_a_plugin_option_cannot_replace_a_tunekit_option(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = OPTION_PLUGIN.format(flag="--budget")
    install_fake_distribution(site, "tk-clash", "tk_clash", body)
    assert main(["analyze", "--help"]) == 0
    out, err = capsys.readouterr()
    assert err == (
        "warning: option '--budget' of plugin 'tk_clash' (tk-clash 1.2) is a tunekit option "
        "already; the plugin's was skipped\n"
    )
    assert "sets MY_OPT" not in out


@pytest.mark.parametrize(
    ("flag", "env", "message"),
    [
        ("my-opt", "MY_OPT", "option flag must look like '--my-option', not 'my-opt'"),
        ("--my-opt", "MY OPT", "option env must be a variable name, not 'MY OPT'"),
    ],
)
def test_a_malformed_option_is_refused(flag: str, env: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PluginOption(flag, env, "help")
