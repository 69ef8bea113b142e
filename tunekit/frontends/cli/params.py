"""The types and checks of ``tunekit analyze``'s option values, so bad input is a usage error
(exit 2) before any of the budget is spent."""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import click


def json_value(kind: type, example: str) -> Any:
    """A click callback parsing an option's JSON value, which must be a ``kind``."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON ({exc.msg}): {value!r}") from None
        if not isinstance(parsed, kind):
            raise click.BadParameter(f"must be a JSON {kind.__name__}, e.g. {example}")
        return parsed

    return convert


def output_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check an output path before spending the budget: its folder must exist and be writable."""
    if value is None or value == "-":
        return value
    path = Path(value)
    if path.is_dir():
        raise click.BadParameter(f"{value!r} is a folder; give a file path")
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise click.BadParameter(f"folder {str(folder)!r} does not exist")
    try:  # os.access says yes to root everywhere; creating a file is the real test
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        raise click.BadParameter(f"folder {str(folder)!r} is not writable") from None
    return value


class ByteSize(click.ParamType[int]):
    """A memory size: bytes, or a number with K, M, G or T (powers of 1024; 'iB'/'B' optional)."""

    name = "size"
    UNITS: ClassVar[dict[str, int]] = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """Parse '512M', '1.5G', '2GiB' or '1000000' into bytes."""
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(?:i?B)?\s*", str(value), re.I)
        if match is None:
            self.fail(f"{value!r} is not a size like 512M or 2G", param, ctx)
        size = int(float(match[1]) * self.UNITS[match[2].upper()])
        if size <= 0:
            self.fail(f"{value!r} must be more than 0 bytes", param, ctx)
        return size


def finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """Reject nan and inf, which FloatRange lets through."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number of seconds")
    return value
