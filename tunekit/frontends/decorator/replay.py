"""Turning the calls ``@tunekit.profile`` recorded into ``--inputs`` items an analysis replays.

A recorded call is its pickled ``(args, kwargs)``; an item is a tuple (positional arguments)
or a dict (keywords), so each call is expressed as one or the other, by its signature.
"""

from __future__ import annotations

import inspect
import pickle
import sys
from collections.abc import Callable, Sequence
from typing import Any

from tunekit.errors import InputError

#: Longest ``repr`` of one recorded call kept for the summary.
REPR_LIMIT = 120


def call_repr(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The call as ``(1, 'a', key=2)``, cut at ``REPR_LIMIT`` characters."""
    try:
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    except Exception as exc:
        return f"<unrepresentable: {type(exc).__name__}>"
    text = f"({', '.join(parts)})"
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."


def recorded_items(
    func: Callable[..., Any], recorded: Sequence[bytes | None], drop_first: bool = False
) -> list[Any]:
    """Recorded ``(args, kwargs)`` as ``--inputs`` items: a tuple (positional) or a dict
    (keywords). Calls that no item can express, or whose arguments did not pickle, are left
    out; ``InputError`` if none is left. ``drop_first``: the first parameter (a per-worker
    setup's result) was not recorded either."""
    signature = _signature(func)
    if signature is not None and is_bound_in_class(func):  # self/cls was not recorded
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    if signature is not None and drop_first:
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    items = []
    for data in recorded:
        if data is None:
            continue
        args, kwargs = pickle.loads(data)
        item = _as_item(signature, args, kwargs)
        if item is not None:
            items.append(item)
    if not items:
        raise InputError(
            "none of the recorded calls can be replayed (arguments that do not pickle, or "
            "positional-only and keyword arguments in one call)"
        )
    return items


def _signature(func: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return None


def _as_item(
    signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...] | dict[str, Any] | None:
    """One call as an item: all positional, or all keywords; None if neither can say it."""
    if not kwargs:
        return tuple(args)
    if not args:
        return dict(kwargs)
    if signature is None:
        return None
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return None
    if not bound.kwargs:
        return tuple(bound.args)
    as_keywords: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.name not in bound.arguments:
            continue
        if param.kind in (param.POSITIONAL_ONLY, param.VAR_POSITIONAL):
            return None
        if param.kind is param.VAR_KEYWORD:
            as_keywords.update(bound.arguments[param.name])
        else:
            as_keywords[param.name] = bound.arguments[param.name]
    return as_keywords


def is_bound_in_class(func: Callable[..., Any]) -> bool:
    """Whether ``func`` is an instance or class method (called with ``self``/``cls`` first)."""
    parts = func.__qualname__.split(".")
    if len(parts) < 2 or "<locals>" in parts:
        return False
    owner: Any = sys.modules.get(func.__module__)
    for name in parts[:-1]:
        owner = getattr(owner, name, None)
    if not inspect.isclass(owner):
        return False
    raw = inspect.getattr_static(owner, parts[-1], None)
    return not isinstance(raw, staticmethod)
