"""Where things are in TOML text: the line numbers that :class:`ConfigError` reports.

tomllib returns plain dicts without positions, and reports the position of
a syntax error only inside its message. :class:`Locator` finds the line of
every table and key by scanning the text itself; :func:`toml_error_location`
takes the position out of a tomllib error message.
"""

from __future__ import annotations

import bisect
import json
import re


def toml_error_location(message: str, text: str) -> tuple[str, int | None]:
    """Split a ``TOMLDecodeError`` message into (message without position, line).

    An error "at end of document" is reported on the last line, as
    "… at end of file"; a message without a position keeps line ``None``.
    """
    # tomllib (3.11) puts the position only in the message text.
    match = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
    if match is not None:
        return message[: match.start()], int(match[1])
    match = re.search(r"\s*\(at end of document\)$", message)
    if match is not None:
        return f"{message[: match.start()]} at end of file", max(1, len(text.splitlines()))
    return message, None


class Locator:
    """Line numbers of tables and keys in TOML text that tomllib accepted.

    tomllib does not report positions, so this scans the text: table
    headers, ``key = value`` lines and dotted keys, skipping comments,
    strings and multi-line arrays. Keys inside inline tables are not
    indexed; :meth:`line` falls back to the nearest enclosing key or table.
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str, ...], int] = {}
        self._values: dict[tuple[str, ...], str] = {}
        self._newlines = [index for index, char in enumerate(text) if char == "\n"]
        self._scan(text)

    def line(self, path: tuple[str, ...]) -> int | None:
        """Line of *path*, else of its longest written prefix, else ``None``."""
        for length in range(len(path), 0, -1):
            line = self._lines.get(path[:length])
            if line is not None:
                return line
        return None

    def raw_value(self, path: tuple[str, ...]) -> str | None:
        """Text after ``=`` for *path* up to the end of its value (comment included)."""
        return self._values.get(path)

    def _line_at(self, index: int) -> int:
        return bisect.bisect_left(self._newlines, index) + 1

    def _record(self, path: tuple[str, ...], line: int) -> None:
        for length in range(1, len(path) + 1):
            self._lines.setdefault(path[:length], line)

    def _scan(self, text: str) -> None:
        table: tuple[str, ...] = ()
        index = 0
        while index < len(text):
            char = text[index]
            if char in " \t\r\n":
                index += 1
            elif char == "#":
                index = _line_end(text, index)
            elif char == "[":
                start = index + (2 if text.startswith("[[", index) else 1)
                end = _find_unquoted(text, start, "]")
                table = _split_key(text[start:end])
                self._record(table, self._line_at(index))
                index = _line_end(text, end)
            else:
                equals = _find_unquoted(text, index, "=")
                key = (*table, *_split_key(text[index:equals]))
                self._record(key, self._line_at(index))
                value_start = equals + 1
                value_end = _skip_value(text, value_start)
                self._values.setdefault(key, text[value_start:value_end].strip())
                index = max(value_end, index + 1)


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end


def _skip_string(text: str, index: int) -> int:
    """Index just past the string literal that starts at *index*."""
    for quote in ('"""', "'''"):
        if text.startswith(quote, index):
            position = index + 3
            while position < len(text):
                if quote == '"""' and text[position] == "\\":
                    position += 2
                elif text.startswith(quote, position):
                    end = position + 3
                    # Up to two quotes may end the content right before the delimiter.
                    while end < len(text) and text[end] == quote[0] and end < position + 5:
                        end += 1
                    return end
                else:
                    position += 1
            return len(text)
    quote = text[index]
    position = index + 1
    while position < len(text) and text[position] not in (quote, "\n"):
        position += 2 if quote == '"' and text[position] == "\\" else 1
    return position + 1


def _find_unquoted(text: str, index: int, target: str) -> int:
    while index < len(text):
        char = text[index]
        if char == target:
            return index
        if char in "\"'":
            index = _skip_string(text, index)
        elif char == "\n":
            return index
        else:
            index += 1
    return len(text)


def _skip_value(text: str, index: int) -> int:
    """Index of the newline that ends the value starting at *index* (or end of text)."""
    depth = 0
    while index < len(text):
        char = text[index]
        if char in "\"'":
            index = _skip_string(text, index)
            continue
        if char == "#":
            index = _line_end(text, index)
            continue
        if char == "\n" and depth <= 0:
            return index
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        index += 1
    return index


def _split_key(raw: str) -> tuple[str, ...]:
    """Split a (possibly dotted, possibly quoted) TOML key into its parts."""
    parts: list[str] = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char in " \t.":
            index += 1
        elif char in "\"'":
            end = _skip_string(raw, index)
            literal = raw[index:end]
            if char == '"':
                try:
                    parts.append(str(json.loads(literal)))
                except ValueError:
                    parts.append(literal[1:-1])
            else:
                parts.append(literal[1:-1])
            index = end
        else:
            end = index
            while end < len(raw) and raw[end] not in " \t.":
                end += 1
            parts.append(raw[index:end])
            index = end
    return tuple(parts)
