"""The daemon's state in SQLite behaves like the in-memory one, and survives a reopen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import apsw
import pytest

from archid.daemon.queue import Mode, Request, Trigger
from archid.daemon.sqlite_state import SqliteState
from archid.daemon.state import DaemonState, MemoryState, Pauses, SavedQueue
from archid.daemon.worker import Attempt, DeadLetter
from archid.records import ExportType
from archid.store import open_database
from archid.store.migrations import MIGRATIONS, user_version

ORDERS, CUSTOMERS, DDT = ExportType.ORDERS, ExportType.CUSTOMERS, ExportType.DDT


def letter(t: ExportType, message: str) -> DeadLetter:
    attempts = (
        Attempt(1, 100.0, "PortalUnavailable", "page_load", "timed out", True),
        Attempt(2, 105.0, "PortalUnavailable", "download", message, True),
    )
    return DeadLetter(
        Request(t, 4, Mode.RECENT, Trigger.MANUAL),
        "PortalUnavailable",
        "download",
        message,
        attempts,
        110.0,
    )


@pytest.fixture(params=["memory", "sqlite"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DaemonState]:
    if request.param == "memory":
        yield MemoryState()
        return
    db = open_database(tmp_path / "m.sqlite3")
    sqlite = SqliteState(db)
    yield sqlite
    sqlite.close()
    db.close()


def test_last_runs_pauses_and_queue_round_trip(state: DaemonState) -> None:
    assert state.last_runs() == {} and state.queue() == SavedQueue()
    state.set_last_run(ORDERS, 10.0)
    state.set_last_run(ORDERS, 20.5)
    state.set_last_run(DDT, 7.0)
    assert state.last_runs() == {ORDERS: 20.5, DDT: 7.0}

    state.set_pauses(Pauses(True, frozenset({DDT})))
    assert state.pauses() == Pauses(True, frozenset({DDT}))
    state.set_pauses(Pauses(False, frozenset()))
    assert state.pauses() == Pauses(False, frozenset())

    running = Request(CUSTOMERS, 100, Mode.RECENT, Trigger.SESSION, seq=9)
    pending = [Request(ORDERS, 6, seq=3), Request(DDT, 4, Mode.FULL, Trigger.MANUAL, seq=5)]
    state.save_queue(pending, running)
    restored = state.queue()
    # The running sync comes back as such, so a restart runs it again, first.
    assert restored.running is not None
    assert (restored.running.type, restored.running.mode) == (CUSTOMERS, Mode.RECENT)
    assert [(r.type, r.priority, r.mode, r.trigger) for r in restored.pending] == [
        (ORDERS, 6, Mode.FULL, Trigger.SCHEDULE),
        (DDT, 4, Mode.FULL, Trigger.MANUAL),
    ]
    state.save_queue([], None)
    assert state.queue() == SavedQueue()


def test_dead_letters_keep_their_history_and_are_taken_once(state: DaemonState) -> None:
    first = state.add_dead_letter(letter(ORDERS, "reset"))
    second = state.add_dead_letter(letter(DDT, "refused"))
    assert first != second
    listed = state.dead_letters()
    assert [i for i, _ in listed] == [first, second]
    assert listed[1][1] == letter(DDT, "refused")
    assert state.take_dead_letter(first) == letter(ORDERS, "reset")
    assert state.take_dead_letter(first) is None
    assert [i for i, _ in state.dead_letters()] == [second]


def test_sqlite_state_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    db = open_database(path)
    state = SqliteState(db)
    state.set_last_run(ORDERS, 42.0)
    state.set_pauses(Pauses(False, frozenset({CUSTOMERS})))
    state.save_queue([Request(DDT, 4, seq=1)], Request(ORDERS, 6, seq=2))
    state.add_dead_letter(letter(ORDERS, "gone"))
    state.close()
    db.close()

    db = open_database(path)
    again = SqliteState(db)
    try:
        assert again.last_runs() == {ORDERS: 42.0}
        assert again.pauses() == Pauses(False, frozenset({CUSTOMERS}))
        saved = again.queue()
        assert saved.running is not None and saved.running.type is ORDERS
        assert [r.type for r in saved.pending] == [DDT]
        assert [d.message for _, d in again.dead_letters()] == ["gone"]
    finally:
        again.close()
        db.close()


def test_a_version_1_file_gains_the_daemon_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    connection = apsw.Connection(str(path))
    connection.execute("BEGIN IMMEDIATE")
    MIGRATIONS[0].apply(connection)
    connection.execute("PRAGMA user_version = 1")
    connection.execute("COMMIT")
    connection.close()

    db = open_database(path)
    state = SqliteState(db)
    try:
        assert user_version(db.connection) == MIGRATIONS[-1].version >= 2
        state.set_last_run(DDT, 1.0)
        assert state.last_runs() == {DDT: 1.0}
    finally:
        state.close()
        db.close()


def test_a_dead_letter_id_is_never_handed_out_twice(tmp_path: Path) -> None:
    db = open_database(tmp_path / "m.sqlite3")
    state = SqliteState(db)
    try:
        letter = DeadLetter(Request(ExportType.ORDERS, 6), "LayoutChanged", "parse", "x", (), 1.0)
        first = state.add_dead_letter(letter)
        assert state.take_dead_letter(first) is not None
        # The newest letter gone, a new one must not take its number: an
        # admin's "drop 1" read from an older list would hit it.
        second = state.add_dead_letter(letter)
        assert second > first
    finally:
        state.close()
        db.close()
