"""Workloads of known behaviour for the tests (imported by path in child processes)."""

from __future__ import annotations

import asyncio
import ctypes
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

SLEEP_S = 0.02


def add(a: int = 1, b: int = 2) -> int:
    return a + b


def sleeper(delay: float = SLEEP_S) -> None:
    time.sleep(delay)


async def async_sleeper(delay: float = SLEEP_S) -> None:
    await asyncio.sleep(delay)


def spin(n: int = 20_000) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def always_fails() -> None:
    raise ValueError("always broken")


_calls = 0


def fails_every_third() -> None:
    global _calls
    _calls += 1
    if _calls % 3 == 0:
        raise KeyError("third call")
    time.sleep(0.001)


def exits_hard() -> None:
    os._exit(3)


def segfaults() -> None:
    ctypes.string_at(0)


def hangs() -> None:
    time.sleep(3600)


def leaves_a_child(pid_file: str) -> None:
    """Starts a process that would outlive the trial, writing its pid to ``pid_file``."""
    if not Path(pid_file).exists():
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
        Path(pid_file).write_text(str(proc.pid))
    time.sleep(0.001)


def leaves_a_thread() -> None:
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
    time.sleep(0.001)


def lambdas() -> list[tuple[object]]:
    """An --inputs factory whose arguments cannot be pickled."""
    return [(lambda: 1,)] * 4


def numbers() -> list[object]:
    return [(1, 2), {"a": 5}, 7]


class Greeter:
    def greet(self, name: str = "x") -> str:
        return "hi " + name

    @staticmethod
    def shout(name: str = "x") -> str:
        return name.upper()


class NeedsArgs:
    def __init__(self, value: int) -> None:
        self.value = value

    def get(self) -> int:
        return self.value


NOT_CALLABLE = 42


async def deferred_sleeper(delay: float = SLEEP_S) -> None:
    """A Twisted-style coroutine: awaits a Deferred (only runs under the twisted backend)."""
    from twisted.internet import reactor, task

    await task.deferLater(reactor, delay, lambda: None)


async def async_always_fails() -> None:
    await asyncio.sleep(0)
    raise ValueError("always broken")


def _in_a_pool() -> bool:
    """True in a pool's worker thread or child process, False when called in a plain loop."""
    import multiprocessing

    in_thread = threading.current_thread() is not threading.main_thread()
    return in_thread or multiprocessing.parent_process() is not None


def misbehaves_in_pools(how: str) -> None:
    """Works in a plain loop; in a pool worker it hangs, exits, segfaults or allocates 300 MB."""
    time.sleep(0.002)
    if not _in_a_pool():
        return
    if how == "hang":
        time.sleep(3600)
    elif how == "exit":
        os._exit(7)
    elif how == "segfault":
        ctypes.string_at(0)
    elif how == "allocate":
        block = bytearray(300 * 2**20)  # zero pages: touch them so they are resident
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(1.0)


class Opaque:
    """Pickling refused, like a socket or a lock."""

    def __reduce__(self) -> str:
        raise TypeError("cannot pickle 'Opaque' object")


def returns_unpicklable() -> Opaque:
    time.sleep(0.001)
    return Opaque()


def takes_anything(value: object) -> int:
    time.sleep(0.001)
    return 1


_BUFFER = bytes(8 * 2**20)


def hash_big() -> bytes:
    """SHA-256 of 8 MiB: hashlib releases the GIL for large buffers."""
    import hashlib

    return hashlib.sha256(_BUFFER).digest()


async def async_spin(n: int = 20_000) -> int:
    """An ``async def`` that never awaits: pure CPU."""
    return spin(n)


def allocate_200mb() -> int:
    """Holds 200 MiB at its peak (touched, so it is really allocated), then frees it."""
    block = bytearray(200 * 2**20)
    block[:: 2**12] = b"\x01" * len(block[:: 2**12])
    return len(block)


def allocate_lists(n: int = 2_000) -> int:
    """Allocates ``n`` small lists and a 1 MiB buffer, then frees them: a heap to profile."""
    lists = [[i] for i in range(n)]
    block = bytearray(2**20)
    return len(lists) + len(block)


def sleeping_generator(steps: int = 3, delay: float = SLEEP_S / 2) -> Iterator[int]:
    """A generator whose work is in its iteration: steps x delay of sleep per full pass."""
    for step in range(steps):
        time.sleep(delay)
        yield step


async def async_sleeping_generator(
    steps: int = 3, delay: float = SLEEP_S / 2
) -> AsyncIterator[int]:
    """The async twin of ``sleeping_generator``: it awaits between its items."""
    for step in range(steps):
        await asyncio.sleep(delay)
        yield step


def generator_steps() -> list[object]:
    """Inputs for the generator targets: how many steps each pass yields."""
    return [(1,), (2,), (3,)]
