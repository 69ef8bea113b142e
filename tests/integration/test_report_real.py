"""A real analysis: its report validates against the schema, covers every built-in backend and
keeps to its budget."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from tunekit.engine import AnalysisConfig, run_analysis
from tunekit.models import Report

from ..conftest import target

BUILT_IN = ["sequential", "thread", "process", "asyncio", "tornado", "twisted"]


def schema() -> dict[str, Any]:
    text = resources.files("tunekit").joinpath("schema/report.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


BUILT_IN = ("sequential", "thread", "process", "asyncio", "tornado", "twisted")


@pytest.fixture(scope="module")
def real_report() -> Report:
    """One real analysis over every built-in backend, shared by the tests below (the plugins
    the test command installs have tests of their own: a cluster's start-up would take the
    budget these are about)."""
    config = AnalysisConfig(target=target("sleeper"), max_workers=2, budget=20, backends=BUILT_IN)
    return run_analysis(config)


def test_a_real_report_validates_and_covers_every_backend(real_report: Report) -> None:
    jsonschema.validate(real_report.to_dict(), schema())
    assert {t.backend for t in real_report.trials if t.status == "ok"} == set(BUILT_IN)
    assert real_report.complete


def test_the_analysis_keeps_to_its_budget(real_report: Report) -> None:
    # the budget is a promise to the user: the whole analysis, children included, fits in it
    assert real_report.elapsed_s is not None
    assert real_report.budget_s is not None
    assert real_report.elapsed_s <= real_report.budget_s + 2.0
