"""The HTML report: self-contained, every part present or marked "not measured", and it really
renders in a headless Chromium without console errors (a screenshot is kept in test-artifacts/)."""

from __future__ import annotations

import base64
import json
import os
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

ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "test-artifacts"
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


CHECK_PLOTS = """
Array.from(document.querySelectorAll("figure.plot svg")).map((svg) => {
  const box = svg.getBoundingClientRect();
  return {width: box.width, height: box.height, paths: svg.querySelectorAll("path").length,
          text: svg.textContent};
})
"""


def test_the_page_renders_in_headless_chromium(browser: DevTools, tmp_path: Path) -> None:
    # GIVEN the HTML report of a sweep, with every optional part, written to a file
    page = tmp_path / "report.html"
    page.write_text(with_later_fields(sample_report()).render("html"))
    # WHEN Chromium opens it
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable")
    browser.send("Page.navigate", url=page.as_uri())
    browser.wait_for("Page.loadEventFired")
    plots = browser.send("Runtime.evaluate", expression=CHECK_PLOTS, returnByValue=True)
    size = browser.send("Page.getLayoutMetrics")["cssContentSize"]
    shot = browser.send(
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "html-report.png").write_bytes(base64.b64decode(shot["data"]))
    # THEN nothing went wrong in the console
    errors = [
        e
        for e in browser.events
        if e["method"] == "Runtime.exceptionThrown"
        or (e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert errors == []
    # AND the page loaded nothing but itself
    requested = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e["method"] == "Network.requestWillBeSent"
    ]
    assert requested == [page.as_uri()]
    # AND the three plots have a size and drawn content
    values = plots["result"]["value"]
    assert len(values) == 3
    for plot in values:
        assert plot["width"] > 300
        assert plot["height"] > 100
        assert plot["paths"] > 10
    assert "recommended: thread x4" in values[0]["text"]
    assert "thread fit" in values[0]["text"]
    assert "thread" in values[1]["text"] and "p99" in values[1]["text"]


def open_page(browser: DevTools, page: Path) -> None:
    for domain in ("Page", "Runtime", "Network"):
        browser.send(f"{domain}.enable")
    browser.send("Page.navigate", url=page.as_uri())
    browser.wait_for("Page.loadEventFired")


def evaluate(browser: DevTools, expression: str) -> Any:
    return browser.send("Runtime.evaluate", expression=expression, returnByValue=True)["result"][
        "value"
    ]


def screenshot(browser: DevTools, name: str, full: bool = False) -> Path:
    """Save what the window shows (or the whole page) as test-artifacts/NAME."""
    params: dict[str, Any] = {"format": "png"}
    if full:
        size = browser.send("Page.getLayoutMetrics")["cssContentSize"]
        params["captureBeyondViewport"] = True
        params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
        params["clip"]["scale"] = 1
    shot = browser.send("Page.captureScreenshot", **params)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def test_the_recommendation_is_above_the_fold(browser: DevTools, tmp_path: Path) -> None:
    """GIVEN a report with reasons and code to paste WHEN Chromium opens it in a 1200x900
    window THEN the recommendation, its reasons and the copy button are in view before any
    scrolling, above the first plot."""
    report = with_later_fields(sample_report())
    report.recommendation.reasons = ["first reason", "second reason", "third", "fourth"]
    report.recommendation.snippet = "from app.jobs import fetch\n\n\ndef run_all(tasks):\n    ...\n"
    report.notes = ["thread: stopped growing: thread x8 gained +0% over thread x4 (noise 4%)"]
    page = tmp_path / "report.html"
    page.write_text(report.render("html"))
    open_page(browser, page)
    box = evaluate(
        browser,
        """(() => {
          const rec = document.getElementById("recommendation").getBoundingClientRect();
          const button = document.querySelector("button.copy").getBoundingClientRect();
          const plot = document.querySelector("figure.plot").getBoundingClientRect();
          const notes = document.querySelector("details.notes");
          return {rec_top: rec.top, rec_bottom: rec.bottom, button: button.bottom,
                  plot: plot.top, fold: window.innerHeight, notes_open: notes.open,
                  title: document.querySelector("#recommendation h2").textContent};
        })()""",
    )
    screenshot(browser, "html-above-the-fold.png")
    assert box["title"].startswith("Recommendation: thread with 4 workers")
    assert 0 <= box["rec_top"] < box["rec_bottom"] <= box["fold"]
    assert box["button"] <= box["fold"]
    assert box["plot"] > box["rec_bottom"]
    assert box["notes_open"] is False


def test_no_fit_caption_without_a_fit(browser: DevTools, tmp_path: Path) -> None:
    """GIVEN a report with no scaling fit WHEN it is rendered THEN the scaling figure neither
    draws nor captions a fitted model."""
    page = tmp_path / "report.html"
    page.write_text(sample_report().render("html"))
    open_page(browser, page)
    caption, legend = evaluate(
        browser,
        """(() => {
          const fig = document.querySelector("#scaling figure");
          const svg = fig.querySelector("svg");
          return [fig.querySelector("figcaption").textContent, svg.textContent];
        })()""",
    )
    screenshot(browser, "html-no-fit.png", full=True)
    assert "fit" not in caption.lower() and "dotted" not in caption.lower()
    assert " fit" not in legend
    assert "Markers: measured sizes" in caption


def test_the_plot_with_only_x2_measured_reads(browser: DevTools, tmp_path: Path) -> None:
    """GIVEN seven backends measured at 2 workers only WHEN Chromium draws the scaling plot
    THEN their markers stand apart (eight x positions with sequential's) and the caption says
    they are offset."""
    report = sample_report()
    names = ["thread", "process", "asyncio", "tornado", "twisted", "dask", "trio"]
    report.trials = [measured("sequential", 1, 98.0)] + [
        measured(name, 2, 120.0 + 15 * i) for i, name in enumerate(names)
    ]
    report.recommendation = Recommendation("trio", 2, 210.0, 2.14, ["trio x2 measured most"])
    page = tmp_path / "report.html"
    page.write_text(report.render("html"))
    open_page(browser, page)
    found = evaluate(
        browser,
        """(() => {
          const fig = document.querySelector("#scaling figure");
          const xs = Array.from(fig.querySelectorAll("svg use")).map((u) => {
            const b = u.getBoundingClientRect(); return Math.round(b.left + b.width / 2);
          });
          const plot = fig.querySelector("svg").getBoundingClientRect();
          return {xs: xs, caption: fig.querySelector("figcaption").textContent,
                  width: plot.width, top: plot.top + window.scrollY, height: plot.height};
        })()""",
    )
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        width=1200,
        height=900,
        deviceScaleFactor=1,
        mobile=False,
    )
    browser.send("Runtime.evaluate", expression=f"window.scrollTo(0, {found['top'] - 20})")
    screenshot(browser, "html-only-x2.png")
    assert "shifted sideways" in found["caption"]
    # the legend's markers sit in one column at its left; the plot's are spread in the axes
    in_axes = {x for x in found["xs"] if x < found["width"] * 0.7}
    assert len(in_axes) >= len(names) + 1
