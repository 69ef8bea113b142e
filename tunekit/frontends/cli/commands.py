"""The ``tunekit`` command line: a thin click shell over ``tunekit.analyze()``.

``main()`` returns the exit code (``errors.ExitCode``): 0 done, 1 the analysis could not be
made (bad target, the target always fails), 2 usage errors, 130/143 interrupted by
SIGINT/SIGTERM (partial report).
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import click

from tunekit.errors import ExitCode, Terminated, TunekitError
from tunekit.files import write_atomically
from tunekit.frontends.cli.libraries import library_statuses, plugin_distributions
from tunekit.frontends.cli.params import ByteSize, finite, json_value, output_path
from tunekit.frontends.cli.plugin_options import PluginOptionsCommand, run_plugins
from tunekit.frontends.terminal import console_for
from tunekit.plugins import (
    ENTRY_POINT_GROUP,
    collect_backends,
    collect_options,
    collect_probes,
    collect_reporters,
)

EXIT_INTERRUPTED = {"SIGINT": ExitCode.INTERRUPTED, "SIGTERM": ExitCode.TERMINATED}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tunekit", prog_name="tunekit")
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
    callback=json_value(list, "'[1, 2]'"),
    metavar="JSON",
    help="Positional arguments for every call, as a JSON list.",
)
@click.option(
    "--kwargs",
    "kwargs",
    callback=json_value(dict, "'{\"n\": 3}'"),
    metavar="JSON",
    help="Keyword arguments for every call, as a JSON object.",
)
@click.option(
    "--inputs",
    metavar="MODULE:FACTORY",
    help="A callable returning an iterable of argument tuples, one per task.",
)
@click.option(
    "--setup",
    metavar="MODULE:FACTORY",
    help="Run FACTORY once per worker (thread, process, event-loop slot); every call of that "
    "worker gets its result as the first argument. A generator factory is torn down after its "
    "yield; a result with close() is closed.",
)
@click.option(
    "--python",
    "pythons",
    multiple=True,
    metavar="PATH",
    help="Also measure the best configurations under this interpreter (repeatable): a venv's "
    "python with tunekit installed; the report compares them side by side.",
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
    default=None,
    help="Largest pool size tried, a hard cap. Default: pools grow while they pay, as far as "
    "the machine allows (threads, file descriptors, memory) and the budget.",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0, min_open=True),
    callback=finite,
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
    "--start-method",
    type=click.Choice(["fork", "forkserver", "spawn"]),
    default=None,
    help="How the process backend starts its workers (multiprocessing's start method). "
    "Default: the interpreter's default (fork on Linux before 3.14, forkserver from 3.14, "
    "spawn on macOS and Windows).",
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
    callback=output_path,
    metavar="PATH",
    help="Write the JSON report here ('-' for standard output).",
)
@click.option(
    "--html",
    "html_path",
    callback=output_path,
    metavar="PATH",
    help="Write a self-contained HTML report with plots here.",
)
@click.option("--quiet", "-q", is_flag=True, help="No terminal report.")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Every reason and the notes on how each backend's sweep went, in the terminal report.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def analyze(
    ctx: click.Context,
    target: str,
    args: list[Any] | None,
    kwargs: dict[str, Any] | None,
    inputs: str | None,
    setup: str | None,
    pythons: tuple[str, ...],
    backends: tuple[str, ...],
    max_workers: int | None,
    budget: float,
    memory_limit: int | None,
    sweep: str,
    start_method: str | None,
    probes: tuple[str, ...],
    profile_dir: Path | None,
    json_path: str | None,
    html_path: str | None,
    quiet: bool,
    verbose: bool,
    debug: bool,
) -> int:
    """Measure TARGET ('pkg.module:function' or 'path/file.py:function')."""
    from tunekit.frontends.api import analyze, render
    from tunekit.frontends.progress import progress_display, wants_progress
    from tunekit.reporters.text import TextReporter

    if args is not None and inputs is not None:
        raise click.UsageError("give per-task arguments with either --args or --inputs, not both")
    pm = run_plugins(ctx)
    _check_names(backends, list(collect_backends(pm)), "--backend", "backend")
    _check_names(probes, [*collect_probes(pm), "none"], "--probe", "probe")
    if "none" in probes and len(probes) > 1:
        raise click.BadParameter(
            "'none' cannot be combined with other probes", param_hint="--probe"
        )
    if profile_dir is None:
        saved_to = json_path if json_path not in (None, "-") else html_path
        profile_dir = _profiles_beside(saved_to)
    text_to = sys.stderr if json_path == "-" else sys.stdout
    with progress_display(text_to, budget, enabled=wants_progress(text_to, quiet)) as progress:
        report = analyze(
            target,
            args=args,
            kwargs=kwargs,
            inputs=inputs,
            setup=setup,
            pythons=list(pythons),
            budget=budget,
            backends=backends or None,
            max_workers=max_workers,
            progress=progress,
            plugins=pm,
            memory_limit=memory_limit,
            sweep=sweep,
            start_method=start_method,
            probes=None if not probes else [p for p in probes if p != "none"],
            profile_dir=str(profile_dir) if profile_dir is not None else None,
        )
    if not quiet:
        console = console_for(text_to)
        TextReporter(verbose=verbose).print_to(console, report)
    if json_path == "-":
        click.echo(report.to_json())
    elif json_path is not None:
        write_atomically(Path(json_path), report.to_json() + "\n")
    if html_path is not None:
        write_atomically(Path(html_path), render(report, "html", pm))
    if report.interrupted:
        return EXIT_INTERRUPTED.get(report.interrupted, ExitCode.FAILED)
    return ExitCode.OK if report.recommendation.model is not None else ExitCode.FAILED


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
    help="Exit 1 if a configuration got more than PCT % slower, or broke. Refused (exit 2) "
    "when the reports ran different things (target, arguments, budget, backends...).",
)
@click.option(
    "--allow-different",
    is_flag=True,
    help="Judge --fail-on-regression even when the reports ran different things.",
)
def compare(old: Path, new: Path, threshold: float | None, allow_different: bool) -> int:
    """Show what changed in throughput and recommendation between two JSON reports."""
    from tunekit.frontends.compare import run_compare

    return run_compare(old, new, threshold, sys.stdout, allow_different)


@cli.command()
@click.pass_context
def plugins(ctx: click.Context) -> int:
    """List the installed backends, probes, report formats and plugin options of ``analyze``,
    where each comes from, and each plugin's libraries: version and whether they import."""
    pm = run_plugins(ctx)
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
    rows += [
        ("library", lib.name, lib.plugin, lib.describe())
        for lib in library_statuses(plugin_distributions(ENTRY_POINT_GROUP))
    ]
    width = max((len(name) for _, name, _, _ in rows), default=0)
    for kind, name, source, description in rows:
        click.echo(f"{kind:9} {name:{width}} {source:22} {description}".rstrip())
    for warning in pm.warnings:
        click.echo(f"warning: {warning}", err=True)
    return ExitCode.OK


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; errors become one line unless ``--debug``."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("TUNEKIT_DEBUG") == "1"
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = cli.main(args=args, prog_name="tunekit", standalone_mode=False)
        return int(result) if isinstance(result, int) else ExitCode.OK
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("tunekit: interrupted", err=True)
        return ExitCode.INTERRUPTED
    except Terminated:
        click.echo("tunekit: terminated", err=True)
        return ExitCode.TERMINATED
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
        return ExitCode.FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)
