"""``tunekit.analyze()``: function objects become specs found by name; Python objects as inputs."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

import tunekit
from tunekit.frontends.api import NotFindableError
from tunekit.models import Report


@pytest.fixture(autouse=True)
def no_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyses here test the API around the engine: skip the profiling probes (time)."""
    monkeypatch.setenv("TUNEKIT_DISABLE_PLUGINS", "nature,pyinstrument,memray,locks")


@dataclass
class Box:
    width: int
    height: int


def area(box: Box, scale: int = 1) -> int:
    return box.width * box.height * scale


def make_nested() -> types.FunctionType:
    def nested() -> None:
        pass

    return nested  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("func", "message"),
    [
        (
            lambda: None,
            f"cannot analyze {__name__}.<lambda>: tunekit finds a function by name in a "
            "fresh process, so it must be defined at module level (not a lambda or a nested "
            "function)",
        ),
        (
            make_nested(),
            f"cannot analyze {__name__}.make_nested.<locals>.nested: it is a nested function "
            "(a closure) defined inside 'make_nested', and tunekit finds a function by name in "
            "a fresh process: move it to module level and pass what it uses as arguments",
        ),
    ],
    ids=["lambda", "nested"],
)
def test_functions_not_findable_by_name_are_refused_in_one_line(func: object, message: str) -> None:
    with pytest.raises(NotFindableError) as info:
        tunekit.analyze(func)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_a_function_of_the_main_script_is_found_by_its_file(tmp_path: Path) -> None:
    # GIVEN a script that names one of its own functions
    script = tmp_path / "job.py"
    script.write_text(
        textwrap.dedent(
            """
            from tunekit.frontends.api import target_spec

            def work():
                pass

            if __name__ == "__main__":
                print(target_spec(work))
            """
        )
    )
    # WHEN it runs as the main program THEN the spec is the file path
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out == f"{script.resolve()}:work\n"


@pytest.mark.slow
def test_analyze_a_function_object_with_python_objects_as_inputs() -> None:
    # GIVEN a module-level function and per-task arguments that JSON cannot carry
    inputs = [(Box(1, 2),), {"box": Box(3, 4), "scale": 2}]
    # WHEN it is analyzed through the Python API
    report = tunekit.analyze(area, inputs=inputs, backends=["sequential"], budget=4)
    # THEN the report names it by spec, and the trial ran every input without error
    assert report.target == "tests.integration.test_api:area"
    assert report.workload.inputs == 2
    assert [(t.backend, t.workers, t.status, t.errors) for t in report.trials] == [
        ("sequential", 1, "ok", 0)
    ]
    assert report.recommendation.model == "sequential"
    # AND the report names the inputs by their digest, not by the temporary factory's path
    assert report.run is not None and report.run.inputs is not None
    assert re.fullmatch(r"2 items given in Python, sha256 [0-9a-f]{16}", report.run.inputs)
    # AND it round-trips and renders
    assert Report.from_json(report.to_json()) == report
    assert "Recommendation: sequential with 1 worker" in report.render("text")
    assert report.render("html").startswith("<!DOCTYPE html>")
