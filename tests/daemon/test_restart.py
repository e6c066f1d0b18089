"""What a restart brings back from the database file: health, and the interrupted sync first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import trio
import trio.testing

from archid.daemon.queue import Mode, Request, Trigger
from archid.daemon.service import MANUAL_PRIORITY, Daemon
from archid.daemon.sqlite_state import SqliteState
from archid.records import ExportType
from archid.store import Database, RunMeta, apply_sync, open_database, record_failed_run
from tests.daemon.test_service import Script, always_up, config, wait_for
from tests.store.synthetic import many

C, ORDERS, PRODUCTS = ExportType.CUSTOMERS, ExportType.ORDERS, ExportType.PRODUCTS


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "m.sqlite3")
    yield database
    database.close()


def failed(db: Database, export_type: ExportType, error: str) -> None:
    record_failed_run(
        db, export_type, "full", "schedule", error_class=error, message="it broke", stage="apply"
    )


async def test_health_is_rebuilt_from_the_recorded_runs(db: Database) -> None:
    ok = apply_sync(db, C, many(C, 5), meta=RunMeta())
    failed(db, C, "DatabaseBusy")
    failed(db, C, "Cancelled")  # cut off by a stop: no outcome
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
        assert report["healthy"] is False
        assert report["types"]["orders"]["healthy"] is False
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
