"""The rules that judge measured trials, shared by the recommender and the sweep planner.

Configurations are compared by goodput, the calls that succeeded per second: a call that raised
is not speed. A backend is judged at its knee, the smallest pool within 5% of its own best; two
configurations tie when the difference is within the noise of the measurement; a tie goes to
the model that costs the user less to adopt; errors that rise with the pool size are a limit.
Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tunekit.models import Trial
from tunekit.stats import relative_spread

#: The pool size is the smallest within 5% of the chosen backend's best goodput (the knee),
#: judged with a 2% margin for measurement noise: a pool measured within 3% of the best is
#: within 5% of it in truth with high probability (a median of 3 to 6 windows of 0.1 s, as
#: the adaptive sweep measures, is good to about 2%). Without it the knee sat right at 95%
#: and half the time measured below it when measured again.
KNEE_SHARE = 0.95
KNEE_NOISE_MARGIN = 0.02
KNEE_THRESHOLD = KNEE_SHARE + KNEE_NOISE_MARGIN
#: Differences below this fraction of goodput are treated as noise between models: the knee's
#: own margin, so that a cheaper model's tie and its knee cannot add up to more than the 5%
#: the recommendation may give up.
MIN_NOISE = 1 - KNEE_THRESHOLD
#: A very unstable best trial must not make everything a tie: its spread counts up to this.
MAX_NOISE = 0.25
#: The noise band is twice the spread of the best trial's values for a median of this many
#: values; a median of more values is surer by sqrt(values / this), as a mean is.
NOISE_VALUES = 3
#: Errors rise with the pool size when a two-proportion z-test of the error rates gives at
#: least this: one-sided p < 0.0015, so that among the dozens of comparisons an analysis makes,
#: a chance difference in a few errors is almost never called a limit.
ERRORS_Z = 3.0
#: A median call time this many times the shortest measured (one call at a time, or the
#: smallest pool) means calls wait for something shared: by Little's law a pool of W then has
#: only W / 1.5 calls really in progress, so adding workers lengthens a queue. 1.5 sits well
#: above the run-to-run spread of a median latency (a few percent) and below the 2x of a
#: doubling that is all queue.
QUEUE_LATENCY_GROWTH = 1.5
#: The price of failures, a contract of the recommendation rather than a measurement (a failed
#: call costs its caller a retry and the service a request it had to refuse, which goodput
#: does not see): a recommended configuration fails at most ``ERROR_TOLERANCE`` of its calls
#: while a configuration whose errors are fewer, beyond chance, reaches ``CLEAN_SHARE`` of its
#: goodput. In other words, tunekit gives up at most 10% of goodput to fail no more calls than
#: needed, and never more than that (docs/how-it-measures.md, "Goodput").
ERROR_TOLERANCE = 0.05
CLEAN_SHARE = 0.9
#: What a user must adopt to run a function each way, cheapest first: nothing; the standard
#: library's executors, threads before processes (no pickling, no start-up, shared memory);
#: an event loop that only hands plain calls to threads; then whole frameworks. For an
#: ``async def`` the loop itself comes first: asyncio is in the standard library.
SYNC_COST = ("sequential", "thread", "process", "asyncio", "tornado", "twisted")
ASYNC_COST = ("sequential", "asyncio", "thread", "process", "tornado", "twisted")
#: An unknown (plugin) backend ranks after the built-ins in the tie-break.
UNKNOWN_COST = len(SYNC_COST)
#: Backends of one family run tasks the same way (the event loops: one thread driving one
#: loop), so they meet the same limits. A plugin backend is a family of its own.
EVENT_LOOPS = ("asyncio", "tornado", "twisted")
BUILT_IN_FAMILIES = ("sequential", "thread", "process")


def model_family(backend: str) -> str:
    """The kind of model a backend is: ``event loop``, ``thread``, ... or ``plugin NAME``."""
    if backend in EVENT_LOOPS:
        return "event loop"
    return backend if backend in BUILT_IN_FAMILIES else f"plugin {backend}"


def model_cost(backend: str, is_coroutine: bool) -> int:
    """Cost rank for ties: the position in ``SYNC_COST`` or ``ASYNC_COST``."""
    order = ASYNC_COST if is_coroutine else SYNC_COST
    return order.index(backend) if backend in order else UNKNOWN_COST


def goodput(trial: Trial) -> float:
    """The trial's goodput, 0 when it measured none."""
    return trial.goodput or 0.0


def noise_values(trial: Trial) -> list[float]:
    """The values a trial's noise is judged on: the goodput of each separate measurement
    (``rounds``, taken at different moments) when there are two or more, else the windows of
    its one stream (back to back, so they understate the noise between moments)."""
    return list(trial.rounds) if len(trial.rounds) >= 2 else list(trial.goodput_values)


def spread_of(trial: Trial) -> tuple[float, int]:
    """The relative spread of ``noise_values``, and how many values it is over (the recorded
    ``goodput_spread`` over its repeats when the values themselves are not kept)."""
    values = noise_values(trial)
    if len(values) >= 2:
        return relative_spread(values), len(values)
    return trial.goodput_spread or 0.0, trial.repeats or NOISE_VALUES


def noise_band(best: Trial) -> float:
    """Goodput differences from ``best`` smaller than this share are ties: twice the spread of
    its values, for the number of values its median is taken over, within
    [MIN_NOISE, MAX_NOISE]."""
    spread, count = spread_of(best)
    return max(MIN_NOISE, min(2 * spread * math.sqrt(NOISE_VALUES / count), MAX_NOISE))


def ties(trial: Trial, best: Trial, noise: float) -> bool:
    """``trial`` cannot be told from ``best``: within the knee's own margin of it, or within
    the noise band with values that overlap (compared when both are of one kind: rounds, or
    windows of one stream). Every value of one below every value of the
    other is, for 3 values each, a 1-in-20 chance when both are alike (the extreme of a
    Mann-Whitney test); a 6-value duel made such a gap of 7.6% a tie by its spread alone."""
    if goodput(trial) >= goodput(best) * (1 - MIN_NOISE):
        return True
    if goodput(trial) < goodput(best) * (1 - noise):
        return False
    # values of one kind only: separate measurements (rounds) of both, or windows of both; a
    # trial measured once has windows of one stream, closer together than rounds at moments
    # apart, so every one of them can fall below the other's rounds by chance
    if (len(trial.rounds) >= 2) != (len(best.rounds) >= 2):
        return True
    mine, theirs = noise_values(trial), noise_values(best)
    return not (mine and theirs and max(mine) < min(theirs))


def calls_measured(trial: Trial) -> int:
    """Calls the trial's error rate was counted over."""
    return trial.tasks * max(trial.repeats, 1)


def errors_rise(before: Trial, after: Trial) -> bool:
    """``after`` raised on a larger share of its calls than ``before``, beyond chance (a
    two-proportion z-test, ``ERRORS_Z``)."""
    p1, p2 = before.error_rate, after.error_rate
    n1, n2 = calls_measured(before), calls_measured(after)
    if p2 <= p1 or not n1 or not n2:
        return False
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return se == 0 or (p2 - p1) / se >= ERRORS_Z


def knee_of(curve: Sequence[Trial]) -> Trial | None:
    """The smallest pool of one backend's usable trials reaching ``KNEE_THRESHOLD`` of its best
    goodput, among those whose errors do not rise above the cleanest of them."""
    ok = [t for t in curve if t.usable]
    if not ok:
        return None
    best = max(goodput(t) for t in ok)
    close = [t for t in ok if goodput(t) >= KNEE_THRESHOLD * best]
    cleanest = min(close, key=lambda t: t.error_rate)
    clean = [t for t in close if not errors_rise(cleanest, t)]
    return min(clean, key=lambda t: (t.workers, -goodput(t)))


def clean_floor(chosen: Trial) -> float:
    """The goodput a configuration that fails fewer calls than ``chosen`` must reach to be
    taken instead: ``CLEAN_SHARE`` of ``chosen``'s, less the noise of ``chosen``'s measurement
    (``noise_band``). A failing configuration's goodput counts only the calls that got through,
    often few and bursty (refusals are quick, so a window holds many calls but few
    successes): its lead is the contract's 10% only when it is that beyond the noise."""
    return CLEAN_SHARE * goodput(chosen) * (1 - noise_band(chosen))


def cleaner(chosen: Trial, candidates: Sequence[Trial]) -> Trial | None:
    """The configuration to take instead of ``chosen`` when it fails more than
    ``ERROR_TOLERANCE`` of its calls: the best goodput among ``candidates`` that fail fewer,
    beyond chance (``errors_rise``), at most the tolerance, and reach ``clean_floor``; None
    when ``chosen`` stands."""
    if chosen.error_rate <= ERROR_TOLERANCE:
        return None
    floor = clean_floor(chosen)
    clean = [
        t
        for t in candidates
        if t.usable
        and t.error_rate <= ERROR_TOLERANCE
        and errors_rise(t, chosen)
        and goodput(t) >= floor
    ]
    return max(clean, key=goodput, default=None)


def queue_of(trial: Trial, others: Sequence[Trial]) -> tuple[Trial, float] | None:
    """The trial of ``others`` with the shortest median call, and how many times longer the
    calls of ``trial`` took, when that is ``QUEUE_LATENCY_GROWTH`` or more (a queue formed,
    Little's law); None when no queue shows."""
    timed = [t for t in others if t.usable and t.latency_s is not None and t.latency_s.p50 > 0]
    if trial.latency_s is None or not timed:
        return None
    quickest = min(timed, key=lambda t: t.latency_s.p50 if t.latency_s else 0.0)
    assert quickest.latency_s is not None
    growth = trial.latency_s.p50 / quickest.latency_s.p50
    return (quickest, growth) if growth >= QUEUE_LATENCY_GROWTH else None
