"""The portal client on the trio event loop: exports in a worker thread, cancellable.

:class:`AsyncPortal` owns at most one :class:`~archid.portal.client.PortalClient`
(and so one browser) at a time and runs one export at a time. Its
guarantees:

* an export runs the blocking client in ``trio.to_thread.run_sync`` with
  ``abandon_on_cancel=True``; when the calling task is cancelled (a
  timeout, shutdown, Ctrl-C) the browser's whole process tree is killed
  at once, so the abandoned thread's Selenium calls fail and it ends
  promptly, and the next export starts a new client;
* the session's cookies and the login budget outlive every client, so a
  killed or idle-closed browser costs no login;
* :meth:`AsyncPortal.run`, started by the caller in its nursery, closes
  the browser after ``idle_timeout`` seconds without exports: the idle
  timer is that task's cancel scope, not a thread timer;
* after :meth:`AsyncPortal.aclose` (or when :meth:`run` is cancelled) no
  ``chromium`` or ``chromedriver`` process of this portal remains;
* a failure that calls for a portal hold (:mod:`archid.portal.hold`)
  stops every login: later exports fail at once with the same class of
  error, costing no browser and no login, until the hold lifts
  (:attr:`AsyncPortal.hold`, :meth:`AsyncPortal.resume`).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import trio

from archid import logs
from archid.config import Config, Secret
from archid.portal.browser import BrowserSettings
from archid.portal.budget import LoginBudget, next_portal_day
from archid.portal.client import ExportResult, PortalClient, Timeouts
from archid.portal.cookies import DEFAULT_IDLE, SessionCookies, default_session_path
from archid.portal.errors import PermanentPortalError, Stage
from archid.portal.hold import HOLD_FILE_NAME, PortalHold, load_hold, save_hold
from archid.portal.password import PasswordFile
from archid.portal.processes import instance_tag
from archid.records import ExportType

log = logging.getLogger("archid.portal")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AsyncPortal:
    """One portal session and its browser, for trio tasks.

    ``password`` is a :class:`~archid.config.Secret` or a
    :class:`~archid.portal.password.PasswordFile` (read again at every
    login), revealed only when the login form is filled in.
    ``session_path`` is where the session's cookies persist between
    processes (none: in memory only). ``instance`` tags the browsers for
    :func:`~archid.portal.processes.reap_leftovers`. ``now`` is the wall
    clock (aware datetimes) the hold's day and the cookies' expiry follow;
    the budget has its own, which the caller builds from the same clock.
    ``hold_path`` is where a portal hold persists between processes (none:
    a hold lasts as long as this object). ``session_idle`` is how long an
    unused session is taken to live on the server (``[portal] session_idle``).
    """

    def __init__(
        self,
        base_url: str,
        user: str,
        password: Secret | PasswordFile,
        *,
        settings: BrowserSettings | None = None,
        timeouts: Timeouts | None = None,
        budget: LoginBudget | None = None,
        idle_timeout: float = 600.0,
        require_italian: bool = True,
        session_path: Path | None = None,
        instance: str | None = None,
        now: Callable[[], datetime] = _utc_now,
        hold_path: Path | None = None,
        session_idle: float = DEFAULT_IDLE,
    ) -> None:
        self.base_url = base_url
        self.user = user
        self._password = password
        self.settings = settings or BrowserSettings()
        self.timeouts = timeouts or Timeouts()
        self.budget = budget
        self.idle_timeout = idle_timeout
        self.require_italian = require_italian
        self.instance = instance
        self._now = now
        self.cookies = SessionCookies(
            session_path, portal=base_url, user=user, now=now, idle=session_idle
        )
        self._hold_path = hold_path
        self._hold = None if hold_path is None else load_hold(hold_path, self._owner)
        if self._hold is not None:
            log.error(
                "%s (carried over from the previous run)",
                self._hold.describe(),
                extra=logs.fields(alert=logs.Alert.PORTAL_HOLD),
            )
        self._client: PortalClient | None = None
        self._lock = trio.Lock()
        self._idle_deadline = math.inf
        self._idle_scope: trio.CancelScope | None = None
        self._retired_logins = 0
        self._closed = False

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        budget_path: Path | None = None,
        session_path: Path | None = None,
        now: Callable[[], datetime] = _utc_now,
    ) -> AsyncPortal:
        """The portal, browser, timeouts, login budget and saved session ``config`` describes.

        The password is read from ``portal.password_file`` at every login;
        the session persists in ``session_path`` (by default
        :func:`~archid.portal.cookies.default_session_path`, beside the
        database and the login ledger), a portal hold in
        ``portal-hold.json`` beside it; browsers carry the database's
        :func:`~archid.portal.processes.instance_tag`. ``now`` (the
        daemon's one wall clock) is handed to the budget too.
        """
        portal = config.portal
        password: Secret | PasswordFile = (
            PasswordFile(portal.password_file)
            if portal.password_file is not None
            else portal.password
        )
        return cls(
            portal.url,
            portal.username,
            password,
            settings=BrowserSettings.from_config(config.browser, verify_tls=portal.verify_tls),
            timeouts=Timeouts.from_config(portal),
            budget=LoginBudget.from_config(config, budget_path, now=now),
            idle_timeout=config.browser.idle_timeout,
            session_path=session_path or default_session_path(config),
            instance=instance_tag(config.database.path),
            now=now,
            hold_path=default_session_path(config).with_name(HOLD_FILE_NAME),
            session_idle=portal.session_idle,
        )

    async def __aenter__(self) -> AsyncPortal:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def logins(self) -> int:
        """Logins made through this portal object, by all its clients."""
        client = self._client
        return self._retired_logins + (client.logins if client is not None else 0)

    @property
    def browser_open(self) -> bool:
        """Whether a browser is running right now."""
        return self._client is not None and self._client.browser_open

    # -- the portal hold ------------------------------------------------------------

    @property
    def hold(self) -> PortalHold | None:
        """The portal hold in force, or ``None``; looking lifts one whose time has come.

        Cheap (a clock read and a ``stat`` of the password file): the
        daemon may look as often as it likes, e.g. for STATUS or before
        scheduling.
        """
        held = self._hold
        if held is None:
            return None
        why = None
        if held.until is not None and self._now() >= held.until:
            why = "a new portal day began"
        elif held.error.password_change and self._password_mark() != held.password_mark:
            why = "the password file changed"
        if why is not None:
            self._lift(why)
            return None
        return held

    def resume(self, why: str = "an admin resumed") -> PortalHold | None:
        """Lift the portal hold now (an admin's resume, a configuration reload).

        Returns the hold lifted, or ``None`` if there was none. The next
        export may log in again (the login budget still applies).
        """
        held = self._hold
        if held is not None:
            self._lift(why)
        return held

    @property
    def _owner(self) -> dict[str, str]:
        return {"portal": self.base_url, "user": self.user}

    def _lift(self, why: str) -> None:
        held = self._hold
        self._hold = None
        if held is not None:
            log.warning("portal hold lifted (%s): logins allowed again", why)
        if self._hold_path is not None:
            try:
                self._hold_path.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("cannot remove %s: %s", self._hold_path, exc.strerror)

    def _password_mark(self) -> object:
        password = self._password
        return password.fingerprint() if isinstance(password, PasswordFile) else None

    def _start_hold(self, error: PermanentPortalError) -> None:
        until = next_portal_day(self._now()) if error.next_day else None
        self._hold = PortalHold(error, self._now(), until, self._password_mark())
        # The one line that says why nothing logs in any more, and what lifts it.
        log.error("%s", self._hold.describe(), extra=logs.fields(alert=logs.Alert.PORTAL_HOLD))
        if self._hold_path is not None:
            try:
                save_hold(self._hold_path, self._hold, self._owner)
            except OSError as exc:
                log.warning(
                    "cannot save the portal hold to %s (%s): a restart may try a login",
                    self._hold_path,
                    exc.strerror,
                )

    # -- exports -------------------------------------------------------------------

    def _reveal(self) -> str:
        password = self._password
        return password.reveal() if isinstance(password, Secret) else password()

    def _new_client(self) -> PortalClient:
        return PortalClient(
            self.base_url,
            self.user,
            self._reveal,
            settings=self.settings,
            timeouts=self.timeouts,
            budget=self.budget,
            cookies=self.cookies,
            require_italian=self.require_italian,
            instance=self.instance,
        )

    async def export(
        self,
        export_type: ExportType,
        out_dir: Path,
        on_stage: Callable[[Stage], None] | None = None,
    ) -> ExportResult:
        """Export one list view into ``out_dir`` (see :meth:`PortalClient.export`).

        ``on_stage`` is called on the event loop as the export enters each
        stage (login, page load, menu, download).

        Exports are serialised. Raises :class:`~archid.portal.errors.PortalError`
        subclasses; on cancellation the browser is killed before the
        ``Cancelled`` propagates. During a portal hold it raises the held
        error's class at once, without a browser or a login; a failure that
        calls for a hold starts one.
        """
        if self._closed:
            raise RuntimeError("the portal is closed")
        async with self._lock:
            held = self.hold
            if held is not None:
                raise held.again()
            self._set_idle_deadline(math.inf)
            if self._client is None:
                self._client = self._new_client()
            client = self._client
            if on_stage is not None:
                client.on_stage = _to_event_loop(on_stage)
            try:
                return await trio.to_thread.run_sync(
                    client.export, export_type, out_dir, abandon_on_cancel=True
                )
            except PermanentPortalError as exc:
                if exc.hold:
                    self._start_hold(exc)
                    # Nothing will use the browser before the hold lifts. Shielded:
                    # a cancel here must not leave it half closed.
                    with trio.CancelScope(shield=True):
                        await trio.to_thread.run_sync(client.close_browser)
                raise
            except Exception:
                # The thread finished with an error; the client dealt with its browser.
                raise
            except BaseException:
                # Cancelled (or interrupted) while the thread may still run:
                # kill the browser under it; the thread's calls then fail.
                self._retire(client)
                client.kill()
                raise
            finally:
                self._set_idle_deadline(trio.current_time() + self.idle_timeout)

    def _retire(self, client: PortalClient) -> None:
        if self._client is client:
            self._retired_logins += client.logins
            self._client = None

    def _set_idle_deadline(self, deadline: float) -> None:
        self._idle_deadline = deadline
        if self._idle_scope is not None:
            self._idle_scope.deadline = deadline

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Close the browser whenever it has been idle for ``idle_timeout`` seconds.

        Start it in the nursery that owns the portal (``await
        nursery.start(portal.run)``); it runs until cancelled, and then
        kills the browser.
        """
        try:
            task_status.started()
            while True:
                with trio.CancelScope(deadline=self._idle_deadline) as scope:
                    self._idle_scope = scope
                    await trio.sleep_forever()
                self._idle_scope = None
                async with self._lock:
                    client = self._client
                    if client is not None and trio.current_time() >= self._idle_deadline:
                        await trio.to_thread.run_sync(client.close_browser)
                    self._idle_deadline = math.inf
        finally:
            self._idle_scope = None
            self._kill()

    def _kill(self) -> None:
        client = self._client
        if client is not None:
            self._retire(client)
            client.kill()

    async def aclose(self) -> None:
        """Quit the browser and end the session's client; the portal is done."""
        self._closed = True
        client = self._client
        if client is None:
            return
        try:
            async with self._lock:
                if self._client is client:
                    await trio.to_thread.run_sync(client.close)
                    self._retire(client)
        except BaseException:
            self._kill()
            raise


def _to_event_loop(callback: Callable[[Stage], None]) -> Callable[[Stage], None]:
    """``callback`` made callable from the export's thread; it runs on the event loop."""
    token = trio.lowlevel.current_trio_token()

    def from_thread(stage: Stage) -> None:
        # An abandoned export thread may outlive the run: drop its reports.
        with contextlib.suppress(trio.RunFinishedError):
            token.run_sync_soon(callback, stage)

    return from_thread
