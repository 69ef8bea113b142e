"""Advice for semaphores, queues, conditions, hand-offs and read-mostly locks, from synthetic
counts: one row per rule and per edge, no timing. A row gives a site's counts over a run of
``WALL_S`` seconds on ``THREADS`` threads; GIVEN those counts, WHEN advised, THEN the advice
is the expected one and its reason names the numbers and the lines.
"""

from __future__ import annotations

from typing import Any

import pytest

from tunekit.advice.locks import advise_locks
from tunekit.advice.primitives import (
    AT_LIMIT_SHARE,
    FUTILE_SHARE,
    READ_MOSTLY_SHARE,
    SWING_SHARE,
)

WALL_S = 1.0
THREADS = 4
SITE = "app/pool.py:7"


def rows(*spec: tuple[str, int, float, float]) -> list[dict[str, Any]]:
    """Acquisition-site rows: (site, acquisitions, wait_s, hold_s)."""
    return [
        {"site": s, "acquisitions": n, "contended": 0, "wait_s": w, "hold_s": h}
        for s, n, w, h in spec
    ]


def semaphore(**changes: Any) -> dict[str, Any]:
    """2 permits, both taken 98% of the run, 1000 takes of ~2 ms; callers waited 2 of 4 s."""
    return {
        "site": SITE,
        "kind": "Semaphore",
        "acquisitions": 1000,
        "contended": 800,
        "wait_s": 2.0,
        "permits_max": 2,
        "permit_s": 1.99,
        "all_held_s": 0.98,
        "observed_s": 1.0,
        "acquired_at": rows(("app/pool.py:20", 1000, 2.0, 0.0)),
        **changes,
    }


def a_queue(**changes: Any) -> dict[str, Any]:
    """A queue bounded at 8 observed 1 s, with 500 puts and gets, no waiting."""
    return {
        "site": SITE,
        "kind": "Queue",
        "puts": 500,
        "gets": 500,
        "put_wait_s": 0.0,
        "get_wait_s": 0.0,
        "empty_s": 0.1,
        "full_s": 0.0,
        "depth_s": 2.0,
        "maxsize_max": 8,
        "observed_s": 1.0,
        "put_at": rows(("app/work.py:30", 500, 0.0, 0.0)),
        "get_at": rows(("app/work.py:40", 500, 0.0, 0.0)),
        **changes,
    }


def condition(**changes: Any) -> dict[str, Any]:
    """A condition waited on 1000 times; 100 notifies woke one waiter each."""
    return {
        "site": SITE,
        "kind": "Condition",
        "acquisitions": 2000,
        "hold_s": 0.01,
        "waits": 1000,
        "cond_wait_s": 3.0,
        "notifies": 1000,
        "notify_alls": 0,
        "woken": 1000,
        "futile_wakeups": 50,
        "wait_at": rows(("app/feed.py:12", 1000, 3.0, 0.0)),
        "acquired_at": rows(("app/feed.py:11", 2000, 0.0, 0.01)),
        **changes,
    }


def read_mostly_lock(**changes: Any) -> dict[str, Any]:
    """A lock held 95% of the run, 19 takes in 20 at one line; callers waited 2 of 4 s."""
    return {
        "site": SITE,
        "kind": "Lock",
        "acquisitions": 2000,
        "contended": 1500,
        "wait_s": 2.0,
        "hold_s": 0.95,
        "hold_cpu_s": 0.1,
        "hold_cpu_wall_s": 0.1,
        "acquired_at": rows(
            ("app/table.py:50", 1900, 1.9, 0.9), ("app/table.py:60", 100, 0.1, 0.05)
        ),
        **changes,
    }


@pytest.mark.parametrize(
    ("site", "kind", "advice", "reason"),
    [
        pytest.param(semaphore(), "io-bound", "limit",
                     "all 2 permits held 98% of the time: the resource it guards caps "
                     "throughput at 1,005 acquisitions/s", id="semaphore-at-its-limit"),
        pytest.param(semaphore(all_held_s=0.3, permit_s=1.0), "io-bound", "keep",
                     "1.0 of 2 permits in use on average", id="semaphore-with-room"),
        pytest.param(semaphore(wait_s=0.0), "io-bound", "limit", "a pool above 2 only waits",
                     id="semaphore-saturated-at-a-pool-of-its-permits"),
        pytest.param(semaphore(acquisitions=0), "io-bound", "keep", "not taken",
                     id="semaphore-unused"),
        pytest.param(a_queue(empty_s=0.9, get_wait_s=3.0), "io-bound", "grow-producers",
                     "empty 90% of the run: consumers starve", id="queue-consumers-starve"),
        pytest.param(a_queue(full_s=0.8, put_wait_s=2.0), "io-bound", "grow-consumers",
                     "full (at its bound of 8) 80% of the run: producers block",
                     id="queue-producers-block"),
        pytest.param(a_queue(full_s=0.8, put_wait_s=2.0, maxsize_max=0), "io-bound", "keep",
                     "2.0 items deep", id="unbounded-queue-is-never-full"),
        pytest.param(a_queue(empty_s=0.35, full_s=0.35, get_wait_s=0.5, put_wait_s=0.5),
                     "io-bound", "raise-bound", "the bound is the limit", id="queue-swings"),
        pytest.param(a_queue(), "io-bound", "keep", "empty 10%, full 0%", id="queue-smooth"),
        pytest.param(condition(notifies=0, notify_alls=250, woken=1000, futile_wakeups=750),
                     "io-bound", "notify-one", "notify_all woke 4.0 waiters a call",
                     id="notify-all-for-one-item"),
        pytest.param(condition(futile_wakeups=700), "io-bound", "wake-fewer",
                     "700 of 1000 wake-ups (70%) found nothing", id="notified-too-early"),
        pytest.param(condition(), "io-bound", "keep", "neither contended nor costly",
                     id="condition-that-wakes-the-right-waiter"),
        pytest.param({"site": SITE, "kind": "Event", "waits": 40, "blocked": 30, "wait_s": 1.0},
                     "io-bound", "keep", "40 waits, 30 of them blocked, 25%", id="event"),
        pytest.param({"site": SITE, "kind": "Barrier", "waits": 40, "wait_s": 0.4},
                     "io-bound", "keep", "a hand-off", id="barrier"),
        pytest.param(read_mostly_lock(), "gil-releasing", "read-write",
                     "taken at app/table.py:50 95% of the time", id="read-mostly"),
        pytest.param(read_mostly_lock(acquired_at=rows(("app/table.py:50", 1200, 1.2, 0.6),
                                                       ("app/table.py:60", 800, 0.8, 0.35))),
                     "gil-releasing", "split", "Stripe", id="reads-and-writes-alike"),
        pytest.param(read_mostly_lock(wait_s=0.1), "gil-releasing", "keep",
                     "held 95% of the run, but", id="read-mostly-but-uncontended"),
        pytest.param(read_mostly_lock(hold_cpu_s=0.001), "gil-releasing", "shrink", "waits",
                     id="read-mostly-but-blocking-inside-is-shrink-first"),
        pytest.param(read_mostly_lock(acquired_at=rows(("app/table.py:50", 2000, 2.0, 0.95))),
                     "gil-releasing", "split", "Stripe", id="one-line-only"),
    ],
)  # fmt: skip
def test_advice(site: dict[str, Any], kind: str, advice: str, reason: str) -> None:
    [entry] = advise_locks([site], kind, WALL_S, THREADS)
    assert entry["advice"] == advice, entry["reason"]
    assert reason in entry["reason"], entry["reason"]
    assert f"made at {SITE}" in entry["reason"]


def test_every_advice_names_the_lines_that_use_the_primitive() -> None:
    """GIVEN a queue and a condition WHEN advised THEN the reason names the put and get lines,
    and the wait line beside the lock's."""
    [queue_entry] = advise_locks([a_queue()], "io-bound", WALL_S, THREADS)
    assert "put at app/work.py:30 (100% of calls); get at app/work.py:40" in queue_entry["reason"]
    [cond] = advise_locks([condition()], "io-bound", WALL_S, THREADS)
    assert "waits at app/feed.py:12 (100% of calls); taken at app/feed.py:11" in cond["reason"]


def test_the_measures_behind_the_primitive_advice() -> None:
    [sem] = advise_locks([semaphore()], "io-bound", WALL_S, THREADS)
    assert (sem["permits"], sem["pool_cap"]) == (2, 2)
    assert sem["all_held_share"] == pytest.approx(0.98)
    [rw] = advise_locks([read_mostly_lock()], "gil-releasing", WALL_S, THREADS)
    assert rw["read_share"] == pytest.approx(0.95)
    assert rw["read_hold_share"] == pytest.approx(0.9 / 0.95)


def test_thresholds_sit_between_the_rows() -> None:
    assert 0.98 > AT_LIMIT_SHARE > 0.3
    assert SWING_SHARE < 0.35
    assert 0.7 > FUTILE_SHARE > 0.05
    assert 0.95 > READ_MOSTLY_SHARE > 0.6


@pytest.mark.parametrize(
    ("site", "model", "pool", "said"),
    [
        (semaphore(), "thread", 2, "The recommended pool of 2 agrees: it is within the 2 permits"),
        (semaphore(), "thread", 8, "The recommended pool of 8 is above its 2 permits"),
        (semaphore(), "process", 8, "each worker process has its own copy of this Semaphore"),
        (read_mostly_lock(), "process", 4, "own copy of this Lock: it no longer lines"),
        (a_queue(), "process", 4, "own copy of this Queue"),
        (read_mostly_lock(), "thread", 4, ""),
        (semaphore(), None, None, ""),
    ],
    ids=["pool-agrees", "pool-above", "process", "lock-in-processes", "queue-in-processes",
         "thread-lock-in-threads", "no-model"],
)  # fmt: skip
def test_the_advice_agrees_with_the_recommended_model(
    site: dict[str, Any], model: str | None, pool: int | None, said: str
) -> None:
    """GIVEN the recommended model and pool WHEN advised THEN the reason says what becomes of
    the primitive there: per process under a process pool; a semaphore's permits against the
    pool."""
    [entry] = advise_locks([site], "gil-releasing", WALL_S, THREADS, model=model, pool_size=pool)
    [plain] = advise_locks([site], "gil-releasing", WALL_S, THREADS)
    assert entry["reason"].startswith(plain["reason"])
    assert said in entry["reason"][len(plain["reason"]) :]
    if not said:
        assert entry["reason"] == plain["reason"]
