"""The daily login budget: how many times archid may log in to the portal today.

Logging in too often got a predecessor's IP blocked (spec section 3, item
9), so every login is counted *before* its form is submitted (a crash in
the middle of a login still counts) in a small JSON ledger on disk that
survives restarts. Days are the portal's local days (Europe/Rome). The
ledger is rewritten atomically (temporary file, fsync, rename) under an
exclusive ``flock`` on a sibling lock file, so two processes sharing it
cannot lose a count.

A ledger that cannot be read is treated as a spent budget: not knowing how
many logins were made is no reason to risk more.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import threading
import zoneinfo
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

from archid.clock import utc_now
from archid.config import Config
from archid.files import write_private
from archid.portal.errors import LoginBudgetSpent, Stage

PORTAL_ZONE: Final = zoneinfo.ZoneInfo("Europe/Rome")
LEDGER_NAME: Final = "login-budget.json"
#: days of history kept in the ledger, for operators reading it
_KEEP_DAYS: Final = 14


def default_ledger_path(config: Config) -> Path:
    """``login-budget.json`` next to the configured database."""
    return config.database.path.parent / LEDGER_NAME


def next_portal_day(now: datetime, zone: zoneinfo.ZoneInfo = PORTAL_ZONE) -> datetime:
    """The first moment after ``now`` of the next day in ``zone``: its midnight, in UTC."""
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    midnight = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone)
    return midnight.astimezone(UTC)


class LoginBudget:
    """At most ``limit`` logins per portal day, counted in the ledger at ``path``.

    Safe to share between threads; processes sharing ``path`` serialise on
    its lock file. ``now`` is the wall clock: it returns the current time,
    timezone-aware (the system's UTC time by default; the daemon hands down
    its one clock's ``now_datetime``, tests a clock that jumps). Days are
    the portal's, in ``zone`` (Europe/Rome): the budget renews at midnight
    in Rome, whatever the host's time zone.
    """

    def __init__(
        self,
        path: Path,
        limit: int,
        *,
        now: Callable[[], datetime] = utc_now,
        zone: zoneinfo.ZoneInfo = PORTAL_ZONE,
    ) -> None:
        if limit < 0:
            raise ValueError("a login budget cannot be negative")
        self.path = path
        self.limit = limit
        self._now = now
        self._zone = zone
        self._lock = threading.Lock()

    @classmethod
    def from_config(
        cls,
        config: Config,
        path: Path | None = None,
        *,
        now: Callable[[], datetime] = utc_now,
    ) -> LoginBudget:
        """The budget of ``portal.daily_login_budget``, in the default ledger unless ``path``."""
        return cls(path or default_ledger_path(config), config.portal.daily_login_budget, now=now)

    def today(self) -> date:
        """The portal's current local date."""
        return self._now().astimezone(self._zone).date()

    def next_day(self) -> datetime:
        """When the budget renews: the next midnight in the portal's zone (aware, UTC)."""
        return next_portal_day(self._now(), self._zone)

    def used(self) -> int:
        """Logins counted today (the limit if the ledger cannot be read)."""
        with self._locked() as days:
            return self._used(days)

    def remaining(self) -> int:
        """Logins still allowed today."""
        return max(0, self.limit - self.used())

    def spend(self) -> int:
        """Count one login now and return how many remain today.

        Raises :class:`LoginBudgetSpent` (stage ``login``), counting
        nothing, when today's budget is already used up or the ledger
        cannot be read. Raises ``OSError`` if the ledger cannot be written:
        a login that cannot be counted is not made.
        """
        with self._locked() as days:
            used = self._used(days)
            if days is None or used >= self.limit:
                why = "cannot be read" if days is None else f"shows {used} logins today"
                raise LoginBudgetSpent(
                    f"the daily login budget ({self.limit}) is spent: {self.path} {why};"
                    " archid will not log in again before tomorrow (Europe/Rome)",
                    Stage.LOGIN,
                )
            today = self.today()
            days[today.isoformat()] = used + 1
            oldest = (today - timedelta(days=_KEEP_DAYS)).isoformat()
            self._write({day: n for day, n in days.items() if day > oldest})
            return self.limit - used - 1

    def _used(self, days: dict[str, int] | None) -> int:
        if days is None:
            return self.limit
        return days.get(self.today().isoformat(), 0)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, int] | None]:
        """The ledger's days (``None`` if unreadable), held under both locks."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with self._lock, lock_path.open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield self._read()
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _read(self) -> dict[str, int] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return None
        days = data.get("logins") if isinstance(data, dict) else None
        if not isinstance(days, dict) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in days.values()
        ):
            return None
        return {str(day): n for day, n in days.items()}

    def _write(self, days: dict[str, int]) -> None:
        text = json.dumps({"zone": str(self._zone), "logins": days}, indent=1, sort_keys=True)
        write_private(self.path, text + "\n")
