"""The JSON report (schema ``tunekit.report/1``), as a plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tunekit.hookspecs import hookimpl

if TYPE_CHECKING:
    from tunekit.models import Report
    from tunekit.reporters import Reporter


class JsonReporter:
    """The machine-readable report; round-trips through ``Report.from_json``."""

    name = "json"
    file_extension = ".json"

    def render(self, report: Report) -> str:
        """The report as indented JSON with a trailing newline."""
        return report.to_json(indent=2) + "\n"


@hookimpl
def tunekit_register_reporters(register: Callable[[Reporter], None]) -> None:
    """Register the JSON reporter."""
    register(JsonReporter())
