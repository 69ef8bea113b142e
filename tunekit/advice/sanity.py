"""Results that cannot happen: a trial whose numbers contradict the machine is not ranked.

A pool of N workers on C CPUs cannot run work that needs a core per worker faster than
min(N, C) times one worker, beyond the noise of the two measurements (the CPUs, not the free
cores measured once at the start: on a shared machine those move from trial to trial). A
speed-up above that says the baseline was measured in a slow spell, or the calls did not do
the same work (a cache warmed by earlier calls, a service that answered from memory). The
CPU-accounting check runs in the trial's own child, where the stream's length and the number of
processes are known (``isolation.trial``). A target that runs native thread pools (BLAS) is not
bound so: its sequential calls already run several threads, and a pool can oversubscribe them
(slower than one call) or limit them (then faster by more than its workers). Pure: no I/O.
"""

from __future__ import annotations

from tunekit.advice.rules import goodput
from tunekit.models import Trial, Workload

#: Work that needs a core per worker (``advice.classify``).
CORE_BOUND_KINDS = ("cpu-bound", "gil-releasing")


def implausible_speedup(
    trial: Trial, baseline: Trial | None, workload: Workload, cpus: float, noise: float
) -> str | None:
    """Why ``trial``'s speedup over ``baseline`` cannot be, or None when it can."""
    if workload.kind not in CORE_BOUND_KINDS or baseline is None or trial is baseline:
        return None
    if workload.native_threads > 1:
        # the baseline ran native threads (BLAS) of its own, which a pool's workers may have
        # oversubscribed or not: no bound on its speed-up follows from the workers
        return None
    if not goodput(baseline) or not goodput(trial):
        return None
    speedup = goodput(trial) / goodput(baseline)
    bound = min(trial.workers, cpus) * (1 + noise)
    if speedup <= bound:
        return None
    return (
        f"{speedup:.2f}x sequential with {trial.workers} workers on {cpus:g} CPUs "
        f"for {workload.kind} work, more than the {bound:.2f}x the CPUs allow within the "
        f"{noise:.0%} noise: the baseline or this trial did not measure the same work"
    )
