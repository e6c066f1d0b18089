"""Two portal sessions: a preempted export finishes on its own session, which
nothing else uses meanwhile, while the interactive session serves people.

Real headless Chromium against the simulator at the real portal's timings
(scaled down), whose sessions count every request that had to wait for
another (spec v3: one request at a time per session).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trio
import trio.testing

from archid.portal.budget import LoginBudget
from archid.portal.client import ExportResult, Timeouts
from archid.portal.grid import RecentRows
from archid.portal.lanes import KEEPER_RESERVE, Lane, PortalLanes
from archid.portal.session import AsyncPortal
from archid.records import Customer, ExportType
from archid.sim.server import SimServer
from archid.store.errors import DiskFull
from tests.portal.conftest import wait_until
from tests.portal.helpers import api, assert_complete

pytestmark = pytest.mark.browser

PRICES, CUSTOMERS = ExportType.PRICES, ExportType.CUSTOMERS
#: the real portal's timings divided by this: a prices export takes about 10 s
SCALE = 20
TIMEOUTS = Timeouts(login=60, page=60, download=120, flake_pause=0.2, poll=0.05)


async def test_a_preempted_export_finishes_alone_and_is_the_next_exports_file(
    sim: SimServer, make_portal: Callable[..., AsyncPortal], tmp_path: Path
) -> None:
    api(sim, "POST", "options", {"timing": "real", "time_scale": SCALE})
    lanes = PortalLanes(make_portal(timeouts=TIMEOUTS), make_portal(timeouts=TIMEOUTS))
    stages: list[str] = []
    scope = trio.CancelScope()
    cancelled = trio.Event()

    async def scheduled_export() -> None:
        with scope:
            await lanes.export(PRICES, tmp_path / "preempted", stages.append)
        cancelled.set()

    async with trio.open_nursery() as nursery:
        await nursery.start(lanes.run)
        nursery.start_soon(scheduled_export)
        await wait_until(lambda: "download" in stages, timeout=120)
        # The preemption: let go of the export, then cancel its caller.
        assert lanes.let_go()
        scope.cancel()
        with trio.fail_after(2):
            await cancelled.wait()
        assert lanes.batch.busy, "the export should go on by itself"
        assert not (tmp_path / "preempted").exists() or not any((tmp_path / "preempted").iterdir())
        # Meanwhile the interactive session serves a person at once.
        mine = await lanes.export(CUSTOMERS, tmp_path / "person", lane=Lane.INTERACTIVE)
        assert isinstance(mine, ExportResult)
        assert_complete(sim, CUSTOMERS, mine.path)
        # The batch session's next prices export is the preempted one's file:
        # the portal rendered prices once.
        again = await lanes.export(PRICES, tmp_path / "again")
        assert isinstance(again, ExportResult)
        assert again.path.parent == tmp_path / "again"
        assert_complete(sim, PRICES, again.path)
        state = api(sim, "GET", "state")
        assert state["exports_served"].get("prices") == 1
        # No request was ever sent on a session that was still busy.
        assert state["session_waits"] == 0
        assert lanes.logins == 2  # one per session
        nursery.cancel_scope.cancel()


async def test_the_newest_customers_come_before_the_agents_grid_is_put_back(
    sim: SimServer, make_portal: Callable[..., AsyncPortal], tmp_path: Path
) -> None:
    api(sim, "POST", "options", {"timing": "real", "time_scale": SCALE})
    # The agent's own choices, saved in the profile archid shares.
    api(sim, "POST", "saved-filters", {"customers": "Free_customers"})
    before = api(sim, "GET", "state")["users"]["agent"]["lists"]["customers"]
    lanes = PortalLanes(make_portal(timeouts=TIMEOUTS), make_portal(timeouts=TIMEOUTS))
    async with trio.open_nursery() as nursery:
        await nursery.start(lanes.run)
        rows = await lanes.recent_customers()
        # Returned before the put-back: the session is still busy with it.
        assert lanes.interactive.busy
        assert rows.records and "id" in rows.read
        newest = max(int(c.id) for c in rows.records)
        with sim.portal.lock:
            ids = [
                int(c.id) for c in sim.portal.dataset.records(CUSTOMERS) if isinstance(c, Customer)
            ]
        assert newest == max(ids)
        # The next read waits for the put-back, then works; the agent's grid is theirs.
        again = await lanes.recent_customers()
        assert [c.id for c in again.records] == [c.id for c in rows.records]
        await wait_until(lambda: not lanes.interactive.busy, timeout=60)
        after = api(sim, "GET", "state")["users"]["agent"]["lists"]["customers"]
        assert after == before
        assert api(sim, "GET", "state")["session_waits"] == 0
        nursery.cancel_scope.cancel()


async def test_a_failed_apply_of_the_first_page_costs_no_browser_and_no_login(
    sim: SimServer, make_portal: Callable[..., AsyncPortal]
) -> None:
    api(sim, "POST", "options", {"timing": "real", "time_scale": SCALE})
    api(sim, "POST", "saved-filters", {"customers": "Free_customers"})
    before = api(sim, "GET", "state")["users"]["agent"]["lists"]["customers"]
    lanes = PortalLanes(make_portal(timeouts=TIMEOUTS), make_portal(timeouts=TIMEOUTS))
    handed: list[bool] = []

    async def refuse(rows: RecentRows) -> None:
        handed.append(rows.complete)
        raise DiskFull("no room for the first page")

    async with trio.open_nursery() as nursery:
        await nursery.start(lanes.run)
        with pytest.raises(DiskFull):
            await lanes.recent_customers(on_rows=refuse)
        # The first page (the agent's 20 rows) was refused; the read went on.
        assert handed == [False] and lanes.logins == 1
        again = await lanes.recent_customers()
        assert again.records and lanes.logins == 1
        await wait_until(lambda: not lanes.interactive.busy, timeout=60)
        assert api(sim, "GET", "state")["users"]["agent"]["lists"]["customers"] == before
        assert api(sim, "GET", "state")["session_waits"] == 0
        nursery.cancel_scope.cancel()


class WallClock:
    """A wall clock the test moves on: the session's idle time follows it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def test_the_interactive_session_is_kept_ready_while_the_schedule_works(
    sim: SimServer, make_portal: Callable[..., AsyncPortal], tmp_path: Path
) -> None:
    """After a batch export the interactive session logs in by itself and
    closes the browser it started, so an order form starts a browser but
    spends no login; unused for half the portal's idle time it loads a page
    (no login) in the browser the order form left open; past the idle time
    it logs in again."""
    clock = WallClock()
    batch, interactive = make_portal(), make_portal(now=clock)
    lanes = PortalLanes(batch, interactive, keep_ready=True)
    idle = interactive.cookies.idle

    def fresh() -> bool:
        """A page loaded under the interactive session's cookies just now."""
        unused = interactive.cookies.unused_for()
        return unused is not None and unused < 1

    async with trio.open_nursery() as nursery:
        await nursery.start(lanes.run)
        assert interactive.logins == 0
        await lanes.export(ExportType.INVOICES, tmp_path / "1")
        await wait_until(lambda: interactive.logins == 1 and fresh())
        await wait_until(lambda: not interactive.browser_open)
        rows = await lanes.recent_customers()
        assert rows.records and lanes.logins == 2, "the order form found the session ready"
        assert interactive.browser_open
        await wait_until(lambda: not interactive.busy, timeout=30)
        # Unused for more than half the idle time: one page keeps the session.
        clock.advance(idle / 2 + 1)
        assert interactive.wants_keeping()
        await lanes.export(ExportType.INVOICES, tmp_path / "2")
        await wait_until(fresh)
        assert interactive.logins == 1
        assert interactive.browser_open, "a browser open before the keeper stays open"
        # Past the idle time the server has ended it: a login, not a page that fails.
        clock.advance(idle + 1)
        await lanes.export(ExportType.INVOICES, tmp_path / "3")
        await wait_until(lambda: interactive.logins == 2 and fresh())
        assert api(sim, "GET", "state")["session_waits"] == 0
        nursery.cancel_scope.cancel()


async def test_a_failed_keeping_page_closes_the_browser_the_keeper_started(
    sim: SimServer,
    make_portal: Callable[..., AsyncPortal],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = WallClock()
    lanes = PortalLanes(make_portal(), make_portal(now=clock), keep_ready=True)
    interactive = lanes.interactive
    async with trio.open_nursery() as nursery:
        await nursery.start(lanes.run)
        await lanes.export(ExportType.INVOICES, tmp_path / "1")
        await wait_until(lambda: interactive.logins == 1 and not interactive.browser_open)
        # The keeper's next page fails: only it loads the landing page now.
        sim.portal.faults.arm({"kind": "http_500", "path": "Default.aspx"})
        clock.advance(interactive.cookies.idle / 2 + 1)
        await lanes.export(ExportType.INVOICES, tmp_path / "2")
        await wait_until(lambda: "could not make the interactive portal session" in caplog.text)
        assert not sim.portal.faults.as_json(), "the keeper's page met the fault"
        assert not interactive.browser_open
        nursery.cancel_scope.cancel()


async def test_the_keeper_leaves_the_days_last_logins_and_waits_without_keep_ready(
    sim: SimServer, make_portal: Callable[..., AsyncPortal], budget: LoginBudget, tmp_path: Path
) -> None:
    for _ in range(budget.limit - KEEPER_RESERVE - 1):
        budget.spend()
    batch, interactive = make_portal(), make_portal()
    lanes = PortalLanes(batch, interactive, keep_ready=True)
    async with trio.open_nursery() as nursery:
        await nursery.start(lanes.run)
        await lanes.export(ExportType.INVOICES, tmp_path / "1")  # the batch's login
        assert budget.remaining() == KEEPER_RESERVE
        await trio.testing.wait_all_tasks_blocked()
        assert interactive.logins == 0 and not interactive.browser_open
        nursery.cancel_scope.cancel()
    # Without keep_ready (the default) the interactive session waits for people.
    idle = PortalLanes(make_portal(), make_portal())
    async with trio.open_nursery() as nursery:
        await nursery.start(idle.run)
        await idle.export(ExportType.INVOICES, tmp_path / "2")
        await trio.testing.wait_all_tasks_blocked()
        assert idle.interactive.logins == 0 and not idle.interactive.browser_open
        nursery.cancel_scope.cancel()


async def test_a_failing_keeper_is_logged_and_the_sessions_go_on(
    sim: SimServer,
    make_portal: Callable[..., AsyncPortal],
    budget: LoginBudget,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The keeper is a convenience: a state folder turned read-only under the
    login ledger costs a warning, never the portal sessions (nor the daemon)."""
    lanes = PortalLanes(make_portal(), make_portal(), keep_ready=True)

    def unreadable() -> int:
        raise OSError(30, "Read-only file system")

    async with trio.open_nursery() as nursery:
        await nursery.start(lanes.run)
        await lanes.export(ExportType.INVOICES, tmp_path / "1")
        # Before the keeper runs: it wakes only when this task next waits.
        monkeypatch.setattr(budget, "remaining", unreadable)
        await trio.testing.wait_all_tasks_blocked()
        assert "could not make the interactive portal session ready: OSError" in caplog.text
        assert lanes.interactive.logins == 0
        again = await lanes.export(ExportType.INVOICES, tmp_path / "2")
        assert isinstance(again, ExportResult)
        assert_complete(sim, ExportType.INVOICES, again.path)
        nursery.cancel_scope.cancel()
