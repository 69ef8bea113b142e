"""Where the source defines a name tunekit cannot reach: the main guard, or inside a function."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunekit.definitions import unreachable_hint

SOURCE = """\
import sys


def outer():
    def inner():
        pass

    class Local:
        pass

    return inner


class Box:
    def method(self):
        pass


if sys.platform:
    def conditional():
        pass

if "__main__" == __name__:
    def reversed_guard():
        pass
else:
    def imported_branch():
        pass

if __name__ == "__main__":
    for _ in range(1):
        assigned = lambda: None
"""


@pytest.mark.parametrize(
    ("name", "inside", "expected"),
    [
        ("reversed_guard", None, "'reversed_guard' is defined under `if __name__"),
        ("assigned", None, "'assigned' is defined under `if __name__"),
        ("inner", None, "'inner' is a nested function (a closure), outer.<locals>.inner"),
        ("inner", "outer", "'inner' is a nested function (a closure), outer.<locals>.inner"),
        ("Local", None, "'Local' is a nested function (a closure), outer.<locals>.Local"),
        ("inner", "Box.method", None),  # looked up in another function than its own
        ("imported_branch", None, None),  # the else of the guard runs on import
        ("conditional", None, None),  # defined at module level under another condition
        ("method", None, None),  # a method of a module-level class is reachable as Box.method
        ("nowhere", None, None),
    ],
)
def test_the_hint_names_where_the_source_defines_it(
    tmp_path: Path, name: str, inside: str | None, expected: str | None
) -> None:
    # GIVEN a source file WHEN a name is missing from its module (or from a function in it)
    path = tmp_path / "job.py"
    path.write_text(SOURCE)
    hint = unreachable_hint(str(path), name, inside)
    # THEN the hint says why a worker cannot reach it, or there is none
    if expected is None:
        assert hint is None
    else:
        assert hint is not None and hint.startswith(expected)


def test_no_hint_without_a_readable_python_source(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def (:\n")
    assert unreachable_hint(str(broken), "f") is None
    assert unreachable_hint(str(tmp_path / "missing.py"), "f") is None
    assert unreachable_hint(None, "f") is None
