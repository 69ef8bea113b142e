"""The lock probe in a real child: known lock workloads get the right counts, and the right
advice on the right line.

The workloads are in tests/lock_targets.py, each lock on a line marked ``# lock-site: NAME``.
No assertion depends on how long anything took.
"""

from __future__ import annotations

import inspect
import queue
import sys
from pathlib import Path
from typing import Any

import pytest

import tunekit
from tunekit.advice.locks import advise_from_probe
from tunekit.engine.budget import Budget
from tunekit.engine.machine import describe_machine
from tunekit.engine.probing import rerun_at_pool
from tunekit.isolation.protocol import ProbeRequest, ProbeResult
from tunekit.isolation.spawn import run_in_child
from tunekit.models import ProbeRun, Recommendation, Report, Workload
from tunekit.probes import locks
from tunekit.target import TargetSpec

from .. import lock_targets

LOCK_TARGETS = Path(lock_targets.__file__)
LOCK_CLASS_TARGETS = LOCK_TARGETS.with_name("lock_class_targets.py")


def marked_site(name: str, path: Path = LOCK_TARGETS, mark: str = "lock-site") -> str:
    """``path:line`` of the line of ``path`` marked ``# lock-site: name`` (or ``mark``)."""
    lines = path.read_text().splitlines()
    [number] = [i for i, line in enumerate(lines, 1) if line.endswith(f"# {mark}: {name}")]
    return f"{path}:{number}"


def taken_at(name: str) -> str:
    """``path:line`` of the critical section marked ``# lock-taken: name``."""
    return marked_site(name, mark="lock-taken")


def probe(
    func: str, tmp_path: Path, task_wall_s: float = 0.002, path: Path = LOCK_TARGETS
) -> dict[str, Any]:
    """The lock probe's data for a function of ``path`` (tests/lock_targets.py), in a child."""
    request = ProbeRequest(
        probe="locks",
        target=TargetSpec(f"{path}:{func}"),
        profile_dir=str(tmp_path),
        time_s=0.5,
        task_wall_s=task_wall_s,
    )
    outcome = run_in_child(request, timeout_s=60)
    assert outcome.status == "ok", outcome
    assert isinstance(outcome.reply, ProbeResult)
    assert outcome.reply.data is not None
    return outcome.reply.data


def advice_at(data: dict[str, Any], kind: str, site: str) -> dict[str, Any]:
    [entry] = [a for a in advise_from_probe(data, kind) if a["site"] == site]
    return entry


# --- real runs, in child processes -------------------------------------------------------------


def test_a_lock_held_across_a_blocking_wait_is_shrink(tmp_path: Path) -> None:
    data = probe("coarse_lock", tmp_path)
    entry = advice_at(data, "io-bound", marked_site("coarse"))
    assert entry["advice"] == "shrink", entry
    assert entry["kind"] == "Lock"
    # the critical section and the creation line are both named
    [at] = entry["acquired_at"]
    assert at["site"] == taken_at("coarse")
    assert at["acquisitions"] == entry["acquisitions"]
    assert f"taken at {taken_at('coarse')} (100% of calls)" in entry["reason"]
    assert f"made at {marked_site('coarse')}" in entry["reason"]
    assert data["runner"] == "threads"
    assert data["threads"] >= locks.MIN_THREADS


def test_a_hot_lock_around_gil_releasing_work_is_split(tmp_path: Path) -> None:
    data = probe("hashes_under_lock", tmp_path, task_wall_s=0.0005)
    entry = advice_at(data, "gil-releasing", marked_site("hot"))
    assert entry["advice"] == "split", entry
    # the same counts in pure-Python CPU work: the GIL serializes it anyway
    assert advice_at(data, "cpu-bound", marked_site("hot"))["advice"] == "keep"


def test_a_lock_taken_per_item_in_a_tight_loop_is_merge(tmp_path: Path) -> None:
    data = probe("over_fine_lock", tmp_path, task_wall_s=0.001)
    entry = advice_at(data, "cpu-bound", marked_site("fine"))
    assert entry["advice"] == "merge", entry
    assert entry["contended"] == 0
    assert entry["locks"] > 1  # one lock per call, all made on that line
    # the instances are reported at their creation line, with their count, and where taken
    assert f"{entry['locks']} instances" in entry["reason"]
    assert [a["site"] for a in entry["acquired_at"]] == [taken_at("fine")]


def test_a_rarely_used_lock_is_keep_and_overhead_is_reported(tmp_path: Path) -> None:
    data = probe("rarely_locked", tmp_path)
    entry = advice_at(data, "io-bound", marked_site("rare"))
    assert entry["advice"] == "keep", entry
    assert entry["acquisitions"] > 0
    overhead = data["lock_overhead"]
    assert overhead["method"]
    assert 0 < overhead["raw_acquire_s"] < overhead["instrumented_acquire_s"]
    assert overhead["per_acquire_s"] > 0
    assert overhead["estimated_s"] >= 0
    assert overhead["acquisitions"] >= entry["acquisitions"]
    assert 0 <= data["cpu_s_without_probe"] <= data["cpu_s"]


def test_locks_the_standard_library_makes_are_not_reported(tmp_path: Path) -> None:
    data = probe("uses_a_queue", tmp_path)
    source, first = inspect.getsourcelines(queue.Queue.__init__)
    [offset] = [i for i, line in enumerate(source) if "self.mutex = threading.Lock()" in line]
    queue_site = f"{queue.__file__}:{first + offset}"
    assert all(s["origin"] == "user" for s in data["locks"])
    assert queue_site not in [s["site"] for s in data["locks"]]
    hidden = {s["site"]: s for s in data["hidden_locks"]["busiest"]}
    assert hidden[queue_site]["acquisitions"] > 0
    assert hidden[queue_site]["origin"] == "stdlib"
    assert data["hidden_locks"]["by_origin"]["stdlib"]["acquisitions"] > 0


def test_an_asyncio_lock_held_across_an_await_is_shrink(tmp_path: Path) -> None:
    data = probe("async_coarse_lock", tmp_path)
    entry = advice_at(data, "async-io", marked_site("async-coarse"))
    assert entry["advice"] == "shrink", entry
    assert entry["kind"] == "asyncio.Lock"
    assert data["runner"] == "asyncio"
    assert data["lock_overhead"]["per_async_acquire_s"] >= 0


@pytest.mark.skipif(sys.version_info < (3, 13), reason="threading.Lock is a class from 3.13")
def test_user_code_that_treats_threading_lock_as_a_class_runs_and_is_counted(
    tmp_path: Path,
) -> None:
    # GIVEN code that annotates with, unions and isinstance-checks threading.Lock (3.13's class)
    # WHEN the lock probe, having replaced threading.Lock before the import, runs it
    data = probe("deposit", tmp_path, path=LOCK_CLASS_TARGETS)
    # THEN no call failed its isinstance check and the lock is counted on its own line
    assert data["calls"] > 0
    assert data["errors"] == 0
    [site] = [s for s in data["locks"] if s["site"] == marked_site("account", LOCK_CLASS_TARGETS)]
    assert site["acquisitions"] >= data["calls"]


# --- the instrumented locks, in this process (no factory is replaced) --------------------------


#: (factory, its arguments, the kind its lock is named, where the lock is attributed)


# --- semaphores, queues, conditions, read-mostly locks (tests/primitive_targets.py) -----------


PRIMITIVE_TARGETS = LOCK_TARGETS.with_name("primitive_targets.py")


def primitive_advice(func: str, name: str, kind: str, tmp_path: Path) -> dict[str, Any]:
    """The advice for the primitive marked ``name`` when the probe runs ``func``, checked to
    name its creation line and the line that used it."""
    data = probe(func, tmp_path, path=PRIMITIVE_TARGETS)
    made = marked_site(name, PRIMITIVE_TARGETS)
    [entry] = [a for a in advise_from_probe(data, kind) if a["site"] == made]
    used = marked_site(name, PRIMITIVE_TARGETS, mark="lock-taken")
    assert f"made at {made}" in entry["reason"], entry["reason"]
    assert used in entry["reason"], entry["reason"]
    return entry


def test_a_semaphore_whose_permits_are_all_taken_is_the_limit(tmp_path: Path) -> None:
    entry = primitive_advice("semaphore_bound", "permits", "io-bound", tmp_path)
    assert (entry["kind"], entry["advice"], entry["pool_cap"]) == ("Semaphore", "limit", 2)
    assert "all 2 permits held" in entry["reason"]
    assert "a pool above 2 only waits" in entry["reason"]


def test_a_queue_whose_consumers_starve_wants_more_producers(tmp_path: Path) -> None:
    entry = primitive_advice("starving_consumer", "jobs", "io-bound", tmp_path)
    assert (entry["kind"], entry["advice"]) == ("Queue", "grow-producers"), entry
    assert entry["empty_share"] > entry["full_share"]


def test_a_bounded_queue_whose_producers_block_wants_more_consumers(tmp_path: Path) -> None:
    entry = primitive_advice("blocked_producer", "results", "io-bound", tmp_path)
    assert (entry["advice"], entry["maxsize"]) == ("grow-consumers", 2), entry


def test_a_queue_that_swings_between_empty_and_full_wants_a_larger_bound(tmp_path: Path) -> None:
    entry = primitive_advice("bursty_queue", "swings", "io-bound", tmp_path)
    assert (entry["advice"], entry["maxsize"]) == ("raise-bound", 4), entry
    assert entry["empty_share"] >= 0.2 and entry["full_share"] >= 0.2, entry


def test_a_condition_whose_notify_all_wakes_everyone_for_one_item_wants_notify(
    tmp_path: Path,
) -> None:
    entry = primitive_advice("woken_by_notify_all", "ready", "io-bound", tmp_path)
    assert (entry["kind"], entry["advice"]) == ("Condition", "notify-one"), entry
    assert "notify_all woke" in entry["reason"]


def test_a_condition_notified_before_its_state_changed_wants_fewer_wake_ups(
    tmp_path: Path,
) -> None:
    entry = primitive_advice("woken_before_the_state_changed", "signal", "io-bound", tmp_path)
    assert (entry["kind"], entry["advice"]) == ("Condition", "wake-fewer"), entry
    assert "found nothing and waited again" in entry["reason"]


def test_a_lock_read_far_more_than_written_wants_a_read_write_lock(tmp_path: Path) -> None:
    entry = primitive_advice("read_mostly", "table", "gil-releasing", tmp_path)
    assert entry["advice"] == "read-write", entry
    read = marked_site("table", PRIMITIVE_TARGETS, mark="lock-taken")
    assert f"taken at {read} " in entry["reason"]
    assert entry["read_share"] == pytest.approx(0.95, abs=0.03)


def test_user_subclasses_and_isinstance_checks_of_primitives_keep_working(tmp_path: Path) -> None:
    # GIVEN code that subclasses BoundedSemaphore and PriorityQueue and isinstance-checks them
    # WHEN the probe, having replaced those classes before the import, runs it
    data = probe("subclassed_and_checked", tmp_path, path=PRIMITIVE_TARGETS)
    # THEN no call failed and both are counted at their lines, with the lines that used them
    assert data["calls"] > 0
    assert data["errors"] == 0
    sites = {s["site"]: s for s in data["locks"]}
    gate = sites[marked_site("gate", PRIMITIVE_TARGETS)]
    inbox = sites[marked_site("inbox", PRIMITIVE_TARGETS)]
    assert (gate["kind"], inbox["kind"]) == ("BoundedSemaphore", "PriorityQueue")
    assert gate["acquisitions"] >= data["calls"]
    assert inbox["puts"] == inbox["gets"] >= data["calls"]
    taken = [row["site"] for row in gate["acquired_at"]]
    assert taken == [marked_site("gate", PRIMITIVE_TARGETS, mark="lock-taken")]
    assert [row["site"] for row in inbox["put_at"]] == [
        marked_site("inbox", PRIMITIVE_TARGETS, mark="lock-taken")
    ]


@pytest.mark.parametrize(
    ("func", "name", "kind", "advice"),
    [
        ("async_semaphore_bound", "async-permits", "asyncio.Semaphore", "limit"),
        ("async_starving_consumer", "async-jobs", "asyncio.Queue", "grow-producers"),
        ("async_woken_by_notify_all", "async-ready", "asyncio.Condition", "notify-one"),
    ],
)
def test_asyncio_primitives_get_the_advice_of_their_threading_twins(
    tmp_path: Path, func: str, name: str, kind: str, advice: str
) -> None:
    entry = primitive_advice(func, name, "async-io", tmp_path)
    assert (entry["kind"], entry["advice"]) == (kind, advice), entry


# --- the probe at the recommended pool, its advice under the recommended model ----------------


def test_the_probe_runs_as_many_callers_as_it_is_asked(tmp_path: Path) -> None:
    request = ProbeRequest(
        probe="locks",
        target=TargetSpec(f"{PRIMITIVE_TARGETS}:semaphore_bound"),
        profile_dir=str(tmp_path),
        time_s=0.3,
        task_wall_s=0.002,
        workers=3,
    )
    outcome = run_in_child(request, timeout_s=60)
    assert isinstance(outcome.reply, ProbeResult)
    assert outcome.reply.data is not None
    assert (outcome.reply.data["threads"], outcome.reply.data["workers_from"]) == (
        3,
        "recommended pool",
    )


def semaphore_analysis(backend: str) -> Any:
    """The whole analysis of the 2-permit workload with only ``backend``, and the lock probe."""
    report = tunekit.analyze(
        f"{PRIMITIVE_TARGETS}:semaphore_bound", backends=[backend], budget=20, probes=["locks"]
    )
    [entry] = [
        a
        for a in report.recommendation.locks
        if a["site"] == marked_site("permits", PRIMITIVE_TARGETS)
    ]
    [run] = [p for p in report.probes if p.name == "locks"]
    return report, entry, run


def test_under_a_thread_pool_the_probe_measures_at_its_size_and_the_semaphore_agrees() -> None:
    report, entry, run = semaphore_analysis("thread")
    pool = report.recommendation.pool_size
    assert report.recommendation.model == "thread"
    assert entry["advice"] == "limit", entry
    if pool >= 2:  # a pool of 1 is never re-measured: there is nothing to contend
        assert run.data["threads"] == pool
        assert f"The recommended pool of {pool}" in entry["reason"]


def test_under_a_process_pool_thread_primitive_advice_says_it_is_per_process() -> None:
    report, entry, run = semaphore_analysis("process")
    assert report.recommendation.model == "process"
    assert "each worker process has its own copy of this Semaphore" in entry["reason"]
    assert run.data["workers_from"] == "default"  # not re-measured with threads


def test_the_overhead_of_the_new_primitives_is_measured_and_charged(tmp_path: Path) -> None:
    """GIVEN a run on a semaphore WHEN the probe's overhead is estimated THEN each primitive's
    raw and counted use was timed, and the semaphore's share is charged for its acquisitions."""
    data = probe("semaphore_bound", tmp_path, path=PRIMITIVE_TARGETS)
    overhead = data["lock_overhead"]
    for kind in ("Semaphore", "Queue", "Condition", "Event"):
        cost = overhead["primitives"][kind]
        assert 0 < cost["raw_s"] < cost["instrumented_s"], (kind, cost)
    [site] = [s for s in data["locks"] if s["site"] == marked_site("permits", PRIMITIVE_TARGETS)]
    charged = site["acquisitions"] * overhead["primitives"]["Semaphore"]["per_count_s"]
    assert overhead["primitive_s"]["Semaphore"] >= charged > 0
    assert overhead["estimated_s"] >= overhead["primitive_s"]["Semaphore"]


def test_a_multiprocessing_lock_is_counted_across_the_processes_of_a_process_run(
    tmp_path: Path,
) -> None:
    """GIVEN a multiprocessing lock held across a sleep WHEN the probe runs 3 forked processes
    (the recommended process pool) THEN the lock's counts are those of all 3, it was contended,
    and the advice is shrink at the line that took it."""
    request = ProbeRequest(
        probe="locks",
        target=TargetSpec(f"{PRIMITIVE_TARGETS}:shared_across_processes"),
        profile_dir=str(tmp_path),
        time_s=0.5,
        task_wall_s=0.002,
        workers=3,
        model="process",
    )
    outcome = run_in_child(request, timeout_s=60)
    assert isinstance(outcome.reply, ProbeResult)
    data = outcome.reply.data
    assert data is not None
    assert (data["runner"], data["threads"], data["errors"]) == ("processes", 3, 0)
    made = marked_site("shared", PRIMITIVE_TARGETS)
    [site] = [s for s in data["locks"] if s["site"] == made]
    assert site["kind"] == "multiprocessing.Lock"
    assert site["acquisitions"] == data["calls"]  # every process's takes, in one count
    assert site["contended"] > 0
    [entry] = [a for a in advise_from_probe(data, "io-bound", model="process") if a["site"] == made]
    assert entry["advice"] == "shrink", entry
    assert marked_site("shared", PRIMITIVE_TARGETS, mark="lock-taken") in entry["reason"]
    assert "own copy" not in entry["reason"]  # processes do share this one


def test_under_a_process_pool_a_multiprocessing_lock_is_advised_on_as_shared() -> None:
    # GIVEN a multiprocessing lock held across a sleep, analyzed with process pools only
    report = tunekit.analyze(
        f"{PRIMITIVE_TARGETS}:shared_across_processes",
        backends=["process"],
        budget=20,
        probes=["locks"],
    )
    # WHEN the recommendation is a process pool THEN the lock the processes share is advised
    # on as shared: shrink, not "its own copy"
    assert report.recommendation.model == "process"
    made = marked_site("shared", PRIMITIVE_TARGETS)
    [entry] = [a for a in report.recommendation.locks if a["site"] == made]
    assert entry["advice"] == "shrink", entry
    assert "own copy" not in entry["reason"]


def test_a_re_run_under_a_process_pool_adds_what_processes_share_to_the_first_run(
    tmp_path: Path,
) -> None:
    """GIVEN the probe's first run (threads) in a report WHEN it is re-run for a process pool
    of 3 THEN the multiprocessing lock's counts are the processes' (with their run's length
    and callers), and the first run's other sites are kept."""
    data = probe("shared_across_processes", tmp_path, path=PRIMITIVE_TARGETS)
    report = Report(
        target="t",
        machine=describe_machine(),
        workload=Workload(is_coroutine=False),
        trials=[],
        recommendation=Recommendation(None, None, None, None),
        probes=[ProbeRun("locks", "ok", None, 2.0, data)],
    )
    spec = TargetSpec(f"{PRIMITIVE_TARGETS}:shared_across_processes")
    note = rerun_at_pool(report, "locks", spec, Budget(60), 0.002, 2**32, "process", 3)
    assert note is None
    [run] = report.probes
    assert run.data is not None
    assert run.data["process_run"]["threads"] == 3
    made = marked_site("shared", PRIMITIVE_TARGETS)
    [site] = [s for s in run.data["locks"] if s["site"] == made]
    assert (site["run_threads"], site["kind"]) == (3, "multiprocessing.Lock")
    assert site["acquisitions"] == run.data["process_run"]["calls"]
    assert [s for s in run.data["locks"] if s["kind"] == "Semaphore"]  # a thread-run site kept


def test_asyncio_queue_kin_are_still_asyncio_queues(tmp_path: Path) -> None:
    data = probe("async_kin_checked", tmp_path, path=PRIMITIVE_TARGETS)
    assert data["calls"] > 0
    assert data["errors"] == 0
    sites = [s for s in data["locks"] if s["site"] == marked_site("async-stack", PRIMITIVE_TARGETS)]
    assert sites
    assert {s["kind"] for s in sites} == {"asyncio.LifoQueue"}
    assert sum(s["puts"] for s in sites) == 2 * sum(s["gets"] for s in sites) > 0
