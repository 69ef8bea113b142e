"""The HTML report: one self-contained file with inline SVG plots and no network.

The answer comes first (the recommendation, its deciding reasons, the code to paste with a
copy button, the page's only script), then the evidence, then the run's details and notes.

Plots are drawn by matplotlib's SVG backend in this process and inlined, so the file opens
offline in any browser. Parts of the report that a measurement did not produce (scaling-model
fit, lock advice, hot functions, saved profiles) are shown as "not measured", never made up.
Fields newer than schema 1 are read with ``getattr`` so this renderer works before and after
they exist:

- ``report.fits``: mapping backend -> Universal Scalability Law parameters
  ``{"lambda": tasks/s of one worker, "sigma": contention, "kappa": coherency}``, or
  ``{"curve": [[workers, throughput], ...]}`` for any other model.
- ``report.profiles``: ``hot_functions`` and ``top_allocations`` (lists of dicts, every key
  a column), the HTML files ``cpu_html``, ``cpu_threads_html`` and ``memory_html`` (linked)
  with the profilers' overhead factors.

The parts: ``page`` (escaping, sections, the text ones, the document and its ``style.css``),
``plots`` (the figures), ``tables`` and ``fields`` (the fields above, read either way).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tunekit.hookspecs import hookimpl
from tunekit.reporters.html.page import (
    document,
    header,
    profiles,
    recommendation,
    run_details,
    section,
)
from tunekit.reporters.html.plots import (
    backend_colors,
    figure,
    latency_plot,
    memory_plot,
    scaling_caption,
    scaling_plot,
)
from tunekit.reporters.html.tables import (
    hot_functions,
    interpreters_table,
    locks,
    native_threads,
    trial_table,
)

if TYPE_CHECKING:
    from tunekit.models import Report
    from tunekit.reporters import Reporter

__all__ = ["HtmlReporter", "tunekit_register_reporters"]


class HtmlReporter:
    """A single-file HTML page with the scaling curves, latency, memory and tables."""

    name = "html"
    file_extension = ".html"
    description = "one self-contained HTML file with SVG plots"

    def render(self, report: Report) -> str:
        """The whole page as text."""
        colors = backend_colors(report.trials)
        sections = [
            header(report),
            recommendation(report),
            section(
                "Scaling",
                "scaling",
                figure(lambda: scaling_plot(report, colors), scaling_caption(report)),
            ),
            section("Trials", "trials", trial_table(report)),
            *interpreters_section(report),
            section(
                "Latency per configuration",
                "latency",
                figure(
                    lambda: latency_plot(report, colors),
                    "Median task latency (marker) and p99 (top of the bar) at each measured "
                    "size; lines join only sizes measured next to each other.",
                ),
            ),
            section(
                "Memory per configuration",
                "memory",
                figure(
                    lambda: memory_plot(report, colors),
                    "Peak resident memory of the trial's processes together (circles) and of "
                    "the largest worker process (triangles, dashed) at each measured size.",
                ),
            ),
            section("Native threads", "native", native_threads(report)),
            section("Locks", "locks", locks(report)),
            section("Hot functions", "hot", hot_functions(report)),
            section("Profiles", "profiles", profiles(report)),
            section("Run details", "details", run_details(report)),
        ]
        title = f"tunekit report: {report.target}"
        return document(title, "\n".join(sections))


def interpreters_section(report: Report) -> list[str]:
    """``--python``'s comparison, after the trials it re-measured; none without it."""
    if not report.interpreters:
        return []
    return [section("Interpreters compared", "interpreters", interpreters_table(report))]


@hookimpl
def tunekit_register_reporters(register: Callable[[Reporter], None]) -> None:
    """Register the HTML reporter."""
    register(HtmlReporter())
