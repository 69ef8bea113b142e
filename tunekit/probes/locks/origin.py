"""Whose code a file is: the user's, the standard library's, site-packages' or tunekit's."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path


def _dirs(*paths: str | None) -> tuple[str, ...]:
    return tuple({os.path.realpath(p) + os.sep for p in paths if p})


#: tunekit's own files (this one is tunekit/probes/locks/origin.py); not from ``import tunekit``,
#: which would make this low layer import the front ends that package imports.
_TUNEKIT_DIR = _dirs(str(Path(__file__).parents[2]))
_PATHS = sysconfig.get_paths()
_SITE_DIRS = _dirs(_PATHS.get("purelib"), _PATHS.get("platlib"))
_STDLIB_DIRS = _dirs(_PATHS.get("stdlib"), _PATHS.get("platstdlib"))
_origins: dict[str, str] = {}


def origin_of(filename: str) -> str:
    """``user``, ``stdlib``, ``site-packages``, ``tunekit`` or ``unknown`` (frozen, exec'd)."""
    origin = _origins.get(filename)
    if origin is None:
        origin = _origins[filename] = _classify_path(filename)
    return origin


def _classify_path(filename: str) -> str:
    if filename.startswith("<"):
        return "unknown"
    path = os.path.realpath(filename)
    if path.startswith(_TUNEKIT_DIR):
        return "tunekit"
    parts = Path(path).parts
    if path.startswith(_SITE_DIRS) or "site-packages" in parts or "dist-packages" in parts:
        return "site-packages"
    if path.startswith(_STDLIB_DIRS):
        return "stdlib"
    return "user"
