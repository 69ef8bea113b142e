"""Where a name is defined in a source file, for the error that says why a worker process cannot
find a target: defined under ``if __name__ == "__main__":``, or inside another function.

Reads the source with ``ast`` and runs nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAIN_GUARD = 'if __name__ == "__main__":'


@dataclass(frozen=True)
class Definition:
    """One place that binds ``name``: a ``def``, a ``class`` or an assignment."""

    name: str
    line: int
    #: Its qualified name, e.g. ``outer.<locals>.inner``.
    qualname: str
    #: The function it is defined in (``outer``), or None at module or class level.
    inside: str | None
    #: Within the body of ``if __name__ == "__main__":``.
    guarded: bool


def unreachable_hint(path: str | None, name: str, inside: str | None = None) -> str | None:
    """Why a worker that imports ``path`` cannot reach ``name`` and what to do, or None.

    ``inside``: the qualified name of the function ``name`` was looked up in (a spec such as
    ``file.py:outer.inner``); None: it was looked up in the module.
    """
    if not path or not path.endswith(".py"):
        return None
    try:
        source = Path(path).read_text(encoding="utf-8")
        tree = ast.parse(source, filename=path)
    except (OSError, SyntaxError, ValueError):
        return None
    found = [d for d in _definitions(tree.body, (), None, False) if d.name == name]
    where = Path(path).name
    for d in found:
        if inside is None and d.guarded and d.inside is None:
            return (
                f"{name!r} is defined under `{MAIN_GUARD}` ({where}, line {d.line}), which runs "
                "only when the file is run as a script, not when tunekit imports it in a worker "
                "process: move the definition above that `if`, to module level"
            )
    for d in found:
        if d.inside is not None and (inside is None or d.inside == inside):
            return (
                f"{name!r} is a nested function (a closure), {d.qualname}, defined inside "
                f"{d.inside!r} ({where}, line {d.line}): a worker process can only find a "
                "function by name at module level; move it there and pass what it uses from "
                f"{d.inside!r} as arguments (--args/--kwargs)"
            )
    return None


def is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"``, either way round."""
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(mains) == 1


def _definitions(
    body: list[ast.stmt], scope: tuple[str, ...], function: str | None, guarded: bool
) -> Iterator[Definition]:
    """Every binding in ``body`` and the blocks inside it, with where it is."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield Definition(
                node.name, node.lineno, ".".join((*scope, node.name)), function, guarded
            )
            if isinstance(node, ast.ClassDef):
                yield from _definitions(node.body, (*scope, node.name), function, guarded)
            else:
                qualname = ".".join((*scope, node.name))
                yield from _definitions(
                    node.body, (*scope, node.name, "<locals>"), qualname, guarded
                )
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    qualname = ".".join((*scope, target.id))
                    yield Definition(target.id, node.lineno, qualname, function, guarded)
        elif isinstance(node, ast.If):
            yield from _definitions(node.body, scope, function, guarded or is_main_guard(node.test))
            yield from _definitions(node.orelse, scope, function, guarded)
        else:
            for block in _blocks(node):
                yield from _definitions(block, scope, function, guarded)


def _blocks(node: ast.stmt) -> Iterator[list[ast.stmt]]:
    """The statement lists of a compound statement (for, while, with, try, match)."""
    for attr in ("body", "orelse", "finalbody"):
        block = getattr(node, attr, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            yield block
    for handler in getattr(node, "handlers", []):
        yield handler.body
    for case in getattr(node, "cases", []):
        yield case.body
