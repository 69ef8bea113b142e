"""The counters of a primitive other than a lock (a condition, event, barrier, asyncio
primitive), counted at the site that made it."""

from __future__ import annotations

import sys
from typing import Any

from tunekit.probes.locks.frames import AtTable
from tunekit.probes.locks.registry import REGISTRY


class Tallied:
    """Counters for a primitive counted at a site: ``_n`` (counts), ``_s`` (seconds) and
    ``_at`` (counts per line of the call); changed only under the primitive's own lock."""

    _site: Any
    _n: dict[str, int]
    _s: dict[str, float]
    _at: AtTable
    _counted: tuple[str, ...] = ()

    def _register(self, kind: str, new: bool = True) -> None:
        self._site = REGISTRY.site_of(sys._getframe(1), kind, new)  # past this package's frames
        REGISTRY.add_primitive(self._site, self)

    def zero(self) -> None:
        """Start counting afresh."""
        self._n = dict.fromkeys(self._counted, 0)
        self._s = {"wait_s": 0.0, "wait_max_s": 0.0}
        self._at = {}

    def _waited(self, at: list[float], seconds: float) -> None:
        at[0] += 1
        at[2] += seconds
        self._n["waits"] += 1
        self._s["wait_s"] += seconds
        self._s["wait_max_s"] = max(self._s["wait_max_s"], seconds)

    def tally(self) -> dict[str, Any]:
        """What was counted."""
        return {
            **self._n,
            **self._s,
            "acquired_at": {key: list(counts) for key, counts in self._at.items()},
        }

    def __del__(self) -> None:
        site = getattr(self, "_site", None)
        if site is not None:
            REGISTRY.fold_primitive(site, self)
