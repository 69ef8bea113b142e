"""The plots: matplotlib figures, drawn by its SVG backend in this process and inlined.

matplotlib is imported only when a plot is drawn; figures are ``matplotlib.figure.Figure``
objects (no pyplot state), and each backend keeps one color in every plot.
"""

from __future__ import annotations

import io
import itertools
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
    return [t for t in report.trials if t.status == "ok" and t.goodput]


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
    if len(ticks) <= 2:  # room for the offset markers on either side
        ax.set_xlim(ticks[0] / 1.6, ticks[-1] * 1.6)
    ax.set_xlabel("workers (log scale)")


#: When this few pool sizes were measured, each backend's markers are shifted sideways (a
#: share of a doubling per backend) so that backends measured at one size do not hide each
#: other in one column; the tick still names the size.
FEW_SIZES = 2
OFFSET_STEP = 0.12


class Series:
    """How every plot draws a backend: a marker at each measured size, a line only between
    sizes that are neighbours among all the sizes the report measured (never across a size
    that was not measured for this backend), and the same color and offset in every plot."""

    def __init__(self, report: Report, colors: dict[str, str]) -> None:
        self.sizes = sorted({t.workers for t in _ok(report)})
        self.colors = colors
        names = [name for name in colors if _scales(report, name)]
        few = len(self.sizes) <= FEW_SIZES and len(names) > 1
        middle = (len(names) - 1) / 2
        self.offset = {
            name: 2 ** ((i - middle) * OFFSET_STEP) if few else 1.0 for i, name in enumerate(names)
        }

    def draw(
        self,
        ax: Axes,
        name: str,
        group: list[Trial],
        ys: list[float],
        *,
        label: str,
        yerr: list[list[float]] | None = None,
        marker: str = "o",
        linestyle: str = "-",
    ) -> None:
        """Markers (with error bars if given) and the lines between measured neighbours."""
        color, shift = self.colors[name], self.offset.get(name, 1.0)
        xs = [t.workers * shift for t in group]
        ax.errorbar(
            xs, ys, yerr=yerr, fmt=marker, color=color, capsize=3, markersize=5, label=label
        )
        points = list(zip(group, xs, ys, strict=True))
        for (a, xa, ya), (b, xb, yb) in itertools.pairwise(points):
            if not any(a.workers < size < b.workers for size in self.sizes):
                ax.plot([xa, xb], [ya, yb], linestyle=linestyle, color=color, linewidth=1.2)


def scaling_plot(report: Report, colors: dict[str, str]) -> Figure | str:
    """Goodput against workers, the good fits and the recommended point; or why not."""
    trials = _ok(report)
    if not trials:
        return "no configuration finished with a throughput"
    fig, ax = _new_figure(8.0, 4.6)
    series = Series(report, colors)
    drawn = drawn_fits(report)
    for name, group in _by_backend(trials).items():
        ys = [t.goodput or 0.0 for t in group]
        low = [y - min(t.goodput_values or [y]) for t, y in zip(group, ys, strict=True)]
        high = [max(t.goodput_values or [y]) - y for t, y in zip(group, ys, strict=True)]
        if len(group) == 1 and not _scales(report, name):
            ax.axhline(ys[0], color=colors[name], linestyle="--", linewidth=1.0)
            series.draw(ax, name, group, ys, yerr=[low, high], label=f"{name} (x1, dashed)")
            continue
        series.draw(ax, name, group, ys, yerr=[low, high], label=name)
        curve = _fit_curve(drawn.get(name), max(series.sizes))
        if curve:
            cx, cy = zip(*curve, strict=True)
            ax.plot(cx, cy, linestyle=":", color=colors[name], linewidth=1.2, label=f"{name} fit")
    knee = _recommended(report)
    if knee is not None:
        x = knee.workers * series.offset.get(knee.backend, 1.0)
        ax.plot(
            [x],
            [knee.goodput or 0.0],
            marker="*",
            markersize=16,
            color="black",
            linestyle="none",
            label=f"recommended: {knee.key}",
            zorder=5,
        )
    _log2_workers_axis(ax, series.sizes)
    ax.set_ylabel("calls that succeeded per second")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


def _recommended(report: Report) -> Trial | None:
    rec = report.recommendation
    return next(
        (t for t in _ok(report) if t.backend == rec.model and t.workers == rec.pool_size), None
    )


def drawn_fits(report: Report) -> dict[str, dict[str, Any]]:
    """The fits the scaling plot draws: fitted, not poor (residuals within the noise), of a
    backend the plot shows."""
    shown = {t.backend for t in _ok(report)}
    return {
        name: fit
        for name, fit in fits(report).items()
        if name in shown
        and fit.get("fitted", True)
        and not fit.get("poor", False)
        and _fit_curve(fit, 2)
    }


def scaling_caption(report: Report) -> str:
    """What the scaling plot shows, naming only what it draws."""
    parts = [
        "Markers: measured sizes (bars: the spread of the values); lines join only sizes "
        "measured next to each other"
    ]
    if len({t.workers for t in _ok(report)}) <= FEW_SIZES:
        parts.append("markers of one size are shifted sideways so that none hides another")
    drawn = drawn_fits(report)
    if drawn:
        parts.append(f"dotted: the scaling law fitted to {', '.join(drawn)}")
    if _recommended(report) is not None:
        parts.append("the star: the recommended configuration")
    return "; ".join(parts) + "."


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
    sigma, kappa = float(fit.get("sigma") or 0.0), float(fit.get("kappa") or 0.0)
    points = [1.0 + i * (max_workers - 1.0) / 60 for i in range(61)] if max_workers > 1 else [1.0]
    return [(n, float(lam) * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))) for n in points]


def latency_plot(report: Report, colors: dict[str, str]) -> Figure | str:
    """Median task latency against workers, a bar up to p99; or why not."""
    trials = [t for t in _ok(report) if t.latency_s is not None]
    if not trials:
        return "no configuration measured task latency"
    from matplotlib.ticker import FuncFormatter

    fig, ax = _new_figure(8.0, 4.0)
    series = Series(report, colors)
    for name, group in _by_backend(trials).items():
        p50 = [t.latency_s.p50 for t in group if t.latency_s]
        p99 = [t.latency_s.p99 for t in group if t.latency_s]
        up = [high - mid for mid, high in zip(p50, p99, strict=True)]
        series.draw(ax, name, group, p50, yerr=[[0.0] * len(p50), up], label=name)
    _log2_workers_axis(ax, series.sizes)
    ax.set_yscale("log")
    seconds = FuncFormatter(lambda value, _: format_seconds(value) if value > 0 else "")
    ax.yaxis.set_major_formatter(seconds)
    ax.yaxis.set_minor_formatter(seconds)
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_ylabel("task latency: p50 (marker) to p99 (bar)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


def memory_plot(report: Report, colors: dict[str, str]) -> Figure | str:
    """Peak resident memory against workers; or why not."""
    trials = [t for t in _ok(report) if t.peak_rss_bytes]
    if not trials:
        return "no configuration measured memory"
    fig, ax = _new_figure(8.0, 4.0)
    series = Series(report, colors)
    for name, group in _by_backend(trials).items():
        series.draw(ax, name, group, [(t.peak_rss_bytes or 0) / MIB for t in group], label=name)
        workers = [t for t in group if t.worker_peak_rss_bytes]
        if workers:
            series.draw(
                ax,
                name,
                workers,
                [(t.worker_peak_rss_bytes or 0) / MIB for t in workers],
                label=f"{name} (largest worker process)",
                marker="^",
                linestyle="--",
            )
    _log2_workers_axis(ax, series.sizes)
    ax.set_ylabel("peak RSS (MiB)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig
