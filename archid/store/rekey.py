"""Which stored orders take a new key: the one key of the mirror that changes.

An order is keyed by its order number, and a pending order or a draft,
which has none yet, by its internal ID (``Order.key``). Two events change
such a row's key, and in both the row must stay the same row (its
``first_seen``, its history), updated in place rather than deleted and
inserted:

* **it gets its number**: an incoming order with an order number whose
  key is new, and whose internal ID is the key of a stored row, takes that
  row, provided the export does not also hold a pending order under that
  ID;
* **the ERP renumbers it** (spec v2, "Keys"): in a *full* export, a stored
  pending row that the export lacks and an incoming pending order whose key
  is new and whose values equal the row's in every field but ``id`` (and
  but the fields the record could not read) are one order. They are paired
  one to one, in export order, so identical drafts stay as many rows as
  there are. A "recent" export holds only some rows, so its absences prove
  nothing and it never pairs by values.

An order renumbered and numbered between two syncs matches neither rule:
it is inserted under its number, and its pending row goes the way of rows
absent from the export.
"""

from __future__ import annotations

import typing
from collections.abc import Container, Mapping, Sequence
from typing import Any

from archid.records import Order, Record
from archid.store.schema import TableSpec, quote


def order_rekeys(
    connection: Any,
    spec: TableSpec,
    incoming: Mapping[str, Record],
    new_keys: Sequence[str],
    stored: Container[str],
    *,
    full: bool,
) -> dict[str, str]:
    """The stored rows that take a new key: new key → stored key.

    *new_keys* are the incoming keys no stored row has (deleted ones
    included), *stored* tells the stored keys. Each stored key is taken
    at most once.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    pending: list[str] = []
    for key in new_keys:
        order = typing.cast(Order, incoming[key])
        if order.order_number is None:
            pending.append(key)
            continue
        # A stored key equal to an internal ID is a pending row: numbered
        # rows are keyed by their number.
        old = order.id
        if old in stored and old not in incoming and old not in taken:
            out[key] = old
            taken.add(old)
    if full and pending:
        out.update(_renumbered(connection, spec, incoming, pending, taken))
    return out


def _renumbered(
    connection: Any,
    spec: TableSpec,
    incoming: Mapping[str, Record],
    pending: list[str],
    taken: set[str],
) -> dict[str, str]:
    """Pair new pending orders with absent stored pending rows equal but for ``id``."""
    names = [name for name in spec.field_names if name != "id"]
    columns = ", ".join(quote(name) for name in spec.field_names)
    rows = connection.execute(
        f"SELECT key, {columns} FROM {quote(spec.name)}"
        " WHERE order_number IS NULL AND deleted_at IS NULL ORDER BY rowid"
    )
    # Values compared as record values: 12.5 and 12.50 are one amount.
    absent: dict[str, dict[str, Any]] = {}
    for key, *values in rows:
        if key in incoming or key in taken:
            continue
        record = spec.from_row(values)
        absent[key] = {name: getattr(record, name) for name in names}
    if not absent:
        return {}
    by_values: dict[tuple[Any, ...], list[str]] = {}
    for key, values in absent.items():
        by_values.setdefault(tuple(values[name] for name in names), []).append(key)
    out: dict[str, str] = {}
    for key in pending:
        record = incoming[key]
        old: str | None = None
        if record.unread:
            old = _first_alike(record, names, absent)
        else:
            stack = by_values.get(tuple(getattr(record, name) for name in names), [])
            while stack and old is None:
                candidate = stack.pop(0)
                old = candidate if candidate in absent else None
        if old is not None:
            out[key] = old
            absent.pop(old)
    return out


def _first_alike(record: Record, names: list[str], absent: dict[str, dict[str, Any]]) -> str | None:
    """The first absent row equal to *record* in every field it could read."""
    known = [name for name in names if name not in record.unread]
    for key, values in absent.items():
        if all(values[name] == getattr(record, name) for name in known):
            return key
    return None
