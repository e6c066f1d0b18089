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
  ``chromium`` or ``chromedriver`` process of this portal remains.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import trio

from archid.config import Config, Secret
from archid.portal.browser import BrowserSettings
from archid.portal.budget import LoginBudget
from archid.portal.client import ExportResult, PortalClient, SessionCookies, Timeouts
from archid.portal.errors import Stage
from archid.records import ExportType


class AsyncPortal:
    """One portal session and its browser, for trio tasks.

    ``password`` is the configuration's :class:`~archid.config.Secret`
    (or any callable returning the password), revealed only when the
    login form is filled in.
    """

    def __init__(
        self,
        base_url: str,
        user: str,
        password: Secret,
        *,
        settings: BrowserSettings | None = None,
        timeouts: Timeouts | None = None,
        budget: LoginBudget | None = None,
        idle_timeout: float = 600.0,
        require_italian: bool = True,
    ) -> None:
        self.base_url = base_url
        self.user = user
        self._password = password
        self.settings = settings or BrowserSettings()
        self.timeouts = timeouts or Timeouts()
        self.budget = budget
        self.idle_timeout = idle_timeout
        self.require_italian = require_italian
        self.cookies = SessionCookies()
        self._client: PortalClient | None = None
        self._lock = trio.Lock()
        self._idle_deadline = math.inf
        self._idle_scope: trio.CancelScope | None = None
        self._retired_logins = 0
        self._closed = False

    @classmethod
    def from_config(cls, config: Config, *, budget_path: Path | None = None) -> AsyncPortal:
        """The portal, browser, timeouts and login budget that ``config`` describes."""
        return cls(
            config.portal.url,
            config.portal.username,
            config.portal.password,
            settings=BrowserSettings.from_config(
                config.browser, verify_tls=config.portal.verify_tls
            ),
            timeouts=Timeouts.from_config(config.portal),
            budget=LoginBudget.from_config(config, budget_path),
            idle_timeout=config.browser.idle_timeout,
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

    def _new_client(self) -> PortalClient:
        return PortalClient(
            self.base_url,
            self.user,
            self._password.reveal,
            settings=self.settings,
            timeouts=self.timeouts,
            budget=self.budget,
            cookies=self.cookies,
            require_italian=self.require_italian,
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
        ``Cancelled`` propagates.
        """
        if self._closed:
            raise RuntimeError("the portal is closed")
        async with self._lock:
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
