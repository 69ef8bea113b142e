"""The HTML report of synthetic reports: self-contained, offline, every part present or marked
"not measured"."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import types
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tunekit.models import Latency, Machine, Recommendation, Report, Trial, Workload
from tunekit.reporters.html import HtmlReporter

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def measured(backend: str, workers: int, throughput: float, rss_mib: int = 30) -> Trial:
    return Trial(
        backend=backend,
        workers=workers,
        status="ok",
        tasks=100,
        repeats=3,
        throughput=throughput,
        throughput_spread=0.04,
        throughput_values=[throughput * 0.96, throughput, throughput * 1.03],
        latency_s=Latency(0.010 * workers**0.2, 0.013 * workers**0.3, 0.02 * workers**0.4),
        cpu_s=0.05,
        wall_s=0.5,
        peak_rss_bytes=rss_mib * 2**20,
        worker_peak_rss_bytes=25 * 2**20 if backend == "process" else None,
        startup_s=0.01 * workers,
    )


def sample_report() -> Report:
    """A report of a sweep over three backends, with one failed and one skipped trial."""
    trials = [measured("sequential", 1, 98.0)]
    for workers in (1, 2, 4, 8):
        trials.append(measured("thread", workers, 98.0 * min(workers, 4) * 0.97, 31))
        trials.append(measured("process", workers, 95.0 * min(workers, 2), 30 + 2 * workers))
    trials.append(
        Trial(backend="asyncio", workers=1, status="skipped", reason="not a coroutine function")
    )
    trials.append(Trial(backend="twisted", workers=2, status="failed", reason="exit code 3 <boom>"))
    return Report(
        target="app.jobs:fetch",
        machine=Machine(cpus=2, python="3.11.7", platform="linux-x86_64"),
        workload=Workload(is_coroutine=False, task_wall_s=0.0102, task_cpu_s=0.0001),
        trials=trials,
        recommendation=Recommendation(
            "thread", 4, 380.2, 3.88, ["thread x4 reached 380 tasks/s, 3.88x sequential"]
        ),
        tunekit_version="0.1.0",
        budget_s=30.0,
        elapsed_s=29.1,
    )


def with_later_fields(report: Report) -> Report:
    """The same report with the parts later schema versions add (fit, locks, profiles)."""
    report.fits = {"thread": {"lambda": 101.0, "sigma": 0.05, "kappa": 0.02}}  # type: ignore[attr-defined]
    report.recommendation.locks = [
        {"site": "app/cache.py:12", "advice": "split", "wait_share": 0.41},
    ]
    report.profiles = types.SimpleNamespace(  # type: ignore[assignment]
        hot_functions=[{"function": "parse", "location": "app/jobs.py:40", "self": 0.62}],
        top_allocations=[{"location": "app/jobs.py:41", "bytes": 4096}],
        cpu_html="/tmp/tunekit/cpu.html",
        cpu_threads_html=None,
        pyinstrument_overhead=7.62,
        memory_html="profiles/memory.html",
        memray_overhead=None,
    )
    return report


def test_a_plain_report_marks_what_was_not_measured() -> None:
    page = HtmlReporter().render(sample_report())
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg ") == 3
    assert "Recommendation: thread with 4 workers — 380 calls/s, 3.88x sequential" in page
    assert "recommended: thread x4" in page  # the knee on the scaling plot
    for note in (
        "Not measured: the lock probe did not run",
        "Not measured: no profile of hot functions in this report",
        "Not measured: no pyinstrument or memray profiles were saved with this report",
    ):
        assert note in page
    assert "dotted" not in page.lower()  # no fit, no caption for one
    assert "exit code 3 &lt;boom&gt;" in page  # trial reasons are escaped


def test_the_page_needs_nothing_from_the_network() -> None:
    page = HtmlReporter().render(with_later_fields(sample_report()))
    assert "<script" not in page  # no snippet, no copy button: no script at all
    assert "<link" not in page
    assert re.findall(r"(?:src|href)=\"(?!#)([^\"]*)\"", page) == [
        "file:///tmp/tunekit/cpu.html",
        "profiles/memory.html",
    ]


def test_later_fields_are_shown_when_present() -> None:
    page = HtmlReporter().render(with_later_fields(sample_report()))
    assert "thread fit" in page
    assert "<td>app/cache.py:12</td><td>split</td><td>41%</td>" in page
    assert "<th>function</th><th>where</th><th>self</th>" in page
    assert "<td>parse</td><td>app/jobs.py:40</td><td>0.62</td>" in page
    assert "<td>app/jobs.py:41</td><td>4 KiB</td>" in page
    assert (
        '<a href="file:///tmp/tunekit/cpu.html">pyinstrument CPU profile: /tmp/tunekit/cpu.html'
        "</a> (profiler overhead 7.6x)</li>"
    ) in page
    assert ">memray memory flame graph: profiles/memory.html</a></li>" in page
    assert "Not measured" not in page


@pytest.mark.parametrize(
    ("offline", "remark"),
    [
        (True, "; works offline (its scripts are inlined)"),
        (
            False,
            "; needs a network connection: it loads its scripts from a CDN (this memray has no "
            "offline option). Offline, read the Allocations (memray) table in this report",
        ),
        (None, ""),
    ],
    ids=["inlined", "cdn", "unknown"],
)
def test_the_flame_graph_link_says_whether_it_needs_a_network(
    offline: bool | None, remark: str
) -> None:
    # GIVEN a report whose memray flame graph was written with or without its scripts inlined
    report = with_later_fields(sample_report())
    report.profiles.memory_html_offline = offline
    # WHEN rendered THEN its link says so, and points at the offline table when it must
    page = HtmlReporter().render(report)
    assert f">memray memory flame graph: profiles/memory.html</a>{remark}</li>" in page
    assert "<h3>Allocations (memray)</h3>" in page


def test_report_render_uses_the_registered_reporter() -> None:
    assert sample_report().render("html") == HtmlReporter().render(sample_report())


def test_a_report_with_no_successful_trial_still_renders() -> None:
    report = sample_report()
    report.trials = [t for t in report.trials if t.status != "ok"]
    page = HtmlReporter().render(report)
    assert "<svg" not in page
    assert "Not measured: no configuration finished with a throughput" in page


class DevTools:
    """A headless Chromium driven over the DevTools protocol (one page)."""

    def __init__(self, profile_dir: Path, log_path: Path) -> None:
        import websocket

        assert CHROMIUM is not None
        self.log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-allow-origins=*",
                "--remote-debugging-port=0",
                "--window-size=1200,900",
                f"--user-data-dir={profile_dir}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.events: list[dict[str, Any]] = []
        self._id = 0
        port = self._wait_for_port(profile_dir / "DevToolsActivePort")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            targets = json.load(resp)
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True
        )

    def _wait_for_port(self, path: Path) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if path.exists() and path.read_text().strip():
                return int(path.read_text().split()[0])
            assert self.proc.poll() is None, "chromium exited before it was ready"
            time.sleep(0.05)
        raise TimeoutError("chromium did not open its DevTools port")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call ``method`` and return its result; events seen meanwhile are kept."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self._id:
                assert "error" not in message, message
                return message["result"]  # type: ignore[no-any-return]
            self.events.append(message)

    def wait_for(self, event: str) -> None:
        while not any(e.get("method") == event for e in self.events):
            self.events.append(json.loads(self.ws.recv()))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self.log.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    devtools = DevTools(tmp_path / "chromium-profile", tmp_path / "chromium.log")
    try:
        yield devtools
    finally:
        devtools.close()


def _two_point_lines(fig: Any) -> list[tuple[list[float], list[float]]]:
    """The straight segments a plot draws between two measured points."""
    (ax,) = fig.axes
    return [
        (list(line.get_xdata()), list(line.get_ydata()))
        for line in ax.lines
        if len(line.get_xdata()) == 2 and line.get_linestyle() == "-"
    ]


def test_lines_join_only_sizes_measured_next_to_each_other() -> None:
    """GIVEN thread measured at 2, 4 and 8 and process only at 2 and 16 (with 16 measured by
    no one else in between) WHEN the scaling plot is drawn THEN process's 2 and 16 are not
    joined (thread's 4 and 8 lie between), thread's neighbours are."""
    from tunekit.reporters.html.plots import backend_colors, scaling_plot

    report = sample_report()
    report.trials = [
        measured("sequential", 1, 98.0),
        *(measured("thread", w, 90.0 * w) for w in (2, 4, 8)),
        measured("process", 2, 150.0),
        measured("process", 16, 400.0),
    ]
    fig = scaling_plot(report, backend_colors(report.trials))
    segments = _two_point_lines(fig)
    xs = sorted(tuple(round(x) for x in seg[0]) for seg in segments)
    assert xs == [(2, 4), (4, 8)]


def test_only_x2_measured_spreads_the_markers() -> None:
    """GIVEN seven backends measured only at 2 workers THEN each sits at its own x, and the
    caption says the markers are shifted."""
    from tunekit.reporters.html.plots import backend_colors, scaling_caption, scaling_plot

    report = sample_report()
    names = ["thread", "process", "asyncio", "tornado", "twisted", "dask", "trio"]
    report.trials = [measured("sequential", 1, 98.0)] + [
        measured(name, 2, 100.0 + i) for i, name in enumerate(names)
    ]
    (ax,) = scaling_plot(report, backend_colors(report.trials)).axes
    xs = {round(float(line.get_xdata()[0]), 3) for line in ax.lines if len(line.get_xdata()) == 1}
    assert len(xs - {1.0}) == len(names)
    assert "shifted sideways" in scaling_caption(report)


def test_the_fit_is_captioned_only_when_drawn() -> None:
    """GIVEN a fit that is poor THEN neither the dotted line nor its caption appear."""
    report = with_later_fields(sample_report())
    report.fits = {"thread": {"lambda": 101.0, "sigma": 0.05, "kappa": 0.02, "poor": True}}  # type: ignore[dict-item]
    page = HtmlReporter().render(report)
    assert "thread fit" not in page and "dotted" not in page
    report.fits["thread"]["poor"] = False  # type: ignore[index]
    assert "dotted: the scaling law fitted to thread" in HtmlReporter().render(report)


def test_locks_say_none_in_your_code_when_the_probe_ran() -> None:
    from tunekit.models import ProbeRun

    report = sample_report()
    report.probes = [ProbeRun("locks", "ok")]
    assert "No locks in your code" in HtmlReporter().render(report)
    report.probes = [ProbeRun("locks", "failed", "exit code 1")]
    assert "Not measured: the lock probe failed: exit code 1" in HtmlReporter().render(report)


def test_the_answer_comes_first_with_its_code_and_notes_collapsed() -> None:
    """GIVEN a snippet, four reasons and notes THEN the recommendation precedes every plot,
    two reasons are open, the snippet is escaped with a copy button, notes are collapsed."""
    report = sample_report()
    report.recommendation.reasons = ["first", "second", "third", "fourth"]
    report.recommendation.snippet = "if a < b:\n    pass\n"
    report.notes = ["thread: stopped growing"]
    page = HtmlReporter().render(report)
    assert page.index('id="recommendation"') < page.index("<svg")
    assert '<li>second</li><li class="more"><details><summary>2 more reasons' in page
    assert "if a &lt; b:" in page and 'class="copy"' in page
    assert "<summary>1 note on how the sweep went" in page
    assert page.index("thread: stopped growing") > page.index('id="profiles"')
    assert "src=" not in page
