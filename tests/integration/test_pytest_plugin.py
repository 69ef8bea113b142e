"""The pytest plugin: the ``tunekit`` fixture, ``--tunekit-save`` and ``--tunekit-budget``,
run in a separate pytest process that loads the plugin through its ``pytest11`` entry point."""

from __future__ import annotations

import textwrap

import pytest

from tunekit.models import Report

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def no_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyses here test the API around the engine: skip the profiling probes (time)."""
    monkeypatch.setenv("TUNEKIT_DISABLE_PLUGINS", "nature,pyinstrument,memray,locks")


TESTS = """
from tunekit.examples import tiny


def test_recommends_sequential(tunekit):
    report = tunekit(tiny, backends=["sequential"])
    assert report.budget_s == 4
    assert report.recommendation.model == "sequential"


def test_assertion_on_the_report_fails_the_test(tunekit):
    report = tunekit("tunekit.examples:tiny", backends=["sequential"], budget=4)
    assert report.recommendation.model == "process"
"""


@pytest.mark.slow
def test_fixture_save_and_summary(pytester: pytest.Pytester) -> None:
    # GIVEN a test file using the fixture
    pytester.makepyfile(test_tuned=textwrap.dedent(TESTS))
    saved = pytester.path / "reports"
    # WHEN pytest runs it with the plugin's options (the plugin comes from the entry point)
    result = pytester.runpytest_subprocess(
        "--tunekit-save", str(saved), "--tunekit-budget", "4", "-p", "no:cacheprovider"
    )
    # THEN the report can be asserted on: one test passes, one fails on its assertion
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*assert 'sequential' == 'process'*"])
    # AND each report is saved as JSON, named after its test
    assert sorted(p.name for p in saved.iterdir()) == [
        "test_tuned.py_test_assertion_on_the_report_fails_the_test.json",
        "test_tuned.py_test_recommends_sequential.json",
    ]
    report = Report.from_json((saved / "test_tuned.py_test_recommends_sequential.json").read_text())
    assert (report.target, report.recommendation.model) == ("tunekit.examples:tiny", "sequential")
    # AND the terminal summary lists every analysis
    result.stdout.fnmatch_lines(
        [
            "*= tunekit =*",
            "test_tuned.py::test_recommends_sequential: sequential x1 (1.00x sequential) -> *",
            "test_tuned.py::test_assertion_on_the_report_fails_the_test: sequential x1 *",
        ]
    )


def test_options_are_listed_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["tunekit concurrency analysis:", "*--tunekit-save=DIR*"])
