"""The daemon's state is written off the event loop, and no failure of a write stops it:
a busy database is waited out (a real lock held by another connection), a full disk is
said as such and tried again until the writes land."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import apsw
import pytest
import trio
import trio.testing

from archid.daemon.events import Event, EventKind
from archid.daemon.persist import StateWriter
from archid.daemon.queue import Mode, Request, Trigger
from archid.daemon.sqlite_state import SqliteState
from archid.daemon.state import FailedRun, MemoryState, Pauses
from archid.daemon.worker import Attempt, DeadLetter
from archid.records import ExportType
from archid.store import Database, list_runs, open_database
from archid.store.errors import DiskFull
from tests.daemon.helpers import ANCHOR, Script, running, wait_for

C, ORDERS = ExportType.CUSTOMERS, ExportType.ORDERS


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "m.sqlite3")
    yield database
    database.close()


def letter() -> DeadLetter:
    attempt = Attempt(1, ANCHOR, "LayoutChanged", None, "header changed", False)
    return DeadLetter(Request(C, 5), "LayoutChanged", None, "header changed", (attempt,), ANCHOR)


async def test_writes_wait_out_a_locked_database_while_the_loop_runs_on(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    state = SqliteState(db, busy_timeout=0.3)
    holder = apsw.Connection(db.path)
    holder.execute("BEGIN IMMEDIATE")  # an apply (or anyone) holds the write lock
    writer = StateWriter(state)
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(trio.current_time())
            await trio.sleep(0.01)

    try:
        with caplog.at_level(logging.DEBUG, "archid.state"), trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                await nursery.start(writer.run)
                nursery.start_soon(tick)
                writer.save_queue([Request(ORDERS, 6, seq=2)], Request(C, 5, seq=1))
                writer.set_last_run(ORDERS, ANCHOR)
                writer.add_dead_letter(letter())
                busy = FailedRun(C, Mode.FULL, Trigger.SCHEDULE, "DatabaseBusy", "busy", "apply")
                writer.record_failed_run(busy)
                while writer.failed_writes < 2:
                    await trio.sleep(0.01)
                # Nothing got through while the lock was held; the loop never stalled.
                assert list_runs(db) == [] and state.dead_letters() == []
                gaps = [b - a for a, b in itertools.pairwise(ticks)]
                assert max(gaps) < 0.25, max(gaps)  # a write waits 0.3 s for the lock
                holder.execute("ROLLBACK")
                while writer.unsaved:
                    await trio.sleep(0.01)
                nursery.cancel_scope.cancel()
        saved = state.queue()
        assert saved.running is not None and saved.running.type is C
        assert [r.type for r in saved.pending] == [ORDERS]
        assert state.last_runs() == {ORDERS: ANCHOR}
        assert [d.error for _, d in state.dead_letters()] == ["LayoutChanged"]
        assert [(r["error_class"], r["error_stage"]) for r in list_runs(db)] == [
            ("DatabaseBusy", "apply")
        ]
        assert "daemon state not saved yet (database busy while" in caplog.text
        assert "daemon state saved again" in caplog.text
    finally:
        holder.close()
        state.close()


@dataclass
class FullDisk(MemoryState):
    """The in-memory state on a disk that is full until ``full`` is set false."""

    full: bool = True

    def _check(self) -> None:
        if self.full:
            raise DiskFull("disk full while saving the queue: FullError: database or disk is full")

    def set_last_run(self, export_type: ExportType, at: float) -> None:
        self._check()
        super().set_last_run(export_type, at)

    def set_pauses(self, pauses: Pauses) -> None:
        self._check()
        super().set_pauses(pauses)

    def save_queue(
        self, pending: list[Request], running: Request | None, recorded: bool = False
    ) -> None:
        self._check()
        super().save_queue(pending, running, recorded)


async def test_a_full_disk_neither_stops_the_daemon_nor_loses_its_state(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    state = FullDisk()
    script = Script()
    with caplog.at_level(logging.INFO):
        async with running(script, state) as daemon:
            await trio.sleep(3600)  # an hour of syncs on a full disk
            assert {c[0] for c in script.calls} == set(ExportType)
            assert daemon.writer.unsaved and state.last_runs() == {}
            daemon.pause(ORDERS)
            state.full = False  # an operator freed some space
            await wait_for(lambda: not daemon.writer.unsaved, limit=120)
            assert state.pauses() == Pauses(False, frozenset({ORDERS}))
            assert set(state.last_runs()) == set(ExportType)
    lines = [r.getMessage() for r in caplog.records if r.name == "archid.state"]
    # Said once (not once per retry), then once more when it is over.
    assert [line for line in lines if "disk full" in line] == [
        "daemon state not saved: disk full while saving the queue: FullError: database or"
        " disk is full; trying again until it is"
    ]
    assert any(line.startswith("daemon state saved again after") for line in lines)


async def test_an_event_the_reporter_cannot_read_does_not_stop_the_daemon(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    script = Script()
    async with running(script) as daemon:
        # A finished event whose timings are not numbers: formatting it fails.
        bad = Event(EventKind.FINISHED, ORDERS, 1, data={"seconds": {"export": "slow"}})
        daemon.events.publish(bad)
        await trio.sleep(3600)
        assert {c[0] for c in script.calls} == set(ExportType)  # it went on syncing
        assert daemon.status_line().startswith("idle")
    assert "could not report a finished event" in caplog.text
