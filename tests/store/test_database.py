"""Opening the file: WAL, settings, migrations keyed on user_version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import apsw
import pytest

from archid.config import DatabaseConfig
from archid.records import ExportType
from archid.store import (
    SCHEMA_VERSION,
    TABLES,
    SchemaMismatchError,
    SchemaTooNewError,
    open_database,
    open_from_config,
    utc_text,
)
from archid.store.migrations import MIGRATIONS, migrate, user_version


def test_a_new_file_is_created_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    with open_database(path, busy_timeout=2.5) as db:
        connection = db.connection
        assert user_version(connection) == SCHEMA_VERSION
        assert connection.execute("PRAGMA journal_mode").fetchall() == [("wal",)]
        assert connection.execute("PRAGMA synchronous").fetchall() == [(2,)]  # FULL
        assert connection.execute("PRAGMA foreign_keys").fetchall() == [(1,)]
        query = "SELECT name FROM sqlite_schema WHERE type = 'table'"
        tables = {name for (name,) in connection.execute(query)}
        for export_type in ExportType:
            assert {export_type.value, f"{export_type.value}_seen"} <= tables
        assert {"sync_runs", "changes"} <= tables
    assert path.exists()


def test_reopening_applies_nothing(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    open_database(path).close()
    connection = apsw.Connection(str(path))
    assert migrate(connection, str(path)) == []
    assert user_version(connection) == SCHEMA_VERSION
    connection.close()
    with open_database(path) as db:
        assert user_version(db.connection) == SCHEMA_VERSION


def test_a_fresh_file_gets_every_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    connection = apsw.Connection(str(path))
    assert migrate(connection, str(path)) == [m.version for m in MIGRATIONS]
    connection.close()


def test_a_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    open_database(path).close()
    connection = apsw.Connection(str(path))
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNewError, match="newer than this archid supports") as caught:
        open_database(path)
    assert (caught.value.found, caught.value.supported) == (SCHEMA_VERSION + 1, SCHEMA_VERSION)
    assert path.read_bytes() == before


def test_a_table_that_drifted_from_the_records_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "drift.sqlite3"
    open_database(path).close()
    connection = apsw.Connection(str(path))
    connection.execute("ALTER TABLE customers ADD COLUMN nickname TEXT")
    connection.close()
    with pytest.raises(SchemaMismatchError, match="nickname"):
        open_database(path)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(apsw.NotADBError):
        open_database(path)


def test_open_from_config(tmp_path: Path) -> None:
    with open_from_config(DatabaseConfig(path=tmp_path / "c.sqlite3", busy_timeout=1.0)) as db:
        assert db.path == str(tmp_path / "c.sqlite3")


def test_timestamps_are_utc_with_z() -> None:
    rome = timezone(timedelta(hours=1))
    assert utc_text(datetime(2026, 3, 20, 10, 0, 0, 123456, tzinfo=rome)) == (
        "2026-03-20T09:00:00.123Z"
    )
    assert utc_text(datetime(2026, 3, 20, tzinfo=UTC)) == "2026-03-20T00:00:00.000Z"
    with pytest.raises(ValueError, match="no time zone"):
        utc_text(datetime(2026, 3, 20))


def test_the_migrations_build_exactly_the_tables_of_the_code(tmp_path: Path) -> None:
    """The frozen DDL of the last migration is the shape the records call for."""
    with open_database(tmp_path / "fresh.sqlite3") as db:
        found = {
            name: sql
            for name, sql in db.connection.execute("SELECT name, sql FROM sqlite_schema")
            if sql is not None
        }
    for spec in TABLES.values():
        table, index, seen = spec.ddl()
        assert found[spec.name] == table
        assert found[f"{spec.name}_attention"] == index
        assert found[spec.seen_name] == seen


def test_a_version_1_file_is_carried_to_the_latest(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    connection = apsw.Connection(str(path))
    connection.execute("BEGIN IMMEDIATE")
    MIGRATIONS[0].apply(connection)
    connection.execute("PRAGMA user_version = 1")
    connection.execute("COMMIT")
    assert migrate(connection, str(path)) == [2, 3, 4, 5]
    connection.close()
    with open_database(path) as db:
        assert user_version(db.connection) == SCHEMA_VERSION


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite3"
    connection = apsw.Connection(str(path))
    connection.execute("BEGIN IMMEDIATE")
    MIGRATIONS[0].apply(connection)
    MIGRATIONS[1].apply(connection)
    connection.execute("PRAGMA user_version = 2")
    connection.execute("COMMIT")
    # A version-2 file someone damaged by hand: migration 3 cannot carry it.
    connection.execute("DROP TABLE products_seen")
    before = connection.execute("SELECT name, sql FROM sqlite_schema ORDER BY name").fetchall()
    connection.close()
    with pytest.raises(apsw.SQLError, match="products_seen"):
        open_database(path)
    connection = apsw.Connection(str(path))
    assert user_version(connection) == 2
    after = connection.execute("SELECT name, sql FROM sqlite_schema ORDER BY name").fetchall()
    assert after == before
    connection.close()
