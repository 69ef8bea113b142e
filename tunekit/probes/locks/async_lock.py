"""The ``asyncio.Lock`` stand-in: a subclass that counts at its creation site in ``REGISTRY``."""

from __future__ import annotations

import asyncio
import sys
from time import perf_counter, thread_time
from typing import Literal

from tunekit.probes.locks.counting import SAMPLE_MASK, Counts
from tunekit.probes.locks.frames import at_entry
from tunekit.probes.locks.registry import REGISTRY


class InstrumentedAsyncLock(asyncio.Lock, Counts):
    """An ``asyncio.Lock`` that counts like ``InstrumentedLock``. Its hold CPU is the event
    loop thread's, so it includes other coroutines that ran while it was held."""

    def __init__(self) -> None:
        super().__init__()
        self._site = REGISTRY.site_of(sys._getframe(1), "asyncio.Lock")
        self._t0 = self._c0 = -1.0
        REGISTRY.add(self._site, self)

    async def acquire(self) -> Literal[True]:
        """Acquire; contended when it would wait (the test ``asyncio.Lock`` itself makes)."""
        at = at_entry(self._at, sys._getframe(1))
        waiters = self._waiters
        if self.locked() or (waiters and not all(w.cancelled() for w in waiters)):
            start = perf_counter()
            try:
                await super().acquire()
            except asyncio.CancelledError:
                self._failed += 1
                raise
            waited = perf_counter() - start
            self._contended += 1
            self._wait_s += waited
            self._wait_max_s = max(self._wait_max_s, waited)
            at[1] += 1
            at[2] += waited
        else:
            await super().acquire()
        at[0] += 1
        self._cur = at
        self._c0 = -1.0 if self._acquisitions & SAMPLE_MASK else thread_time()
        self._acquisitions += 1
        self._t0 = perf_counter()
        return True

    def release(self) -> None:
        """Release, adding the hold to the counts."""
        if self.locked() and self._t0 >= 0.0:
            held = perf_counter() - self._t0
            self._hold_s += held
            if held > self._hold_max_s:  # noqa: PLR1730 (as in InstrumentedLock.release)
                self._hold_max_s = held
            if self._cur is not None:
                self._cur[3] += held
            if self._c0 >= 0.0:
                self._hold_cpu_s += thread_time() - self._c0
                self._hold_cpu_wall_s += held
            self._t0 = -1.0
        super().release()

    def __del__(self) -> None:
        REGISTRY.fold(self._site, self)
