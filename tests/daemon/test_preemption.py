"""A person's request never waits behind a scheduled export: the daemon's side
of preemption, under MockClock with a scripted sync job that says when it is
exporting (the portal's side, letting the export finish on its own session,
is in tests/portal/test_lanes.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
import trio
import trio.testing

from archid.daemon.clock import WallClock
from archid.daemon.events import EventKind
from archid.daemon.queue import Mode, Request, Trigger
from archid.daemon.service import Daemon
from archid.daemon.state import MemoryState
from archid.daemon.worker import CutOff, SyncResult
from archid.records import ExportType
from tests.daemon.helpers import ANCHOR, always_up, config

CUSTOMERS, ORDERS, PRICES = ExportType.CUSTOMERS, ExportType.ORDERS, ExportType.PRICES


@dataclass
class Call:
    request: Request
    run_id: int
    started: float
    ended: float | None = None
    cut: bool = False


@dataclass
class StagedJob:
    """A sync job that exports for ``export`` seconds, then parses and applies for
    ``apply`` seconds; ``exporting`` is true during the first part only."""

    export: dict[ExportType, float] = field(default_factory=dict)
    apply: float = 1.0
    calls: list[Call] = field(default_factory=list)
    exporting: bool = False

    async def __call__(self, request: Request, run_id: int, attempt: int) -> SyncResult:
        call = Call(request, run_id, trio.current_time())
        self.calls.append(call)
        try:
            self.exporting = True
            await trio.sleep(
                self.export.get(request.type, 60.0 if not request.interactive else 3.0)
            )
            self.exporting = False
            await trio.sleep(self.apply)
        except BaseException:
            call.cut = True
            raise
        finally:
            self.exporting = False
        call.ended = trio.current_time()
        return SyncResult(changed=True)


@dataclass
class Harness:
    daemon: Daemon
    job: StagedJob
    cut_offs: list[CutOff]
    let_go: list[float]


@asynccontextmanager
async def running(job: StagedJob) -> AsyncIterator[Harness]:
    cut_offs: list[CutOff] = []
    let_go: list[float] = []

    def preempt() -> bool:
        if not job.exporting:
            return False
        let_go.append(trio.current_time())
        return True

    daemon = Daemon(
        config(scheduled=False),  # each test queues its scheduled syncs by hand
        job,
        MemoryState(),
        probe=always_up,
        clock=WallClock(ANCHOR),
        on_cut_off=cut_offs.append,
        preempt=preempt,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.run)
        yield Harness(daemon, job, cut_offs, let_go)
        nursery.cancel_scope.cancel()


async def wait_for(condition: Callable[[], bool], limit: float = 3600) -> None:
    with trio.fail_after(limit):
        while not condition():
            await trio.sleep(0.1)


def calls_of(job: StagedJob, export_type: ExportType, trigger: Trigger) -> list[Call]:
    return [c for c in job.calls if c.request.type is export_type and c.request.trigger is trigger]


async def test_an_order_form_preempts_a_scheduled_export_which_then_runs_right_after(
    autojump_clock: trio.testing.MockClock,
) -> None:
    job = StagedJob(export={PRICES: 200.0, ORDERS: 5.0})
    async with running(job) as h:
        daemon = h.daemon
        # The scheduler's first round is done; a scheduled prices sync, queued by hand.
        daemon.channel.put(Request(PRICES, 2, Mode.FULL, Trigger.SCHEDULE))
        await wait_for(lambda: job.exporting and daemon.worker.current is not None)
        assert daemon.worker.current is not None
        assert daemon.worker.current.request.type is PRICES
        await trio.sleep(30)  # 30 s into the prices export
        opened_at = trio.current_time()
        with daemon.events.subscribe() as events:
            daemon.session_open("mario")
            await wait_for(lambda: bool(calls_of(job, CUSTOMERS, Trigger.SESSION)), limit=10)
            session_call = calls_of(job, CUSTOMERS, Trigger.SESSION)[0]
            # The interactive work took the slot within 2 s.
            assert session_call.started - opened_at <= 2.0
            assert session_call.request.mode is Mode.RECENT
            assert session_call.request.requested_by == "mario"
            # The preempted prices sync: cut, recorded as preempted, not failed.
            first_prices = calls_of(job, PRICES, Trigger.SCHEDULE)[0]
            assert first_prices.cut
            assert [c.outcome for c in h.cut_offs] == ["preempted"]
            assert h.let_go == [opened_at]
            # It runs right after the session's sync, and completes.
            await wait_for(lambda: len(calls_of(job, PRICES, Trigger.SCHEDULE)) == 2, limit=30)
            again = calls_of(job, PRICES, Trigger.SCHEDULE)[1]
            assert session_call.ended is not None
            assert again.started == pytest.approx(session_call.ended, abs=0.5)
            assert again.request.seq == first_prices.request.seq  # kept its place
            await wait_for(lambda: again.ended is not None, limit=400)
            kinds = []
            while True:
                try:
                    event = events.receive_nowait()
                except trio.WouldBlock:
                    break
                if event.type is PRICES:
                    kinds.append(event.kind)
        assert EventKind.PREEMPTED in kinds
        assert EventKind.FAILED not in kinds
        assert EventKind.DEAD_LETTER not in kinds
        # Not a failure: no retry counted, the breaker saw nothing, health is clean.
        assert daemon.breaker.failures == 0
        assert daemon.health.of(PRICES).consecutive_failures == 0
        assert not daemon.dead_letters()


async def test_a_session_opening_during_a_parse_or_apply_waits_for_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    job = StagedJob(export={PRICES: 10.0}, apply=2.0)
    async with running(job) as h:
        daemon = h.daemon
        daemon.channel.put(Request(PRICES, 2, Mode.FULL, Trigger.SCHEDULE))
        await wait_for(lambda: bool(calls_of(job, PRICES, Trigger.SCHEDULE)))
        prices = calls_of(job, PRICES, Trigger.SCHEDULE)[0]
        await wait_for(lambda: trio.current_time() >= prices.started + 10.5)
        assert not job.exporting  # applying now
        daemon.session_open("mario")
        await wait_for(lambda: bool(calls_of(job, CUSTOMERS, Trigger.SESSION)), limit=10)
        session_call = calls_of(job, CUSTOMERS, Trigger.SESSION)[0]
        assert not prices.cut
        assert prices.ended is not None
        assert session_call.started == pytest.approx(prices.ended, abs=0.2)
        assert h.cut_offs == []
        assert h.let_go == []


async def test_a_manual_sync_preempts_a_scheduled_export_but_not_another_persons_work(
    autojump_clock: trio.testing.MockClock,
) -> None:
    job = StagedJob(export={ORDERS: 40.0, PRICES: 40.0})
    async with running(job) as h:
        daemon = h.daemon
        daemon.channel.put(Request(ORDERS, 6, Mode.FULL, Trigger.SCHEDULE))
        await wait_for(lambda: job.exporting)
        daemon.sync_now(PRICES, requested_by="admin")
        await wait_for(lambda: bool(calls_of(job, PRICES, Trigger.MANUAL)), limit=3)
        manual = calls_of(job, PRICES, Trigger.MANUAL)[0]
        assert manual.request.requested_by == "admin"
        assert [c.outcome for c in h.cut_offs] == ["preempted"]
        # A second person's request waits for the first: people do not preempt people.
        await wait_for(lambda: job.exporting)
        daemon.session_open("lucia")
        await trio.sleep(5)
        assert not manual.cut
        assert [c.outcome for c in h.cut_offs] == ["preempted"]
        await wait_for(lambda: bool(calls_of(job, CUSTOMERS, Trigger.SESSION)), limit=120)
        # The scheduled orders sync comes back after both.
        await wait_for(lambda: len(calls_of(job, ORDERS, Trigger.SCHEDULE)) == 2, limit=120)
        assert calls_of(job, ORDERS, Trigger.SCHEDULE)[1].started >= max(
            c.ended or 0 for c in job.calls if c.request.interactive
        )


async def test_a_preempted_sync_merges_with_a_waiting_one_of_its_type(
    autojump_clock: trio.testing.MockClock,
) -> None:
    job = StagedJob(export={ORDERS: 40.0})
    async with running(job) as h:
        daemon = h.daemon
        daemon.channel.put(Request(ORDERS, 6, Mode.FULL, Trigger.SCHEDULE))
        await wait_for(lambda: job.exporting)
        # Another orders request arrives while the first runs.
        daemon.channel.put(Request(ORDERS, 6, Mode.FULL, Trigger.SCHEDULE))
        daemon.session_open("mario")
        await wait_for(lambda: bool(calls_of(job, CUSTOMERS, Trigger.SESSION)), limit=3)
        orders_waiting = [r for r in daemon.channel.pending() if r.type is ORDERS]
        assert len(orders_waiting) == 1
        await wait_for(lambda: len(calls_of(job, ORDERS, Trigger.SCHEDULE)) == 2, limit=200)
        await trio.sleep(200)
        assert len(calls_of(job, ORDERS, Trigger.SCHEDULE)) == 2
        assert [c.outcome for c in h.cut_offs] == ["preempted"]


async def test_a_manual_sync_of_the_preempted_type_keeps_the_entry_its_caller_follows(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An admin's ``sync customers`` while a scheduled customers export runs:
    the preempted sync merges into the admin's waiting entry, and that entry
    (the one ``ctl sync --wait`` follows by its ``seq``) is what runs. The
    soak found the merged entry taking the preempted one's older ``seq``: the
    sync ran, and its caller was told "dropped from the queue before it ran"."""
    job = StagedJob(export={CUSTOMERS: 40.0})
    async with running(job) as h:
        daemon = h.daemon
        daemon.channel.put(Request(CUSTOMERS, 6, Mode.FULL, Trigger.SCHEDULE))
        await wait_for(lambda: job.exporting)
        followed = daemon.sync_now(CUSTOMERS, requested_by="admin")
        await wait_for(lambda: bool(calls_of(job, CUSTOMERS, Trigger.MANUAL)), limit=3)
        assert [c.outcome for c in h.cut_offs] == ["preempted"]
        manual = calls_of(job, CUSTOMERS, Trigger.MANUAL)
        assert [c.request.seq for c in manual] == [followed.seq]
        await wait_for(lambda: manual[0].ended is not None, limit=120)
        # One customers sync served both: nothing of the type waits any more.
        assert not [r for r in daemon.channel.pending() if r.type is CUSTOMERS]
