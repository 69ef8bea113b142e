"""The duel: close contenders measured again side by side, so a close call rests on values
taken in the same moments of a shared machine."""

from __future__ import annotations

from tunekit.advice.rules import MIN_NOISE
from tunekit.engine.strategies import Bench
from tunekit.engine.strategies.reruns import merge_repeats
from tunekit.models import Trial
from tunekit.plan import TrialPlan

#: The best configuration of each backend within this share of the best overall is measured
#: again, alternating with the others (at most DUEL_SIZE backends): twice the tie band between
#: models (``advice.rules.MIN_NOISE``), so a contender is re-measured while a slow spell of the
#: machine could have hidden a tie. 10% re-measured backends 9% behind that could not win.
DUEL_BAND = 2 * MIN_NOISE
DUEL_SIZE = 3
#: ... in up to this many rounds (A B C A B C): a slow spell of the machine during one trial
#: then costs that contender one value of nine, not its median (one round once let a 10% dip
#: in a single re-measure move the knee). A round that leaves the choice as it was is the
#: last: the re-measure confirmed it. One that changes it brings the new choice in.
DUEL_ROUNDS = 2


def contenders(trials: list[Trial], chosen: Trial | None) -> list[Trial]:
    """Each backend's best configuration within the duel's band of the best, fastest first (at
    most ``DUEL_SIZE``), and the pool the recommendation would choose: whether it is within
    5% of its backend's best is the closest call the recommendation makes."""
    ok = [t for t in trials if t.status == "ok" and t.throughput]
    if len(ok) < 2:
        return []
    best = max(ok, key=lambda t: t.throughput or 0.0)
    band = max(DUEL_BAND, 2 * (best.throughput_spread or 0.0))
    peaks: dict[str, Trial] = {}
    for trial in sorted(ok, key=lambda t: t.throughput or 0.0, reverse=True):
        peaks.setdefault(trial.backend, trial)
    close = [
        t for t in peaks.values() if (t.throughput or 0.0) >= (best.throughput or 0.0) * (1 - band)
    ][:DUEL_SIZE]
    if chosen is not None and chosen not in close:
        close.append(chosen)
    return close if len(close) >= 2 else []


def duel(bench: Bench, expected: int) -> None:
    """Measure the contenders again, alternating: their values are then the duel's, measured
    side by side, so drift on a shared machine hits all of them alike (the sweep measured them
    seconds apart: a process pool measured 2.5% ahead of threads there was 7% ahead side by
    side). Rounds go on (up to ``DUEL_ROUNDS``, their values merged) only while they change
    the choice."""
    chosen = bench.recommended()
    dueling = contenders(bench.trials, chosen)
    if not dueling:
        return
    dueled: list[Trial] = []  # contenders whose values are the duel's own
    for _ in range(DUEL_ROUNDS):
        for index, trial in enumerate(dueling):
            plan = TrialPlan(trial.backend, trial.workers)
            again = bench.measure(plan, bench.adaptive_batch(expected), trial.throughput)
            if again.status == "skipped":
                return
            if again.status != "ok":
                continue
            if any(trial is d for d in dueled):
                merge_repeats(trial, again)
                continue
            again.reruns = trial.reruns + 1
            trials = bench.trials
            trials[next(i for i, t in enumerate(trials) if t is trial)] = again
            dueling[index] = again
            dueled.append(again)
        after = bench.recommended()
        if after is None or chosen is None or after.key == chosen.key:
            return  # the round confirmed the choice: no slow spell moved it
        chosen = after
        if all(after.key != t.key for t in dueling):
            dueling.append(after)
