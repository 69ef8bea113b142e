"""The adaptive sweep's decisions: which configuration to measure next, from what was measured.

A pure planner (no timing, no I/O); the engine (``tunekit.engine.strategies.adaptive``) measures
what it asks for. The plan is a small tournament around the sequential baseline, so that an
io-bound task does not cost every backend a full doubling curve:

1. **baseline**: the backends that do not scale (sequential), at 1 worker.
2. **screen**: every other backend at 2 workers. A pool of 1 runs one task at a time, like the
   baseline plus the cost of handing it over, so it cannot win; it is measured only when there
   is no baseline. A screened backend that gains no more than the noise over the baseline
   does not scale and stops there.
3. **lead**: of the backends tied best at the screen, the cheapest (``model_cost``) doubles its
   pool while each doubling gains more than the noise, up to the free cores for work that needs
   a core each.
4. **challenge**: every other backend that scaled is measured at the leader's knee. One clearly
   below the leader there stops (it was measured less, and the reason says by how much), unless
   the leader stalled there and the curves may cross; one tied or ahead doubles from there
   while that pays.

A backend that runs plain functions on another backend's pool (the event loops hand them to a
thread pool) is not screened: for a plain function it is that pool plus a loop, so it is
measured once, at the leader's knee, and grows only if it beats the leader there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tunekit.advice.rules import KNEE_THRESHOLD, knee_of, model_cost, model_family
from tunekit.models import Trial
from tunekit.plan.sizing import MIN_GAIN, TrialPlan, noise_of

#: A leader whose pool stopped gaining while its processes kept fewer cores than this busy
#: was stopped by something outside them (a service, a lock): a tied backend of the same
#: family (``recommend.model_family``) would stop there too. Half a core: below what one
#: GIL-bound process uses when it is the limit (0.9-1.0 cores), above what waiting tasks use.
#: Other families are not spared the doubling: on a loopback service that serves 8 requests
#: at once, the event loops stopped at x8-x16 and 16 threads or processes went 8% further.
SPARE_CORES = 0.5
#: A backend this far behind a leader that stalled at its knee may still cross it further up
#: (see ``_may_cross``): the gap seen at x8 between curves that crossed by x16 was 6-9%; this
#: leaves room for the noise of one trial on top.
CROSSING_BAND = 0.15
#: A median task latency this many times the previous pool's, with no throughput gained, means
#: tasks wait for something shared: by Little's law the added workers only lengthen a queue.
QUEUE_LATENCY_GROWTH = 1.5


@dataclass(frozen=True)
class Contender:
    """A backend the sweep may measure."""

    name: str
    #: False: the backend runs one task at a time (measured at 1 worker only).
    scales: bool = True
    #: For a plain function, the backend whose pool runs it when that one is measured too.
    via: str | None = None


class AdaptiveSweep:
    """Decides the next trial of an adaptive sweep; ``stops`` says why each backend stopped."""

    def __init__(
        self,
        contenders: Sequence[Contender],
        *,
        max_workers: int,
        scaling_limit: int,
        is_coroutine: bool = False,
    ) -> None:
        self.contenders = {c.name: c for c in contenders}
        self.max_workers = max_workers
        self.scaling_limit = max(1, min(scaling_limit, max_workers))
        self.is_coroutine = is_coroutine
        self.stops: dict[str, str] = {}
        self.leader: str | None = None

    # --- the plan ----------------------------------------------------------------------------

    def next_plan(self, trials: Sequence[Trial]) -> TrialPlan | None:
        """The next configuration to measure, or None when the sweep is done."""
        curves = {name: [t for t in trials if t.backend == name] for name in self.contenders}
        self._stop_failed(curves)
        for phase in (self._baseline, self._screen, self._lead, self._challenge):
            plan = phase(curves)
            if plan is not None:
                return plan
        return None

    def first_size(self, trials: Sequence[Trial]) -> int:
        """The screening pool size: 2 when a baseline was measured, else 1."""
        return 2 if self.max_workers >= 2 and self._baseline_trial(trials) is not None else 1

    def _stop_failed(self, curves: dict[str, list[Trial]]) -> None:
        for name, curve in curves.items():
            if name in self.stops or not curve or curve[-1].status == "ok":
                continue
            last = curve[-1]
            self.stops[name] = f"{last.key} {last.status}: {last.reason}"

    def _active(self, name: str) -> bool:
        return name not in self.stops

    def _baseline(self, curves: dict[str, list[Trial]]) -> TrialPlan | None:
        for name, contender in self.contenders.items():
            if not contender.scales and self._active(name):
                if not curves[name]:
                    return TrialPlan(name, 1)
                self.stops[name] = "runs one task at a time"
        return None

    def _screen(self, curves: dict[str, list[Trial]]) -> TrialPlan | None:
        trials = [t for curve in curves.values() for t in curve]
        size = self.first_size(trials)
        for name in self._screened():
            if self._active(name) and not curves[name]:
                return TrialPlan(name, size)
        baseline = self._baseline_trial(trials)
        for name in self._screened():
            if not self._active(name) or len(curves[name]) != 1 or baseline is None:
                continue
            first = _ok(curves[name])
            if first and size > 1 and not _gains(baseline, first[0]):
                self.stops[name] = _no_scaling(baseline, first[0])
        return None

    def _lead(self, curves: dict[str, list[Trial]]) -> TrialPlan | None:
        if self.leader is None:
            self.leader = self._choose_leader(curves)
            if self.leader is None:
                return None
        name = self.leader
        if not self._active(name):
            return None
        return self._grow(name, curves)

    def _challenge(self, curves: dict[str, list[Trial]]) -> TrialPlan | None:
        leader = self._leading_trial(curves)
        knee = leader.workers if leader is not None else self.first_size(_flat(curves))
        leader_curve = _ok(curves[self.leader]) if self.leader is not None else []
        waiting = [
            name
            for name, contender in self.contenders.items()
            if contender.scales and name != self.leader and self._active(name)
        ]
        # Fewest workers first, so the challengers advance in rounds and interleave in time.
        waiting.sort(key=lambda name: max((t.workers for t in curves[name]), default=0))
        for name in waiting:
            ok = _ok(curves[name])
            at_knee = next((t for t in ok if t.workers == knee), None)
            largest = max((t.workers for t in ok), default=0)
            if at_knee is None and largest < knee:
                return TrialPlan(name, knee)
            if at_knee is not None and leader is not None and largest == knee:
                verdict = judge_challenger(
                    self.contenders, name, self.leader, at_knee, leader, leader_curve
                )
                if verdict is not None:
                    self.stops[name] = verdict
                    continue
            plan = self._grow(name, curves)
            if plan is not None:
                return plan
        return None

    # --- the decisions -------------------------------------------------------------------------

    def _screened(self) -> list[str]:
        """Scaling backends measured at the screen: all but those that follow another's pool."""
        return [
            name
            for name, c in self.contenders.items()
            if c.scales and (c.via is None or c.via not in self.contenders)
        ]

    def _choose_leader(self, curves: dict[str, list[Trial]]) -> str | None:
        """The cheapest of the screened backends tied with the best one; None if none scaled."""
        screened = [
            (name, max(ok, key=_throughput))
            for name in self._screened()
            if self._active(name) and (ok := _ok(curves[name]))
        ]
        if not screened:
            return None
        best = max((t for _, t in screened), key=_throughput)
        tied = [
            (name, t)
            for name, t in screened
            if _throughput(t) >= _throughput(best) * (1 - noise_of(t, best))
        ]
        cheapest = min(
            tied, key=lambda pair: (model_cost(pair[0], self.is_coroutine), -_throughput(pair[1]))
        )
        return cheapest[0]

    def _leading_trial(self, curves: dict[str, list[Trial]]) -> Trial | None:
        """The leader's knee (``recommend.knee_of``): the pool it would be recommended at."""
        if self.leader is None:
            return None
        return knee_of(_ok(curves[self.leader]))

    def _grow(self, name: str, curves: dict[str, list[Trial]]) -> TrialPlan | None:
        """Double ``name``'s pool while it pays; None (and the reason in ``stops``) when not."""
        ok = _ok(curves[name])
        if not ok:
            return None
        last = max(ok, key=lambda t: t.workers)
        below = [t for t in ok if t.workers < last.workers]
        previous: Trial | None = max(below, key=lambda t: t.workers, default=None)
        if previous is None:  # the screen: compared with the baseline
            previous = self._baseline_trial(_flat(curves))
        if previous is not None and not _gains(previous, last):
            self.stops[name] = _stopped_growing(previous, last)
            return None
        if last.workers >= self.max_workers:
            self.stops[name] = f"reached --max-workers {self.max_workers}"
            return None
        if last.workers >= self.scaling_limit:
            self.stops[name] = (
                f"reached the {_count(self.scaling_limit)} the free cores allow for work that "
                "needs a core each: larger pools would only oversubscribe them"
            )
            return None
        best = max(ok, key=_throughput)
        leader = max((_throughput(t) for t in _flat(curves)), default=0.0)
        reach = max(self.scaling_limit, best.workers)
        potential = _throughput(best) * reach / best.workers
        if potential < leader * (1 - MIN_GAIN):
            self.stops[name] = (
                f"cannot win: even perfect scaling to {_count(reach)} would give "
                f"{potential:,.0f} tasks/s, below the best so far ({leader:,.0f} tasks/s)"
            )
            return None
        return TrialPlan(name, min(2 * last.workers, self.max_workers))

    def _baseline_trial(self, trials: Sequence[Trial]) -> Trial | None:
        """The baseline to screen against: the best trial of a backend that does not scale."""
        fixed = [
            t
            for t in _ok(trials)
            if t.backend in self.contenders and not self.contenders[t.backend].scales
        ]
        return max(fixed, key=_throughput, default=None)


def judge_challenger(
    contenders: dict[str, Contender],
    name: str,
    leader_name: str | None,
    trial: Trial,
    leader: Trial,
    leader_curve: Sequence[Trial],
) -> str | None:
    """Why challenger ``name`` stops at the leader's knee, or None when it should keep growing."""
    noise = noise_of(trial, leader)
    ratio = _throughput(trial) / _throughput(leader) if _throughput(leader) else 0.0
    versus = f"{ratio:.2f}x {leader.key} ({_throughput(leader):,.0f} tasks/s)"
    via = contenders[name].via
    if ratio < 1 - noise and not _may_cross(
        contenders, name, leader_name, ratio, leader, leader_curve
    ):
        return (
            f"measured less: {trial.key} reached {_throughput(trial):,.0f} tasks/s, "
            f"{versus}, beyond the {noise:.0%} noise"
        )
    if via is not None and via in contenders and ratio <= 1 + noise:
        return (
            f"measured less: it runs plain functions on a {via} pool, so it can only tie "
            f"with {via} or trail it; {trial.key} reached {versus}"
        )
    stopped = max(leader_curve, key=lambda t: t.workers)
    cores = _cores_busy(stopped)
    family = model_family(name)
    if (
        ratio <= 1 + noise
        and cores is not None
        and cores < SPARE_CORES
        and leader_name is not None
        and model_family(leader_name) == family
    ):
        return (
            f"measured less: {trial.key} ties with {versus}, and {leader_name}'s pool "
            f"stopped gaining at {stopped.key} while its processes kept only {cores:.2f} "
            f"cores busy: the limit is outside them (a service, a lock, the network), so a "
            f"larger pool would not help another {family} either"
        )
    return None


def _may_cross(
    contenders: dict[str, Contender],
    name: str,
    leader_name: str | None,
    ratio: float,
    leader: Trial,
    leader_curve: Sequence[Trial],
) -> bool:
    """A backend behind the leader at its knee may still pass it further up: when the
    leader stalled there (it measured a larger pool and gained nothing), the backend is
    within ``CROSSING_BAND`` and of another family, and does not run plain functions on
    the leader's pool. Threads calling a service that serves 8 at once stalled at x8,
    where a process pool was 6% behind; at x16 and x32 it was 8% ahead."""
    stalled = max(t.workers for t in leader_curve) > leader.workers
    via = contenders[name].via
    return (
        stalled
        and ratio >= 1 - CROSSING_BAND
        and leader_name is not None
        and model_family(name) != model_family(leader_name)
        and (via is None or via not in contenders)
    )


def knee_gap(curve: Sequence[Trial]) -> int | None:
    """A pool size between the knee and the largest smaller pool measured, worth measuring:
    a whole worker count lies between them, and perfect scaling from the smaller pool could
    bring it to ``KNEE_THRESHOLD`` of the best (so it could be the knee; on a straight line
    it cannot)."""
    knee = knee_of(curve)
    if knee is None:
        return None
    below = [t for t in _ok(curve) if t.workers < knee.workers]
    if not below:
        return None
    lower = max(below, key=lambda t: t.workers)
    middle = (lower.workers + knee.workers) // 2
    if not lower.workers < middle < knee.workers or middle in {t.workers for t in curve}:
        return None
    best = max(_throughput(t) for t in _ok(curve))
    reach = _throughput(lower) * middle / lower.workers
    return middle if reach >= KNEE_THRESHOLD * best else None


def _cores_busy(trial: Trial) -> float | None:
    """Cores' worth of CPU the trial's processes used while measuring (None if unknown)."""
    if trial.cpu_s is None or not trial.wall_s:
        return None
    return trial.cpu_s / trial.wall_s


def _gains(before: Trial, after: Trial) -> bool:
    return _gain(before, after) > noise_of(before, after)


def _no_scaling(baseline: Trial, trial: Trial) -> str:
    speedup = _throughput(trial) / _throughput(baseline) if _throughput(baseline) else 0.0
    return (
        f"does not scale: {trial.key} reached {speedup:.2f}x {baseline.key} "
        f"(noise {noise_of(baseline, trial):.0%})"
    )


def _stopped_growing(before: Trial, after: Trial) -> str:
    gain = _gain(before, after)
    reason = (
        f"stopped growing: {after.key} gained {gain:+.0%} over {before.key} "
        f"(noise {noise_of(before, after):.0%})"
    )
    if before.latency_s is None or after.latency_s is None or before.latency_s.p50 <= 0:
        return reason
    growth = after.latency_s.p50 / before.latency_s.p50
    if growth < QUEUE_LATENCY_GROWTH:
        return reason
    in_flight = _throughput(after) * before.latency_s.p50
    return (
        f"{reason}, while each task took {growth:.1f}x longer (median "
        f"{_ms(after.latency_s.p50)} vs {_ms(before.latency_s.p50)}): a queue is forming. By "
        f"Little's law, {_throughput(after):,.0f} tasks/s at {before.key}'s task time is "
        f"{in_flight:.0f} tasks in flight, not {after.workers}: the other workers wait for "
        "something shared"
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2g} ms"


def _ok(curve: Sequence[Trial]) -> list[Trial]:
    return [t for t in curve if t.status == "ok" and t.throughput]


def _flat(curves: dict[str, list[Trial]]) -> list[Trial]:
    return [t for curve in curves.values() for t in curve]


def _count(workers: int) -> str:
    return "1 worker" if workers == 1 else f"{workers} workers"


def _gain(before: Trial, after: Trial) -> float:
    return (after.throughput or 0.0) / (before.throughput or 1.0) - 1


def _throughput(trial: Trial) -> float:
    return trial.throughput or 0.0
