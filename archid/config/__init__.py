"""The daemon's configuration: one TOML file, validated into frozen dataclasses.

:func:`load_config` reads a file and returns a :class:`Config`, or raises
:class:`ConfigError` naming the file, the line, the dotted key and what is
wrong with it. Everything that can be checked without touching the portal is
checked at load time, so that a daemon that started has a usable
configuration:

* unknown sections and keys are errors (with the closest known name as a
  hint), so a typo never silently falls back to a default;
* values are type-checked strictly (``true`` is not an integer, ``"5"`` is
  not a number) and range-checked;
* relative paths are resolved against the folder that holds the
  configuration file, never the process's working directory;
* the portal password is read from the systemd credential
  ``portal-password`` (:data:`PASSWORD_CREDENTIAL`) when there is one, else
  from ``portal.password_file``, which only its owner may read, and held in a
  :class:`Secret`, which never shows it in ``repr()``/``str()``; no error
  message ever quotes the password file's content.

Every key has a default (the dataclass field defaults, documented in the
example ``config.toml``) except ``portal.url``, ``portal.username`` and
``portal.password_file`` (unless the credential is there), without which
archid cannot log in.

Durations are written ``"30s"``, ``"10m"``, ``"1h30m"`` (or a bare number of
seconds) and held as ``float`` seconds; :func:`parse_duration` and
:func:`format_duration` are the one place that converts them.

The names below are the whole public face; the modules behind them, in the
order a file is read:

* ``load``: which file, and reading it (:func:`load_config`, :func:`parse_config`);
* ``toml_positions``: the line of every key, for the messages;
* ``sections``: each section's keys (:data:`SECTION_KEYS`) and its reader;
* ``tables``: typed, validating getters for one table;
* ``model``: the dataclasses and their defaults;
* ``durations``, ``secrets``: durations, and the password;
* ``errors``, ``describe``: :class:`ConfigError`, and how messages quote values;
* ``check``: ``archid check-config`` (:func:`check_config`, :func:`summarize_config`).

A configuration error's exit status is :data:`os.EX_CONFIG` (78).
"""

from __future__ import annotations

from archid.config.check import check_config, summarize_config
from archid.config.durations import format_duration, parse_duration
from archid.config.errors import ConfigError
from archid.config.load import (
    CONFIG_ENV_VAR,
    DEFAULT_CONFIG_PATH,
    default_config_path,
    load_config,
    parse_config,
)
from archid.config.model import (
    DEFAULT_SCHEDULES,
    BrowserConfig,
    Config,
    ControlConfig,
    DatabaseConfig,
    GuardConfig,
    LoadConfig,
    MetricsConfig,
    PortalConfig,
    QuietHoursConfig,
    RetryConfig,
    ScheduleConfig,
    SessionsConfig,
)
from archid.config.secrets import (
    PASSWORD_CREDENTIAL,
    PasswordFileError,
    Secret,
    password_credential,
    read_password_file,
)
from archid.config.sections import MAX_SOCKET_PATH_BYTES, SECTION_KEYS

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_SCHEDULES",
    "MAX_SOCKET_PATH_BYTES",
    "PASSWORD_CREDENTIAL",
    "SECTION_KEYS",
    "BrowserConfig",
    "Config",
    "ConfigError",
    "ControlConfig",
    "DatabaseConfig",
    "GuardConfig",
    "LoadConfig",
    "MetricsConfig",
    "PasswordFileError",
    "PortalConfig",
    "QuietHoursConfig",
    "RetryConfig",
    "ScheduleConfig",
    "Secret",
    "SessionsConfig",
    "check_config",
    "default_config_path",
    "format_duration",
    "load_config",
    "parse_config",
    "parse_duration",
    "password_credential",
    "read_password_file",
    "summarize_config",
]
