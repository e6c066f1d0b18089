"""The six export specs against spec v2 section 2 (``tests.spec_layouts``) and the records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from archid.exports import SPECS, Drop, spec_for_file_name
from archid.exports.ddt import TRACKING, TRACKING_FIELDS
from archid.exports.parse import match_headers
from archid.exports.values import Tracking
from archid.records import Ddt, ExportType, Order, Price, data_fields
from tests.spec_layouts import (
    ENGLISH_FILE_NAMES,
    EPOCH_HEADERS,
    FILE_NAMES,
    FRESH_PRODUCTS,
    INVOICES_WITHOUT_ORDER,
)

#: columns a session may not show, and columns that are always empty
OPTIONAL = {
    ExportType.ORDERS: {"E-MAIL"},
    ExportType.PRODUCTS: {"IMMAGINE:", "ID ELEMENTO IVAID"},
    ExportType.DDT: {"PDF DDT"},
    ExportType.INVOICES: {"FATTURA PDF", "ID VENDITE"},
}

#: the key's columns, and what decides whether a row is a record
STRICT = {
    ExportType.CUSTOMERS: {"ID"},
    ExportType.PRODUCTS: {"ID ARTICOLO"},
    ExportType.PRICES: {"ITEM SELECTION:", "ACCOUNT:", "DA DATA", "QUANTITÀIMPORTODA",
                        "QUANTITÀIMPORTO"},
    ExportType.ORDERS: {"ID", "ID DI VENDITA", "DATA DI CREAZIONE"},
    ExportType.DDT: {"DOCUMENTO DI TRASPORTO:", "ID DI VENDITA"},
    ExportType.INVOICES: {"ID FATTURA"},
}  # fmt: skip


def test_every_type_has_a_spec() -> None:
    assert list(SPECS) == list(ExportType)
    for t, spec in SPECS.items():
        assert spec.type is t


@pytest.mark.parametrize("epoch", list(EPOCH_HEADERS))
@pytest.mark.parametrize("t", list(ExportType))
def test_every_header_of_every_epoch_is_a_known_column(epoch: str, t: ExportType) -> None:
    pages = EPOCH_HEADERS[epoch][t.value]
    match = match_headers(SPECS[t], pages)
    unknown = [h for _, h in match.unknown]
    if t is ExportType.DDT and epoch == "2026-03":
        assert unknown == ["PESO LORDO:", "NUMERO DI COLLI", "VETTORE ESTERNO"]
    else:
        assert unknown == []
    assert match.missing == []
    assert {c.header for c in match.absent} <= OPTIONAL.get(t, set())


@pytest.mark.parametrize("t", list(ExportType))
def test_headers_are_the_newest_layouts_in_order(t: ExportType) -> None:
    newest = [h for page in EPOCH_HEADERS["2026-03"][t.value] for h in page]
    if t is ExportType.DDT:
        newest = newest[:-3]  # the seventh page archid does not know
    assert [c.header for c in SPECS[t].columns] == newest
    assert {c.header for c in SPECS[t].columns if c.optional} == OPTIONAL.get(t, set())
    assert {c.header for c in SPECS[t].columns if c.strict} == STRICT[t]


def test_optional_and_hidden_columns() -> None:
    products = match_headers(SPECS[ExportType.PRODUCTS], FRESH_PRODUCTS)
    assert len(products.missing) == 16  # the 18 hidden but IMMAGINE: and ID ELEMENTO IVAID
    invoices = match_headers(SPECS[ExportType.INVOICES], INVOICES_WITHOUT_ORDER)
    assert invoices.missing == [] and [c.header for c in invoices.absent] == ["ID VENDITE"]


@pytest.mark.parametrize("t", list(ExportType))
def test_fields_cover_the_record_exactly(t: ExportType) -> None:
    spec = SPECS[t]
    fields = [c.field for c in spec.columns if c.field is not None]
    assert len(fields) == len(set(fields)), "a field fed by two columns"
    record_fields = [f.name for f in data_fields(spec.record)]
    if t is ExportType.DDT:
        record_fields = [f for f in record_fields if f not in TRACKING_FIELDS] + [TRACKING]
    assert sorted(fields) == sorted(record_fields)


def test_noise_columns_feed_nothing() -> None:
    noise = {(t, c.header) for t, spec in SPECS.items() for c in spec.columns if c.field is None}
    assert noise == {
        (ExportType.PRODUCTS, "IMMAGINE:"),
        (ExportType.DDT, "PDF DDT"),
        (ExportType.INVOICES, "FATTURA PDF"),
    }


def convert(t: ExportType, header: str, *lines: str, occurrence: int = 0) -> Any:
    columns = [c for c in SPECS[t].columns if c.header == header]
    return columns[occurrence].convert(lines)


@pytest.mark.parametrize(
    ("t", "header", "text", "value"),
    [
        # codes keep their leading zeros: text, never numbers
        (ExportType.CUSTOMERS, "PROFILO CLIENTE:", "049421", "049421"),
        (ExportType.CUSTOMERS, "INDIRIZZO LOGISTICO CAP", "00185", "00185"),
        (ExportType.INVOICES, "CONTO FATTURE", "049421", "049421"),
        (ExportType.DDT, "CONTO DELL'ORDINE", "049421", "049421"),
        (ExportType.ORDERS, "PROFILO CLIENTE:", "049421", "049421"),
        (ExportType.PRICES, "ACCOUNT:", "002", "002"),
        (ExportType.PRICES, "ITEM SELECTION:", "021752K1", "021752K1"),
        (ExportType.PRODUCTS, "ID ARTICOLO", "005159K2", "005159K2"),
        (ExportType.PRODUCTS, "ID ARTICOLO", "10019197", "10019197"),
        (ExportType.PRODUCTS, "ID UNITÀ", "001", "001"),
        # record IDs canonicalised
        (ExportType.CUSTOMERS, "ID", "57.185", "57185"),
        (ExportType.PRODUCTS, "ID", "70.962", "70962"),
        (ExportType.DDT, "ID", "55.22", "55220"),
        (ExportType.PRICES, "ID", "4", "4"),
        # captions that do not say what the column holds
        (ExportType.INVOICES, "CHIUSO", "30/12/2025", date(2025, 12, 30)),
        (ExportType.PRICES, "PREZZO NETTO BRASSELER", "No", False),
        (ExportType.DDT, "CITTÀ DI CONSEGNA", "a@b.it;", "a@b.it;"),
        (ExportType.DDT, "TOTALE", "1.002", 1002),
        (ExportType.CUSTOMERS, "TIPO DI CLIENTE", "124.497,43 €", Decimal("124497.43")),
        (ExportType.CUSTOMERS, "TERMINI DI CONSEGNA", "FedEx", "FedEx"),
        (ExportType.ORDERS, "RIMANI VENDITE FINANZIARIE", "4846", "4846"),
        # typed from the spec's examples
        (ExportType.ORDERS, "APPLICA SCONTO %:", "21,49 %", Decimal("21.49")),
        (ExportType.ORDERS, "ORDINE OMAGGIO:", "Unchecked", False),
        (ExportType.ORDERS, "DATA DI CREAZIONE", "20/01/2026 12:04:22",
         datetime(2026, 1, 20, 12, 4, 22)),
        (ExportType.INVOICES, "QUANTITÀ", "1.095", 1095),
        (ExportType.INVOICES, "SALDO VENDITE MST", "2.112,7", Decimal("2112.7")),
        (ExportType.INVOICES, "OLTRE I GIORNI DI SCADENZA", "12", 12),
        (ExportType.PRODUCTS, "QTÀ MINIMA:", "1,00", Decimal("1.00")),
        (ExportType.PRODUCTS, "DATA CREATA", "02/03/2015 08:00:00", datetime(2015, 3, 2, 8)),
        (ExportType.PRODUCTS, "FERMATO", "No", False),
        (ExportType.PRICES, "QUANTITÀIMPORTO", "100.000.000", Decimal(100_000_000)),
        # no example in the spec: kept as text
        (ExportType.PRODUCTS, "SCONTO LINEA", "Checked", "Checked"),
        (ExportType.PRODUCTS, "ARTICOLO ORDINABILE:", "Sì", "Sì"),
        (ExportType.PRODUCTS, "CONTENUTO DELL'IMBALLAGGIO", "5", "5"),
        (ExportType.PRODUCTS, "SCONTO ASSOLUTO TOTALE:", "0,00", "0,00"),
    ],
)  # fmt: skip
def test_columns_hold_what_the_spec_shows(
    t: ExportType, header: str, text: str, value: Any
) -> None:
    assert convert(t, header, text) == value


def test_the_two_vendite_precedente_feed_two_years() -> None:
    fields = [
        c.field for c in SPECS[ExportType.CUSTOMERS].columns if c.header == "VENDITE PRECEDENTE"
    ]
    assert fields == ["sales_last_year", "sales_year_before"]


def _values(t: ExportType, **given: Any) -> dict[str, Any]:
    out: dict[str, Any] = {c.field: None for c in SPECS[t].columns if c.field is not None}
    out["unread"] = frozenset()
    out.update(given)
    return out


NOW = datetime(2026, 1, 20, 12, 4, 22)


@pytest.mark.parametrize(
    ("raw", "created", "outcome"),
    [
        ("ABC", NOW, Drop("non-numeric id")),
        ("Count=999", NOW, Drop("non-numeric id")),
        ("101", None, Drop("no creation date")),
        (None, NOW, Drop("no id")),
    ],
)
def test_rows_that_are_not_orders_are_dropped(
    raw: str | None, created: datetime | None, outcome: Drop
) -> None:
    finish = SPECS[ExportType.ORDERS].finish
    assert finish(_values(ExportType.ORDERS, id=raw, created_at=created)) == outcome


def test_orders_keep_drafts_and_canonicalise_the_id() -> None:
    finish = SPECS[ExportType.ORDERS].finish
    draft = finish(_values(ExportType.ORDERS, id="70.962", created_at=NOW))
    assert isinstance(draft, Order)
    assert (draft.id, draft.order_number, draft.key) == ("70962", None, "70962")
    order = finish(
        _values(ExportType.ORDERS, id="70.962", order_number="ORD/26000887", created_at=NOW)
    )
    assert isinstance(order, Order) and order.key == "ORD/26000887"


def test_ddt_without_numbers_are_dropped_and_tracking_is_split() -> None:
    finish = SPECS[ExportType.DDT].finish
    base = {"id": "1234", "ddt_number": "DDT/26000724", "order_number": "ORD/26000752"}
    assert finish(_values(ExportType.DDT, **{**base, "ddt_number": None})) == Drop("no ddt number")
    assert finish(_values(ExportType.DDT, **{**base, "order_number": None})) == Drop(
        "no order number"
    )
    plain = finish(_values(ExportType.DDT, **base))
    assert isinstance(plain, Ddt)
    assert (plain.tracking_carrier, plain.tracking_number, plain.tracking_url) == (None,) * 3
    tracking = Tracking("fedex", "445291890750", "https://f.com/x")
    tracked = finish(_values(ExportType.DDT, **base, tracking=tracking))
    assert isinstance(tracked, Ddt)
    assert (tracked.tracking_carrier, tracked.tracking_number) == ("fedex", "445291890750")
    unread = finish(_values(ExportType.DDT, **base, unread=frozenset({TRACKING, "quantity"})))
    assert isinstance(unread, Ddt)
    assert unread.unread == {"quantity", *TRACKING_FIELDS}


def test_prices_are_keyed_by_what_they_price() -> None:
    finish = SPECS[ExportType.PRICES].finish
    assert finish(_values(ExportType.PRICES, id="4")) == Drop("no article")
    price = finish(
        _values(
            ExportType.PRICES,
            id="4",
            article="021752K1",
            price_group="002",
            valid_from=date(2026, 1, 1),
            qty_from=Decimal("1"),
            qty_to=Decimal("100000000"),
        )
    )
    assert isinstance(price, Price) and price.key == "021752K1|002|2026-01-01|1|100000000"


@pytest.mark.parametrize("t", list(ExportType))
def test_file_names(t: ExportType) -> None:
    spec = spec_for_file_name(FILE_NAMES[t.value].upper())
    assert spec is not None and spec.type is t
    assert spec_for_file_name(ENGLISH_FILE_NAMES[t.value]) is None
    assert SPECS[t].english_file_names == (ENGLISH_FILE_NAMES[t.value],)


@pytest.mark.parametrize(
    ("name", "t"),
    [
        ("Ordini cliente.pdf", ExportType.ORDERS),
        ("Giornale di registrazione bolla di consegna.pdf", ExportType.DDT),
        ("Giornale di registrazione fatture cliente.pdf", ExportType.INVOICES),
    ],
)
def test_other_italian_file_names(name: str, t: ExportType) -> None:
    spec = spec_for_file_name(name)
    assert spec is not None and spec.type is t


def test_unknown_file_name() -> None:
    assert spec_for_file_name("export.pdf") is None
