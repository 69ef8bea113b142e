"""Native thread pools (BLAS, OpenMP) in this process: which are loaded, and limiting them.

numpy and scipy run their linear algebra on a pool of threads per process, as many as the
machine has cores; a pool of workers, each with such a pool, oversubscribes the cores. This
module wraps threadpoolctl, which finds those libraries loaded in the process and sets their
thread counts at run time.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from threadpoolctl import ThreadpoolController

from tunekit.models import NativePool


def native_pools() -> list[NativePool]:
    """The native thread pools loaded in this process now, one per library."""
    return [_pool(info) for info in ThreadpoolController().info()]


def _pool(info: dict[str, Any]) -> NativePool:
    version = info.get("version")
    return NativePool(
        library=str(info.get("internal_api") or info.get("prefix") or "unknown"),
        api=str(info.get("user_api") or "unknown"),
        threads=int(info.get("num_threads") or 1),
        version=str(version) if version else None,
        package=package_of(str(info.get("filepath") or "")),
    )


def package_of(path: str) -> str | None:
    """The installed package a library file belongs to: the folder after ``site-packages``
    (wheels bundle theirs in ``numpy.libs``, ``scipy.libs``, ``torch/lib``)."""
    parts = PurePath(path).parts
    for here, part in enumerate(parts[:-2]):
        if part in ("site-packages", "dist-packages"):
            return parts[here + 1].removesuffix(".libs")
    return None


def limit_native_threads(threads: int) -> None:
    """Limit every native pool loaded in this process to ``threads``, for the process's life
    (limits are process-wide: every thread of the process shares them). Libraries loaded later
    keep their own count: call again after the first call of a target that imports lazily."""
    ThreadpoolController().limit(limits=threads)
