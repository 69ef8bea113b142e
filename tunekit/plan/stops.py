"""Why a backend stopped growing, recorded when the sweep decides and put in words at the end.

A ``Stop`` names the trials it was decided from by key, not by their numbers: configurations
are measured again after the sweep (re-runs, the duel), and a note must quote the values the
report shows, not those of an earlier pass. ``describe`` renders it from the final trials.
Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from tunekit.advice.rules import QUEUE_LATENCY_GROWTH, goodput
from tunekit.models import Trial
from tunekit.units import format_error_share, format_rate, format_seconds


@dataclass(frozen=True)
class Stop:
    """Why one backend stopped growing."""

    #: What stopped it: "one at a time", "failed", "suspect", "no scaling", "stalled",
    #: "errors", "limit", "out of budget", "fit", "cannot win", "measured less", "via",
    #: "same family", "queue".
    kind: str
    #: The backend's trial it was decided at (key), and the one it was compared with.
    trial: str | None = None
    other: str | None = None
    #: Words that come with the decision (a limit's reason, the noise band used).
    detail: str = ""
    noise: float = 0.0
    #: It was still gaining when it stopped: a limit stopped it, not its curve.
    gaining: bool = False
    #: The pool it would have measured next, when a limit or the budget stopped it.
    next_size: int | None = None


def describe(stop: Stop, trials: Mapping[str, Trial]) -> str:
    """The stop in words, with the numbers of ``trials`` (by key) as they are now."""
    mine, other = trials.get(stop.trial or ""), trials.get(stop.other or "")
    noise = f"noise {stop.noise:.0%}"
    if stop.kind == "one at a time":
        return "runs one task at a time"
    if stop.kind == "failed" and mine is not None:
        return f"{mine.key} {mine.status}: {mine.reason}"
    if stop.kind == "suspect":
        return f"not ranked: {stop.trial} {stop.detail}"
    if mine is None or other is None:
        return _limited(stop, mine, other)
    ratio = goodput(mine) / goodput(other) if goodput(other) else 0.0
    versus = f"{ratio:.2f}x {other.key} ({_rate(other)} calls/s)"
    if stop.kind == "no scaling":
        return f"does not scale: {mine.key} reached {ratio:.2f}x {other.key} ({noise})"
    if stop.kind == "stalled":
        return _stalled(mine, other, stop.noise)
    if stop.kind == "errors":
        return (
            f"errors began: at {mine.workers} workers {mine.error_rate:.0%} of calls raised "
            f"({mine.first_error}); at {other.workers}, {format_error_share(other.error_rate)}: "
            "a larger pool only adds failed calls"
        )
    if stop.kind == "queue":
        return _queued(mine, other)
    if stop.kind == "fit":
        return (
            f"the scaling law fitted to its curve predicts {stop.detail}: {mine.key} "
            f"({_rate(mine)} calls/s) is as far as it pays"
        )
    if stop.kind == "cannot win":
        return (
            f"cannot win: even perfect scaling to {stop.detail} would stay below "
            f"{other.key} ({_rate(other)} calls/s); {mine.key} reached {_rate(mine)}"
        )
    if stop.kind == "measured less":
        return f"measured less: {mine.key} reached {_rate(mine)} calls/s, {versus} ({noise})"
    if stop.kind == "via":
        return (
            f"measured less: it runs plain functions on a {stop.detail} pool, so it can only "
            f"tie with {stop.detail} or trail it; {mine.key} reached {versus}"
        )
    if stop.kind == "same family":
        return (
            f"measured less: {mine.key} ties with {versus}, and it runs tasks the way "
            f"{other.backend} does, whose pool stopped gaining at {stop.detail}: a larger pool "
            "would not help it either"
        )
    return _limited(stop, mine, other)


def what_next(stop: Stop, trials: Mapping[str, Trial], budget_s: float) -> str:
    """Why the chosen backend's pool stopped growing while still gaining, and how to measure a
    larger one: the size to try next and the option that allows it."""
    mine = trials.get(stop.trial or "")
    size = stop.next_size or (2 * mine.workers if mine is not None else None)
    why = describe(stop, trials)
    if stop.kind == "limit" and stop.detail.startswith("--max-workers"):
        return f"growth stopped at {why}; try {size} workers with --max-workers {size}"
    if stop.kind == "limit":
        return f"growth stopped: {why}; {size} workers need more of that"
    if stop.kind == "out of budget":
        return (
            f"growth stopped: {stop.detail}; to try {size} workers, run again with a larger "
            f"--budget (e.g. {math.ceil(2 * budget_s)})"
        )
    return f"growth stopped: {why}"


def _limited(stop: Stop, mine: Trial | None, other: Trial | None) -> str:
    """A stop by a limit: the user's cap, the machine, the budget."""
    if stop.kind == "out of budget":
        text = f"stopped at {mine.key}: {stop.detail}" if mine else f"not measured: {stop.detail}"
    elif mine is not None:
        text = f"{mine.key} reached {stop.detail}"
    else:
        text = f"reached {stop.detail}"
    if stop.gaining and mine is not None and other is not None and goodput(other):
        text += (
            f", while still gaining ({goodput(mine) / goodput(other) - 1:+.0%} over {other.key})"
        )
    return text


def _stalled(after: Trial, before: Trial, noise: float) -> str:
    gain = goodput(after) / goodput(before) - 1 if goodput(before) else 0.0
    reason = (
        f"stopped growing: {after.key} gained {gain:+.0%} over {before.key} (noise {noise:.0%})"
    )
    if before.latency_s is None or after.latency_s is None or before.latency_s.p50 <= 0:
        return reason
    growth = after.latency_s.p50 / before.latency_s.p50
    if growth < QUEUE_LATENCY_GROWTH:
        return reason
    in_flight = goodput(after) * before.latency_s.p50
    now, then = format_seconds(after.latency_s.p50), format_seconds(before.latency_s.p50)
    return (
        f"{reason}, while each call took {growth:.1f}x longer (median "
        f"{now} vs {then}): a queue is forming. By "
        f"Little's law, {_rate(after)} calls/s at {before.key}'s call time is "
        f"{in_flight:.0f} calls in flight, not {after.workers}: the other workers wait for "
        "something shared"
    )


def _queued(after: Trial, quickest: Trial) -> str:
    """A pool that gained, but whose calls queue: the next one would only wait."""
    assert after.latency_s is not None and quickest.latency_s is not None
    growth = after.latency_s.p50 / quickest.latency_s.p50
    in_flight = goodput(after) * quickest.latency_s.p50
    now, then = format_seconds(after.latency_s.p50), format_seconds(quickest.latency_s.p50)
    return (
        f"a queue formed: {after.key} reached {_rate(after)} calls/s, but each call took "
        f"{growth:.1f}x longer than in {quickest.key} (median {now} vs {then}). By Little's "
        f"law that is {in_flight:.0f} calls in "
        f"progress, not {after.workers}: a larger pool would only wait longer"
    )


def _rate(trial: Trial) -> str:
    return format_rate(goodput(trial))
