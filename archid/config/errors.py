"""The one exception a bad configuration raises: :class:`ConfigError`."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration file is missing, unreadable, not TOML, or not valid.

    Attributes:
        message: what is wrong, without location.
        key: dotted key the problem is about (``"quiet_hours.start"``), or
            ``None`` when it concerns the whole file (unreadable, bad TOML).
        line: 1-based line where the key is written; where the key is not
            written (a required key is missing) or cannot be located, the line
            of its section; ``None`` if neither is in the file.
        source: the file name as given to :func:`~archid.config.load_config`
            (or the ``source`` given to :func:`~archid.config.parse_config`).

    ``str()`` reads ``source:line: key: message``, leaving out the parts that
    are ``None``. No message ever contains the portal password.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        line: int | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.line = line
        self.source = source

    def __str__(self) -> str:
        parts: list[str] = []
        if self.source is not None:
            parts.append(self.source if self.line is None else f"{self.source}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.key is not None:
            parts.append(self.key)
        parts.append(self.message)
        return ": ".join(parts)

    def __reduce__(self) -> tuple[object, ...]:
        # Exception pickles only ``args``; keep the location across processes.
        return (_rebuild_config_error, (self.message, self.key, self.line, self.source))


def _rebuild_config_error(
    message: str, key: str | None, line: int | None, source: str | None
) -> ConfigError:
    return ConfigError(message, key=key, line=line, source=source)
