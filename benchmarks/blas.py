"""Oversubscription by BLAS threads, side by side: each pool with numpy's native threads as
they are and limited to cores // workers, in interleaved rounds.

The workload is ``tunekit.examples:matrix_product`` (a 300-row matrix product, about 1 ms on
an idle core). Each configuration is one trial as an analysis measures it (its own child
process, a warm-up, then 3 windows of one stream of calls of about ``--window`` seconds,
``tunekit.isolation``). Per round, every pool runs as is, limited, limited, as is (ABBA), so
that a drift in the machine's load weighs on both alike; the rounds go pool after pool, and
the table gives each kind's goodput per round, their medians and the ratio limited / as is.
Sequential calls, as is, are the reference row.

    python benchmarks/blas.py [--rounds 2] [--window 0.2] [--rows 300]
"""

from __future__ import annotations

import argparse
import os
import statistics

from threadpoolctl import threadpool_info

from tunekit.isolation.protocol import TrialRequest
from tunekit.isolation.spawn import run_in_child
from tunekit.models import Trial
from tunekit.plan.inner_limits import inner_threads_for
from tunekit.target import TargetSpec

#: Pools compared: every worker count up to the cores and twice them, where the limit is fewer
#: threads than BLAS runs (on 2 cores with 2 BLAS threads: x2 and x4, limited to 1).
BACKENDS = ("process", "thread")
#: Seconds a trial may run before it is stopped: 30 windows' worth, far above a normal trial.
TIMEOUT_FACTOR = 30


def measure(
    spec: TargetSpec, backend: str, workers: int, inner: int | None, window: float
) -> Trial:
    """One trial, as the analysis runs it, sized from a first guess of 1 ms a call (the child
    re-sizes its windows from its warm-up)."""
    tasks = max(workers, int(window / 0.001))
    request = TrialRequest(
        target=spec,
        backend=backend,
        workers=workers,
        tasks=tasks,
        repeats=3,
        batch_s=window,
        checked=True,
        inner_threads=inner,
    )
    outcome = run_in_child(request, TIMEOUT_FACTOR * window * 3 + 10)
    if not isinstance(outcome.reply, Trial):
        raise SystemExit(f"{backend} x{workers}: {outcome.status} {outcome.reason}")
    return outcome.reply


def main() -> int:
    """Print the BLAS threads, then the side-by-side table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--window", type=float, default=0.2)
    parser.add_argument("--rows", type=int, default=300)
    args = parser.parse_args()
    import numpy  # noqa: F401  (loads the BLAS library threadpoolctl looks for)

    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    threads = max((i["num_threads"] for i in blas), default=1)
    cores = len(os.sched_getaffinity(0))
    print(f"cores: {cores}; load average: {os.getloadavg()[0]:.2f}")
    for info in blas:
        print(f"BLAS: {info['internal_api']} {info['version']}, {info['num_threads']} threads")
    spec = TargetSpec("tunekit.examples:matrix_product", [args.rows])
    pools = [
        (b, w)
        for b in BACKENDS
        for w in (cores, 2 * cores)
        if inner_threads_for(cores, w) < threads
    ]
    if not pools:
        print("BLAS runs no more threads than cores // workers: nothing to limit")
        return 0
    sequential: list[float] = []
    rounds: dict[tuple[str, int], dict[bool, list[float]]] = {
        p: {False: [], True: []} for p in pools
    }
    for number in range(args.rounds):
        sequential.append(measure(spec, "sequential", 1, None, args.window).goodput or 0.0)
        for backend, workers in pools:
            limit = inner_threads_for(cores, workers)
            for limited in (False, True, True, False):
                trial = measure(spec, backend, workers, limit if limited else None, args.window)
                rounds[(backend, workers)][limited].append(trial.goodput or 0.0)
        print(f"round {number + 1} of {args.rounds} done")
    seq = statistics.median(sequential)
    print()
    print(
        f"{'pool':<12} {'limit':>5}  {'as is, calls/s (A of ABBA)':<30} "
        f"{'limited (B of ABBA)':<22} "
        f"{'as is':>7} {'limited':>8} {'ratio':>6} {'vs seq':>7}"
    )
    print(
        f"{'sequential':<12} {'-':>5}  {' '.join(f'{v:.0f}' for v in sequential):<30} {'':<22} "
        f"{seq:7.0f} {'':>8} {'':>6} {1.0:6.2f}x"
    )
    for (backend, workers), found in rounds.items():
        as_is, capped = statistics.median(found[False]), statistics.median(found[True])
        print(
            f"{f'{backend} x{workers}':<12} {inner_threads_for(cores, workers):>5}  "
            f"{' '.join(f'{v:.0f}' for v in found[False]):<30} "
            f"{' '.join(f'{v:.0f}' for v in found[True]):<22} {as_is:7.0f} {capped:8.0f} "
            f"{capped / as_is:5.2f}x {capped / seq:6.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
