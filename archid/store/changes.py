"""``changes``: the append-only change feed.

Every row the apply inserts, updates, deletes or restores adds one entry,
in the same transaction: ``seq`` (gap-free, increasing, never reused),
``type``, ``key``, ``op`` (``insert``, ``update``, ``delete``,
``restore``), ``run_id`` (the ``sync_runs`` row), for an update the JSON
list of the fields that changed, and ``old_key``: NULL, except when the
row's key changed in this entry (a pending order that got its order
number, or one the ERP renumbered): then ``key`` is the row's new key and
``old_key`` the one it had until then; the op is ``update`` (``restore``
if the row was deleted). Entries are never modified or deleted.

A consumer remembers the last ``seq`` it processed and asks for what came
after it (:func:`changes_since`); it then reads the current rows of the
keys it got. Because a run's entries and its rows commit together, a reader
that reads the feed and the rows in one read transaction sees them agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from archid.records import ExportType
from archid.store.database import Database

ChangeOp = Literal["insert", "update", "delete", "restore"]


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of the change feed; ``fields`` is empty except for updates,
    ``old_key`` ``None`` except where the row's key changed."""

    seq: int
    export_type: ExportType
    key: str
    op: ChangeOp
    run_id: int
    fields: tuple[str, ...] = ()
    old_key: str | None = None


def changes_since(
    db: Database,
    seq: int,
    limit: int = 1000,
    *,
    types: Iterable[ExportType] | None = None,
) -> list[FeedEntry]:
    """Up to *limit* entries with ``seq`` greater than *seq*, in order.

    Pass the last entry's ``seq`` back to get the next page; an empty list
    means the consumer is up to date. *types* keeps only those types (the
    ``seq`` of the entries is unchanged, so a filtered page may skip numbers).
    """
    if limit <= 0:
        raise ValueError(f"limit must be positive, not {limit}")
    sql = "SELECT seq, type, key, op, run_id, fields, old_key FROM changes WHERE seq > ?"
    args: list[object] = [seq]
    if types is not None:
        names = [ExportType(t).value for t in types]
        sql += f" AND type IN ({', '.join('?' * len(names))})" if names else " AND 0"
        args += names
    sql += " ORDER BY seq LIMIT ?"
    args.append(limit)
    return [
        FeedEntry(
            seq=row[0],
            export_type=ExportType(row[1]),
            key=row[2],
            op=row[3],
            run_id=row[4],
            fields=tuple(json.loads(row[5])) if row[5] else (),
            old_key=row[6],
        )
        for row in db.connection.execute(sql, args)
    ]


def latest_seq(db: Database) -> int:
    """The highest ``seq`` in the feed, 0 if it is empty."""
    rows = db.connection.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchall()
    value: int = rows[0][0]
    return value
