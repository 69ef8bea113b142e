"""Per-call overhead of ``@tunekit.profile``: passive and disabled, against a plain call.

    python benchmarks/decorator_overhead.py [--number N] [--repeat R]

Prints the best time per call of each variant (like ``timeit``: the minimum of the repeats,
the least disturbed by other work) and the overhead over the plain call, measured in rounds that
interleave the variants. A bare timing wrapper (two ``perf_counter()`` calls and an append) is
measured beside them: the floor any wrapper that times each call pays. Targets: the disabled
decorator costs nothing (it returns the function itself); the passive one at most 0.3 µs per call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import timeit
from collections.abc import Callable
from time import perf_counter
from typing import Any

import tunekit
import tunekit.frontends.decorator.summary


def plain(x: int) -> int:
    return x + 1


_BARE_WALLS: list[float] = []


def bare_timing_wrapper(*args: Any, **kwargs: Any) -> int:
    """The least a wrapper that times every call of any function does: no counters, no lock."""
    start = perf_counter()
    try:
        result = plain(*args, **kwargs)
    except BaseException:
        raise
    _BARE_WALLS.append(perf_counter() - start)
    if len(_BARE_WALLS) >= 4096:  # bounded, like the decorator's list
        _BARE_WALLS.clear()
    return result


async def plain_async(x: int) -> int:
    return x + 1


def decorated(env: dict[str, str], func: Callable[..., Any]) -> Callable[..., Any]:
    """``tunekit.profile(func)`` with ``env`` set while decorating (the decorator reads it)."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return tunekit.profile(func)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def per_call_ns(funcs: list[Callable[[int], Any]], number: int, repeat: int) -> list[float]:
    """Best time of one call of each function in nanoseconds, the functions timed in turn in
    each of ``repeat`` rounds, so a disturbance of the machine hits them alike."""
    timers = [timeit.Timer("func(1)", globals={"func": func}) for func in funcs]
    best = [float("inf")] * len(funcs)
    for _ in range(repeat):
        for index, timer in enumerate(timers):
            best[index] = min(best[index], timer.timeit(number) / number * 1e9)
    return best


def per_await_ns(func: Callable[[int], Any], number: int, repeat: int) -> float:
    """Best time of one awaited call in nanoseconds (the loop's own cost is in every variant)."""

    async def batch() -> float:
        best = float("inf")
        loop = asyncio.get_running_loop()
        for _ in range(repeat):
            start = loop.time()
            for _ in range(number):
                await func(1)
            best = min(best, loop.time() - start)
        return best

    return asyncio.run(batch()) / number * 1e9


def main(argv: list[str]) -> int:
    """Run the benchmark and print one line per variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200_000, help="calls per repeat")
    parser.add_argument("--repeat", type=int, default=5, help="repeats (the best is kept)")
    options = parser.parse_args(argv)
    disabled = decorated({"TUNEKIT_DISABLE": "1"}, plain)
    passive = decorated({}, plain)
    passive_async = decorated({}, plain_async)
    print(f"Python {sys.version.split()[0]}, {options.number} calls x {options.repeat} repeats")
    print(f"disabled decorator returns the same object: {disabled is plain}")
    labels = [
        "plain call",
        "disabled (TUNEKIT_DISABLE=1)",
        "bare timing wrapper (reference)",
        "passive @tunekit.profile",
    ]
    times = per_call_ns(
        [plain, disabled, bare_timing_wrapper, passive], options.number, options.repeat
    )
    base = times[0]
    rows = list(zip(labels, times, strict=True))
    async_base = per_await_ns(plain_async, options.number // 4, options.repeat)
    async_rows = [
        ("plain await", async_base),
        (
            "passive @tunekit.profile (async)",
            per_await_ns(passive_async, options.number // 4, options.repeat),
        ),
    ]
    for label, ns, reference in [
        *((label, ns, base) for label, ns in rows),
        *((label, ns, async_base) for label, ns in async_rows),
    ]:
        print(f"{label:34} {ns:8.0f} ns/call   overhead {ns - reference:+7.0f} ns")
    # no summary at exit: this is not a real program
    tunekit.frontends.decorator.summary._recorders.clear()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
