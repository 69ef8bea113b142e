"""The report's tables: every trial, and the records of the lock and profiler sections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunekit.reporters.html.fields import as_dict
from tunekit.reporters.html.page import escape, not_measured
from tunekit.reporters.text_interpreters import comparison_rows, comparison_sentences
from tunekit.reporters.text_table import startup_cell
from tunekit.units import format_bytes, format_rate, format_seconds

if TYPE_CHECKING:
    from tunekit.models import Report, Trial


def trial_table(report: Report) -> str:
    """One row per trial, in the order the backends were first run."""
    head = (
        "<tr><th>backend</th><th>workers</th><th>status</th>"
        '<th title="calls that succeeded per second, median">calls/s</th>'
        '<th title="spread of the values around the median">±</th>'
        "<th>p50</th><th>p95</th><th>p99</th><th>CPU/wall</th><th>peak RSS</th>"
        "<th>start-up</th><th>errors</th><th>reason</th></tr>"
    )
    rows = []
    order = {name: i for i, name in enumerate(dict.fromkeys(t.backend for t in report.trials))}
    for t in sorted(report.trials, key=lambda t: (order[t.backend], t.workers)):
        lat = t.latency_s
        cells = [
            t.backend,
            str(t.workers),
            t.status,
            format_rate(t.goodput) if t.goodput else "-",
            _spread(t),
            format_seconds(lat.p50) if lat else "-",
            format_seconds(lat.p95) if lat else "-",
            format_seconds(lat.p99) if lat else "-",
            f"{t.cpu_s / t.wall_s:.2f}" if t.cpu_s is not None and t.wall_s else "-",
            format_bytes(t.peak_rss_bytes) if t.peak_rss_bytes else "-",
            startup_cell(t),
            str(t.errors),
            t.reason or t.first_error or "",
        ]
        css = "" if t.status == "ok" else f' class="status-{escape(t.status)}"'
        text_columns = (0, 2, len(cells) - 1)  # backend, status, reason
        rows.append(
            f"<tr{css}>"
            + "".join(
                f'<td class="text">{escape(c)}</td>'
                if i in text_columns
                else f"<td>{escape(c)}</td>"
                for i, c in enumerate(cells)
            )
            + "</tr>"
        )
    return f'<table class="data">\n{head}\n' + "\n".join(rows) + "\n</table>"


def _spread(trial: Trial) -> str:
    """The spread, ``!`` when unstable, ``*N`` when measured N times (values merged)."""
    spread = trial.goodput_spread if trial.goodput_spread is not None else trial.throughput_spread
    if spread is None:
        return "-"
    marks = ("!" if trial.unstable else "") + (f"*{trial.reruns + 1}" if trial.reruns else "")
    return f"{spread:.0%}{marks}"


#: Column headers in words for the record fields of the lock and profile tables.
LABELS = {
    "self_share": "self time",
    "total_share": "total time",
    "location": "where",
    "site": "created at",
    "acquisitions": "acquired",
    "contended": "contended",
    "contended_share": "contended share",
    "wait_s": "waited",
    "wait_share": "share of time waiting",
    "wait_max_s": "longest wait",
    "hold_s": "held",
    "mean_hold_s": "mean hold",
    "hold_max_s": "longest hold",
    "hold_cpu_fraction": "CPU while held",
    "acquire_cost_share": "cost of acquiring",
}


def label(key: str) -> str:
    """A record field's header: the words for it, else its name with spaces."""
    return LABELS.get(key, key.removesuffix("_s").replace("_", " "))


def _records_table(records: list[dict[str, Any]]) -> str:
    keys = list(dict.fromkeys(k for record in records for k in record))
    head = "".join(f"<th>{escape(label(k))}</th>" for k in keys)
    rows = [
        "<tr>" + "".join(f"<td>{escape(_cell(record.get(k), k))}</td>" for k in keys) + "</tr>"
        for record in records
    ]
    return f'<table class="data records">\n<tr>{head}</tr>\n' + "\n".join(rows) + "\n</table>"


def _cell(value: Any, key: str = "") -> str:
    if value is None:
        return "-"
    if key.endswith("share") and isinstance(value, int | float):
        return f"{value:.0%}"
    if key.endswith("bytes") and isinstance(value, int):
        return format_bytes(value)
    if key.endswith("_s") and isinstance(value, int | float):
        return format_seconds(value)
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def locks(report: Report) -> str:
    """The lock measurements the recommendation carries, one row each."""
    locks = [as_dict(lock) for lock in report.recommendation.locks]
    if locks:
        return _records_table(locks)
    probe = next((p for p in report.probes if p.name == "locks"), None)
    if probe is not None and probe.status == "ok":
        return (
            '<p class="measured-none">No locks in your code: the lock probe ran and no lock, '
            "semaphore, condition or queue created by your code was acquired.</p>"
        )
    if probe is not None:
        return not_measured(f"the lock probe {probe.status}: {probe.reason}")
    return not_measured("the lock probe did not run")


def hot_functions(report: Report) -> str:
    """The profilers' hottest functions and largest allocations."""
    profiles = getattr(report, "profiles", None)
    hot = getattr(profiles, "hot_functions", None) or getattr(report, "hot_functions", None)
    allocations = getattr(profiles, "top_allocations", None)
    parts = []
    if hot:
        parts.append("<h3>CPU (pyinstrument)</h3>\n" + _records_table([as_dict(h) for h in hot]))
    else:
        parts.append(not_measured("no profile of hot functions in this report"))
    if allocations:
        parts.append(
            "<h3>Allocations (memray)</h3>\n" + _records_table([as_dict(a) for a in allocations])
        )
    return "\n".join(parts)


def interpreters_table(report: Report) -> str:
    """``--python``: each re-measured configuration under every interpreter, side by side."""
    head, *rows = comparison_rows(report)
    cells = "".join(f"<th>{escape(c)}</th>" for c in head)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    said = "".join(f"<li>{escape(s)}</li>" for s in comparison_sentences(report))
    return f'<table class="data">\n<tr>{cells}</tr>\n{body}\n</table>\n<ul>{said}</ul>'


def native_threads(report: Report) -> str:
    """The native thread pools the calls ran, and each pool measured with them limited: the
    rounds side by side, in the order measured."""
    pools = report.workload.native_pools
    if not pools:
        return (
            '<p class="measured-none">No native thread pool: after a call, threadpoolctl found '
            "no BLAS or OpenMP library loaded, so no pool can oversubscribe one.</p>"
        )
    found = ", ".join(f"{p.name} ({p.api}, {p.threads} threads per process)" for p in pools)
    records = [
        {
            "pool": c.key,
            "limited to": c.inner_threads,
            "as is, calls/s": [format_rate(v) for v in c.unlimited],
            "limited, calls/s": [format_rate(v) for v in c.limited],
            "ratio": f"{c.ratio:.2f}x" if c.ratio is not None else "-",
        }
        for c in report.inner_limits
    ]
    table = _records_table(records) if records else not_measured("no pool was compared")
    return f"<p>Native thread pools: {escape(found)}.</p>\n{table}"
