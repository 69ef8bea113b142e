"""Per-worker setup targets: one sqlite connection per worker, each logged as it opens and closes.

The log (``$TUNEKIT_TEST_SETUP_LOG``) gets a line ``open KEY TRIAL`` and ``close KEY TRIAL`` per
connection, where KEY names the connection and TRIAL the trial process it served (a process
pool's child logs its parent's pid), so a test counts the connections each trial opened.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

LOG_ENV = "TUNEKIT_TEST_SETUP_LOG"
#: Each call waits this long, so that trials measure something besides the query.
CALL_S = 0.002


def _log(event: str, key: str) -> None:
    parent = multiprocessing.parent_process()
    trial = parent.pid if parent is not None else os.getpid()
    with Path(os.environ[LOG_ENV]).open("a") as log:  # one short append per line
        log.write(f"{event} {key} {trial}\n")


def connection() -> Iterator[sqlite3.Connection]:
    """A generator factory: a connection to the test's database, closed after the yield.
    sqlite's own check (``check_same_thread``) makes a call on another thread fail."""
    database = Path(os.environ[LOG_ENV]).with_suffix(".sqlite")
    conn = sqlite3.connect(database, timeout=30)
    key = f"{os.getpid()}-{threading.get_ident()}-{id(conn)}"
    _log("open", key)
    try:
        yield conn
    finally:
        conn.close()
        _log("close", key)


class Closing:
    """A factory result with ``close()``: the log says it was closed."""

    def __init__(self) -> None:
        self.key = f"{os.getpid()}-{threading.get_ident()}-{id(self)}"
        _log("open", self.key)

    def close(self) -> None:
        _log("close", self.key)


def closing() -> Closing:
    """A plain factory whose result has ``close()``."""
    return Closing()


def query(conn: sqlite3.Connection) -> int:
    """One query on this worker's connection, then a short wait."""
    (value,) = conn.execute("select 1").fetchone()
    time.sleep(CALL_S)
    return int(value)


async def query_async(conn: sqlite3.Connection) -> int:
    """One query on this event-loop slot's connection, then a short asynchronous wait."""
    (value,) = conn.execute("select 1").fetchone()
    await asyncio.sleep(CALL_S)
    return int(value)


def uses_closing(resource: Closing, n: int = 1) -> int:
    """A call that gets a ``Closing`` first."""
    time.sleep(CALL_S)
    return n


def no_yield() -> Iterator[int]:
    """A generator factory that never yields."""
    return
    yield


def raising() -> None:
    """A factory that fails."""
    raise ConnectionRefusedError("database is down")


async def async_factory() -> int:
    """An async factory: refused, a setup runs outside any event loop."""
    return 1
