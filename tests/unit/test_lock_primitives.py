"""The lock probe's semaphores, conditions, events, barriers and queues: they keep the real
ones' semantics and types, and count waits, wake-ups and depth at the lines that used them.

They are used here directly (no factory is replaced): each counts in the probe's registry at
the line that made it; the tests read that site back.
"""

from __future__ import annotations

import asyncio
import queue
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tunekit.advice.locks import advise_locks
from tunekit.probes.locks import REGISTRY
from tunekit.probes.locks.async_primitives import InstrumentedAsyncQueue, InstrumentedAsyncSemaphore
from tunekit.probes.locks.conditions import (
    InstrumentedBarrier,
    InstrumentedCondition,
    InstrumentedEvent,
)
from tunekit.probes.locks.queues import InstrumentedLifoQueue, InstrumentedQueue
from tunekit.probes.locks.semaphores import InstrumentedBoundedSemaphore, InstrumentedSemaphore

HERE = Path(__file__)


def line(mark: str) -> str:
    """``file:line`` of the line of this file ending in ``# at: mark``."""
    lines = HERE.read_text().splitlines()
    [number] = [n for n, text in enumerate(lines, 1) if text.endswith(f"# at: {mark}")]
    return f"{HERE}:{number}"


def site_of(primitive: Any) -> dict[str, Any]:
    """The registry's totals for the site that made ``primitive``."""
    [site] = [s for s in REGISTRY.snapshot() if s["site"] == primitive._site.site]
    return site


def until(condition: Callable[[], bool]) -> None:
    """Spin until ``condition()`` holds (a thread reached a known wait), 30 s at most."""
    for _ in range(3_000_000):
        if condition():
            return
    raise AssertionError("never reached")


def parked(thread: threading.Thread, name: str) -> bool:
    """Whether ``thread`` is inside a function called ``name`` (a wait)."""
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name == name:
            return True
        frame = frame.f_back
    return False


def test_a_semaphore_counts_permits_held_and_the_wait_for_one() -> None:
    """GIVEN 2 permits, both taken WHEN a third caller waits until one is given back THEN its
    acquisition is contended, all permits were held for a while, and each line is counted."""
    pool = InstrumentedSemaphore(2)  # at: made
    assert isinstance(pool, threading.Semaphore)  # the real class, not replaced here
    pool.acquire()  # at: first
    with pool:  # at: second
        waiter = threading.Thread(target=lambda: (pool.acquire(), pool.release()))  # at: third
        waiter.start()
        until(lambda: parked(waiter, "wait"))
        pool.release()
        waiter.join()
    assert pool.acquire(blocking=False)  # a permit is free again
    pool.release()
    site = site_of(pool)
    assert site["site"] == line("made")
    assert (site["kind"], site["permits_max"]) == ("Semaphore", 2)
    assert (site["acquisitions"], site["contended"]) == (4, 1)
    assert site["wait_s"] > 0
    assert 0 < site["all_held_s"] <= site["observed_s"]
    assert site["permit_s"] >= site["all_held_s"] * 2
    rows = {row["site"]: row for row in site["acquired_at"]}
    assert rows[line("third")]["contended"] == 1
    assert rows[line("first")]["acquisitions"] == 1
    assert rows[line("second")]["acquisitions"] == 1


def test_a_bounded_semaphore_still_refuses_too_many_releases() -> None:
    bounded = InstrumentedBoundedSemaphore(1)
    assert isinstance(bounded, threading.BoundedSemaphore)
    with pytest.raises(ValueError, match="released too many times"):
        bounded.release()
    assert site_of(bounded)["kind"] == "BoundedSemaphore"


def test_a_condition_counts_wake_ups_that_found_nothing() -> None:
    """GIVEN a waiter on ``wait_for`` WHEN notify_all wakes it before its predicate holds, then
    notify after THEN 2 waits, 1 of them a wake-up that found nothing, and the notifies."""
    ready = InstrumentedCondition()  # at: condition
    state = {"go": False}

    def waiter() -> None:
        with ready:
            ready.wait_for(lambda: state["go"])  # at: wait

    thread = threading.Thread(target=waiter)
    thread.start()
    until(lambda: len(ready._waiters) == 1)
    with ready:
        ready.notify_all()
    until(lambda: len(ready._waiters) == 1 and parked(thread, "wait"))
    with ready:
        state["go"] = True
        ready.notify()
    thread.join()
    site = site_of(ready)
    assert site["site"] == line("condition")
    assert (site["waits"], site["futile_wakeups"]) == (2, 1)
    assert (site["notifies"], site["notify_alls"], site["woken"]) == (1, 1, 2)
    assert [row["site"] for row in site["wait_at"]] == [line("wait")]


def test_an_event_and_a_barrier_count_their_waits() -> None:
    event = InstrumentedEvent()  # at: event
    barrier = InstrumentedBarrier(2)  # at: barrier
    assert isinstance(event, threading.Event)
    assert isinstance(barrier, threading.Barrier)
    waiter = threading.Thread(target=lambda: (event.wait(), barrier.wait()))
    waiter.start()
    until(lambda: parked(waiter, "wait"))
    event.set()
    barrier.wait()  # at: barrier-wait
    waiter.join()
    assert event.wait(0)
    events, barriers = site_of(event), site_of(barrier)
    assert (events["site"], events["kind"]) == (line("event"), "Event")
    assert (events["waits"], events["blocked"], events["sets"]) == (2, 1, 1)
    assert (barriers["kind"], barriers["waits"], barriers["broken"]) == ("Barrier", 2, 0)
    assert line("barrier-wait") in [row["site"] for row in barriers["acquired_at"]]
    # a hand-off: kept, its wait and lines named
    advice = {a["kind"]: a for a in advise_locks([events, barriers], "io-bound", 1.0, 2)}
    assert advice["Event"]["advice"] == advice["Barrier"]["advice"] == "keep"
    assert "2 waits, 1 of them blocked" in advice["Event"]["reason"]
    assert f"made at {line('event')}" in advice["Event"]["reason"]
    assert f"made at {line('barrier')}" in advice["Barrier"]["reason"]
    assert "a hand-off" in advice["Barrier"]["reason"]


def test_a_queue_counts_both_sides_and_its_depth() -> None:
    """GIVEN a queue bounded at 1, full WHEN a producer blocks on put until a get makes room
    THEN that put waited, the queue was full for a while, and each side has its line."""
    jobs: queue.Queue[int] = InstrumentedQueue(maxsize=1)  # at: queue
    assert isinstance(jobs, queue.Queue)
    jobs.put(1)  # at: put
    producer = threading.Thread(target=lambda: jobs.put(2))  # at: blocked-put
    producer.start()
    until(lambda: parked(producer, "wait"))
    assert jobs.get() == 1  # at: get
    producer.join()
    assert jobs.get_nowait() == 2  # at: get-nowait
    site = site_of(jobs)
    assert (site["site"], site["kind"], site["maxsize_max"]) == (line("queue"), "Queue", 1)
    assert (site["puts"], site["gets"], site["put_waits"], site["get_waits"]) == (2, 2, 1, 0)
    assert site["put_wait_s"] > 0
    assert site["full_s"] > 0
    assert site["depth_max"] == 1
    puts = {row["site"]: row for row in site["put_at"]}
    assert puts[line("blocked-put")]["contended"] == 1
    assert {row["site"] for row in site["get_at"]} == {line("get"), line("get-nowait")}


def test_a_wait_that_timed_out_is_counted_as_a_wait() -> None:
    """GIVEN an empty queue and a full one WHEN a get and a put each time out THEN both are
    counted, as calls and as waits with their time: a timed-out wait cost the caller its time
    as a successful one does."""
    empty: queue.Queue[int] = InstrumentedQueue()
    full: queue.Queue[int] = InstrumentedQueue(maxsize=1)
    full.put(1)
    with pytest.raises(queue.Empty):
        empty.get(timeout=0.01)
    with pytest.raises(queue.Full):
        full.put(2, timeout=0.01)
    gets, puts = site_of(empty), site_of(full)
    assert (gets["gets"], gets["get_waits"]) == (1, 1)
    assert gets["get_wait_s"] >= 0.005
    assert (puts["puts"], puts["put_waits"]) == (2, 1)
    assert puts["put_wait_s"] >= 0.005

    async def timed_out() -> dict[str, Any]:
        jobs: asyncio.Queue[int] = InstrumentedAsyncQueue()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(jobs.get(), 0.01)
        return site_of(jobs)

    site = asyncio.run(timed_out())
    assert site["get_waits"] == 1 and site["get_wait_s"] >= 0.005


def test_queue_kin_keep_their_order() -> None:
    stack: queue.LifoQueue[int] = InstrumentedLifoQueue()
    for item in (1, 2, 3):
        stack.put(item)
    assert [stack.get() for _ in range(3)] == [3, 2, 1]
    assert site_of(stack)["kind"] == "LifoQueue"


def test_asyncio_primitives_keep_their_types_and_count_at_their_lines() -> None:
    """GIVEN an asyncio semaphore of 1 and a queue WHEN a second task waits for the permit and
    a getter for an item THEN each wait is counted at the line that awaited."""

    async def scenario() -> tuple[Any, Any]:
        permit = InstrumentedAsyncSemaphore(1)  # at: async-semaphore
        jobs: asyncio.Queue[int] = InstrumentedAsyncQueue()  # at: async-queue
        assert isinstance(permit, asyncio.Semaphore)
        assert isinstance(jobs, asyncio.Queue)

        async def second() -> None:
            async with permit:  # at: async-second
                pass

        async with permit:  # at: async-first
            waiter = asyncio.ensure_future(second())
            getter = asyncio.ensure_future(jobs.get())  # at: async-get
            await asyncio.sleep(0.01)
        await waiter
        await jobs.put(7)  # at: async-put
        assert await getter == 7
        return permit, jobs

    permit, jobs = asyncio.run(scenario())
    semaphore, queued = site_of(permit), site_of(jobs)
    assert (semaphore["site"], semaphore["acquisitions"], semaphore["contended"]) == (
        line("async-semaphore"),
        2,
        1,
    )
    assert semaphore["all_held_s"] > 0
    rows = {row["site"]: row["contended"] for row in semaphore["acquired_at"]}
    assert rows == {line("async-first"): 0, line("async-second"): 1}
    assert (queued["get_waits"], queued["puts"], queued["gets"]) == (1, 1, 1)
    assert queued["put_at"][0]["site"] == line("async-put")
