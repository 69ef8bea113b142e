"""The suite: for each workload, the grid that is its reference and how it is analyzed.

A workload's ``Plan`` names the pool sizes its grid measures per backend, the services it calls
and the adaptive analysis's ``--max-workers`` (the grid's largest pool, or none: the engine's
default). Every grid holds the right answer of the workload's docstring and one size beyond
it, and leaves out what cannot change the answer, so that 3 runs of the suite fit in about
100 minutes on a 2-core machine (``accuracy.py`` says how that adds up):

- core-bound work stops at 4 workers (2 cores; 4 shows the oversubscribed side);
- the event loops run a plain function on a thread pool (``sync_via = "thread"``), so for one
  they are threads plus a loop: only coroutines' grids measure them (the adaptive analysis
  still may recommend one, and is then measured side by side against the grid's best);
- calls of seconds skip x1 of a pool where ``sequential`` measures the same one call at a
  time, and measure one family beside the obvious one only at the service's width.

A workload without a plan (a lock workload added later) gets ``DEFAULT``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tunekit.plan.sizing import worker_counts

#: Rounds of side-by-side measurement (each one trial of each configuration, alternating):
#: three trials of three values each, as the engine's own duel measures close contenders.
SIDE_BY_SIDE_ROUNDS = 3
#: For calls of seconds, where one trial lasts 7 calls or more (a warm-up wave, 2 lead-in
#: waves, 3 windows, one wave of wind-down): two rounds, 6 values each.
LONG_SIDE_BY_SIDE_ROUNDS = 2
#: Largest pool size measured with --quick (a smoke run).
QUICK_MAX_WORKERS = 4


def pools(top: int, start: int = 1) -> tuple[int, ...]:
    """1, 2, 4... ``top`` (``top`` included), from ``start`` on."""
    return tuple(n for n in worker_counts(top) if n >= start)


#: The built-in backends: installed plugins (dask, ...) are left out unless --backends names them.
BUILT_IN = ("sequential", "thread", "process", "asyncio", "tornado", "twisted")
SEQUENTIAL = {"sequential": (1,)}
LOOPS = ("asyncio", "tornado", "twisted")


def threads_and_processes(top: int, processes: int | None = None) -> dict[str, tuple[int, ...]]:
    """The sequential baseline, threads to ``top`` and processes to ``processes`` (``top``)."""
    return {**SEQUENTIAL, "thread": pools(top), "process": pools(processes or top)}


@dataclass(frozen=True)
class Plan:
    """How one workload is measured: its grid, its services, the adaptive analysis's cap."""

    #: Backend -> the pool sizes the grid measures.
    grid: Mapping[str, tuple[int, ...]]
    #: Names of the services of ``workloads.SERVICES`` it calls.
    services: tuple[str, ...] = ()
    #: Whether the adaptive analysis gets ``max_workers`` = the grid's largest pool; False:
    #: no explicit value, the engine's default (the wide service: the point is that 16 is not
    #: enough, and that a limit derived from the machine is).
    capped: bool = True
    side_by_side_rounds: int = SIDE_BY_SIDE_ROUNDS

    @property
    def max_workers(self) -> int:
        return max(max(sizes) for sizes in self.grid.values())

    def covers(self) -> str:
        """The grid in words: ``sequential x1; thread x1-16; process x4``."""
        return "; ".join(
            f"{name} x{sizes[0]}" + (f"-{sizes[-1]}" if len(sizes) > 1 else "")
            for name, sizes in self.grid.items()
        )


CORE_BOUND = Plan(threads_and_processes(4))
DEFAULT = Plan(threads_and_processes(8))

PLANS: dict[str, Plan] = {
    "cpu_bound": CORE_BOUND,
    "blocking_service": Plan(threads_and_processes(16), services=("standard",)),
    "async_service": Plan(
        {**SEQUENTIAL, **dict.fromkeys((*LOOPS, "thread"), pools(16))}, services=("standard",)
    ),
    "gil_releasing": CORE_BOUND,
    # Dispatch dominates: sequential is right, and any pool shows it at 1 or 2 workers.
    "tiny": Plan({**SEQUENTIAL, "thread": (1, 2), "process": (1, 2), "asyncio": (1, 2)}),
    # 2.2 ms of CPU and 5 ms of sleep: threads saturate the GIL near x4, 2 cores' worth of
    # processes needs about 2 x 7.2 / 2.2 = 6.5 of them.
    "mixed": Plan(threads_and_processes(16)),
    "coarse_lock": DEFAULT,
    "fine_lock": DEFAULT,
    "memory_heavy": CORE_BOUND,
    # 64 wide: threads to 4x the width (a thread spends part of each call outside the service,
    # so 64 in the service can take more than 64 threads: x128 measured up to 2,745/s against
    # 1,830 for x64); processes up to the width, each a process of its own per call in flight.
    "wide_service": Plan(threads_and_processes(256, 64), services=("wide",), capped=False),
    "busy_service": Plan(threads_and_processes(32, 16), services=("busy",)),
    "cpu_long": Plan(
        {**SEQUENTIAL, "thread": (2,), "process": (2, 4)},
        side_by_side_rounds=LONG_SIDE_BY_SIDE_ROUNDS,
    ),
    "blocking_long": Plan(
        {**SEQUENTIAL, "thread": (2, 4, 8), "process": (4,)},
        services=("slow",),
        side_by_side_rounds=LONG_SIDE_BY_SIDE_ROUNDS,
    ),
    "async_long": Plan(
        {**SEQUENTIAL, "asyncio": (2, 4, 8)},
        services=("slower",),
        side_by_side_rounds=LONG_SIDE_BY_SIDE_ROUNDS,
    ),
    "xml_parse": CORE_BOUND,
    "zlib_compress": CORE_BOUND,
    "pickle_roundtrip": CORE_BOUND,
    "csv_parse": CORE_BOUND,
    "numpy_reduce": CORE_BOUND,
}


def plan_for(workload: str) -> Plan:
    return PLANS.get(workload, DEFAULT)


@dataclass
class Settings:
    """What every analysis and grid of the whole benchmark shares."""

    budget_s: float
    #: Seconds each measured window of a grid trial should last.
    window_s: float
    #: Interleaved rounds of the grid (all configurations, then all again in reverse order).
    rounds: int
    #: Backends to measure (the grids measure those of their plan among them).
    backends: list[str]
    probes: list[str] | None
    #: Cap on every grid's and every adaptive analysis's pool size (--max-workers), or None.
    max_workers: int | None = None
    quick: bool = False
    #: Folder to save every analysis's JSON report in, or None.
    reports: str | None = None

    def grid(self, plan: Plan) -> dict[str, tuple[int, ...]]:
        """``plan``'s grid under these settings: the chosen backends, the cap, --quick.

        A plugin backend named in --backends gets every size up to the plan's largest pool.
        """
        top = self.cap(plan.max_workers)
        grid: dict[str, tuple[int, ...]] = {}
        for name in self.backends:
            sizes: Sequence[int] | None = plan.grid.get(name)
            if sizes is None and name not in BUILT_IN:
                sizes = pools(plan.max_workers)
            if sizes:
                grid[name] = tuple(n for n in sizes if n <= top) or (min(sizes),)
        return grid

    def cap(self, workers: int) -> int:
        """``workers`` under --max-workers and --quick."""
        if self.max_workers is not None:
            workers = min(workers, self.max_workers)
        return min(workers, QUICK_MAX_WORKERS) if self.quick else workers

    def adaptive_max_workers(self, plan: Plan) -> int | None:
        """The adaptive analysis's explicit --max-workers, or None for the engine's default."""
        if plan.capped:
            return self.cap(plan.max_workers)
        return self.max_workers
