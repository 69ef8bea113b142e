"""Profiles cut down to the user's code: every pyinstrument sample's stack and every memray
allocation's trace starts at the first frame the target runs, so a saved profile opens at the
user's function, not at tunekit's loop (``profile_sequential``, ``_loop``, ``call_sync``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyinstrument.session import Session

_PACKAGE = str(Path(__file__).parent.parent) + os.sep
#: Part of the tunekit package that is the user's side: the example targets of the docs.
_EXAMPLES = str(Path(__file__).parent.parent / "examples.py")
_PYINSTRUMENT = "pyinstrument" + os.sep
#: How pyinstrument's file of a frame without a source file begins ("<built-in>", "<string>").
_NO_SOURCE = "<"


def frame_file(frame_info: str) -> str:
    """The file of a pyinstrument frame: ``function\\x00file\\x00line[\\x01attributes]``."""
    parts = frame_info.split("\x00", 2)
    return parts[1] if len(parts) > 1 else ""


def is_machinery(frame_info: str) -> bool:
    """A pyinstrument frame of tunekit itself (its loops, callers, wrappers)."""
    return is_tunekit_file(frame_file(frame_info))


def is_tunekit_file(path: str) -> bool:
    """A file of tunekit itself, not of the code it measures (the docs' examples are that)."""
    return path.startswith(_PACKAGE) and path != _EXAMPLES


def user_trace(trace: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """A memray stack trace (leaf first) up to the frame tunekit called: [] when tunekit itself
    allocated, there or in generated code it called (a named tuple's ``__new__``)."""
    first = next((i for i, (_, path, _) in enumerate(trace) if is_tunekit_file(path)), None)
    kept = trace if first is None else trace[:first]
    return [] if kept and kept[-1][1].startswith(_NO_SOURCE) else kept


def user_stack(stack: list[str]) -> list[str]:
    """The frames after tunekit's last one, under the sample's thread frame; [] when the sample
    is in tunekit itself or in the profiler stopping."""
    last = max((i for i, info in enumerate(stack) if is_machinery(info)), default=None)
    if last is None:
        return []
    kept = stack[last + 1 :]
    if not kept or _PYINSTRUMENT in frame_file(kept[0]):
        return []
    return [stack[0], *kept]


def user_session(session: Session, description: str) -> Session:
    """``session`` with only the samples in the user's code, each starting at it, described as
    ``description`` (the profile's title). When every sample starts at the same function (the
    target), the profile's root is that function."""
    from pyinstrument.session import Session

    records = [(user_stack(stack), time) for stack, time in session.frame_records]
    kept = [(stack, time) for stack, time in records if stack]
    # a C function or generated code (a named tuple's __new__) right under tunekit's frames is
    # tunekit's (its clock, its result tuples), unless every sample starts in one: then the
    # target itself is a builtin
    in_python = [(stack, time) for stack, time in kept if not _generated(stack[1])]
    kept = in_python or kept
    tops = {(stack[0], _identifier(stack[1])) for stack, _ in kept}
    start = [kept[0][0][0], kept[0][0][1]] if len(tops) == 1 else []
    return Session(
        frame_records=kept,
        start_time=session.start_time,
        duration=sum(time for _, time in kept),
        min_interval=session.min_interval,
        max_interval=session.max_interval,
        sample_count=len(kept),
        start_call_stack=start or session.start_call_stack[:1],
        target_description=description,
        cpu_time=session.cpu_time,
        sys_path=session.sys_path,
        sys_prefixes=session.sys_prefixes,
    )


def _generated(frame_info: str) -> bool:
    return frame_file(frame_info).startswith(_NO_SOURCE)


def _identifier(frame_info: str) -> str:
    return frame_info.split("\x01", 1)[0]
