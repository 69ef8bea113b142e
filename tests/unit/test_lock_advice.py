"""Lock-granularity advice from synthetic counts: one row per rule and per edge, no timing.

The thresholds live in tunekit/lock_advice.py. A row gives a lock site's counts over a run of
``WALL_S`` seconds on ``THREADS`` threads; GIVEN those counts and the workload kind, WHEN the
advice is computed, THEN it is the expected one and its reason says why.
"""

from __future__ import annotations

from typing import Any

import pytest

from tunekit.advice.locks import (
    BLOCKING_HOLD_CPU,
    COSTLY_WAIT_SHARE,
    HOT_UTILIZATION,
    LONG_HOLD_S,
    MERGE_COST_SHARE,
    advise_from_probe,
    advise_locks,
)

WALL_S = 1.0
THREADS = 4
SITE = "app/cache.py:12"
#: The fields every entry of ``recommendation.locks`` has (issue 4, point 5).
FIELDS = {
    "site",
    "kind",
    "acquisitions",
    "contended",
    "wait_s",
    "hold_s",
    "utilization",
    "advice",
    "reason",
}


def counts(**changes: Any) -> dict[str, Any]:
    """A quiet lock (100 short CPU holds, no waiting), with ``changes``."""
    site: dict[str, Any] = {
        "site": SITE,
        "kind": "Lock",
        "acquisitions": 100,
        "contended": 0,
        "wait_s": 0.0,
        "hold_s": 0.001,
        "hold_cpu_s": 0.0001,
        "hold_cpu_wall_s": 0.0001,
        "acquire_s": 1e-7,
        "locks": 1,
    }
    site.update(changes)
    return site


#: Held 90% of the run in 400 holds of 2.25 ms; callers waited 2 s of their 4 thread-seconds.
HOT = {"acquisitions": 400, "contended": 300, "hold_s": 0.9, "wait_s": 2.0}
#: Held 95% of the run in 5000 holds of 0.19 ms, computing; callers waited 70% of their time.
HOT_SHORT_CPU = {
    "acquisitions": 5000,
    "contended": 4000,
    "hold_s": 0.95,
    "hold_cpu_s": 0.1,
    "hold_cpu_wall_s": 0.1,
    "wait_s": 2.8,
}
#: Held 90% of the run in 100 holds of 9 ms, computing; callers waited 2 s.
HOT_LONG_CPU = {**HOT, "acquisitions": 100, "hold_cpu_s": 0.1, "hold_cpu_wall_s": 0.1}
#: Held across a sleep: 1% of the sampled hold time was CPU.
ASLEEP = {"hold_cpu_s": 0.001, "hold_cpu_wall_s": 0.1}


@pytest.mark.parametrize(
    ("site", "kind", "run", "advice", "reason"),
    [
        # --- edges ---
        pytest.param(
            counts(acquisitions=0, hold_s=0.0), "io-bound", {}, "keep", "not taken",
            id="never-taken",
        ),
        pytest.param(
            counts(**HOT, **ASLEEP), "io-bound", {"wall_s": 0.0}, "keep", "not measured",
            id="zero-wall",
        ),
        pytest.param(
            counts(), "gil-releasing", {}, "keep", "neither contended nor costly", id="quiet",
        ),
        pytest.param(
            counts(contended=60, wait_s=0.001), "gil-releasing", {}, "keep",
            "neither contended nor costly", id="contended-but-tiny-waits",
        ),
        pytest.param(
            {"site": SITE, "acquisitions": 3}, None, {}, "keep",
            "neither contended nor costly", id="missing-fields",
        ),
        pytest.param(
            counts(acquisitions=200_000, contended=150_000, hold_s=0.4, hold_cpu_s=0.04,
                   hold_cpu_wall_s=0.04, wait_s=3.0, acquire_s=0.0),
            "cpu-bound", {}, "merge", "hand this lock back and forth per item",
            id="contended-per-item-lock-in-gil-bound-code",
        ),
        # --- shrink ---
        pytest.param(
            counts(**HOT, **ASLEEP), "io-bound", {}, "shrink", "waits", id="held-across-a-wait",
        ),
        pytest.param(
            counts(**HOT, **ASLEEP), "cpu-bound", {}, "shrink", "waits",
            id="held-across-a-wait-whatever-the-kind",
        ),
        pytest.param(
            counts(**ASLEEP, acquisitions=40, hold_s=0.05), "io-bound", {}, "keep",
            "neither contended nor costly", id="held-across-a-wait-but-cold",
        ),
        pytest.param(
            counts(**HOT, hold_cpu_s=0.0, hold_cpu_wall_s=0.0), "io-bound", {}, "keep",
            "under the GIL", id="hot-but-hold-cpu-not-sampled",
        ),
        pytest.param(
            counts(**HOT_LONG_CPU), "gil-releasing", {}, "shrink", "long work",
            id="long-work-in-the-lock",
        ),
        pytest.param(
            counts(**HOT_LONG_CPU), "cpu-bound", {}, "keep", "GIL serializes",
            id="long-pure-python-work-the-gil-serializes-anyway",
        ),
        pytest.param(
            counts(**HOT, kind="asyncio.Lock", **ASLEEP), "async-io", {"threads": 8}, "shrink",
            "waits", id="asyncio-lock-held-across-an-await",
        ),
        # --- split ---
        pytest.param(
            counts(**HOT_SHORT_CPU), "gil-releasing", {}, "split", "releases the GIL",
            id="hot-short-holds-in-parallel-work",
        ),
        pytest.param(
            counts(**HOT_SHORT_CPU), "cpu-bound", {}, "keep", "GIL serializes",
            id="hot-short-holds-in-pure-python",
        ),
        pytest.param(
            counts(**HOT_SHORT_CPU), "io-bound", {}, "keep", "under the GIL",
            id="hot-short-holds-in-io-bound-work",
        ),
        pytest.param(
            counts(**HOT_SHORT_CPU), None, {}, "keep", "not measured",
            id="hot-short-holds-kind-unknown",
        ),
        pytest.param(
            counts(**{**HOT_SHORT_CPU, "hold_cpu_s": 0.045}), "gil-releasing",
            {"core_share": 0.5}, "split", "releases the GIL",
            id="busy-machine-hold-cpu-is-scaled-by-core-share",
        ),
        pytest.param(
            counts(**{**HOT_SHORT_CPU, "hold_cpu_s": 0.045}), "gil-releasing", {}, "shrink",
            "waits", id="same-hold-cpu-on-an-idle-machine-is-waiting",
        ),
        pytest.param(
            counts(contended=50, wait_s=0.2), "gil-releasing", {"threads": 0}, "split",
            "20% of their time", id="threads-0-counts-as-1",
        ),
        # --- merge ---
        pytest.param(
            counts(acquisitions=1_000_000, hold_s=0.05, acquire_s=1.2e-7), "cpu-bound", {},
            "merge", "once per batch", id="over-fine",
        ),
        pytest.param(
            counts(acquisitions=300_000, hold_s=0.02, acquire_s=1.2e-7), "cpu-bound", {},
            "keep", "neither contended nor costly", id="over-fine-below-the-threshold",
        ),
        pytest.param(
            counts(acquisitions=1_000_000, hold_s=0.05, acquire_s=1.2e-7), "cpu-bound",
            {"cpu_s": 10.0}, "keep", "neither contended nor costly",
            id="acquisitions-cheap-next-to-much-cpu",
        ),
        pytest.param(
            counts(acquisitions=1_000_000, hold_s=0.6, contended=9_000, wait_s=1.0),
            "cpu-bound", {}, "merge", "hand-offs", id="contended-tight-loop-in-pure-python",
        ),
        pytest.param(
            counts(acquisitions=1_000_000, hold_s=0.6, contended=9_000, wait_s=1.0),
            "gil-releasing", {}, "split", "Stripe", id="contended-tight-loop-in-parallel-work",
        ),
        # --- many locks made at one line ---
        pytest.param(
            counts(locks=64, acquisitions=6400, hold_s=3.0, busiest_hold_s=0.05),
            "gil-releasing", {}, "keep", "neither contended nor costly",
            id="striped-locks-are-judged-by-the-busiest",
        ),
    ],
)  # fmt: skip
def test_advice(
    site: dict[str, Any], kind: str | None, run: dict[str, Any], advice: str, reason: str
) -> None:
    args = {"wall_s": WALL_S, "threads": THREADS, "cpu_s": None, "core_share": 1.0, **run}
    [entry] = advise_locks([site], kind, args.pop("wall_s"), args.pop("threads"), **args)
    assert entry["advice"] == advice, entry
    assert reason in entry["reason"], entry["reason"]
    assert set(entry) >= FIELDS
    assert entry["site"] == site["site"]


def test_numbers_behind_the_advice() -> None:
    """GIVEN a lock held 90% of 1 s, 400 times, with 2 s of waiting on 4 threads WHEN advised
    THEN the entry carries those numbers and the shares computed from them."""
    [entry] = advise_locks([counts(**HOT, **ASLEEP)], "io-bound", WALL_S, THREADS)
    assert entry["acquisitions"] == 400
    assert entry["contended"] == 300
    assert entry["utilization"] == pytest.approx(0.9)
    assert entry["wait_share"] == pytest.approx(2.0 / (WALL_S * THREADS))
    assert entry["mean_hold_s"] == pytest.approx(0.9 / 400)
    assert entry["hold_cpu_fraction"] == pytest.approx(0.01)
    assert entry["contended_share"] == pytest.approx(0.75)


def test_zero_wall_has_no_utilization() -> None:
    [entry] = advise_locks([counts(**HOT)], "io-bound", 0.0, THREADS)
    assert entry["utilization"] is None
    assert entry["wait_share"] == 0.0


def test_most_pressing_first() -> None:
    """GIVEN one site of each advice WHEN advised THEN shrink, split, merge, keep, in order."""
    sites = [
        counts(site="quiet.py:1"),
        counts(site="fine.py:1", acquisitions=1_000_000, hold_s=0.05),
        counts(site="hot.py:1", **HOT_SHORT_CPU),
        counts(site="coarse.py:1", **HOT, **ASLEEP),
    ]
    advice = advise_locks(sites, "gil-releasing", WALL_S, THREADS)
    assert [(a["site"], a["advice"]) for a in advice] == [
        ("coarse.py:1", "shrink"),
        ("hot.py:1", "split"),
        ("fine.py:1", "merge"),
        ("quiet.py:1", "keep"),
    ]


def test_thresholds_sit_between_the_rows() -> None:
    """The synthetic rows above are on the intended side of each threshold, with margin."""
    assert HOT["hold_s"] / WALL_S > HOT_UTILIZATION
    assert HOT_SHORT_CPU["wait_s"] / (WALL_S * THREADS) > COSTLY_WAIT_SHARE
    assert ASLEEP["hold_cpu_s"] / ASLEEP["hold_cpu_wall_s"] < BLOCKING_HOLD_CPU
    assert HOT_SHORT_CPU["hold_s"] / HOT_SHORT_CPU["acquisitions"] < LONG_HOLD_S
    assert HOT_LONG_CPU["hold_s"] / HOT_LONG_CPU["acquisitions"] > LONG_HOLD_S
    assert 300_000 * 1.2e-7 / WALL_S < MERGE_COST_SHARE < 1_000_000 * 1.2e-7 / WALL_S


def test_advice_from_the_probes_raw_data() -> None:
    """GIVEN the lock probe's data WHEN advised from it THEN its run length, threads, CPU time
    without the probe's overhead and core share are the ones used."""
    data = {
        "locks": [counts(acquisitions=1_000_000, hold_s=0.05, acquire_s=1.2e-7)],
        "wall_s": 1.0,
        "threads": 4,
        "cpu_s": 3.0,
        "cpu_s_without_probe": 0.5,
        "core_share": 0.9,
    }
    [entry] = advise_from_probe(data, "cpu-bound")
    assert entry["advice"] == "merge"
    assert entry["acquire_cost_share"] == pytest.approx(0.12 / 0.5)


def test_no_probe_data_no_advice() -> None:
    assert advise_from_probe({}, None) == []
