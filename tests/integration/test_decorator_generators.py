"""``@tunekit.profile`` on generator functions, and with a per-worker ``setup``."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator

import pytest

import tunekit
from tunekit.frontends.decorator import Recorder
from tunekit.frontends.decorator import summary as decorator

#: Each step of the generators below sleeps this long: sleep never returns early, so a call
#: consumed to the end is timed at ``steps * STEP_S`` or more, the generator's creation at µs.
STEP_S = 0.005


def plain_steps(n: int) -> Iterator[int]:
    for i in range(n):
        time.sleep(STEP_S)
        yield i


steps = tunekit.profile(plain_steps)


@tunekit.profile
def echo() -> Iterator[int]:
    """Yields what it is sent, doubled, until sent None."""
    received = yield 0
    while received is not None:
        received = yield 2 * received


@tunekit.profile
async def async_steps(n: int) -> AsyncIterator[int]:
    for i in range(n):
        await asyncio.sleep(STEP_S)
        yield i


@tunekit.profile
def failing_steps() -> Iterator[int]:
    yield 1
    raise ValueError("broken after one")


def connection() -> Iterator[sqlite3.Connection]:
    """The per-worker setup of ``count_rows``."""
    conn = sqlite3.connect(":memory:")
    yield conn
    conn.close()


@tunekit.profile(
    analyze=True, sample=3, budget=6, backends=["sequential", "thread"], setup=connection
)
def count_rows(conn: sqlite3.Connection, n: int) -> int:
    time.sleep(STEP_S)
    return int(conn.execute("select ?", (n,)).fetchone()[0])


@pytest.fixture(autouse=True, scope="module")
def no_summary_at_exit() -> Iterator[None]:
    yield
    decorator._recorders.clear()


def recorder_of(func: object) -> Recorder:
    recorder = getattr(func, "__tunekit_recorder__", None)
    assert isinstance(recorder, Recorder)
    return recorder


@pytest.fixture(autouse=True)
def only_this_tests_recorders(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TUNEKIT_DISABLE_PLUGINS", "nature,pyinstrument,memray,locks")
    saved = list(decorator._recorders)
    decorator._recorders.clear()
    yield
    decorator._recorders[:] = saved


def test_a_decorated_generator_yields_its_values_and_is_timed_as_consumed() -> None:
    # GIVEN a decorated generator function WHEN it is consumed twice
    assert list(steps(3)) == [0, 1, 2]
    assert list(steps(2)) == [0, 1]
    # THEN two calls were counted, each at least its steps' sleep, and the arguments kept
    snap = recorder_of(steps).snapshot()
    assert snap.calls == 2
    assert snap.wall_min_s is not None and snap.wall_min_s >= 2 * STEP_S
    assert snap.sample == ["(3)", "(2)"]


def test_send_reaches_the_decorated_generator() -> None:
    gen = echo()
    assert next(gen) == 0
    assert gen.send(5) == 10
    assert gen.send(7) == 14
    with pytest.raises(StopIteration):
        gen.send(None)
    assert recorder_of(echo).snapshot().calls == 1


def test_a_generator_closed_early_is_a_call_and_an_error_inside_is_counted() -> None:
    early = tunekit.profile(plain_steps)
    gen = early(10)
    assert next(gen) == 0
    gen.close()
    with pytest.raises(ValueError, match="broken after one"):
        list(failing_steps())
    assert recorder_of(early).snapshot().calls == 1
    snap = recorder_of(failing_steps).snapshot()
    assert (snap.calls, snap.errors, snap.first_error) == (1, 1, "ValueError: broken after one")


def test_a_decorated_async_generator_yields_its_values_and_is_timed_as_consumed() -> None:
    async def consume() -> list[int]:
        return [i async for i in async_steps(3)]

    assert asyncio.run(consume()) == [0, 1, 2]
    snap = recorder_of(async_steps).snapshot()
    assert snap.calls == 1
    assert snap.wall_min_s is not None and snap.wall_min_s >= 3 * STEP_S


@pytest.mark.slow
def test_analyze_with_a_setup_leaves_the_first_argument_out_and_opens_one_per_worker() -> None:
    # GIVEN a function analyzed with a per-worker setup, called with its connection first
    conn = sqlite3.connect(":memory:")
    for n in (1, 2, 3):
        assert count_rows(conn, n) == n
    # THEN the connection was not recorded, and the analysis gave every worker its own
    snap = recorder_of(count_rows).snapshot()
    assert snap.sample == ["(1)", "(2)", "(3)"]
    assert snap.analysis_error is None
    assert snap.analysis is not None
    assert snap.analysis["workload"]["setup"].endswith(":connection")
    ok = [t for t in snap.analysis["trials"] if t["status"] == "ok"]
    assert ok and all(t["errors"] == 0 and t["setups"] == t["workers"] for t in ok)


@pytest.mark.slow
def test_the_python_api_takes_a_setup_function() -> None:
    report = tunekit.analyze(
        count_rows.__wrapped__,  # type: ignore[attr-defined]
        inputs=[(1,), (2,)],
        setup=connection,
        backends=["sequential", "thread"],
        budget=6,
    )
    assert report.workload.setup is not None and report.workload.setup.endswith(":connection")
    ok = [t for t in report.trials if t.status == "ok"]
    assert ok and all(t.errors == 0 and t.setups == t.workers for t in ok)
