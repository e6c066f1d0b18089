"""Two portal sessions of one user: one for the schedule, one for people.

The real portal serves a session's requests one at a time, and goes on
rendering an export the browser walked away from (spec v3, "Where and how
long"): a session that was exporting stays busy for minutes. So whatever
must not wait behind a scheduled export (an admin's ``sync``, an order
form's customers) cannot use the export's session. :class:`PortalLanes`
keeps two :class:`~archid.portal.session.AsyncPortal` objects, each with
its own browser, cookies and login, and one login budget between them:

* the **batch** lane runs scheduled syncs; a preempted export on it is
  let go of (:meth:`AsyncPortal.let_go`), finishes by itself, and is the
  file of the same type's next export;
* the **interactive** lane runs what people ask for. Its browser closes
  when idle like the other's; its session's cookies stay valid for the
  portal's idle time (``[portal] session_idle``), so a working day costs a
  few logins, not one per request. With ``keep_ready``
  (``[portal] keep_interactive_ready``) it is kept ready while the
  schedule works: after each export of the batch lane, an interactive
  session that holds no portal session logs in, and one unused for half
  the idle time loads a page, so that an order form does not wait for a
  browser's login (seconds at the portal's speed). When the schedule
  rests (quiet hours) the session lapses with it. The keeper never spends
  the day's last :data:`KEEPER_RESERVE` logins.

A hold (wrong password, blocked, budget spent) started on either lane
holds both.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType

import trio

from archid.clock import utc_now
from archid.config import Config
from archid.portal.budget import LoginBudget
from archid.portal.client import ExportResult
from archid.portal.cookies import default_session_path
from archid.portal.errors import Stage
from archid.portal.grid import ListSurvey, RecentRows, Unchanged
from archid.portal.hold import PortalHold
from archid.portal.session import AsyncPortal
from archid.records import ExportType

#: the interactive session's cookies, beside the batch session's file
INTERACTIVE_SESSION_FILE = "portal-session-interactive.json"
#: logins of the day the interactive session's keeper leaves to the schedule and to people
KEEPER_RESERVE = 3

log = logging.getLogger("archid.portal")


class Lane(enum.StrEnum):
    """Which portal session a sync uses."""

    BATCH = "batch"
    INTERACTIVE = "interactive"


class PortalLanes:
    """The batch and interactive portal sessions, as one portal for the daemon."""

    def __init__(
        self, batch: AsyncPortal, interactive: AsyncPortal, *, keep_ready: bool = False
    ) -> None:
        if batch.budget is not interactive.budget:
            raise ValueError("the two portal sessions must share one login budget")
        self.batch = batch
        self.interactive = interactive
        self.keep_ready = keep_ready
        self._batch_worked = trio.Event()

    @classmethod
    def from_config(cls, config: Config, *, now: Callable[[], datetime] = utc_now) -> PortalLanes:
        """Both sessions as ``config`` describes them (see :meth:`AsyncPortal.from_config`)."""
        batch = AsyncPortal.from_config(config, now=now)
        interactive = AsyncPortal.from_config(
            config,
            now=now,
            budget=batch.budget,
            session_path=default_session_path(config).with_name(INTERACTIVE_SESSION_FILE),
            persist_hold=False,
        )
        return cls(batch, interactive, keep_ready=config.portal.keep_interactive_ready)

    def lane(self, lane: Lane) -> AsyncPortal:
        return self.batch if lane is Lane.BATCH else self.interactive

    async def __aenter__(self) -> PortalLanes:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- what the daemon and the metrics read -------------------------------------

    @property
    def budget(self) -> LoginBudget | None:
        return self.batch.budget

    @property
    def logins(self) -> int:
        """Logins made by both sessions."""
        return self.batch.logins + self.interactive.logins

    @property
    def browser_open(self) -> bool:
        return self.batch.browser_open or self.interactive.browser_open

    @property
    def hold(self) -> PortalHold | None:
        """The hold in force on either session; only looks (see :attr:`AsyncPortal.hold`)."""
        return self.batch.hold or self.interactive.hold

    def lift_expired(self) -> PortalHold | None:
        """Lift a hold whose time has come on either session (see
        :meth:`AsyncPortal.lift_expired`); the one lifted, if any."""
        first = self.batch.lift_expired()
        second = self.interactive.lift_expired()
        return first or second

    def resume(self, why: str = "an admin resumed") -> PortalHold | None:
        """Lift the hold on both sessions; the one lifted, if any."""
        first = self.batch.resume(why)
        second = self.interactive.resume(why)
        return first or second

    # -- work -------------------------------------------------------------------------

    async def export(
        self,
        export_type: ExportType,
        out_dir: Path,
        on_stage: Callable[[Stage], None] | None = None,
        *,
        lane: Lane = Lane.BATCH,
        skip: Callable[[ListSurvey], bool] | None = None,
    ) -> ExportResult | Unchanged:
        """Export on ``lane`` (see :meth:`AsyncPortal.export`); a hold on
        either session fails it at once."""
        self._refuse_when_held()
        result = await self.lane(lane).export(export_type, out_dir, on_stage, skip=skip)
        if lane is Lane.BATCH:
            self._batch_worked.set()
        return result

    async def recent_customers(
        self,
        on_stage: Callable[[Stage], None] | None = None,
        on_rows: Callable[[RecentRows], Awaitable[None]] | None = None,
    ) -> RecentRows:
        """The newest customers from the grid, on the interactive session
        (see :meth:`AsyncPortal.recent_customers`)."""
        self._refuse_when_held()
        return await self.interactive.recent_customers(on_stage, on_rows)

    def _refuse_when_held(self) -> None:
        """A hold on either session fails the work at once, costing no browser;
        one whose time has come is lifted first."""
        self.lift_expired()
        held = self.hold
        if held is not None:
            raise held.again()

    def let_go(self) -> bool:
        """Let the batch session's running export finish by itself when its
        caller is next cancelled (see :meth:`AsyncPortal.let_go`)."""
        return self.batch.let_go()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Both sessions' idle timers (:meth:`AsyncPortal.run`), until cancelled."""
        async with trio.open_nursery() as nursery:
            await nursery.start(self.batch.run)
            await nursery.start(self.interactive.run)
            if self.keep_ready:
                nursery.start_soon(self._keep_interactive_ready)
            task_status.started()

    async def _keep_interactive_ready(self) -> None:
        """After each export of the batch lane, the interactive session made
        ready when it wants it; a failure (the portal's, or the state
        folder's: the budget's ledger is a file) is logged, and the next
        export tries again."""
        while True:
            await self._batch_worked.wait()
            self._batch_worked = trio.Event()
            try:
                await self._make_interactive_ready()
            except Exception as exc:  # the keeper is a convenience: never the daemon's end
                log.warning(
                    "could not make the interactive portal session ready: %s: %s",
                    type(exc).__name__,
                    exc,
                )

    async def _make_interactive_ready(self) -> None:
        """:meth:`AsyncPortal.keep_ready` on the interactive session if it wants it,
        the portal is not held, and a login would not take one of the day's
        last :data:`KEEPER_RESERVE`."""
        interactive = self.interactive
        if self.hold is not None or not interactive.wants_keeping():
            return
        budget = self.budget
        login = not interactive.cookies.valid()
        if login and budget is not None and budget.remaining() <= KEEPER_RESERVE:
            return
        spent = await interactive.keep_ready()
        # A login is worth a line (the budget); a page every few minutes is not.
        log.log(
            logging.INFO if spent else logging.DEBUG,
            "the interactive portal session is ready for people (%s)",
            "logged in" if spent else "one page kept its session alive",
        )

    async def aclose(self) -> None:
        try:
            await self.interactive.aclose()
        finally:
            await self.batch.aclose()
