"""Planning what to measure: trial sizes, the grid, and the adaptive sweep's decisions.

Pure: it decides from what was measured, never measures (``tunekit.engine`` does).
"""

from tunekit.plan.sizing import TrialPlan

__all__ = ["TrialPlan"]
