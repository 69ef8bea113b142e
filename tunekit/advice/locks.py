"""Lock-granularity advice per creation site, from the lock probe's counts: a pure function.

Every threshold is here, with where it comes from. The advice is one of ``shrink`` (move the
slow part out of the critical section), ``split`` (stripe the lock by key), ``merge`` (take it
once per batch) and ``keep``; each comes with the measured numbers behind it and a reason in
plain words. Rules, first match wins:

1. never taken, or no run time measured: keep;
2. hot, and the holder waits inside (hold CPU/wall low): shrink;
3. hot, and each hold is long work, unless the GIL serializes that work anyway: shrink;
4. threads wait for it, holds are short, and the work really runs in parallel (it releases
   the GIL, or the GIL is disabled): split;
5. its acquisitions cost a noticeable share of the CPU time: merge;
6. otherwise keep, saying why when it was hot or contended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tunekit.advice.primitives import advise_primitive, under_model
from tunekit.units import format_seconds

#: A lock held this share of the run is hot. Queueing (M/M/1): at utilization U an arrival
#: waits U/(1-U) holds on average, as long as the hold itself at U = 0.5; above, waits dominate.
HOT_UTILIZATION = 0.5
#: Threads waiting for a lock this share of their time lose throughput the analysis can see:
#: twice the 5% the recommendation may give up for a smaller pool (recommend.KNEE_SHARE).
COSTLY_WAIT_SHARE = 0.10
#: Hold CPU/wall at or below this: at least half the critical section is spent off-CPU
#: (sleeping, on I/O, on another lock), midway between classify.py's "mostly waits" (0.2) and
#: "mostly computes" (0.8).
BLOCKING_HOLD_CPU = 0.5
#: A mean hold this long is a task's work, not an update of shared state: it is the GIL switch
#: interval (``sys.getswitchinterval()``, 5 ms), the longest CPython lets a thread run before
#: handing over; an update under ``with lock:`` takes microseconds (DESIGN.md: ~0.2 us a take).
LONG_HOLD_S = 0.005
#: Acquisitions whose own cost (uninstrumented) is this share of the run's CPU time are worth
#: batching: the 5% the recommendation may give up for a smaller pool (recommend.KNEE_SHARE).
MERGE_COST_SHARE = 0.05
#: Holds shorter than this are too short for their CPU share to mean anything: reading the
#: thread CPU clock costs ~0.45 us here, so a hold must last ~40x that for 2 reads to be <3%.
MIN_SAMPLED_HOLD_S = 20e-6
#: A contended lock held this briefly guards one item, not a unit of work: 100x an
#: uncontended take (~0.1 us), so taking and handing it over costs more than the work inside.
FINE_HOLD_S = 10e-6
#: One uncontended acquire+release when the probe did not measure it: ``with lock:`` ~200 ns
#: on the reference machine (DESIGN.md; the lock probe measures it, ~120 ns).
UNCONTENDED_ACQUIRE_S = 200e-9
#: Workload kinds (classify.py) where two threads' critical sections can really run at once:
#: native code that releases the GIL. Locks of ``threading`` are not shared across processes.
PARALLEL_KINDS = ("gil-releasing",)
#: Kinds where the GIL serializes the work whether it is inside a lock or not (pure Python).
GIL_BOUND_KINDS = ("cpu-bound",)

#: Most pressing first: the lock rules' and those of ``primitives``.
ADVICE = (
    "limit",
    "grow-producers",
    "grow-consumers",
    "raise-bound",
    "shrink",
    "read-write",
    "split",
    "notify-one",
    "wake-fewer",
    "merge",
    "keep",
)


def advise_locks(
    sites: Sequence[dict[str, Any]],
    workload_kind: str | None,
    wall_s: float,
    threads: int,
    *,
    cpu_s: float | None = None,
    core_share: float = 1.0,
    model: str | None = None,
    pool_size: int | None = None,
    gil_enabled: bool = True,
) -> list[dict[str, Any]]:
    """Advice per lock site, most pressing first.

    ``sites`` are the lock probe's ``locks`` entries: ``site``, ``kind``, ``acquisitions``,
    ``contended``, ``wait_s``, ``hold_s`` (wall), ``hold_cpu_s`` over ``hold_cpu_wall_s`` (the
    holds whose CPU was sampled), optionally ``locks`` and ``busiest_hold_s`` (a site that
    made many locks: the busiest one's hold), ``acquire_s`` (one uncontended take, measured).
    ``wall_s`` is the run's length with ``threads`` threads (or coroutines in flight);
    ``cpu_s`` its CPU time without the probe's overhead (default: ``wall_s``, one core, as
    pure-Python threads use under the GIL); ``core_share`` the share of a core a spinning
    thread got (a busy machine lowers every CPU/wall, so hold CPU/wall is divided by it).
    ``model`` and ``pool_size`` are the recommendation's: each reason then says what becomes of
    the primitive there (``primitives.under_model``); ``gil_enabled`` False (a free-threaded
    build) lets every kind of work run in parallel.
    """
    advice = [
        _advise(
            site,
            workload_kind,
            float(site.get("run_wall_s") or wall_s),  # a site measured in a run of its own
            max(int(site.get("run_threads") or threads), 1),
            cpu_s,
            core_share,
            gil_enabled,
        )
        for site in sites
    ]
    for entry in advice:
        entry["reason"] += under_model(entry, model, pool_size)
    return sorted(advice, key=lambda a: (ADVICE.index(a["advice"]), -(a["utilization"] or 0.0)))


def advise_from_probe(
    data: dict[str, Any],
    workload_kind: str | None,
    model: str | None = None,
    pool_size: int | None = None,
    *,
    gil_enabled: bool = True,
) -> list[dict[str, Any]]:
    """``advise_locks`` on the raw data of the ``locks`` probe (``ProbeRun.data``), under the
    recommended ``model`` and ``pool_size`` when known."""
    return advise_locks(
        data.get("locks", []),
        workload_kind,
        float(data.get("wall_s") or 0.0),
        int(data.get("threads") or 1),
        cpu_s=data.get("cpu_s_without_probe"),
        core_share=float(data.get("core_share") or 1.0),
        model=model,
        pool_size=pool_size,
        gil_enabled=gil_enabled,
    )


def _advise(
    site: dict[str, Any],
    kind: str | None,
    wall_s: float,
    threads: int,
    cpu_s: float | None,
    core_share: float,
    gil_enabled: bool,
) -> dict[str, Any]:
    acquisitions = int(site.get("acquisitions", 0))
    contended = int(site.get("contended", 0))
    wait_s = float(site.get("wait_s", 0.0))
    hold_s = float(site.get("hold_s", 0.0))
    locks = int(site.get("locks", 1))
    # Many locks made at one line (one per object): the hot one is the busiest, not the sum.
    busiest = float(site.get("busiest_hold_s", hold_s)) if locks > 1 else hold_s
    cpu_wall = float(site.get("hold_cpu_wall_s", 0.0))
    share = core_share if core_share > 0 else 1.0
    cpu_fraction = (
        min(1.0, float(site.get("hold_cpu_s", 0.0)) / cpu_wall / share) if cpu_wall > 0 else None
    )
    mean_hold = hold_s / acquisitions if acquisitions else 0.0
    cost_s = acquisitions * float(site.get("acquire_s", UNCONTENDED_ACQUIRE_S))
    cpu_time = cpu_s if cpu_s is not None and cpu_s > 0 else wall_s
    measured = wall_s > 0
    utilization = busiest / wall_s if measured else None
    wait_share = wait_s / (wall_s * threads) if measured else 0.0
    cost_share = min(1.0, cost_s / cpu_time) if cpu_time > 0 else 0.0
    entry: dict[str, Any] = {
        "site": site.get("site", "?"),
        "kind": site.get("kind", "Lock"),
        "acquisitions": acquisitions,
        "contended": contended,
        "wait_s": wait_s,
        "hold_s": hold_s,
        "utilization": utilization,
        "advice": "keep",
        "reason": "",
        "locks": locks,
        "contended_share": contended / acquisitions if acquisitions else 0.0,
        "wait_share": wait_share,
        "wait_max_s": float(site.get("wait_max_s", 0.0)),
        "mean_hold_s": mean_hold,
        "hold_max_s": float(site.get("hold_max_s", 0.0)),
        "hold_cpu_fraction": cpu_fraction,
        "acquire_cost_share": cost_share,
    }
    entry |= {"wall_s": wall_s, "threads": threads}
    own = advise_primitive(entry, site)
    lock_rule = _rule(entry, kind, gil_enabled)
    if own is None or (own[0] == "read-write" and lock_rule[0] == "shrink"):
        own = lock_rule
    entry["advice"], entry["reason"] = own
    # Times it was used: taken (a lock, a semaphore), put to or got from, or waited on.
    entry["uses"] = acquisitions or sum(int(site.get(n, 0)) for n in ("puts", "gets", "waits"))
    for table in ("acquired_at", "put_at", "get_at", "wait_at"):
        if table in site:
            entry[table] = list(site[table])
    entry["reason"] += where(entry)
    return entry


def where(entry: dict[str, Any]) -> str:
    """The end of every reason: the lines that use the primitive (the critical section: the
    busiest acquisition line; a queue's put and get lines; a condition's wait line) and the
    line that made it, with how many instances that line made."""
    made = f"made at {entry['site']}"
    if entry.get("locks", 1) > 1:
        made += f" ({entry['locks']} instances, judged by the busiest)"
    used = [
        _busiest(entry.get(table) or [], verb)
        for table, verb in (
            ("put_at", "put"),
            ("get_at", "get"),
            ("wait_at", "waits"),
            ("acquired_at", "taken"),
        )
    ]
    return f" [{'; '.join([*(u for u in used if u), made])}]"


def _busiest(rows: list[dict[str, Any]], verb: str) -> str:
    """``verb at file:line (share of the calls)`` for the busiest of ``rows``, if any."""
    if not rows:
        return ""
    top = rows[0]
    total = sum(int(s["acquisitions"]) for s in rows) or 1
    more = f", and {len(rows) - 1} other line(s)" if len(rows) > 1 else ""
    return f"{verb} at {top['site']} ({int(top['acquisitions']) / total:.0%} of calls){more}"


def _rule(entry: dict[str, Any], kind: str | None, gil_enabled: bool) -> tuple[str, str]:
    """The advice and its reason, from the measures in ``entry``."""
    acquisitions, utilization = entry["acquisitions"], entry["utilization"]
    wait_share, cpu_fraction = entry["wait_share"], entry["hold_cpu_fraction"]
    mean_hold, cost_share = entry["mean_hold_s"], entry["acquire_cost_share"]
    if acquisitions == 0:
        return "keep", "not taken during the run"
    if utilization is None:
        return "keep", "the run's length was not measured, so neither contention nor cost is known"
    held = f"held {utilization:.0%} of the run"
    waited = (
        f"callers waited {format_seconds(entry['wait_s'])} for it ({wait_share:.0%} of their time)"
    )
    mean = f"{format_seconds(mean_hold)} a hold"
    hot = utilization >= HOT_UTILIZATION or wait_share >= COSTLY_WAIT_SHARE
    measurable = mean_hold >= MIN_SAMPLED_HOLD_S
    if hot and measurable and cpu_fraction is not None and cpu_fraction <= BLOCKING_HOLD_CPU:
        return "shrink", (
            f"{held}, but the holder computed only {cpu_fraction:.0%} of that time: it waits "
            f"(sleep, I/O, another lock) inside the critical section; {waited}. Do the "
            "waiting before taking the lock and keep only the shared-state update inside"
        )
    gil_bound = gil_enabled and kind in GIL_BOUND_KINDS
    parallel = kind in PARALLEL_KINDS or (not gil_enabled and kind is not None)
    if hot and mean_hold >= LONG_HOLD_S and not gil_bound:
        return "shrink", (
            f"{held}, {mean}: long work inside the critical section; {waited}. Compute "
            "outside the lock and take it only to publish the result"
        )
    contended = wait_share >= COSTLY_WAIT_SHARE
    if contended and parallel:
        free = "the work releases the GIL" if gil_enabled else "the GIL is disabled"
        return "split", (
            f"{waited}; holds are short ({mean}) and {free}, so threads could run it in "
            "parallel, but this one lock lines them up. Stripe it by key (a lock per shard or "
            "per object) or use finer locks"
        )
    if cost_share >= MERGE_COST_SHARE:
        taken = f"taken {acquisitions} times"
        contention = "" if not contended else f"; {waited}, the hand-offs cost too"
        return "merge", (
            f"{taken}, {mean}: taking it costs about {cost_share:.0%} of the run's CPU time"
            f"{contention}. Take it once per batch of items rather than once per item"
        )
    if contended and mean_hold < FINE_HOLD_S:
        return "merge", (
            f"{waited}, for holds of only {mean}: threads hand this lock back and forth per "
            f"item (taken {acquisitions} times). Take it once per batch of items, so each "
            "hand-off buys real work"
        )
    if contended or hot:
        pressure = waited if contended else held
        if gil_bound:
            why = (
                "the task is pure-Python CPU work and the GIL serializes it anyway, so finer "
                "locks would not run it in parallel (processes would, and do not share it)"
            )
        elif kind is None:
            why = (
                "whether finer locks would help depends on whether the work releases the GIL, "
                "which was not measured"
                if gil_enabled
                else "whether finer locks would help depends on the kind of work, which was "
                "not measured"
            )
        elif not gil_enabled:
            why = (
                f"callers seldom waited for it (holds of {mean}), so finer locks would gain little"
            )
        else:
            why = (
                f"holds are short ({mean}) and {kind} work runs its Python code under the GIL, "
                "so finer locks would not run the critical sections in parallel"
            )
        return "keep", f"{pressure}, but {why}"
    return "keep", (
        f"neither contended nor costly: {held}, {waited}, taking it costs {cost_share:.1%} "
        "of the CPU time"
    )
