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
  (:attr:`AsyncPortal.hold` only looks; :meth:`AsyncPortal.lift_expired`
  and :meth:`AsyncPortal.resume` lift);
* an export the caller lets go of (:meth:`AsyncPortal.let_go`, then a
  cancellation: a preemption) is not killed. The portal's server would go
  on rendering it anyway and its session stays busy until it is done, so
  the thread is left to finish: nothing uses this session meanwhile (the
  next call waits for it), and the next export of the same type takes its
  result instead of asking the portal again.
"""

from __future__ import annotations

import contextlib
import logging
import math
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import TypeVar, overload

import outcome
import trio

from archid import logs
from archid.clock import utc_now
from archid.config import Config, Secret
from archid.portal.browser import BrowserSettings
from archid.portal.budget import LoginBudget, next_portal_day
from archid.portal.client import ExportResult, PortalClient, Timeouts
from archid.portal.cookies import DEFAULT_IDLE, SessionCookies, default_session_path
from archid.portal.errors import PermanentPortalError, Stage
from archid.portal.grid import ListSurvey, RecentRows, Unchanged
from archid.portal.hold import HOLD_FILE_NAME, PortalHold, load_hold, save_hold
from archid.portal.password import PasswordFile
from archid.portal.processes import instance_tag
from archid.records import ExportType

log = logging.getLogger("archid.portal")

T = TypeVar("T")


@dataclass(slots=True)
class _Detached:
    """An export let go of while its thread ran on: its result, once there."""

    export_type: ExportType
    #: where its file lands (none for a read of the grid)
    folder: Path | None
    done: trio.Event
    result: outcome.Outcome[object] | None = None


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
        now: Callable[[], datetime] = utc_now,
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
        self._letting_go = False
        self._detached: _Detached | None = None
        self._spool: Path | None = None
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
        now: Callable[[], datetime] = utc_now,
        budget: LoginBudget | None = None,
        persist_hold: bool = True,
    ) -> AsyncPortal:
        """The portal, browser, timeouts, login budget and saved session ``config`` describes.

        The password is read from ``portal.password_file`` at every login;
        the session persists in ``session_path`` (by default
        :func:`~archid.portal.cookies.default_session_path`, beside the
        database and the login ledger), a portal hold in
        ``portal-hold.json`` beside it; browsers carry the database's
        :func:`~archid.portal.processes.instance_tag`. ``now`` (the
        daemon's one wall clock) is handed to the budget too. A second
        session of the same process passes the first one's ``budget`` (one
        login ledger), its own ``session_path`` and ``persist_hold=False``.
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
            budget=budget or LoginBudget.from_config(config, budget_path, now=now),
            idle_timeout=config.browser.idle_timeout,
            session_path=session_path or default_session_path(config),
            instance=instance_tag(config.database.path),
            now=now,
            hold_path=default_session_path(config).with_name(HOLD_FILE_NAME)
            if persist_hold
            else None,
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
        """The portal hold in force, or ``None``.

        Only looks: a hold whose time has come (the next portal day, a
        changed password file) is not in force, but it stays, with its
        file, until :meth:`lift_expired`. Cheap (a clock read and a
        ``stat`` of the password file): the daemon may look as often as it
        likes, e.g. for STATUS or before scheduling.
        """
        held = self._hold
        if held is None or held.lifted_by(self._now(), self._password_mark()) is not None:
            return None
        return held

    def lift_expired(self) -> PortalHold | None:
        """Lift the hold if its time has come: forget it, remove its file and
        log what lifted it. Returns the hold lifted, or ``None`` (no hold, or
        one still in force). Every export calls it first; the daemon too, so
        that a lift is logged and announced when it happens, not at the next
        export."""
        held = self._hold
        if held is None:
            return None
        why = held.lifted_by(self._now(), self._password_mark())
        if why is None:
            return None
        self._lift(why)
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

    @overload
    async def export(
        self,
        export_type: ExportType,
        out_dir: Path,
        on_stage: Callable[[Stage], None] | None = None,
    ) -> ExportResult: ...

    @overload
    async def export(
        self,
        export_type: ExportType,
        out_dir: Path,
        on_stage: Callable[[Stage], None] | None = None,
        *,
        skip: Callable[[ListSurvey], bool] | None,
    ) -> ExportResult | Unchanged: ...

    async def export(
        self,
        export_type: ExportType,
        out_dir: Path,
        on_stage: Callable[[Stage], None] | None = None,
        *,
        skip: Callable[[ListSurvey], bool] | None = None,
    ) -> ExportResult | Unchanged:
        """Export one list view into ``out_dir`` (see :meth:`PortalClient.export`).

        ``on_stage`` is called on the event loop as the export enters each
        stage (login, page load, survey, menu, download). With ``skip``, the
        list is surveyed first and :class:`~archid.portal.grid.Unchanged`
        returned when ``skip`` says so.

        Exports are serialised. Raises :class:`~archid.portal.errors.PortalError`
        subclasses; on cancellation the browser is killed before the
        ``Cancelled`` propagates, unless the caller let go of the export
        (:meth:`let_go`). During a portal hold it raises the held error's
        class at once, without a browser or a login; a failure that calls
        for a hold starts one.
        """
        async with self._session(on_stage) as client:
            taken = await self._take_detached(export_type, out_dir, unchanged_ok=skip is not None)
            if taken is not None:
                return taken
            folder = self._spool_folder(export_type)
            detached = _Detached(export_type, folder, trio.Event())
            try:
                result = await self._in_thread(
                    client, lambda: client.export(export_type, folder, skip=skip), detached
                )
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            return _moved(result, out_dir, folder)

    async def recent_customers(
        self,
        on_stage: Callable[[Stage], None] | None = None,
        on_rows: Callable[[RecentRows], Awaitable[None]] | None = None,
    ) -> RecentRows:
        """The newest customers as the customers grid shows them (see
        :meth:`PortalClient.recent_customers`); serialised with exports,
        killed on cancellation.

        Each read is awaited in ``on_rows`` as soon as it is made, in
        order: the first page at the agent's page size (``complete``
        false) while the page size changes, then the complete read. Returns
        the complete read once ``on_rows`` is done with it: putting the
        agent's page size, sort, page and filter back goes on in the
        thread, and this session is used again only once that is done (as
        after :meth:`let_go`). What ``on_rows`` raises is raised here, the
        thread going on by itself in the same way.
        """
        async with self._session(on_stage) as client:
            await self._wait_detached()
            token = trio.lowlevel.current_trio_token()
            send, receive = trio.open_memory_channel[RecentRows](math.inf)

            def deliver(rows: RecentRows) -> None:
                with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                    send.send_nowait(rows)

            def on_read(rows: RecentRows) -> None:  # in the client's thread
                with contextlib.suppress(trio.RunFinishedError):
                    token.run_sync_soon(deliver, rows)

            detached = _Detached(ExportType.CUSTOMERS, None, trio.Event())
            finished: list[outcome.Outcome[RecentRows]] = []

            async def read() -> None:
                work = partial(client.recent_customers, on_read)
                try:
                    rows = await self._in_thread(client, work, detached)
                except Exception as exc:  # a cancellation is not an outcome: it goes on up
                    finished.append(outcome.Error(exc))
                else:
                    finished.append(outcome.Value(rows))
                # After every read it delivered: the thread's result comes the same way.
                send.close()

            complete: RecentRows | None = None
            refused: Exception | None = None
            async with trio.open_nursery() as nursery:
                nursery.start_soon(read)
                async for rows in receive:
                    if on_rows is not None:
                        try:
                            await on_rows(rows)
                        except Exception as exc:  # raised below, as itself, not in a group
                            refused = exc
                            if not finished:
                                # The read goes on by itself and puts the agent's
                                # grid back: a failed apply costs no browser, no login.
                                self._letting_go = True
                                nursery.cancel_scope.cancel()
                            break
                    if rows.complete:
                        complete = rows
                        if not finished:
                            # The rows are in; the put-back goes on by itself.
                            self._letting_go = True
                            nursery.cancel_scope.cancel()
                        break
            if refused is not None:
                raise refused
            if finished:
                return finished[0].unwrap()
            assert complete is not None
            return complete

    def wants_keeping(self) -> bool:
        """Whether :meth:`keep_ready` has work: no session held, or one unused
        for half the portal's idle time; not while the session is in use,
        held or closed."""
        if self._closed or self._lock.locked() or self.busy or self.hold is not None:
            return False
        unused = self.cookies.unused_for()
        return unused is None or unused >= self.cookies.idle / 2

    async def keep_ready(self) -> bool:
        """Hold a fresh portal session for the next request (see
        :meth:`PortalClient.keep_session`): a login when none is held, else
        one page under it. Whether a login was spent. Serialised with the
        rest; a request arriving meanwhile waits for it (seconds), which is
        less than the login it saves.

        What is kept is the portal's session, not a browser: one started
        for this is closed again (the cookies stay, so the next one starts
        logged in). A page left open runs the portal's scripts and polling
        for nobody (spec v3 names pages left open among the causes of a
        CPU at 90 %); a browser starts in about half a second, a login
        takes seconds. A browser already open is left as it was.
        """
        async with self._session(None) as client:
            opened = client.browser_open
            try:
                return await self._in_thread(client, client.keep_session, None)
            finally:
                # Also after a failure; a cancelled one has killed the browser already.
                if not opened and client.browser_open:
                    await _close_browser(client)

    def let_go(self) -> bool:
        """Let the running export finish on its own when its caller is next
        cancelled (a preemption): no kill, the session is used again only
        once it is done. Returns whether an export was running."""
        running = self._lock.locked() and self._client is not None
        self._letting_go = running
        return running

    @property
    def busy(self) -> bool:
        """Whether an export that was let go of still runs on this session."""
        return self._detached is not None and not self._detached.done.is_set()

    @contextlib.asynccontextmanager
    async def _session(
        self, on_stage: Callable[[Stage], None] | None
    ) -> AsyncIterator[PortalClient]:
        """The lock, the hold check, the client; the idle timer after."""
        if self._closed:
            raise RuntimeError("the portal is closed")
        async with self._lock:
            self.lift_expired()
            held = self.hold
            if held is not None:
                raise held.again()
            self._set_idle_deadline(math.inf)
            if self._client is None:
                self._client = self._new_client()
            client = self._client
            client.on_stage = _to_event_loop(on_stage) if on_stage is not None else _ignore
            try:
                yield client
            finally:
                if not self.busy:
                    self._set_idle_deadline(trio.current_time() + self.idle_timeout)

    async def _in_thread(
        self, client: PortalClient, work: Callable[[], T], detached: _Detached | None
    ) -> T:
        """``work`` in a thread; a hold-worthy failure starts the hold; a
        cancellation kills the browser, or leaves the thread running when
        the export was let go of (``detached`` then keeps its result)."""
        token = trio.lowlevel.current_trio_token()

        def run() -> T:
            result = outcome.capture(work)
            if detached is not None:
                detached.result = result
                with contextlib.suppress(trio.RunFinishedError):
                    token.run_sync_soon(self._detached_done, detached)
            return result.unwrap()

        self._letting_go = False
        try:
            return await trio.to_thread.run_sync(run, abandon_on_cancel=True)
        except PermanentPortalError as exc:
            if exc.hold:
                self._start_hold(exc)
                # Nothing will use the browser before the hold lifts.
                await _close_browser(client)
            raise
        except Exception:
            # The thread finished with an error; the client dealt with its browser.
            raise
        except BaseException:
            if self._letting_go and detached is not None and detached.result is None:
                # Preempted: the thread goes on; its stages are no one's now.
                client.on_stage = _ignore
                self._detached = detached
                if detached.folder is not None:
                    log.info(
                        "the %s export goes on by itself: this portal session stays busy"
                        " until it is done",
                        detached.export_type,
                    )
            else:
                # Cancelled (or interrupted) while the thread may still run:
                # kill the browser under it; the thread's calls then fail.
                self._retire(client)
                client.kill()
            raise
        finally:
            self._letting_go = False

    def _detached_done(self, detached: _Detached) -> None:
        detached.done.set()
        if self._detached is detached and not self._lock.locked():
            self._set_idle_deadline(trio.current_time() + self.idle_timeout)

    async def _wait_detached(self) -> _Detached | None:
        """Wait until an export let go of is done (the session is free again);
        return it, no longer kept."""
        detached = self._detached
        if detached is None:
            return None
        await detached.done.wait()
        self._detached = None
        return detached

    async def _take_detached(
        self, export_type: ExportType, out_dir: Path, *, unchanged_ok: bool
    ) -> ExportResult | Unchanged | None:
        """The result of an export of ``export_type`` let go of earlier, moved
        into ``out_dir``; ``None`` if there is none (or it failed, or found the
        list unchanged and the caller wants a file)."""
        detached = await self._wait_detached()
        if detached is None:
            return None
        result = detached.result
        folder = detached.folder
        if folder is None:
            return None  # a grid read's put-back, not an export
        value = result.value if isinstance(result, outcome.Value) else None
        if (
            detached.export_type is not export_type
            or not isinstance(value, ExportResult | Unchanged)
            or (isinstance(value, Unchanged) and not unchanged_ok)
        ):
            shutil.rmtree(folder, ignore_errors=True)
            return None
        log.info("the %s export let go of earlier is done: its file is used", export_type)
        return _moved(value, out_dir, folder)

    def _spool_folder(self, export_type: ExportType) -> Path:
        """A private folder for one export, outside the caller's (which a
        preempted caller removes while the export may still write there)."""
        if self._spool is None:
            self._spool = Path(tempfile.mkdtemp(prefix="archid-portal-"))
        return Path(tempfile.mkdtemp(prefix=f"{export_type}-", dir=self._spool))

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
            if self._spool is not None:
                shutil.rmtree(self._spool, ignore_errors=True)

    def _kill(self) -> None:
        client = self._client
        if client is not None:
            self._retire(client)
            client.kill()

    async def aclose(self) -> None:
        """Quit the browser and end the session's client; the portal is done."""
        self._closed = True
        client = self._client
        try:
            if client is None:
                return
            async with self._lock:
                if self._client is client:
                    await trio.to_thread.run_sync(client.close)
                    self._retire(client)
        except BaseException:
            self._kill()
            raise
        finally:
            if self._spool is not None:
                shutil.rmtree(self._spool, ignore_errors=True)


async def _close_browser(client: PortalClient) -> None:
    """Close ``client``'s browser in a thread, shielded: a cancel must not
    leave it half closed."""
    with trio.CancelScope(shield=True):
        await trio.to_thread.run_sync(client.close_browser)


def _ignore(stage: Stage) -> None:
    pass


def _moved(
    result: ExportResult | Unchanged, out_dir: Path, folder: Path
) -> ExportResult | Unchanged:
    """``result`` with its file moved from the private ``folder`` into ``out_dir``."""
    if isinstance(result, ExportResult):
        out_dir.mkdir(parents=True, exist_ok=True)
        final = out_dir / result.path.name
        shutil.move(result.path, final)
        result.path = final
    shutil.rmtree(folder, ignore_errors=True)
    return result


def _to_event_loop(callback: Callable[[Stage], None]) -> Callable[[Stage], None]:
    """``callback`` made callable from the export's thread; it runs on the event loop."""
    token = trio.lowlevel.current_trio_token()

    def from_thread(stage: Stage) -> None:
        # An abandoned export thread may outlive the run: drop its reports.
        with contextlib.suppress(trio.RunFinishedError):
            token.run_sync_soon(callback, stage)

    return from_thread
