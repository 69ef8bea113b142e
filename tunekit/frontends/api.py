"""The Python API: ``tunekit.analyze()`` on a function object or a target spec.

The engine never imports user code in this process: a function object is turned into a spec it
can be found by in a fresh interpreter ("pkg.mod:qualname", or "path/file.py:qualname" for the
main script), and per-task arguments that are not JSON cross to the children as a pickle file
read by a small generated ``--inputs`` factory module.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunekit.errors import InputError, TargetError, TunekitError
from tunekit.isolation import in_tunekit_worker

if TYPE_CHECKING:
    from tunekit.engine import ProgressCallback
    from tunekit.models import Report
    from tunekit.plugins import PluginManager


class NotFindableError(TargetError):
    """A function that a fresh interpreter cannot find by name (lambda, nested function)."""


class NestedAnalysisError(TunekitError):
    """``tunekit.analyze()`` was called while a tunekit worker was importing the target."""


def analyze(
    target: str | Callable[..., Any],
    *,
    args: Sequence[Any] | None = None,
    kwargs: Mapping[str, Any] | None = None,
    inputs: str | Callable[[], Iterable[Any]] | Iterable[Any] | None = None,
    setup: str | Callable[[], Any] | None = None,
    budget: float = 30.0,
    backends: Sequence[str] | None = None,
    max_workers: int | None = None,
    repeats: int | None = None,
    progress: ProgressCallback | None = None,
    plugins: PluginManager | None = None,
    **options: Any,
) -> Report:
    """Measure ``target`` under every selected backend and recommend one; the CLI's engine.

    ``target`` is a spec string or a function findable by name. ``args``/``kwargs`` must be
    JSON (as ``--args``/``--kwargs``); ``inputs`` is a factory (spec or named callable) or a
    list of per-task items (tuple = positional, dict = keywords, else one argument), which may
    be any picklable objects. ``setup`` is a per-worker factory (spec or named function; a
    generator function is torn down after its ``yield``) whose result every call of that
    worker gets as its first argument. ``plugins``: the plugin manager to use (default: a new
    one).
    Other ``options`` are fields of ``AnalysisConfig``.
    """
    from tunekit.engine import AnalysisConfig, run_analysis
    from tunekit.engine.config import DEFAULT_REPEATS

    if in_tunekit_worker():
        raise NestedAnalysisError(
            "tunekit.analyze() was called while a tunekit worker imported the target; guard "
            "the script's top-level code with `if __name__ == '__main__':`"
        )
    spec = target if isinstance(target, str) else target_spec(target)
    call_args = _json_checked(list(args or []), "args")
    call_kwargs = _json_checked(dict(kwargs or {}), "kwargs")
    with tempfile.TemporaryDirectory(prefix="tunekit-inputs-") as tmp:
        inputs_spec, inputs_label = _inputs_spec(inputs, Path(tmp))
        config = AnalysisConfig(
            target=spec,
            args=call_args,
            kwargs=call_kwargs,
            inputs=inputs_spec,
            inputs_label=inputs_label,
            setup=setup if setup is None or isinstance(setup, str) else target_spec(setup),
            backends=list(backends) if backends else None,
            max_workers=max_workers,
            budget=budget,
            repeats=DEFAULT_REPEATS if repeats is None else repeats,
            **options,
        )
        return run_analysis(config, progress, plugins)


def render(report: Report, fmt: str = "text", plugins: PluginManager | None = None) -> str:
    """``report`` in the registered format ``fmt`` ("text", "json", "html" or a plugin's)."""
    from tunekit.plugins import collect_reporters, get_plugin_manager

    reporters = collect_reporters(plugins or get_plugin_manager())
    if fmt not in reporters:
        raise TunekitError(f"unknown report format {fmt!r}; known: {', '.join(reporters)}")
    return reporters[fmt].item.render(report)


def target_spec(func: Callable[..., Any]) -> str:
    """The spec a fresh interpreter finds ``func`` by: "module:qualname" or "file.py:qualname".

    Raises ``NotFindableError`` (one line) for lambdas, nested functions and anything else that
    is not reachable by name from its module.
    """
    owner = func.__func__ if inspect.ismethod(func) else func
    qualname = getattr(owner, "__qualname__", None)
    module_name = getattr(owner, "__module__", None)
    if qualname is None:  # a callable instance: look for the name it is bound to
        module_name = type(owner).__module__
        qualname = _global_name(owner, module_name)
    label = f"{module_name}.{qualname}" if module_name else repr(func)
    if qualname and "<locals>" in qualname and "<lambda>" not in qualname:
        outer = qualname.rsplit(".<locals>.", 1)[0]
        raise NotFindableError(
            f"cannot analyze {label}: it is a nested function (a closure) defined inside "
            f"{outer!r}, and tunekit finds a function by name in a fresh process: move it to "
            "module level and pass what it uses as arguments"
        )
    if not qualname or "<" in qualname or module_name is None:
        raise NotFindableError(
            f"cannot analyze {label}: tunekit finds a function by name in a fresh process, so "
            "it must be defined at module level (not a lambda or a nested function)"
        )
    module = sys.modules.get(module_name)
    if module is None or not _reaches(module, qualname, owner):
        raise NotFindableError(
            f"cannot analyze {label}: {module_name}.{qualname} does not name this function "
            "(was it redefined or decorated without functools.wraps?)"
        )
    return f"{_module_locator(module)}:{qualname}"


def _reaches(module: Any, qualname: str, func: Any) -> bool:
    """Whether walking ``qualname`` from ``module`` arrives at ``func`` (or its wrapper)."""
    obj: Any = module
    for name in qualname.split("."):
        obj = inspect.getattr_static(obj, name, None)
        if isinstance(obj, staticmethod | classmethod):
            obj = obj.__func__
        if obj is None:
            return False
    return obj is func or getattr(obj, "__wrapped__", None) is func


def _global_name(obj: Any, module_name: str) -> str | None:
    module = sys.modules.get(module_name)
    for name, value in vars(module or object()).items():
        if value is obj:
            return name
    return None


def _module_locator(module: Any) -> str:
    """How a child imports ``module``: by name, or by file for a script run as ``__main__``."""
    if module.__name__ != "__main__":
        if "." not in module.__name__ and not _importable_by_name(module):
            return str(Path(module.__file__).resolve())
        return str(module.__name__)
    spec = getattr(module, "__spec__", None)
    if spec is not None and spec.name and spec.name != "__main__":  # python -m pkg.mod
        return str(spec.name)
    path = getattr(module, "__file__", None)
    if not path:
        raise NotFindableError(
            "cannot analyze a function defined in an interactive session or with python -c: "
            "put it in a module or a script file"
        )
    return str(Path(path).resolve())


def _importable_by_name(module: Any) -> bool:
    """Whether a trial process (current folder, site-packages, stdlib) imports this by name.

    A top-level module found through a folder that only this process put on ``sys.path`` (a
    script's folder, a test runner's root) is passed by file instead.
    """
    path = getattr(module, "__file__", None)
    if not path or Path(path).name == "__init__.py":
        return True
    folder = Path(path).resolve().parent
    if folder == Path.cwd().resolve() or {"site-packages", "dist-packages"} & set(folder.parts):
        return True
    roots = [sys.prefix, sys.base_prefix, sys.exec_prefix]
    roots += [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    prefixes = {Path(p).resolve() for p in roots}
    return any(folder.is_relative_to(prefix) for prefix in prefixes)


def _json_checked(value: Any, name: str) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{name} must be JSON-serializable ({exc}); pass Python objects with inputs=[...]"
        ) from None
    return value


def _inputs_spec(inputs: Any, folder: Path) -> tuple[str | None, str | None]:
    """A factory spec for ``inputs``, and how the report names it if not by that spec: a list of
    items is pickled into ``folder`` with a factory, and named by the digest of the pickle."""
    if inputs is None or isinstance(inputs, str):
        return inputs, None
    if callable(inputs):
        return target_spec(inputs), None
    items = list(inputs)
    if not items:
        raise InputError("inputs is empty: give at least one call's arguments")
    try:
        data = pickle.dumps(items)
    except Exception as exc:
        raise InputError(
            f"inputs cannot be pickled ({type(exc).__name__}: {exc}), so they cannot be sent "
            "to the trial processes"
        ) from None
    (folder / "inputs.pickle").write_bytes(data)
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    main_path = str(Path(main_file).resolve()) if main_file else None
    factory = folder / "tunekit_recorded_inputs.py"
    factory.write_text(_FACTORY_SOURCE.format(main_file=main_path))
    digest = hashlib.sha256(data).hexdigest()[:16]
    label = f"{len(items)} item{'s' if len(items) != 1 else ''} given in Python, sha256 {digest}"
    return f"{factory}:inputs", label


# Classes defined in the user's script pickle as ``__main__.X``; in a trial process the script
# is loaded from its file under another name, so the factory looks them up there.
_FACTORY_SOURCE = '''\
"""Per-task arguments recorded by tunekit.analyze(), unpickled in each trial process."""

import functools
import pickle
import sys
from pathlib import Path

MAIN_FILE = {main_file!r}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "__main__" and MAIN_FILE:
            for loaded in list(sys.modules.values()):
                if getattr(loaded, "__file__", None) == MAIN_FILE:
                    return functools.reduce(getattr, name.split("."), loaded)
        return super().find_class(module, name)


def inputs():
    with Path(__file__).with_name("inputs.pickle").open("rb") as handle:
        return _Unpickler(handle).load()
'''

__all__ = [
    "NestedAnalysisError",
    "NotFindableError",
    "analyze",
    "in_tunekit_worker",
    "render",
    "target_spec",
]
