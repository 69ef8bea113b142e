"""Advice for the primitives other than a plain lock: semaphores, queues, conditions, events
and barriers, and locks that are read far more than written. Pure functions of the lock
probe's counts for one creation site; each returns ``(advice, reason)`` or None when the
primitive's own rule does not apply (the lock rules then judge it).

Rules, per kind (first match wins):

- Semaphore / BoundedSemaphore: all permits taken most of the run: ``limit`` (the resource caps
  throughput; a pool above the permits only waits), whether or not the probe's callers queued
  (at a pool of exactly the permits they do not); else ``keep``.
- Queue / LifoQueue / PriorityQueue: empty most of the run while getters wait: ``grow-producers``;
  full most of the run while putters wait: ``grow-consumers``; often at both ends, with waits on
  both sides: ``raise-bound``; else ``keep``.
- Condition: most wake-ups find nothing and ``notify_all`` woke several waiters a call:
  ``notify-one``; most wake-ups find nothing otherwise: ``wake-fewer``; else the lock rules.
- Event / Barrier: ``keep``, with the wait it is (a hand-off: the other side's work).
- Lock / RLock taken at several lines, one of them nearly always, while callers wait:
  ``read-write`` (see ``read_mostly``).

``under_model`` then says what becomes of each under the recommended model and pool.
"""

from __future__ import annotations

from typing import Any

from tunekit.units import format_seconds

SEMAPHORES = ("Semaphore", "BoundedSemaphore", "asyncio.Semaphore", "asyncio.BoundedSemaphore")
QUEUES = (
    "Queue",
    "LifoQueue",
    "PriorityQueue",
    "asyncio.Queue",
    "asyncio.LifoQueue",
    "asyncio.PriorityQueue",
)
CONDITIONS = ("Condition", "asyncio.Condition")
HAND_OFFS = ("Event", "Barrier", "asyncio.Event")
#: A primitive at its limit (all permits taken, queue full or empty) this share of the run is
#: the bottleneck: the M/M/1 reasoning of ``locks.HOT_UTILIZATION`` (waits dominate above 0.5).
AT_LIMIT_SHARE = 0.5
#: A queue at each of its ends this share of the run swings between them: neither side is
#: steadily slower (that would put it at one end over ``AT_LIMIT_SHARE``), so its bound turns
#: bursts into waits. A fifth: the two ends then fill at least 40% of the run together, while a
#: queue smoothing its bursts rests between them. A chosen split, not a measured one.
SWING_SHARE = 0.2
#: Wake-ups that find nothing are wasted when they outnumber those that find work.
FUTILE_SHARE = 0.5
#: Callers waiting this share of their time lose throughput the analysis can see (the value of
#: ``locks.COSTLY_WAIT_SHARE``, restated here so this module stays below the lock rules).
COSTLY_WAIT_SHARE = 0.10
#: One acquisition line taking this share of a lock's acquisitions is the lock's common path:
#: 9 of 10. With fewer reads per write, each write's exclusive hold drains and blocks the
#: readers often enough to eat most of the overlap; a chosen rule, not a measured one.
READ_MOSTLY_SHARE = 0.9
#: A read hold shorter than this gains nothing from overlapping: a read-write lock's own take
#: costs ~1 us in Python (two mutex operations and a counter), 10x a plain lock's ~0.1 us.
MIN_READ_HOLD_S = 10e-6


def advise_primitive(entry: dict[str, Any], site: dict[str, Any]) -> tuple[str, str] | None:
    """The primitive's own advice for the probe's ``site``, with ``entry``'s run measures
    (``wall_s``, ``threads``); None to leave it to the lock rules."""
    kind = entry["kind"]
    if kind in SEMAPHORES:
        return _semaphore(entry, site)
    if kind in QUEUES:
        return _queue(entry, site)
    if kind in CONDITIONS:
        return _condition(site)
    if kind in HAND_OFFS:
        return _hand_off(entry, site)
    if kind in ("Lock", "RLock"):
        return read_mostly(entry, site)
    return None


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _semaphore(entry: dict[str, Any], site: dict[str, Any]) -> tuple[str, str]:
    permits = int(site.get("permits_max", 1))
    observed = float(site.get("observed_s") or entry["wall_s"])
    all_held = _share(float(site.get("all_held_s", 0.0)), observed)
    in_use = _share(float(site.get("permit_s", 0.0)), observed)
    acquisitions = int(site.get("acquisitions", 0))
    waits = _share(float(site.get("wait_s", 0.0)), entry["wall_s"] * entry["threads"])
    entry |= {"permits": permits, "all_held_share": all_held, "permits_in_use": in_use}
    if acquisitions == 0:
        return "keep", "not taken during the run"
    mean_hold = float(site.get("permit_s", 0.0)) / acquisitions
    cap = permits / mean_hold if mean_hold > 0 else float("inf")
    entry["throughput_cap_per_s"] = cap
    if all_held >= AT_LIMIT_SHARE:  # saturated, whether or not this many callers queue
        entry["pool_cap"] = permits
        return "limit", (
            f"all {permits} permits held {all_held:.0%} of the time: the resource it guards "
            f"caps throughput at {cap:,.0f} acquisitions/s ({permits} permits / "
            f"{format_seconds(mean_hold)} a hold); a pool above {permits} only waits "
            f"(callers waited {waits:.0%} of their time for a permit)"
        )
    return "keep", (
        f"{in_use:.1f} of {permits} permits in use on average, all of them {all_held:.0%} of "
        f"the time; callers waited {waits:.0%} of their time for one"
    )


def _queue(entry: dict[str, Any], site: dict[str, Any]) -> tuple[str, str]:
    observed = float(site.get("observed_s") or entry["wall_s"])
    empty = _share(float(site.get("empty_s", 0.0)), observed)
    full = _share(float(site.get("full_s", 0.0)), observed)
    thread_s = entry["wall_s"] * entry["threads"]
    get_wait = _share(float(site.get("get_wait_s", 0.0)), thread_s)
    put_wait = _share(float(site.get("put_wait_s", 0.0)), thread_s)
    bound = int(site.get("maxsize_max", 0))
    depth = _share(float(site.get("depth_s", 0.0)), observed)
    entry |= {"empty_share": empty, "full_share": full, "mean_depth": depth, "maxsize": bound}
    entry |= {"get_wait_share": get_wait, "put_wait_share": put_wait}
    gets = f"getters waited {get_wait:.0%} of their time for an item"
    puts = f"putters waited {put_wait:.0%} of their time for room"
    sides = f"{gets}, {puts}; {site.get('puts', 0)} puts, {site.get('gets', 0)} gets"
    if empty >= AT_LIMIT_SHARE and get_wait >= COSTLY_WAIT_SHARE:
        return "grow-producers", (
            f"empty {empty:.0%} of the run: consumers starve ({sides}). The producing side is "
            "the limit: add producers or make them faster; more consumers would only wait"
        )
    if bound and full >= AT_LIMIT_SHARE and put_wait >= COSTLY_WAIT_SHARE:
        return "grow-consumers", (
            f"full (at its bound of {bound}) {full:.0%} of the run: producers block ({sides}). "
            "The consuming side is the limit: add consumers or make them faster; a larger "
            "bound would only hold more items waiting"
        )
    swings = empty >= SWING_SHARE and full >= SWING_SHARE
    if bound and swings and min(get_wait, put_wait) >= COSTLY_WAIT_SHARE / 2:
        return "raise-bound", (
            f"swings between empty ({empty:.0%} of the run) and full at its bound of {bound} "
            f"({full:.0%}): {sides}. Neither side is steadily slower; the bound is the limit, "
            "turning bursts into waits. Raise maxsize so the queue absorbs them"
        )
    return "keep", f"{depth:.1f} items deep on average, empty {empty:.0%}, full {full:.0%}; {sides}"


def _condition(site: dict[str, Any]) -> tuple[str, str] | None:
    waits = int(site.get("waits", 0))
    futile = int(site.get("futile_wakeups", 0))
    alls = int(site.get("notify_alls", 0))
    woken = int(site.get("woken", 0))
    share = _share(futile, waits)
    if waits == 0 or share < FUTILE_SHARE:
        return None
    waited = format_seconds(float(site.get("cond_wait_s", 0.0)))
    found = f"{futile} of {waits} wake-ups ({share:.0%}) found nothing and waited again"
    if alls and woken > alls:
        return "notify-one", (
            f"notify_all woke {woken / alls:.1f} waiters a call ({alls} calls) and {found}; "
            f"they waited {waited} in all. One change serves one waiter here: notify() wakes "
            "only the one that can proceed"
        )
    return "wake-fewer", (
        f"{found} ({waited} waited in all): it is notified before the state its waiters "
        "test has changed, or waiters of different predicates share it. Notify after the "
        "change, or give each predicate a condition of its own"
    )


def _hand_off(entry: dict[str, Any], site: dict[str, Any]) -> tuple[str, str]:
    waits = int(site.get("waits", 0))
    share = _share(float(site.get("wait_s", 0.0)), entry["wall_s"] * entry["threads"])
    blocked = f", {site['blocked']} of them blocked" if "blocked" in site else ""
    return "keep", (
        f"{waits} waits{blocked}, {share:.0%} of the callers' time: a hand-off, whose wait is "
        "the other side's work; speed that up to shorten it"
    )


def read_mostly(entry: dict[str, Any], site: dict[str, Any]) -> tuple[str, str] | None:
    """``read-write`` for a contended lock one line takes nearly always (the reads, by the
    rule), while other lines take it rarely (the writes).

    What a critical section does is not measured: that the common line only reads is the
    rule's assumption, from the usual shape of read-mostly code (a lookup taken per call, an
    update per miss or per refresh). Hence the advice says "if". The overlap a read-write lock
    would allow is measured: the share of the lock's held time spent at the common line, which
    readers could spend together, and the wait at that line that it could save."""
    rows = site.get("acquired_at") or []
    total = sum(int(r["acquisitions"]) for r in rows)
    if len(rows) < 2 or not total:
        return None
    reads = max(rows, key=lambda r: int(r["acquisitions"]))
    read_share = int(reads["acquisitions"]) / total
    held = sum(float(r["hold_s"]) for r in rows)
    overlap = _share(float(reads["hold_s"]), held)
    read_hold = _share(float(reads["hold_s"]), int(reads["acquisitions"]))
    waits = entry.get("wait_share", 0.0)
    entry |= {"read_share": read_share, "read_hold_share": overlap}
    if read_share < READ_MOSTLY_SHARE or waits < COSTLY_WAIT_SHARE or read_hold < MIN_READ_HOLD_S:
        return None
    return "read-write", (
        f"taken at {reads['site']} {read_share:.0%} of the time and at {len(rows) - 1} other "
        f"line(s) {1 - read_share:.0%}; callers waited {waits:.0%} of their time. If that line "
        f"only reads, a read-write lock would let its holds overlap: {overlap:.0%} of the time "
        f"held ({format_seconds(read_hold)} a read) could run side by side, and the "
        f"{format_seconds(float(reads['wait_s']))} waited there mostly vanish"
    )


#: Models whose workers are processes: a ``threading``/``queue``/``asyncio`` primitive is then
#: copied into each worker and shared by none (``engine.probing.PROCESS_MODELS`` runs them).
PROCESS_MODELS = ("process",)


def under_model(entry: dict[str, Any], model: str | None, pool_size: int | None) -> str:
    """What the advice means under the recommended ``model`` and ``pool_size``: in processes a
    thread primitive no longer serializes (nor protects) anything shared; a semaphore that is
    the limit agrees, or not, with the pool."""
    if model is None:
        return ""
    kind = entry["kind"]
    if model in PROCESS_MODELS and not kind.startswith("multiprocessing."):
        return (
            f" Under the recommended {model} pool each worker process has its own copy of this "
            f"{kind}: it no longer lines the workers up, nor guards anything they share; state "
            "they must share needs a multiprocessing primitive or a store outside the workers"
        )
    cap = entry.get("pool_cap")
    if cap is not None and pool_size is not None:
        if pool_size <= cap:
            return f" The recommended pool of {pool_size} agrees: it is within the {cap} permits"
        return (
            f" The recommended pool of {pool_size} is above its {cap} permits: "
            f"{pool_size - cap} workers would wait for one at any time"
        )
    return ""
