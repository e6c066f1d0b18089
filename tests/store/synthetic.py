"""Records to feed the store, built from the record classes themselves.

The store tests need many records of every type, edits between syncs, and
nothing else; building them from the dataclasses' own fields keeps them in
step with ``archid/records.py`` and the tests independent of the
simulator. Values are deterministic: record *i* of a type is always the
same, keys are unique and shaped as spec v2 shows them (``ORD/…``, article
codes with leading zeros); every tenth order is pending (no number).

``prices(n, 0)`` is a table's state A for the crash and concurrency tests;
``prices(n, 1)`` the next export: every tenth price changed, the last 2 %
gone, 5 % new rows.
"""

from __future__ import annotations

import dataclasses
import random
import typing
import zlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from archid.records import RECORD_TYPES, ExportType, Price, Record, data_fields, record_key

#: The clock of every apply in the crash tests, so that two applies of the
#: same records leave byte-identical tables.
FIXED = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return FIXED


def _keys(export_type: ExportType, i: int) -> dict[str, Any]:
    """The key fields of record *i* (and the internal ID where there is one)."""
    if export_type is ExportType.CUSTOMERS:
        return {"id": str(1000 + i)}
    if export_type is ExportType.PRODUCTS:
        return {"article": f"{i:06d}K1", "id": str(50_000 + i)}
    if export_type is ExportType.PRICES:
        return {
            "id": str(4 + i),
            "article": f"{i // 3:06d}K1",
            "price_group": f"{i % 3:03d}",
            "valid_from": date(2026, 1, 1),
            "qty_from": Decimal(1),
            "qty_to": Decimal(100_000_000),
        }
    if export_type is ExportType.ORDERS:
        number = None if i % 10 == 9 else f"ORD/26{i:06d}"
        return {"id": str(70_000 + i), "order_number": number}
    if export_type is ExportType.DDT:
        return {"id": str(9_000 + i), "ddt_number": f"DDT/26{i:06d}"}
    return {"invoice_number": f"CF1/26{i:06d}"}


def _value(kind: Any, name: str, i: int, optional: bool) -> Any:
    salt = zlib.crc32(name.encode())
    if optional and (i + salt) % 7 == 0:
        return None
    if kind is str:
        return f"{name.replace('_', ' ')} {(i * 31 + salt) % 997}"
    if kind is bool:
        return (i + salt) % 2 == 0
    if kind is int:
        return (i * 7 + salt) % 1200 - 1
    if kind is Decimal:
        return Decimal((i * 1301 + salt) % 2_000_000) / 100
    if kind is datetime:
        return datetime(2025, 1, 1, 8, 0) + timedelta(minutes=(i * 97 + salt) % 500_000)
    if kind is date:
        return date(2025, 1, 1) + timedelta(days=(i + salt) % 400)
    raise TypeError(f"{name}: no synthetic value for {kind!r}")


def _field_kinds(cls: type[Record]) -> list[tuple[str, Any, bool]]:
    hints = typing.get_type_hints(cls)
    out = []
    for field in data_fields(cls):
        args = [a for a in typing.get_args(hints[field.name]) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hints[field.name]))
        out.append((field.name, args[0] if optional else hints[field.name], optional))
    return out


def make(export_type: ExportType, i: int) -> Record:
    """Record number *i* of *export_type* (always the same record)."""
    cls = RECORD_TYPES[export_type]
    values = {name: _value(kind, name, i, optional) for name, kind, optional in _field_kinds(cls)}
    values.update(_keys(export_type, i))
    if export_type is ExportType.DDT:
        values["order_number"] = f"ORD/26{i:06d}"
    if export_type is ExportType.ORDERS and values["order_number"] is None:
        values["account"] = None  # as a pending order's (spec v2)
    record: Record = cls(**values)
    return record


def many(export_type: ExportType, n: int, start: int = 0) -> list[Record]:
    return [make(export_type, i) for i in range(start, start + n)]


def replace(record: Record, **changes: Any) -> Record:
    changed: Record = dataclasses.replace(record, **changes)
    return changed


def edit(record: Record, rng: random.Random) -> Record:
    """*record* with one or two of its non-key fields given other values."""
    cls = type(record)
    fixed = {"id", "order_number", "article", "price_group", "valid_from", "qty_from", "qty_to"}
    fixed |= {"ddt_number", "invoice_number"}
    choices = [f for f in _field_kinds(cls) if f[0] not in fixed]
    changes = {}
    for name, kind, _ in rng.sample(choices, 2):
        value = _value(kind, name, rng.randrange(10_000, 20_000), False)
        if value != getattr(record, name):
            changes[name] = value
    return replace(record, **changes)


class Table:
    """What one export of a type holds, edited between syncs by the tests."""

    def __init__(self, export_type: ExportType, n: int) -> None:
        self.export_type = export_type
        self.next = n
        self._rows: dict[str, Record] = {record_key(r): r for r in many(export_type, n)}

    def records(self) -> list[Record]:
        return list(self._rows.values())

    def by_key(self) -> dict[str, Record]:
        return dict(self._rows)

    def get(self, key: str) -> Record:
        return self._rows[key]

    def set(self, record: Record, old_key: str | None = None) -> None:
        """Store *record*, in place of *old_key*'s if given (its position kept)."""
        if old_key is None or old_key == record_key(record):
            self._rows[record_key(record)] = record
            return
        self._rows = {
            (record_key(record) if k == old_key else k): (record if k == old_key else r)
            for k, r in self._rows.items()
        }

    def update(self, key: str, **changes: Any) -> Record:
        record = replace(self._rows[key], **changes)
        self.set(record, key)
        return record

    def delete(self, key: str) -> Record:
        return self._rows.pop(key)

    def add(self) -> Record:
        record = make(self.export_type, self.next)
        self.next += 1
        self._rows[record_key(record)] = record
        return record

    def mutate(self, seed: int, n: int) -> None:
        """*n* random edits: about a third updates, deletions and additions each."""
        rng = random.Random(seed)
        for _ in range(n):
            roll = rng.random()
            keys = list(self._rows)
            if roll < 0.4:
                key = rng.choice(keys)
                self._rows[key] = edit(self._rows[key], rng)
            elif roll < 0.7:
                self.delete(rng.choice(keys))
            else:
                self.add()

    def extend(self, records: Iterable[Record]) -> None:
        for record in records:
            self._rows[record_key(record)] = record


def price(i: int, cents: int) -> Price:
    return Price(
        id=str(100000 + i),
        account_code="Group",
        price_group=f"{i % 900:03d}",
        price_group_name=f"Listino {i % 997} di Rossi Mario",
        article=f"{i:06d}K1",
        catalogue_number=f"9686.{i % 1000:03d}.040",
        valid_from=date(2026, 1, 1),
        valid_to=date(2154, 12, 31),
        qty_from=Decimal("1"),
        qty_to=Decimal("100000000"),
        price_unit="1",
        unit_price=Decimal(cents) / 100,
        currency="EUR",
        net_price=i % 5 == 0,
    )


def prices(n: int, version: int) -> list[Price]:
    if version == 0:
        return [price(i, 1000 + i % 5000) for i in range(n)]
    kept = n - n // 50
    out = [price(i, 1000 + i % 5000 + (7 if i % 10 == 0 else 0)) for i in range(kept)]
    out += [price(n + i, 2000 + i) for i in range(n // 20)]
    return out
