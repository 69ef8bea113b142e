"""The ``tunekit`` command (``tunekit.frontends.cli:main``)."""

from tunekit.frontends.cli.commands import cli, main

__all__ = ["cli", "main"]
