"""The plots: matplotlib figures, drawn by its SVG backend in this process and inlined.

matplotlib is imported only when a plot is drawn; figures are ``matplotlib.figure.Figure``
objects (no pyplot state), and each backend keeps one color in every plot.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from tunekit.reporters.html.fields import fits
from tunekit.reporters.html.page import escape, not_measured
from tunekit.units import format_seconds

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from tunekit.models import Report, Trial

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


def backend_colors(trials: Iterable[Trial]) -> dict[str, str]:
    """A color of ``PALETTE`` per backend, in the order the trials first name them."""
    names = dict.fromkeys(t.backend for t in trials)
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def figure(draw: Callable[[], Figure | str], caption: str) -> str:
    """Inline SVG of the figure ``draw`` makes, or its note if it returns text."""
    drawn = draw()
    if isinstance(drawn, str):
        return not_measured(drawn)
    return (
        f'<figure class="plot">\n{_svg(drawn, caption)}\n'
        f"<figcaption>{escape(caption)}</figcaption>\n</figure>"
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
    return text.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)


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


def scaling_plot(report: Report, colors: dict[str, str]) -> Figure | str:
    """Throughput against workers, with the fits and the recommended point; or why not."""
    trials = _ok(report)
    if not trials:
        return "no configuration finished with a throughput"
    fig, ax = _new_figure(8.0, 4.6)
    groups = _by_backend(trials)
    all_workers = [t.workers for t in trials]
    fitted = fits(report)
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
        curve = _fit_curve(fitted.get(name), max(all_workers))
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


def latency_plot(report: Report, colors: dict[str, str]) -> Figure | str:
    """Task latency p50 to p99 of each configuration; or why not."""
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


def memory_plot(report: Report, colors: dict[str, str]) -> Figure | str:
    """Peak resident memory against workers; or why not."""
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
