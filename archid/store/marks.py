"""``list_marks``: what each list looked like when its stored data was exported.

Before a scheduled full export, the daemon can look at the portal's list
(its newest modification, its row count) and compare it with the mark of
the last full export applied: if the list still looks the same, there is
nothing new to export, and the run is recorded as ``unchanged``.

A mark must therefore describe the export whose data the store holds, and
nothing else. :func:`~archid.store.apply.apply_sync` writes it in the same
transaction as an ``ok`` full apply (its ``mark`` argument), so a mark
exists exactly when its export's data is applied: a rejected or failed
apply leaves the previous mark (still the one of the data held), and an
``ok`` full apply without a mark removes it (the data held is no longer
the marked export's, and what the list looked like is unknown).

One row per export type: ``type``, ``newest_modified`` and
``export_started_at`` (UTC ISO text, as every timestamp the store writes;
``newest_modified`` NULL if unknown), ``row_count`` (NULL if unknown) and
``run_id``, the ``sync_runs`` row of the apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from archid.records import ExportType
from archid.store.database import Database, utc_text
from archid.store.errors import sqlite_errors
from archid.store.schema import TABLES, quote


@dataclass(frozen=True, slots=True)
class ListMark:
    """A list as it was at the start of a full export.

    ``newest_modified`` is the newest modification time the list showed
    and ``row_count`` how many rows it said it had, ``None`` if unknown;
    ``export_started_at`` when the export started. Datetimes are aware
    (any zone): they are stored in UTC to the millisecond, and read back
    so (:func:`read_mark`). ``awaiting`` (read, never written) counts the
    stored rows that wait for the next full export to confirm their
    deletion: absent from the last one, deleted if the next lacks them too.
    """

    newest_modified: datetime | None
    row_count: int | None
    export_started_at: datetime
    awaiting: int = field(default=0, compare=False)


#: A mark as stored: newest_modified, row_count, export_started_at.
MarkRow = tuple[str | None, int | None, str]


def mark_row(mark: ListMark) -> MarkRow:
    """*mark* as stored; raises ``ValueError`` for a naive datetime (its zone
    would be a guess) or a negative row count."""
    if mark.row_count is not None and mark.row_count < 0:
        raise ValueError(f"a list cannot have {mark.row_count} rows")
    newest = None if mark.newest_modified is None else utc_text(mark.newest_modified)
    return newest, mark.row_count, utc_text(mark.export_started_at)


def write_mark(db: Database, export_type: ExportType, row: MarkRow | None, run_id: int) -> None:
    """Set the mark of *export_type* to *row*, of run *run_id*, or remove it
    (*row* ``None``); inside the caller's transaction."""
    if row is None:
        db.connection.execute("DELETE FROM list_marks WHERE type = ?", (export_type.value,))
        return
    db.connection.execute(
        "INSERT OR REPLACE INTO list_marks"
        " (type, newest_modified, row_count, export_started_at, run_id) VALUES (?, ?, ?, ?, ?)",
        (export_type.value, *row, run_id),
    )


def read_mark(db: Database, export_type: ExportType) -> ListMark | None:
    """The mark of the last full export of *export_type* applied, ``None`` if
    there is none (datetimes in UTC). Raises SQLite's errors as the store's."""
    with sqlite_errors(db.connection, f"reading the {export_type} list mark"):
        rows = db.connection.execute(
            "SELECT newest_modified, row_count, export_started_at FROM list_marks WHERE type = ?",
            (export_type.value,),
        ).fetchall()
    if not rows:
        return None
    [(newest, row_count, started)] = rows
    table = quote(TABLES[export_type].name)
    with sqlite_errors(db.connection, f"reading the {export_type} list mark"):
        [(awaiting,)] = db.connection.execute(
            f"SELECT count(*) FROM {table} WHERE deleted_at IS NULL AND missing_count > 0"
        ).fetchall()
    return ListMark(
        newest_modified=None if newest is None else datetime.fromisoformat(newest),
        row_count=row_count,
        export_started_at=datetime.fromisoformat(started),
        awaiting=int(awaiting),
    )


def clear_mark(db: Database, export_type: ExportType) -> None:
    """Forget the mark of *export_type* (the next scheduled check then
    exports), in a transaction of its own. Raises SQLite's errors as the
    store's: a busy database is :class:`~archid.store.errors.DatabaseBusy`."""
    with sqlite_errors(db.connection, f"clearing the {export_type} list mark"):
        # One statement: its own transaction.
        db.connection.execute("DELETE FROM list_marks WHERE type = ?", (export_type.value,))
