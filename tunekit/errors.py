"""Errors that end an analysis with a clear one-line message and a known exit code."""

from __future__ import annotations


class TunekitError(Exception):
    """An error the CLI prints as one line (no traceback) and exits with ``exit_code``."""

    exit_code = 1


class TargetError(TunekitError):
    """The target cannot be resolved: bad spec, missing module or attribute, import failure."""


class InputError(TunekitError):
    """The per-task arguments cannot be built (bad JSON, failing ``--inputs`` factory)."""


class PluginError(TunekitError):
    """A plugin is misconfigured, e.g. two plugins register the same backend name."""


class ReportError(TunekitError):
    """A report cannot be read or written."""


class Terminated(BaseException):
    """Raised in the main thread when tunekit receives SIGTERM, so clean-up code runs."""

    exit_code = 143
