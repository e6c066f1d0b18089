"""parse_export: headers found by whole normalised cells, unknown and missing columns,
bad cells that cost a field, strict keys, the locale and type guards.

The files are the hand-written samples of :mod:`tests.exports.samples`
(every column typed from spec v2's examples) laid out as ``tests.spec_layouts``
prints the headers, so each fact is checked independently of the simulator.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import pytest

from archid.exports import SPECS, parse
from archid.exports.errors import (
    BadValue,
    MissingHeader,
    NotAPdf,
    WrongExportType,
    WrongLocale,
)
from archid.exports.layout import BadCell, ParseStats
from archid.exports.parse import match_headers, normalise_header, parse_export
from archid.records import Ddt, ExportType, Order, Record
from tests.exports import samples
from tests.exports.handmade import Cell
from tests.spec_layouts import EPOCH_HEADERS, FRESH_PRODUCTS, INVOICES_WITHOUT_ORDER, SPEC_HEADERS


def parsed(
    t: str,
    pages: list[list[str]],
    rows: int = 8,
    stats: ParseStats | None = None,
    override: Any = None,
) -> list[Record]:
    data = samples.sample_pdf(t, pages, rows, override=override)
    return list(parse_export(SPECS[ExportType(t)], io.BytesIO(data), stats=stats))


def assert_samples(t: str, pages: list[list[str]], records: list[Record]) -> None:
    present = {h for page in pages for h in page}
    for index, record in enumerate(records):
        want = samples.expected(t, index, present)
        got = {name: getattr(record, name) for name in want}
        assert got == want, f"{t} row {index}"


# -- headers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "declared"),
    [
        ("ALL’ATTENZIONE DI:", "ALL'ATTENZIONE DI"),
        ("all'attenzione  di", "ALL’ATTENZIONE DI:"),
        ("PROFILO CLIENTE", "PROFILO CLIENTE:"),
        ("DATA DELL’ULTIMO ORDINE :", "DATA DELL'ULTIMO ORDINE"),
        ("Città", "CITTÀ"),
    ],
)
def test_headers_compare_after_normalising(printed: str, declared: str) -> None:
    assert normalise_header(printed) == normalise_header(declared)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ID", "ID DI VENDITA"),
        ("DATA", "DA DATA"),
        ("QUANTITÀIMPORTO", "QUANTITÀIMPORTODA"),
        ("SCADENZA", "OLTRE I GIORNI DI SCADENZA"),
        ("SCONTO MST", "SOMMA LINEA SCONTO MST"),
        ("CONTEGGIO DEGLI ORDINI PRECEDENTE", "CONTEGGIO DEGLI ORDINI PRECEDENTE 2"),
    ],
)
def test_headers_contained_in_others_stay_apart(a: str, b: str) -> None:
    assert normalise_header(a) != normalise_header(b)


def fields_of(t: ExportType, pages: list[list[str]]) -> list[str | None]:
    spec = SPECS[t]
    match = match_headers(spec, pages)
    return [None if i is None else spec.columns[i].field for i in match.columns]


def test_prices_headers_match_whole_cells_in_any_order() -> None:
    pages = [["QUANTITÀIMPORTO", "DATA"], ["DA DATA", "QUANTITÀIMPORTODA", "ID"]]
    assert fields_of(ExportType.PRICES, pages) == [
        "qty_to",
        "valid_to",
        "valid_from",
        "qty_from",
        "id",
    ]


@pytest.mark.parametrize("epoch", list(EPOCH_HEADERS))
def test_a_header_printed_twice_is_told_apart_by_its_order(epoch: str) -> None:
    pages = EPOCH_HEADERS[epoch]["customers"]
    fields = fields_of(ExportType.CUSTOMERS, pages)
    headers = [h for page in pages for h in page]
    sales = [f for h, f in zip(headers, fields, strict=True) if h == "VENDITE PRECEDENTE"]
    assert sales == ["sales_last_year", "sales_year_before"]
    ddt = fields_of(ExportType.DDT, EPOCH_HEADERS[epoch]["ddt"])
    assert ddt.index("delivery_name") + 1 == ddt.index("delivery_address")


def test_a_header_wrapped_inside_a_word_still_matches() -> None:
    pages = [["ID ARTI COLO", "CONTENUTO DELL'IMBALLAGGI O"]]
    assert fields_of(ExportType.PRODUCTS, pages) == ["article", "pack_size"]


@pytest.mark.parametrize("epoch", list(EPOCH_HEADERS))
@pytest.mark.parametrize("t", [t.value for t in ExportType])
def test_both_epochs_parse_every_column(epoch: str, t: str) -> None:
    pages = EPOCH_HEADERS[epoch][t]
    stats = ParseStats()
    records = parsed(t, pages, 14, stats)
    assert len(records) == 14 and stats.cycle_length == len(pages)
    assert stats.bad_cell_count == 0
    assert_samples(t, pages, records)


def test_a_lower_case_header_with_a_straight_apostrophe_and_no_colon() -> None:
    pages = [
        [h.replace("’", "'").removesuffix(":").lower() for h in page]
        for page in SPEC_HEADERS["customers"]
    ]
    records = parsed("customers", pages)
    assert_samples("customers", SPEC_HEADERS["customers"], records)


# -- unknown and missing columns -----------------------------------------------------


def test_an_unknown_column_next_to_known_ones_is_a_warning() -> None:
    pages = [list(page) for page in SPEC_HEADERS["customers"]]
    pages[1].insert(2, "ESCLUSIVA DI ZONA")
    stats = ParseStats()
    records = parsed("customers", pages, 8, stats)
    assert_samples("customers", pages, records)
    assert stats.warnings == [
        "column 'ESCLUSIVA DI ZONA' (page 2 of the 9-page cycle) is not one archid knows: ignored"
    ]


def test_a_page_of_unknown_columns_is_one_warning_per_column() -> None:
    stats = ParseStats()
    records = parsed("ddt", EPOCH_HEADERS["2026-03"]["ddt"], 8, stats)
    assert len(records) == 8 and stats.cycle_length == 7
    assert [w.split("'")[1] for w in stats.warnings] == [
        "PESO LORDO:",
        "NUMERO DI COLLI",
        "VETTORE ESTERNO",
    ]
    assert all("page 7 of the 7-page cycle" in w for w in stats.warnings)


@pytest.mark.parametrize(
    ("t", "pages", "field", "header"),
    [
        ("orders", EPOCH_HEADERS["2026-01"]["orders"], "email", "E-MAIL"),
        ("invoices", INVOICES_WITHOUT_ORDER, "order_number", "ID VENDITE"),
        ("products", EPOCH_HEADERS["2026-01"]["products"], "vat_item_id", "ID ELEMENTO IVAID"),
    ],
)
def test_an_optional_column_missing_leaves_its_field_unread(
    t: str, pages: list[list[str]], field: str, header: str
) -> None:
    stats = ParseStats()
    records = parsed(t, pages, 8, stats)
    assert len(records) == 8
    assert all(r.unread == {field} and getattr(r, field) is None for r in records)
    assert_samples(t, pages, records)
    assert len(stats.warnings) == 1 and repr(header) in stats.warnings[0]
    assert f"{field} is unread" in stats.warnings[0]


def test_the_always_empty_columns_may_be_missing_without_unread_fields() -> None:
    pages = [[h for h in page if h != "PDF DDT"] for page in EPOCH_HEADERS["2026-01"]["ddt"]]
    stats = ParseStats()
    records = parsed("ddt", pages, 4, stats)
    assert all(not r.unread for r in records) and not stats.warnings


def test_a_fresh_products_session_fails_naming_the_hidden_columns() -> None:
    with pytest.raises(MissingHeader) as info:
        parsed("products", FRESH_PRODUCTS)
    shown = {h for page in FRESH_PRODUCTS for h in page}
    hidden = [h for page in SPEC_HEADERS["products"] for h in page if h not in shown]
    optional = {"IMMAGINE:", "ID ELEMENTO IVAID"}
    assert len(hidden) == 18
    message = str(info.value)
    for header in hidden:
        assert (repr(header) in message.split(";")[0]) is (header not in optional), header
    assert "column chooser" in message


def test_a_required_column_missing_fails_naming_it() -> None:
    pages = [[h for h in page if h != "PREVENTIVO:"] for page in SPEC_HEADERS["orders"]]
    with pytest.raises(MissingHeader, match=r"lacks the column\(s\) 'PREVENTIVO:';"):
        parsed("orders", pages)


def test_another_types_export_is_named() -> None:
    data = samples.sample_pdf("customers", SPEC_HEADERS["customers"])
    with pytest.raises(
        WrongExportType, match=r"not the orders export: all of its headers.*customers"
    ):
        list(parse_export(SPECS[ExportType.ORDERS], io.BytesIO(data)))


# -- bad cells ---------------------------------------------------------------------


def one_bad(row: int, header: str, text: Cell) -> Any:
    return lambda i: {header: text} if i == row else None


def test_a_bad_cell_costs_its_field_not_the_record() -> None:
    stats = ParseStats()
    pages = SPEC_HEADERS["orders"]
    records = parsed(
        "orders", pages, 8, stats, one_bad(3, "APPLICA SCONTO %:", ["21,49", "percento"])
    )
    assert len(records) == 8
    bad = records[3]
    assert isinstance(bad, Order)
    assert bad.unread == {"discount_percent"} and bad.discount_percent is None
    assert all(not r.unread for i, r in enumerate(records) if i != 3)
    want = samples.expected("orders", 3)
    assert {k: getattr(bad, k) for k in want if k != "discount_percent"} == {
        k: v for k, v in want.items() if k != "discount_percent"
    }
    assert stats.bad_cell_count == 1
    (cell,) = stats.bad_cells
    assert cell == BadCell(
        "APPLICA SCONTO %:",
        "discount_percent",
        6,
        4,
        "21,49 / percento",
        "not an Italian number: '21,49 percento'",
    )
    assert stats.warnings == [
        "column 'APPLICA SCONTO %:' (page 6 of the 7-page cycle): 1 of 8 cells unreadable "
        "(e.g. '21,49 / percento'): those fields kept their stored values"
    ]


def test_bad_cells_on_later_pages_name_their_page_and_row() -> None:
    stats = ParseStats()
    records = parsed(
        "invoices", SPEC_HEADERS["invoices"], 14, stats, one_bad(9, "QUANTITÀ", "molti")
    )
    assert records[9].unread == {"quantity"}
    (cell,) = stats.bad_cells
    # rows 7-12 are the second cycle (pages 8-14); QUANTITÀ is on its 2nd page
    assert (cell.page, cell.row, cell.text, cell.column) == (9, 4, "molti", "QUANTITÀ")


def test_a_tracking_cell_that_is_not_a_link_leaves_its_three_fields_unread() -> None:
    stats = ParseStats()
    override = one_bad(0, "NUMERO DI TRACCIABILITÀ", '<a href = "https://www.fedex.com/')
    records = parsed("ddt", SPEC_HEADERS["ddt"], 4, stats, override)
    first = records[0]
    assert isinstance(first, Ddt)
    assert first.unread == {"tracking_carrier", "tracking_number", "tracking_url"}
    assert first.tracking_url is None and stats.bad_cell_count == 1


def test_a_column_failing_in_most_rows_is_a_format_change(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "BAD_CELLS_KEPT", 5)
    stats = ParseStats()
    # CHIUSO printed as a flag, as predecessors assumed, in every closed row
    records = parsed(
        "invoices",
        SPEC_HEADERS["invoices"],
        20,
        stats,
        lambda i: {"CHIUSO": "Sì"} if i % 4 else None,
    )
    assert len(records) == 20
    assert sum("closed_on" in r.unread for r in records) == 15
    assert stats.bad_cell_count == 15 and len(stats.bad_cells) == 5
    assert [c.row for c in stats.bad_cells] == [2, 3, 4, 6, 1]
    (warning,) = stats.warnings
    assert warning.startswith("column 'CHIUSO' (page 7 of the 7-page cycle): 15 of 20 cells")
    assert "the portal's format changed?" in warning


def test_a_few_bad_cells_are_not_a_format_change() -> None:
    stats = ParseStats()
    parsed(
        "invoices", SPEC_HEADERS["invoices"], 3, stats, lambda i: {"CHIUSO": "Sì"} if i else None
    )
    assert stats.bad_cell_count == 2 and "format changed" not in stats.warnings[0]


@pytest.mark.parametrize(
    ("t", "header", "text"),
    [
        ("customers", "ID", "ID-71"),
        ("orders", "DATA DI CREAZIONE", "ieri"),
        ("prices", "DA DATA", "sempre"),
        ("prices", "QUANTITÀIMPORTO", "tanti"),
    ],
)
def test_a_bad_key_cell_fails_the_export(t: str, header: str, text: str) -> None:
    with pytest.raises(BadValue, match=rf"row 2, column '{header}': '{text}' is not a valid value"):
        parsed(t, SPEC_HEADERS[t], 4, None, one_bad(1, header, text))


@pytest.mark.slow
def test_two_workers_keep_bad_cells_and_records_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "Ordini.pdf"
    path.write_bytes(
        samples.sample_pdf(
            "orders",
            SPEC_HEADERS["orders"],
            60,
            override=lambda i: {"IMPORTO LORDO:": "n/d"} if i % 7 == 2 else None,
        )
    )
    spec = SPECS[ExportType.ORDERS]
    one = ParseStats()
    single = list(parse_export(spec, path, stats=one))
    monkeypatch.setattr(parse, "PARALLEL_MIN_PAGES", 1)
    monkeypatch.setattr(parse, "_CHUNK_PAGES", 14)  # two cycles a chunk: many chunks
    two = ParseStats()
    double = list(parse_export(spec, path, stats=two, workers=2))
    assert double == single and [r.unread for r in double] == [r.unread for r in single]
    assert one.bad_cell_count == two.bad_cell_count == 9
    assert two.bad_cells == one.bad_cells and two.warnings == one.warnings
    assert (two.pages, two.cycles, two.rows, two.records) == (one.pages, one.cycles, one.rows, 60)


# -- English and other files ---------------------------------------------------------


def english_headers(pages: list[list[str]]) -> list[list[str]]:
    words = {"ID": "ID", "NOME": "NAME", "DATA": "DATE", "CLIENTE": "CUSTOMER"}
    return [
        [
            " ".join(words.get(w, "ORDER") for w in h.rstrip(":").split()) + f" {n}"
            for n, h in enumerate(page)
        ]
        for page in pages
    ]


def test_english_headers_are_the_wrong_locale() -> None:
    data = samples.sample_pdf("orders", english_headers(SPEC_HEADERS["orders"]))
    with pytest.raises(WrongLocale, match=r"not an Italian orders export: its headers are English"):
        list(parse_export(SPECS[ExportType.ORDERS], io.BytesIO(data)))


def test_an_english_file_name_whose_headers_do_not_fit_is_the_wrong_locale(tmp_path: Path) -> None:
    path = tmp_path / "Customer orders.pdf"
    pages = [[h + " X" for h in page] for page in SPEC_HEADERS["orders"]]
    path.write_bytes(samples.sample_pdf("orders", pages))
    with pytest.raises(WrongLocale, match=r"file name 'Customer orders.pdf'.*--lang=it-IT"):
        list(parse_export(SPECS[ExportType.ORDERS], path))


def test_english_values_under_italian_headers_are_the_wrong_locale() -> None:
    override = lambda i: {"DATA DI CREAZIONE": "1/20/2026 12:04:22 PM"}  # noqa: E731
    with pytest.raises(WrongLocale, match=r"English formats \('1/20/2026 12:04:22 PM'\)"):
        parsed("orders", SPEC_HEADERS["orders"], 4, None, override)


def test_not_a_pdf_through_parse_export(tmp_path: Path) -> None:
    path = tmp_path / "Ordini.pdf"
    path.write_text("<html>Sessione scaduta</html>")
    with pytest.raises(NotAPdf):
        list(parse_export(SPECS[ExportType.ORDERS], path))


def test_unread_is_not_part_of_a_records_value() -> None:
    records = parsed("orders", EPOCH_HEADERS["2026-01"]["orders"], 2)
    assert records[0] == dataclasses.replace(records[0], unread=frozenset())
