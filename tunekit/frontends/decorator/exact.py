"""A timing wrapper with the decorated function's own signature, for the passive decorator.

Packing every call into ``*args, **kwargs`` and unpacking it again costs about 80 ns, a third
of what the rest of the wrapper costs (``benchmarks/decorator_overhead.py``). For a plain
Python function the wrapper is compiled with the function's parameter list instead, defaults
included, so a call passes straight through. Anything else (builtins, callable objects, a
parameter whose name could clash with the wrapper's own) gets the generic wrapper.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from time import perf_counter
from typing import Any

from tunekit.frontends.decorator.recorder import CPU_SAMPLE_MASK, Recorder

#: Every name the generated code uses begins with this; a parameter that does too is refused.
PREFIX = "_tk_"

_BODY = """\
def {prefix}wrapper({params}):
    {prefix}waiting = {prefix}len({prefix}walls)
    if ({prefix}waiting < {prefix}sample and {prefix}recorder.sampling) or not (
        {prefix}waiting & {prefix}mask
    ):
        return {prefix}recorder.sampled_call(*{prefix}as_given(({positional}), {{{keywords}}}))
    {prefix}start = {prefix}perf()
    try:
        {prefix}result = {prefix}func({call})
    except {prefix}BaseException as {prefix}exc:
        {prefix}recorder.failed({prefix}perf() - {prefix}start, {prefix}exc)
        raise
    {prefix}append({prefix}perf() - {prefix}start)
    return {prefix}result
"""


def exact_wrapper(func: Callable[..., Any], recorder: Recorder) -> Callable[..., Any] | None:
    """A passive timing wrapper of ``func`` with its signature; None if ``func`` is not a plain
    function whose signature can be written out."""
    if not inspect.isfunction(func):
        return None
    try:
        signature = inspect.signature(func, follow_wrapped=False)
    except (TypeError, ValueError):
        return None
    namespace: dict[str, Any] = {
        f"{PREFIX}func": func,
        f"{PREFIX}recorder": recorder,
        f"{PREFIX}walls": recorder.walls,
        f"{PREFIX}append": recorder.walls.append,
        f"{PREFIX}len": len,
        f"{PREFIX}perf": perf_counter,
        f"{PREFIX}sample": recorder.sample_size,
        f"{PREFIX}mask": CPU_SAMPLE_MASK,
        f"{PREFIX}BaseException": BaseException,
    }
    parts = _parts(signature, namespace)
    if parts is None:
        return None
    namespace[f"{PREFIX}as_given"] = _as_given(signature)
    source = _BODY.format(prefix=PREFIX, **parts)
    exec(compile(source, f"<tunekit wrapper of {func.__qualname__}>", "exec"), namespace)
    wrapper: Callable[..., Any] = namespace[f"{PREFIX}wrapper"]
    return wrapper


def _parts(signature: inspect.Signature, namespace: dict[str, Any]) -> dict[str, str] | None:
    """The parameter list, the call that forwards it, and the (args, kwargs) it amounts to."""
    params: list[str] = []
    call: list[str] = []
    positional: list[str] = []
    keywords: list[str] = []
    kinds = inspect.Parameter
    for index, param in enumerate(signature.parameters.values()):
        name = param.name
        if name.startswith(PREFIX) or not name.isidentifier():
            return None
        if param.kind is kinds.KEYWORD_ONLY and not any(p.startswith("*") for p in params):
            params.append("*")
        text = name
        if param.default is not param.empty:
            default = f"{PREFIX}default{index}"
            namespace[default] = param.default
            text = f"{name}={default}"
        if param.kind is kinds.VAR_POSITIONAL:
            params.append(f"*{name}")
            call.append(f"*{name}")
            positional.append(f"*{name}")
        elif param.kind is kinds.VAR_KEYWORD:
            params.append(f"**{name}")
            call.append(f"**{name}")
            keywords.append(f"**{name}")
        elif param.kind is kinds.KEYWORD_ONLY:
            params.append(text)
            call.append(f"{name}={name}")
            keywords.append(f"{name!r}: {name}")
        else:
            params.append(text)
            call.append(name)
            positional.append(name)
        if param.kind is kinds.POSITIONAL_ONLY and _last_positional_only(signature, index):
            params.append("/")
    return {
        "params": ", ".join(params),
        "call": ", ".join(call),
        "positional": "".join(f"{p}, " for p in positional),
        "keywords": ", ".join(keywords),
    }


def _as_given(
    signature: inspect.Signature,
) -> Callable[[tuple[Any, ...], dict[str, Any]], tuple[tuple[Any, ...], dict[str, Any]]]:
    """For the sampled calls: the arguments without the defaults the wrapper filled in (trailing
    positional ones, and keyword-only ones), so a kept call reads as it was written."""
    params = list(signature.parameters.values())
    named = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var_positional = any(p.kind is p.VAR_POSITIONAL for p in params)
    keyword_defaults = {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}

    def as_given(
        args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        keep = len(args)
        if not (var_positional and keep > len(named)):
            while keep and named[keep - 1].default is args[keep - 1]:
                keep -= 1
        given = {k: v for k, v in kwargs.items() if keyword_defaults.get(k, _UNSET) is not v}
        return args[:keep], given

    return as_given


_UNSET = object()


def _last_positional_only(signature: inspect.Signature, index: int) -> bool:
    following = list(signature.parameters.values())[index + 1 :]
    return not following or following[0].kind is not inspect.Parameter.POSITIONAL_ONLY
