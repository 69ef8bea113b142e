"""The adaptive sweep's decisions over known curves (no timing): what it measures, and why each
backend stopped, in words rendered from the final trials."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from tunekit.models import Latency, Trial
from tunekit.plan.limits import Limit
from tunekit.plan.sizing import TrialPlan
from tunekit.plan.stops import describe, what_next
from tunekit.plan.sweep import AdaptiveSweep, Contender, knee_gap

BUILT_INS = [
    Contender("sequential", scales=False),
    Contender("thread", cheap=True),
    Contender("process"),
    Contender("asyncio", via="thread", cheap=True),
    Contender("tornado", via="thread", cheap=True),
]
#: For a coroutine function the event loops run it themselves: no backend follows another.
FOR_COROUTINES = [
    Contender("sequential", scales=False),
    Contender("thread", cheap=True),
    Contender("process"),
    Contender("asyncio", cheap=True),
    Contender("tornado", cheap=True),
]


def t(
    workers: int,
    goodput: float,
    spread: float = 0.01,
    backend: str = "thread",
    latency: float | None = None,
    error_rate: float = 0.0,
    first_error: str | None = None,
) -> Trial:
    """A trial measured at ``goodput`` calls that succeeded per second."""
    return Trial(
        backend=backend,
        workers=workers,
        status="ok",
        tasks=100,
        repeats=3,
        throughput=goodput / (1 - error_rate) if error_rate < 1 else 1000.0,
        throughput_spread=spread,
        goodput=goodput,
        goodput_spread=spread,
        error_rate=error_rate,
        errors=round(error_rate * 300),
        first_error=first_error,
        latency_s=Latency(latency, latency, latency) if latency is not None else None,
    )


Curve = Callable[[str, int], float]
ErrorCurve = Callable[[str, int], float]


def capped(max_workers: int | None) -> Callable[[str, Sequence[Trial]], Limit | None]:
    """The limit the engine would give with ``--max-workers`` (or none)."""
    if max_workers is None:
        return lambda name, curve: None
    return lambda name, curve: Limit(max_workers, f"--max-workers {max_workers}", explicit=True)


def simulate(
    curve: Curve,
    contenders: Sequence[Contender] = BUILT_INS,
    *,
    max_workers: int | None = 32,
    core_limit: int | None = None,
    is_coroutine: bool = False,
    errors: ErrorCurve | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Run the planner against a known goodput curve: the trials it asks for, and why each
    backend stopped (in words, from the final trials)."""
    planner = AdaptiveSweep(
        contenders, limit_of=capped(max_workers), core_limit=core_limit, is_coroutine=is_coroutine
    )
    trials: list[Trial] = []
    while (plan := planner.next_plan(trials)) is not None:
        assert len(trials) < 60, "the sweep does not end"
        rate = errors(plan.backend, plan.workers) if errors is not None else 0.0
        failing = "ConnectionRefusedError: busy" if rate else None
        value = curve(plan.backend, plan.workers)
        trials.append(
            t(plan.workers, value, backend=plan.backend, error_rate=rate, first_error=failing)
        )
    final = {trial.key: trial for trial in trials}
    return [trial.key for trial in trials], {
        n: describe(s, final) for n, s in planner.stops.items()
    }


def gil_bound(backend: str, n: int) -> float:
    """Pure Python on 2 free cores: only processes scale, and only to 2."""
    return 100.0 * min(n, 2) if backend == "process" else 100.0


def service_limited(backend: str, n: int) -> float:
    """Every backend waits on a service that serves 8 requests at once."""
    return 100.0 * min(n, 8)


def mixed(backend: str, n: int) -> float:
    """CPU and waiting: threads stop at 8 (the GIL), processes go on to 24 (the cores)."""
    return 100.0 * min(n, 8 if backend != "process" else 24)


def overhead_bound(backend: str, n: int) -> float:
    """A sub-microsecond call: every pool costs more than the call."""
    return 1e6 if backend == "sequential" else 3e4 * min(n, 2)


def wide_service(backend: str, n: int) -> float:
    """A service that serves 64 at once, 20 ms each."""
    return 50.0 * min(n, 64)


@pytest.mark.parametrize(
    ("curve", "core_limit", "expected"),
    [
        # GIL-bound: threads do not scale; processes gain to the free cores, then one doubling
        # past them shows the curve is flat; the event loops (threads underneath) come last,
        # once, at the leader's knee
        (
            gil_bound,
            2,
            "sequential x1, thread x2, process x2, process x4, asyncio x2, tornado x2",
        ),
        # a service of 8: threads, the cheapest, double near-perfectly at the screen, so no
        # other model is screened at x2 (none could beat them there); they lead in steps of 4
        # to x32; the knee x8 is refined by the engine, not here; process, measured first at
        # the knee, ties there, grows once, gains nothing, and stops
        (
            service_limited,
            None,
            "sequential x1, thread x2, thread x8, thread x32, process x8, "
            "process x16, asyncio x8, tornado x8",
        ),
        # threads stop at 8; process ties there and keeps growing while it pays
        (
            mixed,
            None,
            "sequential x1, thread x2, thread x8, thread x32, process x8, "
            "process x16, process x32, asyncio x8, tornado x8",
        ),
        # overhead-bound: nothing scales, and every backend is measured once
        (overhead_bound, 2, "sequential x1, thread x2, process x2, asyncio x2, tornado x2"),
    ],
)
def test_the_sweep_measures_what_it_needs(
    curve: Curve, core_limit: int | None, expected: str
) -> None:
    measured, _ = simulate(curve, core_limit=core_limit)
    assert ", ".join(measured) == expected


def test_a_wide_service_is_followed_past_16_without_max_workers() -> None:
    # GIVEN a service that serves 64 at once AND no --max-workers
    measured, stops = simulate(wide_service, BUILT_INS[:2], max_workers=None)
    # THEN threads grow past 16 in steps of 4 while near-perfect, until the scaling law fitted
    # to the four sizes measured says the next doubling would not pay
    assert measured == ["sequential x1", "thread x2", "thread x8", "thread x32", "thread x128"]
    assert stops["thread"].startswith("the scaling law fitted to its curve predicts ")
    assert stops["thread"].endswith(
        "at 256 workers, less than the 5% noise: thread x128 (3,200 calls/s) is as far as it pays"
    )


def test_an_explicit_max_workers_is_a_hard_cap_and_says_it_was_still_gaining() -> None:
    measured, stops = simulate(wide_service, BUILT_INS[:2], max_workers=16)
    assert measured == ["sequential x1", "thread x2", "thread x8", "thread x16"]
    assert stops["thread"] == (
        "thread x16 reached --max-workers 16, while still gaining (+100% over thread x8)"
    )


def test_the_pool_stops_where_errors_begin() -> None:
    # GIVEN a service that refuses calls beyond 8 at once: refusals are quick, so the calls
    # per second keep growing, but the goodput does not
    def refusing(backend: str, n: int) -> float:
        return 100.0 * min(n, 8)

    def refused(backend: str, n: int) -> float:
        return 0.0 if n <= 8 else 1 - 8 / n

    measured, stops = simulate(refusing, BUILT_INS[:2], max_workers=None, errors=refused)
    # THEN the step of 4 that jumped over where the errors began is split: 16 is measured
    assert measured == ["sequential x1", "thread x2", "thread x8", "thread x32", "thread x16"]
    assert stops["thread"] == (
        "errors began: at 16 workers 50% of calls raised (ConnectionRefusedError: busy); at 8, "
        "none: a larger pool only adds failed calls"
    )


def test_a_pool_whose_every_call_raised_bounds_the_growth_where_the_errors_began() -> None:
    # GIVEN a service that refuses every call when more than 12 come at once: at 32 workers no
    # call succeeds (a trial with no goodput to rank), at 16 half do
    def refusing(backend: str, n: int) -> float:
        return 0.0 if n > 16 else 100.0 * min(n, 8)

    def refused(backend: str, n: int) -> float:
        return 1.0 if n > 16 else (0.0 if n <= 8 else 0.5)

    measured, stops = simulate(refusing, BUILT_INS[:2], max_workers=None, errors=refused)
    # THEN 32 is measured once, the pool between 8 and 32 next, and growth stops at 16
    assert measured == ["sequential x1", "thread x2", "thread x8", "thread x32", "thread x16"]
    assert stops["thread"].startswith("errors began: at 16 workers 50% of calls raised")


def test_a_tied_challenger_of_the_leaders_family_stops_where_the_leader_stalled() -> None:
    # asyncio leads coroutines and stalls at the service's limit: tornado, another event
    # loop, ties at the knee and would meet the same limit
    measured, stops = simulate(service_limited, FOR_COROUTINES, is_coroutine=True)
    assert "tornado x16" not in measured
    assert stops["tornado"] == (
        "measured less: tornado x8 ties with 1.00x asyncio x8 (800 calls/s), and it runs tasks "
        "the way asyncio does, whose pool stopped gaining at asyncio x32: a larger pool would "
        "not help it either"
    )
    # threads and processes reach the service another way: they are not spared the growth
    assert {"thread x32", "process x16"} <= set(measured)


def crossing(backend: str, n: int) -> float:
    """Threads stall at 8 (670/s); a process pool ties at the screen, trails them at 8 but
    goes on."""
    if backend == "process":
        return {2: 170.0, 8: 630.0, 16: 730.0, 32: 740.0}.get(n, 90.0 * n)
    return 84.0 * min(n, 8)


def test_a_backend_behind_a_stalled_leader_may_still_cross_it() -> None:
    # process trails threads at their knee (x8) by 6%, but grew 1.9x per doubling from x2:
    # one more step at that rate passes the stalled leader
    measured, stops = simulate(crossing, BUILT_INS[:3])
    assert {"process x16", "process x32"} <= set(measured)
    assert stops["process"].startswith("stopped growing: process x32 gained +1%")
    # ... but not when it is so far behind that even a perfect doubling cannot reach the leader
    measured, _ = simulate(lambda b, n: 0.3 * crossing(b, n) if b == "process" else crossing(b, n))
    assert "process x16" not in measured


def test_every_backend_says_why_it_stopped() -> None:
    _, stops = simulate(mixed)
    follows = (
        "measured less: it runs plain functions on a thread pool, so it can only tie with "
        "thread or trail it; {} x8 reached 1.00x thread x8 (800 calls/s)"
    )
    assert stops == {
        "sequential": "runs one task at a time",
        "thread": "stopped growing: thread x32 gained +0% over thread x8 (noise 5%)",
        "asyncio": follows.format("asyncio"),
        "tornado": follows.format("tornado"),
        "process": "process x32 reached --max-workers 32, while still gaining (+50% over "
        "process x16)",
    }
    _, stops = simulate(gil_bound, core_limit=2)
    assert stops["thread"] == "does not scale: thread x2 reached 1.00x sequential x1 (noise 5%)"
    assert stops["process"] == "stopped growing: process x4 gained +0% over process x2 (noise 5%)"
    assert stops["asyncio"] == (
        "measured less: asyncio x2 reached 100 calls/s, 0.50x process x2 (200 calls/s) (noise 5%)"
    )


def test_notes_quote_the_final_numbers() -> None:
    # GIVEN a stop decided on a trial that the duel measured again later
    planner = AdaptiveSweep(BUILT_INS[:2], limit_of=capped(32))
    trials = [t(1, 100, backend="sequential"), t(2, 101)]
    assert planner.next_plan(trials) is None
    remeasured = t(2, 97)
    # WHEN the stop is put in words from the final trials THEN it quotes the new value
    text = describe(planner.stops["thread"], {"sequential x1": trials[0], "thread x2": remeasured})
    assert text == "does not scale: thread x2 reached 0.97x sequential x1 (noise 5%)"


def test_what_to_try_next_names_the_size_and_the_option() -> None:
    planner = AdaptiveSweep(BUILT_INS[:2], limit_of=capped(16))
    trials = [t(1, 50, backend="sequential"), t(2, 100), t(8, 400), t(16, 800)]
    while planner.next_plan(trials) is not None:
        pass
    text = what_next(planner.stops["thread"], {x.key: x for x in trials}, budget_s=30)
    assert text == (
        "growth stopped at thread x16 reached --max-workers 16, while still gaining (+100% over "
        "thread x8); try 32 workers with --max-workers 32"
    )


def test_a_challenger_that_pulls_ahead_keeps_growing() -> None:
    def twisted_wins(backend: str, n: int) -> float:
        return 100.0 * min(n, 4 if backend == "thread" else 16)

    contenders = [Contender("sequential", False), Contender("thread"), Contender("twisted")]
    measured, stops = simulate(twisted_wins, contenders)
    assert measured[-3:] == ["twisted x8", "twisted x16", "twisted x32"]
    assert stops["twisted"] == "stopped growing: twisted x32 gained +0% over twisted x16 (noise 5%)"


def test_a_follower_that_beats_its_pool_grows() -> None:
    def loop_wins(backend: str, n: int) -> float:
        return 100.0 * min(n, 4) * (1.2 if backend == "asyncio" else 1.0)

    measured, _ = simulate(
        loop_wins, [Contender("sequential", False), *BUILT_INS[1:2], BUILT_INS[3]]
    )
    assert "asyncio x8" in measured


def test_coroutines_lead_with_the_event_loop() -> None:
    contenders = [Contender("sequential", False), Contender("thread"), Contender("asyncio")]
    measured, _ = simulate(service_limited, contenders, is_coroutine=True)
    assert measured[:5] == [
        "sequential x1",
        "asyncio x2",
        "asyncio x4",
        "asyncio x8",
        "asyncio x16",
    ]


def test_calls_of_seconds_grow_the_cheapest_model_before_screening_the_rest() -> None:
    # GIVEN a coroutine of 2 s against a service of 4 (a budget of 30 s holds about a dozen
    # calls): asyncio doubles near-perfectly at the screen, so thread and process are measured
    # only at its knee, after its growth, instead of spending the budget at x2
    contenders = [Contender("sequential", False), Contender("thread"), Contender("process")]
    contenders.append(Contender("asyncio", cheap=True))
    measured, _ = simulate(lambda b, n: 0.5 * min(n, 4), contenders, is_coroutine=True)
    assert measured[:4] == ["sequential x1", "asyncio x2", "asyncio x8", "asyncio x16"]
    # ... but a doubling that is not near-perfect leaves the screen as it was
    measured, _ = simulate(lambda b, n: 0.5 * min(n, 1.5), contenders, is_coroutine=True)
    assert measured[:4] == ["sequential x1", "asyncio x2", "thread x2", "process x2"]


def test_without_a_baseline_pools_start_at_one_worker() -> None:
    measured, stops = simulate(service_limited, [Contender("thread")], max_workers=16)
    assert measured == ["thread x1", "thread x2", "thread x4", "thread x8", "thread x16"]
    assert stops["thread"] == "stopped growing: thread x16 gained +0% over thread x8 (noise 5%)"


def test_max_workers_one_measures_one_worker_each() -> None:
    measured, _ = simulate(service_limited, BUILT_INS[:3], max_workers=1)
    assert measured == ["sequential x1", "thread x1", "process x1"]


def test_a_failed_trial_stops_its_backend() -> None:
    planner = AdaptiveSweep(BUILT_INS[:3], limit_of=capped(32))
    failed = Trial(backend="thread", workers=2, status="timeout", reason="no result in 3 s")
    trials = [t(1, 100, backend="sequential"), failed]
    assert planner.next_plan(trials) == TrialPlan("process", 2)
    assert describe(planner.stops["thread"], {x.key: x for x in trials}) == (
        "thread x2 timeout: no result in 3 s"
    )


def test_a_suspect_trial_stops_its_backend_and_is_named() -> None:
    planner = AdaptiveSweep(BUILT_INS[:3], limit_of=capped(32))
    odd = t(2, 300, backend="process")
    odd.suspect = "2.90x sequential with 2 workers on 2.0 free cores"
    trials = [t(1, 100, backend="sequential"), t(2, 102), odd]
    planner.next_plan(trials)
    assert describe(planner.stops["process"], {x.key: x for x in trials}) == (
        "not ranked: process x2 2.90x sequential with 2 workers on 2.0 free cores"
    )


def test_out_of_budget_while_gaining_is_told_apart() -> None:
    planner = AdaptiveSweep(BUILT_INS[:2], limit_of=capped(None))
    skipped = Trial("thread", 32, "skipped", "out of budget: needs about 9.0 s, 2.0 s left")
    trials = [t(1, 100, backend="sequential"), t(2, 200), t(8, 800), skipped]
    assert planner.next_plan(trials) is None
    stop = planner.stops["thread"]
    assert stop.gaining
    assert what_next(stop, {x.key: x for x in trials}, budget_s=30) == (
        "growth stopped: thread x32 did not fit: out of budget: needs about 9.0 s, 2.0 s left; "
        "to try 32 workers, run again with a larger --budget (e.g. 60)"
    )


def test_a_queue_forming_is_named_with_littles_law() -> None:
    planner = AdaptiveSweep([Contender("thread")], limit_of=capped(32))
    trials = [t(1, 100, latency=0.01), t(2, 200, latency=0.01), t(4, 205, latency=0.02)]
    assert planner.next_plan(trials) is None
    assert describe(planner.stops["thread"], {x.key: x for x in trials}) == (
        "stopped growing: thread x4 gained +2% over thread x2 (noise 5%), while each call took "
        "2.0x longer (median 20 ms vs 10 ms): a queue is forming. By Little's law, 205 calls/s "
        "at thread x2's call time is 2 calls in flight, not 4: the other workers wait for "
        "something shared"
    )


@pytest.mark.parametrize(
    ("curve", "expected"),
    [
        # the knee (x16, within 5% of the best) is 8 workers from the pool before it
        ([t(2, 200), t(4, 390), t(8, 700), t(16, 800), t(32, 810)], 12),
        # the knee is x8: between 4 and 8, 6 places it more precisely
        ([t(2, 200), t(4, 500), t(8, 700), t(16, 720)], 6),
        ([t(2, 200), t(4, 300)], 3),
        # on a straight line, no pool between 2 and 4 can come within 5% of x4
        ([t(2, 200), t(4, 390)], None),
        # nothing lies between 2 and 3, or below the first pool
        ([t(2, 200), t(3, 400), t(4, 410)], None),
        ([t(1, 100)], None),
        # calls of 2 s took 4 s at x8 (a service of 4): Little's law puts the knee at 4
        ([t(2, 1.0, latency=2.0), t(8, 2.0, latency=4.0)], 4),
    ],
)
def test_knee_gap(curve: list[Trial], expected: int | None) -> None:
    assert knee_gap(curve) == expected


def test_a_call_that_computes_screens_processes_first() -> None:
    # GIVEN a call that computes (CPU/wall >= 0.8 in the calibration): a budget too short for
    # both screens should have measured the model likelier to scale
    planner = AdaptiveSweep(BUILT_INS[:3], limit_of=capped(32), computes=True)
    assert planner.next_plan([t(1, 100, backend="sequential")]) == TrialPlan("process", 2)
    waiting = AdaptiveSweep(BUILT_INS[:3], limit_of=capped(32))
    assert waiting.next_plan([t(1, 100, backend="sequential")]) == TrialPlan("thread", 2)


def test_a_pool_that_gained_but_whose_calls_queue_stops_growing() -> None:
    # GIVEN a service of 4 and calls of 2 s: x8 doubled the goodput of x2, but each call took
    # twice as long (4 s), so only 4 were in progress
    from tunekit.plan.steps import grow

    x2 = t(2, 1.0, backend="asyncio", latency=2.0)
    x8 = t(8, 2.0, backend="asyncio", latency=4.0)
    stop = grow("asyncio", [x2, x8], x2, limit=None, step=2, best=x8)
    # THEN it stops there, and says why in Little's terms
    assert not isinstance(stop, TrialPlan)
    assert describe(stop, {x.key: x for x in (x2, x8)}) == (
        "a queue formed: asyncio x8 reached 2 calls/s, but each call took 2.0x longer than in "
        "asyncio x2 (median 4 s vs 2 s). By Little's law that is 4 calls in "
        "progress, not 8: a larger pool would only wait longer"
    )
    # ... while calls that take no longer let it grow
    steady = t(8, 2.0, backend="asyncio", latency=2.1)
    assert grow("asyncio", [x2, steady], x2, limit=None, step=2, best=steady) == TrialPlan(
        "asyncio", 16
    )
