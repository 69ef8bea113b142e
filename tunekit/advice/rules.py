"""The rules that judge measured trials, shared by the recommender and the sweep planner.

A backend is judged at its knee, the smallest pool within 5% of its own best; two
configurations tie when the difference is within the noise of the measurement; a tie goes to
the model that costs the user less to adopt. Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tunekit.models import Trial

#: The pool size is the smallest within 5% of the chosen backend's best throughput (the knee),
#: judged with a 2% margin for measurement noise: a pool measured within 3% of the best is
#: within 5% of it in truth with high probability (a median of 3 to 6 batches of 0.1 s, as
#: the adaptive sweep measures, is good to about 2%). Without it the knee sat right at 95%
#: and half the time measured below it when measured again.
KNEE_SHARE = 0.95
KNEE_NOISE_MARGIN = 0.02
KNEE_THRESHOLD = KNEE_SHARE + KNEE_NOISE_MARGIN
#: Differences below this fraction of throughput are treated as noise between models: the
#: knee's own margin. Repeats within one run agree to a few % (timings vary by up to 2x between
#: runs on a shared machine, which is why competing trials are interleaved), and a tie band of
#: 5% let a cheaper model at its knee land at 0.94 of the best configuration (5% for the model,
#: then 3% for its knee), outside the 5% promised.
MIN_NOISE = 1 - KNEE_THRESHOLD
#: A very unstable best trial must not make everything a tie: its spread counts up to this.
MAX_NOISE = 0.25
#: The noise band is twice the best trial's spread for a median of this many values (a
#: trial's repeats); a median of more values is surer by sqrt(values / this), as a mean is.
#: Without it, the 6 values of a contender measured again side by side (spread 2.3%) still
#: made a 3.8% deficit a tie, and the cheaper model measured again at 0.92 of the best.
NOISE_VALUES = 3
#: An unknown (plugin) backend ranks after the built-ins in the tie-break.
UNKNOWN_COST = 10


#: Cost rank of each kind of model, for ties (see ``model_family``).
FAMILY_COST = {"sequential": 0, "event loop": 1, "thread": 2, "process": 4}
EVENT_LOOPS = ("asyncio", "tornado", "twisted")


def model_family(backend: str) -> str:
    """The kind of model a backend is: backends of one family run tasks the same way (the
    event loops: one thread driving one loop), so they meet the same limits. A plugin
    backend is a family of its own."""
    if backend in EVENT_LOOPS:
        return "event loop"
    return backend if backend in FAMILY_COST else f"plugin {backend}"


def model_cost(backend: str, is_coroutine: bool) -> int:
    """Cost rank for ties: sequential < event loop (for coroutines) < thread < process."""
    family = model_family(backend)
    if family == "event loop" and not is_coroutine:
        return 3  # sync code on a loop is threads plus a loop
    return FAMILY_COST.get(family, UNKNOWN_COST)


def noise_band(best: Trial) -> float:
    """Throughput differences from ``best`` smaller than this share are ties: twice its
    spread, for the number of values its median is taken over, within [MIN_NOISE, MAX_NOISE]."""
    values = len(best.throughput_values) or best.repeats or NOISE_VALUES
    spread = (best.throughput_spread or 0.0) * math.sqrt(NOISE_VALUES / values)
    return max(MIN_NOISE, min(2 * spread, MAX_NOISE))


def ties(trial: Trial, best: Trial, noise: float) -> bool:
    """``trial`` cannot be told from ``best``: within the knee's own margin of it, or within
    the noise band with values that overlap. Every value of one below every value of the
    other is, for 3 values each, a 1-in-20 chance when both are alike (the extreme of a
    Mann-Whitney test); a 6-value duel made such a gap of 7.6% a tie by its spread alone."""
    if _throughput(trial) >= _throughput(best) * (1 - MIN_NOISE):
        return True
    if _throughput(trial) < _throughput(best) * (1 - noise):
        return False
    mine, theirs = trial.throughput_values, best.throughput_values
    return not (mine and theirs and max(mine) < min(theirs))


def knee_of(curve: Sequence[Trial]) -> Trial | None:
    """The smallest pool of one backend's usable trials reaching ``KNEE_THRESHOLD`` of its
    best."""
    ok = [t for t in curve if t.usable]
    if not ok:
        return None
    best = max(_throughput(t) for t in ok)
    close = [t for t in ok if _throughput(t) >= KNEE_THRESHOLD * best]
    return min(close, key=lambda t: (t.workers, -_throughput(t)))


def _throughput(trial: Trial) -> float:
    return trial.throughput or 0.0
