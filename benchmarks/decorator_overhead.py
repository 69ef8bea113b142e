"""Per-call overhead of ``@tunekit.profile``: passive and disabled, against a plain call.

    python benchmarks/decorator_overhead.py [--number N] [--repeat R]

Prints the best time per call of each variant (like ``timeit``: the minimum of the repeats,
the least disturbed by other work) and the overhead over the plain call. Targets: the disabled
decorator costs nothing (it returns the function itself); the passive one under 2 µs per call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import timeit
from collections.abc import Callable
from typing import Any

import tunekit


def plain(x: int) -> int:
    return x + 1


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


def per_call_ns(func: Callable[[int], Any], number: int, repeat: int) -> float:
    """Best time of one call in nanoseconds."""
    timer = timeit.Timer("func(1)", globals={"func": func})
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e9


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
    base = per_call_ns(plain, options.number, options.repeat)
    rows = [
        ("plain call", base),
        ("disabled (TUNEKIT_DISABLE=1)", per_call_ns(disabled, options.number, options.repeat)),
        ("passive @tunekit.profile", per_call_ns(passive, options.number, options.repeat)),
    ]
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
    tunekit.decorator._recorders.clear()  # no summary at exit: this is not a real program
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
