"""Workloads of known behaviour for the accuracy benchmark (``benchmarks/accuracy.py``).

Each is a target of its own (``benchmarks/workloads.py:cpu_bound``), called with no arguments,
and takes 1-20 ms per call except ``tiny`` (sub-microsecond). The two service clients need
the loopback service of ``serve``, whose port they read from ``TUNEKIT_BENCH_PORT``: it serves
at most ``SERVICE_LIMIT`` requests at once, so their right pool size is about that.

The locks are created with ``threading.Lock()`` at import time, looked up through the module,
so that a lock probe that replaces ``threading.Lock`` before importing the target sees them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import socket
import threading
import time
from multiprocessing.connection import Connection

#: Environment variable holding the port of the loopback service on 127.0.0.1.
PORT_ENV = "TUNEKIT_BENCH_PORT"
#: Requests the service serves at once; further ones wait for a free slot.
SERVICE_LIMIT = 8
#: Seconds the service waits (sleeps) per request.
SERVICE_DELAY_S = 0.01

_REQUEST = b"ping\n"
_BUFFER = bytes(range(256)) * 16384  # 4 MiB


def _spin(n: int) -> int:
    """Pure-Python arithmetic: about 37 ns per step on a 2-core machine, holding the GIL."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def cpu_bound() -> int:
    """About 2 ms of pure Python: holds the GIL throughout, so only processes scale."""
    return _spin(60_000)


def _service_port() -> int:
    port = os.environ.get(PORT_ENV)
    if port is None:
        raise RuntimeError(f"{PORT_ENV} is not set: run benchmarks/accuracy.py, which starts it")
    return int(port)


def blocking_service() -> bytes:
    """One request to the loopback service over a blocking socket (about 10 ms of waiting)."""
    with socket.create_connection(("127.0.0.1", _service_port())) as sock:
        sock.sendall(_REQUEST)
        reply = b""
        while chunk := sock.recv(64):  # the service closes the connection after its reply
            reply += chunk
    return reply


async def async_service() -> bytes:
    """The same request with asyncio streams."""
    reader, writer = await asyncio.open_connection("127.0.0.1", _service_port())
    try:
        writer.write(_REQUEST)
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()


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


WORKLOADS = (
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


def serve(
    port_sender: Connection, limit: int = SERVICE_LIMIT, delay_s: float = SERVICE_DELAY_S
) -> None:
    """Run the loopback service until terminated; sends its port through ``port_sender``.

    Any number of connections are accepted; each carries one request line and gets ``ok``
    back after ``delay_s`` of sleep, with at most ``limit`` requests in their sleep at once.
    The caller runs this in a process of its own, so that it competes with nothing measured
    for the GIL; that process ignores Ctrl-C, which the caller handles by terminating it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_serve(port_sender, limit, delay_s))


async def _serve(port_sender: Connection, limit: int, delay_s: float) -> None:
    slots = asyncio.Semaphore(limit)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readline()
            async with slots:
                await asyncio.sleep(delay_s)
            writer.write(b"ok\n")
            await writer.drain()
        except OSError:  # the client went away (a trial stopped at its timeout)
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port_sender.send(server.sockets[0].getsockname()[1])
    port_sender.close()
    async with server:
        await server.serve_forever()
