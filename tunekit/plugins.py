"""The plugin host: built-in plugins, then the ``tunekit`` entry points, nothing at import time."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pluggy

from tunekit import hookspecs
from tunekit.backends import Backend
from tunekit.errors import PluginError
from tunekit.plugin_options import PluginOption
from tunekit.probes import Probe
from tunekit.reporters import Reporter

ENTRY_POINT_GROUP = "tunekit"
DISABLE_ENV = "TUNEKIT_DISABLE_PLUGINS"

#: Built-in plugins as (plugin name, module): registered exactly like third-party ones.
DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (
    ("sequential", "tunekit.backends.sequential"),
    ("thread", "tunekit.backends.threads"),
    ("process", "tunekit.backends.processes"),
    ("asyncio", "tunekit.backends.asyncio_loop"),
    ("tornado", "tunekit.backends.tornado_loop"),
    ("twisted", "tunekit.backends.twisted_reactor"),
    ("nature", "tunekit.probes.nature"),
    ("pyinstrument", "tunekit.probes.cpu_profile"),
    ("memray", "tunekit.probes.memory_profile"),
    ("locks", "tunekit.probes.locks"),
    ("text", "tunekit.reporters.text"),
    ("json", "tunekit.reporters.json"),
    ("html", "tunekit.reporters.html"),
)

T = TypeVar("T")


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus where each plugin came from and what went wrong loading it."""

    def __init__(self) -> None:
        super().__init__("tunekit")
        self.sources: dict[str, str] = {}
        self.warnings: list[str] = []
        #: Names two plugins registered: the message naming both (the first one is kept).
        self.duplicates: dict[str, str] = {}

    def warn(self, message: str) -> None:
        """Record a warning once (collecting twice must not repeat it)."""
        if message not in self.warnings:
            self.warnings.append(message)


def get_plugin_manager(disabled: Iterable[str] | None = None) -> PluginManager:
    """A fresh manager: built-ins, then entry points, then ``check_pending()``.

    ``disabled`` defaults to the comma-separated names in ``TUNEKIT_DISABLE_PLUGINS``: plugin
    names, entry-point names or distribution names.
    """
    if disabled is None:
        disabled = os.environ.get(DISABLE_ENV, "").split(",")
    blocked = {name.strip() for name in disabled if name.strip()}
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    for name, module_name in DEFAULT_PLUGINS:
        if not pm.is_blocked(name):
            pm.register(importlib.import_module(module_name), name=name)
            pm.sources[name] = "built-in"
    _load_entry_points(pm, blocked)
    pm.check_pending()
    return pm


def _load_entry_points(pm: PluginManager, blocked: set[str]) -> None:
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        dist_name = dist.metadata["Name"] if dist is not None else "?"
        if ep.name in blocked or dist_name in blocked:
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:
            pm.warnings.append(
                f"plugin {ep.name!r} ({dist_name}) failed to load and was skipped: "
                f"{type(exc).__name__}: {exc}"
            )
            continue
        pm.sources[ep.name] = f"{dist_name} {dist.version}" if dist is not None else ep.value


@dataclass(frozen=True)
class Registered(Generic[T]):
    """Something a plugin registered, with the plugin name and where that plugin came from."""

    item: T
    plugin: str
    source: str


def collect_backends(pm: PluginManager) -> dict[str, Registered[Backend]]:
    """Every backend by name; two plugins claiming one name is a ``PluginError``."""
    return _collect(pm, "tunekit_register_backends", Backend, "backend")


def collect_probes(pm: PluginManager) -> dict[str, Registered[Probe]]:
    """Every probe by name."""
    return _collect(pm, "tunekit_register_probes", Probe, "probe")


def collect_reporters(pm: PluginManager) -> dict[str, Registered[Reporter]]:
    """Every report format by name."""
    return _collect(pm, "tunekit_register_reporters", Reporter, "reporter")


def collect_options(pm: PluginManager) -> dict[str, Registered[PluginOption]]:
    """Every ``tunekit analyze`` option that plugins add, by flag; a duplicate is a warning."""
    return _collect(pm, "tunekit_analyze_options", PluginOption, "option")


def _collect(
    pm: PluginManager, hook_name: str, kind: Any, label: str
) -> dict[str, Registered[Any]]:
    """Call each plugin's ``hook_name`` with a ``register`` that checks ``kind`` and names."""
    found: dict[str, Registered[Any]] = {}
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():  # in registration order
        source = pm.sources.get(impl.plugin_name, impl.plugin_name)

        def register(item: Any, plugin: str = impl.plugin_name, src: str = source) -> None:
            if not isinstance(item, kind):
                raise PluginError(f"registered a non-{label}: {item!r}")
            name: str = item.name
            if name in found:
                first = found[name]
                message = (
                    f"{label} name {name!r} is registered twice: by plugin {first.plugin!r} "
                    f"({first.source}) and by plugin {plugin!r} ({src}); {first.plugin!r} "
                    f"keeps it; disable one with {DISABLE_ENV}"
                )
                pm.duplicates[name] = message
                pm.warn(message)
                return
            found[name] = Registered(item, plugin, src)

        try:
            impl.function(register=register)
        except Exception as exc:
            pm.warn(
                f"plugin {impl.plugin_name!r} ({source}) failed to register its {label}s and "
                f"was skipped: {type(exc).__name__}: {exc}"
            )
    return found
