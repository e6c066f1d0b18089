"""What a configuration is: one frozen dataclass per section, and their defaults.

The field defaults below are the documented defaults (the example
``config.toml`` shows them); a field without one is required in the file.
The field names, in order, are the keys of the section
(:data:`~archid.config.SECTION_KEYS` is derived from them), except
``PortalConfig.password``, which is read from the file ``password_file``
names. Nothing here validates: values built by
:func:`~archid.config.load_config` are checked, values built directly (in
tests) are trusted as given.
"""

from __future__ import annotations

import types
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Final

from archid.config.durations import parse_duration
from archid.config.secrets import Secret
from archid.records import ExportType


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
    login_timeout: float = 60.0
    page_timeout: float = 90.0
    download_timeout: float = 480.0
    session_idle: float = 1200.0
    keep_interactive_ready: bool = True


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

    A scheduled sync of a list with modification times (every type but
    customers) first checks the list and exports nothing if it looks as at
    the start of the last full export; ``max_unchanged_age`` seconds after
    that export, it exports whatever the check says.
    """

    every: float
    offset: float = 0.0
    priority: int = 0
    enabled: bool = True
    timeout: float = 900.0
    max_stretch: float = 4.0
    max_unchanged_age: float = 6 * 3600.0


def _schedule(
    every: str, offset: str, priority: int, timeout: str = "15m", max_stretch: float = 4.0
) -> ScheduleConfig:
    return ScheduleConfig(
        every=parse_duration(every),
        offset=parse_duration(offset),
        priority=priority,
        timeout=parse_duration(timeout),
        max_stretch=max_stretch,
    )


DEFAULT_SCHEDULES: Final[Mapping[ExportType, ScheduleConfig]] = types.MappingProxyType(
    {
        ExportType.CUSTOMERS: _schedule("30m", "5m", 5),
        ExportType.PRODUCTS: _schedule("90m", "30m", 1, timeout="30m"),
        ExportType.PRICES: _schedule("30m", "10m", 2, timeout="30m"),
        # Orders never stretch: their lag is the one agents feel (a checked,
        # unchanged list costs a page load, not an export).
        ExportType.ORDERS: _schedule("10m", "0s", 6, max_stretch=1.0),
        ExportType.DDT: _schedule("45m", "20m", 4),
        ExportType.INVOICES: _schedule("30m", "15m", 3),
    }
)
"""The schedules agreed with the business, one per :class:`ExportType`."""


# Named rather than written in QuietHoursConfig, because the reader of
# [quiet_hours] needs them without building a QuietHoursConfig() (see
# sections.py).
DEFAULT_QUIET_START: Final = time(0, 0)
DEFAULT_QUIET_END: Final = time(6, 0)
DEFAULT_TIMEZONE: Final = "Europe/Rome"


def _default_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)


@dataclass(frozen=True, slots=True)
class QuietHoursConfig:
    """A daily window without scheduled syncs (``[quiet_hours]``).

    The window is ``[start, end)`` in local time of ``timezone``; when
    ``end`` is earlier than ``start`` it wraps past midnight. ``start`` and
    ``end`` are whole minutes and differ when ``enabled``.
    """

    enabled: bool = True
    start: time = DEFAULT_QUIET_START
    end: time = DEFAULT_QUIET_END
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

    Values built by :func:`~archid.config.load_config` and
    :func:`~archid.config.parse_config` are validated
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
