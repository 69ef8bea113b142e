"""The reporter contract: one small class per output format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from tunekit.models import Report


@runtime_checkable
class Reporter(Protocol):
    """Turns a report into text in one format."""

    name: str
    file_extension: str

    def render(self, report: Report) -> str:
        """The whole report in this format."""
