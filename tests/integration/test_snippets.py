"""The recommendation's code to paste really runs: each built-in backend's snippet (and the dask
plugin's), saved as a module beside a real target, is run in a fresh interpreter and returns the
target's results in task order."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tunekit.plugins import get_plugin_manager
from tunekit.snippets import SnippetRequest

pytestmark = pytest.mark.slow

TARGETS = textwrap.dedent(
    """
    import asyncio
    import hashlib


    def digest(n):
        return hashlib.sha256(str(n).encode()).hexdigest()[:8]


    async def adigest(n):
        await asyncio.sleep(0.001)
        return digest(n)
    """
)

DRIVER = textwrap.dedent(
    """
    import hashlib
    import snippet

    if __name__ == "__main__":
        tasks = [(n,) for n in range(40)]
        expected = [hashlib.sha256(str(n).encode()).hexdigest()[:8] for n in range(40)]
        assert snippet.run_all(tasks) == expected, "results differ"
        print("ran", len(tasks))
    """
)

BUILT_IN = ("sequential", "thread", "process", "asyncio", "tornado", "twisted")


def run_snippet(
    tmp_path: Path, model: str, coroutine: bool, target: str, inner: int | None = None
) -> str:
    """Write the snippet for ``model`` and run it on 40 tasks; its standard output."""
    request = SnippetRequest(
        model,
        target,
        3,
        coroutine,
        chunksize=5 if model == "process" else None,
        inner_threads=inner,
    )
    code = get_plugin_manager().hook.tunekit_snippet(request=request)
    assert code, f"no snippet for {model}"
    (tmp_path / "work.py").write_text(TARGETS)
    (tmp_path / "snippet.py").write_text(code)
    (tmp_path / "driver.py").write_text(DRIVER)
    done = subprocess.run(
        [sys.executable, "driver.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{model} snippet failed:\n{code}\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize("coroutine", [False, True], ids=["function", "coroutine"])
@pytest.mark.parametrize("model", BUILT_IN)
def test_built_in_snippet_runs(tmp_path: Path, model: str, coroutine: bool) -> None:
    """GIVEN the snippet of a built-in model for a real function or coroutine function
    WHEN it runs on 40 tasks in a fresh interpreter THEN it returns every result in order."""
    target = "work:adigest" if coroutine else "work:digest"
    assert run_snippet(tmp_path, model, coroutine, target).strip() == "ran 40"


@pytest.mark.parametrize("model", ["thread", "process"])
def test_a_snippet_with_native_threads_limited_runs(tmp_path: Path, model: str) -> None:
    """GIVEN a recommendation that limits the native threads to 1 WHEN its snippet runs THEN it
    applies the limit with threadpoolctl (per worker for processes) and returns every result."""
    assert run_snippet(tmp_path, model, False, "work:digest", inner=1).strip() == "ran 40"
    assert "threadpool_limits(limits=1)" in (tmp_path / "snippet.py").read_text()


def test_snippet_of_a_file_target_imports_it(tmp_path: Path) -> None:
    """GIVEN a target named by its path WHEN the thread snippet runs beside it THEN it works."""
    assert run_snippet(tmp_path, "thread", False, "some/dir/work.py:digest").strip() == "ran 40"


def test_dask_plugin_snippet_runs(tmp_path: Path) -> None:
    """GIVEN the dask plugin installed WHEN its snippet runs THEN a LocalCluster computes it."""
    pytest.importorskip("tunekit_dask")
    assert run_snippet(tmp_path, "dask", False, "work:digest").strip() == "ran 40"
