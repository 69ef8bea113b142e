"""``@tunekit.profile``: passive recording, the summary, disabled and inert modes, pickling,
and ``analyze=True`` replaying recorded calls in the trial processes."""

from __future__ import annotations

import asyncio
import inspect
import pickle
import sys
import types
from collections.abc import Iterator

import pytest

import tunekit
from tunekit.errors import InputError
from tunekit.frontends.decorator import Recorder, recorded_items
from tunekit.frontends.decorator import summary as decorator


def add(a: int, b: int = 2) -> int:
    """Adds."""
    return a + b


async def async_double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def broken(x: int) -> int:
    raise ValueError(f"bad {x}")


def keywords_only_after(a: int, /, *, b: int = 0) -> int:
    return a + b


def recorder_of(func: object) -> Recorder:
    recorder = getattr(func, "__tunekit_recorder__", None)
    assert isinstance(recorder, Recorder)
    return recorder


@pytest.fixture(autouse=True)
def no_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyses here test the API around the engine: skip the profiling probes (time)."""
    monkeypatch.setenv("TUNEKIT_DISABLE_PLUGINS", "nature,pyinstrument,memray,locks")


@pytest.fixture(autouse=True)
def only_this_tests_recorders() -> Iterator[None]:
    """Each test reports only what it decorated; nothing is left to print at pytest's exit."""
    saved = list(decorator._recorders)
    decorator._recorders.clear()
    yield
    decorator._recorders[:] = saved


@pytest.fixture(autouse=True, scope="module")
def no_summary_at_exit() -> Iterator[None]:
    yield
    decorator._recorders.clear()


def test_decorator_with_arguments_keeps_only_the_sample() -> None:
    wrapped = tunekit.profile(sample=2)(add)
    for i in range(5):
        wrapped(i)
    snap = recorder_of(wrapped).snapshot()
    assert (snap.calls, snap.sample) == (5, ["(0)", "(1)"])


def test_async_function_stays_a_coroutine_function_and_is_counted() -> None:
    wrapped = tunekit.profile(async_double)

    async def main() -> list[int]:
        return list(await asyncio.gather(*(wrapped(i) for i in range(4))))

    assert inspect.iscoroutinefunction(wrapped)
    assert asyncio.run(main()) == [0, 2, 4, 6]
    snap = recorder_of(wrapped).snapshot()
    # CPU time is not attributed to a coroutine: other tasks run while it awaits
    assert (snap.calls, snap.is_coroutine, snap.cpu_total_s) == (4, True, None)


def test_errors_are_counted_and_still_raised() -> None:
    wrapped = tunekit.profile(broken)
    for i in range(2):
        with pytest.raises(ValueError, match=f"bad {i}"):
            wrapped(i)
    snap = recorder_of(wrapped).snapshot()
    assert (snap.calls, snap.errors, snap.first_error) == (2, 2, "ValueError: bad 0")


def test_recorded_calls_become_inputs_items() -> None:
    # GIVEN calls mixing positional and keyword arguments
    data = [pickle.dumps(call) for call in [((1,), {}), ((1,), {"b": 3}), ((), {"a": 2})]]
    # THEN each becomes one --inputs item: all positional or all keywords
    assert recorded_items(add, data) == [(1,), (1, 3), {"a": 2}]
    # AND a call that no item can express (positional-only plus keywords) is left out
    mixed = [pickle.dumps(((1,), {"b": 2})), pickle.dumps(((4,), {}))]
    assert recorded_items(keywords_only_after, mixed) == [(4,)]
    with pytest.raises(InputError, match="none of the recorded calls can be replayed"):
        recorded_items(keywords_only_after, mixed[:1])


def test_disabled_returns_the_same_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEKIT_DISABLE", "1")
    assert tunekit.profile(add) is add
    assert tunekit.profile(sample=3, analyze=True)(async_double) is async_double
    assert decorator._recorders == []


def test_inert_inside_a_tunekit_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the process runs `python -m tunekit.isolation.worker`
    fake_main = types.ModuleType("__main__")
    fake_main.__spec__ = types.SimpleNamespace(name="tunekit.isolation.worker")  # type: ignore[assignment]
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    # THEN the decorator hands back the function itself
    assert tunekit.profile(add) is add
