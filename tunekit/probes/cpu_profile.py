"""pyinstrument CPU profile of the target, in a process of its own.

pyinstrument samples only the thread that started it, so the threaded pass starts one profiler
in each worker thread and combines the sessions; coroutines are profiled from inside the running
loop with ``async_mode`` so that await time is attributed to them. The profiler's overhead is
measured on the same calls and reported, never hidden.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunekit.calls import blocking_caller
from tunekit.hookspecs import hookimpl
from tunekit.probes import ProbeContext, calls_for, timed
from tunekit.probes.user_frames import user_session

if TYPE_CHECKING:
    from pyinstrument.frame import Frame
    from pyinstrument.session import Session

    from tunekit.probes import Probe
    from tunekit.target import Call, Target

#: Sampling interval (pyinstrument's default): 1 ms.
INTERVAL_S = 0.001
#: How many hot functions the report lists.
TOP_FUNCTIONS = 10
#: Threads in the threaded pass.
THREADS = 2
_PACKAGE = Path(__file__).parent.parent
#: tunekit's own frames around the calls: not part of the user's profile.
_MACHINERY = tuple(
    str(_PACKAGE / part) for part in ("backends" + os.sep, "probes" + os.sep, "worker.py")
)


class CpuProfileProbe:
    """Where the time of a call goes, by function, with pyinstrument."""

    name = "pyinstrument"
    description = "pyinstrument CPU profile: sequential calls and a 2-thread run, HTML saved"
    #: Its shortest run, in call times: a warm-up, a plain call, a profiled one, and one on
    #: each of two threads at once (profiled calls run up to 1.5x slower).
    min_calls = 4

    def supports(self, target: Target) -> str | None:
        """Every target can be profiled."""
        return None

    def run(self, target: Target, context: ProbeContext) -> dict[str, Any]:
        """Profile; results go to ``profiles`` (hot functions, HTML paths, overhead)."""
        from pyinstrument.renderers import HTMLRenderer

        n = calls_for(context, 0.25)
        calls = [target.calls[i % len(target.calls)] for i in range(n)]
        plain = blocking_caller(target)
        plain(calls[0])  # warm-up: imports and caches are not the task's cost
        plain_s = timed(_loop, plain, calls)
        profiled_s, whole = _timed_session(lambda: profile_sequential(target, calls))
        threaded = profile_threads(target, calls)
        # the saved profiles start at the user's function: tunekit's frames are cut off
        cpu_html = context.profile_dir / "cpu-profile.html"
        spec = target.spec.target
        sequential = user_session(whole, f"{spec}: {n} calls one after another")
        cpu_html.write_text(HTMLRenderer().render(sequential))
        threads_html = context.profile_dir / "cpu-profile-threads.html"
        threaded = user_session(threaded, f"{spec}: {n} calls on {THREADS} threads")
        threads_html.write_text(HTMLRenderer().render(threaded))
        return {
            "profiles": {
                "hot_functions": hot_functions(whole),
                "cpu_html": str(cpu_html),
                "cpu_threads_html": str(threads_html),
                "pyinstrument_overhead": profiled_s / plain_s if plain_s else None,
            }
        }


def profile_sequential(target: Target, calls: Sequence[Call]) -> Session:
    """A profile of ``calls`` made one after another (awaited inside one loop for coroutines)."""
    from pyinstrument import Profiler

    func = target.func
    if target.is_coroutine:

        async def awaited() -> Session:
            profiler = Profiler(interval=INTERVAL_S, async_mode="enabled")
            profiler.start()  # inside the running loop, so awaits are attributed
            for args, kwargs in calls:
                # a failing call still took time; errors are counted by the trials
                with contextlib.suppress(Exception):
                    await func(*args, **kwargs)
            return profiler.stop()

        return asyncio.run(awaited())
    profiler = Profiler(interval=INTERVAL_S, async_mode="disabled")
    profiler.start()
    _loop(blocking_caller(target), calls)
    return profiler.stop()


def profile_threads(target: Target, calls: Sequence[Call]) -> Session:
    """``calls`` shared by ``THREADS`` threads, each profiled by its own profiler, combined."""
    from pyinstrument import Profiler
    from pyinstrument.session import Session

    caller = blocking_caller(target)
    shares = [list(calls[i::THREADS]) for i in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def run_share(share: list[Call]) -> Session:
        profiler = Profiler(interval=INTERVAL_S, async_mode="disabled")
        barrier.wait()
        profiler.start()
        _loop(caller, share)
        return profiler.stop()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        sessions = list(pool.map(run_share, shares))
    combined = sessions[0]
    for session in sessions[1:]:
        combined = Session.combine(combined, session)
    return combined


def hot_functions(session: Session, top: int = TOP_FUNCTIONS) -> list[dict[str, Any]]:
    """Functions by self time: ``function``, ``location`` (file:line), self and total share."""
    root = session.root_frame()
    if root is None or root.time <= 0:
        return []
    self_time: dict[tuple[str, str], float] = {}
    total_time: dict[tuple[str, str], float] = {}
    for frame, outer in _walk(root, frozenset()):
        key = (frame.function or "?", f"{frame.file_path}:{frame.line_no}")
        self_time[key] = self_time.get(key, 0.0) + frame.total_self_time
        if key not in outer:  # count recursion once
            total_time[key] = total_time.get(key, 0.0) + frame.time
    ranked = sorted(self_time, key=lambda k: self_time[k], reverse=True)[:top]
    return [
        {
            "function": function,
            "location": location,
            "self_share": self_time[(function, location)] / root.time,
            "total_share": total_time[(function, location)] / root.time,
        }
        for function, location in ranked
        if self_time[(function, location)] > 0
    ]


def _walk(frame: Frame, outer: frozenset[tuple[str, str]]) -> Iterator[tuple[Frame, Any]]:
    """Real frames (not pyinstrument's synthetic ones, nor tunekit's), with their callers' keys."""
    for child in frame.children:
        if child.is_synthetic or child.file_path is None:
            yield from _walk(child, outer)
            continue
        key = (child.function or "?", f"{child.file_path}:{child.line_no}")
        if not child.file_path.startswith(_MACHINERY):
            yield child, outer
        yield from _walk(child, outer | {key})


def _loop(caller: Callable[[Call], Any], calls: Sequence[Call]) -> None:
    for call in calls:
        caller(call)


def _timed_session(run: Callable[[], Session]) -> tuple[float, Session]:
    from time import perf_counter

    start = perf_counter()
    session = run()
    return perf_counter() - start, session


@hookimpl
def tunekit_register_probes(register: Callable[[Probe], None]) -> None:
    """Register the pyinstrument probe."""
    register(CpuProfileProbe())
