"""Reading a configuration: which file (:func:`default_config_path`), and into a :class:`Config`.

:func:`load_config` reads a file, :func:`parse_config` text; both return a
validated :class:`Config` or raise :class:`ConfigError` naming the file,
the line, the dotted key and what is wrong with it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from archid.config.errors import ConfigError
from archid.config.model import Config
from archid.config.sections import build_config
from archid.config.tables import Context
from archid.config.toml_positions import Locator, toml_error_location

DEFAULT_CONFIG_PATH: Final = "config.toml"
"""Configuration file used when neither ``--config`` nor ``$ARCHID_CONFIG`` is given."""

CONFIG_ENV_VAR: Final = "ARCHID_CONFIG"
"""Environment variable that overrides :data:`DEFAULT_CONFIG_PATH`."""


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return ``$ARCHID_CONFIG`` if set and not empty, else ``./config.toml``."""
    env = os.environ if environ is None else environ
    return Path(env.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_PATH)


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate the configuration file at *path*.

    Relative paths inside it resolve against the file's folder (made
    absolute and normalized; symlinks are not resolved). Raises
    :class:`ConfigError` if the file cannot be read, is not UTF-8 TOML, or
    is not a valid configuration.
    """
    source = os.fspath(path)
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"cannot read the configuration file: {reason}", source=source) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError("the file is not UTF-8 text", line=line, source=source) from None
    return parse_config(text, Path(os.path.abspath(source)).parent, source)


def parse_config(text: str, base_dir: Path, source: str = "<config>") -> Config:
    """Validate configuration *text* as if read from a file in *base_dir*.

    *source* names the text in error messages. Raises :class:`ConfigError`.
    """
    try:
        root = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line = toml_error_location(str(exc), text)
        raise ConfigError(f"invalid TOML: {message}", line=line, source=source) from None
    context = Context(
        source=source, base_dir=Path(os.path.abspath(base_dir)), locator=Locator(text)
    )
    return build_config(context, root)
