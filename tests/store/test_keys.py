"""Stable keys: a renumbering by the ERP is a run of updates, and a pending
order that gets its number stays the same row (issue 9, "Stable keys")."""

from __future__ import annotations

import dataclasses
import random
from datetime import date
from decimal import Decimal

import pytest

from archid.config import GuardConfig
from archid.records import ExportType, Order, Record, data_fields, record_key
from archid.store import TABLES, Database, apply_sync, changes_since, list_runs
from tests.store.conftest import count, row_of
from tests.store.synthetic import Table, prices, replace

O = ExportType.ORDERS  # noqa: E741
RENUMBERED = (O, ExportType.DDT, ExportType.INVOICES, ExportType.PRICES, ExportType.PRODUCTS)

#: No deletion allowed, no shrinking: a renumbering must get through anyway.
STRICT = GuardConfig(min_export_share=1.0, max_delete_share=0.0)


def has_id(record: Record) -> bool:
    return "id" in {f.name for f in data_fields(type(record))}


def renumber(table: Table, seed: int) -> dict[str, str]:
    """Give every record a new internal ID, all else equal, as the ERP did in
    February 2026 (70.962 became 46.883); return old key → new key."""
    records = table.records()
    numbers = list(range(len(records)))
    random.Random(seed).shuffle(numbers)
    moved = {}
    for record, number in zip(records, numbers, strict=True):
        if not has_id(record):
            moved[record_key(record)] = record_key(record)
            continue
        new = replace(record, id=str(40_000 + number))
        table.set(new, record_key(record))
        moved[record_key(record)] = record_key(new)
    return moved


def first_seen(db: Database, export_type: ExportType) -> dict[str, str]:
    return dict(db.connection.execute(f'SELECT key, first_seen FROM "{export_type.value}"'))


def pending_orders(table: Table) -> list[Order]:
    return [r for r in table.records() if isinstance(r, Order) and r.order_number is None]


@pytest.mark.parametrize("export_type", RENUMBERED)
def test_a_renumbering_applies_as_updates(db: Database, export_type: ExportType) -> None:
    table = Table(export_type, 120)
    apply_sync(db, export_type, table.records())
    before = first_seen(db, export_type)
    seq = changes_since(db, 0, 10_000)[-1].seq
    moved = renumber(table, 7)
    result = apply_sync(db, export_type, table.records(), guard=STRICT)
    with_id = sum(1 for r in table.records() if has_id(r))
    assert result.outcome == "ok", result.reason
    counts = result.counts
    assert (counts.inserted, counts.deleted, counts.missing, counts.restored) == (0, 0, 0, 0)
    assert (counts.updated, counts.unchanged) == (with_id, 120 - with_id)
    assert db.read_records(export_type) == table.by_key()
    # Every row is the row it was: same first_seen, under its (stable) key.
    assert first_seen(db, export_type) == {moved[k]: v for k, v in before.items()}
    feed = changes_since(db, seq)
    assert len(feed) == with_id
    assert {(e.op, e.fields) for e in feed} <= {("update", ("id",))}
    rekeyed = {e.old_key: e.key for e in feed if e.old_key is not None}
    assert rekeyed == {old: new for old, new in moved.items() if old != new}
    if export_type is O:
        assert len(rekeyed) == len(pending_orders(table)) > 0  # pending: keyed by ID
    else:
        assert rekeyed == {}
    # And the next export of the renumbered records changes nothing.
    again = apply_sync(db, export_type, table.records(), guard=STRICT)
    assert (again.counts.changed, again.counts.missing) == (0, 0)


def test_a_pending_order_that_gets_its_number_is_the_same_row(db: Database) -> None:
    table = Table(O, 40)
    apply_sync(db, O, table.records())
    pending = pending_orders(table)[0]
    before = row_of(db, O, pending.id)
    seq = changes_since(db, 0, 10_000)[-1].seq
    numbered = table.update(
        pending.key, order_number="ORD/26009999", account="049421", sales_status="Ordine aperto"
    )
    result = apply_sync(db, O, table.records(), guard=STRICT)
    assert result.outcome == "ok", result.reason
    counts = result.counts
    assert (counts.inserted, counts.updated, counts.deleted, counts.missing) == (0, 1, 0, 0)
    after = row_of(db, O, "ORD/26009999")
    assert after["first_seen"] == before["first_seen"]
    assert after["last_changed"] > before["last_changed"]  # type: ignore[operator]
    assert after["last_seen"] > before["last_seen"]  # type: ignore[operator]
    assert after["id"] == pending.id
    assert count(db, "SELECT count(*) FROM orders WHERE key = ?", pending.id) == 0
    assert count(db, "SELECT count(*) FROM orders_seen WHERE key = ?", pending.id) == 0
    [entry] = changes_since(db, seq)
    assert (entry.op, entry.key, entry.old_key) == ("update", "ORD/26009999", pending.id)
    assert set(entry.fields) == {"order_number", "account", "sales_status"}
    assert db.read_records(O)["ORD/26009999"] == numbered
    # The old key is not "absent": two more full exports delete nothing.
    for _ in range(2):
        later = apply_sync(db, O, table.records(), guard=STRICT)
        assert (later.counts.changed, later.counts.missing) == (0, 0)


def test_a_recent_export_numbers_a_pending_order_too(db: Database) -> None:
    table = Table(O, 40)
    apply_sync(db, O, table.records())
    pending = pending_orders(table)[1]
    numbered = table.update(pending.key, order_number="ORD/26008888")
    result = apply_sync(db, O, [numbered], mode="recent", trigger="session")
    assert (result.counts.inserted, result.counts.updated) == (0, 1)
    assert changes_since(db, 0, 10_000)[-1].old_key == pending.id
    assert db.read_records(O) == table.by_key()


def test_a_deleted_pending_order_back_with_a_number_is_restored(db: Database) -> None:
    table = Table(O, 40)
    apply_sync(db, O, table.records())
    pending = pending_orders(table)[0]
    table.delete(pending.key)
    apply_sync(db, O, table.records())
    apply_sync(db, O, table.records())
    assert row_of(db, O, pending.id)["deleted_at"] is not None
    first = row_of(db, O, pending.id)["first_seen"]
    numbered = replace(pending, order_number="ORD/26007777")
    table.set(numbered)
    result = apply_sync(db, O, table.records())
    assert (result.counts.inserted, result.counts.restored) == (0, 1)
    row = row_of(db, O, "ORD/26007777")
    assert (row["deleted_at"], row["missing_count"], row["first_seen"]) == (None, 0, first)
    last = changes_since(db, 0, 10_000)[-1]
    assert (last.op, last.key, last.old_key) == ("restore", "ORD/26007777", pending.id)


def test_identical_drafts_renumbered_are_paired_one_to_one(db: Database) -> None:
    table = Table(O, 30)
    draft = pending_orders(table)[0]
    twins = [dataclasses.replace(draft, id=str(80_000 + n)) for n in range(3)]
    table.extend(twins)
    apply_sync(db, O, table.records())
    before = first_seen(db, O)
    moved = renumber(table, 3)
    result = apply_sync(db, O, table.records(), guard=STRICT)
    assert (result.counts.inserted, result.counts.missing) == (0, 0)
    assert result.counts.updated == 33
    stored = first_seen(db, O)
    assert len(stored) == 33
    # The twins are interchangeable; every one is one stored row, none lost.
    twin_keys = {moved[t.key] for t in twins}
    assert sorted(stored[k] for k in twin_keys) == sorted(before[t.key] for t in twins)
    others = {old: new for old, new in moved.items() if new not in twin_keys}
    assert {new: stored[new] for new in others.values()} == {
        new: before[old] for old, new in others.items()
    }


def test_a_renumbered_pending_order_with_a_bad_cell_is_still_paired(db: Database) -> None:
    table = Table(O, 30)
    apply_sync(db, O, table.records())
    pending = pending_orders(table)[0]
    before = row_of(db, O, pending.id)
    renumbered = dataclasses.replace(
        pending, id="12345", total_amount=None, unread=frozenset({"total_amount"})
    )
    table.set(renumbered, pending.key)
    result = apply_sync(db, O, table.records())
    assert (result.counts.inserted, result.counts.updated, result.counts.missing) == (0, 1, 0)
    row = row_of(db, O, "12345")
    assert row["first_seen"] == before["first_seen"]
    assert row["total_amount"] == before["total_amount"]  # unread: kept


def test_a_recent_export_does_not_pair_by_values(db: Database) -> None:
    """Absence from a partial export proves nothing: the renumbered draft is
    new there, and the full exports that follow settle the old row."""
    table = Table(O, 30)
    apply_sync(db, O, table.records())
    pending = pending_orders(table)[0]
    renumbered = replace(pending, id="12345")
    result = apply_sync(db, O, [renumbered], mode="recent", trigger="session")
    assert (result.counts.inserted, result.counts.updated) == (1, 0)
    assert list_runs(db, O)[0]["missing"] == 0


def test_the_store_keys_prices_as_price_key_does() -> None:
    """The store's faster price key (archid.store.keys) is Price.key exactly."""
    key_of = TABLES[ExportType.PRICES].key_of
    quantities = [None, Decimal("1"), Decimal("1.00"), Decimal("1E+2"), Decimal("100")]
    quantities += [Decimal("0"), Decimal("-0"), Decimal("0.000"), Decimal("-2.50"), Decimal("7.1")]
    samples = [
        replace(base, qty_from=low, qty_to=high, price_group=group, valid_from=start)
        for base in prices(3, 0)
        for low in quantities
        for high in quantities[::3]
        for group in (None, "", "002")
        for start in (None, date(2026, 1, 1), date(2154, 12, 31))
    ]
    # Twice: the second pass reads the remembered forms.
    for record in samples + samples:
        assert key_of(record) == record.key, record
