"""tunekit: measure a function under every concurrency model and recommend one.

The public API is small on purpose: ``analyze`` runs the same engine the CLI runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tunekit.models import Report

__all__ = ["__version__", "analyze"]


def analyze(target: str, **options: Any) -> Report:
    """Analyze ``target`` ("pkg.mod:func" or "path/file.py:func"); see ``AnalysisConfig``."""
    from tunekit.analysis import AnalysisConfig, run_analysis

    return run_analysis(AnalysisConfig(target=target, **options))
