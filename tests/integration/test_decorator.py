"""``@tunekit.profile``: passive recording, the summary, disabled and inert modes, pickling,
and ``analyze=True`` replaying recorded calls in the trial processes."""

from __future__ import annotations

import inspect
import io
import json
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import tunekit
from tunekit.frontends.decorator import Recorder
from tunekit.frontends.decorator import summary as decorator

ROOT = Path(__file__).parents[2]


def add(a: int, b: int = 2) -> int:
    """Adds."""
    return a + b


def broken(x: int) -> int:
    raise ValueError(f"bad {x}")


@tunekit.profile
def profiled_square(x: int) -> int:
    return x * x


@tunekit.profile
def probe(path: str) -> None:
    """Writes whether the module attribute it is reached through is the tunekit wrapper."""
    wrapper = getattr(sys.modules[__name__], "probe")  # noqa: B009 - looked up at call time
    with Path(path).open("a") as handle:
        handle.write(f"{hasattr(wrapper, '__tunekit_recorder__')}\n")


@tunekit.profile(analyze=True, sample=3, budget=4, backends=["sequential"])
def wait(delay: float, *, times: int = 1) -> None:
    for _ in range(times):
        __import__("time").sleep(delay)


class Counter:
    def __init__(self) -> None:
        self.total = 0

    @tunekit.profile
    def bump(self, n: int = 1) -> int:
        self.total += n
        return self.total

    @staticmethod
    @tunekit.profile
    def twice(n: int) -> int:
        return 2 * n


def recorder_of(func: object) -> Recorder:
    recorder = getattr(func, "__tunekit_recorder__", None)
    assert isinstance(recorder, Recorder)
    return recorder


@pytest.fixture(autouse=True)
def no_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyses here test the API around the engine: skip the profiling probes (time)."""
    monkeypatch.setenv("TUNEKIT_DISABLE_PLUGINS", "nature,pyinstrument,memray,locks")


@pytest.fixture(autouse=True)
def only_this_tests_recorders() -> Iterator[None]:
    """Each test reports only what it decorated; nothing is left to print at pytest's exit."""
    saved = list(decorator._recorders)
    decorator._recorders.clear()
    yield
    decorator._recorders[:] = saved


@pytest.fixture(autouse=True, scope="module")
def no_summary_at_exit() -> Iterator[None]:
    yield
    decorator._recorders.clear()


def test_sync_function_is_counted_and_keeps_its_signature() -> None:
    # GIVEN a plain function decorated bare
    wrapped = tunekit.profile(add)
    # WHEN it is called three times
    results = [wrapped(1), wrapped(2, b=5), wrapped(a=3)]
    # THEN it behaves as before and every call is recorded
    assert results == [3, 7, 5]
    snap = recorder_of(wrapped).snapshot()
    assert (snap.function, snap.calls, snap.errors, snap.first_error) == (
        "tests.integration.test_decorator:add",
        3,
        0,
        None,
    )
    assert snap.sample == ["(1)", "(2, 5)", "(3)"]  # as written, defaults left out
    assert snap.wall_min_s is not None and snap.wall_max_s is not None
    assert 0 < snap.wall_min_s <= snap.wall_max_s <= snap.wall_total_s
    assert snap.cpu_total_s is not None
    # AND it looks like the original to introspection
    assert inspect.signature(wrapped) == inspect.signature(add)
    assert (wrapped.__name__, wrapped.__qualname__, wrapped.__doc__) == ("add", "add", "Adds.")
    assert wrapped.__wrapped__ is add  # type: ignore[attr-defined]


def test_methods_are_counted_without_self_in_the_sample() -> None:
    # GIVEN module-level methods decorated in the class body
    decorator._recorders[:] = [recorder_of(Counter.bump), recorder_of(Counter.twice)]
    counter = Counter()
    # WHEN called through instances and the class
    assert [counter.bump(), counter.bump(n=5), Counter.twice(4)] == [1, 6, 8]
    # THEN self is not part of the recorded arguments
    bump, twice = (recorder_of(f).snapshot() for f in (Counter.bump, Counter.twice))
    assert (bump.function, bump.calls, bump.sample[-2:]) == (
        "tests.integration.test_decorator:Counter.bump",
        2,
        ["()", "(5)"],  # as bound to the signature
    )
    assert (twice.calls, twice.sample[-1]) == (1, "(4)")


POOL_SCRIPT = """
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from tests.integration.test_decorator import profiled_square

if __name__ == "__main__":
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        print(list(pool.map(profiled_square, [2, 3])), profiled_square(5))
"""


def test_a_decorated_function_pickles_by_name_into_a_spawned_process_pool() -> None:
    # GIVEN a module-level decorated function
    assert pickle.loads(pickle.dumps(profiled_square)) is profiled_square
    # WHEN a program sends it to a pool whose child imports its module afresh (spawn; in a
    # process of its own, so that multiprocessing's resource tracker ends with it)
    proc = subprocess.run(
        [sys.executable, "-c", POOL_SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # THEN the child finds and runs it, and only the parent prints a summary, of its own call
    assert (proc.returncode, proc.stdout) == (0, "[4, 9] 25\n")
    assert proc.stderr.count("tunekit profile summary") == 1
    assert f"  {__name__}:profiled_square: 1 call, 0 raised; wall " in proc.stderr


def test_summary_lines() -> None:
    # GIVEN two decorated functions, one never called
    wrapped = tunekit.profile(add)
    tunekit.profile(broken)
    wrapped(1)
    wrapped(2)
    out = io.StringIO()
    # WHEN the summary is printed
    profiles = tunekit.report(file=out)
    # THEN there is one entry per function
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("tunekit profile summary (2 functions, pid ")
    assert lines[1].startswith(f"  {__name__}:add: 2 calls, 0 raised; wall ")
    assert "/call (min " in lines[1]
    assert "; CPU " in lines[1]
    assert lines[2:] == ["    first call: (1)", f"  {__name__}:broken: not called"]
    assert [p.calls for p in profiles] == [2, 0]


def test_report_env_writes_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    monkeypatch.setenv("TUNEKIT_REPORT", str(path))
    wrapped = tunekit.profile(broken)
    with pytest.raises(ValueError, match="bad 7"):
        wrapped(7)
    out = io.StringIO()
    tunekit.report(file=out)
    data = json.loads(path.read_text())
    assert out.getvalue() == ""
    assert data["schema"] == "tunekit.profile/1"
    (entry,) = data["functions"]
    assert {k: entry[k] for k in ("function", "calls", "errors", "first_error", "sample")} == {
        "function": "tests.integration.test_decorator:broken",
        "calls": 1,
        "errors": 1,
        "first_error": "ValueError: bad 7",
        "sample": ["(7)"],
    }


SCRIPT = """
import tunekit

@tunekit.profile
def work(n):
    return sum(range(n))

if __name__ == "__main__":
    for i in range(3):
        work(100)
"""


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "text"), ({"TUNEKIT_REPORT": "profile.json"}, "json"), ({"TUNEKIT_DISABLE": "1"}, "")],
)
def test_summary_at_interpreter_exit(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    # GIVEN a script with a decorated function
    (tmp_path / "script.py").write_text(textwrap.dedent(SCRIPT))
    # WHEN it runs to the end
    proc = subprocess.run(
        [sys.executable, "script.py"],
        cwd=tmp_path,
        env={**__import__("os").environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # THEN the summary goes to stderr, or to the JSON file, or nowhere when disabled
    assert proc.stdout == ""
    if expected == "text":
        assert proc.stderr.startswith("tunekit profile summary (1 function, pid ")
        assert "  __main__:work: 3 calls, 0 raised; wall " in proc.stderr
    else:
        assert proc.stderr == ""
    json_file = tmp_path / "profile.json"
    assert json_file.exists() == (expected == "json")
    if expected == "json":
        (entry,) = json.loads(json_file.read_text())["functions"]
        assert (entry["function"], entry["calls"], entry["sample"]) == (
            "__main__:work",
            3,
            ["(100)"] * 3,
        )


@pytest.mark.slow
def test_trials_measure_the_undecorated_function(tmp_path: Path) -> None:
    # GIVEN a decorated module-level function that records how it was reached
    marks = tmp_path / "marks.txt"
    # WHEN it is analyzed in trial processes
    report = tunekit.analyze(probe, args=[str(marks)], backends=["sequential"], budget=2)
    # THEN every call in the trials went to the plain function: the decorator was inert there
    assert report.target == "tests.integration.test_decorator:probe"
    assert set(marks.read_text().split()) == {"False"}


@pytest.mark.slow
def test_analyze_mode_replays_the_recorded_calls_after_the_sample(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a function decorated with analyze=True and sample=3
    decorator._recorders[:] = [recorder_of(wait)]
    # WHEN it is called three times
    wait(0.001)
    wait(0.002, times=1)
    assert recorder_of(wait).snapshot().analysis is None
    wait(delay=0.001)
    # THEN the analysis ran on those three calls, right after the third
    snap = recorder_of(wait).snapshot()
    assert snap.analysis_error is None
    assert snap.analysis is not None
    assert snap.analysis["target"] == "tests.integration.test_decorator:wait"
    assert snap.analysis["workload"]["inputs"] == 3
    assert [(t["status"], t["errors"]) for t in snap.analysis["trials"]] == [("ok", 0)]
    assert capsys.readouterr().err == (
        f"tunekit: analyzing {__name__}:wait on 3 recorded calls (budget 4 s)\n"
    )
    # AND the summary carries the recommendation
    assert "\n    recommendation: sequential with 1 worker (1.00x sequential)" in snap.summary()


def test_the_overhead_benchmark_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "benchmarks/decorator_overhead.py", "--number", "2000", "--repeat", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = proc.stdout.splitlines()
    assert lines[1] == "disabled decorator returns the same object: True"
    assert [line[:34].strip() for line in lines[2:]] == [
        "plain call",
        "disabled (TUNEKIT_DISABLE=1)",
        "bare timing wrapper (reference)",
        "passive @tunekit.profile",
        "plain await",
        "passive @tunekit.profile (async)",
    ]
    assert proc.stderr == ""
