"""The daemon's commands and task tree under MockClock, with a scripted sync job."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

import pytest
import trio
import trio.testing

from archid.config import Config, LoadConfig, PortalConfig, QuietHoursConfig, Secret
from archid.daemon.clock import WallClock
from archid.daemon.queue import Mode, Request, Trigger
from archid.daemon.service import CommandError, Daemon
from archid.daemon.state import MemoryState, Pauses
from archid.daemon.worker import SyncResult
from archid.exports.errors import LayoutChanged
from archid.records import ExportType

ANCHOR = 1_780_000_000.0  # a Wednesday, 2026-05-28 around noon in Rome
CUSTOMERS, ORDERS, PRODUCTS = ExportType.CUSTOMERS, ExportType.ORDERS, ExportType.PRODUCTS


def config() -> Config:
    portal = PortalConfig(url="http://127.0.0.1/Archibald/", username="agent", password=Secret("x"))
    return Config(
        portal=portal,
        quiet_hours=QuietHoursConfig(enabled=False),
        load=LoadConfig(max_load_average=None),
    )


@dataclass
class Script:
    """The sync job: records calls, takes ``seconds`` per sync, fails for listed types."""

    seconds: float = 1.0
    failing: set[ExportType] = field(default_factory=set)
    calls: list[tuple[ExportType, Mode, Trigger, float]] = field(default_factory=list)

    async def __call__(self, request: Request, run_id: int, attempt: int) -> SyncResult:
        self.calls.append((request.type, request.mode, request.trigger, trio.current_time()))
        await trio.sleep(self.seconds)
        if request.type in self.failing:
            raise LayoutChanged("header changed")
        return SyncResult(changed=True)


async def always_up() -> bool:
    return True


@asynccontextmanager
async def running(
    script: Script, state: MemoryState | None = None, **kwargs: object
) -> AsyncIterator[Daemon]:
    daemon = Daemon(
        config(),
        script,
        state or MemoryState(),
        probe=always_up,
        clock=WallClock(ANCHOR),
        **kwargs,  # type: ignore[arg-type]
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.run)
        yield daemon
        nursery.cancel_scope.cancel()


async def wait_for(condition: Callable[[], bool], limit: float = 3600) -> None:
    with trio.fail_after(limit):
        while not condition():
            await trio.sleep(0.5)


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
        daemon.session_close(opened["session"])
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
        assert (letter["type"], letter["error"]) == ("customers", "LayoutChanged")
        script.failing.clear()
        await daemon.retry_dead_letter(letter["id"])
        assert daemon.dead_letters() == []
        await wait_for(lambda: daemon.health.of(CUSTOMERS).last_success is not None)
        with pytest.raises(CommandError):
            await daemon.drop_dead_letter(letter["id"])


async def test_cancel_running_and_queued(autojump_clock: trio.testing.MockClock) -> None:
    script = Script(seconds=500)
    async with running(script) as daemon:
        await wait_for(lambda: daemon.worker.current is not None)
        daemon.sync_now(PRODUCTS)
        assert daemon.cancel(PRODUCTS) == {"cancelled": "products", "was": "queued"}
        assert daemon.cancel() == {"cancelled": "orders", "was": "running"}
        await trio.sleep(1)
        assert daemon.worker.current is None or daemon.worker.current.request.type != ORDERS
        with pytest.raises(CommandError):
            daemon.cancel(PRODUCTS)


async def test_status_and_reload(autojump_clock: trio.testing.MockClock) -> None:
    async with running(Script(seconds=30)) as daemon:
        await wait_for(lambda: daemon.worker.current is not None)
        status = daemon.status()
        assert status["running"]["type"] == "orders"
        assert status["breaker"] == "closed"
        assert "syncing orders" in daemon.status_line()
        schedules = dict(daemon.config.schedules)
        schedules[ORDERS] = replace(schedules[ORDERS], every=3600.0)
        daemon.reconfigure(replace(daemon.config, schedules=schedules))
        await trio.sleep(31)
        assert daemon.scheduler.next_due(ORDERS) == pytest.approx(ANCHOR + 3600, abs=1)
