"""The whole plugin contract: tunekit's pluggy hooks.

A plugin is a module or object with functions marked ``@hookimpl``; third-party plugins are found
through the ``tunekit`` entry-point group. Plugins give through ``register(...)`` callbacks so the
host can reject duplicate names with a message naming both plugins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from tunekit.backends import Backend
    from tunekit.plugin_options import PluginOption
    from tunekit.probes import Probe
    from tunekit.reporters import Reporter
    from tunekit.snippets import SnippetRequest

hookspec = pluggy.HookspecMarker("tunekit")
hookimpl = pluggy.HookimplMarker("tunekit")


@hookspec
def tunekit_register_backends(register: Callable[[Backend], None]) -> None:
    """Register concurrency backends by calling ``register(backend)`` once per backend."""


@hookspec
def tunekit_register_probes(register: Callable[[Probe], None]) -> None:
    """Register probes (measurements that need a process of their own) with ``register``."""


@hookspec
def tunekit_register_reporters(register: Callable[[Reporter], None]) -> None:
    """Register report formats by calling ``register(reporter)`` once per format."""


@hookspec
def tunekit_analyze_options(register: Callable[[PluginOption], None]) -> None:
    """Add ``tunekit analyze`` options; each value reaches the trials as an environment variable."""


@hookspec(firstresult=True)
def tunekit_snippet(request: SnippetRequest) -> str | None:
    """Code to paste for ``request.model`` (a backend this plugin registered), defining
    ``run_all(tasks)``; None for another plugin's backend. Stops at first non-None result."""
