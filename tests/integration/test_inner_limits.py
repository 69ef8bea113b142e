"""A real numpy workload: the calibration finds numpy's BLAS threads, the process and thread
pools are measured with them limited, and the reasons and every report format carry the
numbers. Real numpy, real threadpoolctl, real processes."""

from __future__ import annotations

import json
import re

import pytest
from threadpoolctl import threadpool_info

from tunekit.engine import AnalysisConfig, run_analysis
from tunekit.models import Report

pytestmark = pytest.mark.slow


def blas_threads() -> int:
    """Threads numpy's BLAS runs in this process (0 when it has none)."""
    import numpy  # noqa: F401  (loads the BLAS library threadpoolctl looks for)

    return max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"), default=0)


@pytest.fixture(scope="module")
def numpy_report() -> Report:
    """One analysis of the 300-row matrix product over sequential, thread and process."""
    if blas_threads() < 2:
        pytest.skip("numpy's BLAS runs one thread here: there is nothing to oversubscribe")
    config = AnalysisConfig(
        target="tunekit.examples:matrix_product",
        backends=["sequential", "thread", "process"],
        probes=[],
        budget=25,
    )
    return run_analysis(config)


def test_the_calibration_names_the_blas_threads(numpy_report: Report) -> None:
    """GIVEN numpy's matrix product THEN the workload lists numpy's BLAS pool, with its
    threads as threadpoolctl counts them in this process."""
    pools = [p for p in numpy_report.workload.native_pools if p.api == "blas"]
    assert pools
    assert pools[0].threads == blas_threads()
    assert pools[0].package == "numpy"


def test_the_reasons_name_the_blas_threads_and_the_measured_effect(numpy_report: Report) -> None:
    """GIVEN the analysis THEN a pool was compared in interleaved rounds with its BLAS threads
    limited, and a reason names the BLAS threads and the ratio the rounds measured."""
    compared = [c for c in numpy_report.inner_limits if c.ratio is not None]
    assert compared, [c.trials for c in numpy_report.inner_limits]
    reasons = " | ".join(numpy_report.recommendation.reasons)
    threads = blas_threads()
    assert f"numpy's openblas runs {threads} threads per process" in reasons
    said = re.findall(
        r"limited to (\d+) .*?, (\w+ x\d+) reached (\d+\.\d\d)x the unlimited", reasons
    )
    assert said
    by_key = {c.key: c for c in compared}
    for limit, key, ratio in said:
        assert int(limit) == by_key[key].inner_threads < threads
        assert float(ratio) == pytest.approx(by_key[key].ratio, abs=0.006)
    limited = [t for c in compared for t in c.trials if t.inner_threads is not None]
    assert limited and all(t.key.endswith("1 native thread") for t in limited)


def test_every_format_carries_the_comparison(numpy_report: Report) -> None:
    """GIVEN the report THEN its JSON, text and HTML show the limited rounds."""
    data = json.loads(numpy_report.render("json"))
    assert data["inner_limits"] and data["workload"]["native_pools"]
    text = numpy_report.render("text")
    assert "native thread pools: numpy's openblas" in text
    assert "the unlimited (rounds in order, calls/s: as is" in text
    html = numpy_report.render("html")
    assert '<section id="native">' in html and "limited, calls/s" in html
