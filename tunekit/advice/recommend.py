"""From measured trials to advice: a pure function, no I/O.

Configurations are judged on goodput (calls that succeeded per second). Each backend is judged
at its knee, the smallest pool within 5% of its own best. Backends whose knee is within noise of
the best configuration measured are ties, which go to the model that costs the user less to
adopt; when there are several, the report says there is no clear winner. Comparing at the knee,
not at each backend's peak, keeps the two tolerances from adding up: the recommended
configuration itself is within the noise band of the best one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from tunekit.advice import reasons as why
from tunekit.advice.rules import (
    clean_floor,
    cleaner,
    errors_rise,
    goodput,
    knee_of,
    model_cost,
    noise_band,
    queue_of,
    ties,
)
from tunekit.models import Machine, Recommendation, Trial, Workload

#: Workloads that need a core per worker: more workers than free cores only add contention.
CORE_BOUND_KINDS = ("cpu-bound", "gil-releasing")


def core_cap(workload: Workload, machine: Machine | None) -> int | None:
    """Most workers worth having for work that needs a core each: the free cores, the more of
    the two measurements (before and after the sweep: on a shared machine they move)."""
    if machine is None or workload.kind not in CORE_BOUND_KINDS:
        return None
    measured = [c for c in (machine.capacity_cores, machine.capacity_after_cores) if c is not None]
    free = max(measured) if measured else machine.cpus
    return max(1, round(free))


def recommend(
    trials: Sequence[Trial],
    workload: Workload,
    machine: Machine | None = None,
    *,
    via: Mapping[str, str] | None = None,
    stopped: Mapping[str, str] | None = None,
    settled: Collection[str] = (),
) -> Recommendation:
    """Choose the backend and pool size with the best goodput, ties to the cheaper one.

    ``via`` maps a backend to the one whose pool runs plain functions for it (the event loops:
    ``thread``): for a plain function it can only tie with that one or trail it, so it is not
    chosen when that one was measured. ``stopped`` says, per backend, why its pool stopped
    growing and what to do for more (for the still-scaling reason); ``settled`` names the
    backends whose growth stopped because what was measured said a larger pool would not pay
    (a fitted curve, a queue): those are never still scaling. For core-bound work, pools
    above the measured free cores are taken only when they measured better beyond the noise.
    """
    usable = everything = [t for t in trials if t.usable]
    if not usable:
        return Recommendation(None, None, None, None, [why.nothing_worked(trials)])
    measured = {t.backend for t in usable}
    runs_on_other = {
        name
        for name, pool in (via or {}).items()
        if not workload.is_coroutine and name in measured and pool in measured and name != pool
    }
    usable = [t for t in usable if t.backend not in runs_on_other] or usable
    usable, capped = _within_cores(usable, workload, machine)
    peaks = _peaks(usable)
    best = max(peaks.values(), key=goodput)
    noise = noise_band(best)
    knees = [knee_of([t for t in usable if t.backend == name]) or p for name, p in peaks.items()]
    tied = [k for k in knees if ties(k, best, noise)]
    cleanest = min(tied, key=lambda t: t.error_rate)
    tied = [k for k in tied if not errors_rise(cleanest, k)]
    chosen = min(
        tied, key=lambda k: (model_cost(k.backend, workload.is_coroutine), k.workers, -goodput(k))
    )
    failing, clean = chosen, _cleaner_choice(chosen, usable, workload)
    if clean is not None:
        chosen, tied = clean, [clean]
    baseline = next((t for t in everything if t.backend == "sequential"), None)
    speedup = goodput(chosen) / goodput(baseline) if baseline and goodput(baseline) else None
    reasons = [why.headline(chosen, baseline, speedup)]
    if len(tied) > 1:
        reasons.append(why.no_clear_winner(chosen, tied, noise))
    reasons += capped
    reasons += why.knee(usable, chosen)
    still = _still_scaling(usable, chosen) if chosen.backend not in settled else None
    if still is not None:
        reasons.append(why.still_scaling(chosen, still, (stopped or {}).get(chosen.backend)))
    reasons += why.memory(trials, chosen)
    gil_enabled = machine.gil_enabled if machine is not None else True
    reasons += why.not_threads(everything, workload, baseline, noise, gil_enabled=gil_enabled)
    if chosen.backend == "sequential" and workload.kind == "overhead-bound":
        reasons.append(why.batching(workload))
    if chosen.backend == "process" and chosen.chunksize and chosen.chunksize > 1:
        reasons.append(why.chunks(chosen.chunksize))
    reasons += why.runs_on_other(sorted(runs_on_other), via or {})
    reasons += why.other_backends(everything, chosen, baseline)
    if clean is not None:
        reasons.insert(1, why.fewer_errors(chosen, failing))
    reasons += why.errors(chosen, everything)
    return Recommendation(
        model=chosen.backend,
        pool_size=chosen.workers,
        throughput=chosen.throughput,
        speedup=speedup,
        reasons=reasons,
        chunksize=chosen.chunksize if chosen.backend == "process" else None,
        goodput=chosen.goodput,
        still_scaling=still is not None,
        tied=[t.key for t in tied] if len(tied) > 1 else [],
    )


def _cleaner_choice(chosen: Trial, usable: Sequence[Trial], workload: Workload) -> Trial | None:
    """What to take instead of ``chosen`` when it fails too many calls (``rules.cleaner``):
    of the configurations that fail fewer and still reach ``rules.clean_floor``, the cheapest
    model tied with the best of them; None when ``chosen`` stands."""
    best = cleaner(chosen, usable)
    if best is None:
        return None
    floor = clean_floor(chosen)
    noise = noise_band(best)
    candidates = [
        t
        for t in usable
        if t.error_rate <= best.error_rate + noise
        and not errors_rise(best, t)
        and goodput(t) >= floor
        and ties(t, best, noise)
    ]
    return min(
        candidates or [best],
        key=lambda t: (model_cost(t.backend, workload.is_coroutine), t.workers, -goodput(t)),
    )


def _within_cores(
    usable: list[Trial], workload: Workload, machine: Machine | None
) -> tuple[list[Trial], list[str]]:
    """The trials to choose from for core-bound work: those within the free cores, unless a
    larger pool measured better beyond the noise (the kind may be wrong: a call that waits on
    a subprocess looks like computing)."""
    cap = core_cap(workload, machine)
    if cap is None or not any(t.workers <= cap for t in usable):
        return usable, []
    within = [t for t in usable if t.workers <= cap]
    fastest, best_within = max(usable, key=goodput), max(within, key=goodput)
    if fastest.workers <= cap:
        return within, []
    noise = max(noise_band(fastest), noise_band(best_within))  # as the tie rules judge them
    if goodput(fastest) > goodput(best_within) * (1 + noise):
        return usable, [why.beyond_cores(fastest, best_within, cap, workload)]
    return within, [why.capped(cap, fastest, workload, machine)]


def _still_scaling(usable: Sequence[Trial], chosen: Trial) -> Trial | None:
    """The smaller pool ``chosen`` gained on, beyond the noise, when it is the largest pool of
    its backend measured: growth stopped while it still paid."""
    same = [t for t in usable if t.backend == chosen.backend]
    if max(t.workers for t in same) != chosen.workers:
        return None
    below = [t for t in same if t.workers < chosen.workers]
    if not below:
        return None
    previous = max(below, key=lambda t: t.workers)
    if goodput(chosen) <= goodput(previous) * (1 + noise_band(chosen)):
        return None
    if queue_of(chosen, below) is not None:  # its calls already wait: a larger pool waits more
        return None
    return previous


def _peaks(usable: Sequence[Trial]) -> dict[str, Trial]:
    """Each backend's fastest trial."""
    peaks: dict[str, Trial] = {}
    for trial in usable:
        if trial.backend not in peaks or goodput(trial) > goodput(peaks[trial.backend]):
            peaks[trial.backend] = trial
    return peaks
