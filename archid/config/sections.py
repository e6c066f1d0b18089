"""Each section of the file: its keys, and the reader that validates it into its dataclass.

:func:`build_config` reads the sections in a fixed order (``portal``,
``database``, ``schedule``, then the rest as :class:`Config` lists them), so
that of several mistakes the same one is always reported. Each reader
checks every value (type, range) and what involves several keys (an offset
shorter than its interval, a non-empty quiet window), and raises
:class:`ConfigError` at the key to fix.
"""

from __future__ import annotations

import os
import re
import types
import zoneinfo
from collections.abc import Mapping
from dataclasses import fields
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit, urlunsplit

from archid.config.describe import show
from archid.config.durations import format_duration
from archid.config.model import (
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    DEFAULT_SCHEDULES,
    DEFAULT_TIMEZONE,
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
from archid.config.tables import Context, Section, reject_unknown, suggestion
from archid.records import ExportType

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def _keys(model: type[DataclassInstance], *, besides: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The keys of the section read into *model*: its fields in order, but *besides*."""
    return tuple(f.name for f in fields(model) if f.name not in besides)


SECTION_KEYS: Final[Mapping[str, tuple[str, ...]]] = types.MappingProxyType(
    {
        # The password is not written in the file but read from password_file.
        "portal": _keys(PortalConfig, besides=("password",)),
        "database": _keys(DatabaseConfig),
        "guard": _keys(GuardConfig),
        **{
            f"schedule.{export_type}": _keys(
                ScheduleConfig,
                # Customers have no modification time to check: always exported.
                besides=("max_unchanged_age",) if export_type is ExportType.CUSTOMERS else (),
            )
            for export_type in ExportType
        },
        "quiet_hours": _keys(QuietHoursConfig),
        "retry": _keys(RetryConfig),
        "browser": _keys(BrowserConfig),
        "control": _keys(ControlConfig),
        "metrics": _keys(MetricsConfig),
        "sessions": _keys(SessionsConfig),
        "load": _keys(LoadConfig),
    }
)
"""Every section of the file (``schedule.<type>`` for each type) and its keys."""

TOP_LEVEL: Final = tuple(dict.fromkeys(name.partition(".")[0] for name in SECTION_KEYS))
"""The tables allowed at the top of the file, in the order the file lists them."""

_EXPORT_TYPES: Final = tuple(export_type.value for export_type in ExportType)

# Unix socket paths live in a fixed sockaddr_un.sun_path buffer of 108 bytes
# on Linux, one of which is the terminating NUL.
MAX_SOCKET_PATH_BYTES: Final = 107


def build_config(context: Context, root: Mapping[str, object]) -> Config:
    """The :class:`Config` that the parsed file *root* describes; raises :class:`ConfigError`."""
    reject_unknown(context, (), root, TOP_LEVEL, what="section")

    def section(name: str) -> Section:
        return context.section(name, root.get(name), SECTION_KEYS[name])

    portal = _portal(section("portal"))
    database = _database(section("database"))
    schedule_root = context.table(("schedule",), root.get("schedule"))
    reject_unknown(context, ("schedule",), schedule_root, _EXPORT_TYPES, what="export type")
    schedules = {
        export_type: _schedule_section(
            context.section(
                f"schedule.{export_type}",
                schedule_root.get(export_type),
                SECTION_KEYS[f"schedule.{export_type}"],
            ),
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


def _portal(section: Section) -> PortalConfig:
    url = _base_url(section)
    username = section.required_string("username", "the portal user name archid logs in as")
    if not username or username != username.strip() or not username.isprintable():
        raise section.error(
            "username",
            f"{show(username)} is empty or has surrounding white space or control characters",
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
        session_idle=section.duration("session_idle", defaults.session_idle),
        keep_interactive_ready=section.boolean(
            "keep_interactive_ready", defaults.keep_interactive_ready
        ),
    )


def _base_url(section: Section) -> str:
    value = section.required_string(
        "url", 'the portal\'s base address, e.g. "https://erp.example.com/Archibald/"'
    )
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise section.error("url", f"{show(value)} is not a valid URL") from None
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
            f'{show(value)} is not an http(s) URL (e.g. "https://erp.example.com/Archibald/")',
        )
    if any(char.isspace() for char in value):
        raise section.error("url", f"{show(value)} contains white space")
    if parts.query or parts.fragment:
        raise section.error("url", f"{show(value)} must be a base address, without ? or #")
    # A base without the trailing slash would lose its last segment in urljoin.
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _read_password(section: Section, path: Path) -> Secret:
    try:
        return Secret(read_password_file(path))
    except PasswordFileError as exc:
        raise section.error("password_file", str(exc)) from None


def _database(section: Section) -> DatabaseConfig:
    defaults = DatabaseConfig()
    return DatabaseConfig(
        path=section.path("path", defaults.path),
        busy_timeout=section.duration("busy_timeout", defaults.busy_timeout),
    )


def _guard(section: Section) -> GuardConfig:
    defaults = GuardConfig()
    return GuardConfig(
        min_export_share=section.number(
            "min_export_share", defaults.min_export_share, minimum=0, maximum=1
        ),
        max_delete_share=section.number(
            "max_delete_share", defaults.max_delete_share, minimum=0, maximum=1
        ),
    )


def _schedule_section(section: Section, default: ScheduleConfig) -> ScheduleConfig:
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
        max_unchanged_age=section.duration("max_unchanged_age", default.max_unchanged_age),
    )


_TIME_OF_DAY: Final = re.compile(r"(\d{1,2}):(\d{2})")


def _time_of_day(section: Section, key: str, default: time) -> time:
    value = section.get(key)
    if value is None:
        return default
    problem = f"{show(value)} is not a time of day (HH:MM, 00:00-23:59)"
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


def _quiet_hours(section: Section) -> QuietHoursConfig:
    # Not QuietHoursConfig(): its default zone must not be loaded before the
    # configured one, or a missing tz database fails outside any key.
    enabled = section.boolean("enabled", True)
    start = _time_of_day(section, "start", DEFAULT_QUIET_START)
    end = _time_of_day(section, "end", DEFAULT_QUIET_END)
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
        timezone=_zone(section, "timezone", DEFAULT_TIMEZONE),
    )


def _zone(section: Section, key: str, default: str) -> zoneinfo.ZoneInfo:
    name = section.string(key, default)
    try:
        return zoneinfo.ZoneInfo(name)
    except zoneinfo.ZoneInfoNotFoundError:
        pass
    except ValueError:
        raise section.error(key, f"{show(name)} is not a time zone name") from None
    known = zoneinfo.available_timezones()
    if not known:
        searched = ", ".join(zoneinfo.TZPATH) or "nowhere"
        raise section.error(
            key,
            f"cannot look up {show(name)}: this system has no time zone database"
            f" (searched {searched}); install the operating system's tzdata package",
        )
    raise section.error(
        key,
        f'unknown time zone {show(name)} (an IANA name like "Europe/Rome")'
        + suggestion(name, known),
    )


def _retry(section: Section) -> RetryConfig:
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


def _browser(section: Section) -> BrowserConfig:
    defaults = BrowserConfig()
    language = section.string("language", defaults.language)
    if not _LANGUAGE_TAG.fullmatch(language):
        raise section.error("language", f'{show(language)} is not a language tag like "it-IT"')
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


def _control(section: Section) -> ControlConfig:
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


def _group_names(section: Section, key: str) -> tuple[str, ...]:
    """A list of group names; whether they exist is seen when a peer connects."""
    value = section.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise section.error(key, f"{show(value)} must be a list of group names (strings)")
    names = tuple(value)
    for name in names:
        if not name or name != name.strip() or ":" in name:
            raise section.error(key, f"{show(name)} is not a group name")
    return names


def _file_mode(section: Section, key: str, default: int) -> int:
    value = section.get(key)
    if value is None:
        return default
    problem = f'{show(value)} is not a file mode (octal, like "0660" or 0o660)'
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


def _metrics(section: Section) -> MetricsConfig:
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
                f'{show(written)} is not an address and port like "127.0.0.1:9464"'
                ' or "[::1]:9464" (port 1-65535)',
            )
        listen = (match["v6"] or match["host"], port)
    stem = Path(section.source).stem
    instance = section.string("instance", stem if _INSTANCE.fullmatch(stem) else "archid")
    if not _INSTANCE.fullmatch(instance):
        raise section.error(
            "instance",
            f"{show(instance)} is not a label value of 1-64 letters, digits, '.', '_', '-' or '@'",
        )
    return MetricsConfig(textfile=textfile, listen=listen, instance=instance)


def _sessions(section: Section) -> SessionsConfig:
    return SessionsConfig(
        safety_timeout=section.duration("safety_timeout", SessionsConfig().safety_timeout)
    )


def _load(section: Section) -> LoadConfig:
    default = LoadConfig().max_load_average
    assert default is not None
    limit = section.number("max_load_average", default, minimum=0.0)
    # TOML has no null: 0 is the documented way to switch the check off.
    return LoadConfig(max_load_average=limit or None)
