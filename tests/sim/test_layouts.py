"""The six exports as spec v2 lays them out: headers per epoch, pages, rows, values, summaries."""

from __future__ import annotations

import dataclasses
import io
import re
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from archid.records import Ddt, ExportType, Order, Record, data_fields
from archid.sim.dataset import Dataset
from archid.sim.font import Font, load_font
from archid.sim.grid import Column, Grid
from archid.sim.layouts import (
    FULL_VIEW,
    ExportView,
    build_grid,
    default_hidden,
    expected_records,
    file_name,
    headers,
    printed_sum,
    tracking_cell,
    truth_json,
    unread_fields,
)
from archid.sim.pdfwriter import LINE_HEIGHT, ROW_HEIGHT, WriteStats, write_grid_pdf
from tests.conftest import SIM_SCALE, SIM_SEED
from tests.pdftext import Page, read_pages
from tests.spec_layouts import (
    DDT_UNKNOWN_PAGE,
    ENGLISH_FILE_NAMES,
    EPOCH_HEADERS,
    EPOCHS,
    FILE_NAMES,
    FRESH_PRODUCTS,
    INVOICES_WITHOUT_ORDER,
)

JANUARY = ExportView(layout="2026-01")
#: a fresh ``2026-03`` session's products (18 columns) and invoices without ID VENDITE
FRESH = ExportView(hidden=default_hidden(ExportType.PRODUCTS) | {"ID VENDITE"})
#: seconds one export of scale 1 may take to build and write (the README says about one)
EXPORT_BUDGET_S = 3.0


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset.generate(SIM_SEED, SIM_SCALE)


@pytest.fixture(scope="module")
def full() -> Dataset:
    return Dataset.generate(1, 1.0)


@pytest.fixture(scope="module")
def font() -> Font:
    return load_font(None)


class _Sink:
    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def render(
    t: ExportType, dataset: Dataset, view: ExportView, font: Font, tmp: Path
) -> tuple[Path, WriteStats]:
    out = io.BytesIO()
    stats = write_grid_pdf(out, build_grid(t, dataset.records(t), view), font)
    path = tmp / f"{t}-{view.layout}-{abs(hash(view.cache_key()))}.pdf"
    path.write_bytes(out.getvalue())
    return path, stats


def column(grid: Grid, header: str, occurrence: int = 0) -> list[str]:
    """The cells of ``grid`` under the ``occurrence``-th column headed ``header``."""
    indexes = [i for i, c in enumerate(grid.columns) if c.header == header]
    index = indexes[occurrence]
    return [row[index] for row in grid.rows]


def summary_cell(grid: Grid, header: str) -> str:
    assert grid.summary is not None
    return grid.summary[next(i for i, c in enumerate(grid.columns) if c.header == header)]


# -- headers per layout epoch ----------------------------------------------------


@pytest.mark.parametrize("epoch", EPOCHS)
@pytest.mark.parametrize("t", list(ExportType))
def test_headers_are_the_spec_ones_exactly_as_printed(
    t: ExportType, epoch: str, dataset: Dataset, font: Font, tmp_path: Path
) -> None:
    expected = EPOCH_HEADERS[epoch][t]
    path, stats = render(t, dataset, ExportView(layout=epoch), font, tmp_path)
    pages = read_pages(path)
    assert stats.cycle_length == len(expected)
    assert len(pages) == stats.cycles * len(expected)
    for number, page in enumerate(pages):
        assert page.header_cells() == expected[number % len(expected)], (t, epoch, number + 1)
        assert (page.width, page.height) == (612, 792)


def test_epochs_differ_as_the_layout_history_says() -> None:
    january, march = EPOCH_HEADERS["2026-01"], EPOCH_HEADERS["2026-03"]
    lengths = {t: (len(january[t]), len(march[t])) for t in january}
    assert lengths == {
        "customers": (8, 9),
        "products": (8, 9),
        "prices": (3, 3),
        "orders": (7, 7),
        "ddt": (6, 7),
        "invoices": (7, 7),
    }
    assert march["ddt"][-1] == DDT_UNKNOWN_PAGE
    flat = {
        e: {t: sorted(h for p in v for h in p) for t, v in d.items()}
        for e, d in EPOCH_HEADERS.items()
    }
    assert flat["2026-01"]["customers"] == flat["2026-03"]["customers"], "same 26 columns"
    assert set(flat["2026-03"]["orders"]) - set(flat["2026-01"]["orders"]) == {"E-MAIL"}
    assert set(flat["2026-03"]["products"]) - set(flat["2026-01"]["products"]) == {
        "ID ELEMENTO IVAID"
    }


def test_column_chooser_states(dataset: Dataset, font: Font, tmp_path: Path) -> None:
    fresh, _ = render(ExportType.PRODUCTS, dataset, FRESH, font, tmp_path)
    assert [p.header_cells() for p in read_pages(fresh, max_pages=5)] == FRESH_PRODUCTS
    # January's layout hid nothing: all 8 pages even in a fresh session
    january = dataclasses.replace(FRESH, layout="2026-01")
    _, stats = render(ExportType.PRODUCTS, dataset, january, font, tmp_path)
    assert stats.cycle_length == 8
    for view in (FRESH, january):
        path, _ = render(ExportType.INVOICES, dataset, view, font, tmp_path)
        assert [p.header_cells() for p in read_pages(path, max_pages=7)] == INVOICES_WITHOUT_ORDER


# -- volumes and pages at scale 1 ----------------------------------------------------


@pytest.mark.parametrize(
    ("t", "view", "cycle", "pages"),
    [
        (ExportType.CUSTOMERS, JANUARY, 8, 256),
        (ExportType.CUSTOMERS, FULL_VIEW, 9, 288),
        (ExportType.ORDERS, JANUARY, 7, 280),
        (ExportType.PRICES, FULL_VIEW, 3, 318),
        (ExportType.INVOICES, JANUARY, 7, 35),
    ],
)
def test_scale_one_prints_the_real_page_counts(
    full: Dataset, font: Font, t: ExportType, view: ExportView, cycle: int, pages: int
) -> None:
    """Spec v2: 1,452 customers on 256 pages, 999 orders on 280, 128 invoices on 35,
    4,976 prices on about 318."""
    started = time.perf_counter()
    stats = write_grid_pdf(_Sink(), build_grid(t, full.records(t), view), font)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    assert (stats.cycle_length, stats.pages) == (cycle, pages)
    assert stats.rows == full.count(t)
    assert elapsed < EXPORT_BUDGET_S, f"{t} took {elapsed:.2f} s"


def _row_heights(page: Page) -> list[float]:
    """Heights of the data rows on a page, top down, from the white cell rectangles."""
    cells = [
        r
        for r in page.rects
        if r.gray == 1.0 and r.x1 - r.x0 > 4 and r.y1 - r.y0 > 4 and r.y1 - r.y0 < 700
    ]
    rows = sorted({(round(r.y1, 2), round(r.y1 - r.y0, 2)) for r in cells}, reverse=True)
    return [height for _top, height in rows]


def _header_height(page: Page) -> float:
    gray = {round(r.y1 - r.y0, 2) for r in page.rects if r.gray is not None and 0.4 < r.gray < 0.6}
    assert len(gray) == 1
    return gray.pop()


@pytest.mark.parametrize("t", list(ExportType))
def test_rows_are_13_5_pt_plus_11_25_per_line_and_even_across_a_cycle(
    t: ExportType, dataset: Dataset, font: Font, tmp_path: Path
) -> None:
    path, stats = render(t, dataset, FULL_VIEW, font, tmp_path)
    pages = read_pages(path)
    allowed = {round(ROW_HEIGHT + k * LINE_HEIGHT, 2) for k in range(5)}  # 1 to 5 lines
    assert (ROW_HEIGHT, LINE_HEIGHT) == (13.5, 11.25)
    for start in range(0, len(pages), stats.cycle_length):
        cycle = pages[start : start + stats.cycle_length]
        heights = [_row_heights(page) for page in cycle]
        assert all(h == heights[0] for h in heights), f"{t}: rows differ within a cycle"
        assert set(heights[0]) <= allowed, (t, set(heights[0]) - allowed)
        assert all(_header_height(page) == 13.5 for page in cycle)
    every = [h for page in pages[:: stats.cycle_length] for h in _row_heights(page)]
    if t is ExportType.ORDERS:
        # every order row is two lines: the delivery address wraps (the summary row: one)
        assert set(every[:-1]) == {24.75}
    if t in (ExportType.CUSTOMERS, ExportType.PRICES):
        assert Counter(every).most_common(1)[0][0] == 13.5
    if t is ExportType.DDT:
        assert max(every) == 58.5, "tracking links make rows of up to 5 lines"


def test_rows_per_page_match_the_real_exports(full: Dataset, font: Font) -> None:
    """Customers 44-47 a page, orders 25, invoices 22-28, DDT 7-17 (spec v2)."""
    for t, low, high in (
        (ExportType.CUSTOMERS, 44, 47),
        (ExportType.ORDERS, 25, 25),
        (ExportType.INVOICES, 22, 28),
        (ExportType.DDT, 7, 17),
        (ExportType.PRICES, 46, 47),
    ):
        stats = write_grid_pdf(_Sink(), build_grid(t, full.records(t), FULL_VIEW), font)  # type: ignore[arg-type]
        per_cycle = (stats.rows + 1) / stats.cycles
        assert low <= per_cycle <= high + 1, (t, per_cycle)


# -- values as printed ----------------------------------------------------------------


def test_customer_values(full: Dataset) -> None:
    grid = build_grid(ExportType.CUSTOMERS, full.records(ExportType.CUSTOMERS), FULL_VIEW)
    ids = column(grid, "ID")
    assert "0" not in ids and any("." in i for i in ids) and any(len(i) < 4 for i in ids)
    assert all(re.fullmatch(r"\d{1,3}(\.\d{3})*", i) for i in ids)
    profiles = column(grid, "PROFILO CLIENTE:")
    assert "049421" in profiles and "" in profiles
    assert any(re.fullmatch(r"100\d{4}", p) for p in profiles)
    assert all(re.fullmatch(r"\d{5}", c) for c in column(grid, "INDIRIZZO LOGISTICO CAP"))
    assert any(c.startswith("0") for c in column(grid, "INDIRIZZO LOGISTICO CAP"))
    cities = column(grid, "CITTÀ")
    assert any("'" in c for c in cities) and any("’" in c for c in cities)
    assert "FedEx" in column(grid, "TERMINI DI CONSEGNA")
    money = column(grid, "TIPO DI CLIENTE") + column(grid, "VENDITE PRECEDENTE", 1)
    assert "0,00 €" in money
    assert all(re.fullmatch(r"\d{1,3}(\.\d{3})*,\d\d €", m) for m in money)
    assert any(re.fullmatch(r"\d{1,3}\.\d{3},\d\d €", m) for m in money)
    assert {"Potential customer from database Italia", "Debitor"} <= set(
        column(grid, "DESCRIZIONE:")
    )
    assert {"PotDentiItal", "CustFromConcess", "Debitor"} == set(column(grid, "TYPE:"))
    for empty in ("URL:", "ALL’ATTENZIONE DI:", "IL NOSTRO NUMERO DI CONTO"):
        assert set(column(grid, empty)) == {""}
    assert all(p.startswith("+39 ") for p in column(grid, "TELEFONO:") if p)


def test_order_values(full: Dataset) -> None:
    orders = full.records(ExportType.ORDERS)
    grid = build_grid(ExportType.ORDERS, orders, FULL_VIEW)
    numbers, profiles = column(grid, "ID DI VENDITA"), column(grid, "PROFILO CLIENTE:")
    pending = [p for n, p in zip(numbers, profiles, strict=True) if not n]
    assert pending and "" in pending
    assert Counter(profiles)["049421"] / len(orders) > 0.93
    discounts = Counter(column(grid, "APPLICA SCONTO %:"))
    assert discounts.most_common(1)[0][0] == "0,00 %" and "21,49 %" in discounts
    assert {"Fattura:", "Documento di trasporto:", "Nessuno"} == set(
        column(grid, "STATO DEL DOCUMENTO")
    )
    assert set(column(grid, "PREVENTIVO:")) == {"No"}
    assert "Unchecked" in column(grid, "ORDINE OMAGGIO:")
    assert "0,00 €" in column(grid, "IMPORTO TOTALE")
    assert all(
        "\n" in a and re.search(r"\n\d{5} ", a) for a in column(grid, "INDIRIZZO DI CONSEGNA")
    )
    assert all(
        re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", m)
        for m in column(grid, "DATA DI CREAZIONE")
    )
    assert all(re.fullmatch(r"\d\d\.\d{3}", i) for i in column(grid, "ID"))


def test_ddt_values(full: Dataset) -> None:
    ddts = full.records(ExportType.DDT)
    grid = build_grid(ExportType.DDT, ddts, FULL_VIEW)
    assert set(column(grid, "PDF DDT")) == {""}
    assert set(column(grid, "ALL'ATTENZIONE DI")) == {""}
    totals = column(grid, "TOTALE")
    assert "-1" in totals and any(re.fullmatch(r"1\.\d{3}", t) for t in totals)
    emails = [e for e in column(grid, "CITTÀ DI CONSEGNA") if e]
    assert all("@" in e for e in emails) and any(e.endswith(";") for e in emails)
    tracking = column(grid, "NUMERO DI TRACCIABILITÀ")
    assert 0.08 < tracking.count("") / len(tracking) < 0.18
    addresses = column(grid, "NOME DI CONSEGNA", 1)
    assert all("\n" in a for a in addresses), "the second NOME DI CONSEGNA is the address"


def test_tracking_links_are_printed_as_the_spec_shows() -> None:
    base = Ddt(
        id="1", ddt_number="DDT/26000724", delivery_date=None, order_number="ORD/26000752",
        order_account="049421", account_name=None, delivery_name=None, delivery_address=None,
        quantity=1, customer_reference=None, purchase_order=None, tracking_carrier=None,
        tracking_number=None, tracking_url=None, delivery_terms=None, delivery_mode=None,
        attention_to=None, delivery_email=None,
    )  # fmt: skip
    fedex = dataclasses.replace(
        base,
        tracking_carrier="fedex",
        tracking_number="445291890750",
        tracking_url="https://www.fedex.com/fedextrack/?trknbr=445291890750&locale=it_IT",
    )
    assert tracking_cell(fedex) == (
        '<a href = "https://www.fedex.com/fedextrack/?trknbr=445291890750&locale=it_IT'
        ' target="_blank">fedex 445291890750</a>'
    )
    ups_url = (
        "https://www.ups.com/track?HTMLVersion=5.0&loc=it_IT&Requester=UPSHome"
        "&tracknum=1Z2A37W46812345678&ignore=&track.x=42&track.y=6/trackdetails"
    )
    ups = dataclasses.replace(
        base, tracking_carrier="Ups", tracking_number="1Z2A37W46812345678", tracking_url=ups_url
    )
    assert tracking_cell(ups) == f'<a href="{ups_url}" target="_blank">Ups 1Z2A37W46812345678</a>'
    dhl_url = "https://www.dhl.com/it-it/home/tracking.html?submit=1&tracking-id=1234567890"
    dhl = dataclasses.replace(
        base, tracking_carrier="dhl", tracking_number="1234567890", tracking_url=dhl_url
    )
    assert tracking_cell(dhl) == f'<a href="{dhl_url}" target="_blank">dhl 1234567890</a>'
    assert tracking_cell(base) == ""


def test_tracking_cells_wrap_at_spaces_or_inside_the_url(
    dataset: Dataset, font: Font, tmp_path: Path
) -> None:
    """3-5 lines; a break drops the space it falls on, or falls inside the URL."""
    layout = build_grid(ExportType.DDT, [], FULL_VIEW)
    width = next(c for c in layout.columns if c.header == "NUMERO DI TRACCIABILITÀ").width
    by_carrier: dict[str, Ddt] = {}
    for record in dataset.records(ExportType.DDT):
        if isinstance(record, Ddt) and record.tracking_carrier:
            by_carrier.setdefault(record.tracking_carrier, record)
    assert set(by_carrier) >= {"fedex", "Ups"}
    inside_url = 0
    for carrier, record in by_carrier.items():
        cell = tracking_cell(record)
        grid = Grid(pages=[[Column("NUMERO DI TRACCIABILITÀ", width)]], rows=[[cell]])
        path = tmp_path / f"{carrier}.pdf"
        with path.open("wb") as out:
            write_grid_pdf(out, grid, font)
        lines = [run.text for run in read_pages(path)[0].runs][1:]  # after the header
        assert 3 <= len(lines) <= 5, (carrier, lines)
        position = 0
        for line in lines:
            assert cell.startswith(line, position), (carrier, line)
            position += len(line)
            if position < len(cell) and cell[position] == " ":
                position += 1  # a break at a space: the space is not drawn
            elif position < len(cell):
                inside_url += 1
        assert position == len(cell)
    assert inside_url > 0, "long tokens such as URLs break inside"


def test_invoice_values(full: Dataset) -> None:
    grid = build_grid(ExportType.INVOICES, full.records(ExportType.INVOICES), FULL_VIEW)
    amounts = [
        a
        for header in ("SALDO VENDITE MST", "SOMMA FISCALE MST", "IMPORTO FATTURA MST")
        for a in column(grid, header)
    ]
    assert all("€" not in a for a in amounts)
    assert all(re.fullmatch(r"-?\d{1,3}(\.\d{3})*(,\d?[1-9])?", a) for a in amounts), amounts
    assert any(re.fullmatch(r"-?[\d.]+,\d", a) for a in amounts), "one decimal, like 2.112,7"
    assert any("," not in a for a in amounts), "integers, like 20"
    assert any(a.startswith("-") for a in amounts)
    assert set(column(grid, "SCONTO TOTALE:")) == {"0"}
    closed, remaining = column(grid, "CHIUSO"), column(grid, "IMPORTO RIMANENTE MST")
    settled = column(grid, "DATA DI ULTIMA LIQUIDAZIONE")
    for shut, left, last in zip(closed, remaining, settled, strict=True):
        assert shut == last
        if shut:
            assert re.fullmatch(r"\d\d/\d\d/\d{4}", shut) and left == "0"
    assert "" in closed
    terms = column(grid, "ID TERMINE DI PAGAMENTO")
    assert any(
        re.fullmatch(r"\d{3} BONIF\. BANC\. \d\d GG\.DFFM Iban\nIT\d\d[A-Z]\d{22}", t)
        for t in terms
    )
    assert any(re.fullmatch(r"\d\.\d{3}", q) for q in column(grid, "QUANTITÀ"))
    assert all(re.fullmatch(r"(CF1|NC)/\d{8}", n) for n in column(grid, "ID FATTURA"))


def test_price_and_product_values(full: Dataset) -> None:
    prices = build_grid(ExportType.PRICES, full.records(ExportType.PRICES), FULL_VIEW)
    assert set(column(prices, "CODICE CONTO")) == {"Group"}
    assert "002" in column(prices, "ACCOUNT:")
    assert set(column(prices, "DATA")) == {"31/12/2154"}
    assert set(column(prices, "QUANTITÀIMPORTODA")) == {"1"}
    assert set(column(prices, "QUANTITÀIMPORTO")) == {"100.000.000"}
    assert {"No", "Sì"} == set(column(prices, "PREZZO NETTO BRASSELER"))
    assert all(re.fullmatch(r"[\d.]+,\d\d €", p) for p in column(prices, "IMPORTO UNITARIO:"))
    ids = column(prices, "ID")
    assert re.fullmatch(r"\d{1,2}", ids[0]) and re.fullmatch(r"\d\.\d{3}", ids[-1])
    products = build_grid(ExportType.PRODUCTS, full.records(ExportType.PRODUCTS), FULL_VIEW)
    assert set(column(products, "IMMAGINE:")) == {"System.Byte[]"}
    assert (
        column(products, "ID ARTICOLO")
        == column(prices, "ITEM SELECTION:")[: len(column(products, "ID ARTICOLO"))]
    )
    shown = column(products, "VISUALIZZA IL NUMERO DI PRODOTTO")
    assert all(re.fullmatch(r"\w+ : v\.001 :   :   :", s) for s in shown)
    assert {"1,00"} == set(column(products, "QTÀ MINIMA:"))
    assert "No" in column(products, "FERMATO")
    assert all(
        re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", d) for d in column(products, "DATA CREATA")
    )


# -- summary row -------------------------------------------------------------------


def _sum(records: list[Record], field: str) -> Decimal:
    return sum((Decimal(getattr(r, field) or 0) for r in records), Decimal(0))


def test_summary_rows(full: Dataset) -> None:
    def grid(t: ExportType) -> Grid:
        return build_grid(t, full.records(t), FULL_VIEW)

    customers = grid(ExportType.CUSTOMERS)
    assert summary_cell(customers, "ID") == "Count=1.452"
    total = _sum(full.records(ExportType.CUSTOMERS), "sales_this_year")
    assert (
        summary_cell(customers, "TIPO DI CLIENTE")
        == "Sum=" + f"{total:,.2f}".translate(str.maketrans(",.", ".,")) + " €"
    )
    orders = grid(ExportType.ORDERS)
    assert summary_cell(orders, "ID") == "Count=999"
    records = full.records(ExportType.ORDERS)
    gross = _sum(records, "gross_amount")
    assert (
        summary_cell(orders, "IMPORTO LORDO:")
        == "Sum=" + f"{gross:,.2f}".translate(str.maketrans(",.", ".,")) + " €"
    )
    # the real portal prints the orders' IMPORTO TOTALE a few cents off
    printed = printed_sum(ExportType.ORDERS, "IMPORTO TOTALE", records, "total_amount")
    assert Decimal("0.01") <= printed - _sum(records, "total_amount") <= Decimal("0.07")
    ddt = grid(ExportType.DDT)
    assert summary_cell(ddt, "DOCUMENTO DI TRASPORTO:") == "Count=1.132"
    assert summary_cell(ddt, "ID") == ""
    quantity = int(_sum(full.records(ExportType.DDT), "quantity"))
    assert summary_cell(ddt, "TOTALE") == f"Sum={quantity:,}".replace(",", ".")
    invoices = grid(ExportType.INVOICES)
    assert invoices.summary is not None
    assert not any(cell.startswith("Count=") for cell in invoices.summary)
    sums = [cell for cell in invoices.summary if cell]
    assert len(sums) == 5 and all(cell.startswith("Sum=") and "€" not in cell for cell in sums)
    balance = _sum(full.records(ExportType.INVOICES), "sales_balance")
    assert summary_cell(invoices, "SALDO VENDITE MST") == "Sum=" + format(balance, ",f").translate(
        str.maketrans(",.", ".,")
    )
    for t in (ExportType.PRODUCTS, ExportType.PRICES):
        assert grid(t).summary is not None
        assert f"Count={full.count(t):,}".replace(",", ".") in (grid(t).summary or [])


def test_summary_row_is_read_from_the_last_page(
    dataset: Dataset, font: Font, tmp_path: Path
) -> None:
    path, stats = render(ExportType.ORDERS, dataset, FULL_VIEW, font, tmp_path)
    last_cycle = read_pages(path, last=stats.cycle_length)
    texts = [run.text for run in last_cycle[0].runs]
    assert texts[-1] == f"Count={dataset.count(ExportType.ORDERS)}"
    assert any(run.text.startswith("Sum=") for run in last_cycle[5].runs)


# -- what a parse yields ----------------------------------------------------------------


def test_full_view_expects_the_records_unchanged(dataset: Dataset) -> None:
    for t in ExportType:
        assert expected_records(t, dataset.records(t), FULL_VIEW) == dataset.records(t)
        assert all(
            r.unread == frozenset() for r in expected_records(t, dataset.records(t), FULL_VIEW)
        )


@pytest.mark.parametrize(
    ("t", "view", "unread"),
    [
        (ExportType.ORDERS, JANUARY, {"email"}),
        (ExportType.INVOICES, FRESH, {"order_number"}),
        (ExportType.INVOICES, dataclasses.replace(FRESH, layout="2026-01"), {"order_number"}),
        (ExportType.PRODUCTS, JANUARY, {"vat_item_id"}),
        (ExportType.DDT, JANUARY, set()),
        (ExportType.CUSTOMERS, JANUARY, set()),
    ],
)
def test_optional_columns_not_shown_are_unread(
    dataset: Dataset, t: ExportType, view: ExportView, unread: set[str]
) -> None:
    expected = expected_records(t, dataset.records(t), view)
    assert len(expected) == dataset.count(t)
    for record, original in zip(expected, dataset.records(t), strict=True):
        assert record.unread == unread
        for name in unread:
            assert getattr(record, name) is None
        blank: dict[str, Any] = dict.fromkeys(unread)
        assert record == dataclasses.replace(original, **blank)


def test_fresh_products_leave_their_18_hidden_fields_unread(dataset: Dataset) -> None:
    (record, *_) = expected_records(
        ExportType.PRODUCTS, dataset.records(ExportType.PRODUCTS), FRESH
    )
    shown = {"article", "catalogue_number", "description", "group", "pack_size", "search_name",
             "price_unit", "min_qty", "multiple_qty", "max_qty", "id", "modified_at", "stopped",
             "created_at", "purchase_price", "standard_qty", "orderable", "unit_id"}  # fmt: skip
    every = {f.name for f in data_fields(type(record))}
    assert record.unread == every - shown and len(record.unread) == 17  # IMMAGINE holds no field


def test_truth_json_is_the_expected_records(dataset: Dataset) -> None:
    truth = truth_json(dataset, ExportType.ORDERS, JANUARY)
    assert len(truth) == dataset.count(ExportType.ORDERS)
    assert all(entry["email"] is None for entry in truth)
    assert "unread" not in truth[0]


def test_saved_filters_select_records(dataset: Dataset) -> None:
    entered = ExportView(filter="ListViewSalesTableOrdersEntered")
    open_only = expected_records(ExportType.ORDERS, dataset.records(ExportType.ORDERS), entered)
    assert 0 < len(open_only) < dataset.count(ExportType.ORDERS)
    assert all(isinstance(o, Order) and o.sales_status == "Ordine aperto" for o in open_only)


def test_hidden_columns_leave_the_export_and_extras_join_it() -> None:
    hidden = ExportView(hidden=frozenset({"SCADENZA", "CHIUSO", "IMPORTO RIMANENTE MST"}))
    printed = headers(ExportType.INVOICES, hidden)
    assert ["ID VENDITE"] in printed and not any("SCADENZA" in page for page in printed)
    extra = ExportView(extra=("GIORNI DI ESCLUSIVITÀ RIMANENTI", "FINE ESCLUSIVA"))
    pages_with_extra = headers(ExportType.CUSTOMERS, extra)
    assert pages_with_extra[:-1] == headers(ExportType.CUSTOMERS)
    assert pages_with_extra[-1] == ["GIORNI DI ESCLUSIVITÀ RIMANENTI", "FINE ESCLUSIVA"]
    # a hidden optional column's field is unread; the truth stays the full view
    assert unread_fields(ExportType.INVOICES, hidden) >= {"due_date", "closed_on"}


# -- the English locale -------------------------------------------------------------------


def test_english_export(full: Dataset, dataset: Dataset, font: Font, tmp_path: Path) -> None:
    english = ExportView(english=True)
    for t in ExportType:
        assert file_name(t, english) == ENGLISH_FILE_NAMES[t]
        assert file_name(t) == FILE_NAMES[t]
        path, stats = render(t, dataset, english, font, tmp_path)
        italian = EPOCH_HEADERS["2026-03"][t]
        headers = [page.header_cells() for page in read_pages(path, max_pages=stats.cycle_length)]
        assert [len(h) for h in headers] == [len(h) for h in italian]
        assert all(h.isupper() or not h.isalpha() for page in headers for h in page)
        changed = sum(
            a != b
            for pa, pb in zip(headers, italian, strict=True)
            for a, b in zip(pa, pb, strict=True)
        )
        assert changed > len([h for p in italian for h in p]) / 2, t
    orders = build_grid(ExportType.ORDERS, full.records(ExportType.ORDERS), english)
    by_header = dict(
        zip([c.header for c in orders.columns], zip(*orders.rows, strict=True), strict=True)
    )
    assert all(re.fullmatch(r"\d\d,\d{3}", i) for i in by_header["ID"])
    moments = by_header["CREATED DATE"]
    assert all(re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M", m) for m in moments)
    records = [r for r in full.records(ExportType.ORDERS) if isinstance(r, Order)]
    for record, printed in zip(records, moments, strict=True):
        created = record.created_at
        hour = created.hour % 12 or 12
        assert (
            printed
            == f"{created.month}/{created.day}/{created.year} {hour}:{created:%M:%S} {created:%p}"
        )
    assert all(re.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d\d", a) for a in by_header["TOTAL AMOUNT"])
    assert "0.00 %" in by_header["DISCOUNT %:"]
    customers = build_grid(ExportType.CUSTOMERS, full.records(ExportType.CUSTOMERS), english)
    sales = column(customers, "CUSTOMER TYPE")
    assert any(re.fullmatch(r"\$\d{1,3},\d{3}\.\d\d", s) for s in sales)
    invoices = build_grid(ExportType.INVOICES, full.records(ExportType.INVOICES), english)
    assert any(
        re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", d) and int(d.split("/")[1]) > 12
        for d in column(invoices, "DUE DATE")
    )


@pytest.mark.parametrize(
    "view",
    [
        FULL_VIEW,
        JANUARY,
        FRESH,
        ExportView(english=True),
        ExportView(layout="2026-01", english=True),
    ],
)
def test_every_page_fits_its_width_and_every_header_one_line(view: ExportView, font: Font) -> None:
    """So that the header row is 13.5 pt in every epoch and locale."""
    for t in ExportType:
        grid = build_grid(t, [], view)
        for page in grid.pages:
            assert sum(c.width for c in page) <= 468, (t, [c.header for c in page])
            for col in page:
                assert font.text_width(col.header, 9.75) <= col.width - 4, (t, col.header)
