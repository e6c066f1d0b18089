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

Every key has a default (the dataclass field defaults below, documented in
the example ``config.toml``) except ``portal.url``, ``portal.username`` and
``portal.password_file`` (unless the credential is there), without which
archid cannot log in.

Durations are written ``"30s"``, ``"10m"``, ``"1h30m"`` (or a bare number of
seconds) and held as ``float`` seconds; :func:`parse_duration` and
:func:`format_duration` are the one place that converts them.
"""

from __future__ import annotations

import bisect
import difflib
import hmac
import json
import math
import os
import re
import sys
import tomllib
import types
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Final, final
from urllib.parse import urlsplit, urlunsplit

from archid.records import ExportType

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_SCHEDULES",
    "EX_CONFIG",
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

EX_CONFIG: Final = 78
"""Exit status for a configuration error (``EX_CONFIG`` from ``sysexits.h``)."""

DEFAULT_CONFIG_PATH: Final = "config.toml"
"""Configuration file used when neither ``--config`` nor ``$ARCHID_CONFIG`` is given."""

CONFIG_ENV_VAR: Final = "ARCHID_CONFIG"
"""Environment variable that overrides :data:`DEFAULT_CONFIG_PATH`."""

PASSWORD_CREDENTIAL: Final = "portal-password"
"""The systemd credential (``LoadCredential=portal-password:…``) holding the password."""

# Unix socket paths live in a fixed sockaddr_un.sun_path buffer of 108 bytes
# on Linux, one of which is the terminating NUL.
MAX_SOCKET_PATH_BYTES: Final = 107


# --------------------------------------------------------------------------
# Errors and secrets


class ConfigError(Exception):
    """The configuration file is missing, unreadable, not TOML, or not valid.

    Attributes:
        message: what is wrong, without location.
        key: dotted key the problem is about (``"quiet_hours.start"``), or
            ``None`` when it concerns the whole file (unreadable, bad TOML).
        line: 1-based line where the key is written; where the key is not
            written (a required key is missing) or cannot be located, the line
            of its section; ``None`` if neither is in the file.
        source: the file name as given to :func:`load_config` (or the
            ``source`` given to :func:`parse_config`).

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


@final
class Secret:
    """A string that does not show itself.

    ``repr()`` and ``str()`` are ``Secret('********')`` whatever the value, so
    a secret inside a dataclass, a log line or a traceback stays hidden. The
    value is available only through :meth:`reveal`. Equality is
    constant-time.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value; call it only where the value is sent."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))


# --------------------------------------------------------------------------
# Durations

_DURATION_UNITS: Final[dict[str, float]] = {
    "d": 86400.0,
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 0.001,
}
_DURATION_UNIT_ORDER: Final = tuple(_DURATION_UNITS)
_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)\s*")
_PLAIN_NUMBER: Final = re.compile(r"\d+(?:\.\d+)?")
_DURATION_HELP: Final = 'like "30s", "10m", "1h30m" or a number of seconds'


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
        raise ValueError(f"{_show(value)} is not a duration ({_DURATION_HELP})")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds):
            raise ValueError(f"{_show(value)} is not a duration ({_DURATION_HELP})")
        if seconds < 0:
            raise ValueError(f"{_show(value)} is not a duration: it is negative")
        return seconds
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not a duration ({_DURATION_HELP})")
    text = value.strip()
    if text.startswith("-"):
        raise ValueError(f"{_show(value)} is not a duration: it is negative")
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text)
    if not text:
        raise ValueError(f"{_show(value)} is not a duration ({_DURATION_HELP})")
    total = 0.0
    position = 0
    previous_rank = -1
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            raise ValueError(f"{_show(value)} is not a duration ({_DURATION_HELP})")
        rank = _DURATION_UNIT_ORDER.index(match[2])
        if rank <= previous_rank:
            raise ValueError(
                f"{_show(value)} is not a duration: write each unit once,"
                " largest first (d, h, m, s, ms)"
            )
        previous_rank = rank
        total += float(match[1]) * _DURATION_UNITS[match[2]]
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
    for unit in ("d", "h", "m", "s"):
        size = int(_DURATION_UNITS[unit])
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


# --------------------------------------------------------------------------
# The configuration


@dataclass(frozen=True, slots=True)
class PortalConfig:
    """How to reach and log in to the Archibald portal (``[portal]``).

    ``url`` always ends with ``/`` so that relative page names join under it.
    Timeouts are seconds. ``password_file`` is the file the password was
    read from: the systemd credential when there is one, else
    ``portal.password_file``.
    """

    url: str
    username: str
    password: Secret
    password_file: Path | None = None
    verify_tls: bool = True
    ca_file: Path | None = None
    daily_login_budget: int = 10
    login_timeout: float = 30.0
    page_timeout: float = 60.0
    download_timeout: float = 180.0


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """The SQLite mirror (``[database]``); ``busy_timeout`` is seconds."""

    path: Path = Path("archid.sqlite3")
    busy_timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class GuardConfig:
    """When the store refuses a full export (``[guard]``); shares are 0 to 1.

    A full export is rejected, and nothing of it written, if it has fewer
    rows than ``min_export_share`` of the live rows, or if applying it would
    delete more than ``max_delete_share`` of them. A first load (no live
    rows) is exempt; an empty export is always rejected.
    """

    min_export_share: float = 0.7
    max_delete_share: float = 0.3


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    """When one export type is synced (``[schedule.<type>]``).

    A sync is due every ``every`` seconds, shifted by ``offset`` seconds
    (``0 <= offset < every``) so that the types do not all start together.
    When several are due, the higher ``priority`` goes first. A sync running
    longer than ``timeout`` seconds is cancelled. The scheduler may stretch
    the interval up to ``every * max_stretch`` when nothing changes.
    """

    every: float
    offset: float = 0.0
    priority: int = 0
    enabled: bool = True
    timeout: float = 900.0
    max_stretch: float = 4.0


def _schedule(every: str, offset: str, priority: int, timeout: str = "15m") -> ScheduleConfig:
    return ScheduleConfig(
        every=parse_duration(every),
        offset=parse_duration(offset),
        priority=priority,
        timeout=parse_duration(timeout),
    )


DEFAULT_SCHEDULES: Final[Mapping[ExportType, ScheduleConfig]] = types.MappingProxyType(
    {
        ExportType.CUSTOMERS: _schedule("30m", "5m", 5),
        ExportType.PRODUCTS: _schedule("90m", "30m", 1, timeout="30m"),
        ExportType.PRICES: _schedule("30m", "10m", 2, timeout="30m"),
        ExportType.ORDERS: _schedule("10m", "0s", 6),
        ExportType.DDT: _schedule("45m", "20m", 4),
        ExportType.INVOICES: _schedule("30m", "15m", 3),
    }
)
"""The schedules agreed with the business, one per :class:`ExportType`."""


_DEFAULT_QUIET_START: Final = time(0, 0)
_DEFAULT_QUIET_END: Final = time(6, 0)
_DEFAULT_TIMEZONE: Final = "Europe/Rome"


def _default_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(_DEFAULT_TIMEZONE)


@dataclass(frozen=True, slots=True)
class QuietHoursConfig:
    """A daily window without scheduled syncs (``[quiet_hours]``).

    The window is ``[start, end)`` in local time of ``timezone``; when
    ``end`` is earlier than ``start`` it wraps past midnight. ``start`` and
    ``end`` are whole minutes and differ when ``enabled``.
    """

    enabled: bool = True
    start: time = _DEFAULT_QUIET_START
    end: time = _DEFAULT_QUIET_END
    timezone: zoneinfo.ZoneInfo = field(default_factory=_default_zone)

    def is_quiet(self, moment: datetime) -> bool:
        """Whether *moment* (timezone-aware) falls in the quiet window.

        Raises :class:`ValueError` for a naive datetime, whose zone is unknown.
        """
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("is_quiet() needs a timezone-aware datetime")
        if not self.enabled:
            return False
        local = moment.astimezone(self.timezone).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """Retries of a failed sync (``[retry]``).

    After a transient failure a sync is tried again up to ``retries``
    times (the first try not counted). Retry ``n`` (from 1) waits
    ``min(max_delay, base_delay * 2**(n-1))`` seconds, randomly varied by
    up to ± ``jitter`` of that delay: by default 5 s, 10 s and 20 s.
    """

    retries: int = 3
    base_delay: float = 5.0
    max_delay: float = 300.0
    jitter: float = 0.1


@dataclass(frozen=True, slots=True)
class BrowserConfig:
    """The Chromium that Selenium drives (``[browser]``).

    The browser is closed after ``idle_timeout`` seconds without work.
    ``download_dir`` ``None`` means a private temporary folder. ``sandbox``
    false starts Chromium with ``--no-sandbox``, for a service whose own
    sandbox denies the namespaces Chromium's needs (it is always off as root).
    """

    chromium: Path = Path("/usr/bin/chromium")
    chromedriver: Path = Path("/usr/bin/chromedriver")
    headless: bool = True
    language: str = "it-IT"
    window_width: int = 1440
    window_height: int = 900
    idle_timeout: float = 600.0
    download_dir: Path | None = None
    sandbox: bool = True


@dataclass(frozen=True, slots=True)
class ControlConfig:
    """The local control socket (``[control]``); ``mode`` is its permission bits.

    Root and the daemon's own user may call every method, and so may the
    members of ``admin_groups``; members of ``read_groups`` may call the
    methods that read and open order-form sessions. A connection that sends
    nothing for ``idle_timeout`` seconds is closed (a ``watch`` or a waiting
    ``sync`` is not idle).
    """

    socket: Path = Path("/run/archid/control.sock")
    mode: int = 0o660
    admin_groups: tuple[str, ...] = ()
    read_groups: tuple[str, ...] = ()
    idle_timeout: float = 300.0


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """Prometheus metrics (``[metrics]``).

    ``textfile`` (a ``.prom`` file for node_exporter's textfile collector)
    is rewritten after every sync and every minute; ``listen`` (host, port)
    serves the same text over HTTP. Either is ``None`` when off, the
    default. ``instance`` is the ``archid_instance`` label on every series,
    telling two daemons on one host apart; it defaults to the configuration
    file's name without its suffix (``komet-napoli.toml`` → ``komet-napoli``).
    """

    textfile: Path | None = None
    listen: tuple[str, int] | None = None
    instance: str = "archid"


@dataclass(frozen=True, slots=True)
class SessionsConfig:
    """Order-form sessions (``[sessions]``).

    A session left open longer than ``safety_timeout`` seconds is closed.
    """

    safety_timeout: float = 600.0


@dataclass(frozen=True, slots=True)
class LoadConfig:
    """Host load limits (``[load]``).

    Scheduled syncs wait while the 1-minute load average is above
    ``max_load_average``; ``None`` disables the check.
    """

    max_load_average: float | None = 4.0


def _default_schedules() -> Mapping[ExportType, ScheduleConfig]:
    return DEFAULT_SCHEDULES


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration.

    Values built by :func:`load_config`/:func:`parse_config` are validated
    and their paths absolute; values built directly (in tests) are trusted
    as given. ``schedules`` is read-only and has one entry per
    :class:`ExportType`, in enum order. ``source`` names the file it was
    read from.
    """

    portal: PortalConfig
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    schedules: Mapping[ExportType, ScheduleConfig] = field(default_factory=_default_schedules)
    quiet_hours: QuietHoursConfig = field(default_factory=QuietHoursConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)
    browser: BrowserConfig = field(default_factory=BrowserConfig)
    control: ControlConfig = field(default_factory=ControlConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    sessions: SessionsConfig = field(default_factory=SessionsConfig)
    load: LoadConfig = field(default_factory=LoadConfig)
    source: str | None = None


_SCHEDULE_KEYS: Final = ("every", "offset", "priority", "enabled", "timeout", "max_stretch")

SECTION_KEYS: Final[Mapping[str, tuple[str, ...]]] = types.MappingProxyType(
    {
        "portal": (
            "url",
            "username",
            "password_file",
            "verify_tls",
            "ca_file",
            "daily_login_budget",
            "login_timeout",
            "page_timeout",
            "download_timeout",
        ),
        "database": ("path", "busy_timeout"),
        "guard": ("min_export_share", "max_delete_share"),
        **{f"schedule.{export_type}": _SCHEDULE_KEYS for export_type in ExportType},
        "quiet_hours": ("enabled", "start", "end", "timezone"),
        "retry": ("retries", "base_delay", "max_delay", "jitter"),
        "browser": (
            "chromium",
            "chromedriver",
            "headless",
            "language",
            "window_width",
            "window_height",
            "idle_timeout",
            "download_dir",
            "sandbox",
        ),
        "control": ("socket", "mode", "admin_groups", "read_groups", "idle_timeout"),
        "metrics": ("textfile", "listen", "instance"),
        "sessions": ("safety_timeout",),
        "load": ("max_load_average",),
    }
)
"""Every section of the file (``schedule.<type>`` for each type) and its keys."""

_TOP_LEVEL: Final = (
    "portal",
    "database",
    "guard",
    "schedule",
    "quiet_hours",
    "retry",
    "browser",
    "control",
    "metrics",
    "sessions",
    "load",
)
_EXPORT_TYPES: Final = tuple(export_type.value for export_type in ExportType)


# --------------------------------------------------------------------------
# Loading


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
        message, line = _toml_error_location(str(exc), text)
        raise ConfigError(f"invalid TOML: {message}", line=line, source=source) from None
    context = _Context(
        source=source, base_dir=Path(os.path.abspath(base_dir)), locator=_Locator(text)
    )
    return _build_config(context, root)


def _toml_error_location(message: str, text: str) -> tuple[str, int | None]:
    # tomllib (3.11) puts the position only in the message text.
    match = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
    if match is not None:
        return message[: match.start()], int(match[1])
    match = re.search(r"\s*\(at end of document\)$", message)
    if match is not None:
        return f"{message[: match.start()]} at end of file", max(1, len(text.splitlines()))
    return message, None


def _build_config(context: _Context, root: Mapping[str, object]) -> Config:
    _reject_unknown(context, (), root, _TOP_LEVEL, what="section")

    def section(name: str) -> _Section:
        return context.section(name, root.get(name))

    portal = _portal(section("portal"))
    database = _database(section("database"))
    schedule_root = context.table(("schedule",), root.get("schedule"))
    _reject_unknown(context, ("schedule",), schedule_root, _EXPORT_TYPES, what="export type")
    schedules = {
        export_type: _schedule_section(
            context.section(f"schedule.{export_type}", schedule_root.get(export_type)),
            DEFAULT_SCHEDULES[export_type],
        )
        for export_type in ExportType
    }
    return Config(
        portal=portal,
        database=database,
        guard=_guard(section("guard")),
        schedules=types.MappingProxyType(schedules),
        quiet_hours=_quiet_hours(section("quiet_hours")),
        retry=_retry(section("retry")),
        browser=_browser(section("browser")),
        control=_control(section("control")),
        metrics=_metrics(section("metrics")),
        sessions=_sessions(section("sessions")),
        load=_load(section("load")),
        source=context.source,
    )


def _portal(section: _Section) -> PortalConfig:
    url = _base_url(section)
    username = section.required_string("username", "the portal user name archid logs in as")
    if not username or username != username.strip() or not username.isprintable():
        raise section.error(
            "username",
            f"{_show(username)} is empty or has surrounding white space or control characters",
        )
    configured = section.optional_path("password_file")
    password_file = password_credential() or configured
    if password_file is None:
        raise section.error(
            "password_file",
            "required key is missing (a file holding the portal password, e.g."
            f" secrets/portal-password, or the systemd credential {PASSWORD_CREDENTIAL})",
        )
    password = _read_password(section, password_file)
    verify_tls = section.boolean("verify_tls", True)
    ca_file = section.optional_path("ca_file")
    if ca_file is not None:
        if not verify_tls:
            raise section.error("ca_file", "has no effect with portal.verify_tls = false")
        if not ca_file.is_file():
            raise section.error("ca_file", f"{ca_file} is not a file")
    defaults = PortalConfig(url="", username="", password=Secret(""))
    return PortalConfig(
        url=url,
        username=username,
        password=password,
        password_file=password_file,
        verify_tls=verify_tls,
        ca_file=ca_file,
        daily_login_budget=section.integer(
            "daily_login_budget", defaults.daily_login_budget, minimum=1
        ),
        login_timeout=section.duration("login_timeout", defaults.login_timeout),
        page_timeout=section.duration("page_timeout", defaults.page_timeout),
        download_timeout=section.duration("download_timeout", defaults.download_timeout),
    )


def _base_url(section: _Section) -> str:
    value = section.required_string(
        "url", 'the portal\'s base address, e.g. "https://erp.example.com/Archibald/"'
    )
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise section.error("url", f"{_show(value)} is not a valid URL") from None
    if parts.username is not None or parts.password is not None:
        # Do not echo the value: it may hold a password.
        raise section.error(
            "url",
            "must not contain a user name or password;"
            " use portal.username and portal.password_file",
        )
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise section.error(
            "url",
            f'{_show(value)} is not an http(s) URL (e.g. "https://erp.example.com/Archibald/")',
        )
    if any(char.isspace() for char in value):
        raise section.error("url", f"{_show(value)} contains white space")
    if parts.query or parts.fragment:
        raise section.error("url", f"{_show(value)} must be a base address, without ? or #")
    # A base without the trailing slash would lose its last segment in urljoin.
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def password_credential(environ: Mapping[str, str] = os.environ) -> Path | None:
    """``$CREDENTIALS_DIRECTORY/portal-password`` if systemd handed that credential over.

    The unit's ``LoadCredential=`` copies the password into a folder only
    the service can read; it goes before ``portal.password_file``.
    """
    directory = environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return None
    path = Path(directory) / PASSWORD_CREDENTIAL
    return path if os.path.lexists(path) else None


class PasswordFileError(Exception):
    """The password file is unreadable, readable by others, not UTF-8 or empty.

    The message names the file, never its content.
    """


def read_password_file(path: Path) -> str:
    """The password in ``path``, without the final line break.

    Raises :class:`PasswordFileError` when the file cannot be read, when its
    group or others have any access to it (the fix, ``chmod 600``, is in the
    message), or when it is not UTF-8 text or empty.
    """
    try:
        with path.open("rb") as f:
            # The mode of the file actually opened, not of whatever the path names later.
            mode = os.fstat(f.fileno()).st_mode
            data = f.read() if mode & 0o077 == 0 else b""
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PasswordFileError(f"cannot read the password file {path}: {reason}") from None
    if mode & 0o077:
        raise PasswordFileError(
            f"the password file {path} has mode {mode & 0o7777:04o}: other users can read"
            f" or change it; only its owner may (chmod 600 {path})"
        )
    try:
        text: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        # Not chained: the decode error carries the file's bytes.
        text = None
    if text is None:
        raise PasswordFileError(f"the password file {path} is not UTF-8 text")
    password = text.rstrip("\r\n")
    if not password:
        raise PasswordFileError(f"the password file {path} is empty")
    return password


def _read_password(section: _Section, path: Path) -> Secret:
    try:
        return Secret(read_password_file(path))
    except PasswordFileError as exc:
        raise section.error("password_file", str(exc)) from None


def _database(section: _Section) -> DatabaseConfig:
    defaults = DatabaseConfig()
    return DatabaseConfig(
        path=section.path("path", defaults.path),
        busy_timeout=section.duration("busy_timeout", defaults.busy_timeout),
    )


def _guard(section: _Section) -> GuardConfig:
    defaults = GuardConfig()
    return GuardConfig(
        min_export_share=section.number(
            "min_export_share", defaults.min_export_share, minimum=0, maximum=1
        ),
        max_delete_share=section.number(
            "max_delete_share", defaults.max_delete_share, minimum=0, maximum=1
        ),
    )


def _schedule_section(section: _Section, default: ScheduleConfig) -> ScheduleConfig:
    every = section.duration("every", default.every)
    offset = section.duration("offset", default.offset, allow_zero=True)
    if offset >= every:
        raise section.error(
            "offset", f"must be shorter than {section.dotted('every')} ({format_duration(every)})"
        )
    return ScheduleConfig(
        every=every,
        offset=offset,
        priority=section.integer("priority", default.priority),
        enabled=section.boolean("enabled", default.enabled),
        timeout=section.duration("timeout", default.timeout),
        max_stretch=section.number("max_stretch", default.max_stretch, minimum=1.0),
    )


_TIME_OF_DAY: Final = re.compile(r"(\d{1,2}):(\d{2})")


def _time_of_day(section: _Section, key: str, default: time) -> time:
    value = section.get(key)
    if value is None:
        return default
    problem = f"{_show(value)} is not a time of day (HH:MM, 00:00-23:59)"
    if isinstance(value, time):
        if value.second or value.microsecond or value.tzinfo is not None:
            raise section.error(key, problem)
        return value
    if not isinstance(value, str):
        raise section.error(key, problem)
    match = _TIME_OF_DAY.fullmatch(value.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise section.error(key, problem)
    return time(int(match[1]), int(match[2]))


def _quiet_hours(section: _Section) -> QuietHoursConfig:
    # Not QuietHoursConfig(): its default zone must not be loaded before the
    # configured one, or a missing tz database fails outside any key.
    enabled = section.boolean("enabled", True)
    start = _time_of_day(section, "start", _DEFAULT_QUIET_START)
    end = _time_of_day(section, "end", _DEFAULT_QUIET_END)
    if enabled and start == end:
        raise section.error(
            "end",
            f"equals {section.dotted('start')}, an empty window;"
            f" set {section.dotted('enabled')} = false instead",
        )
    return QuietHoursConfig(
        enabled=enabled,
        start=start,
        end=end,
        timezone=_zone(section, "timezone", _DEFAULT_TIMEZONE),
    )


def _zone(section: _Section, key: str, default: str) -> zoneinfo.ZoneInfo:
    name = section.string(key, default)
    try:
        return zoneinfo.ZoneInfo(name)
    except zoneinfo.ZoneInfoNotFoundError:
        pass
    except ValueError:
        raise section.error(key, f"{_show(name)} is not a time zone name") from None
    known = zoneinfo.available_timezones()
    if not known:
        searched = ", ".join(zoneinfo.TZPATH) or "nowhere"
        raise section.error(
            key,
            f"cannot look up {_show(name)}: this system has no time zone database"
            f" (searched {searched}); install the operating system's tzdata package",
        )
    raise section.error(
        key,
        f'unknown time zone {_show(name)} (an IANA name like "Europe/Rome")'
        + _suggestion(name, known),
    )


def _retry(section: _Section) -> RetryConfig:
    defaults = RetryConfig()
    base_delay = section.duration("base_delay", defaults.base_delay)
    max_delay = section.duration("max_delay", defaults.max_delay)
    if max_delay < base_delay:
        raise section.error(
            "max_delay",
            f"must not be shorter than {section.dotted('base_delay')}"
            f" ({format_duration(base_delay)})",
        )
    return RetryConfig(
        retries=section.integer("retries", defaults.retries, minimum=0),
        base_delay=base_delay,
        max_delay=max_delay,
        jitter=section.number("jitter", defaults.jitter, minimum=0.0, maximum=1.0),
    )


_LANGUAGE_TAG: Final = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


def _browser(section: _Section) -> BrowserConfig:
    defaults = BrowserConfig()
    language = section.string("language", defaults.language)
    if not _LANGUAGE_TAG.fullmatch(language):
        raise section.error("language", f'{_show(language)} is not a language tag like "it-IT"')
    return BrowserConfig(
        chromium=section.path("chromium", defaults.chromium),
        chromedriver=section.path("chromedriver", defaults.chromedriver),
        headless=section.boolean("headless", defaults.headless),
        language=language,
        window_width=section.integer(
            "window_width", defaults.window_width, minimum=320, maximum=16384
        ),
        window_height=section.integer(
            "window_height", defaults.window_height, minimum=240, maximum=16384
        ),
        idle_timeout=section.duration("idle_timeout", defaults.idle_timeout),
        download_dir=section.optional_path("download_dir"),
        sandbox=section.boolean("sandbox", defaults.sandbox),
    )


_OCTAL_MODE: Final = re.compile(r"(?:0o|0)?([0-7]{1,4})")


def _control(section: _Section) -> ControlConfig:
    defaults = ControlConfig()
    socket = section.path("socket", defaults.socket)
    if len(os.fsencode(socket)) > MAX_SOCKET_PATH_BYTES:
        raise section.error(
            "socket",
            f"{socket} is {len(os.fsencode(socket))} bytes long;"
            f" a Unix socket path can have at most {MAX_SOCKET_PATH_BYTES}",
        )
    return ControlConfig(
        socket=socket,
        mode=_file_mode(section, "mode", defaults.mode),
        admin_groups=_group_names(section, "admin_groups"),
        read_groups=_group_names(section, "read_groups"),
        idle_timeout=section.duration("idle_timeout", defaults.idle_timeout),
    )


def _group_names(section: _Section, key: str) -> tuple[str, ...]:
    """A list of group names; whether they exist is seen when a peer connects."""
    value = section.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise section.error(key, f"{_show(value)} must be a list of group names (strings)")
    names = tuple(value)
    for name in names:
        if not name or name != name.strip() or ":" in name:
            raise section.error(key, f"{_show(name)} is not a group name")
    return names


def _file_mode(section: _Section, key: str, default: int) -> int:
    value = section.get(key)
    if value is None:
        return default
    problem = f'{_show(value)} is not a file mode (octal, like "0660" or 0o660)'
    if isinstance(value, str):
        match = _OCTAL_MODE.fullmatch(value.strip())
        if match is None:
            raise section.error(key, problem)
        mode = int(match[1], 8)
    elif isinstance(value, int) and not isinstance(value, bool):
        # TOML reads 660 as decimal six hundred sixty, which as a mode would
        # silently mean 0o1224: only accept integers written in octal.
        raw = section.raw_value(key)
        if raw is not None and not raw.lower().startswith("0o"):
            written = raw.split("#")[0].strip()
            raise section.error(
                key,
                f"{written} is a decimal number; write the mode in octal,"
                f' as "0{written}" or 0o{written}',
            )
        mode = value
    else:
        raise section.error(key, problem)
    if not 0 <= mode <= 0o777:
        raise section.error(key, f"{problem}; permission bits go from 0000 to 0777")
    return mode


#: ``[metrics] listen``: ``host:port`` or ``[v6 address]:port``
_LISTEN: Final = re.compile(
    r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^\s:\[\]]+)):(?P<port>\d{1,5})"
)
#: ``[metrics] instance``: a label value that needs no quoting anywhere
_INSTANCE: Final = re.compile(r"[A-Za-z0-9._@-]{1,64}")


def _metrics(section: _Section) -> MetricsConfig:
    textfile = section.optional_path("textfile")
    # node_exporter reads only *.prom: any other name would be ignored without a word.
    if textfile is not None and textfile.suffix != ".prom":
        raise section.error(
            "textfile", f"{textfile} does not end in .prom (node_exporter reads only *.prom files)"
        )
    listen: tuple[str, int] | None = None
    written = section.string("listen", "")
    if written:
        match = _LISTEN.fullmatch(written)
        port = int(match["port"]) if match else 0
        if match is None or not 1 <= port <= 65535:
            raise section.error(
                "listen",
                f'{_show(written)} is not an address and port like "127.0.0.1:9464"'
                ' or "[::1]:9464" (port 1-65535)',
            )
        listen = (match["v6"] or match["host"], port)
    stem = Path(section._context.source).stem
    instance = section.string("instance", stem if _INSTANCE.fullmatch(stem) else "archid")
    if not _INSTANCE.fullmatch(instance):
        raise section.error(
            "instance",
            f"{_show(instance)} is not a label value of 1-64 letters, digits, '.', '_', '-' or '@'",
        )
    return MetricsConfig(textfile=textfile, listen=listen, instance=instance)


def _sessions(section: _Section) -> SessionsConfig:
    return SessionsConfig(
        safety_timeout=section.duration("safety_timeout", SessionsConfig().safety_timeout)
    )


def _load(section: _Section) -> LoadConfig:
    default = LoadConfig().max_load_average
    assert default is not None
    limit = section.number("max_load_average", default, minimum=0.0)
    # TOML has no null: 0 is the documented way to switch the check off.
    return LoadConfig(max_load_average=limit or None)


# --------------------------------------------------------------------------
# Checking from the command line


def summarize_config(config: Config) -> str:
    """Return a short human description of *config*, without the password."""
    portal = config.portal
    tls = "TLS verified" if portal.verify_tls else "TLS NOT verified"
    if portal.ca_file is not None:
        tls += f" against {portal.ca_file}"
    lines = [
        f"portal: {portal.url} as {portal.username}"
        f" ({tls}; at most {portal.daily_login_budget} logins a day)",
        f"database: {config.database.path}",
        "schedule:",
    ]
    for export_type, schedule in config.schedules.items():
        state = "" if schedule.enabled else "  (disabled)"
        lines.append(
            f"  {export_type:<10} every {format_duration(schedule.every):<6}"
            f" offset {format_duration(schedule.offset):<6}"
            f" priority {schedule.priority:<3}"
            f" timeout {format_duration(schedule.timeout)}{state}"
        )
    quiet = config.quiet_hours
    if quiet.enabled:
        lines.append(f"quiet hours: {quiet.start:%H:%M}-{quiet.end:%H:%M} {quiet.timezone.key}")
    else:
        lines.append("quiet hours: off")
    control = config.control
    lines.append(
        f"control socket: {control.socket} (mode {control.mode:04o},"
        f" admin groups: {', '.join(control.admin_groups) or 'none'},"
        f" read groups: {', '.join(control.read_groups) or 'none'},"
        f" idle timeout {format_duration(control.idle_timeout)})"
    )
    metrics = config.metrics
    outputs = [f"textfile {metrics.textfile}"] if metrics.textfile else []
    if metrics.listen is not None:
        host, port = metrics.listen
        outputs.append(f"http://{f'[{host}]' if ':' in host else host}:{port}/metrics")
    lines.append(
        f"metrics: {' and '.join(outputs)} (archid_instance={metrics.instance!r})"
        if outputs
        else "metrics: off"
    )
    return "\n".join(lines)


def check_config(path: str | os.PathLike[str] | None = None) -> int:
    """Load the configuration for ``archid check-config`` and report.

    *path* ``None`` means :func:`default_config_path`. On success prints
    the source and :func:`summarize_config` to stdout and returns 0; on a
    :class:`ConfigError` prints ``archid: <error>`` to stderr and returns
    :data:`EX_CONFIG` (78).
    """
    target = default_config_path() if path is None else path
    try:
        config = load_config(target)
    except ConfigError as exc:
        print(f"archid: {exc}", file=sys.stderr)
        return EX_CONFIG
    print(f"{os.fspath(target)}: configuration is valid")
    print(summarize_config(config))
    return 0


# --------------------------------------------------------------------------
# Validation helpers


def _show(value: object) -> str:
    """Render *value* as it would be written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, time):
        return "a time"
    return "a date"


def _suggestion(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {_show(close[0])}?" if close else ""


def _reject_unknown(
    context: _Context,
    path: tuple[str, ...],
    table: Mapping[str, object],
    known: tuple[str, ...],
    *,
    what: str,
) -> None:
    unknown = [key for key in table if key not in known]
    if not unknown:
        return
    # Report the first one in the file, as a reader would meet it.
    unknown.sort(key=lambda key: context.locator.line((*path, key)) or 0)
    key = unknown[0]
    listing = ", ".join(known)
    raise context.error(
        (*path, key),
        f"unknown {what} {_show(key)}{_suggestion(key, known)} (known: {listing})",
    )


@dataclass(frozen=True, slots=True)
class _Context:
    source: str
    base_dir: Path
    locator: _Locator

    def error(self, path: tuple[str, ...], message: str) -> ConfigError:
        return ConfigError(
            message, key=".".join(path), line=self.locator.line(path), source=self.source
        )

    def table(self, path: tuple[str, ...], value: object) -> Mapping[str, object]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"expected a table [{'.'.join(path)}], got {_kind(value)}")
        return value

    def section(self, name: str, value: object) -> _Section:
        """The section *name* (a key of SECTION_KEYS) whose parsed value is *value*."""
        path = tuple(name.split("."))
        data = self.table(path, value)
        _reject_unknown(self, path, data, SECTION_KEYS[name], what="key")
        return _Section(self, path, data)


class _Section:
    """Typed access to one table; each getter validates or raises ConfigError."""

    def __init__(self, context: _Context, path: tuple[str, ...], data: Mapping[str, object]):
        self._context = context
        self._path = path
        self._data = data

    def dotted(self, key: str) -> str:
        return ".".join((*self._path, key))

    def error(self, key: str, message: str) -> ConfigError:
        return self._context.error((*self._path, key), message)

    def get(self, key: str) -> object | None:
        # TOML has no null, so None can only mean "not written".
        return self._data.get(key)

    def raw_value(self, key: str) -> str | None:
        return self._context.locator.raw_value((*self._path, key))

    def _wrong_type(self, key: str, expected: str, value: object) -> ConfigError:
        return self.error(key, f"expected {expected}, got {_kind(value)} ({_show(value)})")

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
            raise self.error(key, f"{_show(value)} is not a finite number")
        self._check_range(key, value, minimum, maximum)
        return float(value)

    def _check_range(
        self, key: str, value: float, minimum: float | None, maximum: float | None
    ) -> None:
        if minimum is not None and maximum is not None:
            if not minimum <= value <= maximum:
                raise self.error(key, f"{_show(value)} is not between {minimum} and {maximum}")
        elif minimum is not None and value < minimum:
            raise self.error(key, f"{_show(value)} is less than {minimum}")
        elif maximum is not None and value > maximum:
            raise self.error(key, f"{_show(value)} is more than {maximum}")

    def duration(self, key: str, default: float, *, allow_zero: bool = False) -> float:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self._wrong_type(key, f"a duration ({_DURATION_HELP})", value)
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None
        if seconds == 0 and not allow_zero:
            raise self.error(key, f"{_show(value)} is zero; it must be a positive duration")
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
            raise self.error(key, f"{_show(value)} is not a path")
        try:
            path = Path(value).expanduser()
        except RuntimeError:
            raise self.error(key, f"{_show(value)}: cannot expand ~ here") from None
        return Path(os.path.normpath(self._context.base_dir / path))

    def path(self, key: str, default: Path) -> Path:
        value = self.get(key)
        if value is None:
            return self._resolve(key, str(default))
        if not isinstance(value, str):
            raise self._wrong_type(key, "a path (a string)", value)
        return self._resolve(key, value)

    def required_path(self, key: str, what: str) -> Path:
        return self._resolve(key, self.required_string(key, what))

    def optional_path(self, key: str) -> Path | None:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong_type(key, "a path (a string)", value)
        return self._resolve(key, value)


# --------------------------------------------------------------------------
# Finding keys in the text


class _Locator:
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
