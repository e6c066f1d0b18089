"""Schema migrations, keyed on ``PRAGMA user_version``.

``user_version`` 0 is an empty (new) file; migration *n* brings a database
from version *n - 1* to *n*. :func:`migrate` applies the missing ones in
order at start-up, each in its own ``BEGIN IMMEDIATE`` transaction that also
sets ``user_version``, so a migration is applied entirely or not at all and
two processes starting together cannot both apply it. A database whose
version is higher than :data:`SCHEMA_VERSION` is refused untouched
(:class:`~archid.store.errors.SchemaTooNewError`).

Released migrations are never edited: a change to a record's fields needs a
new migration (``ALTER TABLE … ADD COLUMN``), and :func:`check_schema`,
run at every open, makes a forgotten one fail loudly instead of writing
into the wrong columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from archid.store.errors import SchemaMismatchError, SchemaTooNewError
from archid.store.schema import (
    BOOKKEEPING,
    CHANGES_DDL,
    DAEMON_DDL,
    RUNS_INDEX_DDL,
    SYNC_RUNS_DDL,
    TABLES,
    quote,
)


@dataclass(frozen=True, slots=True)
class Migration:
    """Brings the schema to ``version``; ``apply`` runs inside the transaction."""

    version: int
    description: str
    apply: Callable[[Any], None]


def _v1(connection: Any) -> None:
    connection.execute(SYNC_RUNS_DDL)
    connection.execute(RUNS_INDEX_DDL)
    connection.execute(CHANGES_DDL)
    for spec in TABLES.values():
        for statement in spec.ddl():
            connection.execute(statement)


def _v2(connection: Any) -> None:
    for statement in DAEMON_DDL:
        connection.execute(statement)


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "the six record tables, sync_runs and changes", _v1),
    Migration(2, "the daemon's last runs, pauses, queue and dead letters", _v2),
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
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Read under the write lock: another process may have migrated
            # between our last look and now.
            current = user_version(connection)
            if current > SCHEMA_VERSION:
                raise SchemaTooNewError(path, current, SCHEMA_VERSION)
            if current >= migration.version:
                connection.execute("ROLLBACK")
                continue
            migration.apply(connection)
            connection.execute(f"PRAGMA user_version = {migration.version:d}")
            connection.execute("COMMIT")
        except BaseException:
            if not connection.getautocommit():
                connection.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    current = user_version(connection)
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(path, current, SCHEMA_VERSION)
    return applied


def check_schema(connection: Any) -> None:
    """Raise :class:`SchemaMismatchError` unless every record table has exactly
    the columns the record dataclasses and :data:`BOOKKEEPING` call for."""
    for spec in TABLES.values():
        found = [row[1] for row in connection.execute(f"PRAGMA table_info({quote(spec.name)})")]
        expected = [*spec.field_names, *(name for name, _ in BOOKKEEPING)]
        if found != expected:
            missing = sorted(set(expected) - set(found))
            extra = sorted(set(found) - set(expected))
            raise SchemaMismatchError(
                f"table {spec.name!r} does not match {spec.record_type.__name__}"
                f" (missing {missing}, unexpected {extra}); a migration is needed"
            )
        seen = [row[1] for row in connection.execute(f"PRAGMA table_info({quote(spec.seen_name)})")]
        if seen != [spec.key_name, "last_seen"]:
            raise SchemaMismatchError(f"table {spec.seen_name!r} has columns {seen}")
