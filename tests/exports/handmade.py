"""Small PDFs written by hand for the parser's tests: exact control over every byte.

:func:`pdf_file` assembles pages (content streams) into a PDF with a
correct cross-reference table; :func:`grid_pdf` draws grid pages the way
spec section 2 describes them (a header row on top, rows under it, cells
vertically centred, rules as filled rectangles or none at all) with the
standard Helvetica font, so that tests can break one thing at a time: a
row moved on one page, a page out of order, a header renamed.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

Cell = str | Sequence[str]
"""A cell's text: one line, or its lines top to bottom."""

HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def pdf_file(
    contents: Sequence[bytes],
    *,
    fonts: dict[str, bytes] | None = None,
    page_extra: bytes = b"",
    trailer_extra: bytes = b"",
    compress: bool = True,
) -> bytes:
    """A PDF with one US Letter page per content stream; ``fonts`` maps resource names to dicts."""
    fonts = {"F1": HELVETICA} if fonts is None else fonts
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")
    pages = add(b"")
    font_refs = {name: add(body) for name, body in fonts.items()}
    font_dict = b" ".join(b"/%s %d 0 R" % (name.encode(), ref) for name, ref in font_refs.items())
    resources = add(b"<< /Font << " + font_dict + b" >> >>")
    kids = []
    for data in contents:
        if compress:
            data = zlib.compress(data)
            stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data)
        else:
            stream = b"<< /Length %d >>\nstream\n" % len(data)
        content = add(stream + data + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources %d 0 R "
                b"/Contents %d 0 R %s>>" % (pages, resources, content, page_extra)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages
    refs = b" ".join(b"%d 0 R" % kid for kid in kids)
    objects[pages - 1] = b"<< /Type /Pages /Count %d /Kids [%s] >>" % (len(kids), refs)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        trailer_extra,
        xref,
    )
    return bytes(out)


def _text(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


@dataclass(frozen=True)
class GridStyle:
    """How :func:`grid_page` draws: sizes in points, rules or not."""

    size: float = 9.0
    line_height: float = 11.0
    row_height: float = 24.0
    padding: float = 3.0
    rules: bool = True
    top: float = 720.0
    left: float = 72.0


@dataclass(frozen=True)
class GridPage:
    """One page: its rows (the header row first), column widths, and each row's lines.

    ``lines[i]`` is how many lines row ``i`` is tall: the most of any of its
    cells on every page of the cycle, so a row has one height on all pages.
    """

    rows: Sequence[Sequence[Cell]]
    widths: Sequence[float]
    lines: Sequence[int] | None = None


def grid_page(
    page: GridPage,
    style: GridStyle = GridStyle(),
    *,
    shift: dict[int, float] | None = None,
) -> bytes:
    """The content stream of one grid page; ``page.rows[0]`` is the header row.

    ``shift`` moves the given rows (by index) down by that many points,
    text and rules, to misalign a page with the rest of its cycle.
    """
    rows, widths = page.rows, page.widths
    shift = shift or {}
    out: list[bytes] = []
    top = style.top
    right = style.left + sum(widths)
    lefts = [style.left + sum(widths[:i]) for i in range(len(widths))]
    for index, row in enumerate(rows):
        cells = [[cell] if isinstance(cell, str) else list(cell) for cell in row]
        cells = [[line for line in lines if line] for lines in cells]
        tallest = max([1, *(len(lines) for lines in cells)])
        if page.lines is not None:
            tallest = max(tallest, page.lines[index])
        height = style.row_height + (tallest - 1) * style.line_height
        row_top = top - shift.get(index, 0.0)
        bottom = row_top - height
        if style.rules:
            fill = b"0.85 g" if index == 0 else b"1 g"
            out.append(
                b"%s %.2f %.2f %.2f %.2f re f\n" % (fill, style.left, bottom, right - 72, height)
            )
            out.append(b"0 g %.2f %.2f %.2f 0.5 re f\n" % (style.left, row_top - 0.25, right - 72))
            out.append(b"0 g %.2f %.2f %.2f 0.5 re f\n" % (style.left, bottom - 0.25, right - 72))
            for x in [*lefts, right]:
                out.append(b"%.2f %.2f 0.5 %.2f re f\n" % (x - 0.25, bottom, height))
        for left, lines in zip(lefts, cells, strict=True):
            first = (
                row_top - (height - len(lines) * style.line_height) / 2 - 0.8 * style.line_height
            )
            for number, line in enumerate(lines):
                y = first - number * style.line_height
                out.append(
                    b"BT /F1 %.2f Tf %.2f %.2f Td %s Tj ET\n"
                    % (style.size, left + style.padding, y, _text(line))
                )
        top -= height
    return b"q\n" + b"".join(out) + b"Q\n"


def grid_pdf(
    pages: Sequence[GridPage],
    style: GridStyle = GridStyle(),
    *,
    shifts: dict[int, dict[int, float]] | None = None,
) -> bytes:
    """A PDF of grid pages; ``shifts`` maps a page index to its :func:`grid_page` shift."""
    shifts = shifts or {}
    return pdf_file(
        [grid_page(page, style, shift=shifts.get(number)) for number, page in enumerate(pages)]
    )


def _height(cell: Cell) -> int:
    return 1 if isinstance(cell, str) else max(1, len([line for line in cell if line]))


def cycle_pages(
    headers: Sequence[Sequence[str]],
    rows: Sequence[Sequence[Cell]],
    *,
    rows_per_page: int,
    width: float = 100.0,
) -> list[GridPage]:
    """Pages of a grid cut into cycles: ``headers`` per page of the cycle, ``rows`` whole.

    Each row has one cell per header of all pages, in order.
    """
    pages: list[GridPage] = []
    header_lines = max(1, *(_height(h) for group in headers for h in group))
    offsets = [0]
    for group in headers:
        offsets.append(offsets[-1] + len(group))
    for start in range(0, max(len(rows), 1), rows_per_page):
        chunk = rows[start : start + rows_per_page]
        lines = [header_lines, *(max(_height(cell) for cell in row) for row in chunk)]
        for number, group in enumerate(headers):
            columns = slice(offsets[number], offsets[number + 1])
            body: list[list[Cell]] = [list(row[columns]) for row in chunk]
            pages.append(GridPage([list(group), *body], [width] * len(group), lines))
    return pages
