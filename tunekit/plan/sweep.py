"""The adaptive sweep's decisions: which configuration to measure next, from what was measured.

A pure planner (no timing, no I/O); the engine (``tunekit.engine.strategies.adaptive``) measures
what it asks for. The plan is a small tournament around the sequential baseline, judged on
goodput (``advice.rules``), so that an io-bound task does not cost every backend a full curve:

1. **baseline**: the backends that do not scale (sequential), at 1 worker.
2. **screen**: every other backend at 2 workers, the cheapest model first. A pool of 1 runs one
   task at a time, like the baseline plus the cost of handing it over, so it cannot win; it is
   measured only when there is no baseline. A screened backend that gains no more than the
   noise does not scale. When the cheapest model's doubling is near-perfect, no other model can
   beat it at 2 workers beyond the noise, so the others are not screened: they are measured at
   the leader's knee (challenge), which for calls of seconds is the budget growth needs.
3. **lead**: of the backends tied best at the screen, the cheapest (``model_cost``) grows its
   pool while each step gains more than the noise and its errors do not rise, up to a limit
   (``plan.limits``): the user's ``--max-workers``, or what the machine allows. Cheap workers
   (threads, event-loop tasks) grow four times at a step while a doubling is near-perfect.
4. **challenge**: every other backend that scaled is measured at the leader's knee. One
   clearly below the leader there stops, unless its own curve is still rising where the
   leader's is flat and one more step at its rate would pass it; one tied or ahead grows
   from there while that pays.

A backend that runs plain functions on another backend's pool (the event loops hand them to a
thread pool) is not screened: for a plain function it is that pool plus a loop, so it is
measured once, at the leader's knee, and grows only if it beats the leader there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tunekit.advice.rules import (
    KNEE_THRESHOLD,
    goodput,
    knee_of,
    model_cost,
    model_family,
    queue_of,
)
from tunekit.models import Trial
from tunekit.plan.limits import Limit
from tunekit.plan.sizing import TrialPlan, noise_of
from tunekit.plan.steps import (
    NEAR_PERFECT,
    cheapest_tied,
    failure_stop,
    gains,
    grow,
    judge,
    step_factor,
    usable,
)
from tunekit.plan.stops import Stop


@dataclass(frozen=True)
class Contender:
    """A backend the sweep may measure."""

    name: str
    #: False: the backend runs one task at a time (measured at 1 worker only).
    scales: bool = True
    #: For a plain function, the backend whose pool runs it when that one is measured too.
    via: str | None = None
    #: Its workers cost little (a thread, a task on a loop): it may take large steps.
    cheap: bool = False
    #: Seconds of one-off start-up the backend declares (a cluster, ``ray.init``): its first
    #: trial is planned, and so timed out, with it until a trial has measured the real one.
    startup_s: float = 0.0


#: The largest pool ``name`` may have given its curve so far (``plan.limits.pool_limit``).
LimitOf = Callable[[str, Sequence[Trial]], Limit | None]


class AdaptiveSweep:
    """Decides the next trial of an adaptive sweep; ``stops`` says why each backend stopped."""

    def __init__(
        self,
        contenders: Sequence[Contender],
        *,
        limit_of: LimitOf,
        core_limit: int | None = None,
        is_coroutine: bool = False,
        computes: bool = False,
    ) -> None:
        if computes:
            # A call that computes scales on threads only if it releases the GIL, on processes
            # with the cores either way: screen processes first, so that a budget too short
            # for both (calls of seconds) still measures the model likelier to scale.
            contenders = sorted(contenders, key=lambda c: model_family(c.name) != "process")
        else:
            contenders = sorted(contenders, key=lambda c: model_cost(c.name, is_coroutine))
        self.contenders = {c.name: c for c in contenders}
        self.limit_of = limit_of
        #: For work that needs a core per worker: the free cores. Pools may pass it only while
        #: each step still gains, one doubling at a time.
        self.core_limit = core_limit
        self.is_coroutine = is_coroutine
        self.stops: dict[str, Stop] = {}
        self.leader: str | None = None

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
        """The screening pool size: 2 when a baseline was measured (and 2 are allowed)."""
        if self._baseline_trial(trials) is None:
            return 1
        limits = [self.limit_of(name, []) for name in self.contenders]
        return 1 if any(lim is not None and lim.workers < 2 for lim in limits) else 2

    def _stop_failed(self, curves: dict[str, list[Trial]]) -> None:
        for name, curve in curves.items():
            if name not in self.stops and curve and (stop := failure_stop(curve)) is not None:
                self.stops[name] = stop

    def _active(self, name: str) -> bool:
        return name not in self.stops

    def _baseline(self, curves: dict[str, list[Trial]]) -> TrialPlan | None:
        for name, contender in self.contenders.items():
            if not contender.scales and self._active(name):
                if not curves[name]:
                    return TrialPlan(name, 1)
                self.stops[name] = Stop("one at a time")
        return None

    def _screen(self, curves: dict[str, list[Trial]]) -> TrialPlan | None:
        trials = _flat(curves)
        size = self.first_size(trials)
        baseline = self._baseline_trial(trials)
        settled = self._screen_settled(curves, baseline, size)
        for name in self._screened():
            if self._active(name) and not curves[name] and not settled:
                return TrialPlan(name, size)
        for name in self._screened():
            if not self._active(name) or len(curves[name]) != 1 or baseline is None:
                continue
            first = usable(curves[name])
            if first and size > 1 and not gains(baseline, first[0]):
                noise = noise_of(baseline, first[0])
                self.stops[name] = Stop("no scaling", first[0].key, baseline.key, noise=noise)
        return None

    def _lead(self, curves: dict[str, list[Trial]]) -> TrialPlan | None:
        if self.leader is None:
            self.leader = self._choose_leader(curves)
            if self.leader is None:
                return None
        if not self._active(self.leader):
            return None
        return self._grow(self.leader, curves)

    def _challenge(self, curves: dict[str, list[Trial]]) -> TrialPlan | None:
        leader = self._leading_trial(curves)
        knee = leader.workers if leader is not None else self.first_size(_flat(curves))
        leader_curve = usable(curves[self.leader]) if self.leader is not None else []
        waiting = [
            name
            for name, contender in self.contenders.items()
            if contender.scales and name != self.leader and self._active(name)
        ]
        # Fewest workers first, so the challengers advance in rounds and interleave in time;
        # those that run plain functions on another's pool last: they can only tie with it.
        waiting.sort(
            key=lambda name: (
                self._follows(name),
                max((t.workers for t in curves[name]), default=0),
            )
        )
        for name in waiting:
            ok = usable(curves[name])
            at_knee = next((t for t in ok if t.workers == knee), None)
            largest = max((t.workers for t in ok), default=0)
            if at_knee is None and largest < knee:
                limit = self.limit_of(name, curves[name])
                if limit is None or knee <= limit.workers:
                    return TrialPlan(name, knee)
            if at_knee is not None and leader is not None and largest == knee:
                verdict = judge(
                    name,
                    ok,
                    at_knee,
                    leader,
                    leader_curve,
                    leader_name=self.leader or name,
                    follows=self.contenders[name].via if self._follows(name) else None,
                    baseline=self._baseline_trial(_flat(curves)),
                )
                if verdict is not None:
                    self.stops[name] = verdict
                    continue
            plan = self._grow(name, curves)
            if plan is not None:
                return plan
        return None

    # --- the decisions -------------------------------------------------------------------------

    def _follows(self, name: str) -> bool:
        """``name`` runs plain functions on another measured backend's pool."""
        via = self.contenders[name].via
        return via is not None and via in self.contenders

    def _screened(self) -> list[str]:
        """Scaling backends measured at the screen: all but those that follow another's pool."""
        return [
            name
            for name, c in self.contenders.items()
            if c.scales and (c.via is None or c.via not in self.contenders)
        ]

    def _screen_settled(
        self, curves: dict[str, list[Trial]], baseline: Trial | None, size: int
    ) -> bool:
        """The cheapest screened model doubled near-perfectly over the baseline: the rest of
        the screen could not beat it (at ``size`` workers nothing gains more than ``size``x)."""
        screened = self._screened()
        if baseline is None or size < 2 or not screened or goodput(baseline) <= 0:
            return False
        cheapest = min(screened, key=lambda name: model_cost(name, self.is_coroutine))
        first = usable(curves[cheapest])
        if not first:
            return False
        efficiency = goodput(first[0]) / goodput(baseline) / size
        return efficiency >= NEAR_PERFECT

    def _choose_leader(self, curves: dict[str, list[Trial]]) -> str | None:
        """The cheapest of the screened backends tied with the best one; None if none scaled."""
        screened = [
            (name, max(ok, key=goodput))
            for name in self._screened()
            if self._active(name) and (ok := usable(curves[name]))
        ]
        return cheapest_tied(screened, self.is_coroutine)

    def _leading_trial(self, curves: dict[str, list[Trial]]) -> Trial | None:
        """The leader's knee (``rules.knee_of``): the pool it would be recommended at."""
        return knee_of(usable(curves[self.leader])) if self.leader is not None else None

    def _grow(self, name: str, curves: dict[str, list[Trial]]) -> TrialPlan | None:
        """The next pool of ``name`` while growing pays; None (and why, in ``stops``) if not."""
        ok = usable(curves[name])
        if not ok:
            return None
        last = max(ok, key=lambda t: t.workers)
        below = [t for t in ok if t.workers < last.workers]
        previous: Trial | None = max(below, key=lambda t: t.workers, default=None)
        if previous is None:  # the screen: compared with the baseline
            previous = self._baseline_trial(_flat(curves))
        contender = self.contenders[name]
        step = step_factor(previous, last, cheap=contender.cheap, core_limit=self.core_limit)
        best = max(usable(_flat(curves)), key=goodput)
        limit = self.limit_of(name, curves[name])
        dead = [t for t in curves[name] if t.status == "ok" and t.suspect is None and not t.usable]
        decision = grow(name, ok, previous, limit=limit, step=step, best=best, dead=dead)
        if isinstance(decision, Stop):
            self.stops[name] = decision
            return None
        return decision

    def _baseline_trial(self, trials: Sequence[Trial]) -> Trial | None:
        """The baseline to screen against: the best trial of a backend that does not scale."""
        fixed = [
            t
            for t in usable(trials)
            if t.backend in self.contenders and not self.contenders[t.backend].scales
        ]
        return max(fixed, key=goodput, default=None)


def knee_gap(curve: Sequence[Trial], baseline: Sequence[Trial] = ()) -> int | None:
    """A pool size between the knee and the largest smaller pool measured, worth measuring:
    a whole worker count lies between them, and perfect scaling from the smaller pool could
    bring it to ``KNEE_THRESHOLD`` of the best (so it could be the knee; on a straight line
    it cannot). The middle one, or where the calls of the knee queue (``rules.queue_of``,
    against the smaller pools and ``baseline``), the calls it has in progress."""
    knee = knee_of(curve)
    if knee is None:
        return None
    below = [t for t in usable(curve) if t.workers < knee.workers]
    if not below:
        return None
    lower = max(below, key=lambda t: t.workers)
    middle = (lower.workers + knee.workers) // 2
    queue = queue_of(knee, [*below, *baseline])
    if queue is not None and queue[0].latency_s is not None:
        # calls queue at the knee: by Little's law it has this many in progress, the pool
        # that keeps the shared resource busy without waiting
        middle = round(goodput(knee) * queue[0].latency_s.p50)
    if not lower.workers < middle < knee.workers or middle in {t.workers for t in curve}:
        return None
    best = max(goodput(t) for t in usable(curve))
    reach = goodput(lower) * middle / lower.workers
    return middle if reach >= KNEE_THRESHOLD * best else None


def _flat(curves: dict[str, list[Trial]]) -> list[Trial]:
    return [t for curve in curves.values() for t in curve]
