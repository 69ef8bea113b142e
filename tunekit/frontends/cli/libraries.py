"""What ``tunekit plugins`` says about each plugin's libraries: installed, version, imports.

Read from distribution metadata, so a plugin author declares nothing beyond the requirements
in its pyproject: every requirement of a plugin distribution (but tunekit itself and optional
extras) is looked up, and its top-level module imported, which is what the plugin's backend
will do in a trial process.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
from collections.abc import Iterable
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class LibraryStatus:
    """One library a plugin distribution requires."""

    name: str
    #: The plugin distribution that requires it.
    plugin: str
    version: str | None
    #: None when the library imports, else why not.
    problem: str | None

    def describe(self) -> str:
        """One line for ``tunekit plugins``."""
        if self.version is None:
            return f"not installed ({self.problem})"
        if self.problem is not None:
            return f"{self.version}, does not import: {self.problem}"
        return f"{self.version}, imports"


def plugin_distributions(group: str) -> list[importlib.metadata.Distribution]:
    """The distributions that provide entry points of ``group``, each once, by name."""
    found: dict[str, importlib.metadata.Distribution] = {}
    for ep in importlib.metadata.entry_points(group=group):
        if ep.dist is not None:
            found.setdefault(ep.dist.metadata["Name"], ep.dist)
    return [found[name] for name in sorted(found)]


def required_names(dist: importlib.metadata.Distribution) -> list[str]:
    """The names of what ``dist`` always requires (not extras), tunekit excepted."""
    names = []
    for requirement in dist.requires or []:
        if "extra ==" in requirement.replace("extra==", "extra =="):
            continue
        match = _NAME.match(requirement.strip())
        if match and _normal(match.group()) != "tunekit":
            names.append(match.group())
    return names


def library_statuses(dists: Iterable[importlib.metadata.Distribution]) -> list[LibraryStatus]:
    """Every library the plugin distributions require: its version and whether it imports."""
    modules = _modules_by_distribution()
    statuses = []
    for dist in dists:
        plugin = dist.metadata["Name"]
        for name in required_names(dist):
            try:
                version: str | None = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                statuses.append(LibraryStatus(name, plugin, None, "no distribution of that name"))
                continue
            module = modules.get(_normal(name), name.replace("-", "_"))
            statuses.append(LibraryStatus(name, plugin, version, _import_problem(module)))
    return statuses


def _import_problem(module: str) -> str | None:
    try:
        importlib.import_module(module)
    except Exception as exc:  # a broken library is reported, never a traceback
        return f"import {module}: {type(exc).__name__}: {exc}"
    return None


def _modules_by_distribution() -> dict[str, str]:
    """A top-level module of each installed distribution, by normalized distribution name."""
    modules: dict[str, str] = {}
    for module, dists in sorted(importlib.metadata.packages_distributions().items()):
        if module.startswith("_"):
            continue
        for dist in dists:
            modules.setdefault(_normal(dist), module)
    return modules


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
