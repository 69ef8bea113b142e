"""Command-line options that plugins add to ``tunekit analyze``.

Trial and probe processes are fresh interpreters that inherit the environment of the
``tunekit`` process, and nothing else. So an option contributed by a plugin is carried to the
plugin's backend or probe there through an environment variable: ``tunekit analyze`` puts the
value given in ``os.environ[option.env]`` for the duration of the analysis, and the plugin reads
that variable wherever it runs. The parent never needs to know what an option means, and the
variable alone (set by hand, without the option) works the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FLAG = re.compile(r"--[a-z0-9][a-z0-9-]*")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class PluginOption:
    """One ``--flag VALUE`` option of ``tunekit analyze``, exported as ``env`` to the trials."""

    #: The long option, e.g. ``--dask-scheduler``: unique across plugins.
    flag: str
    #: The environment variable the value is put in, e.g. ``TUNEKIT_DASK_SCHEDULER``.
    env: str
    help: str
    metavar: str = "VALUE"

    def __post_init__(self) -> None:
        if not _FLAG.fullmatch(self.flag):
            raise ValueError(f"option flag must look like '--my-option', not {self.flag!r}")
        if not _ENV.fullmatch(self.env):
            raise ValueError(f"option env must be a variable name, not {self.env!r}")

    @property
    def name(self) -> str:
        """The flag: what two plugins must not both register."""
        return self.flag
