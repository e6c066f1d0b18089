"""The daemon's commands and task tree under MockClock, with a scripted sync job."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest
import trio
import trio.testing

from archid.daemon.answers import Cancellation, SessionClosed
from archid.daemon.breaker import BreakerState
from archid.daemon.events import Event, EventKind
from archid.daemon.queue import Mode, Request, Trigger
from archid.daemon.service import HOLD_CHECK_INTERVAL, CommandError
from archid.daemon.state import MemoryState, Pauses
from archid.daemon.worker import SyncResult
from archid.portal.errors import LoginBudgetSpent, Stage
from archid.portal.hold import PortalHold
from archid.records import ExportType
from tests.daemon.helpers import ANCHOR, Script, running, wait_for

CUSTOMERS, ORDERS, PRODUCTS = ExportType.CUSTOMERS, ExportType.ORDERS, ExportType.PRODUCTS


async def test_a_session_queues_a_recent_customer_sync_and_holds_nothing_else(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = Script(seconds=2.0)
    async with running(script) as daemon:
        await wait_for(lambda: bool(script.calls))  # orders at start + 0
        opened = daemon.session_open("mario")
        await trio.sleep(1)
        daemon.sync_now(PRODUCTS)
        await wait_for(lambda: any(c[2] is Trigger.SESSION for c in script.calls))
        session_call = next(c for c in script.calls if c[2] is Trigger.SESSION)
        assert session_call[:2] == (CUSTOMERS, Mode.RECENT)
        # Nothing to preempt here (the job never says it is exporting): the
        # running orders sync finishes (2 s), then the session's sync goes first.
        assert session_call[3] == pytest.approx(2.0)
        # Other types are not held while the order form is open: the second
        # portal session serves the order form.
        await wait_for(lambda: PRODUCTS in [c[0] for c in script.calls], limit=10)
        assert not any(c[:2] == (CUSTOMERS, Mode.FULL) for c in script.calls)
        # The last session's end queues the full customers export.
        assert daemon.session_close(opened.id) == SessionClosed(opened.id, 0)
        await wait_for(
            lambda: (CUSTOMERS, Mode.FULL, Trigger.SESSION) in [c[:3] for c in script.calls]
        )


async def test_forgotten_sessions_expire_after_the_safety_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with running(Script()) as daemon:
        daemon.session_open("mario")
        daemon.session_open("lucia")
        assert len(daemon.sessions) == 2
        await trio.sleep(599)
        assert len(daemon.sessions) == 2
        await trio.sleep(2)
        assert len(daemon.sessions) == 0
        with pytest.raises(CommandError):
            daemon.session_close("nope")


async def test_pause_and_resume_per_type_and_globally_persist(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = Script()
    state = MemoryState()
    async with running(script, state) as daemon:
        await wait_for(lambda: bool(script.calls))  # orders ran at start + 0
        daemon.pause(ORDERS)
        paused_at = trio.current_time()
        await trio.sleep(3600)
        assert [c for c in script.calls if c[0] is ORDERS and c[3] > paused_at] == []
        assert len({c[0] for c in script.calls}) == len(ExportType)  # the others went on
        assert state.pauses() == Pauses(False, frozenset({ORDERS}))
        daemon.pause()
        count = len(script.calls)
        daemon.sync_now(CUSTOMERS)
        await trio.sleep(600)
        assert len(script.calls) == count  # nothing starts while paused
        daemon.resume()
        await wait_for(lambda: script.calls[-1][0] is ORDERS, limit=30)
        assert state.pauses() == Pauses()


async def test_restart_requeues_the_interrupted_sync_and_the_queue(
    autojump_clock: trio.testing.MockClock,
) -> None:
    state = MemoryState()
    slow = Script(seconds=10_000)
    async with running(slow, state) as daemon:
        await wait_for(lambda: daemon.worker.current is not None)
        daemon.sync_now(PRODUCTS)
        await wait_for(lambda: not daemon.writer.unsaved)  # written off the event loop
        saved = state.queue()
        assert saved.running is not None and saved.running.type is ORDERS
        assert [r.type for r in saved.pending] == [PRODUCTS]
    # The process "died" with orders running and products waiting.
    script = Script()
    async with running(script, state):
        await wait_for(lambda: len(script.calls) >= 2)
    # Both run again: the interrupted one first, as the README says, even
    # before a waiting request of a higher priority.
    assert [c[0] for c in script.calls[:2]] == [ORDERS, PRODUCTS]


async def test_last_runs_persist_so_a_restart_does_not_resync_everything(
    autojump_clock: trio.testing.MockClock,
) -> None:
    state = MemoryState()
    first = Script()
    async with running(first, state):
        await trio.sleep(31 * 60)  # every type ran once
    assert set(state.last_runs()) == set(ExportType)
    again = Script()
    async with running(again, state):
        await trio.sleep(60)
    assert again.calls == []


async def test_dead_letters_can_be_listed_retried_and_dropped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = Script(failing={CUSTOMERS})
    async with running(script) as daemon:
        daemon.sync_now(CUSTOMERS)
        await wait_for(lambda: bool(daemon.dead_letters()))
        [letter] = daemon.dead_letters()
        assert (letter.type, letter.error) == (CUSTOMERS, "LayoutChanged")
        assert [a.error for a in letter.attempts] == ["LayoutChanged"]
        script.failing.clear()
        await daemon.retry_dead_letter(letter.id)
        assert daemon.dead_letters() == ()
        await wait_for(lambda: daemon.health.of(CUSTOMERS).last_success is not None)
        with pytest.raises(CommandError):
            await daemon.drop_dead_letter(letter.id)


async def test_cancel_running_and_queued(autojump_clock: trio.testing.MockClock) -> None:
    script = Script(seconds=500)
    async with running(script) as daemon:
        await wait_for(lambda: daemon.worker.current is not None)
        daemon.sync_now(PRODUCTS)
        assert daemon.cancel(PRODUCTS) == Cancellation(PRODUCTS, "queued")
        assert daemon.cancel() == Cancellation(ORDERS, "running")
        await trio.sleep(1)
        assert daemon.worker.current is None or daemon.worker.current.request.type != ORDERS
        with pytest.raises(CommandError):
            daemon.cancel(PRODUCTS)


async def test_status_and_reload(autojump_clock: trio.testing.MockClock) -> None:
    async with running(Script(seconds=30)) as daemon:
        await wait_for(lambda: daemon.worker.current is not None)
        status = daemon.status()
        assert status.running is not None and status.running.type is ORDERS
        assert status.breaker is BreakerState.CLOSED and status.state == "syncing"
        assert "syncing orders" in daemon.status_line()
        schedules = dict(daemon.config.schedules)
        schedules[ORDERS] = replace(schedules[ORDERS], every=3600.0)
        daemon.reconfigure(replace(daemon.config, schedules=schedules))
        await trio.sleep(31)
        assert daemon.scheduler.next_due(ORDERS) == pytest.approx(ANCHOR + 3600, abs=1)


@dataclass
class HeldPortal:
    """A portal on hold until ``expired`` is set; only :meth:`lift_expired` or
    :meth:`resume` forgets the hold, and each lift is noted."""

    held: PortalHold | None = field(
        default_factory=lambda: PortalHold(
            LoginBudgetSpent("no logins left", Stage.LOGIN),
            datetime(2026, 5, 28, 10, tzinfo=UTC),
            datetime(2026, 5, 28, 22, tzinfo=UTC),
        )
    )
    expired: bool = False
    lifts: list[float] = field(default_factory=list)

    @property
    def hold(self) -> PortalHold | None:
        return None if self.expired else self.held

    def lift_expired(self) -> PortalHold | None:
        held = self.held
        if held is None or not self.expired:
            return None
        self.held = None
        self.lifts.append(trio.current_time())
        return held

    def resume(self, why: str) -> PortalHold | None:
        held, self.held = self.held, None
        return held


async def test_looking_at_an_expired_hold_lifts_nothing_the_hold_watch_lifts_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    portal = HeldPortal()
    script = Script()
    async with running(script, portal=portal) as daemon:
        await trio.sleep(600)
        assert script.calls == [] and daemon.status().state == "portal hold"
        daemon.pause()  # so that no sync start lifts it: the watch must
        with daemon.events.subscribe() as events:
            portal.expired = True
            expired_at = trio.current_time()
            for _ in range(3):
                status = daemon.status()
                assert status.portal_hold is None and status.state == "paused"
                assert "portal hold" not in daemon.status_line()
            assert portal.held is not None and portal.lifts == []
            # A second past the interval: the watch's tick may fall on the very
            # instant this task wakes at, in either order.
            await trio.sleep(HOLD_CHECK_INTERVAL + 1)
            assert len(portal.lifts) == 1
            assert portal.lifts[0] - expired_at <= HOLD_CHECK_INTERVAL
            kinds = [(e.kind, e.message) for e in drain(events)]
        assert (EventKind.HOLD, "lifted") in kinds
        assert script.calls == []


async def test_a_sync_starting_after_the_hold_expired_lifts_it_first(
    autojump_clock: trio.testing.MockClock,
) -> None:
    portal = HeldPortal()
    lifts_seen: list[int] = []

    @dataclass
    class Watching(Script):
        async def __call__(self, request: Request, run_id: int, attempt: int) -> SyncResult:
            lifts_seen.append(len(portal.lifts))
            return await super().__call__(request, run_id, attempt)

    script = Watching()
    async with running(script, portal=portal) as daemon:
        daemon.sync_now(PRODUCTS)
        await trio.sleep(5)
        queue = daemon.queue()
        assert script.calls == [] and PRODUCTS in [e.type for e in queue]
        assert all(e.held for e in queue)
        portal.expired = True
        daemon.sync_now(PRODUCTS)  # queued again: the worker looks again
        await wait_for(lambda: bool(script.calls), limit=HOLD_CHECK_INTERVAL / 2)
        # Started before the hold watch's next look, and lifted as it started.
        assert lifts_seen[0] == 1 and portal.held is None


def drain(events: trio.MemoryReceiveChannel[Event]) -> list[Event]:
    taken = []
    while True:
        try:
            taken.append(events.receive_nowait())
        except trio.WouldBlock:
            return taken
