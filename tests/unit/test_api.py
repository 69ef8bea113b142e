"""``tunekit.analyze()``: function objects become specs found by name; Python objects as inputs."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import pytest

import tunekit
from tunekit.errors import InputError, TunekitError
from tunekit.examples import cpu_bound
from tunekit.frontends.api import NestedAnalysisError, target_spec
from tunekit.models import Report


def short_sleep(delay: float = 0.002) -> None:
    __import__("time").sleep(delay)


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


class Shapes:
    def square(self, n: int) -> int:
        return n * n

    @classmethod
    def unit(cls) -> int:
        return 1

    @staticmethod
    def double(n: int) -> int:
        return 2 * n


@pytest.mark.parametrize(
    ("func", "spec"),
    [
        (short_sleep, "tests.unit.test_api:short_sleep"),
        (Shapes.square, "tests.unit.test_api:Shapes.square"),
        (Shapes().square, "tests.unit.test_api:Shapes.square"),
        (Shapes.unit, "tests.unit.test_api:Shapes.unit"),
        (Shapes.double, "tests.unit.test_api:Shapes.double"),
        (cpu_bound, "tunekit.examples:cpu_bound"),
    ],
)
def test_functions_become_specs_by_name(func: object, spec: str) -> None:
    assert target_spec(func) == spec  # type: ignore[arg-type]


def test_arguments_that_are_not_json_point_to_inputs() -> None:
    with pytest.raises(InputError, match=r"args must be JSON-serializable .*inputs=\[\.\.\.\]"):
        tunekit.analyze(area, args=[Box(1, 2)])


def test_analyze_refuses_to_run_inside_a_tunekit_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a script whose unguarded top-level code calls analyze() while a worker imports it
    fake_main = types.ModuleType("__main__")
    fake_main.__spec__ = types.SimpleNamespace(name="tunekit.isolation.worker")  # type: ignore[assignment]
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    # THEN it stops at once instead of starting trial processes of its own
    with pytest.raises(NestedAnalysisError, match="guard the script's top-level code"):
        tunekit.analyze(short_sleep)


def test_unknown_render_format_names_the_known_ones() -> None:
    report = _tiny_report()
    with pytest.raises(TunekitError, match="unknown report format 'pdf'; known: text, json, html"):
        report.render("pdf")


def _tiny_report() -> Report:
    from tunekit.models import Machine, Recommendation, Workload

    return Report(
        target="m:f",
        machine=Machine(cpus=2, python="3.11.7", platform="linux-x86_64"),
        workload=Workload(is_coroutine=False),
        trials=[],
        recommendation=Recommendation(None, None, None, None),
    )
