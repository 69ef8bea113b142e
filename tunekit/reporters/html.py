"""The HTML report: one self-contained file with inline SVG plots, no scripts, no network.

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
"""

from __future__ import annotations

import dataclasses
import html
import io
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunekit.hookspecs import hookimpl
from tunekit.units import format_bytes, format_rate, format_seconds

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from tunekit.models import Report, Trial
    from tunekit.reporters import Reporter

#: One color per backend, the same in every plot (matplotlib's tab10, in a fixed order).
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
MIB = 2**20


class HtmlReporter:
    """A single-file HTML page with the scaling curves, latency, memory and tables."""

    name = "html"
    file_extension = ".html"
    description = "one self-contained HTML file with SVG plots"

    def render(self, report: Report) -> str:
        """The whole page as text."""
        colors = _colors(report.trials)
        sections = [
            _header(report),
            _recommendation(report),
            _section(
                "Scaling",
                "scaling",
                _figure(lambda: _scaling_plot(report, colors), "Throughput against workers")
                + _fit_note(report),
            ),
            _section(
                "Latency per configuration",
                "latency",
                _figure(lambda: _latency_plot(report, colors), "Task latency p50, p95, p99"),
            ),
            _section(
                "Memory per model",
                "memory",
                _figure(lambda: _memory_plot(report, colors), "Peak resident memory"),
            ),
            _section("Trials", "trials", _trial_table(report)),
            _section("Locks", "locks", _locks(report)),
            _section("Hot functions", "hot", _hot_functions(report)),
            _section("Profiles", "profiles", _profiles(report)),
        ]
        title = f"tunekit report: {report.target}"
        return _PAGE.format(title=_e(title), style=_STYLE, body="\n".join(sections))


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _section(title: str, anchor: str, body: str) -> str:
    return f'<section id="{anchor}">\n<h2>{_e(title)}</h2>\n{body}\n</section>'


def _not_measured(what: str) -> str:
    return f'<p class="not-measured">Not measured: {_e(what)}</p>'


def _colors(trials: Iterable[Trial]) -> dict[str, str]:
    names = dict.fromkeys(t.backend for t in trials)
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def _header(report: Report) -> str:
    machine, workload = report.machine, report.workload
    facts = [
        ("target", report.target),
        ("machine", f"{machine.cpus} CPUs, Python {machine.python}, {machine.platform}"),
        ("start method", machine.start_method),
    ]
    if workload.task_wall_s is not None:
        cpu = workload.task_cpu_s or 0.0
        facts.append(
            (
                "one call",
                f"{format_seconds(workload.task_wall_s)} wall, {format_seconds(cpu)} CPU "
                f"({'coroutine' if workload.is_coroutine else 'function'})",
            )
        )
    kind = getattr(workload, "kind", None)
    if kind:
        reason = getattr(workload, "kind_reason", None)
        facts.append(("kind", f"{kind}: {reason}" if reason else kind))
    if report.elapsed_s is not None and report.budget_s is not None:
        facts.append(("analysis", f"{report.elapsed_s:.1f} s of a {report.budget_s:g} s budget"))
    facts.append(("tunekit", report.tunekit_version or "?"))
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    warning = ""
    if not report.complete or report.interrupted:
        warning = f'<p class="warning">Partial report: interrupted by {_e(report.interrupted)}.</p>'
    notes = "".join(f'<p class="note">note: {_e(n)}</p>' for n in report.notes)
    return (
        f'<header>\n<h1>tunekit report</h1>\n<table class="facts">{rows}</table>\n'
        f"{warning}{notes}\n</header>"
    )


def _recommendation(report: Report) -> str:
    rec = report.recommendation
    if rec.model is None:
        head = "No recommendation"
    else:
        workers = f"{rec.pool_size} worker{'s' if rec.pool_size != 1 else ''}"
        head = f"Recommendation: {rec.model} with {workers}"
        if rec.throughput is not None:
            head += f" — {format_rate(rec.throughput)} tasks/s"
        if rec.speedup is not None:
            head += f", {rec.speedup:.2f}x sequential"
    reasons = "".join(f"<li>{_e(r)}</li>" for r in rec.reasons)
    return (
        f'<section id="recommendation" class="recommendation">\n<h2>{_e(head)}</h2>\n'
        f"<ul>{reasons}</ul>\n</section>"
    )


def _figure(draw: Callable[[], Figure | str], caption: str) -> str:
    """Inline SVG of the figure ``draw`` makes, or its note if it returns text."""
    drawn = draw()
    if isinstance(drawn, str):
        return _not_measured(drawn)
    return (
        f'<figure class="plot">\n{_svg(drawn, caption)}\n'
        f"<figcaption>{_e(caption)}</figcaption>\n</figure>"
    )


def _svg(fig: Figure, label: str) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog; ids unique in the page)."""
    import matplotlib

    buffer = io.StringIO()
    # matplotlib derives element ids from the salt: each figure of a page needs its own.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": label}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    return text.replace("<svg ", f'<svg role="img" aria-label="{_e(label)}" ', 1)


def _new_figure(width: float, height: float) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    ax.grid(True, which="major", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _ok(report: Report) -> list[Trial]:
    return [t for t in report.trials if t.status == "ok" and t.throughput]


def _by_backend(trials: Iterable[Trial]) -> dict[str, list[Trial]]:
    groups: dict[str, list[Trial]] = {}
    for trial in trials:
        groups.setdefault(trial.backend, []).append(trial)
    return {name: sorted(group, key=lambda t: t.workers) for name, group in groups.items()}


def _log2_workers_axis(ax: Axes, workers: Iterable[int]) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    ticks = sorted(set(workers))
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([str(t) for t in ticks])
    if len(ticks) == 1:
        ax.set_xlim(ticks[0] / 1.5, ticks[0] * 1.5)
    ax.set_xlabel("workers (log scale)")


def _scaling_plot(report: Report, colors: dict[str, str]) -> Figure | str:
    trials = _ok(report)
    if not trials:
        return "no configuration finished with a throughput"
    fig, ax = _new_figure(8.0, 4.6)
    groups = _by_backend(trials)
    all_workers = [t.workers for t in trials]
    fits = _fits(report)
    for name, group in groups.items():
        xs = [t.workers for t in group]
        ys = [t.throughput or 0.0 for t in group]
        low = [y - min(t.throughput_values or [y]) for t, y in zip(group, ys, strict=True)]
        high = [max(t.throughput_values or [y]) - y for t, y in zip(group, ys, strict=True)]
        color = colors[name]
        if len(group) == 1 and not _scales(report, name):
            ax.axhline(ys[0], color=color, linestyle="--", linewidth=1.0, label=f"{name} (x1)")
            ax.errorbar(xs, ys, yerr=[low, high], fmt="o", color=color, capsize=3)
            continue
        ax.errorbar(
            xs, ys, yerr=[low, high], fmt="-o", color=color, capsize=3, markersize=4, label=name
        )
        curve = _fit_curve(fits.get(name), max(all_workers))
        if curve:
            cx, cy = zip(*curve, strict=True)
            ax.plot(cx, cy, linestyle=":", color=color, linewidth=1.2, label=f"{name} fit")
    rec = report.recommendation
    knee = next((t for t in trials if t.backend == rec.model and t.workers == rec.pool_size), None)
    if knee is not None and knee.throughput:
        ax.plot(
            [knee.workers],
            [knee.throughput],
            marker="*",
            markersize=16,
            color="black",
            linestyle="none",
            label=f"recommended: {knee.backend} x{knee.workers}",
            zorder=5,
        )
    _log2_workers_axis(ax, all_workers)
    ax.set_ylabel("throughput (tasks/s)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


def _scales(report: Report, backend: str) -> bool:
    return any(t.backend == backend and t.workers > 1 for t in report.trials)


def _fits(report: Report) -> dict[str, dict[str, Any]]:
    fits = getattr(report, "fits", None)
    if isinstance(fits, dict):
        return {str(k): _as_dict(v) for k, v in fits.items() if v is not None}
    return {}


def _as_dict(value: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return dict(value) if isinstance(value, dict) else {}


def _fit_curve(fit: dict[str, Any] | None, max_workers: int) -> list[tuple[float, float]]:
    """Points of the fitted model: a given curve, or the Universal Scalability Law."""
    if not fit:
        return []
    if fit.get("curve"):
        return [(float(x), float(y)) for x, y in fit["curve"]]
    lam = fit.get("lambda", fit.get("lambda_"))
    if lam is None:
        return []
    sigma, kappa = float(fit.get("sigma", 0.0)), float(fit.get("kappa", 0.0))
    points = [1.0 + i * (max_workers - 1.0) / 60 for i in range(61)] if max_workers > 1 else [1.0]
    return [(n, float(lam) * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))) for n in points]


def _fit_note(report: Report) -> str:
    if _fits(report):
        return (
            '<p class="note">Dotted lines: the fitted scaling model; the star marks the '
            "recommended pool size (the knee).</p>"
        )
    return _not_measured(
        "no scaling-model fit in this report; the star marks the recommended pool size"
    )


def _latency_plot(report: Report, colors: dict[str, str]) -> Figure | str:
    trials = [t for t in report.trials if t.status == "ok" and t.latency_s is not None]
    if not trials:
        return "no configuration measured task latency"
    order = {name: i for i, name in enumerate(colors)}
    trials.sort(key=lambda t: (order[t.backend], t.workers), reverse=True)
    fig, ax = _new_figure(8.0, 1.0 + 0.28 * len(trials))
    for y, trial in enumerate(trials):
        lat = trial.latency_s
        assert lat is not None
        color = colors[trial.backend]
        ax.plot([lat.p50, lat.p99], [y, y], color=color, linewidth=1.5)
        ax.plot([lat.p50], [y], marker="o", color=color, linestyle="none")
        ax.plot([lat.p95], [y], marker="|", markersize=10, color=color, linestyle="none")
        ax.plot([lat.p99], [y], marker="s", markersize=4, color=color, linestyle="none")
    from matplotlib.ticker import FuncFormatter

    ax.set_yticks(range(len(trials)), [t.key for t in trials])
    ax.set_xscale("log")
    seconds = FuncFormatter(lambda value, _: format_seconds(value) if value > 0 else "")
    ax.xaxis.set_major_formatter(seconds)
    lows = [t.latency_s.p50 for t in trials if t.latency_s]
    highs = [t.latency_s.p99 for t in trials if t.latency_s]
    if min(lows) > 0 and max(highs) / min(lows) < 30:  # too few decades for major labels
        ax.xaxis.set_minor_formatter(seconds)
        ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set_xlabel("task latency (log scale):  ● p50   | p95   ■ p99")
    return fig


def _memory_plot(report: Report, colors: dict[str, str]) -> Figure | str:
    trials = [t for t in report.trials if t.status == "ok" and t.peak_rss_bytes]
    if not trials:
        return "no configuration measured memory"
    fig, ax = _new_figure(8.0, 4.0)
    for name, group in _by_backend(trials).items():
        xs = [t.workers for t in group]
        ax.plot(
            xs,
            [(t.peak_rss_bytes or 0) / MIB for t in group],
            "-o",
            color=colors[name],
            markersize=4,
            label=f"{name}",
        )
        workers = [(t.workers, t.worker_peak_rss_bytes) for t in group if t.worker_peak_rss_bytes]
        if workers:
            ax.plot(
                [w for w, _ in workers],
                [(b or 0) / MIB for _, b in workers],
                "--^",
                color=colors[name],
                markersize=4,
                label=f"{name} (largest worker process)",
            )
    _log2_workers_axis(ax, [t.workers for t in trials])
    ax.set_ylabel("peak RSS (MiB)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


def _trial_table(report: Report) -> str:
    head = (
        "<tr><th>backend</th><th>workers</th><th>status</th><th>tasks/s</th><th>±</th>"
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
            format_rate(t.throughput) if t.throughput else "-",
            f"{t.throughput_spread:.0%}" if t.throughput_spread is not None else "-",
            format_seconds(lat.p50) if lat else "-",
            format_seconds(lat.p95) if lat else "-",
            format_seconds(lat.p99) if lat else "-",
            f"{t.cpu_s / t.wall_s:.2f}" if t.cpu_s is not None and t.wall_s else "-",
            format_bytes(t.peak_rss_bytes) if t.peak_rss_bytes else "-",
            format_seconds(t.startup_s) if t.startup_s is not None else "-",
            str(t.errors),
            t.reason or t.first_error or "",
        ]
        css = "" if t.status == "ok" else f' class="status-{_e(t.status)}"'
        text_columns = (0, 2, len(cells) - 1)  # backend, status, reason
        rows.append(
            f"<tr{css}>"
            + "".join(
                f'<td class="text">{_e(c)}</td>' if i in text_columns else f"<td>{_e(c)}</td>"
                for i, c in enumerate(cells)
            )
            + "</tr>"
        )
    return f'<table class="data">\n{head}\n' + "\n".join(rows) + "\n</table>"


def _records_table(records: list[dict[str, Any]]) -> str:
    keys = list(dict.fromkeys(k for record in records for k in record))
    head = "".join(f"<th>{_e(k)}</th>" for k in keys)
    rows = [
        "<tr>" + "".join(f"<td>{_e(_cell(record.get(k), k))}</td>" for k in keys) + "</tr>"
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
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _locks(report: Report) -> str:
    locks = [_as_dict(lock) for lock in report.recommendation.locks]
    if not locks:
        return _not_measured("no lock measurements in this report")
    return _records_table(locks)


def _hot_functions(report: Report) -> str:
    profiles = getattr(report, "profiles", None)
    hot = getattr(profiles, "hot_functions", None) or getattr(report, "hot_functions", None)
    allocations = getattr(profiles, "top_allocations", None)
    parts = []
    if hot:
        parts.append("<h3>CPU (pyinstrument)</h3>\n" + _records_table([_as_dict(h) for h in hot]))
    else:
        parts.append(_not_measured("no profile of hot functions in this report"))
    if allocations:
        parts.append(
            "<h3>Allocations (memray)</h3>\n" + _records_table([_as_dict(a) for a in allocations])
        )
    return "\n".join(parts)


def _profiles(report: Report) -> str:
    links = list(_profile_links(getattr(report, "profiles", None)))
    if not links:
        return _not_measured("no pyinstrument or memray profiles were saved with this report")
    items = "".join(
        f'<li><a href="{_e(_href(path))}">{_e(label)}: {_e(path)}</a>{_e(extra)}</li>'
        for label, path, extra in links
    )
    return f'<ul class="profiles">{items}</ul>'


#: Profile files of ``report.profiles``: (attribute, label, attribute of the overhead factor).
_PROFILE_FILES = (
    ("cpu_html", "pyinstrument CPU profile", "pyinstrument_overhead"),
    ("cpu_threads_html", "pyinstrument CPU profile, threads", "pyinstrument_overhead"),
    ("memory_html", "memray memory flame graph", "memray_overhead"),
)


def _profile_links(profiles: Any) -> Iterable[tuple[str, str, str]]:
    """``(label, path, remark)`` per saved profile file."""
    if not profiles:
        return
    if isinstance(profiles, dict | list | tuple):  # a plain mapping or list of paths
        entries = profiles.items() if isinstance(profiles, dict) else enumerate(profiles)
        for key, entry in entries:
            value = _as_dict(entry) if not isinstance(entry, str | Path) else {"path": entry}
            if value.get("path"):
                label = value.get("label") or value.get("kind") or str(key)
                yield str(label), str(value["path"]), ""
        return
    for attribute, label, overhead_attribute in _PROFILE_FILES:
        path = getattr(profiles, attribute, None)
        if path:
            overhead = getattr(profiles, overhead_attribute, None)
            remark = f" (profiler overhead {overhead:.1f}x)" if overhead else ""
            yield label, str(path), remark


def _href(path: str) -> str:
    if re.match(r"^[a-z][a-z0-9+.-]*://", path):
        return path
    return Path(path).as_uri() if Path(path).is_absolute() else path


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: 0.5rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
table { border-collapse: collapse; font-size: 0.85rem; }
table.facts th { text-align: left; padding-right: 1rem; color: #555; font-weight: normal; }
table.data th, table.data td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; }
table.data td { text-align: right; font-variant-numeric: tabular-nums; }
table.data td.text, table.records td { text-align: left; }
table.data th { background: #f4f4f4; }
tr.status-failed td, tr.status-timeout td { background: #fdecea; }
tr.status-skipped td { color: #777; }
.recommendation { background: #eef7ee; border: 1px solid #b5d8b5; border-radius: 6px;
                  padding: 0.2rem 1rem; margin: 1rem 0; }
.recommendation h2 { border: none; }
.not-measured { color: #777; font-style: italic; }
.warning { color: #8a5300; font-weight: bold; }
figure.plot { margin: 0; }
figure.plot svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.85rem; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
{body}
</body>
</html>
"""


@hookimpl
def tunekit_register_reporters(register: Callable[[Reporter], None]) -> None:
    """Register the HTML reporter."""
    register(HtmlReporter())
