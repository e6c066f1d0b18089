"""The apply's rules, over real database files, driven by the simulator's
ground truth mutated between syncs."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from archid.config import GuardConfig
from archid.records import Customer, ExportType, Order, Product, Record, record_key
from archid.sim.dataset import Dataset
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
from tests.store.conftest import StepClock, row_of, snapshot, truth
from tests.store.synthetic import prices

C = ExportType.CUSTOMERS
P = ExportType.PRODUCTS
O = ExportType.ORDERS  # noqa: E741


def sync(db: Database, dataset: Dataset, export_type: ExportType, **kwargs: Any) -> RunResult:
    return apply_sync(db, export_type, dataset.records(export_type), **kwargs)


def customer(record: Record) -> Customer:
    assert isinstance(record, Customer)
    return record


@pytest.mark.parametrize("export_type", list(ExportType))
def test_first_load_mirrors_the_ground_truth(
    db: Database, dataset: Dataset, export_type: ExportType
) -> None:
    result = sync(db, dataset, export_type)
    expected = truth(dataset, export_type)
    assert result.outcome == "ok"
    assert result.counts.inserted == result.counts.parsed == len(expected)
    assert db.read_records(export_type) == expected
    # keyed by the record's canonical key, nothing else
    keys = {k for (k,) in db.connection.execute(f'SELECT id FROM "{export_type.value}"')}
    assert keys == set(expected)
    assert [e.op for e in changes_since(db, 0, 100_000)] == ["insert"] * len(expected)


def test_columns_are_typed(db: Database, dataset: Dataset) -> None:
    sync(db, dataset, P)
    product = next(r for r in dataset.records(P) if isinstance(r, Product) and r.purchase_price)
    assert isinstance(product, Product)
    row = row_of(db, P, product.id)
    assert row["purchase_price"] == str(product.purchase_price)  # TEXT, never REAL
    assert row["stopped"] in (0, 1, None)
    types = dict(
        (name, kind) for _, name, kind, *_ in db.connection.execute("PRAGMA table_info(products)")
    )
    assert types["purchase_price"] == "TEXT"
    assert types["stopped"] == "INTEGER"
    assert types["group"] == "TEXT"
    assert types["content_hash"] == "BLOB"


def test_unchanged_resync_writes_only_last_seen_and_the_run(db: Database, dataset: Dataset) -> None:
    sync(db, dataset, C)
    key = record_key(dataset.records(C)[0])
    before = row_of(db, C, key)
    seq = changes_since(db, 0, 100_000)[-1].seq
    result = sync(db, dataset, C)
    after = row_of(db, C, key)
    assert result.counts.unchanged == dataset.count(C)
    assert result.counts.changed == 0
    assert (result.first_seq, result.last_seq) == (None, None)
    assert changes_since(db, seq) == []
    assert after["last_seen"] > before["last_seen"]  # type: ignore[operator]
    assert {k: v for k, v in after.items() if k != "last_seen"} == {
        k: v for k, v in before.items() if k != "last_seen"
    }


def test_a_cold_process_sees_the_same(db_path: Path, clock: StepClock, dataset: Dataset) -> None:
    with open_database(db_path, clock=clock) as first:
        sync(first, dataset, O)
    changes = dataset.mutate(O, 1, 12)
    with open_database(db_path, clock=clock) as second:  # no in-process memory
        result = sync(second, dataset, O)
        assert second.read_records(O) | {
            c.key: c.before for c in changes if c.op == "delete" and c.before
        } == truth(dataset, O) | {c.key: c.before for c in changes if c.op == "delete" and c.before}
        adds = sum(1 for c in changes if c.op == "add")
        assert result.counts.inserted == adds


def test_mutations_are_applied_and_fed(db: Database, dataset: Dataset) -> None:
    for export_type in ExportType:
        sync(db, dataset, export_type)
    seq = changes_since(db, 0, 100_000)[-1].seq
    old = truth(dataset, C)
    changes = dataset.mutate(C, 5, 30)
    result = sync(db, dataset, C)
    new = truth(dataset, C)
    added = set(new) - set(old)
    deleted = set(old) - set(new)
    updated = {k for k in set(old) & set(new) if old[k] != new[k]}
    assert added and deleted and updated
    feed = changes_since(db, seq)
    assert {e.key for e in feed if e.op == "insert"} == added
    assert {e.key for e in feed if e.op == "update"} == updated
    assert not [e for e in feed if e.op == "delete"]  # absent once: not yet
    assert result.counts.missing == len(deleted)
    assert len(changes) == 30
    stored = db.read_records(C)
    expected = new
    for key in updated:
        assert stored[key] == expected[key]
        entry = next(e for e in feed if e.key == key)
        before = old[key]
        assert set(entry.fields) == {
            f.name
            for f in dataclasses.fields(Customer)
            if getattr(before, f.name) != getattr(expected[key], f.name)
        }
    for key in deleted:
        assert key in stored  # still live until a second full export agrees
        assert row_of(db, C, key)["missing_count"] == 1


def test_delete_needs_two_consecutive_full_exports(db: Database, dataset: Dataset) -> None:
    sync(db, dataset, C)
    gone = record_key(dataset.records(C)[3])
    dataset.delete(C, gone)
    first = sync(db, dataset, C)
    assert (first.counts.deleted, first.counts.missing) == (0, 1)
    assert row_of(db, C, gone)["deleted_at"] is None
    last_seen = row_of(db, C, gone)["last_seen"]
    # a recent export in between neither deletes nor resets the count
    recent = apply_sync(db, C, dataset.records(C)[:2], mode="recent", trigger="session")
    assert recent.counts.deleted == 0
    second = sync(db, dataset, C)
    assert second.counts.deleted == 1
    row = row_of(db, C, gone)
    assert row["deleted_at"] is not None
    assert row["last_seen"] == last_seen  # last seen before it went missing
    assert gone not in db.read_records(C)
    assert gone in db.read_records(C, include_deleted=True)
    feed = changes_since(db, 0, 100_000)
    assert feed[-1].key == gone and feed[-1].op == "delete"
    assert feed[-1].run_id == second.run_id


def test_a_row_back_before_the_second_export_is_not_deleted(db: Database, dataset: Dataset) -> None:
    sync(db, dataset, C)
    record = dataset.records(C)[3]
    key = record_key(record)
    dataset.delete(C, key)
    sync(db, dataset, C)
    dataset.add(C, record)
    back = sync(db, dataset, C)
    assert back.counts.changed == 0
    assert row_of(db, C, key)["missing_count"] == 0
    dataset.delete(C, key)
    again = sync(db, dataset, C)  # absent once more: the count starts over
    assert (again.counts.deleted, again.counts.missing) == (0, 1)


def test_a_deleted_row_that_reappears_is_restored(db: Database, dataset: Dataset) -> None:
    sync(db, dataset, C)
    record = dataset.records(C)[4]
    key = record_key(record)
    dataset.delete(C, key)
    sync(db, dataset, C)
    sync(db, dataset, C)
    assert key not in db.read_records(C)
    dataset.add(C, dataclasses.replace(customer(record), phone="+39 000 1234567"))
    result = sync(db, dataset, C)
    assert result.counts.restored == 1
    assert db.read_records(C)[key] == dataset.get(C, key)
    row = row_of(db, C, key)
    assert (row["deleted_at"], row["missing_count"], row["missing_since_run"]) == (None, 0, None)
    assert changes_since(db, 0, 100_000)[-1].op == "restore"


def test_recent_mode_inserts_and_updates_but_never_deletes(db: Database, dataset: Dataset) -> None:
    sync(db, dataset, C)
    records = dataset.records(C)
    changed = dataclasses.replace(customer(records[0]), phone="+39 02 0000000")
    new = dataclasses.replace(customer(records[1]), id="999999", profile="99999")
    result = apply_sync(db, C, [changed, new], mode="recent", trigger="session")
    assert (result.counts.updated, result.counts.inserted, result.counts.deleted) == (1, 1, 0)
    assert result.counts.missing == 0
    stored = db.read_records(C)
    assert len(stored) == dataset.count(C) + 1  # nobody else was touched
    assert stored[changed.id] == changed
    runs = list_runs(db, C)
    assert (runs[0]["mode"], runs[0]["trigger"]) == ("recent", "session")
    # an empty recent export is fine and changes nothing
    empty = apply_sync(db, C, [], mode="recent", trigger="manual")
    assert empty.outcome == "ok" and empty.counts.changed == 0


def test_a_blank_is_cleared_only_when_two_exports_agree(db: Database, dataset: Dataset) -> None:
    sync(db, dataset, O)
    order = next(r for r in dataset.records(O) if isinstance(r, Order) and r.total_amount)
    assert isinstance(order, Order)
    good = order.total_amount
    dataset.update(O, order.id, total_amount=None)  # a transient blank
    first = sync(db, dataset, O)
    assert first.counts.blanks_held == 1 and first.counts.updated == 0
    row = row_of(db, O, order.id)
    assert row["total_amount"] == str(good)
    assert row["pending_blank"] == '["total_amount"]'
    dataset.update(O, order.id, total_amount=good)  # it was transient
    sync(db, dataset, O)
    row = row_of(db, O, order.id)
    assert (row["total_amount"], row["pending_blank"]) == (str(good), None)
    # blank in two consecutive exports: cleared by the second
    dataset.update(O, order.id, total_amount=None)
    sync(db, dataset, O)
    current = dataset.get(O, order.id)
    assert isinstance(current, Order)
    assert db.read_records(O)[order.id] == dataclasses.replace(current, total_amount=good)
    seq = changes_since(db, 0, 100_000)[-1].seq
    second = sync(db, dataset, O)
    assert second.counts.updated == 1
    assert db.read_records(O)[order.id] == dataset.get(O, order.id)
    assert row_of(db, O, order.id)["pending_blank"] is None
    [entry] = changes_since(db, seq)
    assert (entry.op, entry.fields) == ("update", ("total_amount",))


def test_a_blank_with_other_changes_keeps_the_value_and_takes_the_rest(
    db: Database, dataset: Dataset
) -> None:
    sync(db, dataset, O)
    order = next(r for r in dataset.records(O) if isinstance(r, Order) and r.total_amount)
    assert isinstance(order, Order)
    dataset.update(O, order.id, total_amount=None, customer_reference="Rif. 9/26")
    result = sync(db, dataset, O)
    assert (result.counts.updated, result.counts.blanks_held) == (1, 1)
    stored = db.read_records(O)[order.id]
    assert isinstance(stored, Order)
    assert (stored.total_amount, stored.customer_reference) == (order.total_amount, "Rif. 9/26")
    assert changes_since(db, 0, 100_000)[-1].fields == ("customer_reference",)


def test_decimals_are_compared_by_value(db: Database, dataset: Dataset) -> None:
    sync(db, dataset, O)
    order = next(r for r in dataset.records(O) if isinstance(r, Order) and r.total_amount)
    assert isinstance(order, Order) and order.total_amount is not None
    wider = order.total_amount.quantize(Decimal("0.0001"))
    dataset.update(O, order.id, total_amount=wider)
    result = sync(db, dataset, O)
    assert result.counts.changed == 0
    assert row_of(db, O, order.id)["total_amount"] == str(order.total_amount)


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


def test_guard_rejects_an_empty_export(db: Database, dataset: Dataset) -> None:
    _guarded(db, [], "empty export")  # also on a first load
    sync(db, dataset, P)
    _guarded(db, [], "empty export")


def test_guard_rejects_the_shrunken_products_export(db: Database) -> None:
    """The spec's case: a saved filter shrank 4,540 products to 419."""
    dataset = Dataset.generate(3, 1.0)
    products = dataset.records(P)
    assert len(products) > 4000
    sync(db, dataset, P)
    _guarded(db, products[:419], "shrunken export")
    # twice in a row changes nothing either: nothing is ever marked missing
    _guarded(db, products[:419], "shrunken export")
    assert db.live_count(P) == len(products)


def test_guard_rejects_too_many_deletions(db: Database, dataset: Dataset) -> None:
    sync(db, dataset, P)
    products = dataset.records(P)
    keep = products[: int(len(products) * 0.6)]
    loose = GuardConfig(min_export_share=0.5, max_delete_share=0.3)
    first = apply_sync(db, P, keep, guard=loose)  # marks 40 % missing, deletes none
    assert first.outcome == "ok" and first.counts.missing == len(products) - len(keep)
    _guarded(db, keep, "would delete", guard=loose)
    lenient = GuardConfig(min_export_share=0.5, max_delete_share=0.5)
    assert apply_sync(db, P, keep, guard=lenient).counts.deleted == len(products) - len(keep)


def test_first_load_is_exempt_from_the_shares(db: Database, dataset: Dataset) -> None:
    result = apply_sync(db, P, dataset.records(P)[:1])
    assert result.outcome == "ok" and result.counts.inserted == 1


def test_drafts_without_a_number_are_keyed_by_their_id(db: Database, dataset: Dataset) -> None:
    orders = [r for r in dataset.records(O) if isinstance(r, Order)]
    drafts = [dataclasses.replace(o, sales_id=None) for o in orders[:3]]
    result = apply_sync(db, O, drafts + orders[3:])
    assert result.counts.inserted == len(orders)
    stored = db.read_records(O)
    assert [stored[d.id] for d in drafts] == drafts  # none overwrote another
    count = db.connection.execute("SELECT count(*) FROM orders WHERE sales_id IS NULL")
    assert count.fetchall()[0][0] >= 3


def test_duplicate_keys_keep_the_first_and_count_as_dropped(db: Database, dataset: Dataset) -> None:
    records = dataset.records(C)
    twin = dataclasses.replace(customer(records[0]), phone="+39 1")
    result = apply_sync(db, C, [*records, twin], meta=RunMeta(dropped=2))
    assert result.counts.dropped == 3
    assert result.counts.parsed == len(records) + 1
    assert db.read_records(C)[record_key(records[0])] == records[0]


def test_records_of_another_type_are_refused_before_anything(
    db: Database, dataset: Dataset
) -> None:
    with pytest.raises(ExportTypeError):
        apply_sync(db, C, dataset.records(P))
    assert list_runs(db) == []
    with pytest.raises(ValueError, match="mode"):
        apply_sync(db, C, dataset.records(C), mode="partial")  # type: ignore[arg-type]


def test_every_table_matches_its_records(db: Database) -> None:
    for spec in TABLES.values():
        columns = [r[1] for r in db.connection.execute(f'PRAGMA table_info("{spec.name}")')]
        assert columns[: len(spec.field_names)] == list(spec.field_names)


def test_last_seen_on_a_large_table(db: Database) -> None:
    """Above a few thousand rows last_seen is set by one statement: it must
    still skip the rows the export lacked."""
    records = prices(5000, 0)
    apply_sync(db, ExportType.PRICES, records)
    first = dict(db.connection.execute("SELECT id, last_seen FROM prices_seen"))
    result = apply_sync(db, ExportType.PRICES, records[10:])
    assert result.counts.missing == 10 and result.counts.unchanged == 4990
    second = dict(db.connection.execute("SELECT id, last_seen FROM prices_seen"))
    assert set(second) == set(first)  # one _seen row per row, always
    for record in records[:10]:
        assert second[record.id] == first[record.id]
    assert all(second[r.id] > first[r.id] for r in records[10:])


def test_a_failure_before_commit_leaves_nothing(db: Database, dataset: Dataset) -> None:
    """The daemon's cancel path: every row is written, then the run is refused."""

    class Cancelled(Exception):
        pass

    sync(db, dataset, C)
    before = snapshot(db)
    written: list[int] = []

    def refuse() -> None:
        # Inside the transaction, the new values are there to be seen.
        written.append(
            db.connection.execute("SELECT count(*) FROM customers WHERE phone = '000'").fetchall()[
                0
            ][0]
        )
        raise Cancelled

    changed = [dataclasses.replace(customer(r), phone="000") for r in dataset.records(C)]
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
