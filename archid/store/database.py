"""Opening the mirror: one SQLite file in WAL mode, migrated at open.

:func:`open_database` returns a :class:`Database`, archid's one writing
connection. The connection settings and why:

* ``journal_mode=WAL``: readers (the app's backend) never block the writer
  and never see a half-applied sync; they read the last committed snapshot.
* ``synchronous=FULL``: every commit is on disk when it returns, also across
  a power cut. ``NORMAL`` would be safe against corruption too, but could
  lose the last commits after a power cut *after* a reader had seen them,
  and the change feed would then hand out the same sequence numbers twice
  for different changes. A sync commits once, so the fsync costs nothing
  that matters.
* ``busy_timeout``: a write waiting for a lock (a reader checkpointing, a
  second archid by mistake) waits this long before failing.
* ``foreign_keys=ON``: feed entries and row bookkeeping point at real runs.

A :class:`Database` is not thread-safe: use it from one thread at a time
(the daemon hands it to one worker thread).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import apsw

from archid.config import DatabaseConfig
from archid.records import ExportType, Record
from archid.store.migrations import check_schema, migrate
from archid.store.schema import TABLES, quote

SeenCache = dict[str, tuple[Record, bytes]]
"""key -> (the record last stored under it, the content hash stored for it).

Lets a resync inside one process recognise an unchanged record by comparing
its field values with the remembered record's (C speed) instead of
converting and hashing it. An entry is used only while the row's stored
hash still equals the one remembered, so a write by anyone else invalidates
it. Memory: a reference to one record per row.
"""

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime (UTC or any zone)."""


def system_clock() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def utc_text(moment: datetime) -> str:
    """*moment* as stored: UTC ISO 8601 with milliseconds and ``Z``.

    Raises ``ValueError`` for a naive datetime (its zone would be a guess).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone")
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"


class Database:
    """archid's connection to the mirror. Build it with :func:`open_database`."""

    def __init__(self, connection: Any, path: str, clock: Clock) -> None:
        self.connection = connection
        """The underlying ``apsw.Connection`` (for reads and tests)."""
        self.path = path
        self.clock = clock
        self.seen_cache: dict[ExportType, SeenCache] = {}
        """Per type, what this process last stored (see :data:`SeenCache`)."""

    def now(self) -> str:
        """The clock's current time, as stored (:func:`utc_text`)."""
        return utc_text(self.clock())

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self.connection.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def live_count(self, export_type: ExportType) -> int:
        """How many live (not deleted) rows *export_type* holds."""
        table = quote(TABLES[export_type].name)
        rows = self.connection.execute(f"SELECT count(*) FROM {table} WHERE deleted_at IS NULL")
        count: int = rows.fetchall()[0][0]
        return count

    def read_records(
        self, export_type: ExportType, *, include_deleted: bool = False
    ) -> dict[str, Record]:
        """The stored records of *export_type* by key, live ones unless asked."""
        spec = TABLES[export_type]
        columns = ", ".join(quote(name) for name in (spec.key_name, *spec.field_names))
        where = "" if include_deleted else " WHERE deleted_at IS NULL"
        sql = f"SELECT {columns} FROM {quote(spec.name)}{where}"
        return {row[0]: spec.from_row(row[1:]) for row in self.connection.execute(sql)}


def open_database(
    path: str | os.PathLike[str], *, busy_timeout: float = 5.0, clock: Clock = system_clock
) -> Database:
    """Open (creating if needed) and migrate the mirror at *path*.

    Raises :class:`~archid.store.errors.SchemaTooNewError` for a database
    written by a newer archid, :class:`~archid.store.errors.SchemaMismatchError`
    if the tables do not match the records, and ``apsw`` errors for a file
    that is not a database or cannot be opened.
    """
    name = os.fspath(path)
    connection = apsw.Connection(name)
    try:
        connection.set_busy_timeout(max(0, round(busy_timeout * 1000)))
        connection.execute("PRAGMA journal_mode = WAL").fetchall()
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA foreign_keys = ON")
        # 16 MiB of page cache: a 100,000-row table's hashes load in one pass.
        connection.execute("PRAGMA cache_size = -16384")
        migrate(connection, name)
        check_schema(connection)
    except BaseException:
        connection.close()
        raise
    return Database(connection, name, clock)


def open_reader(path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> apsw.Connection:
    """A read-only connection to the mirror at *path*, for a reader in the process
    that writes it (the metrics, the demo).

    Never the standard library's ``sqlite3`` in that process: it links a second
    SQLite library, and when it closes the file the POSIX locks that apsw's
    SQLite holds on it go too (such locks belong to the process); the WAL
    index can then be reset under apsw's map of it, a SIGBUS or a corrupt
    database (SQLite's "How To Corrupt", multiple copies of SQLite).
    """
    connection = apsw.Connection(
        f"file:{os.fspath(path)}?mode=ro",
        flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI,
    )
    connection.set_busy_timeout(max(0, round(busy_timeout * 1000)))
    return connection


def open_from_config(config: DatabaseConfig, *, clock: Clock = system_clock) -> Database:
    """:func:`open_database` with the ``[database]`` settings."""
    return open_database(config.path, busy_timeout=config.busy_timeout, clock=clock)
