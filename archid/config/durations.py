"""Durations as the configuration writes them (``"30s"``, ``"1h30m"``) and as archid holds them.

A duration is held as ``float`` seconds. :func:`parse_duration` reads the
written form and :func:`format_duration` writes it back; they are the one
place that converts between the two, for the loader, the ``check-config``
summary and error messages alike.
"""

from __future__ import annotations

import math
import re
from typing import Final

from archid.config.describe import show

_UNITS: Final[dict[str, float]] = {
    "d": 86400.0,
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 0.001,
}
_UNIT_ORDER: Final = tuple(_UNITS)
_PART: Final = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)\s*")
_PLAIN_NUMBER: Final = re.compile(r"\d+(?:\.\d+)?")

DURATION_HELP: Final = 'like "30s", "10m", "1h30m" or a number of seconds'
"""The accepted forms, as every message about a bad duration words them."""


def parse_duration(value: str | int | float) -> float:
    """Return *value* as a number of seconds (``0`` or more, finite).

    A string is one or more ``<number><unit>`` parts, largest unit first and
    each unit at most once, with units ``d``, ``h``, ``m``, ``s`` and ``ms``
    (``"1h30m"``, ``"1.5s"``, ``"250ms"``, ``"1h 30m"``); a string or number
    without a unit is seconds. Raises :class:`ValueError`, whose message
    quotes the value and the accepted forms, for negative or non-finite
    values, booleans, unknown units and anything else.
    """
    if isinstance(value, bool):  # bool is an int subclass; true is not 1 second
        raise ValueError(f"{show(value)} is not a duration ({DURATION_HELP})")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds):
            raise ValueError(f"{show(value)} is not a duration ({DURATION_HELP})")
        if seconds < 0:
            raise ValueError(f"{show(value)} is not a duration: it is negative")
        return seconds
    if not isinstance(value, str):
        raise ValueError(f"{show(value)} is not a duration ({DURATION_HELP})")
    text = value.strip()
    if text.startswith("-"):
        raise ValueError(f"{show(value)} is not a duration: it is negative")
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text)
    if not text:
        raise ValueError(f"{show(value)} is not a duration ({DURATION_HELP})")
    total = 0.0
    position = 0
    previous_rank = -1
    while position < len(text):
        match = _PART.match(text, position)
        if match is None:
            raise ValueError(f"{show(value)} is not a duration ({DURATION_HELP})")
        rank = _UNIT_ORDER.index(match[2])
        if rank <= previous_rank:
            raise ValueError(
                f"{show(value)} is not a duration: write each unit once,"
                " largest first (d, h, m, s, ms)"
            )
        previous_rank = rank
        total += float(match[1]) * _UNITS[match[2]]
        position = match.end()
    return total


def format_duration(seconds: float) -> str:
    """Return *seconds* in the form :func:`parse_duration` reads (``5400`` → ``"1h30m"``).

    Whole seconds round-trip exactly; fractions are written in seconds
    (``"1.5s"``). Raises :class:`ValueError` for negative or non-finite values.
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a duration")
    if seconds != int(seconds):
        return f"{seconds:g}s"
    remaining = int(seconds)
    if remaining == 0:
        return "0s"
    parts: list[str] = []
    # No "ms": a whole number of seconds never needs it.
    for unit in ("d", "h", "m", "s"):
        size = int(_UNITS[unit])
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def spoken_duration(seconds: float) -> str:
    """*seconds* as people read them in a log line or a table, as precise as it is
    worth: ``0.4 s``, ``12 s``, ``3 min``, ``2 h 5 min``, ``3 days``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = int(minutes // 60)
    if hours < 48:
        rest = int(minutes - hours * 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{hours // 24} days"
