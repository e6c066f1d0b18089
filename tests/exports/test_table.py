"""The table reader: header rows, cycles, rows joined across a cycle, and loud failures."""

from __future__ import annotations

import io
import re
import tracemalloc
from collections.abc import Sequence

import pytest

from archid.exports import pdftext
from archid.exports.errors import CycleNotFound, LayoutChanged, RowsMisaligned
from archid.exports.table import Table, open_table
from archid.records import ExportType
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.grid import Column, Grid
from archid.sim.layouts import ExportView, build_grid, default_hidden, pages
from archid.sim.pdfwriter import write_grid_pdf
from tests.exports.handmade import Cell, GridPage, GridStyle, cycle_pages, grid_pdf, pdf_file
from tests.exports.variants import VARIANTS, plan_variant, render_variant


def sim_pdf(grid: Grid) -> bytes:
    out = io.BytesIO()
    write_grid_pdf(out, grid, load_font())
    return out.getvalue()


def read(data: bytes) -> tuple[Table, list[tuple[tuple[str, ...], ...]]]:
    table = open_table(io.BytesIO(data))
    return table, [row.cells for row in table.rows()]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def synthetic(cycle: int, rows: int, rows_per_page: int | None = None) -> Grid:
    """A grid of ``cycle`` pages of two columns each, with wrapped cells and a summary."""
    columns = [
        [Column(f"COL {page}A", 150), Column(f"COL {page}B", 120, "right")] for page in range(cycle)
    ]
    body = [
        [f"{r}-{c} " + ("parole " * 12 if (r + c) % 5 == 0 else "x") for c in range(2 * cycle)]
        for r in range(rows)
    ]
    summary = [f"Count={rows}", *[""] * (2 * cycle - 2), "Sum=1,00"]
    return Grid(columns, body, summary, rows_per_page)


@pytest.mark.parametrize("cycle", [3, 5, 7, 9])
def test_cycle_length_is_detected_and_rows_joined(cycle: int) -> None:
    grid = synthetic(cycle, 40)
    expected = [[squash(cell) for cell in row] for row in grid.rows]
    table, rows = read(sim_pdf(grid))
    assert table.cycle_length == cycle
    assert table.pages_headers[1] == ("COL 1A", "COL 1B")
    assert [[" ".join(cell) for cell in row] for row in rows] == expected
    assert table.stats.cycles * cycle == table.stats.pages
    assert table.summary == {"COL 0A": "Count=40", f"COL {cycle - 1}B": "Sum=1,00"}


def test_one_row_per_cycle_like_prices() -> None:
    table, rows = read(sim_pdf(synthetic(3, 12, rows_per_page=1)))
    assert table.cycle_length == 3
    assert len(rows) == 12 and table.stats.pages == 12 * 3  # the summary shares the last page
    assert rows[11][0] == ("11-0 x",)


def test_single_cycle_file_is_one_cycle() -> None:
    table, rows = read(sim_pdf(synthetic(4, 3)))
    assert table.cycle_length == 4 and table.stats.pages == 4 and len(rows) == 3


def test_wrapped_cells_stay_in_their_row() -> None:
    grid = synthetic(2, 6)
    _, rows = read(sim_pdf(grid))
    wrapped = rows[0][0]  # "0-0 parole …": wrapped to several lines
    assert len(wrapped) > 1 and wrapped[0].startswith("0-0 parole")
    # its one-line neighbours, drawn lower than its first line, are in the same row
    assert rows[0][1] == ("0-1 x",) and rows[1][0] == ("1-0 x",)


@pytest.mark.parametrize(
    "export_type, view, cycle",
    [
        (ExportType.ORDERS, ExportView(), 7),
        (ExportType.DDT, ExportView(layout="2026-01"), 6),
        (ExportType.DDT, ExportView(), 7),
        (ExportType.CUSTOMERS, ExportView(layout="2026-01"), 8),
        (ExportType.CUSTOMERS, ExportView(), 9),
        (ExportType.PRODUCTS, ExportView(hidden=default_hidden(ExportType.PRODUCTS)), 5),
        (ExportType.INVOICES, ExportView(hidden=frozenset({"ID VENDITE"})), 7),
    ],
)
def test_portal_exports_headers_and_rows(
    export_type: ExportType, view: ExportView, cycle: int
) -> None:
    records = Dataset.generate(5, 0.02).records(export_type)
    grid = build_grid(export_type, records, view)
    expected_rows = sum(1 for _ in build_grid(export_type, records, view).rows)
    table, rows = read(sim_pdf(grid))
    assert table.cycle_length == cycle
    assert [list(h) for h in table.pages_headers] == [
        [spec.header for spec in page] for page in pages(export_type, view)
    ]
    assert len(rows) == expected_rows
    counts = any(text.startswith("Count=") for text in table.summary.values())
    assert counts is (export_type is not ExportType.INVOICES)  # invoices print only sums
    assert any(text.startswith(("Count=", "Sum=")) for text in table.summary.values())
    assert not any(cell and cell[0].startswith(("Sum=", "Count=")) for row in rows for cell in row)


def test_variant_producers_read_alike() -> None:
    grid_rows = [
        ["1", "Laboratorio Odontotecnico con un nome molto lungo che va a capo", "Roma"],
        ["2", "Bianchi", "Città di Castello"],
    ]
    columns = [[Column("ID", 40, "right"), Column("NOME", 150)], [Column("CITTÀ", 120)]]
    for name in ("kitchen_sink", "times_11_glyphs", "pixels", "no_fills"):
        grid = Grid(columns, grid_rows)
        plan = plan_variant(Grid(columns, grid_rows), VARIANTS[name])
        _, rows = read(render_variant(grid, VARIANTS[name]))
        expected = [list(row.cells) for row in plan.cycles[0]]
        assert [list(row) for row in rows] == expected, name


HEADERS = [["ID", "NOME"], ["CITTÀ", "IMPORTO"], ["NOTE"]]


def handmade_rows(count: int) -> list[list[Cell]]:
    return [
        [str(i), ["Mario", "Rossi"] if i % 3 == 0 else f"Nome {i}", "Roma", f"{i},00 €", "x"]
        for i in range(count)
    ]


@pytest.mark.parametrize("rules", [True, False])
def test_text_only_pages_find_rows_from_gaps(rules: bool) -> None:
    rows = handmade_rows(9)
    rows[4] = ["4", "Nome 4", "", "", ""]  # nothing on the 2nd and 3rd pages of its cycle
    data = grid_pdf(cycle_pages(HEADERS, rows, rows_per_page=5), GridStyle(rules=rules))
    table, got = read(data)
    assert table.stats.text_only_cycles == (0 if rules else 2)
    assert got[0] == (("0",), ("Mario", "Rossi"), ("Roma",), ("0,00 €",), ("x",))
    assert got[4] == (("4",), ("Nome 4",), (), (), ())
    assert got[5][0] == ("5",) and len(got) == 9


def shuffled(data: bytes, first: int, second: int) -> bytes:
    """``data`` with pages ``first`` and ``second`` (0-based) swapped in the page tree."""
    match = re.search(rb"/Kids \[([^\]]*)\]", data)
    assert match
    refs = re.findall(rb"\d+ 0 R", match[1])
    refs[first], refs[second] = refs[second], refs[first]
    kids = b" ".join(refs).ljust(len(match[1]))
    return data[: match.start(1)] + kids + data[match.end(1) :]


def test_shuffled_cycle_names_the_page() -> None:
    data = grid_pdf(cycle_pages(HEADERS, handmade_rows(12), rows_per_page=4))
    with pytest.raises(
        CycleNotFound,
        match=r"page 5 shows the headers NOTE where page 2 of the 3-page cycle shows CITTÀ",
    ):
        read(shuffled(data, 3 + 1, 3 + 2))


def test_incomplete_last_cycle() -> None:
    pages_ = cycle_pages(HEADERS, handmade_rows(8), rows_per_page=4)
    with pytest.raises(CycleNotFound, match="not a whole number of 3-page cycles"):
        read(grid_pdf(pages_[:-1]))


def test_no_repeating_header_row() -> None:
    pages_ = cycle_pages([[f"H{n}"] for n in range(70)], [["x"] * 70], rows_per_page=1)
    with pytest.raises(CycleNotFound, match="none of pages 2 to 65"):
        read(grid_pdf(pages_ * 2))


@pytest.mark.parametrize("rules", [True, False])
def test_rows_not_lined_up_across_a_cycle(rules: bool) -> None:
    pages_ = cycle_pages(HEADERS, handmade_rows(8), rows_per_page=4)
    # the second data row of the 2nd page of the second cycle is drawn half a row lower
    data = grid_pdf(pages_, GridStyle(rules=rules), shifts={4: {2: 12.0}})
    table = open_table(io.BytesIO(data))
    rows = table.rows()
    assert len([next(rows) for _ in range(4)]) == 4  # the first cycle is fine
    with pytest.raises(RowsMisaligned, match=r"page [45]"):
        next(rows)


def test_missing_row_on_one_page_of_a_cycle() -> None:
    pages_ = cycle_pages(HEADERS, handmade_rows(4), rows_per_page=4)
    cut = pages_[2]
    pages_[2] = type(cut)(cut.rows[:-1], cut.widths, cut.lines)  # last row not printed
    with pytest.raises(RowsMisaligned, match="page 3 has 3 rows"):
        read(grid_pdf(pages_))


def test_page_without_text() -> None:
    with pytest.raises(LayoutChanged, match="no text"):
        read(grid_pdf(cycle_pages([[""]], [], rows_per_page=1)))


def test_pages_range_with_known_cycle() -> None:
    data = grid_pdf(cycle_pages(HEADERS, handmade_rows(12), rows_per_page=4))
    cycle: Sequence[tuple[str, ...]] = [tuple(h) for h in HEADERS]
    table = open_table(io.BytesIO(data), pages=range(3, 9), cycle=cycle)
    rows = list(table.rows())
    assert [row.cells[0] for row in rows] == [(str(i),) for i in range(4, 12)]
    assert [row.page for row in rows] == [4] * 4 + [7] * 4


@pytest.mark.slow
def test_memory_does_not_grow_with_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading 900 one-row-per-cycle pages takes no more memory than 150: one cycle held.

    Opening reads the cross-reference table and the page tree's list of
    pages, a few bytes per page; what is measured is the reading after that.
    The cache of decoded strings is bounded (4,096 per font); it is made
    small here so that the files' sizes stay small.
    """
    monkeypatch.setattr(pdftext, "_STRING_CACHE_LIMIT", 64)

    def peak(rows: int) -> int:
        data = sim_pdf(synthetic(3, rows, rows_per_page=1))
        table = open_table(io.BytesIO(data))
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            count = sum(1 for _ in table.rows())
            assert count == rows
            return tracemalloc.get_traced_memory()[1] - start
        finally:
            tracemalloc.stop()

    small, large = peak(50), peak(300)
    assert large < small * 1.3 + 200_000, (small, large)


# -- cells drawn closer than a word space -------------------------------------------------


def tight_pdf(rules: bool) -> bytes:
    """Two columns whose texts fill them, 1.3 pt apart, in Helvetica 9 pt, no space drawn
    anywhere: the text collector joins them as it joins glyphs."""
    fiscal = "RICMAR80A01F839C"  # 88.5 pt wide: its column is 89.8 pt
    rows: list[list[Cell]] = [["FISCALE", "CONSEGNA"]]
    rows += [[fiscal, "FedEx"], [fiscal, ["Spese", "destinatario"]], ["", "x"]]
    page = GridPage(rows, [89.8, 120.0], [1, 1, 2, 1])
    return grid_pdf([page], GridStyle(rules=rules, padding=0.5))


@pytest.mark.parametrize("rules", [True, False])
def test_a_value_never_spans_two_columns(rules: bool) -> None:
    data = tight_pdf(rules)
    with pdftext.open_pdf(io.BytesIO(data)) as pdf:
        joined = [run.text for run in next(pdf.pages()).runs]
    assert "RICMAR80A01F839C FedEx" in joined  # what the text collector sees
    table, rows = read(data)
    assert table.pages_headers == (("FISCALE", "CONSEGNA"),)
    assert rows == [
        (("RICMAR80A01F839C",), ("FedEx",)),
        (("RICMAR80A01F839C",), ("Spese", "destinatario")),
        ((), ("x",)),
    ]


def test_headers_drawn_close_together_are_two_cells() -> None:
    # no rules, no drawn space between "DATAAREAID" and "ID": only the data tells
    header = b"BT /F1 9 Tf 74 700 Td (DATAAREAID) Tj ET BT /F1 9 Tf 133.5 700 Td (ID) Tj ET\n"
    body = b"".join(
        b"BT /F1 9 Tf 74 %d Td (kmt) Tj ET BT /F1 9 Tf 133.5 %d Td (%d) Tj ET\n" % (y, y, y)
        for y in (680, 660, 640)
    )
    table, rows = read(pdf_file([header + body]))
    assert table.pages_headers == (("DATAAREAID", "ID"),)
    assert rows == [(("kmt",), (str(y),)) for y in (680, 660, 640)]
