"""Every block of the docs marked ``<!-- example: NAME -->`` runs as written, in a fresh folder.

The blocks are collected from ``docs/*.md`` and from README.md (if it has any), so an example
is tested on the page where a reader meets it."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
EXAMPLE = re.compile(
    r"<!-- example: (?P<name>\w+)(?: file=(?P<file>\S+))? -->\n```\w+\n(?P<code>.*?)```",
    re.DOTALL,
)

pytest_plugins = ["pytester"]


def pages() -> list[Path]:
    """The Markdown files examples may live in: the docs site's pages and the README."""
    return [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


def examples() -> dict[str, tuple[str | None, str]]:
    """``name -> (file name or None, code)`` for every marked block of the docs."""
    found: dict[str, tuple[str | None, str]] = {}
    where: dict[str, str] = {}
    for page in pages():
        for m in EXAMPLE.finditer(page.read_text()):
            name = m["name"]
            assert name not in found, f"example {name!r} in both {where[name]} and {page.name}"
            found[name] = (m["file"], m["code"])
            where[name] = page.name
    return found


def write_example(name: str, folder: Path) -> Path:
    file_name, code = examples()[name]
    assert file_name is not None
    path = folder / file_name
    path.write_text(code)
    return path


def run_commands(name: str, folder: Path) -> list[subprocess.CompletedProcess[str]]:
    """Each line of a shell example, ``tunekit`` being this interpreter's tunekit."""
    results = []
    for line in examples()[name][1].splitlines():
        argv = shlex.split(line)
        assert argv[0] == "tunekit"
        results.append(
            subprocess.run(
                [sys.executable, "-m", "tunekit", *argv[1:]],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        )
    return results


def test_every_section_has_its_example() -> None:
    assert sorted(examples()) == ["api", "compare", "decorator", "html", "pytest"]


def test_decorator_example(tmp_path: Path) -> None:
    script = write_example("decorator", tmp_path)
    proc = subprocess.run(
        [sys.executable, script.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    number = r"[0-9.]+ (?:ns|µs|ms|s)"
    assert proc.stdout == ""
    assert re.fullmatch(
        rf"tunekit profile summary \(1 function, pid \d+\):\n"
        rf"  __main__:checksum: 1000 calls, 0 raised; wall {number}/call "
        # CPU time is read on the first 10 calls (``sample``) and on calls 257, 513 and 769
        rf"\(min {number}, max {number}\); CPU {number}/call \(\d+%, read on 13 of 1000\)\n"
        rf"    first call: \(b''\)\n",
        proc.stderr,
    ), proc.stderr


@pytest.mark.slow
def test_api_example(tmp_path: Path) -> None:
    script = write_example("api", tmp_path)
    proc = subprocess.run(
        [sys.executable, script.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert re.fullmatch(r"thread x\d: \d+ tasks/s\n", proc.stdout), proc.stdout
    assert (tmp_path / "report.html").read_text().count("<svg ") == 3


@pytest.mark.slow
def test_pytest_example(pytester: pytest.Pytester) -> None:
    write_example("pytest", pytester.path)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_html_example(tmp_path: Path) -> None:
    (proc,) = run_commands("html", tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.startswith("tunekit tunekit.examples:hash_buffer")
    assert "calibrating" not in proc.stdout  # no progress display into a pipe
    assert "\x1b[" not in proc.stdout
    page = (tmp_path / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg ") == 3


@pytest.mark.slow
def test_compare_example(tmp_path: Path) -> None:
    old, new, compare = run_commands("compare", tmp_path)
    assert (old.returncode, new.returncode) == (0, 0)
    # two real runs on a busy machine may or may not differ by 25 %: both outcomes are valid
    assert compare.returncode in (0, 1), compare.stderr
    lines = compare.stdout.splitlines()
    assert lines[0] == "tunekit compare tunekit.examples:cpu_bound -> tunekit.examples:cpu_bound"
    assert [line.split()[0] for line in lines[3:5]] == ["sequential", "process"]
    assert lines[5].startswith("Recommendation ")
    assert lines[6] == "No regression beyond 25 %" or re.fullmatch(
        r"\d+ regressions? beyond 25 %: .+", lines[6]
    )
