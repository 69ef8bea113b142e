"""The saved profiles show the user's code: real pyinstrument and memray runs, whose HTML files
start at the target, hold no frame of tunekit's, and (memray) open without a network."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tunekit
from tunekit.engine import AnalysisConfig, run_analysis
from tunekit.models import Report

from ..conftest import target

#: tunekit's own files; the docs' example targets (tunekit/examples.py) are user code.
PACKAGE = str(Path(tunekit.__file__).parent)


def analyze(func: str, probe: str, profile_dir: Path) -> Report:
    return run_analysis(
        AnalysisConfig(
            target=target(func),
            backends=["sequential"],
            probes=[probe],
            budget=8,
            profile_dir=str(profile_dir),
        )
    )


def embedded(page: str, name: str) -> Any:
    """The JSON a saved profile page assigns to ``const name``."""
    match = re.search(rf"const {name} = (\{{.*?\}});\s*\n", page, re.S)
    assert match is not None, f"no {name} in the page"
    return json.loads(match[1])


def pyinstrument_frames(frame: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(function, file) of every frame of pyinstrument's frame tree."""
    function, path, *_ = [*frame["identifier"].split("\x00"), "", ""]
    yield function, path
    for child in frame["children"]:
        yield from pyinstrument_frames(child)


def test_the_saved_cpu_profiles_start_at_the_target(tmp_path: Path) -> None:
    # GIVEN a real pyinstrument probe run on a CPU-bound target
    report = analyze("spin", "pyinstrument", tmp_path)
    assert [p.status for p in report.probes] == ["ok"], report.probes
    assert report.profiles.cpu_html and report.profiles.cpu_threads_html
    # WHEN its saved pages are read
    sequential = embedded(Path(report.profiles.cpu_html).read_text(), "sessionData")
    threaded = embedded(Path(report.profiles.cpu_threads_html).read_text(), "sessionData")
    # THEN the sequential profile's root is the target, and neither holds a tunekit frame
    root = sequential["frame_tree"]
    assert root["identifier"].split("\x00")[0] == "spin"
    threads = threaded["frame_tree"]["children"]
    assert threads, threaded["frame_tree"]
    for thread in threads:  # under each thread's frame, the target comes first
        assert {c["identifier"].split("\x00")[0] for c in thread["children"]} == {"spin"}
    for tree in (root, threaded["frame_tree"]):
        tunekit_frames = [f for f in pyinstrument_frames(tree) if f[1].startswith(PACKAGE)]
        assert tunekit_frames == []
    assert sequential["session"]["target_description"].startswith(target("spin"))


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="memray runs on POSIX only")
def test_the_memory_flame_graph_starts_at_the_target_and_works_offline(tmp_path: Path) -> None:
    # GIVEN a real memray probe run on a target that allocates
    report = analyze("allocate_lists", "memray", tmp_path)
    assert [p.status for p in report.probes] == ["ok"], report.probes
    assert report.profiles.memory_html is not None
    # WHEN its saved flame graph is read
    page = Path(report.profiles.memory_html).read_text()
    # THEN it loads no script from the network (memray's assets are inlined)
    assert report.profiles.memory_html_offline is True
    assert re.findall(r"<script[^>]+src=\"https?://", page) == []
    assert re.findall(r"<link[^>]+href=\"https?://[^\"]+\.css", page) == []
    # AND the graph's only top frame is the target, with no tunekit frame anywhere
    data = embedded(page, "packed_data")
    nodes, strings = data["nodes"], data["strings"]
    top = [strings[nodes["function"][i]] for i in nodes["children"][0]]
    assert set(top) == {"allocate_lists"}  # one node per line of it that allocated
    files = {strings[f] for f in nodes["filename"]}
    assert not [f for f in files if f.startswith(PACKAGE)]
