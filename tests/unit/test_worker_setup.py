"""The per-worker setup helpers of ``tunekit.calls``, on real threads and loops."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tunekit.backends import check_supports
from tunekit.backends.asyncio_loop import run_consumers
from tunekit.backends.threads import ThreadBackend
from tunekit.calls import (
    blocking_caller,
    call_async,
    on_every_thread,
    open_setup,
    per_thread_setup,
    setup_slots,
    single_worker,
)
from tunekit.errors import SetupError
from tunekit.target import Target, TargetSpec

EVENTS: list[tuple[str, int]] = []


def thread_bound() -> Iterator[int]:
    """A generator factory that logs where it opens and closes."""
    here = threading.get_ident()
    EVENTS.append(("open", here))
    yield here
    EVENTS.append(("close", here))


def on_its_thread(opened_on: int) -> int:
    if opened_on != threading.get_ident():
        raise RuntimeError("used on another thread")
    return opened_on


def make(func: object, setup: object, name: str = "m:setup") -> Target:
    return Target(TargetSpec("m:f", setup=name), func, False, [((), {})], setup=setup)  # type: ignore[arg-type]


def test_each_thread_opens_one_uses_its_own_and_closes_it_there() -> None:
    EVENTS.clear()
    target = make(on_its_thread, thread_bound)
    with (
        ThreadPoolExecutor(max_workers=3) as pool,
        per_thread_setup(target, pool.submit, 3) as first,
    ):
        call = blocking_caller(target, first=first)
        results = list(pool.map(call, [((), {})] * 30))
    assert [r.error for r in results] == [None] * 30
    opened = [t for event, t in EVENTS if event == "open"]
    assert len(set(opened)) == 3 == len(target.setup_s)
    assert sorted(t for event, t in EVENTS if event == "close") == sorted(opened)


def test_event_loop_slots_each_get_their_own_value() -> None:
    seen: list[int] = []

    async def holds(value: int) -> None:
        seen.append(value)
        await asyncio.sleep(0)

    counter = iter(range(100))
    target = Target(
        TargetSpec("m:f", setup="m:s"), holds, True, [((), {})], setup=lambda: next(counter)
    )
    with setup_slots(target, 4) as firsts:
        assert firsts == [0, 1, 2, 3]
        results = asyncio.run(
            run_consumers([((), {})] * 8, 4, lambda call: call_async(holds, call), firsts)
        )
    assert [r.error for r in results] == [None] * 8
    assert sorted(set(seen)) == [0, 1, 2, 3]


class Resource:
    closed = False

    def close(self) -> None:
        self.closed = True


def test_a_result_with_close_is_closed_and_single_worker_binds_it_first() -> None:
    made: list[Resource] = []

    def factory() -> Resource:
        made.append(Resource())
        return made[-1]

    target = make(lambda resource, x=1: (resource, x), factory)
    with single_worker(target) as one:
        assert one.setup is None
        assert one.func(5) == (made[0], 5)
    assert made[0].closed


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: iter(()).__next__(), "raised StopIteration"),
        (lambda: 1 / 0, "raised ZeroDivisionError: division by zero"),
    ],
)
def test_a_failing_factory_is_a_setup_error_naming_it(factory: object, message: str) -> None:
    with pytest.raises(SetupError, match=f"setup 'm:setup' .*{message.split(':', maxsplit=1)[0]}"):
        open_setup(make(print, factory))


def test_a_generator_that_yields_twice_is_refused_at_teardown() -> None:
    def twice() -> Iterator[int]:
        yield 1
        yield 2

    opened = open_setup(make(print, twice))
    with pytest.raises(SetupError, match="yielded more than once"):
        opened.close()


class NoSetup(ThreadBackend):
    name = "nosetup"
    worker_setup = False


def test_a_backend_that_does_not_declare_worker_setup_is_skipped_when_one_is_given() -> None:
    with_setup = make(print, thread_bound)
    assert check_supports(NoSetup(), with_setup) == (
        "the nosetup backend does not run a per-worker setup (--setup)"
    )
    assert check_supports(ThreadBackend(), with_setup) is None


def test_single_worker_gives_each_thread_that_calls_it_its_own_value() -> None:
    """GIVEN the calibration's or a probe's target WHEN its threads call it THEN each thread
    gets a value opened on it, and all are closed at the end."""
    EVENTS.clear()
    target = make(on_its_thread, thread_bound)
    with single_worker(target) as one, ThreadPoolExecutor(max_workers=2) as pool:
        assert one.func() == threading.get_ident()
        call = blocking_caller(one)
        errors: list[str | None] = []
        on_every_thread(pool.submit, 2, lambda: errors.append(call(((), {})).error))
        on_every_thread(pool.submit, 2, lambda: errors.append(call(((), {})).error))
        assert errors == [None] * 4
    opened = {t for event, t in EVENTS if event == "open"}
    assert len(opened) == 3 == len(target.setup_s)
    assert {t for event, t in EVENTS if event == "close"} == opened
