"""What a report records of its run, and which differences ``tunekit compare`` names."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tunekit.models import Machine, Recommendation, Report, Workload
from tunekit.reporters.html import HtmlReporter
from tunekit.runs import Interpreter, RunRecord, differences, summary

PYTHON = Interpreter("/venv/bin/python", "3.11.7")
BASE = RunRecord(
    args=[],
    kwargs={"n": 1},
    inputs=None,
    budget_s=30.0,
    backends=["sequential", "thread"],
    probes=["cpu_profile", "locks"],
    max_workers=None,
    interpreter=PYTHON,
)


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({}, []),
        ({"kwargs": {"n": 3}}, [("kwargs", '{"n": 1}', '{"n": 3}', True)]),
        ({"args": [5]}, [("args", "[]", "[5]", True)]),
        ({"inputs": "app:cases"}, [("inputs", "not given", "app:cases", True)]),
        ({"setup": "app:connect"}, [("setup", "not given", "app:connect", True)]),
        ({"budget_s": 10.0}, [("budget", "30 s", "10 s", True)]),
        (
            {"backends": ["sequential"]},
            [("backends", '["sequential", "thread"]', '["sequential"]', True)],
        ),
        ({"backends": ["thread", "sequential"]}, []),  # the same set, named in another order
        ({"probes": []}, [("probes", '["cpu_profile", "locks"]', "[]", True)]),
        ({"max_workers": 8}, [("max workers", "not given", "8", True)]),
        ({"memory_limit_bytes": 2**30}, [("memory limit", "not given", "1073741824", True)]),
        ({"sweep": "grid"}, [("sweep", "adaptive", "grid", True)]),
        ({"repeats": 5}, [("repeats", "3", "5", True)]),
        (
            {"interpreter": Interpreter("/usr/bin/python3.12", "3.12.1")},
            [("interpreter", "CPython 3.11.7", "CPython 3.12.1", True)],
        ),
        (
            {"interpreter": Interpreter("/other/bin/python", "3.11.7")},
            [("executable", "/venv/bin/python", "/other/bin/python", False)],
        ),
        (
            {"kwargs": {"n": 1, "s": "x" * 60}, "budget_s": 5.0},
            [
                ("kwargs", '{"n": 1}', '{"n": 1, "s": "' + "x" * 28 + "…", True),
                ("budget", "30 s", "5 s", True),
            ],
        ),
    ],
    ids=[
        "same",
        "kwargs",
        "args",
        "inputs",
        "setup",
        "budget",
        "backends",
        "backend-order",
        "probes",
        "max-workers",
        "memory-limit",
        "sweep",
        "repeats",
        "python-version",
        "executable-only",
        "long-value-and-two-fields",
    ],
)
def test_differences_name_each_field_that_differs(
    changed: dict[str, Any], expected: list[tuple[str, str, str, bool]]
) -> None:
    # GIVEN a record of one run and a copy with some fields changed
    other = dataclasses.replace(BASE, **changed)
    # WHEN they are compared THEN each changed field is named once, with both values
    found = [(d.name, d.old, d.new, d.decisive) for d in differences(BASE, other)]
    assert found == expected
    # and the comparison is symmetric in what it names
    assert [d.name for d in differences(other, BASE)] == [name for name, *_ in expected]


def test_the_record_round_trips_through_json() -> None:
    report = Report(
        target="m:f",
        machine=Machine(cpus=2, python="3.11.7", platform="linux-x86_64"),
        workload=Workload(is_coroutine=False),
        trials=[],
        recommendation=Recommendation(None, None, None, None),
        run=BASE,
    )
    again = Report.from_json(report.to_json())
    assert again.run == BASE
    assert isinstance(again.run.interpreter, Interpreter)


def test_a_report_of_an_earlier_version_has_no_record() -> None:
    data = Report(
        target="m:f",
        machine=Machine(cpus=2, python="3.11.7", platform="linux-x86_64"),
        workload=Workload(is_coroutine=False),
        trials=[],
        recommendation=Recommendation(None, None, None, None),
    ).to_dict()
    del data["run"]
    assert Report.from_dict(data).run is None


def test_the_html_details_say_what_was_run() -> None:
    # GIVEN a report that recorded its run WHEN rendered as HTML THEN its details say it
    line = summary(BASE)
    assert line == (
        'args [], kwargs {"n": 1}; budget 30 s; backends sequential, thread; probes '
        "cpu_profile, locks; max workers not given; adaptive sweep, 3 repeats; CPython 3.11.7 "
        "(/venv/bin/python)"
    )
    report = Report(
        target="m:f",
        machine=Machine(cpus=2, python="3.11.7", platform="linux-x86_64"),
        workload=Workload(is_coroutine=False),
        trials=[],
        recommendation=Recommendation(None, None, None, None),
        run=dataclasses.replace(BASE, inputs="app:cases"),
    )
    page = HtmlReporter().render(report)
    assert "<tr><th>what was run</th><td>inputs app:cases; budget 30 s;" in page
