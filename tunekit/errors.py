"""Errors that end an analysis with a clear one-line message, and the exit codes they map to."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Every exit code of the ``tunekit`` command (documented in docs/cli.md)."""

    #: The analysis ran and made a recommendation (``compare``: no regression).
    OK = 0
    #: The analysis could not be made (bad target, every call raised, nothing completed), or
    #: ``compare --fail-on-regression`` found a regression.
    FAILED = 1
    #: A usage error: bad options or arguments, a report file that cannot be read.
    USAGE = 2
    #: Interrupted by Ctrl-C (SIGINT); a partial report was written.
    INTERRUPTED = 130
    #: Stopped by SIGTERM; a partial report was written.
    TERMINATED = 143


class TunekitError(Exception):
    """An error the CLI prints as one line (no traceback) and exits with ``exit_code``."""

    exit_code: ExitCode = ExitCode.FAILED


class TargetError(TunekitError):
    """The target cannot be resolved: bad spec, missing module or attribute, import failure."""


class InputError(TunekitError):
    """The per-task arguments cannot be built (bad JSON, failing ``--inputs`` factory)."""


class SetupError(TunekitError):
    """The per-worker setup (``--setup``) cannot be resolved, or its factory failed."""


class PluginError(TunekitError):
    """A plugin is misconfigured, e.g. two plugins register the same backend name."""


class ReportError(TunekitError):
    """A report cannot be read or written."""


class UsageError(TunekitError):
    """A report file or option the command cannot use; exits like a usage error."""

    exit_code = ExitCode.USAGE


class Terminated(BaseException):
    """Raised in the main thread when tunekit receives SIGTERM, so clean-up code runs."""

    exit_code = ExitCode.TERMINATED


#: The errors a child process may report back, by name: the parent raises the same class.
CHILD_ERRORS: dict[str, type[TunekitError]] = {
    cls.__name__: cls
    for cls in (
        TunekitError,
        TargetError,
        InputError,
        SetupError,
        PluginError,
        ReportError,
        UsageError,
    )
}


def error_class(name: str) -> type[TunekitError]:
    """The class a child's error of type ``name`` is raised as in the parent (an unknown
    name, e.g. from a newer child, is a plain ``TunekitError``)."""
    return CHILD_ERRORS.get(name, TunekitError)
