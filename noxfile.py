"""The test suite under every supported Python, each in a fresh environment of its own.

``nox`` runs the ``tests`` session for 3.11, 3.12 and 3.13: tunekit with its test extras and
every plugin distribution under ``plugins/`` (found by a glob, so a new plugin needs no edit
here) are installed into the session's own virtualenv, never the user's, and the suite runs
there. ``nox -s docs`` builds the docs as CI does; ``nox -s lint`` runs ruff and mypy.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import nox
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).parent
PYTHONS = ["3.11", "3.12", "3.13"]

nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "venv"


def plugin_dirs(session: nox.Session) -> list[str]:
    """The plugin distributions under plugins/ that declare support for the session's Python.

    A plugin whose library has no build for a version says so in its ``requires-python``
    (or an environment marker on the dependency); it is left out here with the reason printed,
    and its tests then skip because the distribution is not installed.
    """
    python = str(session.python)
    chosen = []
    for pyproject in sorted(ROOT.glob("plugins/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        supported = SpecifierSet(project.get("requires-python", ""))
        if supported.contains(python, prereleases=True):
            chosen.append(f"./{pyproject.parent.relative_to(ROOT)}")
        else:
            session.log(
                f"skipping {project['name']}: it requires Python {supported}, "
                f"this session runs {python}"
            )
    return chosen


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole suite (pass pytest options after ``--``, e.g. ``nox -- tests/unit -q``)."""
    editable = [arg for plugin in plugin_dirs(session) for arg in ("-e", plugin)]
    session.install("-e", ".[test]", *editable)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHONS[0])
def docs(session: nox.Session) -> None:
    """The docs site, with every warning (a broken link or anchor) an error."""
    session.install("-e", ".[docs]")
    site = session.create_tmp()
    session.run("python", "-m", "mkdocs", "build", "--strict", "--site-dir", site)


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy, as configured in pyproject.toml."""
    editable = [arg for plugin in plugin_dirs(session) for arg in ("-e", plugin)]
    session.install("-e", ".[test]", *editable)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
