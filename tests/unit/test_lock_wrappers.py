"""The lock probe's instrumented locks: they keep the semantics of the real ones, count
acquisitions, contention and holds right, and name the line that made them."""

from __future__ import annotations

import _thread
import inspect
import queue
import sys
import threading
import typing
from pathlib import Path
from typing import Any

import psutil
import pytest

import tunekit
from tunekit.isolation.protocol import ProbeRequest, ProbeResult
from tunekit.isolation.spawn import run_in_child
from tunekit.probes import locks
from tunekit.probes.locks import REGISTRY, Counts, InstrumentedLock, Registry, origin_of
from tunekit.probes.locks.overhead import measure_overhead
from tunekit.probes.locks.registry import CountingLock
from tunekit.target import TargetSpec

from .. import lock_targets

LOCK_TARGETS = Path(lock_targets.__file__)
HERE = Path(__file__)


def probe(func: str, tmp_path: Path, task_wall_s: float = 0.002) -> dict[str, Any]:
    """The lock probe's data for a function of tests/lock_targets.py, run in a child."""
    request = ProbeRequest(
        probe="locks",
        target=TargetSpec(f"{LOCK_TARGETS}:{func}"),
        profile_dir=str(tmp_path),
        time_s=0.5,
        task_wall_s=task_wall_s,
    )
    outcome = run_in_child(request, timeout_s=60)
    assert outcome.status == "ok", outcome
    assert isinstance(outcome.reply, ProbeResult)
    assert outcome.reply.data is not None
    return outcome.reply.data


def blocked_in_acquire(thread: threading.Thread, lock: InstrumentedLock) -> bool:
    """Whether ``thread`` has failed its try and waits on the raw lock (in ``_take``)."""
    source, first = inspect.getsourcelines(Counts._take)
    [offset] = [i for i, line in enumerate(source) if "lock.acquire(True, timeout)" in line]
    frame = sys._current_frames().get(thread.ident or -1)
    code = Counts._take.__code__
    return frame is not None and frame.f_code is code and frame.f_lineno == first + offset


def test_a_failed_try_counts_as_contended_with_its_wait() -> None:
    """GIVEN a held lock WHEN another thread blocks on it until it is released THEN that
    acquisition is contended, and a non-blocking try or a timeout counts as failed."""
    registry = Registry()
    lock = registry.new_lock()
    lock.acquire()
    assert not lock.acquire(False)
    assert not lock.acquire(timeout=0.001)
    with pytest.raises(ValueError, match="non-blocking"):
        lock.acquire(False, 1.0)
    waiter = threading.Thread(target=lambda: (lock.acquire(), lock.release()))
    waiter.start()
    while not blocked_in_acquire(waiter, lock):
        pass
    lock.release()
    waiter.join()
    [site] = registry.snapshot()
    assert (site["acquisitions"], site["contended"], site["failed"]) == (2, 1, 2)
    assert site["wait_s"] > 0
    assert site["wait_max_s"] == site["wait_s"]


def test_condition_and_rlock_keep_their_semantics() -> None:
    """GIVEN a Condition on an instrumented RLock taken twice WHEN it waits and another thread
    notifies THEN it wakes holding the lock at the same depth, and the counts add up."""
    registry = Registry()
    rlock = registry.new_rlock()
    ready = threading.Condition(rlock)
    state = {"go": False}

    def notify() -> None:
        with ready:
            state["go"] = True
            ready.notify()

    with rlock, ready:
        notifier = threading.Thread(target=notify)
        notifier.start()
        assert ready.wait_for(lambda: state["go"], timeout=30)
        assert rlock._is_owned()
        assert rlock._recursion_count() == 2
    notifier.join()
    assert not rlock._is_owned()
    [site] = registry.snapshot()
    assert site["kind"] == "RLock"
    assert site["reentrant"] == 1
    assert site["acquisitions"] >= 3  # twice here, the notifier, and again after the wait


def test_condition_on_a_lock_does_not_count_its_ownership_checks() -> None:
    registry = Registry()
    lock = registry.new_lock()
    condition = threading.Condition(lock)
    with condition:
        condition.notify_all()  # asks the lock whether it is owned
    assert not lock.locked()
    [site] = registry.snapshot()
    assert (site["acquisitions"], site["failed"]) == (1, 0)


def test_acquisitions_are_counted_at_the_line_that_took_the_lock() -> None:
    """GIVEN one lock taken on two lines, one of them through a Condition, and a second lock
    made on the same line WHEN counted THEN each line has its acquisitions and holds, and the
    creation site counts both instances."""
    registry = Registry()
    made = [registry.new_lock() for _ in range(2)]
    lock, other = made
    for _ in range(3):
        with lock:  # taken: with
            pass
    lock.acquire()  # taken: acquire
    lock.release()
    condition = threading.Condition(other)
    with condition:  # taken: condition
        pass
    [site] = registry.snapshot()
    lines = HERE.read_text().splitlines()
    line = {
        text.rpartition("# taken: ")[2]: n for n, text in enumerate(lines, 1) if "# taken: " in text
    }
    rows = {row["site"]: row for row in site["acquired_at"]}
    assert site["locks"] == 2
    assert {s: r["acquisitions"] for s, r in rows.items()} == {
        f"{HERE}:{line['with']}": 3,
        f"{HERE}:{line['acquire']}": 1,
        f"{HERE}:{line['condition']}": 1,
    }
    assert sum(r["hold_s"] for r in rows.values()) == pytest.approx(site["hold_s"])


def test_freed_locks_keep_their_counts() -> None:
    """GIVEN locks made on one line, used and freed WHEN counted THEN all of them are."""
    registry = Registry()
    for _ in range(3):
        lock = registry.new_lock()
        with lock:
            pass
    del lock
    [site] = registry.snapshot()
    assert (site["locks"], site["acquisitions"]) == (3, 3)
    assert not site["hold_s"] < 0


PRIMITIVES = [
    ("Lock", (), "Lock", "user"),
    ("RLock", (), "RLock", "user"),
    ("Condition", (), "Condition", "user"),
    ("Semaphore", (2,), "Semaphore", "user"),
    ("BoundedSemaphore", (2,), "BoundedSemaphore", "user"),
    ("Event", (), "Event", "user"),
    ("Barrier", (2,), "Barrier", "user"),
    ("Thread", (), "Thread", "stdlib"),
    ("queue.Queue", (), "Lock", "stdlib"),
]


@pytest.mark.parametrize(
    ("factory", "args", "kind", "origin"), PRIMITIVES, ids=[row[0] for row in PRIMITIVES]
)
def test_site_is_the_line_that_asked_for_the_lock(
    monkeypatch: pytest.MonkeyPatch, factory: str, args: tuple[int, ...], kind: str, origin: str
) -> None:
    """GIVEN the factories replaced WHEN a primitive is made THEN its lock is attributed to the
    first line outside threading, named by the threading class that built it."""
    registry = Registry()
    monkeypatch.setattr(threading, "Lock", registry.new_lock)
    monkeypatch.setattr(threading, "RLock", registry.new_rlock)
    module, _, name = factory.rpartition(".")
    make = getattr(queue if module == "queue" else threading, name)
    made = make(*args)  # the primitive is made here
    monkeypatch.undo()
    sites = registry.snapshot()
    assert {s["kind"] for s in sites} == {kind}
    assert {s["origin"] for s in sites} == {origin}
    if origin == "user":
        lines = HERE.read_text().splitlines()
        [line] = [
            n for n, text in enumerate(lines, 1) if text.endswith("# the primitive is made here")
        ]
        assert {s["site"] for s in sites} == {f"{HERE}:{line}"}
    del made


def test_no_module_of_the_probe_is_taken_for_a_lock_site() -> None:
    """GIVEN the overhead benchmark (a module of the probe other than the registry's) making an
    asyncio lock WHEN its site is found THEN it is the first frame outside the whole package."""
    measure_overhead(coroutines=True)
    package = Path(locks.__file__).parent
    sites = [s["site"] for s in REGISTRY.snapshot() if s["kind"] == "asyncio.Lock"]
    assert sites
    assert not [s for s in sites if Path(s.rpartition(":")[0]).parent == package]


@pytest.mark.parametrize(
    ("filename", "origin"),
    [
        (threading.__file__, "stdlib"),
        (psutil.__file__, "site-packages"),
        (tunekit.__file__, "tunekit"),
        ("<frozen importlib._bootstrap>", "unknown"),
        (__file__, "user"),
    ],
    ids=["stdlib", "site-packages", "tunekit", "frozen", "user"],
)
def test_origin_of_a_file(filename: str, origin: str) -> None:
    assert origin_of(filename) == origin


def test_the_replacement_lock_is_a_class_that_raw_and_counting_locks_are_instances_of() -> None:
    """GIVEN ``CountingLock``, what ``threading.Lock`` becomes (a class, as on 3.13) WHEN user
    code calls it, unions it and checks instances and subclasses THEN each works as on 3.13."""
    lock = CountingLock()  # the counting lock is made here
    assert isinstance(lock, InstrumentedLock)
    assert isinstance(lock, CountingLock)
    assert isinstance(_thread.allocate_lock(), CountingLock)
    assert not isinstance(threading.RLock(), CountingLock)
    assert issubclass(InstrumentedLock, CountingLock)
    assert issubclass(type(_thread.allocate_lock()), CountingLock)
    assert CountingLock | None == typing.Optional[CountingLock]  # noqa: UP045 (the union's twin)
    with lock:
        assert lock.locked()
    lines = HERE.read_text().splitlines()
    [line] = [
        n for n, text in enumerate(lines, 1) if text.endswith("# the counting lock is made here")
    ]
    assert lock._site.site == f"{HERE}:{line}"
