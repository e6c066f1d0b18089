"""What a restart brings back from the database file: health, and the interrupted sync first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import apsw
import pytest
import trio
import trio.testing

from archid.daemon.events import Event, EventBus, EventKind
from archid.daemon.queue import Mode, Request, Trigger
from archid.daemon.service import MANUAL_PRIORITY, Daemon
from archid.daemon.sqlite_state import SqliteState
from archid.daemon.state import MemoryState
from archid.daemon.worker import CutOff, DeadLetter
from archid.records import ExportType
from archid.runs import Outcome
from archid.store import (
    Database,
    RunMeta,
    apply_sync,
    open_database,
    record_failed_run,
    record_run,
)
from tests.daemon.helpers import Script, always_up, config, wait_for
from tests.store.synthetic import many

C, ORDERS, PRODUCTS = ExportType.CUSTOMERS, ExportType.ORDERS, ExportType.PRODUCTS


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "m.sqlite3")
    yield database
    database.close()


@pytest.fixture
def patient_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after a second with nothing to run: the
    daemon's flush at stop waits for a real SQLite write in a thread, and a
    clock that jumps at once would run its time limit out under it on a
    loaded machine."""
    return trio.testing.MockClock(autojump_threshold=1.0)


def failed(db: Database, export_type: ExportType, error: str) -> None:
    record_failed_run(
        db, export_type, "full", "schedule", error_class=error, message="it broke", stage="apply"
    )


async def test_health_is_rebuilt_from_the_recorded_runs(db: Database) -> None:
    ok = apply_sync(db, C, many(C, 5), meta=RunMeta())
    failed(db, C, "DatabaseBusy")
    # Cut off by a stop, or preempted by a person: no verdict on the type's health.
    record_run(db, C, "full", "schedule", outcome=Outcome.CANCELLED, error_class="Cancelled")
    record_run(db, C, "full", "schedule", outcome=Outcome.PREEMPTED)
    failed(db, C, "DiskFull")
    for _ in range(3):
        failed(db, ORDERS, "LayoutChanged")
    state = SqliteState(db)
    try:
        daemon = Daemon(config(), Script(), state, probe=always_up)
        customers = daemon.health.of(C)
        assert list(customers.outcomes) == [True, False, False]
        assert customers.consecutive_failures == 2
        assert customers.last_success == datetime.fromisoformat(ok.ended_at).timestamp()
        assert customers.last_error == "DiskFull: it broke"
        orders = daemon.health.of(ORDERS)
        assert orders.consecutive_failures == 3 and orders.last_success is None
        report = daemon.health_report()
        assert report.healthy is False
        assert report.types[ORDERS].healthy is False
    finally:
        state.close()


async def test_the_interrupted_sync_runs_first_after_a_restart(
    db: Database, autojump_clock: trio.testing.MockClock
) -> None:
    state = SqliteState(db)
    # The process died running a scheduled orders sync, a manual products
    # sync waiting behind it (a higher priority than the interrupted one).
    state.save_queue(
        [Request(PRODUCTS, MANUAL_PRIORITY, Mode.FULL, Trigger.MANUAL, seq=2)],
        Request(ORDERS, 6, seq=1),
    )
    script = Script()
    start = trio.current_time()
    try:
        daemon = Daemon(config(), script, state, probe=always_up)
        async with trio.open_nursery() as nursery:
            await nursery.start(daemon.run)
            await wait_for(lambda: len(script.calls) >= 2)
            nursery.cancel_scope.cancel()
        assert [c[0] for c in script.calls[:2]] == [ORDERS, PRODUCTS]
        assert script.calls[0][3] == start  # at once
        assert script.calls[0][1:3] == (Mode.FULL, Trigger.SCHEDULE)
    finally:
        state.close()


def _interrupted_rows(db: Database) -> list[tuple[object, ...]]:
    return list(
        db.connection.execute(
            "SELECT type, mode, trigger, error_stage FROM sync_runs"
            " WHERE outcome = 'interrupted' AND error_class = 'Interrupted'"
        )
    )


async def _start_and_stop(daemon: Daemon, script: Script) -> None:
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.run)
        await wait_for(lambda: len(script.calls) >= 1)
        nursery.cancel_scope.cancel()


async def test_a_sync_the_process_died_in_gets_its_row_once_at_the_next_start(
    db: Database, patient_clock: trio.testing.MockClock
) -> None:
    state = SqliteState(db)
    try:
        # SIGKILL during a manual customers sync: nothing recorded it.
        state.save_queue([], Request(C, MANUAL_PRIORITY, Mode.RECENT, Trigger.MANUAL, seq=1))
        script = Script(seconds=3600)
        await _start_and_stop(Daemon(config(), script, state, probe=always_up), script)
        assert _interrupted_rows(db) == [("customers", "recent", "manual", "unknown")]
        # That stop was clean: the cut-off attempt went to ``on_cut_off`` (the
        # sync job records it as Cancelled), so the start after it records
        # nothing more, though the sync still runs first.
        assert state.queue().recorded and state.queue().running is not None
        cut: list[CutOff] = []
        script = Script(seconds=3600)
        daemon = Daemon(config(), script, state, probe=always_up, on_cut_off=cut.append)
        await _start_and_stop(daemon, script)
        assert script.calls[0][0] is C and [c.error for c in cut] == ["Cancelled"]
        assert len(_interrupted_rows(db)) == 1
    finally:
        state.close()


async def test_taking_a_dead_letter_waits_out_a_locked_database_off_the_event_loop(
    db: Database, tmp_path: Path
) -> None:
    state = SqliteState(db, busy_timeout=10)
    try:
        letter = DeadLetter(Request(ORDERS, 6), "LayoutChanged", "parse", "x", (), 1.0)
        letter_id = state.add_dead_letter(letter)
        daemon = Daemon(config(), Script(), state, probe=always_up)
        holder = apsw.Connection(str(tmp_path / "m.sqlite3"))
        holder.execute("BEGIN IMMEDIATE")
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await trio.sleep(0.01)
                ticks += 1

        async with trio.open_nursery() as nursery:
            nursery.start_soon(tick)
            retried = trio.Event()

            async def retry() -> None:
                await daemon.retry_dead_letter(letter_id)
                retried.set()

            nursery.start_soon(retry)
            await trio.sleep(0.5)
            # Still waiting for the lock, and the loop ran on meanwhile.
            assert not retried.is_set() and ticks >= 20
            holder.execute("ROLLBACK")
            with trio.fail_after(10):
                await retried.wait()
            nursery.cancel_scope.cancel()
        holder.close()
        assert [r.type for r in daemon.channel.pending()] == [ORDERS]
        assert state.dead_letters() == []
    finally:
        state.close()


class DroppingBus(EventBus):
    """An event bus whose subscribers are all full whenever an attempt starts:
    every STARTED event is lost, as a slow subscriber loses events."""

    def publish(self, event: Event) -> None:
        if event.kind is not EventKind.STARTED:
            super().publish(event)


async def test_an_attempt_killed_while_events_are_dropped_still_gets_its_interrupted_row(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The first attempt runs over its timeout (its row is recorded as cut
    # off), the retry starts with its STARTED event lost, and the process is
    # killed during the retry: the next start must record it.
    base = config()
    short = {t: replace(s, timeout=10.0) for t, s in base.schedules.items()}
    settings = replace(base, schedules=short)
    state = MemoryState()
    script = Script(seconds=3600)
    daemon = Daemon(settings, script, state, probe=always_up, events=DroppingBus())
    daemon.channel.put(Request(C, MANUAL_PRIORITY, Mode.FULL, Trigger.MANUAL))
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.run)
        await wait_for(lambda: len([c for c in script.calls if c[0] is C]) >= 2)
        await trio.sleep(1)  # the state writer has written what the retry changed
        # SIGKILL now: what the database holds is all the next start has.
        saved = state.queue()
        nursery.cancel_scope.cancel()
    assert saved.running is not None and saved.running.type is C
    assert not saved.recorded
    after = MemoryState()
    after.save_queue(list(saved.pending), saved.running, saved.recorded)
    restarted = Daemon(settings, Script(seconds=3600), after, probe=always_up)
    async with trio.open_nursery() as nursery:
        await nursery.start(restarted.run)
        nursery.cancel_scope.cancel()
    assert [(r["type"], r["outcome"]) for r in after.runs][:1] == [("customers", "interrupted")]
