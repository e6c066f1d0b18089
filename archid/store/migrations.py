"""Schema migrations, keyed on ``PRAGMA user_version``.

``user_version`` 0 is an empty (new) file; migration *n* brings a database
from version *n - 1* to *n*. :func:`migrate` applies the missing ones in
order at start-up, each in its own ``BEGIN IMMEDIATE`` transaction that also
sets ``user_version``, so a migration is applied entirely or not at all and
two processes starting together cannot both apply it. A database whose
version is higher than :data:`SCHEMA_VERSION` is refused untouched
(:class:`~archid.store.errors.SchemaTooNewError`).

A new file goes through every migration too, so the path an old database
takes is the path every test takes. Released migrations are never edited:
each runs the DDL frozen for it in :mod:`archid.store.ddl_history`, never
the shape of the day, and a change to a record's fields needs a new
migration. :func:`check_schema`, run at every open, makes a forgotten one
fail loudly instead of writing into the wrong columns.

A migration that rebuilds a table others point at (SQLite cannot alter a
column's constraint: it creates the new table, copies, drops the old one
and renames the new one) runs with foreign-key enforcement off, SQLite's
own procedure for it (``foreign_keys_off``): with it on, dropping the old
table would check every row of ``changes`` against each run deleted. The
migration keeps every id, and ``PRAGMA foreign_key_check`` proves it before
the ``COMMIT``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from archid.store import ddl_history
from archid.store.errors import SchemaMismatchError, SchemaTooNewError
from archid.store.migrate_v3 import migrate_v3
from archid.store.schema import (
    BOOKKEEPING,
    CHANGE_COLUMNS,
    KEY,
    MARK_COLUMNS,
    OUTCOMES,
    RUN_COLUMNS,
    TABLES,
    quote,
)


@dataclass(frozen=True, slots=True)
class Migration:
    """Brings the schema to ``version``; ``apply`` runs inside the transaction.

    ``foreign_keys_off``: run with foreign-key enforcement off (it cannot be
    switched inside a transaction, so :func:`migrate` does it around it),
    and refuse to commit if ``PRAGMA foreign_key_check`` then finds a row
    pointing at nothing.
    """

    version: int
    description: str
    apply: Callable[[Any], None]
    foreign_keys_off: bool = False


def _run(statements: tuple[str, ...]) -> Callable[[Any], None]:
    def apply(connection: Any) -> None:
        for statement in statements:
            connection.execute(statement)

    return apply


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "the six record tables, sync_runs and changes", _run(ddl_history.V1)),
    Migration(2, "the daemon's last runs, pauses, queue and dead letters", _run(ddl_history.V2)),
    Migration(
        3,
        "stable keys and spec v2 field names; key_map; sync_runs.warnings; changes.old_key",
        migrate_v3,
    ),
    Migration(4, "dead-letter ids never reused", _run(ddl_history.V4)),
    Migration(
        5,
        "sync_runs: outcomes unchanged, cancelled, preempted, interrupted; requested_by;"
        " list_marks",
        _run(ddl_history.V5),
        foreign_keys_off=True,
    ),
)

SCHEMA_VERSION: Final = MIGRATIONS[-1].version
"""The schema version this code writes and reads."""


def user_version(connection: Any) -> int:
    """The database's ``PRAGMA user_version``."""
    version: int = connection.execute("PRAGMA user_version").fetchall()[0][0]
    return version


def migrate(connection: Any, path: str) -> list[int]:
    """Apply the missing migrations; return the versions applied (often none).

    Raises :class:`SchemaTooNewError` if the database is newer than
    :data:`SCHEMA_VERSION`, before changing anything.
    """
    applied: list[int] = []
    for migration in MIGRATIONS:
        if _apply(connection, path, migration):
            applied.append(migration.version)
    current = user_version(connection)
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(path, current, SCHEMA_VERSION)
    return applied


def _apply(connection: Any, path: str, migration: Migration) -> bool:
    """Apply *migration* unless the database has it; return whether it did."""
    # Switched only outside a transaction (inside, the PRAGMA does nothing).
    enforced = _foreign_keys(connection)
    if migration.foreign_keys_off and enforced:
        connection.execute("PRAGMA foreign_keys = OFF")
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Read under the write lock: another process may have migrated
            # between our last look and now.
            current = user_version(connection)
            if current > SCHEMA_VERSION:
                raise SchemaTooNewError(path, current, SCHEMA_VERSION)
            if current >= migration.version:
                connection.execute("ROLLBACK")
                return False
            migration.apply(connection)
            if migration.foreign_keys_off:
                _check_foreign_keys(connection, migration)
            connection.execute(f"PRAGMA user_version = {migration.version:d}")
            connection.execute("COMMIT")
        except BaseException:
            if not connection.getautocommit():
                connection.execute("ROLLBACK")
            raise
    finally:
        if migration.foreign_keys_off and enforced:
            connection.execute("PRAGMA foreign_keys = ON")
    return True


def _foreign_keys(connection: Any) -> bool:
    return bool(connection.execute("PRAGMA foreign_keys").fetchall()[0][0])


def _check_foreign_keys(connection: Any, migration: Migration) -> None:
    broken = connection.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, rowid, parent, _ = broken[0]
        raise SchemaMismatchError(
            f"migration {migration.version} would leave {len(broken)} rows pointing at"
            f" nothing (first: {table} rowid {rowid} → {parent}); nothing was changed"
        )


def check_schema(connection: Any) -> None:
    """Raise :class:`SchemaMismatchError` unless every record table has exactly
    the columns the record dataclasses and :data:`BOOKKEEPING` call for, and
    ``sync_runs``, ``changes`` and ``list_marks`` exactly the latest
    migration's (:data:`~archid.store.schema.RUN_COLUMNS` and the rest), with
    ``sync_runs.outcome`` accepting every one of
    :data:`~archid.store.schema.OUTCOMES`."""
    for spec in TABLES.values():
        found = _columns(connection, spec.name)
        expected = [KEY, *spec.field_names, *(name for name, _ in BOOKKEEPING)]
        if found != expected:
            missing = sorted(set(expected) - set(found))
            extra = sorted(set(found) - set(expected))
            raise SchemaMismatchError(
                f"table {spec.name!r} does not match {spec.record_type.__name__}"
                f" (missing {missing}, unexpected {extra}); a migration is needed"
            )
        seen = _columns(connection, spec.seen_name)
        if seen != [KEY, "last_seen"]:
            raise SchemaMismatchError(f"table {spec.seen_name!r} has columns {seen}")
    for table, wanted in (
        ("sync_runs", RUN_COLUMNS),
        ("changes", CHANGE_COLUMNS),
        ("list_marks", MARK_COLUMNS),
    ):
        columns = _columns(connection, table)
        if columns != list(wanted):
            raise SchemaMismatchError(
                f"table {table!r} has columns {columns}, not {list(wanted)}; a migration is needed"
            )
    # The CHECK is only in the table's SQL: an outcome it lacks would fail
    # the first run that has it, long after the start.
    [(runs_sql,)] = connection.execute(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'sync_runs'"
    ).fetchall()
    refused = [outcome for outcome in OUTCOMES if f"'{outcome}'" not in runs_sql]
    if refused:
        raise SchemaMismatchError(
            f"sync_runs.outcome does not accept {refused}; a migration is needed"
        )


def _columns(connection: Any, table: str) -> list[str]:
    return [row[1] for row in connection.execute(f"PRAGMA table_info({quote(table)})")]
