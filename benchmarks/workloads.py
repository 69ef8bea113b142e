"""Workloads of known behaviour for the accuracy benchmark (``benchmarks/accuracy.py``).

Each is a target of its own (``benchmarks/workloads.py:cpu_bound``), called with no arguments.
Today's nine take 1-20 ms per call except ``tiny`` (sub-microsecond); the shapes users bring
(the section at the end) add services far wider than 16 and services that refuse calls beyond
their capacity, and calls of seconds. The lock workloads (``lock_workloads.py``) and those that
run real library code (``library_workloads.py``) live in modules of their own, re-exported
here. Each docstring says what the right
answer is and why, for the 2-core machine the benchmark is judged on.

The service clients call loopback services (``benchmarks/service.py``) that ``accuracy.py``
starts once per run, one per entry of ``SERVICES`` (its limit, delay and policy), each with its
port in its own environment variable, which the trial processes inherit.

The locks are created with ``threading.Lock()`` at import time, looked up through the module,
so that a lock probe that replaces ``threading.Lock`` before importing the target sees them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Literal

#: Environment variable holding the port of the standard loopback service on 127.0.0.1.
PORT_ENV = "TUNEKIT_BENCH_PORT"
#: Requests the standard service serves at once; further ones wait for a free slot.
SERVICE_LIMIT = 8
#: Seconds the standard service waits (sleeps) per request.
SERVICE_DELAY_S = 0.01


@dataclass(frozen=True)
class Service:
    """A loopback service the client workloads call; its port is in the variable ``env``."""

    env: str
    #: Requests in their delay at once.
    limit: int
    delay_s: float
    #: "queue": a request beyond ``limit`` waits for a free slot; "refuse": it is answered
    #: ``busy`` at once (a rate-limited API), and the client raises.
    policy: Literal["queue", "refuse"] = "queue"


#: Every service a workload calls, by name (``benchmarks/suite.py`` says which calls which).
SERVICES = {
    "standard": Service(PORT_ENV, SERVICE_LIMIT, SERVICE_DELAY_S),
    "wide": Service("TUNEKIT_BENCH_WIDE_PORT", 64, 0.02),
    "busy": Service("TUNEKIT_BENCH_BUSY_PORT", 8, 0.02, policy="refuse"),
    "slow": Service("TUNEKIT_BENCH_SLOW_PORT", 4, 1.0),
    "slower": Service("TUNEKIT_BENCH_SLOWER_PORT", 4, 2.0),
}

REQUEST = b"ping\n"
OK = b"ok\n"
BUSY = b"busy\n"
_BUFFER = bytes(range(256)) * 16384  # 4 MiB


def _spin(n: int) -> int:
    """Pure-Python arithmetic, holding the GIL: 37 ns per step on the machine the first
    workloads were tuned on, 82 ns on the benchmark's 2-core machine of 2026 (6 million steps
    took 0.49 s, the same with 60,000)."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def cpu_bound() -> int:
    """About 2 ms of pure Python: holds the GIL throughout, so only processes scale."""
    return _spin(60_000)


def _service_port(env: str = PORT_ENV) -> int:
    port = os.environ.get(env)
    if port is None:
        raise RuntimeError(f"{env} is not set: run benchmarks/accuracy.py, which starts it")
    return int(port)


class ServiceBusy(RuntimeError):
    """The service refused the request: its limit was in flight already."""


def _checked(reply: bytes) -> bytes:
    if reply == BUSY:
        raise ServiceBusy("the service answered busy")
    return reply


def _request(env: str = PORT_ENV) -> bytes:
    """One request over a blocking socket to the service whose port is in ``env``."""
    with socket.create_connection(("127.0.0.1", _service_port(env))) as sock:
        sock.sendall(REQUEST)
        reply = b""
        while chunk := sock.recv(64):  # the service closes the connection after its reply
            reply += chunk
    return _checked(reply)


async def _async_request(env: str = PORT_ENV) -> bytes:
    """One request with asyncio streams to the service whose port is in ``env``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", _service_port(env))
    try:
        writer.write(REQUEST)
        await writer.drain()
        return _checked(await reader.read())
    finally:
        writer.close()
        await writer.wait_closed()


def blocking_service() -> bytes:
    """One request to the loopback service over a blocking socket (about 10 ms of waiting)."""
    return _request(PORT_ENV)


async def async_service() -> bytes:
    """The same request with asyncio streams."""
    return await _async_request(PORT_ENV)


def gil_releasing() -> bytes:
    """SHA-256 of 4 MiB (about 2 ms): hashlib releases the GIL, so threads scale too."""
    return hashlib.sha256(_BUFFER).digest()


def tiny(x: int = 1) -> int:
    """Sub-microsecond: every pool costs more to dispatch to than the call itself."""
    return x + 1


def mixed() -> int:
    """About 1 ms of pure Python, then 5 ms of blocking wait."""
    total = _spin(27_000)
    time.sleep(0.005)
    return total


_COARSE_LOCK = threading.Lock()
_coarse_totals: dict[str, int] = {"calls": 0, "sum": 0}


def coarse_lock() -> int:
    """A lock held across a 3 ms wait and a little work that need no lock: threads serialize.

    Only the update of ``_coarse_totals`` needs the lock; the right advice is to shrink the
    critical section to it.
    """
    with _COARSE_LOCK:
        time.sleep(0.003)
        value = _spin(10_000)
        _coarse_totals["calls"] += 1
        _coarse_totals["sum"] += value
    return value


_FINE_LOCK = threading.Lock()
_fine_totals: dict[str, int] = {"items": 0}


def fine_lock() -> int:
    """20,000 acquisitions of one lock, one per item (about 3 ms): the right advice is to
    take it once around the loop (merge)."""
    for _ in range(20_000):
        with _FINE_LOCK:
            _fine_totals["items"] += 1
    return _fine_totals["items"]


#: Bytes ``memory_heavy`` allocates and touches per call. Page faults cost about 0.45 ms per
#: MiB on a 2-core machine: 100 MiB took 46 ms a call, and the grid could not fit its pools
#: of 16 and 32 even with 127 s; 40 MiB takes about 19 ms.
MEMORY_BYTES = 40 * 2**20
_PAGE = 4096


def memory_heavy() -> int:
    """Allocates 40 MiB and writes one byte per page, so all of it becomes resident."""
    block = bytearray(MEMORY_BYTES)
    block[::_PAGE] = b"\x01" * (MEMORY_BYTES // _PAGE)
    return len(block)


WORKLOADS: tuple[str, ...] = (
    "cpu_bound",
    "blocking_service",
    "async_service",
    "gil_releasing",
    "tiny",
    "mixed",
    "coarse_lock",
    "fine_lock",
    "memory_heavy",
)

# Semaphore-bound, producer-consumer, condition hand-off and read-mostly: in a module of their
# own, importable here since a target's folder is on sys.path; workloads.py:NAME targets.
import lock_workloads  # noqa: E402

semaphore_bound = lock_workloads.semaphore_bound
producer_consumer = lock_workloads.producer_consumer
condition_hand_off = lock_workloads.condition_hand_off
read_mostly = lock_workloads.read_mostly
WORKLOADS += lock_workloads.LOCK_WORKLOADS


# --- the shapes users bring: wide and refusing services, calls of seconds, library code -----


def wide_service() -> bytes:
    """One request to the wide service: 64 served at once, 20 ms each (``SERVICES["wide"]``).

    Right answer: threads, 64 of them or more: 64 in the service get 3,200 requests/s if
    the client's CPU keeps up, and each thread spends part of a call outside the service
    (connecting, waiting for the GIL). With other tests running on the 2-core machine,
    x16 measured 616/s, x32 1,020, x64 1,426-1,830, x128 1,368-2,745: 16 is far too few.
    """
    return _request(SERVICES["wide"].env)


def busy_service() -> bytes:
    """One request to a rate-limited API that answers ``busy`` at once when 8 are already in
    flight (20 ms each, ``SERVICES["busy"]``); the client raises ``ServiceBusy`` then.

    Right answer: 8 workers (thread x8): up to 400 successful calls/s and no error. A larger
    pool gets no more successful calls, only refusals, which count as errors, not throughput:
    on the shared machine x8 measured 292/s, x16 298/s and 1,756 refusals/s, x32 218/s.
    """
    return _request(SERVICES["busy"].env)


#: Steps of ``cpu_long``: 0.49 s at the 82 ns a step measured on the 2-core machine.
LONG_SPIN_STEPS = 6_000_000


def cpu_long() -> int:
    """About 0.5 s of pure Python per call, holding the GIL.

    Right answer: process x2 on 2 cores (4 calls/s against 2 sequentially); threads take
    turns on the GIL and gain nothing.
    """
    return _spin(LONG_SPIN_STEPS)


def blocking_long() -> bytes:
    """One blocking request of 1 s to a service that serves 4 at once (``SERVICES["slow"]``).

    Right answer: a pool of 4 (4 calls/s): fewer leave the service idle, more wait in its
    queue. Threads are the cheapest model that runs it.
    """
    return _request(SERVICES["slow"].env)


async def async_long() -> bytes:
    """A coroutine awaiting a 2 s reply from a service that serves 4 at once
    (``SERVICES["slower"]``).

    Right answer: 4 in flight (2 calls/s); an event loop is the cheapest model for a
    coroutine (asyncio, tornado and twisted are one family).
    """
    return await _async_request(SERVICES["slower"].env)


# Real library code: in a module of its own, re-exported as the lock workloads are.
import library_workloads  # noqa: E402

xml_parse = library_workloads.xml_parse
zlib_compress = library_workloads.zlib_compress
pickle_roundtrip = library_workloads.pickle_roundtrip
csv_parse = library_workloads.csv_parse
numpy_reduce = library_workloads.numpy_reduce

WORKLOADS += (
    "wide_service",
    "busy_service",
    "cpu_long",
    "blocking_long",
    "async_long",
    *library_workloads.LIBRARY_WORKLOADS,
)
