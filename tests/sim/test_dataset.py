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
from typing import TypeVar

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
    assert full.count(ExportType.CUSTOMERS) == 1515
    assert full.count(ExportType.PRICES) == 4976
    assert full.count(ExportType.DDT) == 1132
    assert 4400 <= full.count(ExportType.PRODUCTS) <= 4700
    assert 950 <= full.count(ExportType.ORDERS) <= 1050
    assert 120 <= full.count(ExportType.INVOICES) <= 140


@pytest.mark.parametrize("scale", [0.001, 0.01])
def test_small_scales_keep_a_handful_of_each(scale: float) -> None:
    dataset = Dataset.generate(1, scale)
    for t in ExportType:
        assert dataset.count(t) >= 5, t
    orders = _of(dataset, ExportType.ORDERS, Order)
    assert any(o.sales_id is None for o in orders)
    assert any(o.sales_id is not None for o in orders)


def test_scale_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Dataset.generate(1, 0)


# -- content -------------------------------------------------------------------------


def test_every_customer_has_valid_fiscal_identifiers(full: Dataset) -> None:
    customers = _of(full, ExportType.CUSTOMERS, Customer)
    with_vat = [c for c in customers if c.vat_number is not None]
    assert len(with_vat) > 0.9 * len(customers)
    for customer in customers:
        if customer.vat_number is not None:
            assert italian.is_valid_partita_iva(customer.vat_number), customer
        assert customer.fiscal_code is not None
        assert customer.fiscal_code == customer.vat_number or italian.is_valid_codice_fiscale(
            customer.fiscal_code
        ), customer
    people = [c for c in customers if c.fiscal_code != c.vat_number]
    assert people, "some customers are sole practitioners with a personal fiscal code"
    assert all(c.sdi is None or re.fullmatch(r"[A-Z0-9]{7}", c.sdi) for c in customers)
    assert all(c.postal_code and re.fullmatch(r"\d{5}", c.postal_code) for c in customers)


def test_keys_and_ids_have_the_portal_shapes(full: Dataset) -> None:
    customers = _of(full, ExportType.CUSTOMERS, Customer)
    for customer in customers:
        assert customer.id.isdigit() and int(customer.id) >= 1000
        assert customer.profile is not None and int(customer.profile) >= 1000
        assert customer.external_account and re.fullmatch(r"0\d{5}", customer.external_account)
    assert len({c.profile for c in customers}) == len(customers)
    assert any(c.profile and c.profile.endswith("0") for c in customers)
    for product in _of(full, ExportType.PRODUCTS, Product):
        assert re.fullmatch(r"[0-9A-Z]+\.\d{3}\.\d{3}", product.id), product.id
    for order in _of(full, ExportType.ORDERS, Order):
        assert order.id.isdigit() and int(order.id) >= 1000
        assert order.sales_id is None or re.fullmatch(r"ORD/2[56]\d{6}", order.sales_id)
    for ddt in _of(full, ExportType.DDT, Ddt):
        assert re.fullmatch(r"DDT/2[56]\d{6}", ddt.ddt_number)
    for invoice in _of(full, ExportType.INVOICES, Invoice):
        assert re.fullmatch(r"(CF1|NC)/2[56]\d{6}", invoice.id)


def test_links_are_consistent(full: Dataset) -> None:
    customers = {c.profile: c for c in _of(full, ExportType.CUSTOMERS, Customer)}
    accounts = {c.external_account for c in customers.values()}
    products = {p.id for p in _of(full, ExportType.PRODUCTS, Product)}
    orders = _of(full, ExportType.ORDERS, Order)
    by_sales_id = {o.sales_id: o for o in orders if o.sales_id is not None}
    assert len(by_sales_id) == len([o for o in orders if o.sales_id])
    for order in orders:
        customer = customers[order.customer_profile]
        assert order.sales_name == customer.name
        assert order.delivery_name and order.delivery_name.startswith(customer.name or "")
    for price in _of(full, ExportType.PRICES, Price):
        assert price.item_selection in products
    delivered = set()
    for ddt in _of(full, ExportType.DDT, Ddt):
        order = by_sales_id[ddt.sales_id]
        delivered.add(ddt.sales_id)
        assert order.sales_status in {"Consegnato", "Fatturato"}
        assert ddt.order_account in accounts
        assert ddt.delivery_address == order.delivery_address
        assert ddt.delivery_date is not None and ddt.delivery_date >= order.created_at.date()
    for invoice in _of(full, ExportType.INVOICES, Invoice):
        assert invoice.sales_id is not None
        order = by_sales_id[invoice.sales_id]
        assert order.sales_status == "Fatturato"
        assert invoice.account == customers[order.customer_profile].external_account
    assert all(o.sales_id in delivered for o in orders if o.sales_status == "Consegnato")
    stats = Counter(o.customer_profile for o in orders)
    for profile, customer in customers.items():
        assert customer.order_count == stats.get(profile, 0)


def test_variety_the_parsers_must_meet(full: Dataset) -> None:
    orders = _of(full, ExportType.ORDERS, Order)
    statuses = Counter(o.sales_status for o in orders)
    assert {"Giornale", "Ordine aperto", "Consegnato", "Fatturato"} <= set(statuses)
    assert {"Trasferito", "In attesa di approvazione"} <= {o.transfer_status for o in orders}
    assert all(o.sales_id is None for o in orders if o.sales_status == "Giornale")
    assert sum(o.sales_id is None for o in orders) >= 40
    assert {o.sales_origin for o in orders} >= {"Agent", None}
    ddts = _of(full, ExportType.DDT, Ddt)
    assert {d.delivery_mode for d in ddts} == {"FedEx", "UPS", "DHL", "GLS", "BRT", "SDA", "TNT"}
    assert any(d.tracking_url for d in ddts)
    assert any(d.tracking_carrier and not d.tracking_url for d in ddts)
    assert any(d.tracking_carrier is None for d in ddts)
    for ddt in ddts:
        if ddt.tracking_carrier is not None:
            assert ddt.tracking_carrier == ddt.tracking_carrier.lower()
            assert ddt.delivery_mode and ddt.delivery_mode.lower() == ddt.tracking_carrier
        if ddt.tracking_url is not None:
            assert ddt.tracking_number and ddt.tracking_number in ddt.tracking_url
    invoices = _of(full, ExportType.INVOICES, Invoice)
    credit = [i for i in invoices if i.id.startswith("NC/")]
    assert credit and all(i.invoice_amount and i.invoice_amount < 0 for i in credit)
    assert all(i.invoice_amount and i.invoice_amount > 0 for i in invoices if i not in credit)
    prices = _of(full, ExportType.PRICES, Price)
    assert Counter(p.to_date for p in prices).most_common(1)[0][0] == date(2154, 12, 31)
    long_names = [c for c in _of(full, ExportType.CUSTOMERS, Customer) if len(c.name or "") > 60]
    assert long_names


def test_records_are_canonical(full: Dataset) -> None:
    """What a parser yields: no stray whitespace, 2-decimal amounts, dates in 2025-2026."""
    for t in ExportType:
        for record in full.records(t):
            for field in dataclasses.fields(record):
                value = getattr(record, field.name)
                if isinstance(value, str):
                    assert value == " ".join(value.split()) and value, (t, field.name, value)
    for order in _of(full, ExportType.ORDERS, Order):
        assert 2025 <= order.created_at.year <= 2026
        for amount in (order.gross_amount, order.total_amount, order.apply_discount):
            assert amount is not None and amount.as_tuple().exponent == -2
    for invoice in _of(full, ExportType.INVOICES, Invoice):
        assert invoice.invoice_date and 2025 <= invoice.invoice_date.year <= 2026
        assert invoice.invoice_amount == (invoice.sales_balance or 0) + (invoice.tax_sum or 0)
        assert invoice.remaining_amount == (invoice.invoice_amount or 0) - (
            invoice.settled_amount or 0
        )
    one_decimal = [
        i.quantity
        for i in _of(full, ExportType.INVOICES, Invoice)
        if i.quantity is not None and i.quantity.as_tuple().exponent == -1
    ]
    assert one_decimal, "some quantities print with one decimal, like 2.112,7"


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
    for key, record in final.items():
        assert current.get(key) == record


def test_mutate_adds_linked_records() -> None:
    """New orders, DDT, invoices and prices point at records that exist (no cascades)."""
    dataset = Dataset.generate(8, 0.02)
    added: list[Record] = []
    for t in (ExportType.ORDERS, ExportType.DDT, ExportType.INVOICES, ExportType.PRICES):
        added += [c.after for c in dataset.mutate(t, 1, 20) if c.op == "add" and c.after]
    profiles = {c.profile for c in _of(dataset, ExportType.CUSTOMERS, Customer)}
    sales_ids = {o.sales_id for o in _of(dataset, ExportType.ORDERS, Order)}
    products = {p.id for p in _of(dataset, ExportType.PRODUCTS, Product)}
    assert {type(r) for r in added} == {Order, Ddt, Invoice, Price}
    for record in added:
        if isinstance(record, Order):
            assert record.customer_profile in profiles
        elif isinstance(record, Ddt | Invoice):
            assert record.sales_id in sales_ids
        elif isinstance(record, Price):
            assert record.item_selection in products


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
    assert len({c.name for c in italian.CITIES}) == len(italian.CITIES)
    for city in italian.CITIES:
        assert re.fullmatch(r"[A-Z]{2}", city.province)
        assert city.cap_first > 0 and city.cap_first + city.cap_span <= 99999
        assert re.fullmatch(r"0\d{1,3}", city.phone_prefix)
        assert re.fullmatch(r"[A-Z]\d{3}", city.cadastral)
