"""The pytest plugin (entry point ``pytest11``): a ``tunekit`` fixture and ``--tunekit-save``.

``tunekit(func_or_target, **options)`` inside a test runs ``tunekit.analyze`` and returns the
report to assert on. ``--tunekit-save DIR`` writes every report as JSON, named after the test;
``--tunekit-budget SECONDS`` is the budget of analyses that do not set their own. Nothing of
tunekit is imported until a test uses the fixture.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tunekit.models import Report

_SAVE_DIR = pytest.StashKey[Path | None]()
_RESULTS = pytest.StashKey[list[tuple[str, "Report", Path | None]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--tunekit-save DIR`` and ``--tunekit-budget SECONDS``."""
    group = parser.getgroup("tunekit", "tunekit concurrency analysis")
    group.addoption(
        "--tunekit-save",
        metavar="DIR",
        default=None,
        help="Write each report of the tunekit fixture as JSON into DIR (created if missing).",
    )
    group.addoption(
        "--tunekit-budget",
        metavar="SECONDS",
        type=float,
        default=None,
        help="Budget of tunekit analyses that do not give one (default: tunekit's, 30 s).",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Remember where reports go."""
    save = config.getoption("tunekit_save")
    config.stash[_SAVE_DIR] = Path(save) if save else None
    config.stash[_RESULTS] = []


class TunekitFixture:
    """Analyze a function inside a test: ``report = tunekit(func, kwargs=..., budget=...)``."""

    def __init__(self, config: pytest.Config, nodeid: str) -> None:
        self._config = config
        self._nodeid = nodeid
        self.reports: list[Report] = []

    def __call__(self, target: str | Callable[..., Any], **options: Any) -> Report:
        """Run ``tunekit.analyze(target, **options)``; save the report if asked."""
        from tunekit.frontends.api import analyze

        budget = self._config.getoption("tunekit_budget")
        if budget is not None:
            options.setdefault("budget", budget)
        report = analyze(target, **options)
        self.reports.append(report)
        path = self._save(report)
        self._config.stash[_RESULTS].append((self._nodeid, report, path))
        return report

    def _save(self, report: Report) -> Path | None:
        folder = self._config.stash[_SAVE_DIR]
        if folder is None:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", self._nodeid).strip("_")
        if len(self.reports) > 1:
            name += f"-{len(self.reports)}"
        path = folder / f"{name}.json"
        path.write_text(report.to_json() + "\n")
        return path


@pytest.fixture
def tunekit(request: pytest.FixtureRequest) -> TunekitFixture:
    """Analyze a function with tunekit and return the report to assert on."""
    return TunekitFixture(request.config, request.node.nodeid)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """One line per analysis: the test, the recommendation, and where the report went."""
    results = config.stash.get(_RESULTS, [])
    if not results:
        return
    terminalreporter.section("tunekit")
    for nodeid, report, path in results:
        rec = report.recommendation
        advice = f"{rec.model} x{rec.pool_size}" if rec.model else "no recommendation"
        if rec.speedup is not None:
            advice += f" ({rec.speedup:.2f}x sequential)"
        saved = f" -> {path}" if path is not None else ""
        terminalreporter.write_line(f"{nodeid}: {advice}{saved}")
