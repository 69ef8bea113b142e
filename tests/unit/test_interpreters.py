"""``--python``: which configurations are measured again, and the comparison's lines."""

from __future__ import annotations

from tunekit.engine.interpreters import compared_trials, host_share
from tunekit.models import InterpreterRun, Machine, Recommendation, Report, Trial, Workload
from tunekit.reporters.html import HtmlReporter
from tunekit.reporters.text_interpreters import interpreter_lines


def ok(backend: str, workers: int, goodput: float) -> Trial:
    return Trial(backend, workers, "ok", tasks=10, repeats=3, throughput=goodput, goodput=goodput)


HOST = [
    ok("sequential", 1, 100.0),
    ok("thread", 2, 190.0),
    ok("thread", 4, 370.0),
    ok("process", 2, 180.0),
    Trial("asyncio", 1, "skipped", "not a coroutine"),
]


def test_each_backends_best_pool_is_compared_the_recommended_one_first() -> None:
    chosen = compared_trials(HOST, recommended="process")
    assert [t.key for t in chosen] == ["process x2", "thread x4", "sequential x1"]


def test_the_host_keeps_a_share_and_leaves_half_of_it_to_each_other_interpreter() -> None:
    assert host_share(30.0, 0) == 30.0
    assert host_share(30.0, 1) == 15.0  # the other, and this one again beside it
    assert host_share(30.0, 2) == 12.0


def test_the_comparison_shows_each_interpreter_side_by_side_and_says_what_the_best_reaches() -> (
    None
):
    # GIVEN the host's trials and two interpreters, one with a failed trial
    report = Report(
        target="m:f",
        machine=Machine(cpus=2, python="3.11.7", platform="linux-x86_64"),
        workload=Workload(is_coroutine=False),
        trials=HOST,
        recommendation=Recommendation("thread", 4, 370.0, 3.7),
        interpreters=[
            InterpreterRun("/v12/bin/python", "3.12.1", [ok("thread", 4, 333.0)]),
            InterpreterRun(
                "/v13/bin/python",
                "3.13.0",
                [ok("thread", 4, 407.0), Trial("sequential", 1, "failed", "crashed")],
            ),
        ],
    )
    # WHEN the HTML is made THEN it has the same comparison as a table
    page = HtmlReporter().render(report)
    assert '<section id="interpreters">' in page
    assert "<td>407 calls/s (1.10x)</td>" in page
    # WHEN the lines are made THEN they compare every configuration under each interpreter
    assert interpreter_lines(report) == [
        "Interpreters compared (each backend's best pool, measured again under each, this one "
        "too, back to back)",
        "  configuration  3.11.7 (this)  3.12.1               3.13.0",
        "  thread x4      370 calls/s    333 calls/s (0.90x)  407 calls/s (1.10x)",
        "  sequential x1  100 calls/s    -                    failed",
        "  under 3.12.1 thread x4 reaches 333 calls/s, 0.90x what it reaches under 3.11.7",
        "  under 3.13.0 thread x4 reaches 407 calls/s, 1.10x what it reaches under 3.11.7",
    ]


def test_this_interpreter_measured_again_is_what_the_others_are_compared_with() -> None:
    report = Report(
        target="m:f",
        machine=Machine(cpus=2, python="3.11.7", platform="linux-x86_64"),
        workload=Workload(is_coroutine=False),
        trials=HOST,
        recommendation=Recommendation("thread", 4, 370.0, 3.7),
        interpreters=[
            InterpreterRun("/py311", "3.11.7", [ok("thread", 4, 300.0)], this=True),
            InterpreterRun("/v13/bin/python", "3.13.0", [ok("thread", 4, 330.0)]),
        ],
    )
    assert interpreter_lines(report)[1:] == [
        "  configuration  3.11.7 (this)  3.13.0",
        "  thread x4      300 calls/s    330 calls/s (1.10x)",
        "  under 3.13.0 thread x4 reaches 330 calls/s, 1.10x what it reaches under 3.11.7",
    ]


def test_no_lines_without_other_interpreters() -> None:
    report = Report(
        "m:f",
        Machine(2, "3.11.7", "linux"),
        Workload(False),
        HOST,
        Recommendation(None, None, None, None),
    )
    assert interpreter_lines(report) == []
