"""Migration 3: stable keys and spec v2's field names, keeping every row's history.

Version 2 keyed every record table by the portal's internal ``id`` and
named fields after the columns' captions. Version 3 keys them by the stable
key of spec v2 (a ``key`` column of its own) and names fields after what
the columns hold. The migration, inside the one transaction
:func:`archid.store.migrations.migrate` gives it:

* renames each record table and its ``_seen`` table aside, creates the
  version-3 tables (:data:`~archid.store.ddl_history.V3_RECORD_TABLES`) and
  copies every row across, converted (:data:`CARRY`), with its
  ``first_seen``, ``last_changed``, ``deleted_at``, ``missing_count``,
  ``missing_since_run``, ``pending_blank`` (field names renamed) and
  ``last_seen``; the content hash is recomputed over the new columns;
* merges rows that the new key says are one record (the same DDT number or
  order number under two internal IDs, as after the ERP's renumbering of
  February 2026, which version 2 saw as a deletion and an insertion): the
  row kept is the live one (else the least missing, else the last
  changed), with the earliest ``first_seen`` and the latest ``last_seen``;
* writes ``key_map`` (``type``, ``old_key``, ``new_key``, ``last_seq``):
  one row per old key that changed, merged rows included, so a consumer
  can translate the keys of the feed entries up to ``last_seq`` (the feed's
  last ``seq`` before the migration) and of its own copy;
* adds ``sync_runs.warnings`` and ``changes.old_key`` (NULL for old rows).
  ``sync_runs`` and ``changes`` keep every row and their ``AUTOINCREMENT``
  counters, so ``seq`` goes on increasing; old feed entries are left as
  they were (old keys, old field names in ``fields``).

Values that change type: products' ``created_on`` date becomes the
date-time ``created_at`` at midnight; DDT and invoice quantities become
integers (a non-integral one, which no export prints, becomes NULL);
invoices' flag ``closed`` becomes ``closed_on``, the last settlement date
when the flag was set (NULL when open, or when no date was stored). Values
the old form cannot express become NULL, *unknown*, and the next export
that shows the column fills them: prices' ``net_price`` (version 2 stored
the column as an amount, which says nothing about the flag) and products'
``total_absolute_discount``, ``line_discount`` and ``orderable`` (stored as
flags; the new fields keep the column's text, which the flag cannot give
back). Prices with no ``item_selection`` take their article from ``id``,
as version 2's ``Price.product_id`` did.

Like every migration, this module is frozen: it reads its columns from
:mod:`archid.store.ddl_history`, not from the record classes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from archid.store.ddl_history import (
    V1_COLUMNS,
    V3_ALTER,
    V3_COLUMNS,
    V3_KEY_MAP,
    V3_RECORD_TABLES,
)
from archid.store.schema import SqlRow, row_hash

Value = str | int | None
OldRow = Mapping[str, Any]


def _names(columns: str) -> tuple[str, ...]:
    return tuple(part.strip().split(" ", 1)[0] for part in columns.split(","))


def _same(name: str) -> Callable[[OldRow], Value]:
    return lambda row: row[name]


def _unknown(row: OldRow) -> Value:
    return None


def _midnight(name: str) -> Callable[[OldRow], Value]:
    return lambda row: None if row[name] is None else f"{row[name]}T00:00:00"


def _integer(name: str) -> Callable[[OldRow], Value]:
    def convert(row: OldRow) -> Value:
        text = row[name]
        if text is None:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        return int(number) if number == number.to_integral_value() else None

    return convert


def _closed_on(row: OldRow) -> Value:
    value: Value = row["last_settlement_date"] if row["closed"] else None
    return value


def _article(row: OldRow) -> Value:
    value: Value = row["item_selection"] or row["id"]
    return value


@dataclass(frozen=True, slots=True)
class Carry:
    """How one version-2 table becomes its version-3 table.

    ``sources`` maps a new column to the old column it comes from (for
    ``pending_blank``'s names); ``convert`` overrides the plain copy of the
    source's value; ``key`` makes the new key from the new values.
    """

    sources: Mapping[str, str]
    convert: Mapping[str, Callable[[OldRow], Value]]
    key: Callable[[Mapping[str, Value]], str]


def _renamed(table: str, renames: Mapping[str, str]) -> dict[str, str]:
    """New column → old column: *renames* (new: old), every other name kept."""
    old = set(_names(V1_COLUMNS[table]))
    out = {}
    for new in _names(V3_COLUMNS[table]):
        source = renames.get(new, new)
        if source in old:
            out[new] = source
    return out


def _key_part(value: Value, *, decimal: bool = False) -> str:
    """As :func:`archid.records._key_part` wrote it when this was released."""
    if value is None:
        return ""
    if decimal:
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


def _price_key(row: Mapping[str, Value]) -> str:
    return "|".join(
        (
            _key_part(row["article"]),
            _key_part(row["price_group"]),
            _key_part(row["valid_from"]),
            _key_part(row["qty_from"], decimal=True),
            _key_part(row["qty_to"], decimal=True),
        )
    )


def _text(name: str) -> Callable[[Mapping[str, Value]], str]:
    return lambda row: str(row[name])


CARRY: Final[Mapping[str, Carry]] = {
    "customers": Carry(
        _renamed(
            "customers",
            {
                "account": "profile",
                "delivery_mode": "delivery_terms",
                "sales_this_year": "sales_amount",
                "order_count_last_year": "previous_order_count",
                "sales_last_year": "previous_sales",
                "order_count_year_before": "previous_order_count_2",
                "sales_year_before": "previous_sales_2",
                "type_code": "type",
            },
        ),
        {},
        _text("id"),
    ),
    "products": Carry(
        _renamed(
            "products",
            {
                "article": "id",
                "catalogue_number": "name",
                "pack_size": "package_content",
                "id": "record_id",
                "created_at": "created_on",
            },
        ),
        {
            "created_at": _midnight("created_on"),
            "total_absolute_discount": _unknown,
            "line_discount": _unknown,
            "orderable": _unknown,
        },
        _text("article"),
    ),
    "prices": Carry(
        _renamed(
            "prices",
            {
                "price_group": "account",
                "price_group_name": "account_description",
                "article": "item_selection",
                "catalogue_number": "item_description",
                "valid_from": "from_date",
                "valid_to": "to_date",
                "net_price": "net_price_brasseler",
            },
        ),
        {"article": _article, "net_price": _unknown},
        _price_key,
    ),
    "orders": Carry(
        _renamed(
            "orders",
            {
                "order_number": "sales_id",
                "account": "customer_profile",
                "account_name": "sales_name",
                "purchase_order": "description",
                "discount_percent": "apply_discount",
            },
        ),
        {},
        lambda row: str(row["order_number"] or row["id"]),
    ),
    "ddt": Carry(
        _renamed(
            "ddt",
            {
                "order_number": "sales_id",
                "account_name": "sales_name",
                "purchase_order": "description",
                "delivery_email": "delivery_city",
            },
        ),
        {"quantity": _integer("quantity")},
        _text("ddt_number"),
    ),
    "invoices": Carry(
        _renamed(
            "invoices",
            {
                "invoice_number": "id",
                "payment_terms": "payment_term_id",
                "closed_on": "closed",
                "order_number": "sales_id",
            },
        ),
        {"quantity": _integer("quantity"), "closed_on": _closed_on},
        _text("invoice_number"),
    ),
}
"""Every table's conversion (see the module docstring)."""


#: Rows converted in memory at a time.
_BATCH: Final = 5000


@dataclass(slots=True)
class _Group:
    """The old rows one new key gathers, and the one that is kept."""

    winner: str
    rank: tuple[bool, int, str]
    first_seen: str
    last_seen: str
    old_keys: list[str]


def migrate_v3(connection: Any) -> None:
    """Bring a version-2 database to version 3 (inside the caller's transaction)."""
    [(last_seq,)] = connection.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchall()
    for statement in V3_ALTER:
        connection.execute(statement)
    connection.execute(V3_KEY_MAP)
    for table in V1_COLUMNS:
        connection.execute(f'DROP INDEX "{table}_attention"')
        connection.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_v2"')
        connection.execute(f'ALTER TABLE "{table}_seen" RENAME TO "{table}_seen_v2"')
    for statement in V3_RECORD_TABLES:
        connection.execute(statement)
    for table in V1_COLUMNS:
        _carry_table(connection, table, last_seq)
        connection.execute(f'DROP TABLE "{table}_v2"')
        connection.execute(f'DROP TABLE "{table}_seen_v2"')


def _old_rows(connection: Any, table: str) -> Iterator[dict[str, Any]]:
    cursor = connection.execute(
        f'SELECT t.*, coalesce(s.last_seen, t.last_changed) AS "last_seen"'
        f' FROM "{table}_v2" t LEFT JOIN "{table}_seen_v2" s USING (id) ORDER BY t.rowid'
    )
    names: list[str] = []
    for row in cursor:
        if not names:
            names = [description[0] for description in cursor.getdescription()]
        yield dict(zip(names, row, strict=True))


def _converted(carry: Carry, columns: tuple[str, ...], old: OldRow) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for name in columns:
        convert = carry.convert.get(name)
        if convert is not None:
            out[name] = convert(old)
        else:
            source = carry.sources.get(name)
            out[name] = None if source is None else old[source]
    return out


def _pending(carry: Carry, old: OldRow, new: Mapping[str, Value]) -> str | None:
    """``pending_blank`` with its field names renamed; a note whose field now
    holds nothing is dropped (there is no value left to hold)."""
    if not old["pending_blank"]:
        return None
    to_new = {source: name for name, source in carry.sources.items()}
    names = [to_new[n] for n in json.loads(old["pending_blank"]) if n in to_new]
    kept = [name for name in names if new.get(name) is not None]
    return json.dumps(kept) if kept else None


def _carry_table(connection: Any, table: str, last_seq: int) -> None:
    carry = CARRY[table]
    columns = _names(V3_COLUMNS[table])
    groups: dict[str, _Group] = {}
    for old in _old_rows(connection, table):
        key = carry.key(_converted(carry, columns, old))
        rank = (old["deleted_at"] is None, -old["missing_count"], old["last_changed"])
        group = groups.get(key)
        if group is None:
            groups[key] = _Group(old["id"], rank, old["first_seen"], old["last_seen"], [old["id"]])
            continue
        group.old_keys.append(old["id"])
        group.first_seen = min(group.first_seen, old["first_seen"])
        group.last_seen = max(group.last_seen, old["last_seen"])
        if rank > group.rank:
            group.winner, group.rank = old["id"], rank
    winners = {group.winner: (key, group) for key, group in groups.items()}
    quoted = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" * (len(columns) + 8))
    insert = (
        f'INSERT INTO "{table}" ("key", {quoted}, content_hash, first_seen, last_changed,'
        f" deleted_at, pending_blank, missing_count, missing_since_run) VALUES ({marks})"
    )
    rows: list[tuple[Value | bytes, ...]] = []
    seen: list[tuple[str, str]] = []

    def flush() -> None:
        connection.executemany(insert, rows)
        connection.executemany(f'INSERT INTO "{table}_seen" ("key", last_seen) VALUES (?, ?)', seen)
        rows.clear()
        seen.clear()

    for old in _old_rows(connection, table):
        found = winners.get(old["id"])
        if found is None:
            continue
        key, group = found
        new = _converted(carry, columns, old)
        values: SqlRow = tuple(new[name] for name in columns)
        rows.append(
            (
                key,
                *values,
                row_hash(values),
                group.first_seen,
                old["last_changed"],
                old["deleted_at"],
                _pending(carry, old, new),
                old["missing_count"],
                old["missing_since_run"],
            )
        )
        seen.append((key, group.last_seen))
        if len(rows) >= _BATCH:
            flush()
    flush()
    connection.executemany(
        "INSERT INTO key_map (type, old_key, new_key, last_seq) VALUES (?, ?, ?, ?)",
        [
            (table, old_key, key, last_seq)
            for key, group in groups.items()
            for old_key in group.old_keys
            if old_key != key
        ],
    )
