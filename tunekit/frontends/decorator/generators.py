"""Wrappers of generator and async generator functions for ``@tunekit.profile``.

A call of a generator function does its work while it is iterated, so one call is measured as
the analysis measures it (``tunekit.target.consuming``): the time spent inside the generator,
from its first step to its last, summed over the steps; the consumer's time between the steps
is not counted. Every value, ``send()``, ``throw()`` and ``close()`` passes through unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Callable, Generator
from time import perf_counter
from typing import Any

from tunekit.frontends.decorator.recorder import Recorder


def generator_wrapper(func: Callable[..., Any], recorder: Recorder) -> Callable[..., Any]:
    """A generator function that yields what ``func``'s generator yields, timing its steps."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        if recorder.sampling:
            recorder.keep(args, kwargs)
        spent = 0.0
        start = perf_counter()
        try:
            inner = func(*args, **kwargs)
            to_send: Any = None
            to_throw: BaseException | None = None
            while True:
                start = perf_counter()
                try:
                    item = inner.send(to_send) if to_throw is None else inner.throw(to_throw)
                except StopIteration as stop:
                    spent += perf_counter() - start
                    recorder.walls.append(spent)
                    recorder.after_call()
                    return stop.value
                spent += perf_counter() - start
                to_send, to_throw = None, None
                try:
                    to_send = yield item
                except GeneratorExit:  # the consumer stopped early: a call all the same
                    inner.close()
                    recorder.walls.append(spent)
                    raise
                except BaseException as exc:  # thrown in by the consumer: the generator's
                    to_throw = exc
        except GeneratorExit:
            raise
        except BaseException as exc:
            recorder.failed(spent + perf_counter() - start, exc)
            raise

    return wrapper


def async_generator_wrapper(func: Callable[..., Any], recorder: Recorder) -> Callable[..., Any]:
    """An async generator function that yields what ``func``'s yields, timing its steps."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        if recorder.sampling:
            recorder.keep(args, kwargs)
        spent = 0.0
        start = perf_counter()
        try:
            inner = func(*args, **kwargs)
            to_send: Any = None
            to_throw: BaseException | None = None
            while True:
                start = perf_counter()
                try:
                    if to_throw is None:
                        item = await inner.asend(to_send)
                    else:
                        item = await inner.athrow(to_throw)
                except StopAsyncIteration:
                    spent += perf_counter() - start
                    recorder.walls.append(spent)
                    recorder.after_call()
                    return
                spent += perf_counter() - start
                to_send, to_throw = None, None
                try:
                    to_send = yield item
                except GeneratorExit:
                    await inner.aclose()
                    recorder.walls.append(spent)
                    raise
                except BaseException as exc:
                    to_throw = exc
        except GeneratorExit:
            raise
        except BaseException as exc:
            recorder.failed(spent + perf_counter() - start, exc)
            raise

    return wrapper
