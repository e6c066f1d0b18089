"""Fixtures for the store tests: a database file with a controllable clock,
and helpers to read what it holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archid.records import ExportType
from archid.store import Database, open_database


class StepClock:
    """A clock that moves one second every time it is read."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "mirror.sqlite3"


@pytest.fixture
def db(db_path: Path, clock: StepClock) -> Iterator[Database]:
    database = open_database(db_path, clock=clock)
    try:
        yield database
    finally:
        database.close()


def row_of(db: Database, export_type: ExportType, key: str) -> dict[str, object]:
    """The whole stored row of *key* (bookkeeping and last_seen included)."""
    table = export_type.value
    cursor = db.connection.execute(
        f'SELECT t.*, s.last_seen FROM "{table}" t JOIN "{table}_seen" s USING (key)'
        " WHERE t.key = ?",
        (key,),
    )
    out = [dict(zip([d[0] for d in cursor.getdescription()], row, strict=True)) for row in cursor]
    assert len(out) == 1, out
    return out[0]


def count(db: Database, sql: str, *args: object) -> int:
    [(value,)] = db.connection.execute(sql, args).fetchall()
    assert isinstance(value, int)
    return value


def snapshot(db: Database) -> list[tuple[object, ...]]:
    """Every row of every table except sync_runs: to prove nothing changed."""
    out: list[tuple[object, ...]] = []
    for (name,) in db.connection.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN"
        " ('sync_runs', 'sqlite_sequence') ORDER BY name"
    ).fetchall():
        out.extend((name, *row) for row in db.connection.execute(f'SELECT * FROM "{name}"'))
    return out
