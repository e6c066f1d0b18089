"""The apply's rules, over real database files, driven by synthetic exports
edited between syncs."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from archid.config import GuardConfig
from archid.records import Customer, ExportType, Order, Product, Record, data_fields, record_key
from archid.store import (
    TABLES,
    Database,
    ExportTypeError,
    RunMeta,
    RunResult,
    apply_sync,
    changes_since,
    list_runs,
    open_database,
)
from tests.store.conftest import StepClock, count, row_of, snapshot
from tests.store.synthetic import Table, many, prices, replace

C = ExportType.CUSTOMERS
P = ExportType.PRODUCTS
O = ExportType.ORDERS  # noqa: E741


def sync(db: Database, table: Table, **kwargs: Any) -> RunResult:
    return apply_sync(db, table.export_type, table.records(), **kwargs)


def customer(record: Record) -> Customer:
    assert isinstance(record, Customer)
    return record


def order_with_total(table: Table) -> Order:
    found = next(r for r in table.records() if isinstance(r, Order) and r.total_amount)
    assert isinstance(found, Order)
    return found


@pytest.mark.parametrize("export_type", list(ExportType))
def test_first_load_mirrors_the_export(db: Database, export_type: ExportType) -> None:
    table = Table(export_type, 80)
    result = sync(db, table)
    expected = table.by_key()
    assert result.outcome == "ok"
    assert result.counts.inserted == result.counts.parsed == len(expected)
    assert db.read_records(export_type) == expected
    # keyed by the record's stable key, nothing else
    keys = {k for (k,) in db.connection.execute(f'SELECT key FROM "{export_type.value}"')}
    assert keys == set(expected)
    seen = {k for (k,) in db.connection.execute(f'SELECT key FROM "{export_type.value}_seen"')}
    assert seen == set(expected)
    assert [e.op for e in changes_since(db, 0, 100_000)] == ["insert"] * len(expected)


def test_the_internal_id_is_a_column_not_the_key(db: Database) -> None:
    table = Table(O, 30)
    sync(db, table)
    numbered = next(r for r in table.records() if isinstance(r, Order) and r.order_number)
    assert isinstance(numbered, Order) and numbered.order_number is not None
    row = row_of(db, O, numbered.order_number)
    assert (row["key"], row["id"]) == (numbered.order_number, numbered.id)
    pending = next(r for r in table.records() if isinstance(r, Order) and not r.order_number)
    assert row_of(db, O, pending.id)["order_number"] is None


def test_columns_are_typed(db: Database) -> None:
    table = Table(P, 30)
    sync(db, table)
    product = next(r for r in table.records() if isinstance(r, Product) and r.purchase_price)
    assert isinstance(product, Product)
    row = row_of(db, P, product.article)
    assert row["purchase_price"] == str(product.purchase_price)  # TEXT, never REAL
    assert row["stopped"] in (0, 1, None)
    types = dict(
        (name, kind) for _, name, kind, *_ in db.connection.execute("PRAGMA table_info(products)")
    )
    assert types["key"] == "TEXT"
    assert types["purchase_price"] == "TEXT"
    assert types["stopped"] == "INTEGER"
    assert types["group"] == "TEXT"
    assert types["content_hash"] == "BLOB"
    assert "unread" not in types


def test_unchanged_resync_writes_only_last_seen_and_the_run(db: Database) -> None:
    table = Table(C, 60)
    sync(db, table)
    key = record_key(table.records()[0])
    before = row_of(db, C, key)
    seq = changes_since(db, 0, 100_000)[-1].seq
    result = sync(db, table)
    after = row_of(db, C, key)
    assert result.counts.unchanged == 60
    assert result.counts.changed == 0
    assert (result.first_seq, result.last_seq) == (None, None)
    assert changes_since(db, seq) == []
    assert after["last_seen"] > before["last_seen"]  # type: ignore[operator]
    assert {k: v for k, v in after.items() if k != "last_seen"} == {
        k: v for k, v in before.items() if k != "last_seen"
    }


def test_a_cold_process_sees_the_same(db_path: Path, clock: StepClock) -> None:
    table = Table(O, 120)
    with open_database(db_path, clock=clock) as first:
        sync(first, table)
    old = table.by_key()
    table.mutate(1, 12)
    new = table.by_key()
    with open_database(db_path, clock=clock) as second:  # no in-process memory
        result = sync(second, table)
        assert second.read_records(O) == new | {k: old[k] for k in set(old) - set(new)}
        assert result.counts.inserted == len(set(new) - set(old))
        assert result.counts.updated == sum(1 for k in set(old) & set(new) if old[k] != new[k])


def test_mutations_are_applied_and_fed(db: Database) -> None:
    table = Table(C, 200)
    sync(db, table)
    seq = changes_since(db, 0, 100_000)[-1].seq
    old = table.by_key()
    table.mutate(5, 30)
    result = sync(db, table)
    new = table.by_key()
    added = set(new) - set(old)
    deleted = set(old) - set(new)
    updated = {k for k in set(old) & set(new) if old[k] != new[k]}
    assert added and deleted and updated
    feed = changes_since(db, seq)
    assert {e.key for e in feed if e.op == "insert"} == added
    assert {e.key for e in feed if e.op == "update"} == updated
    assert not [e for e in feed if e.op == "delete"]  # absent once: not yet
    assert all(e.old_key is None for e in feed)
    assert result.counts.missing == len(deleted)
    stored = db.read_records(C)
    for key in updated:
        assert stored[key] == new[key]
        entry = next(e for e in feed if e.key == key)
        assert set(entry.fields) == {
            f.name
            for f in data_fields(Customer)
            if getattr(old[key], f.name) != getattr(new[key], f.name)
        }
    for key in deleted:
        assert key in stored  # still live until a second full export agrees
        assert row_of(db, C, key)["missing_count"] == 1


def test_delete_needs_two_consecutive_full_exports(db: Database) -> None:
    table = Table(C, 40)
    sync(db, table)
    gone = record_key(table.records()[3])
    table.delete(gone)
    first = sync(db, table)
    assert (first.counts.deleted, first.counts.missing) == (0, 1)
    assert row_of(db, C, gone)["deleted_at"] is None
    last_seen = row_of(db, C, gone)["last_seen"]
    # a recent export in between neither deletes nor resets the count
    recent = apply_sync(db, C, table.records()[:2], mode="recent", trigger="session")
    assert recent.counts.deleted == 0
    second = sync(db, table)
    assert second.counts.deleted == 1
    row = row_of(db, C, gone)
    assert row["deleted_at"] is not None
    assert row["last_seen"] == last_seen  # last seen before it went missing
    assert gone not in db.read_records(C)
    assert gone in db.read_records(C, include_deleted=True)
    feed = changes_since(db, 0, 100_000)
    assert feed[-1].key == gone and feed[-1].op == "delete"
    assert feed[-1].run_id == second.run_id


def test_the_process_forgets_rows_a_full_export_lacks(db: Database) -> None:
    # The fast path's cache of stored records holds what the last full
    # export held, not every record ever seen: no growth with the churn.
    table = Table(C, 40)
    sync(db, table)
    for _ in range(3):
        table.delete(record_key(table.records()[0]))
        table.add()
        sync(db, table)
        assert db.seen_cache[C].keys() == table.by_key().keys()
    apply_sync(db, C, table.records()[:2], mode="recent", trigger="session")
    assert db.seen_cache[C].keys() == table.by_key().keys()


def test_a_row_back_before_the_second_export_is_not_deleted(db: Database) -> None:
    table = Table(C, 40)
    sync(db, table)
    record = table.records()[3]
    key = record_key(record)
    table.delete(key)
    sync(db, table)
    table.set(record)
    back = sync(db, table)
    assert back.counts.changed == 0
    assert row_of(db, C, key)["missing_count"] == 0
    table.delete(key)
    again = sync(db, table)  # absent once more: the count starts over
    assert (again.counts.deleted, again.counts.missing) == (0, 1)


def test_a_deleted_row_that_reappears_is_restored(db: Database) -> None:
    table = Table(C, 40)
    sync(db, table)
    record = table.records()[4]
    key = record_key(record)
    table.delete(key)
    sync(db, table)
    sync(db, table)
    assert key not in db.read_records(C)
    table.set(replace(record, phone="+39 000 1234567"))
    result = sync(db, table)
    assert result.counts.restored == 1
    assert db.read_records(C)[key] == table.get(key)
    row = row_of(db, C, key)
    assert (row["deleted_at"], row["missing_count"], row["missing_since_run"]) == (None, 0, None)
    assert changes_since(db, 0, 100_000)[-1].op == "restore"


def test_recent_mode_inserts_and_updates_but_never_deletes(db: Database) -> None:
    table = Table(C, 40)
    sync(db, table)
    records = table.records()
    changed = replace(customer(records[0]), phone="+39 02 0000000")
    new = replace(customer(records[1]), id="999999", account="99999")
    result = apply_sync(db, C, [changed, new], mode="recent", trigger="session")
    assert (result.counts.updated, result.counts.inserted, result.counts.deleted) == (1, 1, 0)
    assert result.counts.missing == 0
    stored = db.read_records(C)
    assert len(stored) == 41  # nobody else was touched
    assert stored[record_key(changed)] == changed
    runs = list_runs(db, C)
    assert (runs[0]["mode"], runs[0]["trigger"]) == ("recent", "session")
    # an empty recent export is fine and changes nothing
    empty = apply_sync(db, C, [], mode="recent", trigger="manual")
    assert empty.outcome == "ok" and empty.counts.changed == 0


def test_a_blank_is_cleared_only_when_two_exports_agree(db: Database) -> None:
    table = Table(O, 40)
    sync(db, table)
    order = order_with_total(table)
    key, good = order.key, order.total_amount
    table.update(key, total_amount=None)  # a transient blank
    first = sync(db, table)
    assert first.counts.blanks_held == 1 and first.counts.updated == 0
    row = row_of(db, O, key)
    assert row["total_amount"] == str(good)
    assert row["pending_blank"] == '["total_amount"]'
    table.update(key, total_amount=good)  # it was transient
    sync(db, table)
    row = row_of(db, O, key)
    assert (row["total_amount"], row["pending_blank"]) == (str(good), None)
    # blank in two consecutive exports: cleared by the second
    table.update(key, total_amount=None)
    sync(db, table)
    assert db.read_records(O)[key] == replace(table.get(key), total_amount=good)
    seq = changes_since(db, 0, 100_000)[-1].seq
    second = sync(db, table)
    assert second.counts.updated == 1
    assert db.read_records(O)[key] == table.get(key)
    assert row_of(db, O, key)["pending_blank"] is None
    [entry] = changes_since(db, seq)
    assert (entry.op, entry.fields) == ("update", ("total_amount",))


def test_a_blank_with_other_changes_keeps_the_value_and_takes_the_rest(db: Database) -> None:
    table = Table(O, 40)
    sync(db, table)
    order = order_with_total(table)
    table.update(order.key, total_amount=None, customer_reference="Rif. 9/26")
    result = sync(db, table)
    assert (result.counts.updated, result.counts.blanks_held) == (1, 1)
    stored = db.read_records(O)[order.key]
    assert isinstance(stored, Order)
    assert (stored.total_amount, stored.customer_reference) == (order.total_amount, "Rif. 9/26")
    assert changes_since(db, 0, 100_000)[-1].fields == ("customer_reference",)


def test_decimals_are_compared_by_value(db: Database) -> None:
    table = Table(O, 40)
    sync(db, table)
    order = order_with_total(table)
    assert order.total_amount is not None
    wider = order.total_amount.quantize(Decimal("0.0001"))
    assert str(wider) != str(order.total_amount)
    table.update(order.key, total_amount=wider)
    result = sync(db, table)
    assert result.counts.changed == 0
    assert result.counts.unchanged == 40
    assert row_of(db, O, order.key)["total_amount"] == str(order.total_amount)


def _guarded(db: Database, records: list[Record], reason: str, **kwargs: Any) -> None:
    before = snapshot(db)
    result = apply_sync(db, P, records, **kwargs)
    assert result.outcome == "rejected"
    assert result.reason is not None and reason in result.reason
    assert snapshot(db) == before  # nothing but the run's row
    run = list_runs(db, P)[0]
    assert (run["outcome"], run["error_class"]) == ("rejected", "ExportRejected")
    assert run["error_message"] == result.reason
    assert run["inserted"] == run["updated"] == run["deleted"] == 0


def test_guard_rejects_an_empty_export(db: Database) -> None:
    _guarded(db, [], "empty export")  # also on a first load
    sync(db, Table(P, 30))
    _guarded(db, [], "empty export")


def test_guard_rejects_the_shrunken_products_export(db: Database) -> None:
    """The spec's case: a saved filter shrank 4,540 products to 419."""
    table = Table(P, 4540)
    products = table.records()
    sync(db, table)
    _guarded(db, products[:419], "shrunken export")
    # twice in a row changes nothing either: nothing is ever marked missing
    _guarded(db, products[:419], "shrunken export")
    assert db.live_count(P) == len(products)


def test_guard_rejects_too_many_deletions(db: Database) -> None:
    table = Table(P, 100)
    sync(db, table)
    products = table.records()
    keep = products[:60]
    loose = GuardConfig(min_export_share=0.5, max_delete_share=0.3)
    first = apply_sync(db, P, keep, guard=loose)  # marks 40 % missing, deletes none
    assert first.outcome == "ok" and first.counts.missing == 40
    _guarded(db, keep, "would delete", guard=loose)
    lenient = GuardConfig(min_export_share=0.5, max_delete_share=0.5)
    assert apply_sync(db, P, keep, guard=lenient).counts.deleted == 40


def test_first_load_is_exempt_from_the_shares(db: Database) -> None:
    result = apply_sync(db, P, many(P, 1))
    assert result.outcome == "ok" and result.counts.inserted == 1


def test_pending_orders_are_keyed_by_their_id(db: Database) -> None:
    """Spec section 3, item 7: drafts with an empty number must not collide."""
    orders = [r for r in many(O, 30) if isinstance(r, Order)]
    drafts = [dataclasses.replace(o, order_number=None) for o in orders[:3]]
    result = apply_sync(db, O, drafts + orders[3:])
    assert result.counts.inserted == len(orders)
    stored = db.read_records(O)
    assert [stored[d.id] for d in drafts] == drafts  # none overwrote another
    assert count(db, "SELECT count(*) FROM orders WHERE order_number IS NULL") >= 3


def test_duplicate_keys_keep_the_first_and_count_as_dropped(db: Database) -> None:
    records = many(C, 30)
    twin = replace(customer(records[0]), phone="+39 1")
    result = apply_sync(db, C, [*records, twin], meta=RunMeta(dropped=2))
    assert result.counts.dropped == 3
    assert result.counts.parsed == len(records) + 1
    assert db.read_records(C)[record_key(records[0])] == records[0]


def test_records_of_another_type_are_refused_before_anything(db: Database) -> None:
    with pytest.raises(ExportTypeError):
        apply_sync(db, C, many(P, 3))
    assert list_runs(db) == []
    with pytest.raises(ValueError, match="mode"):
        apply_sync(db, C, many(C, 3), mode="partial")  # type: ignore[arg-type]


def test_every_table_matches_its_records(db: Database) -> None:
    for spec in TABLES.values():
        columns = [r[1] for r in db.connection.execute(f'PRAGMA table_info("{spec.name}")')]
        fields = [f.name for f in data_fields(spec.record_type)]
        assert columns[: len(fields) + 1] == ["key", *fields]
        primary = [r[1] for r in db.connection.execute(f'PRAGMA table_info("{spec.name}")') if r[5]]
        assert primary == ["key"]


def test_last_seen_on_a_large_table(db: Database) -> None:
    """Above a few thousand rows last_seen is set by one statement: it must
    still skip the rows the export lacked."""
    records = prices(5000, 0)
    apply_sync(db, ExportType.PRICES, records)
    first = dict(db.connection.execute("SELECT key, last_seen FROM prices_seen"))
    result = apply_sync(db, ExportType.PRICES, records[10:])
    assert result.counts.missing == 10 and result.counts.unchanged == 4990
    second = dict(db.connection.execute("SELECT key, last_seen FROM prices_seen"))
    assert set(second) == set(first)  # one _seen row per row, always
    for record in records[:10]:
        assert second[record.key] == first[record.key]
    assert all(second[r.key] > first[r.key] for r in records[10:])


def test_a_failure_before_commit_leaves_nothing(db: Database) -> None:
    """The daemon's cancel path: every row is written, then the run is refused."""

    class Cancelled(Exception):
        pass

    table = Table(C, 40)
    sync(db, table)
    before = snapshot(db)
    written: list[int] = []

    def refuse() -> None:
        # Inside the transaction, the new values are there to be seen.
        written.append(count(db, "SELECT count(*) FROM customers WHERE phone = '000'"))
        raise Cancelled

    changed = [replace(customer(r), phone="000") for r in table.records()]
    with pytest.raises(Cancelled):
        apply_sync(db, C, changed, before_commit=refuse)
    assert written == [len(changed)]
    assert snapshot(db) == before
    assert [run["outcome"] for run in list_runs(db, C, 2)] == ["failed", "ok"]


def test_failpoints_name_only_known_drills() -> None:
    from archid.daemon import failpoints

    assert failpoints.armed({}) == frozenset()
    assert failpoints.armed({"ARCHID_FAILPOINTS": " stall-before-commit ,"}) == {
        failpoints.STALL_BEFORE_COMMIT
    }
    with pytest.raises(ValueError, match="unknown stall-somewhere"):
        failpoints.armed({"ARCHID_FAILPOINTS": "stall-somewhere"})
