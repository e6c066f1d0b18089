"""The text collector: positions, decoding, runs, rules, and the files it refuses."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest

from archid.exports.errors import EmptyPdf, EncryptedPdf, LayoutChanged, NotAPdf, TruncatedPdf
from archid.exports.pdftext import PageText, TextRun, _Interpreter, open_pdf
from archid.records import ExportType
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.grid import Column, Grid
from archid.sim.layouts import ExportView, build_grid
from archid.sim.pdfwriter import write_grid_pdf
from tests.exports.handmade import HELVETICA, pdf_file
from tests.exports.variants import VARIANTS, render_variant


@pytest.fixture(scope="module")
def orders_pdf() -> bytes:
    dataset = Dataset.generate(3, 0.04)
    out = io.BytesIO()
    grid = build_grid(ExportType.ORDERS, dataset.records(ExportType.ORDERS), ExportView())
    write_grid_pdf(out, grid, load_font())
    return out.getvalue()


def first_page(data: bytes) -> PageText:
    with open_pdf(io.BytesIO(data)) as pdf:
        return next(pdf.pages())


def texts(page: PageText) -> list[str]:
    return [run.text for run in page.runs]


def test_devexpress_page_gives_cell_lines_with_positions(orders_pdf: bytes) -> None:
    page = first_page(orders_pdf)
    assert (page.width, page.height) == (612, 792)
    top = max(run.y for run in page.runs)
    header = [run for run in page.runs if run.y == top]
    assert [run.text for run in header] == [
        "ID",
        "ID DI VENDITA",
        "PROFILO CLIENTE:",
        "NOME VENDITE:",
    ]
    first = header[0]
    assert first.x0 == pytest.approx(74.0) and first.size == pytest.approx(9.75)
    assert first.x1 - first.x0 == pytest.approx(10.29, abs=0.05)  # "ID" in Times at 9.75 pt
    assert not any(run.breaks for run in page.runs)  # one string per cell line
    # rules: the grid's column edges and row edges; the header row is 13.5 pt
    assert {72.0, 720.0}.issubset({round(x, 1) for x in page.x_edges} | {720.0})
    assert {720.0, 706.5}.issubset({round(y, 1) for y in page.y_edges})
    with open_pdf(io.BytesIO(orders_pdf)) as pdf:
        second = next(iter(pdf.pages(1, 2)))
    # the delivery address always wraps: two runs, 11.25 pt apart
    address = sorted((r for r in second.runs if r.x0 > 300 and r.y < top), key=lambda r: -r.y)
    assert address[0].y - address[1].y == pytest.approx(11.25)


def test_lean_and_full_interpreters_agree(orders_pdf: bytes) -> None:
    with open_pdf(io.BytesIO(orders_pdf)) as pdf:
        lean = next(pdf.pages())
    data = zlib.decompress(orders_pdf.split(b"stream\n", 2)[1].split(b"\nendstream")[0])
    full = PageText(0, lean.width, lean.height)
    with open_pdf(io.BytesIO(orders_pdf)) as pdf:
        font = pdf._font(pdf._root["Kids"][0].resolve()["Resources"].resolve()["Font"]["FNT0"])
    interpreter = _Interpreter(full, lambda name: font)
    interpreter._execute_full(data)
    interpreter._flush()
    assert full.runs == lean.runs
    assert sorted(set(full.x_edges)) == sorted(set(lean.x_edges))
    assert sorted(set(full.y_edges)) == sorted(set(lean.y_edges))


GRID = Grid(
    [[Column("NOME", 200), Column("CITTÀ", 120)], [Column("IMPORTO", 100, "right")]],
    [["Studio Dentistico Rossi", "Città di Castello", "1.234,50 €"]],
)


@pytest.mark.parametrize(
    "name",
    ["tj_kerning", "glyph_by_glyph", "glyph_by_glyph_tm", "multiline_row", "helvetica_8_kerning"],
)
def test_kerned_and_glyph_by_glyph_text_makes_one_run_per_cell_line(name: str) -> None:
    page = first_page(render_variant(GRID, VARIANTS[name]))
    assert texts(page) == ["NOME", "CITTÀ", "Studio Dentistico Rossi", "Città di Castello"]


@pytest.mark.parametrize("name", ["helvetica", "times", "truetype", "sans_type0", "flipped"])
def test_fonts_and_transforms_decode_and_place_text(name: str) -> None:
    page = first_page(render_variant(GRID, VARIANTS[name]))
    runs = {run.text: run for run in page.runs}
    assert set(runs) == {"NOME", "CITTÀ", "Studio Dentistico Rossi", "Città di Castello"}
    # header above data, columns left to right, in page space whatever the CTM
    assert runs["NOME"].y > runs["Studio Dentistico Rossi"].y
    assert runs["NOME"].x0 < runs["CITTÀ"].x0 < 612
    assert runs["NOME"].size == pytest.approx(VARIANTS[name].size)


def test_text_operators_move_and_space_text() -> None:
    content = (
        b"BT /F1 10 Tf 12 TL 100 700 Td (A) Tj T* (B) Tj (C) ' 2 0 (D) \" ET\n"
        b"BT /F1 10 Tf 100 600 Td [(Hel) 20 (lo) -300 (World)] TJ ET\n"
        b"BT /F1 10 Tf 200 Tz 100 500 Td (Wide) Tj 100 Tz 1 Tc 300 500 Td (ab) Tj 0 Tc ET\n"
        b"q 2 0 0 2 0 0 cm BT /F1 5 Tf 50 200 Td (Scaled) Tj ET Q\n"
        b"BT /F1 10 Tf 100 300 Td (Left) Tj 60 0 Td (Right) Tj ET\n"
    )
    page = first_page(pdf_file([content]))
    runs = {run.text: run for run in page.runs}
    assert [runs[t].y for t in "ABCD"] == pytest.approx([700, 688, 676, 664])
    # TJ: a small adjustment joins, a gap of 0.3 em is a space
    assert runs["Hello World"].x0 == pytest.approx(100)
    # Tz 200 doubles advances: "Wide" in Helvetica is 0.944+0.556+0.556+0.556 em... wide
    wide = runs["Wide"]
    assert wide.x1 - wide.x0 == pytest.approx(2 * 10 * (0.944 + 0.222 + 0.556 + 0.556), abs=0.01)
    assert runs["ab"].x1 - runs["ab"].x0 == pytest.approx(10 * (0.556 + 0.556) + 2)
    scaled = runs["Scaled"]
    assert (scaled.x0, scaled.y, scaled.size) == pytest.approx((100, 400, 10))
    # two cells' texts far apart stay two runs
    assert "Left" in runs and "Right" in runs


def test_differences_encoding_and_unmapped_glyphs() -> None:
    font = (
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding "
        b"<< /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [65 /Euro /egrave] >> >>"
    )
    page = first_page(pdf_file([b"BT /F1 10 Tf 100 700 Td (AB c) Tj ET"], fonts={"F1": font}))
    assert texts(page) == ["€è c"]


def test_rules_from_strokes_and_clips_ignored() -> None:
    content = (
        b"72 700 m 300 700 l 300 650 l S\n"  # two rules
        b"50 50 500 500 re W n\n"  # a clip: not a rule
        b"0 0 612 792 re f\n"  # a page background: not a rule
        b"100 100 20 10 re 200 200 20 10 re f\n"  # two rects, one path
        b"BT /F1 10 Tf 80 680 Td (x) Tj ET"
    )
    page = first_page(pdf_file([content]))
    assert sorted(set(page.y_edges)) == [100, 110, 200, 210, 650, 700]
    assert sorted(set(page.x_edges)) == [72, 100, 120, 200, 220, 300]
    assert texts(page) == ["x"]


def test_pages_are_read_lazily_from_any_start(orders_pdf: bytes) -> None:
    with open_pdf(io.BytesIO(orders_pdf)) as pdf:
        assert pdf.page_count > 7
        indices = [page.index for page in pdf.pages(3, 6)]
        assert indices == [3, 4, 5]
        eighth = next(pdf.pages(7))
        assert eighth.runs and eighth.runs[0].text == "ID"  # a cycle starts again


# -- files refused -----------------------------------------------------------------


def test_html_error_page_is_not_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "Ordini.pdf"
    path.write_bytes(b"<!DOCTYPE html><html><body>Requested objects cannot be loaded</body></html>")
    with pytest.raises(NotAPdf, match="HTML page"):
        open_pdf(path)


def test_empty_download_is_not_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "Ordini.pdf"
    path.write_bytes(b"")
    with pytest.raises(NotAPdf, match="0 bytes"):
        open_pdf(path)


@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_download(orders_pdf: bytes, keep: float) -> None:
    with pytest.raises(TruncatedPdf, match="interrupted"):
        open_pdf(io.BytesIO(orders_pdf[: int(len(orders_pdf) * keep)]))


def test_damaged_xref_is_truncated(orders_pdf: bytes) -> None:
    start = orders_pdf.rindex(b"startxref")
    damaged = orders_pdf[:start] + b"startxref\n12\n%%EOF\n"
    with pytest.raises(TruncatedPdf, match="damaged"):
        open_pdf(io.BytesIO(damaged))


def test_encrypted_pdf() -> None:
    encrypt = (
        b"/Encrypt << /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >> /ID [<%s> <%s>] "
        % (b"00" * 32, b"00" * 32, b"01" * 16, b"01" * 16)
    )
    data = pdf_file([b"BT /F1 10 Tf 100 700 Td (x) Tj ET"], trailer_extra=encrypt)
    with pytest.raises(EncryptedPdf, match="encrypted"):
        open_pdf(io.BytesIO(data))


def test_pdf_without_pages() -> None:
    with pytest.raises(EmptyPdf, match="no pages"):
        open_pdf(io.BytesIO(pdf_file([])))


def test_rotated_page_is_refused_clearly() -> None:
    data = pdf_file([b"BT /F1 10 Tf 100 700 Td (x) Tj ET"], page_extra=b"/Rotate 90 ")
    with open_pdf(io.BytesIO(data)) as pdf, pytest.raises(LayoutChanged, match="rotated by 90"):
        next(pdf.pages())


def test_text_run_is_a_plain_tuple() -> None:
    run = TextRun(1.0, 2.0, 3.0, 9.75, "x")
    assert run == (1.0, 2.0, 3.0, 9.75, "x", ())
    assert HELVETICA.startswith(b"<<")


def test_runs_note_where_separately_drawn_pieces_were_joined() -> None:
    # a 12-character code filling its cell, the next cell 2 pt after: one run
    content = b"BT /F1 10 Tf 100 700 Td (RICMAR80) Tj ET BT /F1 10 Tf 152.56 700 Td (Porto) Tj ET"
    page = first_page(pdf_file([content]))
    (run,) = page.runs
    assert run.text == "RICMAR80 Porto"
    ((offset, left, right),) = run.breaks
    assert run.text[offset:] == "Porto" and left == pytest.approx(152.56)
    assert left - right == pytest.approx(2.0, abs=0.05)
    # cut where a cell ends: each part keeps its own extent
    first, second = run.split(lambda x: 0 if x < 151 else 1)
    assert (first.text, second.text) == ("RICMAR80", "Porto")
    assert first.x1 == pytest.approx(right) and second.x0 == pytest.approx(152.56)
    assert run.split(lambda x: 0) == [run]


def test_a_gap_read_as_a_space_is_undone_where_the_producer_draws_spaces() -> None:
    # "DATAAREAID" and "ID" 2 pt apart, on a page that draws its spaces as glyphs
    content = (
        b"BT /F1 10 Tf 100 700 Td (DATAAREAID) Tj ET BT /F1 10 Tf 165.9 700 Td (ID) Tj ET\n"
        b"BT /F1 10 Tf 100 680 Td (ID DI VENDITA) Tj ET"
    )
    page = first_page(pdf_file([content]))
    assert texts(page) == ["DATAAREAID", "ID", "ID DI VENDITA"]
    # without any drawn space, a gap is how a word space is drawn
    glyphs = b"BT /F1 10 Tf 100 700 Td (ID) Tj 12.5 0 Td (DI) Tj ET"
    assert texts(first_page(pdf_file([glyphs]))) == ["ID DI"]
