"""Workloads on semaphores, queues, conditions and read-mostly locks, for the lock probe
(imported by path in children). Each primitive is made on a line marked ``# lock-site: NAME``
and used on lines marked ``# lock-taken: NAME``; the tests find the lines by the marks.

The other side of a queue or condition is a daemon thread this module starts on first call:
the probe's threads are the side under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import multiprocessing
import multiprocessing.synchronize
import queue
import threading
import time

HOLD_S = 0.002

_permits = threading.Semaphore(2)  # lock-site: permits


def semaphore_bound(hold_s: float = HOLD_S) -> None:
    """Each call holds one of 2 permits across a slow operation (a 2-connection pool)."""
    with _permits:  # lock-taken: permits
        time.sleep(hold_s)


_started: set[str] = set()
_starting = threading.Lock()


def _start(name: str, loop: object) -> None:
    """Start the daemon thread running ``loop`` once."""
    with _starting:
        if name not in _started:
            _started.add(name)
            threading.Thread(target=loop, daemon=True, name=name).start()  # type: ignore[arg-type]


_jobs: queue.Queue[int] = queue.Queue()  # lock-site: jobs


def _slow_producer() -> None:
    while True:
        time.sleep(HOLD_S)
        _jobs.put(1)


def starving_consumer() -> int:
    """Takes a job that one slow producer makes every 2 ms: the consumers wait."""
    _start("producer", _slow_producer)
    return _jobs.get()  # lock-taken: jobs


_results: queue.Queue[int] = queue.Queue(maxsize=2)  # lock-site: results


def _slow_consumer() -> None:
    while True:
        _results.get()
        time.sleep(HOLD_S)


def blocked_producer() -> None:
    """Hands a result to one slow consumer through a queue bounded at 2: the producers wait."""
    _start("consumer", _slow_consumer)
    _results.put(1)  # lock-taken: results


#: Seconds of each phase of ``bursty_queue``: puts, a mix of both, gets, a mix, in turn.
PHASE_S = 0.01
_swings: queue.Queue[int] = queue.Queue(maxsize=4)  # lock-site: swings
_turns = iter(range(1 << 62))


def bursty_queue() -> None:
    """Bursts at both ends of a queue bounded at 4, by the clock: every caller puts (the queue
    fills, then putters wait), then callers take turns putting and taking without waiting (it
    stays near full), then every caller gets (it empties, then getters wait), then turns again
    (near empty). Neither side is steadily slower: the bound turns the bursts into waits."""
    phase = int(time.perf_counter() / PHASE_S) % 4
    left = PHASE_S - time.perf_counter() % PHASE_S  # what is left of this phase
    mixed = phase in (1, 3)
    if phase == 0 or (mixed and next(_turns) % 2):
        with contextlib.suppress(queue.Full):
            _swings.put(1, not mixed, left)  # lock-taken: swings
    else:
        with contextlib.suppress(queue.Empty):
            _swings.get(not mixed, left)


_ready = threading.Condition()  # lock-site: ready
_items: list[int] = []


def _slow_feeder() -> None:
    while True:
        time.sleep(HOLD_S / 4)
        with _ready:
            _items.append(1)
            _ready.notify_all()


def woken_by_notify_all() -> int:
    """Waits for one item, where the feeder wakes every waiter for each item it adds."""
    _start("feeder", _slow_feeder)
    with _ready:
        while not _items:
            _ready.wait()  # lock-taken: ready
        return _items.pop()


_table_lock = threading.Lock()  # lock-site: table
_table = {"version": 0}
_CHUNK = bytes(128 * 2**10)
_calls = iter(range(1 << 62))


def read_mostly() -> bytes:
    """19 calls in 20 read under the lock (hashing 128 KiB, which releases the GIL); one
    writes (bumps a version)."""
    if next(_calls) % 20 == 0:
        with _table_lock:  # lock-taken: table-write
            _table["version"] += 1
    with _table_lock:  # lock-taken: table
        return hashlib.sha256(_CHUNK + bytes([_table["version"] % 256])).digest()


class Gate(threading.BoundedSemaphore):
    """User code that subclasses a primitive, overriding a method and calling the real one."""

    def __init__(self, value: int) -> None:
        super().__init__(value)  # lock-site: gate
        self.entered = 0

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        self.entered += 1
        # The first line outside the primitive: an override's calls are counted here.
        return super().acquire(blocking, timeout)  # lock-taken: gate

    __enter__ = acquire


class Inbox(queue.PriorityQueue[int]):
    """A queue subclass with its own storage hook."""

    def _put(self, item: int) -> None:
        super()._put(-item)


_gate = Gate(4)
_inbox = Inbox()  # lock-site: inbox


def subclassed_and_checked() -> int:
    """Uses the subclasses, and refuses anything that is not the threading/queue class."""
    for primitive, cls in ((_gate, threading.Semaphore), (_inbox, queue.Queue)):
        if not isinstance(primitive, cls):
            raise TypeError(f"{primitive!r} is not a {cls.__name__}")
    with _gate:
        _inbox.put(3)  # lock-taken: inbox
        return -_inbox.get()


_async_permits: asyncio.Semaphore | None = None
_async_jobs: asyncio.Queue[int] | None = None
_async_ready: asyncio.Condition | None = None
_async_items: list[int] = []
_tasks: list[asyncio.Task[None]] = []


async def async_semaphore_bound(hold_s: float = HOLD_S) -> None:
    """Each coroutine holds one of 2 permits across an awaited slow operation."""
    global _async_permits
    if _async_permits is None:
        _async_permits = asyncio.Semaphore(2)  # lock-site: async-permits
    async with _async_permits:  # lock-taken: async-permits
        await asyncio.sleep(hold_s)


async def _async_producer(jobs: asyncio.Queue[int]) -> None:
    while True:
        await asyncio.sleep(HOLD_S)
        await jobs.put(1)


async def async_starving_consumer() -> int:
    """Awaits a job that one slow producer task makes every 2 ms: the consumers wait."""
    global _async_jobs
    if _async_jobs is None:
        _async_jobs = asyncio.Queue()  # lock-site: async-jobs
        _tasks.append(asyncio.get_running_loop().create_task(_async_producer(_async_jobs)))
    return await _async_jobs.get()  # lock-taken: async-jobs


async def _async_feeder(ready: asyncio.Condition) -> None:
    while True:
        await asyncio.sleep(HOLD_S / 4)
        async with ready:
            _async_items.append(1)
            ready.notify_all()


async def async_woken_by_notify_all() -> int:
    """Awaits one item, where the feeder wakes every waiter for each item it adds."""
    global _async_ready
    if _async_ready is None:
        _async_ready = asyncio.Condition()  # lock-site: async-ready
        _tasks.append(asyncio.get_running_loop().create_task(_async_feeder(_async_ready)))
    async with _async_ready:
        while not _async_items:
            await _async_ready.wait()  # lock-taken: async-ready
        return _async_items.pop()


_shared_lock = multiprocessing.Lock()  # lock-site: shared


def shared_across_processes(hold_s: float = HOLD_S) -> None:
    """Holds a multiprocessing lock across a slow operation: processes serialize on it."""
    if not isinstance(_shared_lock, multiprocessing.synchronize.Lock):
        raise TypeError(f"not a multiprocessing lock: {_shared_lock!r}")
    with _shared_lock:  # lock-taken: shared
        time.sleep(hold_s)


_signal = threading.Condition()  # lock-site: signal
_signalled: list[int] = []


def _early_notifier() -> None:
    rounds = 0
    while True:
        time.sleep(HOLD_S / 4)
        rounds += 1
        with _signal:
            if rounds % 3 == 0:  # one notify in three comes with an item
                _signalled.append(1)
            _signal.notify()


def woken_before_the_state_changed() -> int:
    """Waits for one item, where the notifier signals three times per item it adds."""
    _start("notifier", _early_notifier)
    with _signal:
        while not _signalled:
            _signal.wait()  # lock-taken: signal
        return _signalled.pop()


async def async_kin_checked() -> int:
    """Refuses a LIFO or priority queue that is not an ``asyncio.Queue``, as typed code may."""
    stack: asyncio.LifoQueue[int] = asyncio.LifoQueue()  # lock-site: async-stack
    for queue_ in (stack, asyncio.PriorityQueue()):
        if not isinstance(queue_, asyncio.Queue):
            raise TypeError(f"{queue_!r} is not an asyncio.Queue")
    await stack.put(1)
    await stack.put(2)
    return await stack.get()
