"""Report fields newer than schema 1, read so that this renderer works before and after they
exist: ``report.fits`` and ``report.profiles`` may be dataclasses or plain mappings."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tunekit.models import Report


def fits(report: Report) -> dict[str, dict[str, Any]]:
    """The scaling-model fit of each backend (``report.fits``), or none."""
    found = getattr(report, "fits", None)
    if isinstance(found, dict):
        return {str(k): as_dict(v) for k, v in found.items() if v is not None}
    return {}


def as_dict(value: Any) -> dict[str, Any]:
    """A dataclass instance or a mapping as a dict; anything else as an empty one."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return dict(value) if isinstance(value, dict) else {}
