"""The SQLite mirror: what archid writes and the app's backend reads.

One database file in WAL mode (:func:`open_database`), migrated at open; one
table per export type mirroring the records of :mod:`archid.records`;
``sync_runs``, one row per sync attempt (with the parse's warnings);
``changes``, the append-only change feed (:func:`changes_since`);
``key_map``, how keys of before migration 3 translate; ``list_marks``, what
each list looked like at its last applied full export (:func:`read_mark`).
:func:`apply_sync` applies one export with the rules that keep the mirror
honest (see :mod:`archid.store.apply`); :func:`record_run` records a run
that changed no data. The tables, columns and the safe way to read them are documented in
``docs/database.md``.
"""

from archid.store.apply import apply_sync
from archid.store.changes import ChangeOp, FeedEntry, changes_since, latest_seq
from archid.store.database import (
    Clock,
    Database,
    open_database,
    open_from_config,
    system_clock,
    utc_text,
)
from archid.store.errors import (
    DatabaseBusy,
    DatabaseCorrupt,
    DatabaseError,
    DatabaseIOError,
    DatabaseReadOnly,
    DiskFull,
    ExportTypeError,
    SchemaMismatchError,
    SchemaTooNewError,
    StoreError,
    UnreadFieldError,
)
from archid.store.marks import ListMark, clear_mark, read_mark
from archid.store.migrations import SCHEMA_VERSION
from archid.store.runs import (
    OUTCOMES,
    Mode,
    Outcome,
    RunCounts,
    RunMeta,
    RunResult,
    Trigger,
    list_runs,
    record_failed_run,
    record_run,
    warnings_summary,
)
from archid.store.schema import TABLES, TableSpec

__all__ = [
    "OUTCOMES",
    "SCHEMA_VERSION",
    "TABLES",
    "ChangeOp",
    "Clock",
    "Database",
    "DatabaseBusy",
    "DatabaseCorrupt",
    "DatabaseError",
    "DatabaseIOError",
    "DatabaseReadOnly",
    "DiskFull",
    "ExportTypeError",
    "FeedEntry",
    "ListMark",
    "Mode",
    "Outcome",
    "RunCounts",
    "RunMeta",
    "RunResult",
    "SchemaMismatchError",
    "SchemaTooNewError",
    "StoreError",
    "TableSpec",
    "Trigger",
    "UnreadFieldError",
    "apply_sync",
    "changes_since",
    "clear_mark",
    "latest_seq",
    "list_runs",
    "open_database",
    "open_from_config",
    "read_mark",
    "record_failed_run",
    "record_run",
    "system_clock",
    "utc_text",
    "warnings_summary",
]
