"""The JSON report: it validates against its published schema and round-trips."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from tunekit.errors import ReportError
from tunekit.models import SCHEMA, Latency, Machine, Recommendation, Report, Trial, Workload


def schema() -> dict[str, Any]:
    text = resources.files("tunekit").joinpath("schema/report.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def synthetic() -> Report:
    return Report(
        target="m:f",
        machine=Machine(cpus=2, python="3.11.7", platform="linux-x86_64"),
        workload=Workload(is_coroutine=False, task_wall_s=0.01, task_cpu_s=0.001),
        trials=[
            Trial(
                backend="thread",
                workers=4,
                status="ok",
                tasks=40,
                repeats=3,
                throughput=390.0,
                throughput_spread=0.02,
                throughput_values=[380.0, 390.0, 395.0],
                latency_s=Latency(0.01, 0.012, 0.02),
                cpu_s=0.01,
                wall_s=0.1,
                peak_rss_bytes=30_000_000,
                startup_s=0.001,
            ),
            Trial(backend="process", workers=1, status="skipped", reason="cannot pickle"),
        ],
        recommendation=Recommendation("thread", 4, 390.0, 3.9, ["because"]),
        tunekit_version="0.1.0",
    )


def test_the_schema_is_itself_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_synthetic_report_validates_and_round_trips() -> None:
    report = synthetic()
    jsonschema.validate(report.to_dict(), schema())
    assert Report.from_json(report.to_json()) == report
    assert report.to_dict()["schema"] == SCHEMA
    assert next(iter(report.to_dict())) == "schema"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["trials"][0].update(status="great"), "status"),
        (lambda d: d.update(schema="tunekit.report/0"), "schema"),
        (lambda d: d["machine"].pop("cpus"), "cpus"),
        (lambda d: d["trials"][0].update(throughput="fast"), "throughput"),
    ],
)
def test_the_schema_rejects_broken_reports(mutate: Any, field: str) -> None:
    data = synthetic().to_dict()
    mutate(data)
    with pytest.raises(jsonschema.ValidationError, match=field):
        jsonschema.validate(data, schema())


def test_a_report_from_a_newer_schema_is_refused_clearly() -> None:
    data = synthetic().to_dict()
    data["schema"] = "tunekit.report/2"
    with pytest.raises(ReportError, match="newer than this tunekit understands"):
        Report.from_dict(data)


@pytest.mark.parametrize("text", ["[]", "{}", "not json", '{"schema": "other/1"}'])
def test_non_reports_are_refused(text: str) -> None:
    with pytest.raises(ReportError):
        Report.from_json(text)
