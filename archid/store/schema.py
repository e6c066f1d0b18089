"""The SQL shape of the mirror, generated from the record dataclasses.

Each :class:`~archid.records.ExportType` gets one table named after it
(``customers``, ``products``, ``prices``, ``orders``, ``ddt``,
``invoices``). Its first column, ``key``, is the ``PRIMARY KEY``: the
record's stable key (:attr:`Record.key <archid.records.Customer.key>`,
spec v2 "Keys"), not the portal's internal ID, which the ERP renumbers and
which stays an ordinary column. Then comes one column per data field of the
record (:func:`archid.records.data_fields`: every field but ``unread``,
which is never stored), in field order. Column types:

* ``str``, ``date``, ``datetime`` → ``TEXT`` (dates and date-times ISO 8601,
  as :func:`archid.records.to_json` writes them);
* ``Decimal`` → ``TEXT``, the canonical string (``str(Decimal)``): money is
  never stored as a binary float;
* ``int`` → ``INTEGER``; ``bool`` → ``INTEGER`` 0 or 1.

Tables are ``STRICT`` (SQLite 3.37+), so a value of the wrong type cannot be
stored. Fields that are not optional in the record are ``NOT NULL``.

After the record's columns come the bookkeeping columns
(:data:`BOOKKEEPING`): ``content_hash``, ``first_seen``, ``last_changed``,
``deleted_at`` (NULL for a live row), ``pending_blank`` and
``missing_count``/``missing_since_run`` (the memory behind the "two
consecutive exports" rules of :mod:`archid.store.apply`).

``last_seen`` lives in a narrow companion table, ``<type>_seen`` (``key``,
``last_seen``), one row per row of the type's table. It is the one value
every sync rewrites for every row; in the wide table that would rewrite the
whole table (and as much WAL) on every unchanged sync: 0.3-0.6 s for
100,000 products, about half the cost of a first load. In ``<type>_seen``
it costs about a tenth of that.

:class:`TableSpec` also holds the fast converters between records and SQL
rows and :func:`row_hash`, the content hash (of the data columns: the key
is made of them).

The tables beside the records are written by hand, each by the migration
that made it (:mod:`archid.store.ddl_history`); their shape of the day is
described here (:data:`RUN_COLUMNS`, :data:`CHANGE_COLUMNS`,
:data:`MARK_COLUMNS`, :data:`OUTCOMES`), for
:func:`archid.store.migrations.check_schema` to hold the file to.
"""

from __future__ import annotations

import hashlib
import marshal
import operator
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from archid.records import RECORD_TYPES, ExportType, Record, data_fields
from archid.runs import Outcome
from archid.store.keys import key_function

#: A record's field values as stored: ``str``, ``int`` or ``None`` only.
SqlRow = tuple[str | int | None, ...]

#: The name of every record table's key column (and of its ``_seen`` table's).
KEY: Final = "key"

#: Bookkeeping columns after the record's own, with their DDL.
BOOKKEEPING: Final[tuple[tuple[str, str], ...]] = (
    ("content_hash", "BLOB NOT NULL"),
    ("first_seen", "TEXT NOT NULL"),
    ("last_changed", "TEXT NOT NULL"),
    ("deleted_at", "TEXT"),
    ("pending_blank", "TEXT"),
    ("missing_count", "INTEGER NOT NULL DEFAULT 0"),
    ("missing_since_run", "INTEGER REFERENCES sync_runs (id)"),
)

#: The fields each type's key is made of (``Record.key`` reads these): the
#: store refuses a record that says one of them could not be read.
KEY_FIELDS: Final[Mapping[ExportType, frozenset[str]]] = {
    ExportType.CUSTOMERS: frozenset({"id"}),
    ExportType.PRODUCTS: frozenset({"article"}),
    ExportType.PRICES: frozenset({"article", "price_group", "valid_from", "qty_from", "qty_to"}),
    ExportType.ORDERS: frozenset({"id", "order_number"}),
    ExportType.DDT: frozenset({"ddt_number"}),
    ExportType.INVOICES: frozenset({"invoice_number"}),
}

#: ``sync_runs``' columns, in order (since migration 5).
RUN_COLUMNS: Final = (
    "id",
    "type",
    "mode",
    "trigger",
    "started_at",
    "ended_at",
    "outcome",
    "parsed",
    "inserted",
    "updated",
    "unchanged",
    "deleted",
    "restored",
    "dropped",
    "missing",
    "blanks_held",
    "bytes",
    "pages",
    "stage_seconds",
    "error_stage",
    "error_class",
    "error_message",
    "first_seq",
    "last_seq",
    "warnings",
    "requested_by",
)

#: Every value ``sync_runs.outcome`` may hold (since migration 5); the
#: meaning of each is in :mod:`archid.store.runs`.
OUTCOMES: Final = tuple(o.value for o in Outcome)

#: ``changes``' columns, in order (since migration 3).
CHANGE_COLUMNS: Final = ("seq", "type", "key", "op", "run_id", "fields", "old_key")

#: ``list_marks``' columns, in order (since migration 5).
MARK_COLUMNS: Final = ("type", "newest_modified", "row_count", "export_started_at", "run_id")

#: The rows that are not plain live rows: deleted, missing or holding a blank.
ATTENTION: Final = "deleted_at IS NOT NULL OR pending_blank IS NOT NULL OR missing_count > 0"


def quote(name: str) -> str:
    """*name* as an SQL identifier (fields such as ``group`` are keywords)."""
    return '"' + name.replace('"', '""') + '"'


def row_hash(row: SqlRow) -> bytes:
    """The 16-byte content hash of a stored row (BLAKE2b of its data values).

    The serialisation is :mod:`marshal` version 2, which has no
    back-references, so equal values give equal bytes whatever the object
    identities. Should a future Python change it, every row would look
    changed once: :mod:`archid.store.apply` then compares the values, finds
    them equal and only rewrites the hash.
    """
    return hashlib.blake2b(marshal.dumps(row, 2), digest_size=16).digest()


@dataclass(frozen=True, slots=True)
class Column:
    """One field's column: its SQL type and how values cross the boundary."""

    name: str
    python_type: type
    sql_type: str  # "TEXT" or "INTEGER"
    not_null: bool

    def ddl(self) -> str:
        text = f"{quote(self.name)} {self.sql_type}"
        return text + " NOT NULL" if self.not_null else text

    def from_sql(self, value: str | int | None) -> Any:
        """The record value for a stored *value*."""
        if value is None:
            return None
        kind = self.python_type
        if kind is Decimal:
            return Decimal(typing.cast(str, value))
        if kind is datetime:
            return datetime.fromisoformat(typing.cast(str, value))
        if kind is date:
            return date.fromisoformat(typing.cast(str, value))
        if kind is bool:
            return bool(value)
        return value


def _column(name: str, hint: Any) -> Column:
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    optional = bool(typing.get_args(hint)) and len(args) < len(typing.get_args(hint))
    kind = args[0] if optional else hint
    if kind not in (str, int, bool, Decimal, date, datetime):
        raise TypeError(f"field {name!r}: no SQL mapping for {hint!r}")
    sql_type = "INTEGER" if kind in (int, bool) else "TEXT"
    return Column(name=name, python_type=kind, sql_type=sql_type, not_null=not optional)


def _to_sql_source(column: Column) -> str:
    """Python source converting ``r.<field>`` to its stored value."""
    attr = f"r.{column.name}"
    kind = column.python_type
    if kind is str or kind is int:
        return attr
    if kind is bool:
        convert = f"(1 if {attr} else 0)"
    elif kind is Decimal:
        convert = f"str({attr})"
    else:  # date, datetime
        convert = f"{attr}.isoformat()"
    return convert if column.not_null else f"(None if {attr} is None else {convert})"


@dataclass(frozen=True, slots=True)
class TableSpec:
    """The table of one export type and its row converters.

    ``columns`` are the record's data columns, without ``key``: a stored
    row (:data:`SqlRow`) is their values in order, and what the content
    hash covers.
    """

    export_type: ExportType
    record_type: type[Record]
    columns: tuple[Column, ...]
    key_fields: frozenset[str]
    to_row: Callable[[Record], SqlRow]
    values: Callable[[Record], tuple[Any, ...]]
    """A record's field values as they are (C speed; for equality tests)."""
    key_of: Callable[[Record], str]
    """A record's stable key (its ``key`` property; see :mod:`archid.store.keys`)."""

    @property
    def name(self) -> str:
        return self.export_type.value

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def key_name(self) -> str:
        """The key column's name, :data:`KEY` in every table."""
        return KEY

    @property
    def seen_name(self) -> str:
        """The companion table holding ``last_seen``."""
        return self.name + "_seen"

    def ddl(self) -> list[str]:
        """Statements creating the table, its index and ``<type>_seen``."""
        lines = [f"{quote(KEY)} TEXT PRIMARY KEY NOT NULL"]
        lines += [column.ddl() for column in self.columns]
        lines += [f"{quote(name)} {definition}" for name, definition in BOOKKEEPING]
        body = ",\n    ".join(lines)
        return [
            f"CREATE TABLE {quote(self.name)} (\n    {body}\n) STRICT",
            # The few rows that are not plain live rows (deleted ones
            # included): the apply reads them apart, readers find deleted
            # rows through it. Nearly all rows are live, so an index on
            # deleted_at alone would only slow the writes.
            f"CREATE INDEX {quote(self.name + '_attention')} ON {quote(self.name)}"
            f" ({quote(KEY)}) WHERE {ATTENTION}",
            f"CREATE TABLE {quote(self.seen_name)} (\n"
            f"    {quote(KEY)} TEXT PRIMARY KEY NOT NULL,\n"
            "    last_seen TEXT NOT NULL\n"
            ") STRICT, WITHOUT ROWID",
        ]

    def from_row(self, row: Sequence[str | int | None]) -> Record:
        """The record held by a stored row (the data columns, in order)."""
        values = {
            column.name: column.from_sql(value)
            for column, value in zip(self.columns, row, strict=True)
        }
        return self.record_type(**values)


def _build(export_type: ExportType) -> TableSpec:
    record_type = RECORD_TYPES[export_type]
    hints = typing.get_type_hints(record_type)
    columns = tuple(_column(f.name, hints[f.name]) for f in data_fields(record_type))
    names = [column.name for column in columns]
    clash = set(names) & {KEY, *(name for name, _ in BOOKKEEPING)}
    if clash:
        raise TypeError(f"{record_type.__name__}: fields clash with bookkeeping {sorted(clash)}")
    key_fields = KEY_FIELDS[export_type]
    if not key_fields <= set(names):
        raise TypeError(f"{record_type.__name__}: key fields {sorted(key_fields)} not all fields")
    # Generated once per type: a straight tuple expression is several times
    # faster than a loop over converters, and this runs for every record.
    source = "lambda r: (" + ", ".join(_to_sql_source(c) for c in columns) + ",)"
    to_row = typing.cast(Callable[[Record], SqlRow], eval(source, {"str": str}))
    return TableSpec(
        export_type=export_type,
        record_type=record_type,
        columns=columns,
        key_fields=key_fields,
        to_row=to_row,
        values=operator.attrgetter(*names),
        key_of=key_function(export_type),
    )


TABLES: Final[Mapping[ExportType, TableSpec]] = {t: _build(t) for t in ExportType}
"""The table of every export type, in enum order."""
