"""A reader keeps reading consistent snapshots while a large apply runs."""

from __future__ import annotations

import threading
from pathlib import Path

import apsw

from archid.records import ExportType
from archid.store import apply_sync, open_database
from tests.store.synthetic import fixed_clock, prices

ROWS = 20_000

Snapshot = tuple[int, float, int, int]


def read_snapshot(connection: apsw.Connection) -> Snapshot:
    """Counts and a checksum from three tables, in one read transaction."""
    connection.execute("BEGIN")
    try:
        [(live, total)] = connection.execute(
            "SELECT count(*), total(CAST(unit_price AS REAL)) FROM prices"
            " WHERE deleted_at IS NULL AND missing_count = 0"
        ).fetchall()
        [(feed,)] = connection.execute("SELECT count(*) FROM changes").fetchall()
        [(runs,)] = connection.execute("SELECT count(*) FROM sync_runs").fetchall()
    finally:
        connection.execute("COMMIT")
    return int(live), round(float(total), 2), int(feed), int(runs)  # type: ignore[arg-type]


def test_readers_see_the_state_before_or_after_never_between(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    db = open_database(path, clock=fixed_clock)
    apply_sync(db, ExportType.PRICES, prices(ROWS, 0))
    reader = apsw.Connection(
        f"file:{path}?mode=ro", flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI
    )
    reader.set_busy_timeout(5000)
    before = read_snapshot(reader)
    seen: list[Snapshot] = []
    stop = threading.Event()
    started = threading.Event()

    def keep_reading() -> None:
        while not stop.is_set():
            seen.append(read_snapshot(reader))
            started.set()

    thread = threading.Thread(target=keep_reading)
    thread.start()
    started.wait(10)
    try:
        during = len(seen)
        result = apply_sync(db, ExportType.PRICES, prices(ROWS, 1))
        during = len(seen) - during
        # a few more reads after the commit
        target = len(seen) + 5
        while len(seen) < target and thread.is_alive():
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join(10)
    after = read_snapshot(reader)
    reader.close()
    db.close()

    assert result.outcome == "ok" and result.counts.updated > 0
    assert before != after
    assert set(seen) <= {before, after}, set(seen) - {before, after}
    assert during >= 3, "the reader was starved during the apply"
    assert seen[0] == before and seen[-1] == after
    # once it saw the new state it never went back
    first_after = seen.index(after)
    assert all(s == after for s in seen[first_after:])
