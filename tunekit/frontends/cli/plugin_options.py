"""The ``tunekit analyze`` command class that adds the options plugins register, and the one
plugin manager a command invocation uses."""

from __future__ import annotations

import os
from typing import Any

import click

from tunekit.plugins import PluginManager, collect_options, get_plugin_manager

_PLUGINS_KEY = "tunekit.plugins"


def run_plugins(ctx: click.Context) -> PluginManager:
    """The plugin manager of this invocation: made (entry points scanned) once, then shared by
    the options, the checks of names, the analysis and the reporters."""
    manager: PluginManager | None = ctx.meta.get(_PLUGINS_KEY)
    if manager is None:
        manager = ctx.meta[_PLUGINS_KEY] = get_plugin_manager()
    return manager


class PluginOptionsCommand(click.Command):
    """A command that also takes the options plugins add (``tunekit_analyze_options``).

    Plugins load only when the command is parsed or its help is shown, never at import. A value
    given is put in the option's environment variable while the command runs, which is how it
    reaches the trial processes (see ``tunekit.plugin_options``); the environment is restored
    afterwards.
    """

    _META_KEY = "tunekit.plugin_options"

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        """The command's own parameters, then one ``click.Option`` per plugin option."""
        params = super().get_params(ctx)
        added = [option for option, _ in self._plugin_options(ctx).values()]
        if params and params[-1] is self.get_help_option(ctx):  # keep --help last
            return [*params[:-1], *added, params[-1]]
        return [*params, *added]

    def _plugin_options(self, ctx: click.Context) -> dict[str, tuple[click.Option, str]]:
        """Built once per invocation: {parameter name: (option, its environment variable)}."""
        built: dict[str, tuple[click.Option, str]] | None = ctx.meta.get(self._META_KEY)
        if built is not None:
            return built
        pm = run_plugins(ctx)
        loading_warnings = len(pm.warnings)  # those the analysis reports itself
        taken = {opt for param in self.params for opt in param.opts + param.secondary_opts}
        taken.update(ctx.help_option_names)
        built = {}
        for flag, reg in collect_options(pm).items():
            if flag in taken:
                pm.warn(
                    f"option {flag!r} of plugin {reg.plugin!r} ({reg.source}) is a tunekit "
                    "option already; the plugin's was skipped"
                )
                continue
            name = f"plugin_{flag[2:].replace('-', '_')}"
            option = click.Option(
                [flag, name],
                metavar=reg.item.metavar,
                help=f"{reg.item.help} (plugin {reg.plugin}; sets {reg.item.env})",
            )
            built[name] = (option, reg.item.env)
        for warning in pm.warnings[loading_warnings:]:
            click.echo(f"warning: {warning}", err=True)
        ctx.meta[self._META_KEY] = built
        return built

    def invoke(self, ctx: click.Context) -> Any:
        """Export the plugin options given to their variables, run, then restore them."""
        given = {env: ctx.params.pop(name) for name, (_, env) in self._plugin_options(ctx).items()}
        exported = {env: value for env, value in given.items() if value is not None}
        previous = {env: os.environ.get(env) for env in exported}
        try:
            os.environ.update(exported)
            return super().invoke(ctx)
        finally:
            for env, value in previous.items():
                if value is None:
                    os.environ.pop(env, None)
                else:
                    os.environ[env] = value
