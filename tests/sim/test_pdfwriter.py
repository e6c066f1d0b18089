"""The DevExpress-style PDF writer, read back with pdfminer.six."""

from __future__ import annotations

import io
import re
import struct
import tracemalloc
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pdfminer.converter import PDFPageAggregator
from pdfminer.high_level import extract_text
from pdfminer.layout import LTChar, LTPage
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import resolve1

from archid.sim.font import Font, FontError, find_font, load_font
from archid.sim.grid import Column, Grid
from archid.sim.pdfwriter import (
    LINE_HEIGHT,
    MARGIN,
    ROW_HEIGHT,
    WriteStats,
    write_grid_pdf,
)

TOP = 792 - MARGIN
LATIN = "àèéìòù ÀÈÉ € l'ultimo «perché» Ça ñ ü ß © ° ½"


@dataclass(frozen=True)
class Line:
    """One text object as pdfminer saw it: its text, extent and baseline."""

    text: str
    x0: float
    x1: float
    baseline: float


def font() -> Font:
    return load_font()


def write(grid: Grid) -> tuple[bytes, WriteStats]:
    out = io.BytesIO()
    stats = write_grid_pdf(out, grid, font(), creation_date=datetime(2026, 1, 21, 12, 4, 22))
    return out.getvalue(), stats


def lines_by_page(data: bytes) -> list[list[Line]]:
    """Every text line of every page, in drawing order.

    Without layout analysis pdfminer yields the characters in stream order;
    a line ends where the next character does not continue it on the same
    baseline (each cell line is its own text object).
    """
    pages = []
    manager = PDFResourceManager()
    device = PDFPageAggregator(manager, laparams=None)
    interpreter = PDFPageInterpreter(manager, device)
    for pdf_page in PDFPage.get_pages(io.BytesIO(data)):
        interpreter.process_page(pdf_page)
        page = device.get_result()
        assert isinstance(page, LTPage)
        lines: list[Line] = []
        chars: list[LTChar] = []
        for item in page:
            if not isinstance(item, LTChar):
                continue
            if chars and (
                abs(item.matrix[5] - chars[-1].matrix[5]) > 0.01
                or abs(item.x0 - chars[-1].x1) > 0.01
            ):
                lines.append(_line(chars))
                chars = []
            chars.append(item)
        if chars:
            lines.append(_line(chars))
        pages.append(lines)
    return pages


def _line(chars: list[LTChar]) -> Line:
    return Line("".join(c.get_text() for c in chars), chars[0].x0, chars[-1].x1, chars[0].matrix[5])


def find(lines: Sequence[Line], text: str) -> Line:
    matches = [line for line in lines if line.text == text]
    assert len(matches) == 1, (text, [line.text for line in lines])
    return matches[0]


def two_page_grid(rows: Sequence[Sequence[str]], **kwargs: Any) -> Grid:
    pages = [
        [Column("ID", 60), Column("NOME VENDITE:", 150), Column("IMPORTO", 100, "right")],
        [Column("VIA", 200), Column("NOTE", 90)],
    ]
    return Grid(pages=pages, rows=rows, **kwargs)


def simple_rows(count: int) -> list[list[str]]:
    return [[str(i), f"Cliente {i}", f"{i},00 €", f"Via Roma {i}", "ok"] for i in range(count)]


def test_pages_are_us_letter_with_a_type0_identity_font() -> None:
    data, stats = write(two_page_grid(simple_rows(3), title="Ordini"))
    document = PDFDocument(PDFParser(io.BytesIO(data)))
    pages = list(PDFPage.create_pages(document))
    assert len(pages) == stats.pages == 2
    for page in pages:
        assert [float(v) for v in page.mediabox] == [0, 0, 612, 792]
        font_dict = resolve1(resolve1(page.resources["Font"])["FNT0"])
        assert font_dict["Subtype"].name == "Type0"
        assert font_dict["Encoding"].name == "Identity-H"
        assert resolve1(font_dict["ToUnicode"]).get_data().count(b"beginbfchar") >= 1
        base_font = font_dict["BaseFont"].name
        assert re.fullmatch(rf"[A-Z]{{6}}\+{font().postscript_name}", base_font)
        cid_font = resolve1(resolve1(font_dict["DescendantFonts"])[0])
        assert cid_font["Subtype"].name == "CIDFontType2"
        assert cid_font["CIDToGIDMap"].name == "Identity"
        assert resolve1(cid_font["W"])
        program = resolve1(resolve1(cid_font["FontDescriptor"])["FontFile2"]).get_data()
        assert program[:4] == b"\x00\x01\x00\x00"
    info = resolve1(document.info[0])
    assert info["Producer"] == b"Developer Express Inc. DXperience (tm) v24.1.7"
    assert info["Title"] == b"Ordini"
    assert info["CreationDate"].startswith(b"D:20260121120422")


def test_xref_points_at_every_object() -> None:
    data, _stats = write(two_page_grid(simple_rows(40)))
    start = int(re.findall(rb"startxref\n(\d+)\n%%EOF\n$", data)[0])
    header = re.match(rb"xref\n0 (\d+)\n", data[start:])
    assert header is not None
    table = data[start + header.end() :]
    count = int(header.group(1))
    for number in range(1, count):
        offset = int(table[20 * number : 20 * number + 10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number)
    assert b"/Size %d " % count in data[start:]


def test_text_round_trips_with_latin_1_and_euro() -> None:
    latin_1 = "".join(chr(c) for c in range(0xA1, 0x100) if c != 0xAD)
    rows = [["1", LATIN, "9,99 €", latin_1, "a'b"]]
    data, _stats = write(two_page_grid(rows))
    text = extract_text(io.BytesIO(data))
    assert LATIN in " ".join(text.split())  # it wraps in its column
    assert "9,99 €" in text
    assert "a'b" in text
    # The Latin-1 run is one long word: it is broken over lines of its cell.
    street = [line for line in lines_by_page(data)[1][2:] if line.x0 < MARGIN + 200]
    assert len(street) > 1
    assert "".join(line.text for line in street) == latin_1


def test_characters_without_glyph_print_as_question_marks() -> None:
    data, _stats = write(two_page_grid([["1", "漢字 ok", "", "", ""]]))
    assert "?? ok" in extract_text(io.BytesIO(data))


def test_each_cell_line_is_its_own_text_object_in_a_clipped_cell() -> None:
    data, _stats = write(two_page_grid(simple_rows(2)))
    stream = re.search(rb"stream\n(.*?)\nendstream", data, re.S)
    assert stream is not None
    content = zlib.decompress(stream.group(1)).decode()
    texts = re.findall(r"BT /FNT0 9\.75 Tf [\d.]+ [\d.]+ Td <([0-9A-F]+)> Tj ET", content)
    assert len(texts) == 3 * 3  # header and two rows, three columns on page one
    assert all(len(hex_ids) % 4 == 0 for hex_ids in texts)
    assert content.count(" re\nW\nn\n") == 9
    # One page background, then a fill and four borders per cell, header and data.
    assert content.count(" re\nf\n") == 1 + 5 * 3 * 3
    assert content.startswith("q\n1 1 1 rg\n0 0 612 792 re\nf\nQ\n")
    # Gray header cells with white text, white data cells with black text, gray borders.
    assert content.count("0.501961 0.501961 0.501961 rg") == 3
    assert content.count("0.662745 0.662745 0.662745 rg") == 4 * 3 * 3
    text_bytes = sum(len(m) for m in re.findall(r"BT .*? ET\n", content))
    assert text_bytes < len(content) / 3


def test_headers_repeat_on_every_page_of_every_cycle() -> None:
    data, stats = write(two_page_grid(simple_rows(25), rows_per_page=10))
    assert (stats.cycles, stats.cycle_length, stats.pages, stats.rows) == (3, 2, 6, 25)
    pages = lines_by_page(data)
    for number, lines in enumerate(pages):
        texts = [line.text for line in lines]
        headers = ["ID", "NOME VENDITE:", "IMPORTO"] if number % 2 == 0 else ["VIA", "NOTE"]
        assert texts[: len(headers)] == headers
        cycle = number // 2
        first = cycle * 10
        expected = str(first) if number % 2 == 0 else f"Via Roma {first}"
        assert texts[len(headers)] == expected
        data_rows = min(10, 25 - first)
        assert len(texts) == len(headers) * (1 + data_rows)


def test_a_page_holds_the_rows_that_fit_above_the_bottom_margin() -> None:
    data, stats = write(two_page_grid(simple_rows(100)))
    pages = lines_by_page(data)
    per_page = int((TOP - MARGIN - ROW_HEIGHT) // ROW_HEIGHT)
    assert per_page == 47  # the customers' one-line rows (spec v2: 44-47 a page)
    assert len(pages[0]) == 3 * (1 + per_page)
    assert stats.cycles == 3
    assert min(line.baseline for page in pages for line in page) > MARGIN


def test_rows_per_page_may_run_into_the_bottom_margin() -> None:
    data, stats = write(two_page_grid(simple_rows(100), rows_per_page=50))
    assert (stats.cycles, stats.pages) == (2, 4)
    first = lines_by_page(data)[0]
    assert len(first) == 3 * 51
    lowest = min(line.baseline for line in first)
    assert 0 < lowest < MARGIN


def test_header_row_sits_at_the_top_of_the_page_area() -> None:
    data, _stats = write(two_page_grid(simple_rows(1)))
    first = lines_by_page(data)[0]
    header = find(first, "ID")
    row = find(first, "0")
    assert TOP - ROW_HEIGHT < header.baseline < TOP
    assert header.baseline - row.baseline == pytest.approx(ROW_HEIGHT)
    assert header.x0 == pytest.approx(MARGIN + 2, abs=0.6)


def test_amounts_are_right_aligned_and_text_left_aligned() -> None:
    rows = [["1", "A", "1,00 €", "", ""], ["22", "Bbbbbbbb", "12.345,67 €", "", ""]]
    data, _stats = write(two_page_grid(rows))
    lines = lines_by_page(data)[0]
    small, big = find(lines, "1,00 €"), find(lines, "12.345,67 €")
    right_edge = MARGIN + 60 + 150 + 100
    assert small.x1 == pytest.approx(right_edge - 2, abs=0.6)
    assert big.x1 == pytest.approx(small.x1, abs=0.01)
    assert big.x0 < small.x0 - 10
    short, long = find(lines, "A"), find(lines, "Bbbbbbbb")
    assert short.x0 == pytest.approx(long.x0, abs=0.01) == pytest.approx(MARGIN + 60 + 2, abs=0.6)


def test_wrapped_cell_makes_a_taller_row_with_centred_neighbours() -> None:
    rows = [
        ["1", "uno", "", "Via Roma 1", "prima riga\nseconda riga\nterza riga"],
        ["2", "due", "", "Via Roma 2", "ok"],
    ]
    data, _stats = write(two_page_grid(rows))
    first, second = lines_by_page(data)
    wrapped = [find(second, t) for t in ("prima riga", "seconda riga", "terza riga")]
    neighbour = find(second, "Via Roma 1")
    assert [w.baseline for w in wrapped] == pytest.approx(
        [neighbour.baseline + LINE_HEIGHT, neighbour.baseline, neighbour.baseline - LINE_HEIGHT]
    )
    assert wrapped[0].baseline > neighbour.baseline
    # The row grew by two lines, on both pages of the cycle.
    grown = ROW_HEIGHT + 2 * LINE_HEIGHT
    below = find(second, "Via Roma 2")
    gap = neighbour.baseline - below.baseline
    assert gap == pytest.approx((grown + ROW_HEIGHT) / 2)
    assert find(first, "1").baseline == pytest.approx(neighbour.baseline)
    assert find(first, "2").baseline == pytest.approx(below.baseline)


def test_long_text_wraps_at_spaces_within_the_column() -> None:
    note = "consegnare al piano terra dopo le nove"
    data, _stats = write(two_page_grid([["1", "", "", "", note]]))
    lines = lines_by_page(data)[1][2:]
    assert len(lines) > 1
    assert " ".join(line.text for line in lines) == note
    assert all(line.x1 <= MARGIN + 200 + 90 - 2 + 0.01 for line in lines)
    baselines = [line.baseline for line in lines]
    assert baselines == sorted(baselines, reverse=True)


def test_a_word_longer_than_the_column_is_broken_between_characters() -> None:
    word = "W" * 40
    data, _stats = write(two_page_grid([["1", "", "", "", word]]))
    lines = lines_by_page(data)[1][2:]
    assert len(lines) >= 3
    assert "".join(line.text for line in lines) == word
    assert all(line.x1 - line.x0 <= 90 - 4 + 0.01 for line in lines)


def test_summary_row_follows_the_last_data_row() -> None:
    summary = ["Count=3", "", "Sum=3,00", "", ""]
    data, stats = write(two_page_grid(simple_rows(3), summary=summary))
    first = lines_by_page(data)[0]
    assert [line.text for line in first][-2:] == ["Count=3", "Sum=3,00"]
    assert find(first, "2").baseline - find(first, "Count=3").baseline == pytest.approx(ROW_HEIGHT)
    assert (stats.pages, stats.rows) == (2, 3)


def test_summary_row_starts_a_new_cycle_when_the_page_is_full() -> None:
    summary = ["Count=47", "", "", "", ""]
    data, stats = write(two_page_grid(simple_rows(47), summary=summary))
    assert (stats.cycles, stats.pages) == (2, 4)
    pages = lines_by_page(data)
    assert [line.text for line in pages[2]] == ["ID", "NOME VENDITE:", "IMPORTO", "Count=47"]
    assert [line.text for line in pages[3]] == ["VIA", "NOTE"]


def test_empty_grid_is_one_cycle_of_header_only_pages() -> None:
    data, stats = write(two_page_grid([]))
    assert (stats.pages, stats.cycles, stats.rows) == (2, 1, 0)
    assert [[line.text for line in page] for page in lines_by_page(data)] == [
        ["ID", "NOME VENDITE:", "IMPORTO"],
        ["VIA", "NOTE"],
    ]


def test_rows_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="5 columns"):
        write(two_page_grid([["1", "2"]]))
    with pytest.raises(ValueError, match="rows_per_page"):
        write(two_page_grid([], rows_per_page=0))


def test_one_row_per_page_makes_one_cycle_per_row() -> None:
    data, stats = write(two_page_grid(simple_rows(4), rows_per_page=1))
    assert (stats.cycles, stats.pages) == (4, 8)
    pages = lines_by_page(data)
    assert [page[-1].text for page in pages[1::2]] == ["ok"] * 4
    assert [page[3].text for page in pages[::2]] == ["0", "1", "2", "3"]


def test_output_renders_with_the_embedded_subset() -> None:
    import pypdfium2 as pdfium  # renders like a viewer would

    data, _stats = write(two_page_grid(simple_rows(2)))
    document = pdfium.PdfDocument(data)
    image = document[0].render(scale=2).to_pil().convert("L")
    # The "ID" header text: white pixels inside the gray (128) header cell,
    # and the first data row's text: black pixels on white.
    left, top = int((MARGIN + 2) * 2), int((792 - TOP) * 2)
    header = image.crop((left, top + 3, left + 20, top + int(ROW_HEIGHT * 2) - 3))
    darkest, lightest = header.getextrema()
    assert lightest > 200 and 100 < darkest <= 140
    below = top + int(ROW_HEIGHT * 2)
    row = image.crop((left, below + 3, left + 20, below + int(ROW_HEIGHT * 2) - 3))
    assert row.getextrema()[0] < 100
    document.close()


class _Sink:
    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def _many_rows(count: int) -> Iterator[list[str]]:
    for i in range(count):
        yield [f"{i:,}".replace(",", "."), f"Cliente {i} S.r.l.", f"{i},00 €", f"Via {i}", "ok"]


def _peak_memory(pages: int) -> tuple[int, WriteStats]:
    rows = pages // 2 * 26
    grid = two_page_grid([], rows_per_page=26)
    grid.rows = _many_rows(rows)
    tracemalloc.start()
    try:
        stats = write_grid_pdf(_Sink(), grid, font())  # type: ignore[arg-type]
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, stats


@pytest.mark.slow
def test_streaming_a_big_grid_uses_bounded_memory() -> None:
    small_peak, small = _peak_memory(200)
    big_peak, big = _peak_memory(2000)
    assert (small.pages, big.pages) == (200, 2000)
    assert big_peak < 8_000_000
    # A writer that kept its pages would grow by about 2.5 KB a page (the
    # compressed content alone); only the xref offsets and page numbers may
    # grow here. The bound leaves room for the allocator's noise, which has
    # been measured at up to 130 bytes a page on a loaded machine.
    assert big_peak - small_peak < (big.pages - small.pages) * 300


def test_find_font_prefers_liberation_and_explains_a_missing_font(tmp_path: Path) -> None:
    assert find_font().name in ("LiberationSerif-Regular.ttf", "DejaVuSerif.ttf")
    with pytest.raises(FontError, match="fonts-liberation"):
        find_font([tmp_path / "missing.ttf"])
    assert load_font() is load_font(find_font())


def test_font_subset_keeps_glyph_ids_and_composite_components() -> None:
    full = font()
    glyph = full.cmap["à"]
    program = full.subset([glyph], {"à": glyph})
    words = struct.unpack(f">{len(program) // 4}L", program)
    assert sum(words) & 0xFFFFFFFF == 0xB1B0AFBA
    assert len(program) < len(full.path.read_bytes()) / 4

    parsed = _font_from_bytes(program)
    assert parsed.cmap == {"à": glyph}
    assert parsed.num_glyphs == full.num_glyphs
    assert parsed.advance(glyph) == full.advance(glyph)
    kept = {gid for gid in range(parsed.num_glyphs) if parsed._glyph(gid)}
    # "à" is a composite of "a" and the grave accent: both outlines stay.
    assert full.cmap["a"] in kept
    assert {0, glyph} < kept
    assert full.cmap["b"] not in kept
    assert len(kept) <= 4


def _font_from_bytes(program: bytes) -> Font:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".ttf") as handle:
        handle.write(program)
        handle.flush()
        return Font(handle.name)


def test_text_width_matches_the_advance_widths() -> None:
    full = font()
    expected = sum(full.advance(g) for g in full.glyph_ids("Roma")) * 9.75 / full.units_per_em
    assert full.text_width("Roma", 9.75) == pytest.approx(expected)
    assert full.text_width("Roma Roma", 9.75) > 2 * full.text_width("Roma", 9.75)
    assert full.glyph_ids("漢") == full.glyph_ids("?")


def test_creation_date_carries_its_utc_offset() -> None:
    out = io.BytesIO()
    moment = datetime(2026, 1, 21, 12, 4, 22, tzinfo=timezone(timedelta(hours=1)))
    write_grid_pdf(out, two_page_grid([]), font(), creation_date=moment)
    assert b"/CreationDate (D:20260121120422+01'00')" in out.getvalue()
