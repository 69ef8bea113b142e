"""The snippet request names the user's function as the snippet imports it, and each built-in
backend answers only for its own model (its code is run in tests/integration/test_snippets.py)."""

from __future__ import annotations

import pytest

from tunekit.plugins import get_plugin_manager
from tunekit.snippets import SnippetRequest, plural


def test_module_target_is_imported_by_name() -> None:
    """GIVEN 'pkg.mod:func' THEN the snippet imports func from pkg.mod."""
    request = SnippetRequest("thread", "pkg.mod:func", 8, False)
    assert request.function == "func"
    assert request.import_lines() == "from pkg.mod import func"


def test_file_target_is_imported_from_its_stem() -> None:
    """GIVEN 'jobs/work.py:Cls.run' THEN it imports Cls from work and names Cls.run."""
    request = SnippetRequest("thread", "jobs/work.py:Cls.run", 8, False)
    assert request.function == "run"
    assert request.import_lines() == (
        "from work import Cls  # work.py, in jobs/ (on sys.path)\n\nrun = Cls.run"
    )


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        ("thread", "ThreadPoolExecutor(max_workers=8)"),
        ("process", "chunksize=40"),
        ("asyncio", "asyncio.Semaphore(limit)"),
        ("tornado", "Semaphore(limit)"),
        ("twisted", "DeferredSemaphore(limit)"),
        ("sequential", "return [func(*args) for args in tasks]"),
    ],
)
def test_each_built_in_model_has_its_snippet(model: str, needle: str) -> None:
    """GIVEN a recommendation of a built-in model WHEN the hook is asked THEN its backend
    answers with code that has the pool size (and chunksize) in it and compiles."""
    coroutine = model in ("asyncio", "tornado", "twisted")
    request = SnippetRequest(model, "pkg.mod:func", 8, coroutine, chunksize=40)
    code = get_plugin_manager().hook.tunekit_snippet(request=request)
    assert needle in code
    assert "limit=8" in code or "max_workers=8" in code or model == "sequential"
    compile(code, model, "exec")


def test_unknown_model_has_no_snippet() -> None:
    """GIVEN a model no plugin registered THEN there is no snippet."""
    request = SnippetRequest("nope", "pkg.mod:func", 2, False)
    assert get_plugin_manager(disabled=["dask"]).hook.tunekit_snippet(request=request) is None


def test_plural() -> None:
    assert (plural(1, "process"), plural(2, "process"), plural(3, "thread")) == (
        "1 process",
        "2 processes",
        "3 threads",
    )
