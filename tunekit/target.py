"""Resolve "pkg.mod:func" / "path/file.py:Class.method" into a callable and its per-task calls.

Runs only inside worker processes: the parent never imports user code, so an import that hangs,
crashes or pollutes globals costs one child process, not the analysis.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from tunekit.definitions import unreachable_hint
from tunekit.errors import InputError, SetupError, TargetError

#: Frames of tunekit and of the import machinery, left out of an import error's traceback.
_NOT_USER_CODE = (
    str(Path(__file__).parent) + os.sep,
    str(Path(importlib.__file__).parent) + os.sep,
    "<frozen importlib",
)

#: One task's arguments: positional and keyword.
Call = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass(frozen=True)
class TargetSpec:
    """What the user asked to analyze, in a form that crosses process boundaries as JSON."""

    target: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    inputs: str | None = None
    #: "module:factory" run once per worker; its result is every call's first argument.
    setup: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form for a worker request."""
        return {
            "target": self.target,
            "args": self.args,
            "kwargs": self.kwargs,
            "inputs": self.inputs,
            "setup": self.setup,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetSpec:
        """Inverse of ``to_dict``."""
        return cls(
            data["target"],
            list(data["args"]),
            dict(data["kwargs"]),
            data["inputs"],
            data.get("setup"),
        )


#: ``Target.first_result`` before any call was made.
NOT_CALLED: Any = object()


@dataclass(frozen=True)
class Target:
    """A resolved target: the callable, whether it is a coroutine function, and its calls."""

    spec: TargetSpec
    func: Callable[..., Any]
    is_coroutine: bool
    calls: list[Call]
    #: "generator" or "async generator" when a call consumes what the target yields to the
    #: end (``func`` is then the consuming wrapper); None for a plain or coroutine function.
    consumes: str | None = None
    #: What the first call returned, once the calibration has made it (backends that must
    #: check a result, e.g. that it pickles, look here before calling the target themselves).
    first_result: Any = NOT_CALLED
    #: The per-worker setup factory (``spec.setup`` resolved), None without one: a backend
    #: runs it where each worker starts (``tunekit.calls.open_setup``).
    setup: Callable[[], Any] | None = None
    #: Seconds each worker's setup took, in the order they were opened (in this process, or
    #: reported back by the backend's worker processes).
    setup_s: list[float] = field(default_factory=list)
    #: Threads each native pool (BLAS, OpenMP) is limited to in every worker process a backend
    #: starts (``native_threads.limit_native_threads``); None: as the libraries start them.
    inner_threads: int | None = None


def split_spec(spec: str) -> tuple[str, str]:
    """Split "module_or_path:attr.path", checking its shape only (nothing is imported)."""
    where, sep, attr = spec.rpartition(":")
    if not sep or not where or not attr:
        raise TargetError(
            f"target {spec!r} must look like 'pkg.module:function' or 'path/file.py:function'"
        )
    if "<locals>" in attr:
        outer = attr.split(".<locals>", 1)[0]
        raise TargetError(
            f"target {spec!r} is a nested function (a closure) defined inside {outer!r}: a "
            "worker process can only find a function by name at module level; move it there"
        )
    if not all(part.isidentifier() for part in attr.split(".")):
        raise TargetError(f"target {spec!r}: {attr!r} is not a dotted Python name")
    return where, attr


def load_target(spec: TargetSpec) -> Target:
    """Import the target, check it is callable, and build the list of per-task calls."""
    func, consumes = consuming(resolve_callable(spec.target))
    calls = build_calls(spec)
    return Target(
        spec=spec,
        func=func,
        is_coroutine=is_coroutine_callable(func),
        calls=calls,
        consumes=consumes,
        setup=None if spec.setup is None else resolve_setup(spec.setup),
    )


def worker_target(spec: dict[str, Any]) -> Target:
    """The target as a pool's worker (a child process, a subinterpreter) rebuilds it from the
    spec it was sent (``{"target": ..., "setup": ...}``): the callable, consumed to the end if
    it makes a generator, and its setup factory; no calls (each task brings its own)."""
    func, consumes = consuming(resolve_callable(spec["target"]))
    setup = spec.get("setup")
    return Target(
        TargetSpec(spec["target"], setup=setup),
        func,
        is_coroutine_callable(func),
        [],
        consumes=consumes,
        setup=None if setup is None else resolve_setup(setup),
    )


def resolve_setup(spec: str) -> Callable[[], Any]:
    """Import the ``--setup`` factory: a plain or generator function taking no arguments."""
    try:
        factory = resolve_callable(spec)
    except TargetError as exc:
        raise SetupError(f"setup {exc}") from None
    if inspect.iscoroutinefunction(factory) or inspect.isasyncgenfunction(factory):
        raise SetupError(
            f"setup {spec!r} is an async function: the factory runs where a worker starts, "
            "outside any event loop; make it a plain or generator function"
        )
    return factory


def consuming(func: Callable[..., Any]) -> tuple[Callable[..., Any], str | None]:
    """The callable one task runs, and what it consumes: a generator function becomes a
    function that exhausts the generator, an async generator function a coroutine function
    that runs ``async for`` to the end, so a task is the generator's work, not the creation of
    the generator object. The wrapper returns how many items were yielded (what crosses a
    process boundary); anything else is returned unchanged with None."""
    if inspect.isasyncgenfunction(func) or inspect.isasyncgenfunction(
        getattr(func, "__call__", None)  # noqa: B004 - an object whose __call__ yields
    ):

        async def consume_async(*args: Any, **kwargs: Any) -> int:
            count = 0
            async for _ in func(*args, **kwargs):
                count += 1
            return count

        _keep_signature(consume_async, func)
        return consume_async, "async generator"
    if inspect.isgeneratorfunction(func) or inspect.isgeneratorfunction(
        getattr(func, "__call__", None)  # noqa: B004 - an object whose __call__ yields
    ):

        def consume(*args: Any, **kwargs: Any) -> int:
            count = 0
            for _ in func(*args, **kwargs):
                count += 1
            return count

        _keep_signature(consume, func)
        return consume, "generator"
    return func, None


def _keep_signature(wrapper: Callable[..., Any], func: Callable[..., Any]) -> None:
    """Give ``wrapper`` the signature of the function it calls, for ``unfit_signature``."""
    with contextlib.suppress(TypeError, ValueError):  # no signature to keep (some builtins)
        wrapper.__signature__ = inspect.signature(func)  # type: ignore[attr-defined]


def resolve_callable(spec: str) -> Callable[..., Any]:
    """Import ``spec`` and return the callable it names."""
    where, attr = split_spec(spec)
    module = _import(where)
    obj: Any = module
    label = where
    for name in attr.split("."):
        static = inspect.getattr_static(obj, name, None) if inspect.isclass(obj) else None
        try:
            value = getattr(obj, name)
        except AttributeError:
            unreachable = _unreachable(obj, module, name)
            if unreachable is not None:
                raise TargetError(f"cannot use {spec!r}: {unreachable}") from None
            hint = _suggest(name, dir(obj))
            raise TargetError(f"{label!r} has no attribute {name!r}{hint}") from None
        if inspect.isfunction(static):  # a plain method reached through its class
            value = _bind_to_new_instance(obj, name, spec)
        obj, label = value, f"{label}:{name}" if obj is module else f"{label}.{name}"
    if inspect.isclass(obj):
        raise TargetError(
            f"{spec!r} is a class, not a function: name a function or a method "
            f"(e.g. '{spec}.method')"
        )
    if not callable(obj):
        raise TargetError(f"{spec!r} is not callable (it is a {type(obj).__name__})")
    return obj  # type: ignore[no-any-return]


def is_coroutine_callable(func: Callable[..., Any]) -> bool:
    """True for ``async def`` functions, methods and objects with an ``async def __call__``."""
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - we need the bound __call__ itself
    return call is not None and not inspect.isroutine(func) and inspect.iscoroutinefunction(call)


def build_calls(spec: TargetSpec) -> list[Call]:
    """The calls to cycle through: one fixed call, or one per item of the ``inputs`` factory."""
    if spec.inputs is None:
        return [(tuple(spec.args), dict(spec.kwargs))]
    factory = resolve_callable(spec.inputs)
    try:
        items = list(factory())
    except Exception as exc:
        raise InputError(
            f"inputs factory {spec.inputs!r} raised {type(exc).__name__}: {exc}"
        ) from None
    if not items:
        raise InputError(f"inputs factory {spec.inputs!r} returned no items")
    return [_as_call(item, spec.kwargs) for item in items]


def _as_call(item: Any, common_kwargs: dict[str, Any]) -> Call:
    """A tuple is positional arguments, a dict keyword arguments, anything else one argument."""
    if isinstance(item, tuple):
        return item, dict(common_kwargs)
    if isinstance(item, dict):
        return (), {**common_kwargs, **item}
    return (item,), dict(common_kwargs)


def _import(where: str) -> ModuleType:
    if where.endswith(".py") or "/" in where or "\\" in where:
        return _import_file(Path(where))
    if not all(part.isidentifier() for part in where.split(".")):
        raise TargetError(f"{where!r} is neither a module name nor a path to a .py file")
    _ensure_cwd_importable()
    try:
        return importlib.import_module(where)
    except ModuleNotFoundError as exc:
        if exc.name and (where == exc.name or where.startswith(exc.name + ".")):
            raise TargetError(f"cannot import {where!r}: no module named {exc.name!r}") from None
        raise _import_failed(where, exc) from None
    except Exception as exc:
        raise _import_failed(where, exc) from None


def _import_file(path: Path) -> ModuleType:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise TargetError(f"cannot import {str(path)!r}: no such file")
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) == str(path):
        return existing
    if existing is not None or not name.isidentifier():
        name = f"_tunekit_target_{abs(hash(str(path)))}"
    # Like ``python path/file.py``: the file's folder is importable, so siblings import.
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise TargetError(f"cannot import {str(path)!r}: not a Python source file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise _import_failed(str(path), exc) from None
    return module


def _ensure_cwd_importable() -> None:
    """``tunekit analyze mymodule:f`` finds ``mymodule`` in the current folder, like ``-m``."""
    cwd = str(Path.cwd())
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def _import_failed(where: str, exc: BaseException) -> TargetError:
    if isinstance(exc, SyntaxError):
        location = f"{exc.filename}:{exc.lineno}" if exc.filename else where
        return TargetError(f"cannot import {where!r}: {location}: SyntaxError: {exc.msg}")
    frames = traceback.extract_tb(exc.__traceback__)
    user_frames = [f for f in frames if not f.filename.startswith(_NOT_USER_CODE)]
    tail = "".join(traceback.format_list(user_frames[-2:])).rstrip()
    message = f"importing {where!r} raised {type(exc).__name__}: {exc}"
    return TargetError(f"{message}\n{tail}" if tail else message)


def _unreachable(obj: Any, module: ModuleType, name: str) -> str | None:
    """Why ``name`` is missing from ``obj`` though the source defines it (under the main guard,
    or inside a function), for a module or a function looked in; None otherwise."""
    if obj is module:
        return unreachable_hint(getattr(module, "__file__", None), name)
    if inspect.isfunction(obj):
        return unreachable_hint(obj.__code__.co_filename, name, inside=obj.__qualname__)
    return None


def unfit_signature(target: Target, call: Call) -> str | None:
    """The target's signature when ``call``'s arguments do not fit it (``Signature.bind``
    fails), else None; None too when the target has no signature to check (some builtins)."""
    try:
        signature = inspect.signature(target.func)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*call[0], **call[1])
    except TypeError:
        return str(signature)
    return None


def _bind_to_new_instance(cls: Any, name: str, spec: str) -> Any:
    """``mod:Class.method`` of a plain method: bind it to ``Class()`` (made once per process)."""
    try:
        instance = cls()
    except Exception as exc:
        raise TargetError(
            f"{spec!r} is an instance method and {cls.__name__}() failed "
            f"({type(exc).__name__}: {exc}); name a module-level instance instead"
        ) from None
    return getattr(instance, name)


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, [c for c in candidates if not c.startswith("_")], 3)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
