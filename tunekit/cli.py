"""The ``tunekit`` command line: a thin click shell over ``tunekit.analysis``.

``main()`` returns the exit code: 0 done, 1 the analysis could not be made (bad target, the
target always fails), 2 usage errors, 130/143 interrupted by SIGINT/SIGTERM (partial report).
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

import click
from rich.console import Console

from tunekit import __version__
from tunekit.errors import Terminated, TunekitError

#: Width of the text report when it does not go to a terminal (files, pipes, CI logs).
REPORT_WIDTH = 120
EXIT_INTERRUPTED = {"SIGINT": 130, "SIGTERM": 143}


def _json_value(kind: type, example: str) -> Any:
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON ({exc.msg}): {value!r}") from None
        if not isinstance(parsed, kind):
            raise click.BadParameter(f"must be a JSON {kind.__name__}, e.g. {example}")
        return parsed

    return convert


def _output_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check an output path before spending the budget: its folder must exist and be writable."""
    if value is None or value == "-":
        return value
    path = Path(value)
    if path.is_dir():
        raise click.BadParameter(f"{value!r} is a folder; give a file path")
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise click.BadParameter(f"folder {str(folder)!r} does not exist")
    try:  # os.access says yes to root everywhere; creating a file is the real test
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        raise click.BadParameter(f"folder {str(folder)!r} is not writable") from None
    return value


class ByteSize(click.ParamType[int]):
    """A memory size: bytes, or a number with K, M, G or T (powers of 1024; 'iB'/'B' optional)."""

    name = "size"
    UNITS: ClassVar[dict[str, int]] = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """Parse '512M', '1.5G', '2GiB' or '1000000' into bytes."""
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(?:i?B)?\s*", str(value), re.I)
        if match is None:
            self.fail(f"{value!r} is not a size like 512M or 2G", param, ctx)
        size = int(float(match[1]) * self.UNITS[match[2].upper()])
        if size <= 0:
            self.fail(f"{value!r} must be more than 0 bytes", param, ctx)
        return size


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """Reject nan and inf, which FloatRange lets through."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number of seconds")
    return value


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
        from tunekit.plugins import collect_options, get_plugin_manager

        pm = get_plugin_manager()
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tunekit")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def cli(debug: bool) -> None:
    """Measure a function under every concurrency model and recommend one.

    ``--debug`` is read by ``main()``, which turns errors into one line unless it is given.
    """


@cli.command(cls=PluginOptionsCommand)
@click.argument("target")
@click.option(
    "--args",
    "args",
    callback=_json_value(list, "'[1, 2]'"),
    metavar="JSON",
    help="Positional arguments for every call, as a JSON list.",
)
@click.option(
    "--kwargs",
    "kwargs",
    callback=_json_value(dict, "'{\"n\": 3}'"),
    metavar="JSON",
    help="Keyword arguments for every call, as a JSON object.",
)
@click.option(
    "--inputs",
    metavar="MODULE:FACTORY",
    help="A callable returning an iterable of argument tuples, one per task.",
)
@click.option(
    "--backend",
    "backends",
    multiple=True,
    metavar="NAME",
    help="Only this backend (repeatable). Default: every installed backend.",
)
@click.option(
    "--max-workers",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Largest pool size tried.",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0, min_open=True),
    callback=_finite,
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Time the whole analysis may take.",
)
@click.option(
    "--memory-limit",
    type=ByteSize(),
    metavar="SIZE",
    help="Stop a trial whose processes use more resident memory than this (e.g. 2G). "
    "Default: 90% of the memory available at start.",
)
@click.option(
    "--sweep",
    type=click.Choice(["adaptive", "grid"]),
    default="adaptive",
    show_default=True,
    help="adaptive: grow each pool while it pays and refine the knee; grid: every backend at "
    "every size 1, 2, 4... --max-workers.",
)
@click.option(
    "--probe",
    "probes",
    multiple=True,
    metavar="NAME",
    help="Only this probe (repeatable; 'none' for no probes). Default: every installed probe.",
)
@click.option(
    "--profile-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the saved CPU and memory profiles. Default: beside the --json or --html "
    "file (NAME-profiles), else a new temporary folder named in the report.",
)
@click.option(
    "--json",
    "json_path",
    callback=_output_path,
    metavar="PATH",
    help="Write the JSON report here ('-' for standard output).",
)
@click.option(
    "--html",
    "html_path",
    callback=_output_path,
    metavar="PATH",
    help="Write a self-contained HTML report with plots here.",
)
@click.option("--quiet", "-q", is_flag=True, help="No terminal report.")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def analyze(
    target: str,
    args: list[Any] | None,
    kwargs: dict[str, Any] | None,
    inputs: str | None,
    backends: tuple[str, ...],
    max_workers: int,
    budget: float,
    memory_limit: int | None,
    sweep: str,
    probes: tuple[str, ...],
    profile_dir: Path | None,
    json_path: str | None,
    html_path: str | None,
    quiet: bool,
    debug: bool,
) -> int:
    """Measure TARGET ('pkg.module:function' or 'path/file.py:function')."""
    from tunekit.analysis import AnalysisConfig, run_analysis
    from tunekit.plugins import collect_backends, collect_probes, get_plugin_manager
    from tunekit.progress import progress_display, wants_progress
    from tunekit.reporters.text import TextReporter

    if args is not None and inputs is not None:
        raise click.UsageError("give per-task arguments with either --args or --inputs, not both")
    pm = get_plugin_manager()
    _check_names(backends, list(collect_backends(pm)), "--backend", "backend")
    _check_names(probes, [*collect_probes(pm), "none"], "--probe", "probe")
    if "none" in probes and len(probes) > 1:
        raise click.BadParameter(
            "'none' cannot be combined with other probes", param_hint="--probe"
        )
    if profile_dir is None:
        saved_to = json_path if json_path not in (None, "-") else html_path
        profile_dir = _profiles_beside(saved_to)
    config = AnalysisConfig(
        target=target,
        args=args or [],
        kwargs=kwargs or {},
        inputs=inputs,
        backends=backends or None,
        max_workers=max_workers,
        budget=budget,
        memory_limit=memory_limit,
        sweep=sweep,
        probes=None if not probes else [p for p in probes if p != "none"],
        profile_dir=str(profile_dir) if profile_dir is not None else None,
    )
    text_to = sys.stderr if json_path == "-" else sys.stdout
    with progress_display(text_to, budget, enabled=wants_progress(text_to, quiet)) as progress:
        report = run_analysis(config, progress)
    if not quiet:
        console = Console(
            file=text_to, highlight=False, width=None if text_to.isatty() else REPORT_WIDTH
        )
        TextReporter().print_to(console, report)
    if json_path == "-":
        click.echo(report.to_json())
    elif json_path is not None:
        write_atomically(Path(json_path), report.to_json() + "\n")
    if html_path is not None:
        write_atomically(Path(html_path), report.render("html"))
    if report.interrupted:
        return EXIT_INTERRUPTED.get(report.interrupted, 1)
    return 0 if report.recommendation.model is not None else 1


def _check_names(given: Sequence[str], known: list[str], option: str, kind: str) -> None:
    for name in given:
        if name not in known:
            raise click.BadParameter(
                f"unknown {kind} {name!r}; known: {', '.join(known)}", param_hint=option
            )


def _profiles_beside(output: str | None) -> Path | None:
    """``report-profiles/`` beside ``report.json`` (or the HTML file), if there is one."""
    if output is None:
        return None
    path = Path(output)
    return path.with_name(f"{path.stem}-profiles")


@cli.command()
@click.argument("old", metavar="OLD.json", type=click.Path(path_type=Path))
@click.argument("new", metavar="NEW.json", type=click.Path(path_type=Path))
@click.option(
    "--fail-on-regression",
    "threshold",
    type=click.FloatRange(min=0),
    metavar="PCT",
    help="Exit 1 if a configuration got more than PCT % slower, or broke.",
)
def compare(old: Path, new: Path, threshold: float | None) -> int:
    """Show what changed in throughput and recommendation between two JSON reports."""
    from tunekit.compare import run_compare

    return run_compare(old, new, threshold, sys.stdout)


@cli.command()
def plugins() -> int:
    """List the installed backends, probes, report formats and plugin options of ``analyze``,
    and where each comes from."""
    from tunekit.plugins import (
        collect_backends,
        collect_options,
        collect_probes,
        collect_reporters,
        get_plugin_manager,
    )

    pm = get_plugin_manager()
    rows: list[tuple[str, str, str, str]] = []
    for kind, found in (
        ("backend", collect_backends(pm)),
        ("probe", collect_probes(pm)),
        ("reporter", collect_reporters(pm)),
    ):
        rows += [
            (kind, name, reg.source, getattr(reg.item, "description", ""))
            for name, reg in found.items()
        ]
    rows += [
        ("option", flag, reg.source, f"{reg.item.help} (sets {reg.item.env})")
        for flag, reg in collect_options(pm).items()
    ]
    width = max((len(name) for _, name, _, _ in rows), default=0)
    for kind, name, source, description in rows:
        click.echo(f"{kind:9} {name:{width}} {source:22} {description}".rstrip())
    for warning in pm.warnings:
        click.echo(f"warning: {warning}", err=True)
    return 0


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file and a rename: never a truncated file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent or Path(), prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; errors become one line unless ``--debug``."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("TUNEKIT_DEBUG") == "1"
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = cli.main(args=args, prog_name="tunekit", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("tunekit: interrupted", err=True)
        return 130
    except Terminated:
        click.echo("tunekit: terminated", err=True)
        return 143
    except TunekitError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"tunekit: error: {exc}", err=True)
        return exc.exit_code
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"tunekit: internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback)",
            err=True,
        )
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
