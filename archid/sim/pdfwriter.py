"""Write a :class:`~archid.sim.grid.Grid` as a DevExpress-style grid export PDF.

The output follows section 2 of the portal spec: US Letter portrait pages
with 72 pt margins; the grid cut into cycles of pages (page k of a cycle
shows the k-th column group of the same rows, under that group's header
row); every cell drawn as a filled rectangle, a clipped text block and four
thin border rectangles; each cell line its own ``BT /FNT0 9.75 Tf x y Td
<glyph ids> Tj ET`` text object in an embedded Type0/Identity-H TrueType
subset with a ToUnicode map.

The writer streams: each cycle is laid out and written as soon as its rows
are known, so memory stays bounded whatever the page count (only one
cycle's rows, the xref offsets and the set of used glyphs are kept). The
font, the page tree and the xref are written at the end.

Characters the font cannot draw are printed as ``?``. Characters that
share a glyph (in Liberation Serif: the no-break space with the space, the
soft hyphen with the hyphen) extract as whichever of them was printed first.
"""

from __future__ import annotations

import hashlib
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from archid.sim.font import REPLACEMENT, Font
from archid.sim.grid import Column, Grid

__all__ = [
    "FONT_SIZE",
    "LINE_HEIGHT",
    "MARGIN",
    "PAGE_HEIGHT",
    "PAGE_WIDTH",
    "ROW_HEIGHT",
    "WriteStats",
    "write_grid_pdf",
]

PAGE_WIDTH = 612.0
PAGE_HEIGHT = 792.0
MARGIN = 72.0
FONT_SIZE = 9.75
ROW_HEIGHT = 13.5
"""Height of a row whose cells all hold one line (spec v2); the header row's too,
as long as every header fits its column on one line (the layouts make sure)."""
LINE_HEIGHT = 11.25
"""What each extra line of the tallest cell adds to its row's height."""
PADDING = 2.0
"""Horizontal space between a cell's border and its text."""
BORDER = 0.5

COMPRESSION_LEVEL = 6
"""Default zlib level of the content streams (see :func:`write_grid_pdf`)."""

_TOP = PAGE_HEIGHT - MARGIN
_FONT_NAME = "FNT0"
# DevExpress's colours (spec v2): gray headers with white text, white data
# cells with black text, light gray borders, a white page background.
_HEADER_FILL = "0.501961 0.501961 0.501961 rg\n"
_DATA_FILL = "1 1 1 rg\n"
_BORDER_FILL = "0.662745 0.662745 0.662745 rg\n"
_TEXT_FILL = "0 0 0 rg\n"
_HEADER_TEXT_FILL = "1 1 1 rg\n"
_PAGE_BACKGROUND = f"q\n1 1 1 rg\n0 0 {PAGE_WIDTH:g} {PAGE_HEIGHT:g} re\nf\nQ\n"
_TEXT_START = f"BT /{_FONT_NAME} {FONT_SIZE} Tf "
# Bounds on the text caches (entries over all columns) and the row geometry
# cache: the writer must not grow with the number of distinct cell values.
_TEXT_CACHE_BUDGET = 8192
_GEOMETRY_CACHE_LIMIT = 512


@dataclass(frozen=True, slots=True)
class WriteStats:
    """What :func:`write_grid_pdf` wrote."""

    pages: int
    """Pages written (cycles × cycle_length)."""
    bytes: int
    """Size of the PDF file in bytes."""
    cycle_length: int
    """Pages per cycle: the number of column groups of the grid."""
    cycles: int
    """Cycles written (at least one, even for a grid without rows)."""
    rows: int
    """Data rows written (the summary row not counted)."""


# A laid-out cell line: the tail of its text object (" Td <hex> Tj ET\n",
# everything after the position) and its width in points.
_Line = tuple[str, float]
_Lines = tuple[_Line, ...]


def _num(value: float) -> str:
    """A coordinate as PDF writes it: at most three decimals, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class _Typesetter:
    """Turns cell text into positioned glyph runs and records the glyphs used."""

    def __init__(self, font: Font) -> None:
        self.font = font
        scale = 1000 / font.units_per_em
        cmap = font.cmap
        self._hex = {c: f"{g:04X}" for c, g in cmap.items()}
        # Widths are rounded to the /W array's 1000-unit grid so that the
        # positions computed here are exactly what a viewer lays out.
        self.widths = {g: round(font.advance(g) * scale) for g in set(cmap.values())}
        self._char_units = {c: self.widths[g] for c, g in cmap.items()}
        self._to_points = FONT_SIZE / 1000
        self._space = self._char_units.get(" ", 250)
        self._seen: set[str] = set()
        self.used: dict[int, str] = {0: "\0"}
        """Glyph id → the first character printed with it (for ToUnicode)."""
        if REPLACEMENT not in cmap:
            raise ValueError(f"font {font.path} cannot draw the replacement {REPLACEMENT!r}")

    def _note(self, text: str) -> str:
        """``text`` restricted to drawable characters; records the glyphs used."""
        if self._seen.issuperset(text):
            return text
        text = self.font.printable(text)
        cmap = self.font.cmap
        for char in set(text) - self._seen:
            self._seen.add(char)
            self.used.setdefault(cmap[char], char)
        return text

    def _units(self, text: str) -> int:
        return sum(map(self._char_units.__getitem__, text))

    def _line(self, text: str, units: int) -> _Line:
        glyphs = "".join(map(self._hex.__getitem__, text))
        return (f" Td <{glyphs}> Tj ET\n", units * self._to_points)

    def lines(self, text: str, width: float) -> _Lines:
        """``text`` broken into lines fitting ``width`` points.

        ``"\\n"`` breaks a line; a line too long is wrapped at spaces, and a
        word longer than ``width`` is broken between characters. An empty
        cell has no lines; an empty line of a multi-line cell is kept.
        """
        if not text:
            return ()
        limit = width / self._to_points
        if "\n" not in text and "\r" not in text:
            # Most cells: one paragraph, which usually fits.
            text = self._note(text)
            units = sum(map(self._char_units.__getitem__, text))
            if units <= limit:
                return (self._line(text, units),)
            return tuple(self._wrap(text, limit))
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        result: list[_Line] = []
        for raw in text.split("\n"):
            paragraph = self._note(raw)
            units = self._units(paragraph)
            if units <= limit:
                result.append(self._line(paragraph, units))
            else:
                result.extend(self._wrap(paragraph, limit))
        return tuple(result)

    def _wrap(self, paragraph: str, limit: float) -> Iterator[_Line]:
        current: list[str] = []
        current_units = 0
        for word in paragraph.split(" "):
            word_units = self._units(word)
            if current and current_units + self._space + word_units <= limit:
                current.append(word)
                current_units += self._space + word_units
                continue
            if current:
                yield self._line(" ".join(current), current_units)
                current, current_units = [], 0
            if word_units <= limit:
                current, current_units = [word], word_units
                continue
            piece: list[str] = []
            piece_units = 0
            for char in word:
                char_units = self._char_units[char]
                if piece and piece_units + char_units > limit:
                    yield self._line("".join(piece), piece_units)
                    piece, piece_units = [], 0
                piece.append(char)
                piece_units += char_units
            current, current_units = ["".join(piece)], piece_units
        if current:
            yield self._line(" ".join(current), current_units)


@dataclass(frozen=True, slots=True)
class _Slot:
    """A column's place on its page, with its strings precomputed."""

    column: Column
    left: float
    text_width: float
    left_x: str  # text start of a left-aligned line, formatted
    right_x: float  # text end of a right-aligned line


class _Layout:
    """Positions of every column and the drawing of rows, shared by all cycles."""

    def __init__(self, grid: Grid, typesetter: _Typesetter) -> None:
        if not grid.pages or not all(grid.pages):
            raise ValueError("a grid needs at least one page and one column per page")
        self.typesetter = typesetter
        self.slots: list[_Slot] = []
        self.page_columns: list[range] = []
        for page in grid.pages:
            start = len(self.slots)
            left = MARGIN
            for column in page:
                if column.width <= 2 * PADDING:
                    raise ValueError(f"column {column.header!r} is too narrow: {column.width}")
                self.slots.append(
                    _Slot(
                        column,
                        left,
                        column.width - 2 * PADDING,
                        f"{left + PADDING:.2f} ",
                        left + column.width - PADDING,
                    )
                )
                left += column.width
            self.page_columns.append(range(start, len(self.slots)))
        self._text_caches: list[dict[str, _Lines]] = [{} for _ in self.slots]
        self._text_cache_limit = max(32, _TEXT_CACHE_BUDGET // len(self.slots))
        self._geometry: dict[tuple[float, float, bool], list[tuple[str, str, str]]] = {}
        ascent = typesetter.font.ascent * FONT_SIZE / typesetter.font.units_per_em
        descent = -typesetter.font.descent * FONT_SIZE / typesetter.font.units_per_em
        # Baseline below the top of a line box, centring ascent+descent in it.
        self._baseline = (LINE_HEIGHT - ascent - descent) / 2 + ascent

    def lay_out(self, cells: Sequence[str]) -> tuple[list[_Lines], float]:
        """Each cell's lines and the height of the row they make."""
        if len(cells) != len(self.slots):
            raise ValueError(f"a row has {len(cells)} cells, the grid {len(self.slots)} columns")
        laid_out: list[_Lines] = []
        tallest = 1
        for slot, cache, text in zip(self.slots, self._text_caches, cells, strict=True):
            lines = cache.get(text)
            if lines is None:
                if len(cache) >= self._text_cache_limit:
                    cache.clear()
                lines = cache[text] = self.typesetter.lines(text, slot.text_width)
            laid_out.append(lines)
            if len(lines) > tallest:
                tallest = len(lines)
        return laid_out, ROW_HEIGHT + (tallest - 1) * LINE_HEIGHT

    def _cell_geometry(
        self, bottom: float, height: float, header: bool
    ) -> list[tuple[str, str, str]]:
        """Per column: the fill, the clip that opens its text, the closing borders."""
        key = (bottom, height, header)
        found = self._geometry.get(key)
        if found is not None:
            return found
        if len(self._geometry) >= _GEOMETRY_CACHE_LIMIT:
            self._geometry.clear()
        y, h = f"{bottom:.2f}", f"{height:.2f}"
        top_border = f"{bottom + height - BORDER:.2f}"
        fill_colour = _HEADER_FILL if header else _DATA_FILL
        pieces = []
        for slot in self.slots:
            x, w = f"{slot.left:.2f}", f"{slot.column.width:.2f}"
            right_border = f"{slot.left + slot.column.width - BORDER:.2f}"
            rect = f"{x} {y} {w} {h} re"
            pieces.append(
                (
                    f"q\n{fill_colour}{rect}\nf\nQ\n",
                    f"q\n{rect}\nW\nn\n{_HEADER_TEXT_FILL if header else _TEXT_FILL}",
                    f"q\n{_BORDER_FILL}{x} {top_border} {w} {BORDER:.2f} re\nf\nQ\n"
                    f"q\n{_BORDER_FILL}{x} {y} {w} {BORDER:.2f} re\nf\nQ\n"
                    f"q\n{_BORDER_FILL}{x} {y} {BORDER:.2f} {h} re\nf\nQ\n"
                    f"q\n{_BORDER_FILL}{right_border} {y} {BORDER:.2f} {h} re\nf\nQ\n",
                )
            )
        self._geometry[key] = pieces
        return pieces

    def draw_row(
        self, cells: list[_Lines], top: float, height: float, header: bool = False
    ) -> list[str]:
        """The content-stream fragment of every cell of a row whose top edge is ``top``."""
        geometry = self._cell_geometry(top - height, height, header)
        fragments = []
        baseline = self._baseline
        for slot, lines, (fill, clip, borders) in zip(self.slots, cells, geometry, strict=True):
            if not lines:
                fragments.append(fill + borders)
                continue
            line_top = top - (height - len(lines) * LINE_HEIGHT) / 2
            texts = []
            for index, (tail, width) in enumerate(lines):
                if tail == " Td <> Tj ET\n":
                    continue
                y = line_top - baseline - index * LINE_HEIGHT
                if slot.column.align == "right":
                    texts.append(f"{_TEXT_START}{slot.right_x - width:.2f} {y:.2f}{tail}")
                else:
                    texts.append(f"{_TEXT_START}{slot.left_x}{y:.2f}{tail}")
            fragments.append(f"{fill}{clip}{''.join(texts)}Q\n{borders}")
        return fragments


class _PdfFile:
    """Object bookkeeping over a forward-only byte sink."""

    def __init__(self, out: BinaryIO, compression_level: int) -> None:
        self._out = out
        self._level = compression_level
        self.position = 0
        self._offsets = array("q", [0])

    def write(self, data: bytes) -> None:
        self._out.write(data)
        self.position += len(data)

    def reserve(self) -> int:
        """A fresh object number, to be written later with :meth:`object`."""
        self._offsets.append(-1)
        return len(self._offsets) - 1

    def object(self, number: int, body: bytes) -> None:
        self._offsets[number] = self.position
        self.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def pages(self, number: int, kids: Sequence[int]) -> None:
        """The page tree: one flat /Kids array, written in slices to bound memory."""
        self._offsets[number] = self.position
        self.write(b"%d 0 obj\n<< /Type /Pages /Count %d /Kids [" % (number, len(kids)))
        for start in range(0, len(kids), 1024):
            refs = b" ".join(b"%d 0 R" % kid for kid in kids[start : start + 1024])
            self.write(refs + b"\n")
        self.write(b"] >>\nendobj\n")

    def stream(self, number: int, data: bytes, extra: bytes = b"", compress: bool = True) -> None:
        if compress:
            data = zlib.compress(data, self._level)
            extra += b" /Filter /FlateDecode"
        self.object(number, b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), extra, data))

    def finish(self, root: int, info: int, file_id: bytes) -> None:
        missing = [n for n, offset in enumerate(self._offsets) if offset < 0]
        if missing:
            raise RuntimeError(f"PDF objects reserved but never written: {missing[:5]}")
        xref_at = self.position
        count = len(self._offsets)
        self.write(b"xref\n0 %d\n0000000000 65535 f \n" % count)
        for start in range(1, count, 1024):
            chunk = self._offsets[start : start + 1024]
            self.write(b"".join(b"%010d 00000 n \n" % offset for offset in chunk))
        identifier = file_id.hex().upper().encode()
        self.write(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\n"
            b"startxref\n%d\n%%%%EOF\n" % (count, root, info, identifier, identifier, xref_at)
        )


def _pdf_string(text: str) -> bytes:
    """A PDF text string: literal if ASCII, else UTF-16BE with a byte order mark."""
    if text.isascii():
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return b"(" + escaped.encode("ascii") + b")"
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def _pdf_date(moment: datetime) -> bytes:
    stamp = moment.strftime("D:%Y%m%d%H%M%S")
    offset = moment.utcoffset()
    if offset is None:
        return _pdf_string(stamp)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return _pdf_string(f"{stamp}{sign}{minutes // 60:02d}'{minutes % 60:02d}'")


def _widths_array(widths: dict[int, int], glyph_ids: Iterable[int]) -> bytes:
    """The /W array: runs of consecutive glyph ids with their widths."""
    runs: list[list[int]] = []
    for gid in sorted(glyph_ids):
        if runs and runs[-1][0] + len(runs[-1]) - 1 == gid:
            runs[-1].append(widths.get(gid, 0))
        else:
            runs.append([gid, widths.get(gid, 0)])
    body = " ".join(f"{run[0]} [{' '.join(map(str, run[1:]))}]" for run in runs)
    return f"[{body}]".encode()


def _to_unicode(used: dict[int, str]) -> bytes:
    entries = [
        f"<{gid:04X}> <{char.encode('utf-16-be').hex().upper()}>"
        for gid, char in sorted(used.items())
        if gid != 0
    ]
    chunks = []
    for start in range(0, len(entries), 100):
        chunk = entries[start : start + 100]
        chunks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar\n")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "".join(chunks)
        + "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


def _subset_tag(glyph_ids: Iterable[int]) -> str:
    digest = hashlib.md5(",".join(map(str, sorted(glyph_ids))).encode()).digest()
    return "".join(chr(ord("A") + b % 26) for b in digest[:6])


def _write_font(pdf: _PdfFile, numbers: dict[str, int], typesetter: _Typesetter) -> None:
    font = typesetter.font
    used = typesetter.used
    scale = 1000 / font.units_per_em
    base_font = f"{_subset_tag(used)}+{font.postscript_name}".encode()
    chars = {char: gid for gid, char in used.items() if gid != 0}
    program = font.subset(used, chars)
    x_min, y_min, x_max, y_max = (round(v * scale) for v in font.bbox)
    pdf.object(
        numbers["type0"],
        b"<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H "
        b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>"
        % (base_font, numbers["cidfont"], numbers["tounicode"]),
    )
    pdf.object(
        numbers["cidfont"],
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        b"/FontDescriptor %d 0 R /CIDToGIDMap /Identity /DW 1000 /W %s >>"
        % (base_font, numbers["descriptor"], _widths_array(typesetter.widths, used)),
    )
    pdf.object(
        numbers["descriptor"],
        b"<< /Type /FontDescriptor /FontName /%s /Flags 34 /FontBBox [%d %d %d %d] "
        b"/ItalicAngle %s /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>"
        % (
            base_font,
            x_min,
            y_min,
            x_max,
            y_max,
            _num(font.italic_angle).encode(),
            round(font.ascent * scale),
            round(font.descent * scale),
            round(font.cap_height * scale),
            numbers["fontfile"],
        ),
    )
    pdf.stream(numbers["fontfile"], program, b" /Length1 %d" % len(program))
    pdf.stream(numbers["tounicode"], _to_unicode(used))


def write_grid_pdf(
    out: BinaryIO,
    grid: Grid,
    font: Font,
    *,
    creation_date: datetime | None = None,
    compression_level: int = COMPRESSION_LEVEL,
) -> WriteStats:
    """Write ``grid`` to ``out`` as a DevExpress-style export and say what was written.

    ``out`` only needs ``write`` (it is never sought or read). ``grid.rows``
    is consumed once, lazily; each cycle's pages are written as soon as its
    rows are laid out. Rows keep the same height and position on every page
    of their cycle, and never split across pages. A page takes the rows that
    fit between the header row and the bottom margin, or up to
    ``grid.rows_per_page`` rows, which may run into the bottom margin (other
    producers' renderings in tests) but not off the page. A row
    too tall for an empty page is printed anyway, running off it. The
    summary row, if any, follows the last data row, on a new cycle if it
    does not fit.

    ``creation_date`` (default: now, local time) goes into the Info
    dictionary. ``compression_level`` is zlib's, for the content streams:
    compressing is most of the writer's time; on price-list pages level 6
    takes about 0.5 ms a page, level 3 a quarter of that for 20 % more
    bytes.

    Raises :class:`ValueError` if a row's length differs from the grid's
    column count, a page has no columns, a column is narrower than its
    padding, or ``grid.rows_per_page`` is below 1.
    """
    typesetter = _Typesetter(font)
    layout = _Layout(grid, typesetter)
    pdf = _PdfFile(out, compression_level)
    pdf.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    numbers = {
        name: pdf.reserve()
        for name in (
            "catalog",
            "pages",
            "info",
            "resources",
            "type0",
            "cidfont",
            "descriptor",
            "fontfile",
            "tounicode",
        )
    }
    moment = creation_date or datetime.now().astimezone()
    pdf.object(
        numbers["info"],
        b"<< /Producer %s /Creator %s /Title %s /CreationDate %s >>"
        % (
            _pdf_string(grid.producer),
            _pdf_string(grid.producer),
            _pdf_string(grid.title),
            _pdf_date(moment),
        ),
    )
    pdf.object(numbers["catalog"], b"<< /Type /Catalog /Pages %d 0 R >>" % numbers["pages"])
    pdf.object(
        numbers["resources"],
        b"<< /Font << /%s %d 0 R >> /ProcSet [/PDF /Text] >>"
        % (_FONT_NAME.encode(), numbers["type0"]),
    )
    page_head = b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources %d 0 R " % (
        numbers["pages"],
        _num(PAGE_WIDTH).encode(),
        _num(PAGE_HEIGHT).encode(),
        numbers["resources"],
    )
    page_numbers = array("q")

    header_cells, header_height = layout.lay_out([slot.column.header for slot in layout.slots])
    header = layout.draw_row(header_cells, _TOP, header_height, header=True)
    first_top = _TOP - header_height

    def write_cycle(rows: list[list[str]]) -> None:
        for columns in layout.page_columns:
            parts = [_PAGE_BACKGROUND, *(header[i] for i in columns)]
            for fragments in rows:
                parts.extend(fragments[i] for i in columns)
            page = pdf.reserve()
            contents = pdf.reserve()
            pdf.stream(contents, "".join(parts).encode("ascii"))
            pdf.object(page, page_head + b"/Contents %d 0 R >>" % contents)
            page_numbers.append(page)

    cap = grid.rows_per_page
    if cap is not None and cap < 1:
        raise ValueError(f"rows_per_page must be at least 1, not {cap}")
    bottom_limit = MARGIN if cap is None else 0.0
    cycle: list[list[str]] = []
    cycles = rows = 0
    top = first_top

    def place(cells: Sequence[str], counted: bool) -> None:
        nonlocal top, cycles
        laid_out, height = layout.lay_out(cells)
        full = counted and cap is not None and len(cycle) >= cap
        if cycle and (full or top - height < bottom_limit):
            write_cycle(cycle)
            cycles += 1
            cycle.clear()
            top = first_top
        cycle.append(layout.draw_row(laid_out, top, height))
        top -= height

    for cells in grid.rows:
        place(cells, counted=True)
        rows += 1
    if grid.summary is not None:
        place(grid.summary, counted=False)
    if cycle or cycles == 0:
        write_cycle(cycle)
        cycles += 1

    _write_font(pdf, numbers, typesetter)
    pdf.pages(numbers["pages"], page_numbers)
    file_id = hashlib.md5(
        f"{grid.title}|{moment.isoformat()}|{len(page_numbers)}".encode()
    ).digest()
    pdf.finish(numbers["catalog"], numbers["info"], file_id)
    return WriteStats(
        pages=len(page_numbers),
        bytes=pdf.position,
        cycle_length=len(layout.page_columns),
        cycles=cycles,
        rows=rows,
    )
