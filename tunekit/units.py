"""Numbers for people: rates, durations and sizes as the reports print them."""

from __future__ import annotations


def format_rate(per_second: float) -> str:
    """Tasks per second: whole numbers with thousands separators, 3 digits below 100."""
    return f"{per_second:,.0f}" if per_second >= 100 else f"{per_second:.3g}"


def format_seconds(value: float) -> str:
    """3 significant digits in the largest unit that keeps the number at 1 or more."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if round(value / scale, 2) >= 1:  # 0.0009996 s is "1 ms", not "1e+03 µs"
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def format_bytes(value: int) -> str:
    """Binary units, whole MiB from 1 MiB on."""
    if value >= 2**30:
        return f"{value / 2**30:.1f} GiB"
    if value >= 2**20:
        return f"{value / 2**20:.0f} MiB"
    return f"{value / 2**10:.0f} KiB"


def format_error_share(rate: float) -> str:
    """A share of calls that raised for people: ``none`` or ``4.5%``."""
    return "none" if rate == 0 else f"{rate:.1%}"
