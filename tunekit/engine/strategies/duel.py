"""The duel: close contenders measured again side by side, in interleaved rounds, so a close
call rests on values taken in the same moments of a shared machine, and the sequential baseline
measured beside them in the last round, so "N x sequential" is a side-by-side ratio too."""

from __future__ import annotations

from tunekit.advice.rules import MIN_NOISE, goodput, model_cost
from tunekit.engine.strategies import Bench
from tunekit.engine.strategies.reruns import merge_repeats
from tunekit.models import Trial
from tunekit.plan import TrialPlan

#: The best configuration of each backend within this share of the best overall is measured
#: again, alternating with the others (at most DUEL_SIZE backends): twice the tie band between
#: models (``advice.rules.MIN_NOISE``), so a contender is re-measured while a slow spell of the
#: machine could have hidden a tie.
DUEL_BAND = 2 * MIN_NOISE
DUEL_SIZE = 3
#: Rounds (A B C, A B C): two at least, so that each contender has values from two moments and
#: the noise between moments can be told from the noise within one stream; a third only when
#: the second changed the choice.
DUEL_ROUNDS = 2
MAX_DUEL_ROUNDS = 3


def contenders(
    trials: list[Trial], chosen: Trial | None, is_coroutine: bool = False
) -> list[Trial]:
    """The best configuration, and the best of each other backend within the duel's band of
    it, the cheapest models first (``rules.model_cost``: a tie goes to the cheapest, so those
    are the calls that matter), at most ``DUEL_SIZE`` in all; and the pool the recommendation
    would choose: whether it is within 5% of its backend's best is the closest call the
    recommendation makes."""
    ok = [t for t in trials if t.usable]
    if len(ok) < 2:
        return []
    best = max(ok, key=goodput)
    band = max(DUEL_BAND, 2 * (best.goodput_spread or 0.0))
    peaks: dict[str, Trial] = {}
    for trial in sorted(ok, key=goodput, reverse=True):
        peaks.setdefault(trial.backend, trial)
    others = [
        t for t in peaks.values() if t is not best and goodput(t) >= goodput(best) * (1 - band)
    ]
    others.sort(key=lambda t: (model_cost(t.backend, is_coroutine), -goodput(t)))
    close = [best, *others][:DUEL_SIZE]
    if chosen is not None and all(chosen is not t for t in close):
        close.append(chosen)
    return close if len(close) >= 2 else []


def duel(
    bench: Bench,
    expected: int,
    baseline: str | None = "sequential",
    *,
    is_coroutine: bool = False,
) -> None:
    """Measure the contenders again, alternating, for ``DUEL_ROUNDS`` rounds (one more while a
    round changes the choice): their values are then the duel's, measured side by side, so drift
    on a shared machine hits all of them alike. The ``baseline`` backend's trial is measured
    again at the end of the last rounds beside them."""
    chosen = bench.recommended()
    dueling = contenders(bench.trials, chosen, is_coroutine)
    if not dueling:
        return
    base = next((t for t in bench.trials if t.backend == baseline and t.usable), None)
    dueled: list[Trial] = []  # trials whose values are the duel's own
    rounds = DUEL_ROUNDS
    done = 0
    while done < rounds:
        done += 1
        last = done == rounds
        lineup = list(dueling)
        if last and base is not None and all(base is not t for t in dueling):
            lineup.append(base)
        for trial in lineup:
            again = bench.measure(
                TrialPlan(trial.backend, trial.workers),
                bench.adaptive_batch(expected),
                trial.throughput,
            )
            if again.status == "skipped":
                return  # out of budget: what was measured stands
            if again.status != "ok":
                continue
            replaced = _take(bench, trial, again, dueled)
            dueling = [replaced if t is trial else t for t in dueling]
            if trial is base:
                base = replaced
        after = bench.recommended()
        if after is not None and chosen is not None and after.key != chosen.key:
            chosen = after
            rounds = min(done + 1, MAX_DUEL_ROUNDS) if last else rounds
            if all(after.key != t.key for t in dueling):
                dueling.append(after)


def _take(bench: Bench, trial: Trial, again: Trial, dueled: list[Trial]) -> Trial:
    """Merge ``again`` into a trial the duel measured already, or make it replace the sweep's
    (measured seconds apart from the others) in ``bench.trials``."""
    if any(trial is d for d in dueled):
        merge_repeats(trial, again)
        return trial
    again.reruns = trial.reruns + 1
    trials = bench.trials
    trials[next(i for i, t in enumerate(trials) if t is trial)] = again
    dueled.append(again)
    return again
