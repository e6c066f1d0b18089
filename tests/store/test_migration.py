"""Migration 3 carries a real version-2 database over to stable keys and
spec v2's field names, losing no row, no history and no feed continuity.

The version-2 file is built here from the old code's own DDL
(``v2_schema.sql``, dumped from a database that code created) and rows
written by hand as that code stored them: nothing of the old code is
imported, so the test does not depend on what the code of the day thinks
version 2 was.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import apsw
import pytest

from archid.records import Customer, Ddt, ExportType, Invoice, Order, Price, Product, Record
from archid.store import (
    SCHEMA_VERSION,
    TABLES,
    Database,
    apply_sync,
    changes_since,
    latest_seq,
    list_runs,
    open_database,
)
from archid.store.migrations import user_version
from archid.store.schema import row_hash
from tests.store.conftest import StepClock, row_of

V2_SCHEMA = Path(__file__).with_name("v2_schema.sql")

T0, T1, T2, T3 = (f"2026-01-{day:02d}T08:00:00.000Z" for day in (10, 11, 12, 13))


def insert(c: apsw.Connection, table: str, values: dict[str, Any], **book: Any) -> None:
    """A version-2 row as the old apply wrote it, with its ``_seen`` row."""
    row = {**values, "content_hash": b"\x00" * 16, "first_seen": T0, "last_changed": T0}
    row |= {"deleted_at": None, "pending_blank": None, "missing_count": 0}
    row |= {"missing_since_run": None}
    last_seen = book.pop("last_seen", T3)
    row |= book
    names = ", ".join(f'"{name}"' for name in row)
    c.execute(
        f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(row))})', list(row.values())
    )
    c.execute(
        f'INSERT INTO "{table}_seen" (id, last_seen) VALUES (?, ?)', (values["id"], last_seen)
    )


def nulls(names: str) -> dict[str, Any]:
    """NULL for each of the space-separated column *names*."""
    return dict.fromkeys(names.split())


def customer_v2(id_: str, **changes: Any) -> dict[str, Any]:
    row = nulls(
        "profile name vat_number pec sdi fiscal_code delivery_terms street postal_code city phone"
        " mobile url attention_to last_order_date order_count sales_amount previous_order_count"
        " previous_sales previous_order_count_2 previous_sales_2 description type"
        " external_account our_account"
    )
    return {"id": id_, **row, **changes}


def build_v2(path: Path) -> None:
    c = apsw.Connection(str(path))
    c.execute("PRAGMA journal_mode = WAL").fetchall()
    c.execute(V2_SCHEMA.read_text())
    c.execute("BEGIN")
    runs = [
        ("customers", "ok", T0, 3, None, None, 1, 3),
        ("orders", "ok", T0, 3, None, None, 4, 6),
        ("orders", "rejected", T1, 0, "ExportRejected", "empty export: 0 rows", None, None),
        ("ddt", "failed", T1, 0, "BadValue", "page 4: bad cell", None, None),
        ("ddt", "ok", T2, 2, None, None, 7, 8),
        ("products", "ok", T2, 1, None, None, 9, 9),
        ("prices", "ok", T2, 2, None, None, 10, 11),
        ("invoices", "ok", T2, 2, None, None, 12, 13),
        ("orders", "ok", T3, 3, None, None, 14, 15),
    ]
    for kind, outcome, at, inserted, error_class, message, first, last in runs:
        c.execute(
            "INSERT INTO sync_runs (type, mode, trigger, started_at, ended_at, outcome, parsed,"
            " inserted, error_class, error_message, first_seq, last_seq, stage_seconds)"
            " VALUES (?, 'full', 'schedule', ?, ?, ?, ?, ?, ?, ?, ?, ?, '{\"parse\": 1.5}')",
            (kind, at, at, outcome, inserted, inserted, error_class, message, first, last),
        )
    feed = [
        ("customers", "1002", "insert", 1, None),
        ("customers", "1030", "insert", 1, None),
        ("customers", "57185", "insert", 1, None),
        ("orders", "70962", "insert", 2, None),
        ("orders", "71000", "insert", 2, None),
        ("orders", "70963", "insert", 2, None),
        ("ddt", "9001", "insert", 5, None),
        ("ddt", "9002", "insert", 5, None),
        ("products", "021752K1", "insert", 6, None),
        ("prices", "4", "insert", 7, None),
        ("prices", "10004473", "insert", 7, None),
        ("invoices", "CF1/26000113", "insert", 8, None),
        ("invoices", "NC/25000530", "insert", 8, None),
        ("orders", "46883", "insert", 9, None),
        ("orders", "70962", "delete", 9, None),
    ]
    c.executemany(
        "INSERT INTO changes (type, key, op, run_id, fields) VALUES (?, ?, ?, ?, ?)", feed
    )
    insert(
        c,
        "customers",
        customer_v2(
            "1002",
            profile="049421",
            name="Cooperativa Dentisti",
            delivery_terms="FedEx",
            postal_code="00142",
            phone="+39 06 5551234",
            order_count=960,
            sales_amount="124497.43",
            previous_order_count=870,
            previous_sales="98001.75",
            previous_order_count_2=10,
            previous_sales_2="0.00",
            description="Debitor",
            type="Debitor",
        ),
        pending_blank='["phone"]',
        first_seen=T0,
        last_changed=T2,
    )
    insert(c, "customers", customer_v2("1030", name="Studio Rossi"), deleted_at=T2, last_seen=T1)
    insert(
        c,
        "customers",
        customer_v2("57185", name="Studio Verdi", type="PotDentiItal"),
        missing_count=1,
        missing_since_run=1,
        last_seen=T2,
    )
    order = nulls(
        "customer_profile sales_name delivery_name delivery_address delivery_date description"
        " customer_reference sales_status order_type document_status sales_origin"
        " transfer_status transfer_date completed_date quote apply_discount gross_amount"
        " total_amount gift_order email"
    )
    before_renumbering = {
        **order,
        "id": "70962",
        "sales_id": "ORD/26000887",
        "created_at": "2026-01-09T10:11:12",
        "customer_profile": "049421",
        "sales_name": "Cooperativa Dentisti",
        "description": "4846",
        "apply_discount": "21.49",
        "total_amount": "105.60",
        "quote": 0,
    }
    insert(
        c,
        "orders",
        before_renumbering,
        deleted_at=T3,
        last_changed=T3,
        missing_count=2,
        last_seen=T2,
    )
    insert(
        c,
        "orders",
        {**before_renumbering, "id": "46883", "total_amount": "105.6"},
        first_seen=T3,
        last_changed=T3,
    )
    insert(
        c,
        "orders",
        {
            **order,
            "id": "71000",
            "sales_id": None,
            "created_at": "2026-01-09T11:00:00",
            "apply_discount": "0.00",
        },
        pending_blank='["apply_discount"]',
    )
    insert(
        c,
        "orders",
        {**order, "id": "70963", "sales_id": "ORD/26000888", "created_at": "2026-01-09T12:00:00"},
    )
    ddt = nulls(
        "delivery_date order_account sales_name delivery_name delivery_address quantity"
        " customer_reference description tracking_carrier tracking_number tracking_url"
        " delivery_terms delivery_mode attention_to delivery_city"
    )
    insert(
        c,
        "ddt",
        {
            **ddt,
            "id": "9001",
            "ddt_number": "DDT/26000724",
            "sales_id": "ORD/26000752",
            "sales_name": "Cooperativa Dentisti",
            "quantity": "1002.00",
            "description": "4846",
            "delivery_city": "ordini@studio.it;",
        },
        pending_blank='["delivery_city", "quantity"]',
    )
    insert(
        c,
        "ddt",
        {**ddt, "id": "9002", "ddt_number": "DDT/26000725", "sales_id": "ORD/26000887"},
        missing_count=1,
        missing_since_run=5,
    )
    product = nulls(
        "description group search_name price_unit product_group_id group_description min_qty"
        " multiple_qty max_qty figure data_area_id modified_at stopped block_id pack shank size"
        " config_id created_by default_qty display_number total_absolute_discount line_discount"
        " modified_by orderable purchase_price standard_config_id standard_qty vat_item_id"
        " unit_id"
    )
    insert(
        c,
        "products",
        {
            **product,
            "id": "021752K1",
            "name": "9686.204.040",
            "package_content": "5",
            "record_id": "55220",
            "created_on": "2025-03-04",
            "orderable": 1,
            "purchase_price": "12.30",
            "unit_id": "001",
        },
    )
    price = nulls(
        "account_code account account_description item_selection item_description from_date"
        " to_date qty_from qty_to price_unit unit_price currency net_price_brasseler"
    )
    insert(
        c,
        "prices",
        {
            **price,
            "id": "4",
            "account_code": "Group",
            "account": "002",
            "account_description": "DETTAGLIO (consigliato)",
            "item_selection": "021752K1",
            "item_description": "9686.204.040",
            "from_date": "2026-01-01",
            "to_date": "2154-12-31",
            "qty_from": "1.00",
            "qty_to": "100000000",
            "unit_price": "234.59",
            "currency": "EUR",
            "net_price_brasseler": "145.45",
        },
    )
    insert(c, "prices", {**price, "id": "10004473", "account": "002", "unit_price": "9.90"})
    invoice = nulls(
        "invoice_date account billing_name quantity sales_balance line_discount_sum"
        " total_discount tax_sum invoice_amount purchase_order customer_reference due_date"
        " payment_term_id days_past_due settled_amount last_payment_id last_settlement_date"
        " closed remaining_amount sales_id"
    )
    insert(
        c,
        "invoices",
        {
            **invoice,
            "id": "CF1/26000113",
            "account": "049421",
            "quantity": "1095",
            "payment_term_id": "201 BONIF. BANC. 60 GG.DFFM Iban IT00X",
            "last_settlement_date": "2026-01-30",
            "closed": 1,
            "sales_id": "ORD/26000887",
        },
    )
    insert(
        c,
        "invoices",
        {**invoice, "id": "NC/25000530", "quantity": "-1", "closed": 0},
        pending_blank='["closed"]',
    )
    c.execute("INSERT INTO daemon_last_runs (type, at) VALUES ('orders', 1768032000.0)")
    c.execute("COMMIT")
    c.close()


@pytest.fixture
def migrated(tmp_path: Path, clock: StepClock) -> Any:
    path = tmp_path / "v2.sqlite3"
    build_v2(path)
    old = apsw.Connection(str(path))
    runs_before = old.execute("SELECT * FROM sync_runs ORDER BY id").fetchall()
    feed_before = old.execute("SELECT * FROM changes ORDER BY seq").fetchall()
    old.close()
    db = open_database(path, clock=clock)
    yield db, runs_before, feed_before
    db.close()


def record(db: Database, export_type: ExportType, key: str) -> Record:
    return db.read_records(export_type, include_deleted=True)[key]


def test_the_file_is_at_the_new_version_and_every_row_is_there(migrated: Any) -> None:
    db, _, _ = migrated
    assert user_version(db.connection) == SCHEMA_VERSION == 5
    keys = {
        t: sorted(k for (k,) in db.connection.execute(f'SELECT key FROM "{t.value}"'))
        for t in ExportType
    }
    assert keys == {
        ExportType.CUSTOMERS: ["1002", "1030", "57185"],
        ExportType.PRODUCTS: ["021752K1"],
        ExportType.PRICES: ["021752K1|002|2026-01-01|1|100000000", "10004473|002|||"],
        ExportType.ORDERS: ["71000", "ORD/26000887", "ORD/26000888"],
        ExportType.DDT: ["DDT/26000724", "DDT/26000725"],
        ExportType.INVOICES: ["CF1/26000113", "NC/25000530"],
    }
    for t in ExportType:
        seen = sorted(k for (k,) in db.connection.execute(f'SELECT key FROM "{t.value}_seen"'))
        assert seen == keys[t]
    tables = {name for (name,) in db.connection.execute("SELECT name FROM sqlite_schema")}
    assert not {name for name in tables if name.endswith("_v2")}
    assert db.connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.connection.execute("PRAGMA foreign_key_check").fetchall() == []
    [(at,)] = db.connection.execute("SELECT at FROM daemon_last_runs").fetchall()
    assert at == 1768032000.0


def test_values_take_their_new_names_and_types(migrated: Any) -> None:
    db, _, _ = migrated
    cooperative = record(db, ExportType.CUSTOMERS, "1002")
    assert isinstance(cooperative, Customer)
    assert (cooperative.account, cooperative.delivery_mode, cooperative.postal_code) == (
        "049421",
        "FedEx",
        "00142",
    )
    assert (cooperative.sales_this_year, cooperative.sales_last_year) == (
        Decimal("124497.43"),
        Decimal("98001.75"),
    )
    assert (cooperative.order_count_last_year, cooperative.order_count_year_before) == (870, 10)
    assert (cooperative.sales_year_before, cooperative.type_code) == (Decimal("0.00"), "Debitor")
    product = record(db, ExportType.PRODUCTS, "021752K1")
    assert product == Product(
        **{  # type: ignore[arg-type]
            **dict.fromkeys(TABLES[ExportType.PRODUCTS].field_names),
            "article": "021752K1",
            "catalogue_number": "9686.204.040",
            "pack_size": "5",
            "id": "55220",
            "created_at": datetime(2025, 3, 4, 0, 0),
            "orderable": None,  # a flag cannot say the column's text: unknown
            "purchase_price": Decimal("12.30"),
            "unit_id": "001",
        }
    )
    price = record(db, ExportType.PRICES, "021752K1|002|2026-01-01|1|100000000")
    assert isinstance(price, Price)
    assert (price.id, price.article, price.price_group, price.price_group_name) == (
        "4",
        "021752K1",
        "002",
        "DETTAGLIO (consigliato)",
    )
    assert (price.valid_from, price.valid_to, price.qty_from) == (
        date(2026, 1, 1),
        date(2154, 12, 31),
        Decimal("1.00"),
    )
    assert price.net_price is None  # version 2 held an amount, not the flag
    fallback = record(db, ExportType.PRICES, "10004473|002|||")
    assert isinstance(fallback, Price) and fallback.article == "10004473"
    order = record(db, ExportType.ORDERS, "ORD/26000887")
    assert isinstance(order, Order)
    assert (order.id, order.order_number, order.account, order.account_name) == (
        "46883",
        "ORD/26000887",
        "049421",
        "Cooperativa Dentisti",
    )
    assert (order.purchase_order, order.discount_percent) == ("4846", Decimal("21.49"))
    ddt = record(db, ExportType.DDT, "DDT/26000724")
    assert isinstance(ddt, Ddt)
    assert (ddt.id, ddt.order_number, ddt.quantity, ddt.delivery_email) == (
        "9001",
        "ORD/26000752",
        1002,
        "ordini@studio.it;",
    )
    closed = record(db, ExportType.INVOICES, "CF1/26000113")
    assert isinstance(closed, Invoice)
    assert (closed.quantity, closed.closed_on, closed.order_number) == (
        1095,
        date(2026, 1, 30),
        "ORD/26000887",
    )
    assert closed.payment_terms == "201 BONIF. BANC. 60 GG.DFFM Iban IT00X"
    credit = record(db, ExportType.INVOICES, "NC/25000530")
    assert isinstance(credit, Invoice) and (credit.quantity, credit.closed_on) == (-1, None)


def test_bookkeeping_survives(migrated: Any) -> None:
    db, _, _ = migrated
    C, O, D = ExportType.CUSTOMERS, ExportType.ORDERS, ExportType.DDT  # noqa: E741
    live = row_of(db, C, "1002")
    assert (live["first_seen"], live["last_changed"], live["last_seen"]) == (T0, T2, T3)
    assert live["pending_blank"] == '["phone"]'
    assert row_of(db, C, "1030")["deleted_at"] == T2
    assert row_of(db, C, "1030")["last_seen"] == T1
    missing = row_of(db, C, "57185")
    assert (missing["missing_count"], missing["missing_since_run"]) == (1, 1)
    assert row_of(db, D, "DDT/26000725")["missing_since_run"] == 5
    # pending notes follow their fields' new names
    assert row_of(db, D, "DDT/26000724")["pending_blank"] == '["delivery_email", "quantity"]'
    assert row_of(db, O, "71000")["pending_blank"] == '["discount_percent"]'
    # a note on a field whose value did not survive is dropped
    assert row_of(db, ExportType.INVOICES, "NC/25000530")["pending_blank"] is None
    # one order under two internal IDs (the ERP's renumbering): one row, the live one,
    # known since the first was first seen
    merged = row_of(db, O, "ORD/26000887")
    assert (merged["id"], merged["deleted_at"], merged["missing_count"]) == ("46883", None, 0)
    assert (merged["first_seen"], merged["last_seen"], merged["total_amount"]) == (T0, T3, "105.6")
    # hashes are the new rows' own
    for spec in TABLES.values():
        columns = ", ".join(f'"{name}"' for name in spec.field_names)
        for row in db.connection.execute(f'SELECT content_hash, {columns} FROM "{spec.name}"'):
            assert row[0] == row_hash(tuple(row[1:]))


def test_runs_and_the_feed_go_on(migrated: Any) -> None:
    db, runs_before, feed_before = migrated
    runs = db.connection.execute("SELECT * FROM sync_runs ORDER BY id").fetchall()
    assert [run[:-2] for run in runs] == runs_before
    # warnings: none recorded; requested_by: none known
    assert [run[-2:] for run in runs] == [(None, None)] * len(runs_before)
    assert list_runs(db, ExportType.DDT)[1]["error_message"] == "page 4: bad cell"
    feed = db.connection.execute("SELECT * FROM changes ORDER BY seq").fetchall()
    assert [entry[:-1] for entry in feed] == feed_before
    old = changes_since(db, 0)
    assert [e.seq for e in old] == list(range(1, 16)) and all(e.old_key is None for e in old)
    key_map = {
        (t, old): new
        for t, old, new, last in db.connection.execute("SELECT * FROM key_map")
        if last == 15
    }
    assert key_map == {
        ("orders", "70962"): "ORD/26000887",
        ("orders", "46883"): "ORD/26000887",
        ("orders", "70963"): "ORD/26000888",
        ("ddt", "9001"): "DDT/26000724",
        ("ddt", "9002"): "DDT/26000725",
        ("prices", "4"): "021752K1|002|2026-01-01|1|100000000",
        ("prices", "10004473"): "10004473|002|||",
    }
    assert db.connection.execute("SELECT count(*) FROM key_map").fetchall() == [(7,)]
    # Every key the old feed named is a current key or translates to one.
    for entry in old:
        key = key_map.get((entry.export_type.value, entry.key), entry.key)
        assert key in db.read_records(entry.export_type, include_deleted=True)
    # The next sync's entries follow on, keyed the new way.
    customers = [
        record(db, ExportType.CUSTOMERS, "1002"),
        record(db, ExportType.CUSTOMERS, "57185"),
        Customer(**{**dict.fromkeys(TABLES[ExportType.CUSTOMERS].field_names), "id": "2000"}),  # type: ignore[arg-type]
    ]
    result = apply_sync(db, ExportType.CUSTOMERS, customers)
    assert result.outcome == "ok"
    assert (result.counts.inserted, result.counts.updated, result.counts.unchanged) == (1, 0, 2)
    assert (result.first_seq, result.last_seq) == (16, 16)
    assert latest_seq(db) == 16
    assert changes_since(db, 15)[0].key == "2000"


def test_an_unchanged_export_after_the_migration_changes_nothing(migrated: Any) -> None:
    db, _, _ = migrated
    for export_type in ExportType:
        # Recent: the live rows again, with no verdict on the deleted ones.
        records = list(db.read_records(export_type).values())
        result = apply_sync(db, export_type, records, mode="recent")
        assert result.counts.changed == 0, export_type
        assert result.counts.unchanged == len(records)
