"""The portal hold: after wrong credentials, a block or a spent budget, no login at all.

One permanent login failure says something about every export type: with
six types due, a wrong password tried once per type and retry made ten
logins in 90 s, and logging in too often gets the IP blocked (spec
section 3, item 9). So a failure whose class says ``hold = True``
(:mod:`archid.portal.errors`) puts the whole portal on hold: every export
then fails at once with the same class of error, without a browser or a
login, until the hold lifts:

* the password file changes (edited, replaced or touched: its
  :meth:`~archid.portal.password.PasswordFile.fingerprint` moves), for a
  wrong password or a block;
* the next portal day begins (midnight Europe/Rome, the login budget's
  day), for a spent budget or a block;
* someone calls :meth:`archid.portal.session.AsyncPortal.resume`: an admin,
  or the daemon after a configuration reload.

Looking at a hold changes nothing: a hold whose time has come
(:meth:`PortalHold.lifted_by`) is no longer in force, but it is forgotten,
and its file removed, only by an explicit call
(:meth:`~archid.portal.session.AsyncPortal.lift_expired`, made before each
export and by the daemon's hold watch).

A hold outlives the process (:func:`save_hold`, ``portal-hold.json`` in the
state folder): a daemon restarted in a loop with a wrong password must not
try it once per start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archid.files import write_private
from archid.portal.errors import (
    LoginBudgetSpent,
    PermanentPortalError,
    PortalBlocked,
    Stage,
    WrongCredentials,
)


@dataclass(frozen=True, slots=True)
class PortalHold:
    """Why the portal is held, since when, and what lifts it.

    ``until`` is when the next portal day lifts it by itself (aware UTC),
    or ``None`` when only a change or an admin does. ``password_mark`` is
    the password file's fingerprint when the hold began.
    """

    error: PermanentPortalError
    since: datetime
    until: datetime | None
    password_mark: Any = None

    @property
    def kind(self) -> str:
        """The failure's class name (``WrongCredentials``, ``PortalBlocked``…)."""
        return type(self.error).__name__

    @property
    def reason(self) -> str:
        """What the portal (or the budget) said, with its stage."""
        return str(self.error)

    @property
    def lifts(self) -> str:
        """What ends the hold, in an operator's words."""
        return self.error.lifts

    def describe(self) -> str:
        """One line for STATUS and the log: why, since when, what lifts it."""
        since = self.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        line = f"portal hold since {since}: {self.kind}: {self.reason}; lifts when {self.lifts}"
        if self.until is not None:
            line += f" (next portal day at {self.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
        return line

    def lifted_by(self, now: datetime, password_mark: Any) -> str | None:
        """What lifted the hold by ``now``, in a log line's words, or ``None``
        while it holds. ``password_mark`` is the password file's fingerprint
        now. Only compares: the caller decides what to do with a lifted hold."""
        if self.until is not None and now >= self.until:
            return "a new portal day began"
        if self.error.password_change and password_mark != self.password_mark:
            return "the password file changed"
        return None

    def again(self) -> PermanentPortalError:
        """A fresh error of the held class, for an export refused during the hold."""
        message = f"{self.error.args[0]} (portal hold: no login until {self.lifts})"
        return type(self.error)(message, self.error.stage)


HOLD_FILE_NAME = "portal-hold.json"
_KINDS: dict[str, type[PermanentPortalError]] = {
    cls.__name__: cls for cls in (WrongCredentials, PortalBlocked, LoginBudgetSpent)
}


def save_hold(path: Path, hold: PortalHold, owner: dict[str, str]) -> None:
    """Write ``hold`` to ``path`` (atomically, mode 0600) so that a restart keeps it.

    ``owner`` (portal address and user) is stored with it: a hold is not
    carried over to another portal or user. Raises ``OSError``.
    """
    mark = hold.password_mark
    document = {
        **owner,
        "kind": hold.kind,
        "message": hold.error.args[0],
        "stage": str(hold.error.stage),
        "since": hold.since.astimezone(UTC).isoformat(),
        "until": None if hold.until is None else hold.until.astimezone(UTC).isoformat(),
        "password_mark": None if mark is None else list(mark),
    }
    write_private(path, json.dumps(document, indent=1, sort_keys=True) + "\n")


def load_hold(path: Path, owner: dict[str, str]) -> PortalHold | None:
    """The hold a previous process saved at ``path`` for ``owner``, or ``None``.

    A file that is missing, damaged, of another owner or of an unknown
    kind holds nothing (a damaged file is reported by the caller's next
    login attempt, not guessed at).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or any(data.get(k) != v for k, v in owner.items()):
            return None
        error = _KINDS[data["kind"]](str(data["message"]), Stage(data["stage"]))
        until = None if data["until"] is None else datetime.fromisoformat(data["until"])
        mark = data["password_mark"]
        return PortalHold(
            error,
            datetime.fromisoformat(data["since"]),
            until,
            None if mark is None else tuple(int(n) for n in mark),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
