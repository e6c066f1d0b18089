"""The six export specs against spec section 2 and the record types."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from archid.exports import SPECS, Drop, spec_for_file_name
from archid.exports.ddt import TRACKING
from archid.exports.values import Tracking
from archid.records import Customer, Ddt, ExportType, Order, Price, Product
from tests.spec_layouts import SPEC_HEADERS

#: columns the spec names that are not always there
OPTIONAL = {
    ExportType.ORDERS: {"E-MAIL"},
    ExportType.PRODUCTS: {"IMMAGINE"},
    ExportType.DDT: {"PDF DDT"},
    ExportType.INVOICES: {"FATTURA PDF"},
}


def test_every_type_has_a_spec() -> None:
    assert list(SPECS) == list(ExportType)
    for t, spec in SPECS.items():
        assert spec.type is t


@pytest.mark.parametrize("t", list(ExportType))
def test_headers_are_the_spec_headers_in_order(t: ExportType) -> None:
    spec = SPECS[t]
    required = [c.header for c in spec.columns if not c.optional]
    wanted = [h for page in SPEC_HEADERS[t.value] for h in page if h not in OPTIONAL.get(t, ())]
    assert required == wanted
    assert {c.header for c in spec.columns if c.optional} == OPTIONAL.get(t, set())
    if t is ExportType.ORDERS:
        assert spec.columns[-1].header == "E-MAIL"


@pytest.mark.parametrize("t", list(ExportType))
def test_fields_cover_the_record_exactly(t: ExportType) -> None:
    spec = SPECS[t]
    fields = [c.field for c in spec.columns if c.field is not None]
    assert len(fields) == len(set(fields)), "a field fed by two columns"
    record_fields = {f.name for f in dataclasses.fields(spec.record)}
    if t is ExportType.DDT:
        record_fields -= {"tracking_carrier", "tracking_number", "tracking_url"}
        record_fields.add(TRACKING)
    assert set(fields) == record_fields


def test_noise_columns_feed_nothing() -> None:
    noise = {(t, c.header) for t, spec in SPECS.items() for c in spec.columns if c.field is None}
    assert noise == {
        (ExportType.PRODUCTS, "IMMAGINE"),
        (ExportType.DDT, "PDF DDT"),
        (ExportType.INVOICES, "FATTURA PDF"),
    }


def test_article_codes_are_never_read_as_numeric_ids() -> None:
    products = {c.header: c for c in SPECS[ExportType.PRODUCTS].columns}
    assert products["ID ARTICOLO"].convert(("H1.314.016",)) == "H1.314.016"
    assert products["ID ARTICOLO"].convert(("55.220",)) == "55.220"
    prices = {c.header: c for c in SPECS[ExportType.PRICES].columns}
    assert prices["ITEM SELECTION:"].convert(("H1.314.016",)) == "H1.314.016"


def test_account_numbers_keep_leading_zeros() -> None:
    invoices = {c.header: c for c in SPECS[ExportType.INVOICES].columns}
    assert invoices["CONTO FATTURE"].convert(("049421",)) == "049421"
    customers = {c.header: c for c in SPECS[ExportType.CUSTOMERS].columns}
    assert customers["NUMERO DI CONTO ESTERNO"].convert(("049421",)) == "049421"


def _values(t: ExportType, **given: Any) -> dict[str, Any]:
    out: dict[str, Any] = {c.field: None for c in SPECS[t].columns if c.field is not None}
    out.update(given)
    return out


def test_customer_artefacts_are_dropped() -> None:
    finish = SPECS[ExportType.CUSTOMERS].finish
    assert finish(_values(ExportType.CUSTOMERS, id="0", name="x")) == Drop("artefact")
    record = finish(_values(ExportType.CUSTOMERS, id="71039"))
    assert isinstance(record, Customer) and record.id == "71039"


NOW = datetime(2026, 1, 20, 12, 4, 22)


@pytest.mark.parametrize(
    ("raw", "created", "outcome"),
    [
        ("0", NOW, Drop("id 0")),
        ("0", None, Drop("id 0")),
        ("ABC", NOW, Drop("non-numeric id")),
        ("101", None, Drop("no creation date")),
        (None, NOW, Drop("no id")),
    ],
)
def test_junk_orders_are_dropped(raw: str | None, created: datetime | None, outcome: Drop) -> None:
    finish = SPECS[ExportType.ORDERS].finish
    assert finish(_values(ExportType.ORDERS, id=raw, created_at=created)) == outcome


def test_orders_keep_drafts_and_canonicalise_the_id() -> None:
    finish = SPECS[ExportType.ORDERS].finish
    draft = finish(_values(ExportType.ORDERS, id="71.039", created_at=NOW))
    assert isinstance(draft, Order)
    assert (draft.id, draft.sales_id, draft.email) == ("71039", None, None)


def test_ddt_without_numbers_are_dropped_and_tracking_is_split() -> None:
    finish = SPECS[ExportType.DDT].finish
    base = {"id": "1234", "ddt_number": "DDT/26000724", "sales_id": "ORD/26000752"}
    assert finish(_values(ExportType.DDT, **{**base, "ddt_number": None})) == Drop("no ddt number")
    assert finish(_values(ExportType.DDT, **{**base, "sales_id": None})) == Drop("no order number")
    plain = finish(_values(ExportType.DDT, **base))
    assert isinstance(plain, Ddt)
    assert (plain.tracking_carrier, plain.tracking_number, plain.tracking_url) == (None,) * 3
    tracked = finish(
        _values(
            ExportType.DDT, **base, tracking=Tracking("fedex", "445291890750", "https://f.com/x")
        )
    )
    assert isinstance(tracked, Ddt)
    assert tracked.tracking_carrier == "fedex"
    assert tracked.tracking_number == "445291890750"
    assert tracked.tracking_url == "https://f.com/x"


def test_prices_product_id_falls_back_to_the_id() -> None:
    finish = SPECS[ExportType.PRICES].finish
    price = finish(_values(ExportType.PRICES, id="4242", unit_price=Decimal("1.00")))
    assert isinstance(price, Price) and price.product_id == "4242"
    product = SPECS[ExportType.PRODUCTS].finish(_values(ExportType.PRODUCTS, id="H1.314.016"))
    assert isinstance(product, Product)


@pytest.mark.parametrize(
    ("name", "t"),
    [
        ("Clienti.pdf", ExportType.CUSTOMERS),
        ("prodotti.PDF", ExportType.PRODUCTS),
        ("Tabella prezzi.pdf", ExportType.PRICES),
        ("Ordini cliente.pdf", ExportType.ORDERS),
        ("Giornale di registrazione bolla di consegna.pdf", ExportType.DDT),
        ("Giornale di registrazione fatture cliente.pdf", ExportType.INVOICES),
    ],
)
def test_file_names(name: str, t: ExportType) -> None:
    spec = spec_for_file_name(name)
    assert spec is not None and spec.type is t


def test_unknown_file_name() -> None:
    assert spec_for_file_name("export.pdf") is None
