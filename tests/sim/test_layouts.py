"""The six export layouts against spec section 2, and records back out of the grids.

The headers are typed out here from the spec, not imported, so a slip in
``layouts.py`` cannot hide behind itself. :func:`_parse` is a small
independent reader of a grid (cells → canonical records) that proves every
printed value can be recovered as the dataset holds it.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from archid.records import (
    RECORD_TYPES,
    Customer,
    ExportType,
    Invoice,
    Order,
    Product,
    Record,
    to_json,
)
from archid.sim.dataset import Dataset
from archid.sim.grid import Grid
from archid.sim.layouts import (
    FULL_VIEW,
    ExportView,
    build_grid,
    expected_records,
    file_name,
    format_decimal,
    pages,
    truth_json,
)
from tests.spec_layouts import FILE_NAMES, SPEC_HEADERS

SPEC: dict[ExportType, list[list[str]]] = {
    export_type: SPEC_HEADERS[str(export_type)] for export_type in ExportType
}
#: Numeric record-ID columns, which parsers canonicalise to digits (others stay as written).
ID_COLUMNS = {"ID", "PROFILO CLIENTE", "PROFILO CLIENTE:"}
PAGE_WIDTH = 468.0
PADDING = 2.0
FONT_SIZE = 9.75
# Times New Roman advance widths (1/1000 em) for what the exports print; unknown → 1000.
_TIMES = dict.fromkeys("ABCDGHKNOQUVXYÀÈÉÌÒÙ", 722) | dict.fromkeys("EFLPSTZ", 611)
_TIMES |= {"B": 667, "C": 667, "R": 667, "F": 556, "P": 556, "S": 556, "I": 333, "J": 389}
_TIMES |= {"M": 889, "W": 944} | dict.fromkeys("0123456789abdghknopquvxyèéòóù", 500)
_TIMES |= dict.fromkeys("aceàzì", 444) | {"b": 500, "d": 500, "f": 333, "r": 333, "s": 389}
_TIMES |= dict.fromkeys("ijltì", 278) | {"m": 778, "w": 722, "€": 500, "%": 833, "&": 778}
_TIMES |= dict.fromkeys(".,", 250) | dict.fromkeys(":;/", 278) | dict.fromkeys("-()[]'", 333)
_TIMES |= {"@": 921, "_": 500, "=": 564, "?": 444, '"': 408, "<": 564, ">": 564}


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset.generate(21, 0.1)


@pytest.fixture(scope="module")
def full() -> Dataset:
    return Dataset.generate(21, 1.0)


def _rows(grid: Grid) -> list[list[str]]:
    return [list(row) for row in grid.rows]


def _headers(grid: Grid) -> list[list[str]]:
    return [[c.header for c in page] for page in grid.pages]


# -- an independent reader of grids --------------------------------------------------


def _canonical_id(cell: str) -> str:
    groups = cell.split(".")
    if len(groups) > 1 and len(groups[-1]) < 3:  # "55.22" is "55.220" with its zero cut
        groups[-1] = groups[-1].ljust(3, "0")
    return "".join(groups)


def _decimal(cell: str) -> Decimal:
    return Decimal(cell.removesuffix(" €").replace(".", "").replace(",", "."))


def _value(hint: Any, header: str, cell: str, view: ExportView) -> Any:
    text = " ".join(cell.split())
    if not text:
        return None
    hint = next(a for a in typing.get_args(hint) or (hint,) if a is not type(None))
    day_first = "%m/%d/%Y" if view.month_first_dates else "%d/%m/%Y"
    if hint is Decimal:
        return _decimal(text)
    if hint is int:
        return int(text.replace(".", ""))
    if hint is bool:
        assert text in {"Sì", "No", "Checked", "Unchecked"}, text
        return text in {"Sì", "Checked"}
    if hint is datetime:
        return datetime.strptime(text, day_first + " %H:%M:%S")
    if hint is date:
        return datetime.strptime(text, day_first).date()
    return _canonical_id(text) if header in ID_COLUMNS else text


_LINK = re.compile(r'<a href = "([^"]+)" target="_blank">(\S+) (\S+)</a>')


def _json(records: Sequence[Record]) -> list[dict[str, Any]]:
    return [to_json(r) for r in records]


def _parse(t: ExportType, grid: Grid, view: ExportView) -> list[Record]:
    """Records as a correct parser yields them: artefact and junk rows dropped."""
    cls = RECORD_TYPES[t]
    hints = typing.get_type_hints(cls)
    specs = [c for page in pages(t, view) for c in page]
    out: list[Record] = []
    for row in _rows(grid):
        values: dict[str, Any] = {f.name: None for f in dataclasses.fields(cls)}
        for spec, cell in zip(specs, row, strict=True):
            if spec.field is None:
                continue
            if t is ExportType.DDT and spec.field == "tracking_number":
                match = _LINK.fullmatch(cell)
                words = cell.split()
                if match:
                    url, carrier, number = match.groups()
                    values |= {"tracking_url": url}
                elif words:
                    carrier, number = words
                else:
                    continue
                values |= {"tracking_carrier": carrier, "tracking_number": number}
                continue
            values[spec.field] = _value(hints[spec.field], spec.header, cell, view)
        if t is ExportType.CUSTOMERS and values["id"] == "0":
            continue
        if t is ExportType.ORDERS and (values["id"] == "0" or values["created_at"] is None):
            continue
        if t is ExportType.DDT and (values["ddt_number"] is None or values["sales_id"] is None):
            continue
        out.append(cls(**values))
    return out


# -- headers, names, shapes ---------------------------------------------------------


@pytest.mark.parametrize("t", list(ExportType))
def test_headers_page_by_page_are_the_spec(t: ExportType, dataset: Dataset) -> None:
    grid = build_grid(t, dataset.records(t), ExportView())
    assert _headers(grid) == SPEC[t]
    assert file_name(t) == FILE_NAMES[t]


def test_optional_columns_and_pages() -> None:
    orders = build_grid(ExportType.ORDERS, [], ExportView(orders_email_column=True))
    assert _headers(orders)[-1] == ["IMPORTO TOTALE", "ORDINE OMAGGIO:", "E-MAIL"]
    ddt = build_grid(ExportType.DDT, [], ExportView(ddt_extra_page=True))
    assert _headers(ddt)[:6] == SPEC[ExportType.DDT] and len(ddt.pages) == 7


VIEWS = [
    ExportView(),
    FULL_VIEW,
    ExportView(month_first_dates=True, orders_all=False),
    ExportView(products_filter=True, products_all_columns=False, ddt_extra_page=True),
]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("t", list(ExportType))
def test_rows_match_columns_and_pages_fit(
    t: ExportType, view: ExportView, dataset: Dataset
) -> None:
    grid = build_grid(t, dataset.records(t), view)
    for page in grid.pages:
        assert sum(c.width for c in page) <= PAGE_WIDTH
    rows = _rows(grid)
    assert rows and all(len(row) == len(grid.columns) for row in rows)
    assert grid.summary is not None and len(grid.summary) == len(grid.columns)
    for column in grid.columns:
        assert column.header == column.header.upper()
        assert all(_width(word) <= column.width - 2 * PADDING for word in column.header.split())


def _width(word: str) -> float:
    return sum(_TIMES.get(c, 1000) for c in word) * FONT_SIZE / 1000


@pytest.mark.parametrize("t", list(ExportType))
def test_no_word_is_cut_inside(t: ExportType, dataset: Dataset) -> None:
    """The writer breaks only words wider than their column; a break would add a space.

    The DDT tracking HTML is the one exception (its URL is wider than any
    column in the real portal too); the reader there must join the lines.
    """
    grid = build_grid(t, dataset.records(t), FULL_VIEW)
    for row in _rows(grid):
        for column, cell in zip(grid.columns, row, strict=True):
            if column.header == "NUMERO DI TRACCIABILITÀ":
                continue
            for word in cell.split():
                assert _width(word) <= column.width - 2 * PADDING, (column.header, word)


# -- round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("view", [FULL_VIEW, ExportView(month_first_dates=True)])
@pytest.mark.parametrize("t", list(ExportType))
def test_records_come_back_out_of_the_grid(
    t: ExportType, view: ExportView, dataset: Dataset
) -> None:
    grid = build_grid(t, dataset.records(t), view)
    # JSON, not record equality: Decimal("2.10") == Decimal("2.1"), but a parser yields one
    assert _json(_parse(t, grid, view)) == _json(expected_records(t, dataset.records(t), view))
    if view == FULL_VIEW:
        assert expected_records(t, dataset.records(t), view) == dataset.records(t)


def test_round_trip_after_mutations() -> None:
    dataset = Dataset.generate(6, 0.03)
    for t in ExportType:
        dataset.mutate(t, 2, 15)
        grid = build_grid(t, dataset.records(t), FULL_VIEW)
        assert _json(_parse(t, grid, FULL_VIEW)) == _json(dataset.records(t))


def test_truth_json_is_the_expected_records(dataset: Dataset) -> None:
    truth = truth_json(dataset, ExportType.ORDERS)
    assert len(truth) == dataset.count(ExportType.ORDERS)
    assert any(entry["email"] for entry in truth)
    narrow = truth_json(dataset, ExportType.ORDERS, ExportView(orders_all=False))
    assert 0 < len(narrow) < len(truth)
    assert all(entry["email"] is None for entry in narrow)  # no E-MAIL column printed
    assert isinstance(truth[0]["created_at"], str) and isinstance(truth[0]["gross_amount"], str)


# -- formats ----------------------------------------------------------------------------


def test_italian_number_formats() -> None:
    assert format_decimal(Decimal("124497.43"), euro=True) == "124.497,43 €"
    assert format_decimal(Decimal("-2150.88"), euro=True) == "-2.150,88 €"
    assert format_decimal(Decimal("2112.7")) == "2.112,7"
    assert format_decimal(Decimal("1.00")) == "1,00"
    assert format_decimal(Decimal("117054")) == "117.054"
    assert format_decimal(Decimal("-0.00")) == "0,00"


def _column(grid: Grid, header: str, occurrence: int = 0) -> list[str]:
    indexes = [i for i, c in enumerate(grid.columns) if c.header == header]
    return [row[indexes[occurrence]] for row in _rows(grid)]


def test_cells_use_italian_formats(dataset: Dataset) -> None:
    invoices = build_grid(ExportType.INVOICES, dataset.records(ExportType.INVOICES), ExportView())
    amounts = [c for c in _column(invoices, "IMPORTO FATTURA MST") if c]
    assert all(re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d\d €", a) for a in amounts)
    assert any(a.startswith("-") for a in amounts)
    assert all(
        re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d\d", c) for c in _column(invoices, "SOMMA FISCALE MST")
    )
    assert all(re.fullmatch(r"\d\d/\d\d/20\d\d", d) for d in _column(invoices, "DATA FATTURA"))
    assert all(re.fullmatch(r"0\d{5}", a) for a in _column(invoices, "CONTO FATTURE"))
    assert all(c == "" for c in _column(invoices, "FATTURA PDF"))
    assert set(_column(invoices, "CHIUSO")) <= {"Sì", "No"}
    invoice_ids = _column(invoices, "ID FATTURA")
    assert any(i.startswith("NC/") for i in invoice_ids)
    assert all(re.fullmatch(r"(CF1|NC)/\d{8}", i) for i in invoice_ids)

    orders = build_grid(ExportType.ORDERS, dataset.records(ExportType.ORDERS), ExportView())
    created = [c for c in _column(orders, "DATA DI CREAZIONE") if c]
    assert all(re.fullmatch(r"\d\d/\d\d/20\d\d \d\d:\d\d:\d\d", c) for c in created)
    assert all(re.fullmatch(r"\d{1,3}(\.\d{3})+|0|\d{3}", c) for c in _column(orders, "ID"))
    addresses = [a for a in _column(orders, "INDIRIZZO DI CONSEGNA") if a]
    assert all(re.fullmatch(r"[^\n]+\n\d{5} [^\n]+ [A-Z]{2}", a) for a in addresses)
    assert set(_column(orders, "PREVENTIVO:")) <= {"Sì", "No", ""}
    assert set(_column(orders, "ORDINE OMAGGIO:")) <= {"Checked", "Unchecked", ""}

    products = build_grid(ExportType.PRODUCTS, dataset.records(ExportType.PRODUCTS), ExportView())
    assert set(_column(products, "IMMAGINE")) == {"System.Byte[]"}
    assert set(_column(products, "FERMATO")) == {"Checked", "Unchecked"}
    assert all(re.fullmatch(r"\d\.\d{3}\.\d{3}\.\d{3}", c) for c in _column(products, "ID"))


def test_month_first_view_swaps_day_and_month(dataset: Dataset) -> None:
    records = dataset.records(ExportType.ORDERS)
    italian = _column(build_grid(ExportType.ORDERS, records, ExportView()), "DATA DI CREAZIONE")
    english = _column(
        build_grid(ExportType.ORDERS, records, ExportView(month_first_dates=True)),
        "DATA DI CREAZIONE",
    )
    pairs = [(i, e) for i, e in zip(italian, english, strict=True) if i]
    assert pairs
    for it, en in pairs:
        assert en == f"{it[3:5]}/{it[0:2]}/{it[6:]}"
    assert any(it != en for it, en in pairs)


def test_profile_spelled_three_ways_in_orders(full: Dataset) -> None:
    grid = build_grid(ExportType.ORDERS, full.records(ExportType.ORDERS), ExportView())
    cells = {c for c in _column(grid, "PROFILO CLIENTE:") if c}
    assert any(re.fullmatch(r"\d{1,3}\.\d{3}", c) for c in cells)
    assert any(re.fullmatch(r"\d{4,}", c) for c in cells)
    assert any(re.fullmatch(r"\d{1,3}\.\d{1,2}", c) for c in cells)


def test_tracking_cells(full: Dataset) -> None:
    grid = build_grid(ExportType.DDT, full.records(ExportType.DDT), ExportView())
    cells = _column(grid, "NUMERO DI TRACCIABILITÀ")
    html = [c for c in cells if c.startswith("<a ")]
    plain = [c for c in cells if c and not c.startswith("<a ")]
    assert html and plain and "" in cells
    assert any(
        re.fullmatch(
            r'<a href = "https://www\.fedex\.com/fedextrack/\?trknbr=(\d{12})&locale=it_IT" '
            r'target="_blank">fedex \1</a>',
            c,
        )
        for c in html
    )
    assert all(re.fullmatch(r"[a-z]+ [0-9A-Z]+", c) for c in plain)
    assert set(_column(grid, "PDF DDT")) == {""}


# -- selection and noise ---------------------------------------------------------------------


def test_open_orders_only(dataset: Dataset) -> None:
    records = dataset.records(ExportType.ORDERS)
    view = ExportView(orders_all=False)
    grid = build_grid(ExportType.ORDERS, records, view)
    statuses = set(_column(grid, "STATO DELLE VENDITE"))
    assert not statuses & {"Consegnato", "Fatturato"}
    kept = _parse(ExportType.ORDERS, grid, view)
    closed = [
        r for r in records if isinstance(r, Order) and r.sales_status in {"Consegnato", "Fatturato"}
    ]
    assert closed and len(kept) == len(records) - len(closed)


def test_saved_products_filter_shrinks_to_about_nine_percent(full: Dataset) -> None:
    records = full.records(ExportType.PRODUCTS)
    kept = expected_records(ExportType.PRODUCTS, records, ExportView(products_filter=True))
    assert 0.06 * len(records) < len(kept) < 0.12 * len(records)
    again = expected_records(ExportType.PRODUCTS, records, ExportView(products_filter=True))
    assert kept == again


def test_hidden_product_columns_give_five_pages(dataset: Dataset) -> None:
    records = dataset.records(ExportType.PRODUCTS)
    view = ExportView(products_all_columns=False)
    grid = build_grid(ExportType.PRODUCTS, records, view)
    assert len(grid.pages) == 5
    headers = [h for page in _headers(grid) for h in page]
    assert "IMMAGINE" not in headers and headers[0] == "ID ARTICOLO"
    assert set(headers) < {h for page in SPEC[ExportType.PRODUCTS] for h in page}
    parsed = _parse(ExportType.PRODUCTS, grid, view)
    assert _json(parsed) == _json(expected_records(ExportType.PRODUCTS, records, view))
    assert all(isinstance(p, Product) and p.data_area_id is None for p in parsed)
    assert parsed != records


def test_artefact_rows_in_the_real_proportion(full: Dataset) -> None:
    grid = build_grid(ExportType.CUSTOMERS, full.records(ExportType.CUSTOMERS), ExportView())
    rows = _rows(grid)
    artefacts = [r for r in rows if r[0] == "0"]
    assert len(rows) == 2939 and len(artefacts) == 1424
    assert all(r[2] == "Customer/Potential from Concessionario" for r in artefacts)
    assert all(sum(bool(c) for c in r) <= 3 for r in artefacts)
    first_half = sum(r[0] == "0" for r in rows[: len(rows) // 2])
    assert abs(first_half - 712) < 20  # spread through the export, not bunched


def test_junk_rows_are_printed_and_dropped(dataset: Dataset) -> None:
    orders = build_grid(ExportType.ORDERS, dataset.records(ExportType.ORDERS), ExportView())
    ids = _column(orders, "ID")
    created = _column(orders, "DATA DI CREAZIONE")
    assert "0" in ids
    assert any(i not in ("", "0") and not c for i, c in zip(ids, created, strict=True))
    assert len(ids) > dataset.count(ExportType.ORDERS)
    ddt = build_grid(ExportType.DDT, dataset.records(ExportType.DDT), ExportView())
    numbers = _column(ddt, "DOCUMENTO DI TRASPORTO:")
    sales = _column(ddt, "ID DI VENDITA")
    assert "" in numbers and "" in sales
    assert len(numbers) > dataset.count(ExportType.DDT)


# -- summaries -----------------------------------------------------------------------------


def _summary(grid: Grid, header: str) -> str:
    assert grid.summary is not None
    index = next(i for i, c in enumerate(grid.columns) if c.header == header)
    return grid.summary[index]


def _sum(cells: Sequence[str]) -> Decimal:
    return sum((_decimal(c) for c in cells if c), Decimal(0))


@pytest.mark.parametrize(
    ("t", "count_header", "sum_headers"),
    [
        (ExportType.CUSTOMERS, "ID", []),
        (ExportType.PRODUCTS, "ID ARTICOLO", []),
        (ExportType.PRICES, "ID", []),
        (ExportType.ORDERS, "ID", ["IMPORTO LORDO:", "IMPORTO TOTALE"]),
        (ExportType.DDT, "ID", ["TOTALE"]),
        (
            ExportType.INVOICES,
            "ID FATTURA",
            [
                "SALDO VENDITE MST",
                "SOMMA FISCALE MST",
                "IMPORTO FATTURA MST",
                "IMPORTO RIMANENTE MST",
            ],
        ),
    ],
)
def test_summary_agrees_with_printed_rows(
    t: ExportType, count_header: str, sum_headers: list[str], dataset: Dataset
) -> None:
    grid = build_grid(t, dataset.records(t), ExportView())
    rows = _rows(grid)
    assert _summary(grid, count_header) == f"Count={len(rows):,}".replace(",", ".")
    for header in sum_headers:
        printed = _summary(grid, header)
        assert printed.startswith("Sum=") and "€" not in printed
        assert _decimal(printed.removeprefix("Sum=")) == _sum(_column(grid, header))
    assert grid.summary is not None
    filled = [c for c in grid.summary if c]
    assert len(filled) == 1 + len(sum_headers)


def test_sums_are_over_records(dataset: Dataset) -> None:
    records = [r for r in dataset.records(ExportType.INVOICES) if isinstance(r, Invoice)]
    grid = build_grid(ExportType.INVOICES, records, ExportView())
    total = sum((r.invoice_amount or Decimal(0) for r in records), Decimal(0))
    assert _summary(grid, "IMPORTO FATTURA MST") == "Sum=" + format_decimal(total)
    customers = [r for r in dataset.records(ExportType.CUSTOMERS) if isinstance(r, Customer)]
    grid = build_grid(ExportType.CUSTOMERS, customers, ExportView())
    assert _summary(grid, "ID") == f"Count={len(_rows(grid))}".replace(",", ".")
    assert len(_rows(grid)) > len(customers)  # artefact rows are counted: they are grid rows
