"""A field the parser could not read keeps its stored value (issue 9:
"a bad cell costs a field, not the sync")."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from archid.records import Customer, ExportType, Invoice, Order, Record
from archid.store import TABLES, Database, UnreadFieldError, apply_sync, changes_since, list_runs
from tests.store.conftest import row_of
from tests.store.synthetic import Table, make, replace

O = ExportType.ORDERS  # noqa: E741
I = ExportType.INVOICES  # noqa: E741


def unread(record: Record, *names: str) -> Record:
    """*record* as a parser gives it when *names* could not be read."""
    blanks: dict[str, Any] = dict.fromkeys(names)
    changed: Record = dataclasses.replace(record, unread=frozenset(names), **blanks)
    return changed


def an_order(table: Table) -> Order:
    found = next(
        r
        for r in table.records()
        if isinstance(r, Order) and r.discount_percent is not None and r.total_amount is not None
    )
    assert isinstance(found, Order)
    return found


def test_a_bad_cell_keeps_the_stored_value_and_takes_the_rest(db: Database) -> None:
    table = Table(O, 40)
    apply_sync(db, O, table.records())
    order = an_order(table)
    seq = changes_since(db, 0, 10_000)[-1].seq
    bad = unread(replace(order, customer_reference="Rif. 12/26"), "discount_percent")
    table.set(bad)
    result = apply_sync(db, O, table.records())
    assert (result.counts.updated, result.counts.blanks_held) == (1, 0)
    row = row_of(db, O, order.key)
    assert row["discount_percent"] == str(order.discount_percent)  # kept, not cleared
    assert row["customer_reference"] == "Rif. 12/26"  # the rest of the record applied
    assert row["pending_blank"] is None  # unknown is not empty: no blank noted
    [entry] = changes_since(db, seq)
    assert entry.fields == ("customer_reference",)
    # The same bad cell again: nothing changes, and nothing is cleared ever.
    for _ in range(3):
        again = apply_sync(db, O, table.records())
        assert again.counts.changed == 0 and again.counts.unchanged == 40
    assert row_of(db, O, order.key)["discount_percent"] == str(order.discount_percent)


def test_after_a_bad_cell_an_empty_cell_is_still_a_blank(db: Database) -> None:
    """The fast path for unchanged records must not take an unread None for
    the stored value, nor an empty cell for an unread one."""
    table = Table(O, 40)
    apply_sync(db, O, table.records())
    order = an_order(table)
    table.set(unread(order, "total_amount"))
    apply_sync(db, O, table.records())
    table.set(order)  # readable again, same value: unchanged
    assert apply_sync(db, O, table.records()).counts.changed == 0
    table.set(unread(order, "total_amount"))
    apply_sync(db, O, table.records())
    table.set(replace(order, total_amount=None))  # now really empty
    first = apply_sync(db, O, table.records())
    assert first.counts.blanks_held == 1
    assert row_of(db, O, order.key)["pending_blank"] == '["total_amount"]'
    second = apply_sync(db, O, table.records())
    assert second.counts.updated == 1
    assert row_of(db, O, order.key)["total_amount"] is None


def test_an_unread_field_keeps_its_pending_blank_note(db: Database) -> None:
    """Empty, then unknown, then empty: the two empty exports agree."""
    table = Table(O, 40)
    apply_sync(db, O, table.records())
    order = an_order(table)
    table.set(replace(order, total_amount=None))
    apply_sync(db, O, table.records())
    table.set(unread(order, "total_amount"))
    between = apply_sync(db, O, table.records())
    assert between.counts.changed == 0
    row = row_of(db, O, order.key)
    assert (row["total_amount"], row["pending_blank"]) == (
        str(order.total_amount),
        '["total_amount"]',
    )
    table.set(replace(order, total_amount=None))
    apply_sync(db, O, table.records())
    assert row_of(db, O, order.key)["total_amount"] is None


def test_a_column_the_export_does_not_show_keeps_every_stored_value(db: Database) -> None:
    """Invoices' ID VENDITE is there only when the session shows it."""
    table = Table(I, 60)
    apply_sync(db, I, table.records())
    stored = dict(db.connection.execute("SELECT key, order_number FROM invoices"))
    assert sum(1 for value in stored.values() if value) > 40
    hidden = Table(I, 62)  # two invoices more, and no ID VENDITE column at all
    export = [unread(r, "order_number") for r in hidden.records() if isinstance(r, Invoice)]
    result = apply_sync(db, I, export)
    assert (result.counts.inserted, result.counts.updated, result.counts.unchanged) == (2, 0, 60)
    after = dict(db.connection.execute("SELECT key, order_number FROM invoices"))
    assert {k: after[k] for k in stored} == stored
    new = [record.key for record in export[60:]]
    assert [after[k] for k in new] == [None, None]  # unknown on insert: NULL
    assert list_runs(db, I)[0]["blanks_held"] == 0
    # When the column is back, the new invoices get their order numbers.
    back = apply_sync(db, I, hidden.records())
    assert back.counts.updated == 2
    assert db.read_records(I) == hidden.by_key()


def test_a_key_or_required_field_cannot_be_unread(db: Database) -> None:
    table = Table(O, 10)
    order = an_order(table)
    for names, why in (
        (("order_number",), "order_number (a key field)"),
        (("created_at",), "created_at (required)"),
        (("colour",), "colour (not a field)"),
    ):
        bad = dataclasses.replace(order, unread=frozenset(names))
        with pytest.raises(UnreadFieldError, match=rf"orders record .*{re.escape(why)}"):
            apply_sync(db, O, [*table.records(), bad])
    assert list_runs(db) == []  # refused before anything was written


def grid_row(record: Record, shown: frozenset[str], **changes: Any) -> Record:
    """*record* as the order form reads it from the portal's customer grid,
    which shows only the *shown* fields: every other one unread."""
    hidden = {f.name for f in dataclasses.fields(record)} - shown - {"unread"}
    return unread(replace(record, **changes), *sorted(hidden))


def test_a_recent_apply_of_a_few_grid_columns_keeps_the_rest(db: Database) -> None:
    """The order form's fast path: customers read from the portal's grid,
    with some columns only, applied as a recent export."""
    C = ExportType.CUSTOMERS
    table = Table(C, 60)
    apply_sync(db, C, table.records())
    seq = changes_since(db, 0, 10_000)[-1].seq
    stored = {key: row_of(db, C, key) for key in table.by_key()}
    shown = frozenset({"id", "name", "city", "phone"})
    first, second, third = [
        r for r in table.records() if isinstance(r, Customer) and r.city and r.phone
    ][:3]
    new = make(C, 500)  # a customer the mirror does not have yet
    rows = [
        grid_row(first, shown, phone="+39 06 0000000"),  # one shown field changed
        grid_row(second, shown),  # as stored
        grid_row(third, shown, city=None),  # a shown field now empty
        grid_row(new, shown),
    ]
    result = apply_sync(db, C, rows, mode="recent", trigger="session", requested_by="agente.b")
    assert result.outcome == "ok"
    assert (result.counts.inserted, result.counts.updated, result.counts.unchanged) == (1, 1, 2)
    assert (result.counts.deleted, result.counts.missing, result.counts.blanks_held) == (0, 0, 1)
    # No deletion, no "missing" marking: the 57 customers not in the grid are untouched.
    assert db.live_count(C) == 61
    untouched = db.connection.execute(
        "SELECT count(*) FROM customers WHERE missing_count = 0 AND deleted_at IS NULL"
    ).fetchall()
    assert untouched == [(61,)]
    # Updated: the shown field changed, every hidden one kept its stored value.
    after = row_of(db, C, first.key)
    expected = {**stored[first.key], "phone": "+39 06 0000000"}
    for name in ("content_hash", "last_changed", "last_seen"):
        expected.pop(name), after.pop(name)
    assert after == expected
    assert row_of(db, C, second.key) == stored[second.key] | {
        "last_seen": row_of(db, C, second.key)["last_seen"]
    }
    # An empty shown field is a blank held, as in any export.
    held = row_of(db, C, third.key)
    assert (held["city"], held["pending_blank"]) == (stored[third.key]["city"], '["city"]')
    # Inserted: the shown fields, NULL for every hidden one.
    inserted = row_of(db, C, new.key)
    for name in TABLES[C].field_names:
        assert inserted[name] == (getattr(new, name) if name in shown else None), name
    assert inserted["pending_blank"] is None
    feed = changes_since(db, seq)
    assert [(e.key, e.op, e.fields) for e in feed] == [
        (new.key, "insert", ()),
        (first.key, "update", ("phone",)),
    ]
    # The next full export fills the hidden fields in with no blank noted.
    table.set(make(C, 500))
    full = apply_sync(db, C, table.records())
    assert full.counts.updated == 2 and full.counts.blanks_held == 0  # new one, first's phone
    assert db.read_records(C) == table.by_key()
