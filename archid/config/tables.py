"""Typed, validating access to the tables of a parsed TOML file.

A :class:`Context` is one file being read (its name, its folder, where its
keys are); a :class:`Section` is one of its tables. Every getter returns
the default when the key is not written, the value when it has the right
type and range, and otherwise raises :class:`ConfigError` at that key's
line. What the sections are, and which keys they have, is not known here
(see ``sections.py``).
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from archid.config.describe import kind, show
from archid.config.durations import DURATION_HELP, parse_duration
from archid.config.errors import ConfigError
from archid.config.toml_positions import Locator


def suggestion(name: str, known: Iterable[str]) -> str:
    """``"; did you mean …?"`` with the closest of *known* to *name*, or ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {show(close[0])}?" if close else ""


def reject_unknown(
    context: Context,
    path: tuple[str, ...],
    table: Mapping[str, object],
    known: tuple[str, ...],
    *,
    what: str,
) -> None:
    """Raise :class:`ConfigError` at the first key of *table* (at *path*) not in *known*.

    The message calls it an unknown *what*, suggests the closest known
    name and lists them all.
    """
    unknown = [key for key in table if key not in known]
    if not unknown:
        return
    # Report the first one in the file, as a reader would meet it.
    unknown.sort(key=lambda key: context.locator.line((*path, key)) or 0)
    key = unknown[0]
    listing = ", ".join(known)
    raise context.error(
        (*path, key),
        f"unknown {what} {show(key)}{suggestion(key, known)} (known: {listing})",
    )


@dataclass(frozen=True, slots=True)
class Context:
    """The file being read: *source* for messages, *base_dir* for relative paths."""

    source: str
    base_dir: Path
    locator: Locator

    def error(self, path: tuple[str, ...], message: str) -> ConfigError:
        """A :class:`ConfigError` about the dotted key *path*, at its line."""
        return ConfigError(
            message, key=".".join(path), line=self.locator.line(path), source=self.source
        )

    def table(self, path: tuple[str, ...], value: object) -> Mapping[str, object]:
        """*value* (at *path*) as a table: ``{}`` if not written; raises if not a table."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"expected a table [{'.'.join(path)}], got {kind(value)}")
        return value

    def section(self, name: str, value: object, keys: tuple[str, ...]) -> Section:
        """The section *name* (dotted) whose parsed value is *value* and whose keys are *keys*.

        Raises :class:`ConfigError` if *value* is not a table or has a key
        not in *keys*.
        """
        path = tuple(name.split("."))
        data = self.table(path, value)
        reject_unknown(self, path, data, keys, what="key")
        return Section(self, path, data)


class Section:
    """Typed access to one table; each getter validates or raises ConfigError.

    A getter returns its *default* when the key is not written. Types are
    strict (``true`` is not an integer, ``"5"`` is not a number); ranges are
    inclusive. Paths are resolved against the configuration file's folder,
    ``~`` expanded, made absolute and normalized (symlinks are not resolved).
    """

    def __init__(self, context: Context, path: tuple[str, ...], data: Mapping[str, object]):
        self._context = context
        self._path = path
        self._data = data

    @property
    def source(self) -> str:
        """The name of the file the section is in."""
        return self._context.source

    def dotted(self, key: str) -> str:
        """The dotted name of *key* in this section, as messages write it."""
        return ".".join((*self._path, key))

    def error(self, key: str, message: str) -> ConfigError:
        """A :class:`ConfigError` about *key*, at its line (or the section's)."""
        return self._context.error((*self._path, key), message)

    def get(self, key: str) -> object | None:
        # TOML has no null, so None can only mean "not written".
        return self._data.get(key)

    def raw_value(self, key: str) -> str | None:
        """The text written after ``key =``, or ``None`` if it cannot be located."""
        return self._context.locator.raw_value((*self._path, key))

    def _wrong_type(self, key: str, expected: str, value: object) -> ConfigError:
        return self.error(key, f"expected {expected}, got {kind(value)} ({show(value)})")

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._wrong_type(key, "true or false", value)
        return value

    def integer(
        self, key: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong_type(key, "an integer", value)
        self._check_range(key, value, minimum, maximum)
        return value

    def number(
        self,
        key: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self._wrong_type(key, "a number", value)
        if not math.isfinite(value):
            raise self.error(key, f"{show(value)} is not a finite number")
        self._check_range(key, value, minimum, maximum)
        return float(value)

    def _check_range(
        self, key: str, value: float, minimum: float | None, maximum: float | None
    ) -> None:
        if minimum is not None and maximum is not None:
            if not minimum <= value <= maximum:
                raise self.error(key, f"{show(value)} is not between {minimum} and {maximum}")
        elif minimum is not None and value < minimum:
            raise self.error(key, f"{show(value)} is less than {minimum}")
        elif maximum is not None and value > maximum:
            raise self.error(key, f"{show(value)} is more than {maximum}")

    def duration(self, key: str, default: float, *, allow_zero: bool = False) -> float:
        """Seconds, written as :func:`~archid.config.parse_duration` reads; zero only if allowed."""
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self._wrong_type(key, f"a duration ({DURATION_HELP})", value)
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None
        if seconds == 0 and not allow_zero:
            raise self.error(key, f"{show(value)} is zero; it must be a positive duration")
        return seconds

    def string(self, key: str, default: str) -> str:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self._wrong_type(key, "a string", value)
        return value

    def required_string(self, key: str, what: str) -> str:
        value = self.get(key)
        if value is None:
            raise self.error(key, f"required key is missing ({what})")
        if not isinstance(value, str):
            raise self._wrong_type(key, "a string", value)
        return value

    def _resolve(self, key: str, value: str) -> Path:
        if not value.strip() or "\0" in value:
            raise self.error(key, f"{show(value)} is not a path")
        try:
            path = Path(value).expanduser()
        except RuntimeError:
            raise self.error(key, f"{show(value)}: cannot expand ~ here") from None
        return Path(os.path.normpath(self._context.base_dir / path))

    def path(self, key: str, default: Path) -> Path:
        value = self.get(key)
        if value is None:
            return self._resolve(key, str(default))
        if not isinstance(value, str):
            raise self._wrong_type(key, "a path (a string)", value)
        return self._resolve(key, value)

    def optional_path(self, key: str) -> Path | None:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong_type(key, "a path (a string)", value)
        return self._resolve(key, value)
