"""tunekit: measure a function under every concurrency model and recommend one.

The public API is small on purpose: ``analyze`` runs the same engine the CLI runs, ``render``
turns its report into text, JSON, HTML or a plugin's format, and ``profile`` records the calls
of a function in a running program. Internals live in subpackages by stage, each importing only
the ones below it (docs/architecture.md): ``frontends`` > ``engine`` > ``isolation`` > ``plan``
> ``advice`` > the plugin host > ``backends``/``probes``/``reporters`` > the foundation modules
here (``models``, ``target``, ``calls``, ``hookspecs``, ...).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tunekit")  # one source: pyproject.toml
except PackageNotFoundError:  # the source tree on sys.path, not installed (PYTHONPATH=...)
    __version__ = "0+unknown"

# Light imports only: the decorator is imported by user code at start-up.
from tunekit import models
from tunekit.frontends.api import analyze, render
from tunekit.frontends.decorator import profile, report

# The data model renders through the front end's registry of formats without importing it.
models.set_renderer(render)

__all__ = ["__version__", "analyze", "profile", "render", "report"]
