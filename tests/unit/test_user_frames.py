"""Profiles cut down to the user's code: which frames of a sample or a trace are kept."""

from __future__ import annotations

from pathlib import Path

import pytest

import tunekit
from tunekit.probes.user_frames import user_stack, user_trace

PACKAGE = Path(tunekit.__file__).parent
CALLS = str(PACKAGE / "calls.py")
LOOP = str(PACKAGE / "probes" / "cpu_profile.py")
EXAMPLES = str(PACKAGE / "examples.py")


def info(function: str, path: str, line: int = 1) -> str:
    """A pyinstrument frame: function, file and line joined by NUL."""
    return f"{function}\x00{path}\x00{line}"


THREAD = info("MainThread", "<thread>", 7)


@pytest.mark.parametrize(
    ("stack", "kept"),
    [
        # the target under tunekit's loop: the thread, then the target and what it calls
        (
            [THREAD, info("_loop", LOOP), info("call_sync", CALLS), info("work", "/app/job.py")],
            [THREAD, info("work", "/app/job.py")],
        ),
        (
            [THREAD, info("call_sync", CALLS), info("work", "/a.py"), info("helper", "/a.py")],
            [THREAD, info("work", "/a.py"), info("helper", "/a.py")],
        ),
        # the docs' example targets live in tunekit's package but are the user's side
        (
            [THREAD, info("call_sync", CALLS), info("cpu_bound", EXAMPLES)],
            [THREAD, info("cpu_bound", EXAMPLES)],
        ),
        ([THREAD, info("_loop", LOOP), info("call_sync", CALLS)], []),  # tunekit's own time
        ([THREAD, info("<module>", "/app/run.py")], []),  # not under tunekit at all
        (
            [THREAD, info("call_sync", CALLS), info("stop", "/site/pyinstrument/profiler.py")],
            [],
        ),
    ],
    ids=["target", "callees", "example", "tunekit-only", "outside", "profiler"],
)
def test_a_sample_keeps_the_frames_from_the_target_down(stack: list[str], kept: list[str]) -> None:
    assert user_stack(stack) == kept


@pytest.mark.parametrize(
    ("trace", "kept"),
    [
        (
            [("alloc", "/a.py", 3), ("work", "/a.py", 9), ("call_sync", CALLS, 40)],
            [("alloc", "/a.py", 3), ("work", "/a.py", 9)],
        ),
        ([("call_sync", CALLS, 40), ("_loop", LOOP, 5)], []),
        ([("<lambda>", "<string>", 1), ("call_sync", CALLS, 40)], []),  # a result tuple
        ([("work", "/a.py", 9)], [("work", "/a.py", 9)]),
    ],
    ids=["target", "tunekit", "generated", "no-tunekit"],
)
def test_an_allocation_trace_stops_at_the_frame_tunekit_called(
    trace: list[tuple[str, str, int]], kept: list[tuple[str, str, int]]
) -> None:
    assert user_trace(trace) == kept
