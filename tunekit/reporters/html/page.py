"""The page's text: HTML escaping, sections, the header, the recommendation, profile links,
and the page around them (its stylesheet is the package file ``style.css``)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunekit.gil import interpreter
from tunekit.reporters.html.fields import as_dict
from tunekit.runs import summary
from tunekit.units import format_rate, format_seconds

if TYPE_CHECKING:
    from tunekit.models import Report

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{style}</style>
</head>
<body>
{body}
</body>
</html>
"""


def document(title: str, body: str) -> str:
    """The whole HTML document, its stylesheet inline."""
    style = (resources.files("tunekit.reporters.html") / "style.css").read_text(encoding="utf-8")
    return _PAGE.format(title=escape(title), style=style, body=body)


def escape(value: Any) -> str:
    """Text as HTML, quotes included."""
    return html.escape(str(value), quote=True)


def section(title: str, anchor: str, body: str) -> str:
    """A ``<section>`` with its heading, linkable by ``anchor``."""
    return f'<section id="{anchor}">\n<h2>{escape(title)}</h2>\n{body}\n</section>'


def not_measured(what: str) -> str:
    """The note for a part that no measurement of this report produced."""
    return f'<p class="not-measured">Not measured: {escape(what)}</p>'


def header(report: Report) -> str:
    """The title and the one line that says what was analyzed where; a partial report says so."""
    machine = report.machine
    python = interpreter(machine.python, machine.free_threaded, machine.gil_enabled)
    line = f"{report.target} on {machine.cpus} CPUs, {python}, {machine.platform}"
    warning = ""
    if not report.complete or report.interrupted:
        warning = (
            f'<p class="warning">Partial report: interrupted by {escape(report.interrupted)}.</p>'
        )
    subtitle = f'<p class="subtitle">{escape(line)}</p>'
    return f"<header>\n<h1>tunekit report</h1>\n{subtitle}\n{warning}</header>"


def run_details(report: Report) -> str:
    """The facts of the run, and the notes on how the sweep went (collapsed)."""
    machine, workload = report.machine, report.workload
    python = interpreter(machine.python, machine.free_threaded, machine.gil_enabled)
    facts = [
        ("target", report.target),
        ("machine", f"{machine.cpus} CPUs, {python}, {machine.platform}"),
        ("start method", machine.start_method),
    ]
    if workload.task_wall_s is not None:
        cpu = workload.task_cpu_s or 0.0
        facts.append(
            (
                "one call",
                f"{format_seconds(workload.task_wall_s)} wall, {format_seconds(cpu)} CPU "
                f"({_shape(workload)})",
            )
        )
    kind = getattr(workload, "kind", None)
    if kind:
        reason = getattr(workload, "kind_reason", None)
        facts.append(("kind", f"{kind}: {reason}" if reason else kind))
    if report.elapsed_s is not None and report.budget_s is not None:
        facts.append(("analysis", f"{report.elapsed_s:.1f} s of a {report.budget_s:g} s budget"))
    run = getattr(report, "run", None)
    if run is not None:
        facts.append(("what was run", summary(run)))
    facts.append(("tunekit", report.tunekit_version or "?"))
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    collapsed = (
        f'<details class="notes"><summary>{len(report.notes)} note'
        f"{'s' if len(report.notes) != 1 else ''} on how the sweep went (why each backend "
        f"stopped)</summary>\n<ul>{notes}</ul>\n</details>"
        if report.notes
        else ""
    )
    return f'<table class="facts">{rows}</table>\n{collapsed}'


#: Reasons shown open: the recommender puts the deciding ones first; the others are collapsed.
DECIDING_REASONS = 2

#: The copy button's script, the page's only one (no network): copies the snippet's text.
_COPY_SCRIPT = (
    "<script>document.querySelectorAll('button.copy').forEach(function (b) {"
    "b.addEventListener('click', function () {"
    "navigator.clipboard.writeText(document.getElementById(b.dataset.target).textContent)"
    ".then(function () { b.textContent = 'Copied'; });});});</script>"
)


def recommendation(report: Report) -> str:
    """The answer: model, pool, goodput, speed-up, the deciding reasons and the code to paste."""
    rec = report.recommendation
    if rec.model is None:
        head = "No recommendation"
    else:
        workers = f"{rec.pool_size} worker{'s' if rec.pool_size != 1 else ''}"
        head = f"Recommendation: {rec.model} with {workers}"
        rate = rec.goodput if rec.goodput is not None else rec.throughput
        if rate is not None:
            head += f" — {format_rate(rate)} calls/s"
        if rec.speedup is not None:
            head += f", {rec.speedup:.2f}x sequential"
    shown, more = rec.reasons[:DECIDING_REASONS], rec.reasons[DECIDING_REASONS:]
    reasons = "".join(f"<li>{escape(r)}</li>" for r in shown)
    if more:
        rest = "".join(f"<li>{escape(r)}</li>" for r in more)
        reasons += (
            f'<li class="more"><details><summary>{len(more)} more '
            f"reason{'s' if len(more) != 1 else ''}</summary><ul>{rest}</ul></details></li>"
        )
    snippet = ""
    if rec.snippet:
        snippet = (
            '<div class="snippet"><p>Code to paste: <code>run_all(tasks)</code> calls it once '
            'per task (a tuple of arguments) <button class="copy" type="button" '
            'data-target="snippet-code">Copy</button></p>\n'
            f'<pre><code id="snippet-code">{escape(rec.snippet)}</code></pre></div>\n'
            + _COPY_SCRIPT
        )
    return (
        f'<section id="recommendation" class="recommendation">\n<h2>{escape(head)}</h2>\n'
        f"<ul>{reasons}</ul>\n{snippet}</section>"
    )


def profiles(report: Report) -> str:
    """Links to the saved profile files, with the profilers' overhead."""
    links = list(_profile_links(getattr(report, "profiles", None)))
    if not links:
        return not_measured("no pyinstrument or memray profiles were saved with this report")
    items = "".join(
        f'<li><a href="{escape(_href(path))}">{escape(label)}: {escape(path)}</a>'
        f"{escape(extra)}</li>"
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
            value = as_dict(entry) if not isinstance(entry, str | Path) else {"path": entry}
            if value.get("path"):
                label = value.get("label") or value.get("kind") or str(key)
                yield str(label), str(value["path"]), ""
        return
    for attribute, label, overhead_attribute in _PROFILE_FILES:
        path = getattr(profiles, attribute, None)
        if path:
            overhead = getattr(profiles, overhead_attribute, None)
            remark = f" (profiler overhead {overhead:.1f}x)" if overhead else ""
            if attribute == "memory_html":
                remark += _offline_remark(getattr(profiles, "memory_html_offline", None))
            yield label, str(path), remark


def _offline_remark(offline: bool | None) -> str:
    """Whether memray's flame graph opens without a network, and what to read if it does not."""
    if offline:
        return "; works offline (its scripts are inlined)"
    if offline is False:
        return (
            "; needs a network connection: it loads its scripts from a CDN (this memray has no "
            "offline option). Offline, read the Allocations (memray) table in this report"
        )
    return ""


def _href(path: str) -> str:
    if re.match(r"^[a-z][a-z0-9+.-]*://", path):
        return path
    return Path(path).as_uri() if Path(path).is_absolute() else path


def _shape(workload: Any) -> str:
    """What kind of callable one call ran, as the facts table says it."""
    consumes = getattr(workload, "consumes", None)
    shape = f"{consumes}, consumed to the end" if consumes else None
    shape = shape or ("coroutine" if workload.is_coroutine else "function")
    setup = getattr(workload, "setup", None)
    return f"{shape}; per-worker setup {setup}" if setup else shape
