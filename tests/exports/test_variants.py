"""Self-tests of the other-producer renderer (``variants.py``).

Each preset must be a valid PDF that pdfminer reads back with every cell
line on the right page, keep the layout semantics (US Letter, header row at
the top-left of the area, cycles, rows aligned across a cycle, wrapped cells
centred), and really use the operators and fonts it claims to.
"""

from __future__ import annotations

import io
import itertools
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from pdfminer.converter import PDFPageAggregator
from pdfminer.high_level import extract_pages, extract_text
from pdfminer.layout import LAParams, LTChar, LTPage, LTTextContainer
from pdfminer.pdfinterp import PDFContentParser, PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdftypes import resolve1
from pdfminer.psparser import PSKeyword

from archid.sim.grid import Column, Grid
from tests.exports.variants import (
    MARGIN,
    VARIANTS,
    Plan,
    Variant,
    plan_variant,
    render_variant,
)

NAMES = list(VARIANTS)
SIMPLE = {name for name, v in VARIANTS.items() if v.simple_font}

LONG_NAME = "Laboratorio Odontotecnico Zanetti & Valentini di Sant'Agata S.n.c. (sede legale)"
URL = "https://www.fedex.com/fedextrack/?trknbr=445291890750&locale=it_IT"
ACCENTS = "Città più è perché Così né già: àèéìòù ÀÈÉ €"
FOREIGN = "Łódź"  # Ł and ź are not in WinAnsi, ó is
FOREIGN_WINANSI = "?ód?"

PAGES = [
    [Column("ID", 50, "right"), Column("NOME", 200), Column("CITTÀ", 120)],
    [Column("INDIRIZZO DI CONSEGNA", 180), Column("IMPORTO TOTALE", 110, "right")],
    [Column("NOTE", 260), Column("DATA", 80)],
]


def _row(i: int) -> list[str]:
    sign = "-" if i % 5 == 4 else ""
    return [
        f"{71000 + i:,}".replace(",", "."),
        LONG_NAME if i % 7 == 3 else f"Studio Dentistico Rossi {i}",
        "Forlì" if i % 2 else "Città di Castello",
        f"Via Giuseppe Verdi {i}\n{40100 + i} Bologna BO",
        f"{sign}{1 + i}.{(i * 43) % 1000:03d},{i % 100:02d} €",
        [ACCENTS, URL, f"{FOREIGN} {i}", ""][i % 4],
        f"{1 + i % 28:02d}/01/2026" if i % 6 else "",
    ]


def rich_grid(rows: int = 32, rows_per_page: int | None = None) -> Grid:
    """Wrapped cells, explicit line breaks, accents, €, a long URL, empty cells, a summary."""
    summary = [f"Count={rows}", "", "", "", "Sum=1.234.567,89", "", ""]
    return Grid(PAGES, [_row(i) for i in range(rows)], summary, rows_per_page, title="Ordini")


def one_line_grid(rows: int) -> Grid:
    """Only cells that never wrap, so page counts can be computed by hand."""
    body = [
        [str(i), f"Nome {i}", "Roma", f"Via {i}", f"{i},00 €", "nota", "21/01/2026"]
        for i in range(rows)
    ]
    summary = [f"Count={rows}", "", "", "", "Sum=9,00", "", ""]
    return Grid(PAGES, body, summary)


@cache
def rendered(name: str) -> bytes:
    return render_variant(rich_grid(), VARIANTS[name])


@cache
def planned(name: str) -> Plan:
    return plan_variant(rich_grid(), VARIANTS[name])


@cache
def page_texts(name: str) -> tuple[str, ...]:
    out = []
    for page in extract_pages(io.BytesIO(rendered(name)), laparams=LAParams()):
        text = "".join(e.get_text() for e in page if isinstance(e, LTTextContainer))
        out.append(" ".join(text.split()))
    return tuple(out)


def _squash(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Op:
    name: str
    operands: tuple[Any, ...]


def operators(data: bytes) -> list[tuple[int, list[Op]]]:
    return _operators(data)


@cache
def _operators(data: bytes) -> list[tuple[int, list[Op]]]:
    return list(_parse_operators(data))


def _parse_operators(data: bytes) -> Iterator[tuple[int, list[Op]]]:
    """Each page's content stream as (operator, operands), via pdfminer's parser."""
    for number, page in enumerate(PDFPage.get_pages(io.BytesIO(data))):
        parser = PDFContentParser(page.contents)
        ops: list[Op] = []
        stack: list[Any] = []
        while True:
            try:
                _pos, obj = parser.nextobject()
            except Exception:  # pdfminer's PSEOF ends the stream
                break
            if isinstance(obj, PSKeyword):
                ops.append(Op(obj.name.decode("latin-1"), tuple(stack)))
                stack = []
            else:
                stack.append(obj)
        yield number, ops


@cache
def op_counts(name: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _n, ops in operators(rendered(name)):
        counts.update(op.name for op in ops)
    return counts


def fonts(data: bytes) -> list[dict[str, Any]]:
    out = []
    for page in PDFPage.get_pages(io.BytesIO(data)):
        for ref in resolve1(resolve1(page.resources)["Font"]).values():
            out.append(resolve1(ref))
    return out


def chars_by_page(data: bytes, max_pages: int | None = None) -> list[list[LTChar]]:
    """Every glyph of every page in stream order (no layout analysis)."""
    manager = PDFResourceManager()
    device = PDFPageAggregator(manager, laparams=None)
    interpreter = PDFPageInterpreter(manager, device)
    out = []
    for page in PDFPage.get_pages(io.BytesIO(data), maxpages=max_pages or 0):
        interpreter.process_page(page)
        result = device.get_result()
        assert isinstance(result, LTPage)
        out.append([item for item in result if isinstance(item, LTChar)])
    return out


def baseline(char: LTChar) -> float:
    return float(char.matrix[5])


def stream_lines(chars: list[LTChar]) -> list[tuple[float, float, str]]:
    """Glyphs in drawing order cut into lines: (x0, baseline, text); spaces are gaps."""
    lines: list[tuple[float, float, str]] = []
    previous: LTChar | None = None
    for char in chars:
        if (
            previous is None
            or abs(baseline(char) - baseline(previous)) > 0.01
            or not -0.5 < char.x0 - previous.x1 < 4
        ):
            lines.append((char.x0, baseline(char), ""))
        elif char.x0 - previous.x1 > 1:
            x, y, text = lines[-1]
            lines[-1] = (x, y, text + " ")
        x, y, text = lines[-1]
        lines[-1] = (x, y, text + char.get_text())
        previous = char
    return lines


# -- every preset: valid, complete, laid out per the spec --------------------------


@pytest.mark.parametrize("name", NAMES)
def test_pages_are_letter_and_counted_by_cycles(name: str) -> None:
    data = rendered(name)
    plan = planned(name)
    pages = list(PDFPage.get_pages(io.BytesIO(data)))
    assert [tuple(float(v) for v in p.mediabox) for p in pages] == [(0, 0, 612, 792)] * len(pages)
    assert len(plan.pages) == 3
    assert len(pages) == plan.page_count == len(plan.cycles) * 3
    assert len(plan.cycles) >= 2  # the sample needs more than one cycle at any size


@pytest.mark.parametrize("name", NAMES)
def test_every_cell_line_is_extracted_on_its_page(name: str) -> None:
    plan = planned(name)
    texts = page_texts(name)
    assert len(texts) == plan.page_count
    for number, text in enumerate(texts):
        expected = plan.page_lines(number)
        assert expected
        missing = [line for line in expected if _squash(line) not in text]
        assert not missing, f"page {number + 1}: {missing[:5]}"
    # The first page of a cycle has IDs, the second amounts, the third dates only.
    assert "71.000" in texts[0] and "71.000" not in texts[1]
    assert "IMPORTO TOTALE" in texts[1] and "IMPORTO TOTALE" not in texts[0]


@pytest.mark.parametrize("name", NAMES)
def test_extract_text_reads_every_cell_string(name: str) -> None:
    """One-paragraph cells that fit come back whole; the others line by line."""
    text = _squash(extract_text(io.BytesIO(rendered(name))))
    grid = rich_grid()
    simple = name in SIMPLE
    for row in [*grid.rows, grid.summary or []]:
        for cell in row:
            for paragraph in cell.split("\n"):
                if simple:
                    paragraph = paragraph.replace(FOREIGN, FOREIGN_WINANSI)
                if paragraph and paragraph not in (LONG_NAME, URL):
                    assert _squash(paragraph) in text, paragraph
    assert (FOREIGN_WINANSI if simple else FOREIGN) in text
    assert "€" in text and "àèéìòù ÀÈÉ" in text and "Forlì" in text


@pytest.mark.parametrize("name", NAMES)
def test_header_starts_at_the_top_of_the_area(name: str) -> None:
    """Whatever the transform, the header row sits at the top margin, text padded."""
    variant = VARIANTS[name]
    for number, chars in enumerate(chars_by_page(rendered(name), 3)):
        top = max(baseline(c) for c in chars)
        header = sorted((c for c in chars if abs(baseline(c) - top) < 0.01), key=lambda c: c.x0)
        assert 0 < 792 - MARGIN - top < variant.row_height
        # upright, unscaled glyphs whatever the cm and Tm
        assert all(c.upright for c in chars)
        scale = variant.size if variant.unit_font_size else 1
        assert all(abs(c.matrix[0] - scale) < 1e-4 for c in chars)
        assert all(abs(c.matrix[3] - scale) < 1e-4 for c in chars)
        if number == 0:  # ID is right-aligned: its last glyph ends at the padding
            assert header[0].get_text() == "I" and header[1].get_text() == "D"
            assert abs(header[1].x1 - (MARGIN + 50 - variant.padding)) < 0.05
        else:
            assert abs(header[0].x0 - (MARGIN + variant.padding)) < 0.05


@pytest.mark.parametrize("name", NAMES)
def test_rows_are_aligned_across_a_cycle(name: str) -> None:
    variant = VARIANTS[name]
    grid = one_line_grid(30)
    pages = chars_by_page(render_variant(grid, variant))
    for start in range(0, len(pages), 3):
        baselines = [
            sorted({round(baseline(c), 2) for c in chars}) for chars in pages[start : start + 3]
        ]
        # page 3 has no summary cell: compare the rows page 3 has
        assert baselines[0] == baselines[1]
        assert baselines[2] == baselines[0][-len(baselines[2]) :]
        assert len(baselines[0]) - len(baselines[2]) in (0, 1)
        gaps = [b - a for a, b in itertools.pairwise(baselines[0])]
        assert all(abs(gap - variant.row_height) < 0.02 for gap in gaps)


@pytest.mark.parametrize("name", NAMES)
def test_page_count_follows_the_row_height(name: str) -> None:
    variant = VARIANTS[name]
    rows = 70
    fit = math.floor((792 - 2 * MARGIN - variant.row_height) / variant.row_height + 1e-9)
    cycles = math.ceil((rows + 1) / fit)  # the summary is one more one-line row
    data = render_variant(one_line_grid(rows), variant)
    assert len(list(PDFPage.get_pages(io.BytesIO(data)))) == cycles * 3


def test_sizes_change_rows_per_page() -> None:
    counts = {
        size: plan_variant(one_line_grid(150), VARIANTS[name]).page_count
        for size, name in ((8, "size_8"), (9.75, "baseline"), (11, "size_11"))
    }
    assert counts[8] < counts[9.75] < counts[11]


@pytest.mark.parametrize("name", ["baseline", "text_order", "flipped", "times_11_glyphs"])
def test_one_row_per_page(name: str) -> None:
    grid = rich_grid(rows=5, rows_per_page=1)
    data = render_variant(grid, VARIANTS[name])
    texts = [_squash(extract_text(io.BytesIO(data), page_numbers=[n])) for n in range(0, 15, 3)]
    assert len(list(PDFPage.get_pages(io.BytesIO(data)))) == 5 * 3  # summary fits on the last
    for i, text in enumerate(texts):
        assert f"{71000 + i:,}".replace(",", ".") in text
        assert sum(f"{71000 + j:,}".replace(",", ".") in text for j in range(5)) == 1
    assert "Count=5" in texts[-1] and "Count=5" not in texts[-2]


@pytest.mark.parametrize("name", NAMES)
def test_wrapped_cells_are_vertically_centred(name: str) -> None:
    """A three-line cell's middle line shares the baseline of its one-line neighbours."""
    variant = VARIANTS[name]
    body = [["1", "uno", "Roma", "a\nb\nc", "5,00 €", "x", "d"]]
    grid = Grid(PAGES, body, None)
    pages = chars_by_page(render_variant(grid, variant))
    by_text = {c.get_text(): baseline(c) for c in pages[1]}
    assert abs(by_text["a"] - by_text["b"] - variant.line_height) < 0.01
    assert abs(by_text["b"] - by_text["5"]) < 0.01  # "5,00 €" is one line, centred
    row_top = 792 - MARGIN - variant.row_height
    row_height = variant.row_height + 2 * variant.line_height
    assert row_top - row_height < by_text["c"] < by_text["a"] < row_top
    one_line = {c.get_text(): baseline(c) for c in pages[0]}
    assert abs(one_line["u"] - by_text["b"]) < 0.01  # aligned across the cycle


# -- each preset really uses its operators ----------------------------------------


def _text_shows(name: str) -> list[Op]:
    return [
        op for _n, ops in operators(rendered(name)) for op in ops if op.name in ("Tj", "TJ", "'")
    ]


def test_tj_kerning_uses_small_adjustments_of_both_signs() -> None:
    counts = op_counts("tj_kerning")
    assert counts["TJ"] > 100 and counts["Tj"] == 0
    numbers = [
        item
        for op in _text_shows("tj_kerning")
        for item in op.operands[0]
        if isinstance(item, int | float)
    ]
    assert any(n > 0 for n in numbers) and any(n < 0 for n in numbers)
    assert max(abs(n) for n in numbers) <= 100  # never a word gap (a space is 250+)
    assert op_counts("baseline")["TJ"] == 0


@pytest.mark.parametrize("name", ["glyph_by_glyph", "times_11_glyphs"])
def test_glyph_by_glyph_positions_every_glyph_and_draws_no_space(name: str) -> None:
    counts = op_counts(name)
    shows = _text_shows(name)
    assert counts["TJ"] == 0 and counts["'"] == 0
    assert counts["Td"] >= len(shows) > 1000
    simple = name in SIMPLE
    for op in shows:
        (string,) = op.operands
        assert len(string) == (1 if simple else 2)
        if simple:
            assert string != b" "
    assert counts["BT"] < len(shows)


def test_glyph_by_glyph_tm_uses_one_tm_per_glyph() -> None:
    counts = op_counts("glyph_by_glyph_tm")
    assert counts["Tm"] == counts["Tj"] > 1000 and counts["Td"] == 0


def test_multiline_objects_hold_several_lines() -> None:
    lines = sum(
        len(planned("baseline").page_lines(n)) for n in range(planned("baseline").page_count)
    )
    assert op_counts("baseline")["BT"] == lines  # one text object per line
    cell = op_counts("multiline_cell")
    assert cell["TL"] == cell["BT"] and cell["T*"] > 0 and cell["'"] > 0
    assert cell["BT"] < lines
    row = op_counts("multiline_row")
    assert row["BT"] < cell["BT"] and row["TJ"] > 0
    # after the first line, every move inside a text object is relative
    assert row["Td"] > row["BT"]
    assert row["Td"] + row["T*"] + row["'"] + row["Tm"] == row["TJ"] + row["Tj"]


@pytest.mark.parametrize(
    ("name", "subtype", "base"),
    [
        ("baseline", "Type0", "LiberationSerif"),
        ("sans_type0", "Type0", "LiberationSans"),
        ("helvetica", "Type1", "Helvetica"),
        ("times", "Type1", "Times-Roman"),
        ("helvetica_8_kerning", "Type1", "Helvetica"),
        ("truetype", "TrueType", "LiberationSerif"),
        ("kitchen_sink", "TrueType", "LiberationSans"),
    ],
)
def test_fonts(name: str, subtype: str, base: str) -> None:
    font = fonts(rendered(name))[0]
    assert resolve1(font["Subtype"]).name == subtype
    assert base in resolve1(font["BaseFont"]).name
    if subtype == "Type0":
        assert resolve1(font["Encoding"]).name == "Identity-H" and "ToUnicode" in font
        return
    assert resolve1(font["Encoding"]).name == "WinAnsiEncoding"
    if subtype == "Type1":
        assert "FontDescriptor" not in font and "Widths" not in font  # standard 14
    else:
        assert font["FirstChar"] == 32 and font["LastChar"] == 255
        assert len(resolve1(font["Widths"])) == 224
        assert "FontFile2" in resolve1(font["FontDescriptor"])


@pytest.mark.parametrize(("name", "size"), [("size_8", 8), ("size_11", 11), ("baseline", 9.75)])
def test_sizes_set_the_font_size(name: str, size: float) -> None:
    sizes = {
        float(op.operands[1])
        for _n, ops in operators(rendered(name))
        for op in ops
        if op.name == "Tf"
    }
    assert sizes == {size}


def test_unit_font_size_puts_the_size_in_the_text_matrix() -> None:
    for _n, ops in operators(rendered("unit_font_size")):
        assert {op.operands[1] for op in ops if op.name == "Tf"} == {1}
        assert {op.operands[0] for op in ops if op.name == "TL"} == {1.2}  # 11.7 pt
        assert {op.operands[:4] for op in ops if op.name == "Tm"} == {(9.75, 0, 0, 9.75)}
        assert not [op for op in ops if op.name == "Td" and max(map(abs, op.operands)) > 62]


def test_no_fills_strokes_lines_only() -> None:
    counts = op_counts("no_fills")
    assert counts["re"] == counts["f"] == 0
    assert counts["m"] > 0 and counts["l"] == counts["m"] and counts["S"] > 0
    assert op_counts("baseline")["re"] > 0 and op_counts("baseline")["S"] == 0
    # no gray fill: the only colour set is black text
    colours = {
        op.operands
        for _n, ops in operators(rendered("no_fills"))
        for op in ops
        if op.name in ("g", "rg")
    }
    assert colours == {(0,)}


def test_zebra_fills_alternate_rows() -> None:
    greys = Counter(
        op.operands for _n, ops in operators(rendered("zebra")) for op in ops if op.name == "g"
    )
    assert greys[(0.94,)] > 0 and greys[(1,)] > 0 and greys[(0.85,)] > 0
    assert (0.94,) not in Counter(
        op.operands for _n, ops in operators(rendered("baseline")) for op in ops if op.name == "g"
    )


def test_text_order_is_column_by_column_grid_last_under_a_cm() -> None:
    for _n, ops in operators(rendered("text_order")):
        names = [op.name for op in ops]
        assert ops[names.index("cm")].operands == (1, 0, 0, 1, 36, 36)
        assert names.index("BT") < names.index("re")  # text first, grid after
    for _n, ops in operators(rendered("baseline")):
        names = [op.name for op in ops]
        assert "cm" not in names and names.index("re") < names.index("BT")
    # column order: the second line drawn is below the first, in the same column
    for name, same_row in (("baseline", True), ("text_order", False)):
        first, second = stream_lines(chars_by_page(rendered(name), 1)[0])[:2]
        assert first[2] == "ID"
        assert (abs(second[1] - first[1]) < 0.01) is same_row
        assert second[2] == ("NOME" if same_row else "71.000")


@pytest.mark.parametrize(
    ("name", "matrix"),
    [("pixels", (0.75, 0, 0, 0.75, 0, 0)), ("flipped", (0.75, 0, 0, -0.75, 0, 792))],
)
def test_scaled_transforms_place_text_with_tm(name: str, matrix: tuple[float, ...]) -> None:
    for _n, ops in operators(rendered(name)):
        cms = [op.operands for op in ops if op.name == "cm"]
        assert cms == [matrix]
        assert any(op.name == "Tm" for op in ops)


def test_object_streams() -> None:
    for name in ("object_streams", "kitchen_sink"):
        data = rendered(name)
        assert data.startswith(b"%PDF-1.5") and b"/ObjStm" in data and b"/XRef" in data
        assert b"\nxref\n" not in data and b"/Type /Page " not in data
    plain = rendered("baseline")
    assert b"\nxref\n" in plain and b"/ObjStm" not in plain
    assert b"stream\nq\n.75 0 0 -.75 0 792 cm\n" in rendered("kitchen_sink")  # not compressed


def test_presets_differ_from_each_other() -> None:
    """No two presets use the same operators, colours, transforms, fonts, sizes and PDF version."""

    def signature(name: str) -> tuple[object, ...]:
        variant = VARIANTS[name]
        font = fonts(rendered(name))[0]
        return (
            tuple(sorted(op_counts(name).items())),
            resolve1(font["Subtype"]).name,
            resolve1(font["BaseFont"]).name.split("+")[-1],
            variant.size,
            rendered(name)[:8],
            frozenset(
                op.operands
                for _n, ops in operators(rendered(name))
                for op in ops
                if op.name in ("g", "rg", "G", "cm")
            ),
        )

    signatures = {name: signature(name) for name in NAMES}
    assert len(set(signatures.values())) == len(NAMES)


def test_unknown_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="cells"):
        render_variant(Grid(PAGES, [["too", "short"]]), Variant())
    with pytest.raises(ValueError, match="rows_per_page"):
        render_variant(Grid(PAGES, [], rows_per_page=0), Variant())


def test_an_empty_grid_is_one_cycle_of_headers() -> None:
    data = render_variant(Grid(PAGES, []), VARIANTS["kitchen_sink"])
    assert len(list(PDFPage.get_pages(io.BytesIO(data)))) == 3
    assert "INDIRIZZO DI CONSEGNA" in extract_text(io.BytesIO(data))
