"""The end of an analysis: from what was measured to the recommendation and its notes.

Pure assembly of the report's advice (``tunekit.advice``) and the stop notes, once every
measurement is in; no process is started here.
"""

from __future__ import annotations

from collections.abc import Sequence

from tunekit.advice.beyond_machine import beyond_one_machine
from tunekit.advice.inner_limits import advise_inner_limits
from tunekit.advice.locks import advise_from_probe
from tunekit.advice.recommend import recommend
from tunekit.models import Recommendation, Report
from tunekit.plan.stops import Stop, describe, what_next
from tunekit.plan.sweep import Contender
from tunekit.plugins import PluginManager, collect_backends
from tunekit.snippets import SnippetRequest

#: Stops that say a backend trailed another: once the later rounds (re-runs, the duel) made it
#: the recommendation, such a note contradicts the answer, and is left out.
OUTRANKED_STOPS = ("measured less", "via", "same family", "cannot win")


#: Stops that say a larger pool would not pay, from the measured curve itself: the fitted
#: scaling law predicted less than the noise, the calls had begun to queue, or a larger pool
#: measured failed calls (busy_service's thread x8 was "still gaining" with every call of
#: thread x16 refused).
SETTLED_STOPS = ("fit", "queue", "errors")


def conclude(
    report: Report,
    stops: dict[str, Stop],
    contenders: Sequence[Contender],
    plugins: PluginManager,
    failure: str | None,
) -> None:
    """Fill ``report.recommendation`` (with its lock advice and code to paste) and the notes on
    why each backend stopped, from the final trials; ``failure``: why nothing can be advised."""
    final = {t.key: t for t in report.trials}
    scales = {c.name: c.scales for c in contenders}
    via = {c.name: c.via for c in contenders if c.via is not None}
    stopped = {name: what_next(stop, final, report.budget_s or 0.0) for name, stop in stops.items()}
    report.recommendation = recommend(
        report.trials,
        report.workload,
        report.machine,
        via=via,
        stopped=stopped,
        settled=[name for name, stop in stops.items() if stop.kind in SETTLED_STOPS],
    )
    more_advice(report, plugins)
    chosen = report.recommendation.model
    report.notes += [
        f"{name}: {describe(stop, final)}"
        for name, stop in stops.items()
        if scales.get(name, True) and not (name == chosen and stop.kind in OUTRANKED_STOPS)
    ]
    locks = next((p for p in report.probes if p.name == "locks" and p.status == "ok"), None)
    if locks is not None:
        advice = advise_from_probe(
            locks.data,
            report.workload.kind,
            model=chosen,
            pool_size=report.recommendation.pool_size,
            gil_enabled=report.machine.gil_enabled,
        )
        report.recommendation.locks = [a for a in advice if a["uses"] > 0]
    if failure is not None:
        report.recommendation = Recommendation(None, None, None, None, [failure])
    report.recommendation.snippet = snippet_for(report, report.target, plugins)


def snippet_for(report: Report, target: str, plugins: PluginManager) -> str | None:
    """Code to paste for the recommended model and pool, from its backend's plugin."""
    rec = report.recommendation
    if rec.model is None or rec.pool_size is None:
        return None
    request = SnippetRequest(
        rec.model,
        target,
        rec.pool_size,
        report.workload.is_coroutine,
        rec.chunksize,
        rec.inner_threads,
    )
    found: str | None = plugins.hook.tunekit_snippet(request=request)
    setup = report.run.setup if report.run is not None else None
    if found is not None and setup is not None:
        found = setup_comment(setup) + found
    return found


def more_advice(report: Report, plugins: PluginManager) -> None:
    """Add to the recommendation what the native threads did, and whether one machine is
    enough (with the distributed backends installed)."""
    rec = report.recommendation
    advise_inner_limits(rec, report, report.machine.cpus)
    backends = collect_backends(plugins)
    distributed = [n for n, b in backends.items() if getattr(b.item, "distributed", False)]
    rec.reasons += beyond_one_machine(
        rec, report.trials, report.workload, report.machine, distributed
    )


def setup_comment(setup: str) -> str:
    """What a snippet (which calls the target without it) says a ``--setup`` run needs."""
    factory = setup.rpartition(":")[2]
    return (
        f"# --setup {setup}: each worker needs its own {factory}() result as the first\n"
        "# argument (a thread's in a threading.local, a process's from the pool's initializer);\n"
        "# the code below calls the function without it: add it there.\n"
    )
