"""Migration 5 rebuilds ``sync_runs`` with the new outcomes and
``requested_by``, carrying every row, its id and the AUTOINCREMENT counter
over, and adds ``list_marks``.

The version-4 file is built by the frozen DDL of migrations 1 to 4 (what
an archid of version 4 ran) and filled with rows as that archid wrote
them, the ``Cancelled``, ``Interrupted`` and ``SyncTimeout`` attempts
among them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import apsw
import pytest

from archid.records import ExportType
from archid.runs import Outcome
from archid.store import (
    OUTCOMES,
    SCHEMA_VERSION,
    Database,
    SchemaMismatchError,
    apply_sync,
    changes_since,
    list_runs,
    open_database,
    record_run,
)
from archid.store.ddl_history import V3_COLUMNS
from archid.store.migrations import MIGRATIONS, user_version
from archid.store.schema import MARK_COLUMNS, RUN_COLUMNS
from tests.store.conftest import StepClock, row_of
from tests.store.synthetic import many

C = ExportType.CUSTOMERS
T0 = "2026-03-01T08:00:00.000Z"

#: The version-4 runs: outcome, error class, error stage, and the outcome
#: each must have after the migration.
V4_RUNS: list[tuple[str, str | None, str | None, str]] = [
    ("ok", None, None, "ok"),
    ("failed", "Cancelled", "download", "cancelled"),
    ("failed", "Interrupted", "unknown", "interrupted"),
    ("failed", "SyncTimeout", "download", "failed"),
    ("rejected", "ExportRejected", "apply", "rejected"),
    ("failed", "PortalUnavailable", "login", "failed"),
    ("ok", None, None, "ok"),
]

#: The AUTOINCREMENT counter of the version-4 file: above the highest id,
#: as after runs whose rows a version-4 archid rolled back.
V4_SEQUENCE = 40


def build_v4(path: Path) -> None:
    connection = apsw.Connection(str(path))
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("BEGIN IMMEDIATE")
    for migration in MIGRATIONS[:4]:
        migration.apply(connection)
    connection.execute("PRAGMA user_version = 4")
    for n, (outcome, error_class, stage, _) in enumerate(V4_RUNS, start=1):
        connection.execute(
            "INSERT INTO sync_runs (type, mode, trigger, started_at, ended_at, outcome, parsed,"
            " inserted, stage_seconds, error_stage, error_class, error_message, first_seq,"
            " last_seq, warnings) VALUES ('customers', 'full', ?, ?, ?, ?, ?, ?,"
            " '{\"download\": 2.5}', ?, ?, ?, ?, ?, ?)",
            (
                "manual" if n == 2 else "schedule",
                T0,
                T0,
                outcome,
                3 if outcome == "ok" else 0,
                3 if n == 1 else 0,
                stage,
                error_class,
                None if error_class is None else f"{error_class} in run {n}",
                1 if n == 1 else None,
                3 if n == 1 else None,
                '{"messages": ["m"], "bad_cells": [], "bad_cell_count": 0}' if n == 7 else None,
            ),
        )
    connection.executemany(
        "INSERT INTO changes (type, key, op, run_id) VALUES ('customers', ?, 'insert', 1)",
        [("1000",), ("1001",), ("1002",)],
    )
    # The customers' columns as version 4 has them (frozen since migration 3).
    blank = dict.fromkeys(part.split()[0] for part in V3_COLUMNS["customers"].split(","))
    for key in ("1000", "1001", "1002"):
        row = {"key": key, **blank, "id": key, "name": f"Studio {key}"}
        row |= {"content_hash": b"\x00" * 16, "first_seen": T0, "last_changed": T0}
        if key == "1002":  # absent from run 7's export: missing since run 7
            row |= {"missing_count": 1, "missing_since_run": 7}
        names = ", ".join(f'"{name}"' for name in row)
        connection.execute(
            f"INSERT INTO customers ({names}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        connection.execute("INSERT INTO customers_seen VALUES (?, ?)", (key, T0))
    connection.execute(
        "UPDATE sqlite_sequence SET seq = ? WHERE name = 'sync_runs'", (V4_SEQUENCE,)
    )
    connection.execute("COMMIT")
    connection.close()


@pytest.fixture
def v4_path(tmp_path: Path) -> Path:
    path = tmp_path / "v4.sqlite3"
    build_v4(path)
    return path


@pytest.fixture
def migrated(v4_path: Path, clock: StepClock) -> Any:
    old = apsw.Connection(str(v4_path))
    before = old.execute("SELECT * FROM sync_runs ORDER BY id").fetchall()
    old.close()
    db = open_database(v4_path, clock=clock)
    yield db, before
    db.close()


def test_every_run_is_carried_over_with_its_new_outcome(migrated: Any) -> None:
    db, before = migrated
    assert user_version(db.connection) == SCHEMA_VERSION == 5
    after = db.connection.execute("SELECT * FROM sync_runs ORDER BY id").fetchall()
    outcome = RUN_COLUMNS.index("outcome")
    assert len(after) == len(before) == len(V4_RUNS)
    for old, new, (*_, expected) in zip(before, after, V4_RUNS, strict=True):
        # Every column as it was, but the outcome; requested_by unknown.
        assert new[:outcome] == old[:outcome]
        assert new[outcome] == expected
        assert new[outcome + 1 : -1] == old[outcome + 1 :]
        assert new[-1] is None
    runs = list_runs(db, C)
    assert [(r["outcome"], r["error_class"]) for r in reversed(runs)] == [
        (expected, error_class) for _, error_class, _, expected in V4_RUNS
    ]
    # The error class stays, as the detail of each outcome.
    assert runs[-2]["error_message"] == "Cancelled in run 2"
    assert runs[0]["warnings"] == {"messages": ["m"], "bad_cells": [], "bad_cell_count": 0}


def test_the_feed_and_the_rows_still_point_at_their_runs(migrated: Any) -> None:
    db, _ = migrated
    connection = db.connection
    assert connection.execute("PRAGMA foreign_keys").fetchall() == [(1,)]
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert [e.run_id for e in changes_since(db, 0)] == [1, 1, 1]
    assert row_of(db, C, "1002")["missing_since_run"] == 7
    # The foreign keys are enforced against the new table.
    with pytest.raises(apsw.ConstraintError, match="FOREIGN KEY"):
        connection.execute(
            "INSERT INTO changes (type, key, op, run_id) VALUES ('customers', 'x', 'insert', 999)"
        )


def test_ids_go_on_from_the_old_counter_and_the_index_is_back(migrated: Any) -> None:
    db, _ = migrated
    connection = db.connection
    assert connection.execute(
        "SELECT name, seq FROM sqlite_sequence WHERE name LIKE 'sync_runs%'"
    ).fetchall() == [("sync_runs", V4_SEQUENCE)]
    result = record_run(db, C, "full", "schedule", outcome=Outcome.UNCHANGED)
    assert result.run_id == V4_SEQUENCE + 1
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'sync_runs'"
    ).fetchall()
    assert indexes == [("sync_runs_type", "CREATE INDEX sync_runs_type ON sync_runs (type, id)")]
    plan = connection.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM sync_runs WHERE type = 'customers' ORDER BY id DESC"
    ).fetchall()
    assert "sync_runs_type" in str(plan)
    names = {name for (name,) in connection.execute("SELECT name FROM sqlite_schema")}
    assert "sync_runs_v5" not in names


def test_list_marks_is_there_and_empty(migrated: Any) -> None:
    db, _ = migrated
    columns = db.connection.execute("PRAGMA table_info(list_marks)").fetchall()
    assert tuple(c[1] for c in columns) == MARK_COLUMNS
    assert db.connection.execute("SELECT count(*) FROM list_marks").fetchall() == [(0,)]


def test_the_migrated_file_takes_the_next_sync(migrated: Any) -> None:
    db, _ = migrated
    result = apply_sync(db, C, many(C, 3), trigger="manual", requested_by="mrossi")
    assert result.outcome == "ok" and result.run_id == V4_SEQUENCE + 1
    assert list_runs(db, C, 1)[0]["requested_by"] == "mrossi"


def test_the_check_refuses_an_unknown_outcome_and_takes_the_new_ones(db: Database) -> None:
    insert = (
        "INSERT INTO sync_runs (type, mode, trigger, started_at, ended_at, outcome)"
        " VALUES ('customers', 'full', 'schedule', ?, ?, ?)"
    )
    with pytest.raises(apsw.ConstraintError, match="CHECK"):
        db.connection.execute(insert, (T0, T0, "skipped"))
    for outcome in OUTCOMES:
        db.connection.execute(insert, (T0, T0, outcome))
    stored = [outcome for (outcome,) in db.connection.execute("SELECT outcome FROM sync_runs")]
    assert stored == list(OUTCOMES)


def test_a_dangling_reference_stops_the_migration_untouched(v4_path: Path) -> None:
    """Foreign keys are off during the rebuild: the check before COMMIT is
    what proves no row lost its run, and a file that already had a broken
    reference is left at version 4 rather than blamed on the migration."""
    connection = apsw.Connection(str(v4_path))
    connection.execute(
        "INSERT INTO changes (type, key, op, run_id) VALUES ('customers', '1003', 'insert', 99)"
    )
    before = connection.execute("SELECT * FROM sync_runs ORDER BY id").fetchall()
    connection.close()
    with pytest.raises(SchemaMismatchError, match=r"migration 5 .* 1 rows pointing at nothing"):
        open_database(v4_path)
    connection = apsw.Connection(str(v4_path))
    assert user_version(connection) == 4
    assert connection.execute("SELECT * FROM sync_runs ORDER BY id").fetchall() == before
    names = {name for (name,) in connection.execute("SELECT name FROM sqlite_schema")}
    assert "list_marks" not in names and "sync_runs_v5" not in names
    connection.close()


def _forged_v5(path: Path, statements: list[str]) -> None:
    """A version-4 file that says version 5 after *statements* (a migration
    someone wrote by hand, or forgot)."""
    connection = apsw.Connection(str(path))
    connection.execute("BEGIN IMMEDIATE")
    for statement in statements:
        connection.execute(statement)
    connection.execute("PRAGMA user_version = 5")
    connection.execute("COMMIT")
    connection.close()


def test_a_file_without_the_new_column_fails_at_open(v4_path: Path) -> None:
    _forged_v5(v4_path, [])
    with pytest.raises(SchemaMismatchError, match="'sync_runs' has columns"):
        open_database(v4_path)


def test_a_file_whose_check_lacks_the_new_outcomes_fails_at_open(v4_path: Path) -> None:
    _forged_v5(
        v4_path,
        [
            "ALTER TABLE sync_runs ADD COLUMN requested_by TEXT",
            "CREATE TABLE list_marks (type TEXT PRIMARY KEY, newest_modified TEXT,"
            " row_count INTEGER, export_started_at TEXT NOT NULL, run_id INTEGER)",
        ],
    )
    with pytest.raises(SchemaMismatchError, match=r"does not accept.*'unchanged'.*'interrupted'"):
        open_database(v4_path)


def test_the_outcome_mapping_is_the_documented_one() -> None:
    """docs/database.md names the mapping; the frozen SQL is what runs."""
    docs = (Path(__file__).parents[2] / "docs" / "database.md").read_text()
    for _, error_class, _, expected in V4_RUNS:
        if error_class in ("Cancelled", "Interrupted"):
            assert f"`{error_class}` become `{expected}`" in docs
    assert "`SyncTimeout` stay `failed`" in docs
