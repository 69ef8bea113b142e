"""The engine: a thin orchestrator (``analysis``) over a budget, a bench that measures trials
in child processes, and the strategies that decide what to measure next.

``run_analysis(AnalysisConfig(...))`` is what every front end calls.
"""

from tunekit.engine.analysis import run_analysis
from tunekit.engine.config import AnalysisConfig, ProgressCallback

__all__ = ["AnalysisConfig", "ProgressCallback", "run_analysis"]
