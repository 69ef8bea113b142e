"""tunekit: measure a function under every concurrency model and recommend one.

The public API is small on purpose: ``analyze`` runs the same engine the CLI runs.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Light imports only: the decorator is imported by user code at start-up.
from tunekit.api import analyze
from tunekit.decorator import profile, report

__all__ = ["__version__", "analyze", "profile", "report"]
