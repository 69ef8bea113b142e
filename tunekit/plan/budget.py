"""How an analysis's budget is shared, planned from the call time the calibration measured.

The probes explain and classify; the trials decide. So the probes get a bounded share of the
budget, each only if its shortest run fits what is left of that share (a call of two seconds
leaves room for few of them), and the trials get the rest. When even the smallest sweep that
can recommend (the sequential baseline and one trial of one concurrent model) does not fit,
the analysis says how much budget it needs instead of measuring half of something.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tunekit.plan.sizing import LONG_LEAD_WAVES
from tunekit.units import format_seconds

#: Share of the budget the probes may use together: enough for the four built-in probes on
#: calls of up to about 0.1 s (each runs about 2 x ``PROBE_TIME_S`` of calls), and a bound that
#: scales with the budget, so that long calls keep four fifths of it for the trials.
PROBE_SHARE = 0.2
#: The most seconds of calls each probe aims for (half a second is 500 pyinstrument samples at
#: its 1 ms interval, and thousands of lock acquisitions for the lock probe).
PROBE_TIME_S = 0.5
#: A probe runs about this many times its ``time_s`` of calls (the passes of the profilers,
#: the lock probe's run and its overhead benchmark).
PROBE_PASSES = 2.0
#: Seconds of calls a probe aims for at the least, when the share is small: 50 samples of
#: pyinstrument's 1 ms interval, and tens of thousands of lock acquisitions.
MIN_PROBE_TIME_S = 0.05
#: Calls' worth of time a probe needs at the least, when it does not say (``Probe.min_calls``):
#: a warm-up call and two measured ones.
DEFAULT_MIN_CALLS = 3.0
#: A probe may run this many times its planned time, plus this many seconds, before it is
#: stopped (profilers slow calls down and write their files afterwards).
PROBE_TIMEOUT_FACTOR = 3.0
PROBE_TIMEOUT_S = 5.0
#: Windows the smallest trial of long calls measures.
MIN_REPEATS = 1


@dataclass(frozen=True)
class ProbePlan:
    """One probe's part of the budget: its seconds of calls and timeout, or why it is skipped."""

    name: str
    time_s: float
    planned_s: float
    skipped: str | None = None

    def timeout_s(self, spare_s: float) -> float:
        """Seconds the probe may run before it is stopped: a few times its plan (profilers
        slow calls down and write files after), within the ``spare_s`` the trials can spare."""
        return max(min(PROBE_TIMEOUT_FACTOR * self.planned_s + PROBE_TIMEOUT_S, spare_s), 0.0)


def plan_probes(
    probes: Sequence[tuple[str, float]],
    *,
    budget_s: float,
    call_s: float,
    overhead_s: float,
) -> list[ProbePlan]:
    """Plan each of ``probes`` ((name, min_calls), in order) within ``PROBE_SHARE`` of the budget:
    each gets ``time_s`` of calls and runs if its shortest run (``min_calls`` calls of
    ``call_s``, plus a child's ``overhead_s``) fits in what is left of the share."""
    if not probes:
        return []
    share = PROBE_SHARE * budget_s
    room = max(share / len(probes) - overhead_s, 0.0) / PROBE_PASSES
    time_s = max(MIN_PROBE_TIME_S, min(PROBE_TIME_S, room))
    plans: list[ProbePlan] = []
    left = share
    for name, min_calls in probes:
        planned = overhead_s + max(PROBE_PASSES * time_s, min_calls * call_s)
        if planned > left:
            needed = planned / PROBE_SHARE
            plans.append(
                ProbePlan(
                    name,
                    time_s,
                    planned,
                    skipped=(
                        f"its shortest run ({min_calls:g} calls of {format_seconds(call_s)}) "
                        f"needs about {planned:.1f} s, more than the {max(left, 0):.1f} s left of "
                        f"the probes' share of the budget; a --budget of {needed:.0f} s would "
                        "fit it"
                    ),
                )
            )
            continue
        plans.append(ProbePlan(name, time_s, planned))
        left -= planned
    return plans


def smallest_sweep_s(call_s: float, overhead_s: float, baseline_measured: bool) -> float:
    """Seconds of the smallest sweep that can recommend: the sequential baseline (unless the
    calibration measured it) and one concurrent model at 2 workers, each a trial of long calls
    with ``MIN_REPEATS`` window of one wave."""
    waves = LONG_LEAD_WAVES + MIN_REPEATS + 1  # lead, windows, tail
    trials = 1 if baseline_measured else 2
    return trials * (overhead_s + waves * call_s)


def budget_needed_line(call_s: float, needed_s: float, left_s: float, spent_s: float) -> str:
    """The one line that says the budget cannot hold a recommendation, and what would: what
    was spent so far (the calibration) and the smallest sweep."""
    return (
        f"a call takes {format_seconds(call_s)}: the smallest sweep that can recommend (the "
        f"sequential baseline and one concurrent model, a few calls each) needs about "
        f"{needed_s:.0f} s, and {max(left_s, 0):.0f} s of the budget were left; give --budget "
        f"{math.ceil(spent_s + needed_s)} or more"
    )
