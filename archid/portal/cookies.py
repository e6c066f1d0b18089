"""The portal session's cookies, kept outside any browser and, given a path, on disk.

Whether a session is still alive cannot be read from its cookies: the
portal's (``ASP.NET_SessionId``, ``Login``, a user-name cookie and a few
named by GUIDs) carry no expiry, and the server ends an idle session
silently (spec v3, "Session"; section 3, item 17). So a session counts as
held while the cookies a login gave are here and the last page loaded
under them, within ``idle`` seconds, did not land on the login page; the
next page decides, and a page that lands on the login page ends it.

A browser closed for idleness, crashed or killed is replaced by one that
carries the same cookies, so it costs no login. With a ``path`` (the
daemon's is :func:`default_session_path`, in the state folder beside the
login-budget ledger) the cookies also outlive the process: every change
is written there atomically, mode 0600, and the next process starts with
them. Each login the portal sees counts against the daily budget and too
many get the IP blocked (spec section 3, item 9); a crash loop must not
spend them.

The cookies are secrets: they let anyone act as the agent. No value is
ever logged, put in an exception or shown by ``repr``. A session file is
used only if it belongs to this user, nobody else may read it, and it was
saved for the same portal address and user name.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from archid.clock import utc_now
from archid.config import Config
from archid.files import is_private, sync_folder, write_private

log = logging.getLogger("archid.portal")

SESSION_FILE_NAME: Final = "portal-session.json"
#: 2: the time of the last page that loaded under the cookies is kept with them
_FORMAT: Final = 2
#: the portal ends a session idle for about 20 to 30 minutes (spec v3)
DEFAULT_IDLE: Final = 1200.0


def default_session_path(config: Config) -> Path:
    """``portal-session.json`` next to the configured database (and the login ledger)."""
    return config.database.path.parent / SESSION_FILE_NAME


class SessionCookies:
    """The portal session's cookies (thread-safe), persisted at ``path`` if given.

    The session counts as held while cookies are here and :meth:`save` (called
    after every page that loaded under them and did not land on the login
    page) was called less than ``idle`` seconds ago. ``portal`` and ``user``
    say whose session it is: a file saved for another address or user is
    ignored. ``now`` is the wall clock the idle time is measured on.

    A file that cannot be written costs a warning, not the export: the
    session is kept in memory, and a restart then needs a login.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        portal: str = "",
        user: str = "",
        now: Callable[[], datetime] = utc_now,
        idle: float = DEFAULT_IDLE,
    ) -> None:
        self.path = path
        self.idle = idle
        self._owner = {"portal": portal, "user": user}
        self._now = now
        self._lock = threading.Lock()
        self._cookies: list[dict[str, Any]] = []
        #: wall-clock seconds of the last page that loaded under the cookies
        self._used = 0.0
        self._write_failed = False
        if path is not None:
            self._cookies, self._used = self._load(path)

    def __repr__(self) -> str:
        with self._lock:
            names = sorted(str(cookie.get("name")) for cookie in self._cookies)
        return f"SessionCookies(names={names}, path={self.path})"

    def valid(self, now: float | None = None) -> bool:
        """Whether a session is held: cookies, and a page loaded under them within ``idle``."""
        moment = self._now().timestamp() if now is None else now
        with self._lock:
            return bool(self._cookies) and 0 <= moment - self._used < self.idle

    def unused_for(self, now: float | None = None) -> float | None:
        """Seconds since the last page loaded under the cookies; ``None`` when no
        session is held (see :meth:`valid`)."""
        moment = self._now().timestamp() if now is None else now
        if not self.valid(moment):
            return None
        with self._lock:
            return moment - self._used

    def save(self, cookies: list[dict[str, Any]]) -> None:
        """Hold ``cookies`` (as Selenium's ``get_cookies`` gives them) after a page loaded
        under them, and write them out; the idle time starts again."""
        kept = [dict(cookie) for cookie in cookies if isinstance(cookie.get("name"), str)]
        with self._lock:
            self._cookies = kept
            self._used = self._now().timestamp() if kept else 0.0
            self._store(kept)

    def clear(self) -> None:
        """Forget the session, here and on disk."""
        with self._lock:
            self._cookies = []
            self._used = 0.0
            if self.path is None:
                return
            try:
                self.path.unlink(missing_ok=True)
                sync_folder(self.path.parent)
            except OSError as exc:
                self._warn(f"cannot remove the saved portal session {self.path}", exc)

    def restore(self, set_cookie: Callable[[dict[str, Any]], None]) -> None:
        """Give every cookie to ``set_cookie`` as CDP ``Network.setCookie`` parameters.

        The caller (the client) passes a function that puts one cookie into
        a fresh browser without loading any page.
        """
        with self._lock:
            cookies = list(self._cookies)
        for cookie in cookies:
            params: dict[str, Any] = {
                "name": cookie["name"],
                "value": cookie.get("value", ""),
                "domain": cookie.get("domain", ""),
                "path": cookie.get("path", "/"),
                "secure": bool(cookie.get("secure", False)),
                "httpOnly": bool(cookie.get("httpOnly", False)),
            }
            if cookie.get("sameSite") in ("Strict", "Lax", "None"):
                params["sameSite"] = cookie["sameSite"]
            if "expiry" in cookie:
                params["expires"] = float(cookie["expiry"])
            set_cookie(params)

    # -- the file ----------------------------------------------------------------

    def _load(self, path: Path) -> tuple[list[dict[str, Any]], float]:
        """The cookies saved at ``path`` for this portal and user and their last use, or none.

        Messages name the file and what is wrong with it, never its content.
        """
        try:
            if not is_private(path):
                log.warning(
                    "ignoring the saved portal session %s: other users may read it"
                    " (it is rewritten with mode 0600 at the next login)",
                    path,
                )
                return [], 0.0
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return [], 0.0
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
            log.warning("ignoring the saved portal session %s: %s", path, reason)
            return [], 0.0
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            log.info("not using the saved portal session %s: an older or unknown format", path)
            return [], 0.0
        if data.get("portal") != self._owner["portal"] or data.get("user") != self._owner["user"]:
            log.info("the saved portal session %s is another portal's or user's: not used", path)
            return [], 0.0
        cookies = data.get("cookies")
        used = data.get("used")
        if (
            not isinstance(cookies, list)
            or not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in cookies)
            or not isinstance(used, int | float)
            or isinstance(used, bool)
        ):
            log.warning("ignoring the saved portal session %s: malformed", path)
            return [], 0.0
        return cookies, float(used)

    def _store(self, cookies: list[dict[str, Any]]) -> None:
        if self.path is None:
            return
        document = {"format": _FORMAT, **self._owner, "used": self._used, "cookies": cookies}
        try:
            write_private(self.path, json.dumps(document, indent=1, sort_keys=True) + "\n")
        except OSError as exc:
            self._warn(f"cannot save the portal session to {self.path}", exc)
            return
        if self._write_failed:
            log.warning("the portal session is saved to %s again", self.path)
            self._write_failed = False

    def _warn(self, what: str, exc: OSError) -> None:
        # Once per failing spell: a read-only folder would otherwise warn on every page.
        if not self._write_failed:
            reason = exc.strerror or type(exc).__name__
            log.warning("%s: %s; a restart will need a new login", what, reason)
            self._write_failed = True
