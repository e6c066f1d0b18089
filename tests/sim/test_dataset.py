"""The simulator's ground truth: deterministic, at the real volumes, consistent, mutable."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from archid.records import (
    Customer,
    Ddt,
    ExportType,
    Invoice,
    Order,
    Price,
    Product,
    Record,
    record_key,
)
from archid.sim import italian
from archid.sim.dataset import Dataset

GENERATION_BUDGET_S = 2.0
T = TypeVar("T")


@pytest.fixture(scope="module")
def full() -> Dataset:
    """The dataset at the real portal's volumes (generated once, timed)."""
    start = time.perf_counter()
    dataset = Dataset.generate(3, 1.0)
    elapsed = time.perf_counter() - start
    assert elapsed < GENERATION_BUDGET_S, f"scale 1 took {elapsed:.2f} s"
    return dataset


def _of(dataset: Dataset, t: ExportType, cls: type[T]) -> list[T]:
    out: list[T] = [r for r in dataset.records(t) if isinstance(r, cls)]
    assert len(out) == dataset.count(t)
    return out


# -- determinism -------------------------------------------------------------------


def test_same_seed_same_content_and_fingerprint() -> None:
    a, b = Dataset.generate(11, 0.05), Dataset.generate(11, 0.05)
    assert a.fingerprint == b.fingerprint
    for t in ExportType:
        assert a.records(t) == b.records(t)


def test_different_seed_or_scale_differs() -> None:
    base = Dataset.generate(11, 0.05).fingerprint
    assert Dataset.generate(12, 0.05).fingerprint != base
    assert Dataset.generate(11, 0.06).fingerprint != base


def test_fingerprint_is_stable_across_processes() -> None:
    code = "from archid.sim.dataset import Dataset; print(Dataset.generate(5, 0.02).fingerprint)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == Dataset.generate(5, 0.02).fingerprint
    assert re.fullmatch(r"[0-9a-f]{16}", out)


# -- volumes -----------------------------------------------------------------------


def test_scale_one_has_the_real_volumes(full: Dataset) -> None:
    """Spec v2 section 2: the January 2026 exports."""
    assert full.count(ExportType.CUSTOMERS) == 1452
    assert full.count(ExportType.PRODUCTS) == 4540
    assert full.count(ExportType.PRICES) == 4976
    assert full.count(ExportType.ORDERS) == 999
    assert full.count(ExportType.DDT) == 1132
    assert full.count(ExportType.INVOICES) == 128


@pytest.mark.parametrize("scale", [0.001, 0.01])
def test_small_scales_keep_a_handful_of_each(scale: float) -> None:
    dataset = Dataset.generate(1, scale)
    for t in ExportType:
        assert dataset.count(t) >= 5, t
    orders = _of(dataset, ExportType.ORDERS, Order)
    assert any(o.order_number is None for o in orders)
    assert any(o.order_number is not None for o in orders)


def test_scale_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Dataset.generate(1, 0)


# -- content (spec v2 section 2) --------------------------------------------------------


def test_customers(full: Dataset) -> None:
    customers = _of(full, ExportType.CUSTOMERS, Customer)
    ids = [int(c.id) for c in customers]
    assert ids == sorted(ids) and 0 not in ids, "rows ordered by ID, no ID-0 rows"
    assert min(ids) < 1000 < max(ids)
    real = [c for c in customers if c.account is not None]
    potential = [c for c in customers if c.account is None]
    assert len(potential) > len(real) > 100
    for customer in real:
        assert re.fullmatch(r"0\d{5}|100\d{4}", customer.account or ""), customer.account
        pair = (customer.description, customer.type_code)
        assert pair in {("Customer from Concessionario", "CustFromConcess"), ("Debitor", "Debitor")}
    assert any(c.account == "049421" for c in real)
    assert any((c.account or "").startswith("100") for c in real)
    for customer in potential:
        assert (customer.description, customer.type_code) == (
            "Potential customer from database Italia",
            "PotDentiItal",
        )
        assert customer.sales_this_year == 0 and customer.order_count == 0
    for customer in customers:
        assert customer.url is None and customer.attention_to is None
        assert customer.our_account is None
        assert re.fullmatch(r"\d{5}", customer.postal_code or ""), customer.postal_code
        assert customer.sdi is None or re.fullmatch(r"[A-Z0-9]{7}", customer.sdi)
        assert customer.phone is None or customer.phone.startswith("+39 ")
        assert customer.vat_number is None or italian.is_valid_partita_iva(customer.vat_number)
        assert customer.fiscal_code == customer.vat_number or italian.is_valid_codice_fiscale(
            customer.fiscal_code or ""
        ), customer
    assert any((c.postal_code or "").startswith("0") for c in customers)
    assert sum(c.external_account == c.id for c in customers) > 0.95 * len(customers)
    cities = {c.city or "" for c in customers}
    assert any("'" in city for city in cities) and any("’" in city for city in cities)
    assert {c.delivery_mode for c in customers} >= {"FedEx", "UPS Italia", None}
    assert any((c.sales_this_year or 0) > 1000 for c in real)


def test_products_and_prices(full: Dataset) -> None:
    products = _of(full, ExportType.PRODUCTS, Product)
    articles = [p.article for p in products]
    assert articles == sorted(articles) and len(set(articles)) == len(articles)
    for product in products:
        assert re.fullmatch(r"0\d{5}K[12]|100\d{5}", product.article), product.article
        assert re.fullmatch(r"[0-9A-Z]+\.\d{3}\.\d{3}", product.catalogue_number or "")
        assert product.display_number == f"{product.article} : v.001 : : :"
        assert product.pack_size in {"1", "5"} and product.unit_id == "001"
    shared = Counter(p.catalogue_number for p in products)
    assert shared.most_common(1)[0][1] == 2, "two pack sizes share a catalogue number"
    assert any(a.startswith("0") for a in articles)
    by_article = {p.article: p for p in products}
    prices = _of(full, ExportType.PRICES, Price)
    ids = [int(p.id or "") for p in prices]
    assert ids == sorted(ids) and ids[0] < 20, "ID is the price row's own small number"
    assert len({p.key for p in prices}) == len(prices)
    for price in prices:
        product = by_article[price.article]
        assert price.catalogue_number == product.catalogue_number
        assert (price.account_code, price.currency) == ("Group", "EUR")
        assert (price.qty_from, price.qty_to) == (Decimal(1), Decimal(100_000_000))
        assert price.valid_to == date(2154, 12, 31)
        assert isinstance(price.net_price, bool)
    assert Counter(p.price_group for p in prices).most_common(1)[0][0] == "002"
    assert {p.price_group_name for p in prices if p.price_group == "002"} == {
        "DETTAGLIO (consigliato)"
    }
    assert Counter(p.net_price for p in prices)[False] > 0.9 * len(prices)


def test_orders(full: Dataset) -> None:
    orders = _of(full, ExportType.ORDERS, Order)
    ids = [int(o.id) for o in orders]
    assert ids == sorted(ids, reverse=True), "rows ordered by ID descending"
    pending = [o for o in orders if o.order_number is None]
    assert pending and any(o.account is None for o in pending)
    assert all(o.account is not None for o in orders if o.order_number is not None)
    cooperative = [o for o in orders if o.account == "049421"]
    assert 0.93 < len(cooperative) / len(orders) < 0.99
    assert {o.account_name for o in cooperative} == {cooperative[0].account_name}
    no_discount = sum(o.discount_percent == 0 for o in orders)
    assert 0.93 < no_discount / len(orders) < 0.99
    assert Decimal("21.49") in {o.discount_percent for o in orders}
    assert {o.sales_status for o in orders} == {"Fatturato", "Consegnato", "Ordine aperto"}
    assert {o.document_status for o in orders} == {"Fattura:", "Documento di trasporto:", "Nessuno"}
    assert {"Ordine di vendita", "Giornale"} <= {o.order_type for o in orders}
    assert {o.transfer_status for o in orders} == {
        "Trasferito",
        "Modifica",
        "In attesa di approvazione",
    }
    assert {o.sales_origin for o in orders} == {"Agent", "Concessionari K3"}
    assert sum(o.total_amount == 0 for o in orders) > 0.1 * len(orders)
    four_digits = sum(re.fullmatch(r"\d{4}", o.purchase_order or "") is not None for o in orders)
    assert 0.9 * len(orders) < four_digits < len(orders), "mostly 4 digits, sometimes text"
    assert all(re.fullmatch(r".+ \d{5} .+ [A-Z]{2}", o.delivery_address or "") for o in orders)
    assert any(o.email for o in orders) and any(o.email is None for o in orders)


def test_ddt(full: Dataset) -> None:
    ddts = _of(full, ExportType.DDT, Ddt)
    assert {d.delivery_mode for d in ddts} == {"UPS Italia", "FedEx", "Mittente"}
    untracked = [d for d in ddts if d.tracking_carrier is None]
    assert 0.08 < len(untracked) / len(ddts) < 0.18, "about one row in eight has no link"
    carriers = Counter(d.tracking_carrier for d in ddts)
    assert set(carriers) == {"fedex", "Ups", "dhl", None}
    for ddt in ddts:
        assert ddt.attention_to is None
        assert ddt.delivery_terms in {None, "Spese trasporto carico destinatario"}
        if ddt.tracking_carrier is None:
            assert ddt.tracking_number is None and ddt.tracking_url is None
            continue
        assert ddt.tracking_url and ddt.tracking_number and ddt.tracking_number in ddt.tracking_url
        if ddt.tracking_carrier == "Ups":
            assert re.fullmatch(r"1Z[0-9A-Z]{16}", ddt.tracking_number)
    assert any(d.tracking_carrier == "dhl" and d.delivery_mode == "UPS Italia" for d in ddts)
    emails = [d.delivery_email for d in ddts if d.delivery_email]
    assert all("@" in e for e in emails)
    assert sum(e.endswith(";") for e in emails) > len(emails) / 2
    assert any(e.count("@") == 2 for e in emails)
    quantities = {d.quantity for d in ddts}
    assert -1 in quantities and any((q or 0) >= 1000 for q in quantities)


def test_invoices(full: Dataset) -> None:
    invoices = _of(full, ExportType.INVOICES, Invoice)
    credit = [i for i in invoices if i.invoice_number.startswith("NC/")]
    assert credit and all((i.invoice_amount or 0) < 0 for i in credit)
    assert all(re.fullmatch(r"(CF1|NC)/2[56]\d{6}", i.invoice_number) for i in invoices)
    for invoice in invoices:
        if invoice.closed_on is not None:
            assert invoice.closed_on == invoice.last_settlement_date
            assert invoice.remaining_amount == 0
        else:
            assert invoice.last_settlement_date is None
        assert invoice.total_discount == 0
        assert invoice.invoice_amount == (invoice.sales_balance or 0) + (invoice.tax_sum or 0)
        for value in (invoice.sales_balance, invoice.tax_sum, invoice.invoice_amount):
            assert value is not None
            # printed without trailing zeros: the record holds what a parse yields
            assert value == value.normalize() and str(value) == format(value, "f")
    assert any(i.closed_on is None for i in invoices) and any(i.closed_on for i in invoices)
    two_line = [i for i in invoices if " Iban IT" in (i.payment_terms or "")]
    assert 0.5 < len(two_line) / len(invoices) < 0.95
    assert any((i.quantity or 0) >= 1000 for i in invoices)
    assert {"INC", "NC", "CF1"} >= {(i.last_payment_id or "INC/").split("/")[0] for i in invoices}
    assert any(i.purchase_order == "Accredito" for i in credit)


def test_relations(full: Dataset) -> None:
    """Spec v2 "Relations": accounts, order numbers, articles, purchase orders."""
    accounts = {c.account for c in _of(full, ExportType.CUSTOMERS, Customer) if c.account}
    articles = {p.article for p in _of(full, ExportType.PRODUCTS, Product)}
    orders = _of(full, ExportType.ORDERS, Order)
    by_number = {o.order_number: o for o in orders if o.order_number is not None}
    assert len(by_number) == sum(o.order_number is not None for o in orders)
    assert all(o.account in accounts for o in orders if o.account is not None)
    assert all(p.article in articles for p in _of(full, ExportType.PRICES, Price))
    delivered = set()
    for ddt in _of(full, ExportType.DDT, Ddt):
        order = by_number[ddt.order_number]
        delivered.add(order.order_number)
        assert ddt.order_account == order.account and ddt.order_account in accounts
        assert ddt.purchase_order == order.purchase_order
        assert ddt.delivery_address == order.delivery_address
        assert order.sales_status in {"Consegnato", "Fatturato"}
        assert ddt.delivery_date is not None and ddt.delivery_date >= order.created_at.date()
    several = Counter(d.order_number for d in _of(full, ExportType.DDT, Ddt))
    assert max(several.values()) > 1, "an order can have several DDT"
    for invoice in _of(full, ExportType.INVOICES, Invoice):
        assert invoice.order_number is not None
        order = by_number[invoice.order_number]
        assert invoice.account == order.account and invoice.account in accounts
        if not invoice.invoice_number.startswith("NC/"):
            assert invoice.purchase_order == order.purchase_order
        assert order.sales_status == "Fatturato"
    assert all(o.order_number in delivered for o in orders if o.sales_status == "Consegnato")


def test_records_are_canonical(full: Dataset) -> None:
    """What a parser yields: no stray whitespace, no empty text, amounts in cents."""
    for t in ExportType:
        for record in full.records(t):
            assert record.unread == frozenset()
            for field in dataclasses.fields(record):
                value = getattr(record, field.name)
                if isinstance(value, str):
                    assert value == " ".join(value.split()) and value, (t, field.name, value)
    for order in _of(full, ExportType.ORDERS, Order):
        assert 2025 <= order.created_at.year <= 2026
        for amount in (order.gross_amount, order.total_amount, order.discount_percent):
            assert amount is not None and amount.as_tuple().exponent == -2


# -- renumbering ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "t", [ExportType.ORDERS, ExportType.DDT, ExportType.PRICES, ExportType.PRODUCTS]
)
def test_renumber_changes_ids_only(t: ExportType) -> None:
    dataset = Dataset.generate(6, 0.05)
    before = dataset.records(t)
    changes = dataset.renumber(t, 1)
    after = dataset.records(t)
    assert dataset.version == 1 and len(changes) == len(before) == len(after)
    for old, new, change in zip(before, after, changes, strict=True):
        old_id, new_id = getattr(old, "id"), getattr(new, "id")  # noqa: B009
        assert old_id != new_id
        back: dict[str, Any] = {"id": old_id}
        assert dataclasses.replace(new, **back) == old
        assert (change.op, change.before, change.after) == ("update", old, new)
    again = Dataset.generate(6, 0.05)
    again.renumber(t, 1)
    assert again.fingerprint == dataset.fingerprint, "deterministic for content and seed"
    other = Dataset.generate(6, 0.05)
    other.renumber(t, 2)
    assert other.fingerprint != dataset.fingerprint


def test_renumber_moves_pending_orders_to_their_new_key() -> None:
    dataset = Dataset.generate(6, 0.05)
    pending = [o for o in _of(dataset, ExportType.ORDERS, Order) if o.order_number is None]
    numbered = [o for o in _of(dataset, ExportType.ORDERS, Order) if o.order_number]
    dataset.renumber(ExportType.ORDERS, 3)
    for order in pending:
        assert (ExportType.ORDERS, order.key) not in dataset
    for order in numbered:
        assert dataset.get(ExportType.ORDERS, order.key).id != order.id  # type: ignore[union-attr]
    renumbered = [o for o in _of(dataset, ExportType.ORDERS, Order) if o.order_number is None]
    assert [o.key for o in renumbered] == [o.id for o in renumbered]


def test_renumber_of_invoices_is_a_no_op_and_customers_are_refused() -> None:
    dataset = Dataset.generate(6, 0.05)
    before = dataset.fingerprint
    assert dataset.renumber(ExportType.INVOICES, 1) == []
    assert dataset.fingerprint == before and dataset.version == 0
    with pytest.raises(ValueError, match="cannot be renumbered"):
        dataset.renumber(ExportType.CUSTOMERS, 1)


# -- mutations -------------------------------------------------------------------------


def test_add_update_delete_bump_version_and_fingerprint() -> None:
    dataset = Dataset.generate(2, 0.02)
    original = dataset.fingerprint
    order = dataset.records(ExportType.ORDERS)[0]
    assert isinstance(order, Order)
    key = record_key(order)

    updated = dataset.update(ExportType.ORDERS, key, total_amount=Decimal("1.23"))
    assert isinstance(updated, Order) and updated.total_amount == Decimal("1.23")
    assert dataset.get(ExportType.ORDERS, key) == updated
    assert dataset.records(ExportType.ORDERS)[0] == updated  # keeps its place
    assert dataset.version == 1 and dataset.fingerprint != original

    dataset.update(ExportType.ORDERS, key, total_amount=order.total_amount)
    assert dataset.version == 2 and dataset.fingerprint == original  # content, not history

    dataset.delete(ExportType.ORDERS, key)
    assert (ExportType.ORDERS, key) not in dataset
    assert dataset.version == 3
    dataset.add(ExportType.ORDERS, order)
    assert dataset.records(ExportType.ORDERS)[-1] == order
    assert dataset.version == 4


def test_mutation_errors() -> None:
    dataset = Dataset.generate(2, 0.01)
    existing = dataset.records(ExportType.CUSTOMERS)[0]
    with pytest.raises(KeyError):
        dataset.get(ExportType.CUSTOMERS, "no-such-key")
    with pytest.raises(KeyError):
        dataset.update(ExportType.CUSTOMERS, "no-such-key", name="x")
    with pytest.raises(KeyError):
        dataset.delete(ExportType.CUSTOMERS, "no-such-key")
    with pytest.raises(ValueError):
        dataset.add(ExportType.CUSTOMERS, existing)
    with pytest.raises(ValueError):
        dataset.update(ExportType.CUSTOMERS, record_key(existing), no_such_field=1)
    with pytest.raises(TypeError):
        dataset.add(ExportType.ORDERS, existing)
    assert dataset.version == 0


@pytest.mark.parametrize("t", list(ExportType))
def test_mutate_is_deterministic_and_reflected(t: ExportType) -> None:
    a, b = Dataset.generate(4, 0.02), Dataset.generate(4, 0.02)
    before = a.fingerprint
    changes = a.mutate(t, 9, 12)
    assert changes == b.mutate(t, 9, 12)
    assert a.fingerprint == b.fingerprint != before
    assert a.version == 12 and len(changes) == 12
    assert {c.op for c in changes} >= {"add", "update"}
    current = {record_key(r): r for r in a.records(t)}
    final: dict[str, Record | None] = {}
    for change in changes:
        assert change.type is t
        final[change.key] = change.after
        if change.after is not None and record_key(change.after) != change.key:
            # a pending order that got its number: the same row under its new key
            final[change.key] = None
            final[record_key(change.after)] = change.after
    for key, record in final.items():
        assert current.get(key) == record


def test_mutate_adds_linked_records() -> None:
    """New orders, DDT, invoices and prices point at records that exist (no cascades)."""
    dataset = Dataset.generate(8, 0.02)
    added: list[Record] = []
    for t in (ExportType.ORDERS, ExportType.DDT, ExportType.INVOICES, ExportType.PRICES):
        added += [c.after for c in dataset.mutate(t, 1, 20) if c.op == "add" and c.after]
    customers = {c.name for c in _of(dataset, ExportType.CUSTOMERS, Customer)}
    numbers = {o.order_number for o in _of(dataset, ExportType.ORDERS, Order)}
    products = {p.article for p in _of(dataset, ExportType.PRODUCTS, Product)}
    assert {type(r) for r in added} == {Order, Ddt, Invoice, Price}
    for record in added:
        if isinstance(record, Order):
            assert record.delivery_name in customers
        elif isinstance(record, Ddt | Invoice):
            assert record.order_number in numbers
        elif isinstance(record, Price):
            assert record.article in products


# -- Italian building blocks ---------------------------------------------------------


def test_fiscal_validators_accept_real_and_reject_corrupted() -> None:
    assert italian.is_valid_codice_fiscale("RSSMRA80A01H501U")
    assert not italian.is_valid_codice_fiscale("RSSMRA80A01H501V")
    assert not italian.is_valid_codice_fiscale("RSSMRA80A01H501")
    assert italian.is_valid_partita_iva("00743110157")
    assert not italian.is_valid_partita_iva("00743110158")
    assert not italian.is_valid_partita_iva("0074311015")
    first, last = "Mario", "Rossi"
    roma = italian.CITIES[0]
    code = italian.codice_fiscale(first, last, date(1980, 1, 1), female=False, where=roma)
    assert code == "RSSMRA80A01H501U"
    female = italian.codice_fiscale("Anna", "Bianchi", date(1975, 12, 9), female=True, where=roma)
    assert female[9:11] == "49" and italian.is_valid_codice_fiscale(female)


def test_city_table_is_plausible() -> None:
    assert len(italian.CITIES) >= 60
    assert any("'" in c.name for c in italian.CITIES)
    assert len({c.name for c in italian.CITIES}) == len(italian.CITIES)
    for city in italian.CITIES:
        assert re.fullmatch(r"[A-Z]{2}", city.province)
        assert city.cap_first > 0 and city.cap_first + city.cap_span <= 99999
        assert re.fullmatch(r"0\d{1,3}", city.phone_prefix)
        assert re.fullmatch(r"[A-Z]\d{3}", city.cadastral)
