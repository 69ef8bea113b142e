"""The "Interpreters compared" lines (``--python``): each re-measured configuration under this
interpreter and every other, side by side, and what the best of each reaches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tunekit.units import format_rate

if TYPE_CHECKING:
    from tunekit.models import InterpreterRun, Report, Trial


def interpreter_lines(report: Report) -> list[str]:
    """A header, one row per configuration (calls/s under each interpreter, the ratio to this
    one), then one sentence per other interpreter; nothing without ``--python``."""
    if not report.interpreters:
        return []
    rows = comparison_rows(report)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "Interpreters compared (each backend's best pool, measured again under each, this one "
        "too, back to back)"
    ]
    for row in rows:
        lines.append(
            "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        )
    return lines + ["  " + sentence for sentence in comparison_sentences(report)]


def _baseline(report: Report) -> dict[str, Trial]:
    """This interpreter's trials to compare with: measured again beside the others when the
    report has them, else the sweep's."""
    again = next((run for run in report.interpreters if run.this), None)
    trials = again.trials if again is not None else report.trials
    return {t.key: t for t in trials if t.usable}


def _others(report: Report) -> list[InterpreterRun]:
    return [run for run in report.interpreters if not run.this]


def comparison_sentences(report: Report) -> list[str]:
    """What the best configuration reaches under each other interpreter."""
    host = _baseline(report)
    return [
        _sentence(run.version or run.python, run.trials, host, report) for run in _others(report)
    ]


def comparison_rows(report: Report) -> list[list[str]]:
    """The comparison as a table: a header row, then one row per configuration."""
    host = _baseline(report)
    others = _others(report)
    again = next((run for run in report.interpreters if run.this), None)
    keys = list(dict.fromkeys(t.key for run in report.interpreters for t in run.trials))
    here = f"{report.machine.python} (this)"
    heads = [here, *(run.version or run.python for run in others)]
    rows = [["configuration", *heads]]
    for key in keys:
        base = host.get(key)
        mine = base if again is None else next((t for t in again.trials if t.key == key), None)
        row = [key, _compared(mine, None)]
        for run in others:
            trial = next((t for t in run.trials if t.key == key), None)
            row.append(_compared(trial, base))
        rows.append(row)
    return rows


def _rate(trial: Trial | None) -> str:
    if trial is None or not trial.usable:
        return "-"
    return f"{format_rate(trial.goodput or 0.0)} calls/s"


def _compared(trial: Trial | None, base: Trial | None) -> str:
    if trial is None:
        return "-"
    if not trial.usable:
        return trial.status
    text = _rate(trial)
    if base is not None and base.goodput:
        text += f" ({(trial.goodput or 0.0) / base.goodput:.2f}x)"
    return text


def _sentence(version: str, trials: list[Trial], host: dict[str, Trial], report: Report) -> str:
    usable = [t for t in trials if t.usable]
    if not usable:
        reasons = "; ".join(f"{t.key} {t.status}: {t.reason}" for t in trials) or "none measured"
        return f"under {version} nothing was measured ({reasons})"
    best = max(usable, key=lambda t: t.goodput or 0.0)
    text = f"under {version} {best.key} reaches {format_rate(best.goodput or 0.0)} calls/s"
    base = host.get(best.key)
    if base is not None and base.goodput:
        ratio = (best.goodput or 0.0) / base.goodput
        text += f", {ratio:.2f}x what it reaches under {report.machine.python}"
    return text
