"""parse_export: headers matched to a spec, values converted, records finished, loud failures."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from archid.exports import SPECS, parse
from archid.exports.errors import (
    BadValue,
    MissingHeader,
    NotAPdf,
    UnknownHeader,
    WrongExportType,
)
from archid.exports.layout import Column, Drop, ExportSpec, Lines, ParseStats
from archid.exports.parse import match_headers, parse_export
from archid.records import ExportType, Price, Record, to_json
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.layouts import ExportView, build_grid, expected_records
from archid.sim.pdfwriter import write_grid_pdf
from tests.exports.handmade import Cell, cycle_pages, grid_pdf

PORTAL = ExportView()


def export(t: ExportType, view: ExportView = PORTAL, scale: float = 0.02) -> bytes:
    records = Dataset.generate(11, scale).records(t)
    out = io.BytesIO()
    write_grid_pdf(out, build_grid(t, records, view), load_font())
    return out.getvalue()


def expected(t: ExportType, view: ExportView = PORTAL, scale: float = 0.02) -> list[Any]:
    records = Dataset.generate(11, scale).records(t)
    return [to_json(r) for r in expected_records(t, records, view)]


def parsed(spec: ExportSpec, data: bytes, stats: ParseStats | None = None) -> list[Any]:
    return [to_json(r) for r in parse_export(spec, io.BytesIO(data), stats=stats)]


def test_orders_export_gives_the_expected_records_and_stats() -> None:
    stats = ParseStats()
    got = parsed(SPECS[ExportType.ORDERS], export(ExportType.ORDERS), stats)
    assert got == expected(ExportType.ORDERS)
    assert stats.cycle_length == 7 and stats.pages == 7 * stats.cycles
    assert stats.records == len(got)
    assert stats.rows == stats.records + sum(stats.dropped.values())
    assert stats.dropped  # the export's junk rows (ID 0, no creation date)
    assert stats.summary["ID"] == f"Count={stats.rows}"
    assert stats.seconds > 0 and not stats.warnings


def test_ddt_seventh_page_is_ignored_with_a_warning() -> None:
    stats = ParseStats()
    view = ExportView(ddt_extra_page=True)
    got = parsed(SPECS[ExportType.DDT], export(ExportType.DDT, view), stats)
    assert got == expected(ExportType.DDT, view)
    assert stats.cycle_length == 7
    assert len(stats.warnings) == 1 and "page 7 of every 7-page cycle" in stats.warnings[0]


def test_another_types_export_is_named() -> None:
    data = export(ExportType.CUSTOMERS)
    with pytest.raises(
        WrongExportType,
        match=r"not the orders export: all of its headers.*customers export \(Clienti",
    ):
        parsed(SPECS[ExportType.ORDERS], data)


def test_hidden_columns_are_missing_headers() -> None:
    data = export(ExportType.PRODUCTS, ExportView(products_all_columns=False))
    with pytest.raises(MissingHeader, match=r"'NOME DELLA RICERCA'.*show it again"):
        parsed(SPECS[ExportType.PRODUCTS], data)


# -- a small spec of our own, on hand-made files -------------------------------------


def text(lines: Lines) -> str | None:
    return " ".join(lines) or None


def amount(lines: Lines) -> Decimal | None:
    if not lines:
        return None
    raw = lines[0].removesuffix(" €").replace(".", "").replace(",", ".")
    if not raw.replace(".", "").replace("-", "").isdigit():
        raise ValueError("not an amount")
    return Decimal(raw)


def finish(values: Mapping[str, Any]) -> Record | Drop:
    if values["id"] == "0":
        return Drop("artefact")
    return Price(
        id=values["id"],
        account_code=values["code"],
        account=values["account"],
        account_description=values["description"],
        item_selection=values["first_name"],
        item_description=values["second_name"],
        from_date=None,
        to_date=None,
        qty_from=None,
        qty_to=None,
        price_unit=None,
        unit_price=values["price"],
        currency=values["currency"],
        net_price_brasseler=None,
    )


SPEC = ExportSpec(
    type=ExportType.PRICES,
    record=Price,
    columns=(
        Column("ID", "id", text),
        Column("NOME", "first_name", text),
        Column("CODICE:", "code", text),  # printed without its colon below
        Column("NOME", "second_name", text),  # a header printed twice: in order
        Column("IMPORTO:", "price", amount),
        Column("CONTO", "account", text, optional=True),
        Column("DESCRIZIONE", "description", text, optional=True),
        Column("IMMAGINE", None, lambda lines: None),
        Column("VALUTA", "currency", text),
    ),
    finish=finish,
)

HEADERS = [["ID", "NOME"], ["CODICE", "NOME", "IMPORTO:"], ["CONTO", "IMMAGINE", "VALUTA"]]


def row(i: int) -> list[Cell]:
    return [
        str(i),
        ["Mario", "Rossi"] if i % 3 == 0 else f"Primo {i}",
        f"C{i}",
        f"Secondo {i}",
        f"{i}.000,50 €",
        f"0{i}",
        "System.Byte[]",
        "EUR",
    ]


def handmade(rows: list[list[Cell]], headers: list[list[str]] = HEADERS) -> bytes:
    return grid_pdf(cycle_pages(headers, rows, rows_per_page=5))


def test_headers_match_whole_cells_in_order_with_or_without_colon() -> None:
    rows = [row(i) for i in range(1, 8)]
    rows[1][0] = "0"  # an artefact row
    stats = ParseStats()
    got = list(parse_export(SPEC, io.BytesIO(handmade(rows)), stats=stats))
    assert [r.id for r in got] == ["1", "3", "4", "5", "6", "7"]
    first = got[0]
    assert isinstance(first, Price)
    assert first.item_selection == "Primo 1" and first.item_description == "Secondo 1"
    assert first.account_code == "C1" and first.unit_price == Decimal("1000.50")
    assert first.account == "01" and first.account_description is None  # optional, absent
    assert stats.dropped == {"artefact": 1} and stats.records == 6 and stats.rows == 7


def test_match_headers_reports_missing_unknown_and_ignored() -> None:
    match = match_headers(SPEC, [("ID", "NOME", "NUOVA"), ("X", "Y"), ("CODICE",)])
    assert [c.header for c in match.missing] == ["NOME", "IMPORTO:", "IMMAGINE", "VALUTA"]
    assert match.unknown == [(0, "NUOVA")]
    assert match.ignored_pages == [1]
    assert match.columns == [0, 1, None, None, None, 2]


def test_unknown_header_next_to_known_ones() -> None:
    headers = [
        ["ID", "NOME"],
        ["CODICE", "NOME", "IMPORTO:", "NUOVA COLONNA"],
        ["IMMAGINE", "VALUTA"],
    ]
    rows = [[*row(i)[:5], "x", "", "EUR"] for i in range(3)]
    with pytest.raises(UnknownHeader, match=r"page 2 of the 3-page cycle.*'NUOVA COLONNA'"):
        list(parse_export(SPEC, io.BytesIO(handmade(rows, headers))))


def test_missing_required_header() -> None:
    headers = [["ID", "NOME"], ["CODICE", "NOME"], ["IMMAGINE", "VALUTA"]]
    rows = [[*row(i)[:4], "", "EUR"] for i in range(3)]
    with pytest.raises(MissingHeader, match=r"lacks the column\(s\) 'IMPORTO:';"):
        list(parse_export(SPEC, io.BytesIO(handmade(rows, headers))))


def test_renamed_column_is_unknown_and_says_what_is_missing() -> None:
    headers = [["ID", "NOME"], ["CODICE", "NOME", "PREZZO"], ["IMMAGINE", "VALUTA"]]
    rows = [[*row(i)[:5], "", "EUR"] for i in range(3)]
    with pytest.raises(UnknownHeader, match=r"'PREZZO'.*lacks 'IMPORTO:'"):
        list(parse_export(SPEC, io.BytesIO(handmade(rows, headers))))


def test_bad_value_names_page_row_header_and_text() -> None:
    rows = [row(i) for i in range(8)]
    rows[6][4] = "dieci euro"
    records = parse_export(SPEC, io.BytesIO(handmade(rows)))
    with pytest.raises(BadValue, match=r"page 5, row 2, column 'IMPORTO:': 'dieci euro'"):
        list(records)


def test_not_a_pdf_through_parse_export(tmp_path: Path) -> None:
    path = tmp_path / "Ordini.pdf"
    path.write_text("<html>Sessione scaduta</html>")
    with pytest.raises(NotAPdf):
        list(parse_export(SPECS[ExportType.ORDERS], path))


@pytest.mark.slow
def test_two_workers_give_the_same_records_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "Ordini.pdf"
    path.write_bytes(export(ExportType.ORDERS, scale=0.05))
    spec = SPECS[ExportType.ORDERS]
    one = ParseStats()
    single = [to_json(r) for r in parse_export(spec, path, stats=one)]
    monkeypatch.setattr(parse, "PARALLEL_MIN_PAGES", 1)
    monkeypatch.setattr(parse, "_CHUNK_PAGES", 14)  # two cycles a chunk: many chunks
    chunks: list[int] = []
    run_parallel = parse._run_parallel

    def spy(*args: Any) -> Iterator[list[Record]]:
        for records in run_parallel(*args):
            chunks.append(len(records))
            yield records

    monkeypatch.setattr(parse, "_run_parallel", spy)
    two = ParseStats()
    double = [to_json(r) for r in parse_export(spec, path, stats=two, workers=2)]
    assert len(chunks) == one.cycles // 2 + one.cycles % 2  # the parse was split
    assert double == single
    assert (two.pages, two.cycles, two.rows, two.records) == (
        one.pages,
        one.cycles,
        one.rows,
        one.records,
    )
    assert two.dropped == one.dropped and two.summary == one.summary


def test_header_wrapped_inside_a_word_still_matches() -> None:
    match = match_headers(SPEC, [("ID", "NO ME"), ("COD ICE", "NOME", "IMPORT O:")])
    assert match.columns == [0, 1, 2, 3, 4]
    assert [c.header for c in match.missing] == ["IMMAGINE", "VALUTA"]
