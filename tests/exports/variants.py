"""Grid exports written the way *other* PDF producers would write them.

The simulator's writer (``archid.sim.pdfwriter``) is one producer with one
set of habits: a Type0/Identity-H font at 9.75 pt, one ``BT … Tj ET`` per
cell line, every cell a filled rectangle, rows 24.75 pt apart, row by row,
no transform. A parser fitted to those habits would break on a real
DevExpress build with another font or on the same layout printed by another
library. This module renders a :class:`~archid.sim.grid.Grid` with the same
*layout semantics* (spec section 2: US Letter portrait, 72 pt margins, a
header row at the top of every page, cycles of N pages holding the same rows
aligned across the cycle, wrapped cells growing their row and vertically
centred, the summary row last, ``rows_per_page`` honoured) but with other
operators, fonts, sizes, drawing orders and file structures, chosen by the
knobs of :class:`Variant`. :data:`VARIANTS` names the presets the tests use.

It is an independent producer on purpose: nothing is shared with the
simulator's writer except the TrueType reader/subsetter of
``archid.sim.font``.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Literal

from pdfminer.fontmetrics import FONT_METRICS

from archid.sim.font import Font, load_font
from archid.sim.grid import Column, Grid

__all__ = [
    "MARGIN",
    "PAGE_HEIGHT",
    "PAGE_WIDTH",
    "VARIANTS",
    "Plan",
    "PlannedRow",
    "Variant",
    "plan_variant",
    "render_variant",
    "write_variant",
]

PAGE_WIDTH = 612.0
PAGE_HEIGHT = 792.0
MARGIN = 72.0
PADDING = 2.5
"""Horizontal space between a cell's edge and its text (the simulator uses 2)."""
RULE = 0.5
"""Width of the grid's lines."""

SANS_CANDIDATES = (
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)

Face = Literal["type0", "helvetica", "times", "truetype"]
Typeface = Literal["serif", "sans"]
Show = Literal["string", "glyphs_td", "glyphs_tm"]
Grouping = Literal["line", "cell", "row"]
Rules = Literal["fills", "strokes", "header_fills", "none"]
Spacing = Literal["loose", "portal"]
Order = Literal["rows", "columns"]
Transform = Literal["none", "offset", "pixels", "flipped"]


@dataclass(frozen=True, slots=True)
class Variant:
    """The habits of one producer. Every knob combines with every other.

    * ``face``: ``type0`` (embedded TrueType subset, Identity-H, ToUnicode),
      ``helvetica``/``times`` (standard-14 ``/Type1``, ``/WinAnsiEncoding``,
      not embedded, widths from the AFM data shipped in pdfminer) or
      ``truetype`` (embedded simple ``/TrueType`` font, WinAnsiEncoding,
      FirstChar/LastChar/Widths). Simple fonts print what WinAnsi cannot
      encode as ``?``.
    * ``typeface``: the TrueType file of ``type0``/``truetype`` when
      :func:`render_variant` gets no font: Liberation Serif or Sans.
    * ``size``: the font size; line and row heights scale with it.
    * ``kerning``: small pair adjustments between glyphs (±0.08 em at most,
      never next to a space): ``TJ`` arrays with ``show="string"``, shifted
      glyph positions otherwise.
    * ``show``: ``string`` (one string per line: ``Tj``, ``'`` or ``TJ``),
      ``glyphs_td`` (one ``Td`` + one-glyph ``Tj`` per glyph) or ``glyphs_tm``
      (one absolute ``Tm`` per glyph); the glyph modes draw no space glyph,
      a space is only a gap.
    * ``grouping``: one ``BT … ET`` per cell ``line``; per ``cell`` (``TL``,
      ``T*``, ``'`` and relative ``Td``); or per ``row`` (all cells of a row,
      or of a column with ``order="columns"``, with relative ``Td`` moves).
    * ``rules``: ``fills`` (cells as filled rectangles, gray headers, borders
      as thin filled rectangles), ``strokes`` (only ``m``/``l``/``S``
      lines: no ``re``, no fill at all, headers not gray), ``header_fills``
      (only the header cells, each a gray filled rectangle: data cells are
      not drawn) or ``none`` (text only).
    * ``padding``: space between a cell's edges and its text; a small one
      draws neighbouring cells' texts closer than a word space.
    * ``spacing``: ``loose`` (lines 1.2 em apart, one-line rows 2.45 em) or
      ``portal`` (the portal's 11.25 pt lines and 13.5 pt rows at 9.75 pt,
      scaled to ``size``).
    * ``zebra``: every other data row filled light gray (``fills`` only).
    * ``order``: text emitted row by row or column by column.
    * ``grid_after_text``: the grid drawn after the text instead of before.
    * ``transform``: page content under a ``cm``: ``offset`` (``1 0 0 1 36 36
      cm``), ``pixels`` (``.75 0 0 .75 0 0 cm``, text placed with ``Tm``) or
      ``flipped`` (``.75 0 0 -.75 0 792 cm``, y down as in a browser's PDF).
    * ``unit_font_size``: ``/F1 1 Tf`` with the size in the text matrix
      (``9.75 0 0 9.75 x y Tm``), as cairo writes; relative moves and ``TL``
      are then in units of the font size.
    * ``compress``: Flate content streams, else plain.
    * ``object_streams``: PDF 1.5 object stream + cross-reference stream.
    """

    face: Face = "type0"
    typeface: Typeface = "serif"
    size: float = 9.75
    kerning: bool = False
    show: Show = "string"
    grouping: Grouping = "line"
    rules: Rules = "fills"
    padding: float = PADDING
    spacing: Spacing = "loose"
    zebra: bool = False
    order: Order = "rows"
    grid_after_text: bool = False
    transform: Transform = "none"
    unit_font_size: bool = False
    compress: bool = True
    object_streams: bool = False

    @property
    def line_height(self) -> float:
        """What each extra line of a cell adds to its row's height."""
        if self.spacing == "portal":
            return round(11.25 / 9.75 * self.size, 3)
        return round(1.2 * self.size, 3)

    @property
    def row_height(self) -> float:
        """Height of a row whose cells all hold one line."""
        if self.spacing == "portal":
            return round(13.5 / 9.75 * self.size, 3)
        return round(self.line_height + 1.25 * self.size, 3)

    @property
    def simple_font(self) -> bool:
        return self.face != "type0"


#: The presets: one per habit, then a few combinations.
VARIANTS: dict[str, Variant] = {
    "baseline": Variant(),
    "tj_kerning": Variant(kerning=True),
    "glyph_by_glyph": Variant(show="glyphs_td"),
    "glyph_by_glyph_tm": Variant(show="glyphs_tm", kerning=True),
    "multiline_cell": Variant(grouping="cell"),
    "multiline_row": Variant(grouping="row", kerning=True),
    "helvetica": Variant(face="helvetica"),
    "times": Variant(face="times", grouping="cell"),
    "truetype": Variant(face="truetype"),
    "sans_type0": Variant(typeface="sans"),
    "size_8": Variant(size=8.0),
    "size_11": Variant(size=11.0),
    "no_fills": Variant(rules="strokes"),
    "zebra": Variant(zebra=True),
    "text_order": Variant(order="columns", grid_after_text=True, transform="offset"),
    "pixels": Variant(transform="pixels", grouping="cell"),
    "flipped": Variant(transform="flipped", grouping="row"),
    "object_streams": Variant(object_streams=True),
    "unit_font_size": Variant(unit_font_size=True, kerning=True, grouping="cell"),
    "helvetica_8_kerning": Variant(face="helvetica", size=8.0, kerning=True),
    "times_11_glyphs": Variant(face="times", size=11.0, show="glyphs_td", rules="strokes"),
    "truetype_11_rows": Variant(
        face="truetype", size=11.0, grouping="row", order="columns", unit_font_size=True
    ),
    "header_fills": Variant(rules="header_fills"),
    "text_only": Variant(rules="none", face="helvetica"),
    "tight_glyphs": Variant(rules="none", padding=0.5, show="glyphs_td", typeface="sans"),
    "tight_header_fills": Variant(rules="header_fills", padding=0.5, face="times", size=9.0),
    "portal_spacing_strokes": Variant(rules="strokes", spacing="portal", kerning=True),
    "portal_spacing_header_fills": Variant(
        rules="header_fills", spacing="portal", face="truetype", typeface="sans", size=8.0
    ),
    "kitchen_sink": Variant(
        face="truetype",
        typeface="sans",
        size=8.0,
        kerning=True,
        grouping="row",
        rules="strokes",
        order="columns",
        grid_after_text=True,
        transform="flipped",
        compress=False,
        object_streams=True,
    ),
}


# -- numbers and strings ------------------------------------------------------------


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _literal(data: bytes) -> str:
    """A PDF literal string, ASCII only (octal escapes for the rest)."""
    out = ["("]
    for byte in data:
        if byte in b"()\\":
            out.append("\\" + chr(byte))
        elif 32 <= byte < 127:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03o}")
    out.append(")")
    return "".join(out)


def _pdf_text(text: str) -> bytes:
    if text.isascii():
        return _literal(text.encode("ascii")).encode("ascii")
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _subset_tag(seed: str) -> str:
    digest = hashlib.sha1(seed.encode()).digest()
    return "".join(chr(ord("A") + b % 26) for b in digest[:6])


# -- fonts ------------------------------------------------------------------------


def _winansi(text: str) -> str:
    """``text`` as WinAnsi can print it: no-break space as space, the rest as ``?``."""
    out = []
    for char in text:
        if char == "\u00a0":
            char = " "
        elif char == "\u00ad":
            char = "-"
        try:
            code = char.encode("cp1252")[0]
        except UnicodeEncodeError:
            char = "?"
        else:
            if code < 32 or code == 127:
                char = "?"
        out.append(char)
    return "".join(out)


class _Face:
    """What the typesetter and the writer need of a font."""

    resource = "F1"
    ascent: float  # thousandths of an em
    descent: float  # thousandths of an em, negative

    def printable(self, text: str) -> str:
        raise NotImplementedError

    def units(self, char: str) -> float:
        """Advance width of ``char`` in thousandths of an em."""
        raise NotImplementedError

    def code(self, text: str) -> str:
        """``text`` (printable) as a PDF string operand."""
        raise NotImplementedError

    def write(self, pdf: _Pdf) -> int:
        """Write the font's objects; the number of its font dictionary."""
        raise NotImplementedError


class _StandardFace(_Face):
    """A standard-14 font, not embedded, WinAnsiEncoding."""

    _EURO: ClassVar[dict[str, float]] = {"Helvetica": 556, "Times-Roman": 500}

    def __init__(self, name: str) -> None:
        self.name = name
        metrics: tuple[dict[str, Any], dict[str, int]] = FONT_METRICS[name]
        descriptor, widths = metrics
        self._widths: dict[str, float] = {c: float(w) for c, w in widths.items()}
        self._widths["€"] = self._EURO[name]
        self.ascent = float(descriptor["Ascent"])
        self.descent = float(descriptor["Descent"])

    def printable(self, text: str) -> str:
        return _winansi(text)

    def units(self, char: str) -> float:
        return self._widths[char]

    def code(self, text: str) -> str:
        return _literal(text.encode("cp1252"))

    def write(self, pdf: _Pdf) -> int:
        number = pdf.reserve()
        pdf.obj(
            number,
            f"<< /Type /Font /Subtype /Type1 /BaseFont /{self.name} "
            "/Encoding /WinAnsiEncoding >>".encode(),
        )
        return number


class _TrueTypeFace(_Face):
    """An embedded simple TrueType font (subset), WinAnsiEncoding."""

    def __init__(self, font: Font) -> None:
        self.font = font
        self._scale = 1000 / font.units_per_em
        self.ascent = font.ascent * self._scale
        self.descent = font.descent * self._scale
        self.used: set[str] = set()

    def printable(self, text: str) -> str:
        text = _winansi(text)
        text = "".join(c if self.font.has_char(c) else "?" for c in text)
        self.used.update(text)
        return text

    def units(self, char: str) -> float:
        return float(round(self.font.advance(self.font.cmap[char]) * self._scale))

    def code(self, text: str) -> str:
        return _literal(text.encode("cp1252"))

    def write(self, pdf: _Pdf) -> int:
        font, scale = self.font, self._scale
        chars = {c: font.cmap[c] for c in self.used | {" ", "?"}}
        name = f"{_subset_tag(''.join(sorted(chars)))}+{font.postscript_name}"
        widths = []
        for code in range(32, 256):
            try:
                char = bytes([code]).decode("cp1252")
            except UnicodeDecodeError:
                char = ""
            widths.append(
                str(round(font.advance(font.cmap[char]) * scale)) if char in chars else "0"
            )
        number, descriptor, program_ref = pdf.reserve(), pdf.reserve(), pdf.reserve()
        program = font.subset(chars.values(), chars)
        x0, y0, x1, y1 = (round(v * scale) for v in font.bbox)
        pdf.obj(
            number,
            (
                f"<< /Type /Font /Subtype /TrueType /BaseFont /{name} /FirstChar 32 "
                f"/LastChar 255 /Widths [{' '.join(widths)}] /Encoding /WinAnsiEncoding "
                f"/FontDescriptor {descriptor} 0 R >>"
            ).encode(),
        )
        pdf.obj(
            descriptor,
            (
                f"<< /Type /FontDescriptor /FontName /{name} /Flags 32 "
                f"/FontBBox [{x0} {y0} {x1} {y1}] /ItalicAngle {_num(font.italic_angle)} "
                f"/Ascent {round(self.ascent)} /Descent {round(self.descent)} "
                f"/CapHeight {round(font.cap_height * scale)} /StemV 80 "
                f"/FontFile2 {program_ref} 0 R >>"
            ).encode(),
        )
        pdf.stream(program_ref, program, f"/Length1 {len(program)}".encode())
        return number


class _Type0Face(_Face):
    """An embedded TrueType subset as Type0/Identity-H with a ToUnicode map."""

    def __init__(self, font: Font) -> None:
        self.font = font
        self._scale = 1000 / font.units_per_em
        self.ascent = font.ascent * self._scale
        self.descent = font.descent * self._scale
        self.used: dict[int, str] = {}

    def printable(self, text: str) -> str:
        text = self.font.printable(text)
        for char in text:
            self.used.setdefault(self.font.cmap[char], char)
        return text

    def units(self, char: str) -> float:
        return float(round(self.font.advance(self.font.cmap[char]) * self._scale))

    def code(self, text: str) -> str:
        return "<" + "".join(f"{self.font.cmap[c]:04x}" for c in text) + ">"

    def write(self, pdf: _Pdf) -> int:
        font, scale = self.font, self._scale
        used = dict(sorted(self.used.items()))
        name = f"{_subset_tag(','.join(map(str, used)))}+{font.postscript_name}"
        numbers = [pdf.reserve() for _ in range(5)]
        top, cid, descriptor, program_ref, to_unicode = numbers
        # /W as one "c [w]" entry per glyph: different from the simulator's runs.
        widths = " ".join(f"{g} [{round(font.advance(g) * scale)}]" for g in used)
        pdf.obj(
            top,
            (
                f"<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H "
                f"/DescendantFonts [{cid} 0 R] /ToUnicode {to_unicode} 0 R >>"
            ).encode(),
        )
        pdf.obj(
            cid,
            (
                f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{name} "
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                f"/FontDescriptor {descriptor} 0 R /DW 500 /W [{widths}] >>"
            ).encode(),
        )
        x0, y0, x1, y1 = (round(v * scale) for v in font.bbox)
        pdf.obj(
            descriptor,
            (
                f"<< /Type /FontDescriptor /FontName /{name} /Flags 4 "
                f"/FontBBox [{x0} {y0} {x1} {y1}] /ItalicAngle {_num(font.italic_angle)} "
                f"/Ascent {round(self.ascent)} /Descent {round(self.descent)} "
                f"/CapHeight {round(font.cap_height * scale)} /StemV 80 "
                f"/FontFile2 {program_ref} 0 R >>"
            ).encode(),
        )
        program = font.subset(used, {c: g for g, c in used.items()})
        pdf.stream(program_ref, program, f"/Length1 {len(program)}".encode())
        ranges = "\n".join(f"<{g:04x}> <{c.encode('utf-16-be').hex()}>" for g, c in used.items())
        cmap = (
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
            "1 begincodespacerange <0000> <ffff> endcodespacerange\n"
            f"{len(used)} beginbfchar\n{ranges}\nendbfchar\n"
            "endcmap CMapName currentdict /CMap defineresource pop end end\n"
        )
        pdf.stream(to_unicode, cmap.encode("ascii"))
        return top


def _sans_font() -> Font:
    for path in SANS_CANDIDATES:
        if path.is_file():
            return load_font(path)
    return load_font()


def _make_face(variant: Variant, font: Font | None) -> _Face:
    if variant.face == "helvetica":
        return _StandardFace("Helvetica")
    if variant.face == "times":
        return _StandardFace("Times-Roman")
    if font is None:
        font = _sans_font() if variant.typeface == "sans" else load_font()
    if variant.face == "truetype":
        return _TrueTypeFace(font)
    return _Type0Face(font)


# -- kerning ----------------------------------------------------------------------

# Classic pairs, in TJ units (positive tightens).
_KERN_PAIRS = {
    "AV": 80, "AT": 70, "AY": 65, "AW": 60, "LT": 74, "LV": 70, "PA": 60, "Te": 70,
    "To": 70, "Ta": 70, "Va": 60, "Vo": 60, "Yo": 70, "ra": 15, "r.": 40, "y.": 55,
    "11": 37, "/2": 20, "F.": 60, "P.": 60,
}  # fmt: skip


@cache
def _kern(left: str, right: str) -> int:
    """The TJ adjustment between two glyphs: small, either sign, never at a space."""
    if left == " " or right == " ":
        return 0
    found = _KERN_PAIRS.get(left + right)
    if found is not None:
        return found
    bucket = (ord(left) * 7 + ord(right) * 13) % 11
    return {0: -25, 1: 18, 2: 35, 3: -12}.get(bucket, 0)


def _kerns(text: str) -> list[int]:
    """Adjustment after each glyph but the last."""
    return [_kern(a, b) for a, b in itertools.pairwise(text)]


# -- typesetting ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """One row of a cycle: every cell's lines (printable text), its top and height."""

    cells: tuple[tuple[str, ...], ...]
    top: float
    height: float
    kind: Literal["header", "data", "summary"]


@dataclass(slots=True)
class Plan:
    """The pagination of a grid under a variant: what every page shows."""

    pages: list[list[Column]]
    cycles: list[list[PlannedRow]]
    header: PlannedRow
    offsets: list[int] = field(default_factory=list)
    """Index of each page's first column in a row's cells."""

    @property
    def cycle_length(self) -> int:
        return len(self.pages)

    @property
    def page_count(self) -> int:
        return len(self.cycles) * len(self.pages)

    def page_lines(self, page: int) -> list[str]:
        """Every non-empty cell line printed on page ``page`` (0-based), headers first."""
        cycle, group = divmod(page, len(self.pages))
        start = self.offsets[group]
        columns = range(start, start + len(self.pages[group]))
        out: list[str] = []
        for row in [self.header, *self.cycles[cycle]]:
            for index in columns:
                out.extend(line for line in row.cells[index] if line)
        return out


class _Typesetter:
    def __init__(self, face: _Face, variant: Variant) -> None:
        self.face = face
        self.variant = variant
        self._points = variant.size / 1000
        self._widths: dict[str, float] = {}

    def width(self, text: str) -> float:
        """The drawn width of a line in points, kerning included."""
        found = self._widths.get(text)
        if found is None:
            units = sum(self.face.units(c) for c in text)
            if self.variant.kerning:
                units -= sum(_kerns(text))
            found = self._widths[text] = units * self._points
        return found

    def lines(self, text: str, limit: float) -> tuple[str, ...]:
        """``text`` cut at ``\\n`` and wrapped greedily at spaces to ``limit`` points."""
        if not text:
            return ()
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        out: list[str] = []
        for raw in text.split("\n"):
            paragraph = self.face.printable(raw)
            if self.width(paragraph) <= limit:
                out.append(paragraph)
            else:
                out.extend(self._wrap(paragraph, limit))
        return tuple(out)

    def _wrap(self, paragraph: str, limit: float) -> Iterator[str]:
        current: list[str] | None = None
        for word in paragraph.split(" "):
            if current is not None and self.width(" ".join([*current, word])) <= limit:
                current.append(word)
                continue
            if current is not None:
                yield " ".join(current)
                current = None
            if self.width(word) <= limit:
                current = [word]
                continue
            piece = ""
            for char in word:
                if piece and self.width(piece + char) > limit:
                    yield piece
                    piece = ""
                piece += char
            current = [piece]
        if current is not None:
            yield " ".join(current)

    def glyph_positions(self, text: str) -> list[tuple[float, str]]:
        """Offset in points of each non-space glyph from the start of the line."""
        kerns = _kerns(text) if self.variant.kerning else [0] * max(len(text) - 1, 0)
        out = []
        x = 0.0
        for index, char in enumerate(text):
            if char != " ":
                out.append((x, char))
            x += self.face.units(char) * self._points
            if index < len(kerns):
                x -= kerns[index] * self._points
        return out


def _plan(grid: Grid, variant: Variant, typesetter: _Typesetter) -> Plan:
    if not grid.pages or not all(grid.pages):
        raise ValueError("a grid needs at least one page and one column per page")
    columns = [column for page in grid.pages for column in page]
    limits = [column.width - 2 * variant.padding for column in columns]
    offsets = []
    start = 0
    for page in grid.pages:
        offsets.append(start)
        start += len(page)

    def lay_out(cells: Sequence[str]) -> tuple[tuple[tuple[str, ...], ...], float]:
        if len(cells) != len(columns):
            raise ValueError(f"a row has {len(cells)} cells, the grid {len(columns)} columns")
        laid = tuple(typesetter.lines(t, w) for t, w in zip(cells, limits, strict=True))
        tallest = max([1, *(len(lines) for lines in laid)])
        return laid, variant.row_height + (tallest - 1) * variant.line_height

    top_of_area = PAGE_HEIGHT - MARGIN
    header_cells, header_height = lay_out([c.header for c in columns])
    header = PlannedRow(header_cells, top_of_area, header_height, "header")
    first_top = top_of_area - header_height
    cap = grid.rows_per_page
    if cap is not None and cap < 1:
        raise ValueError(f"rows_per_page must be at least 1, not {cap}")
    bottom_limit = MARGIN if cap is None else 0.0

    cycles: list[list[PlannedRow]] = []
    cycle: list[PlannedRow] = []
    counted = 0
    top = first_top

    def place(cells: Sequence[str], kind: Literal["data", "summary"]) -> None:
        nonlocal top, counted, cycle
        laid, height = lay_out(cells)
        full = kind == "data" and cap is not None and counted >= cap
        if cycle and (full or top - height < bottom_limit):
            cycles.append(cycle)
            cycle, counted, top = [], 0, first_top
        cycle.append(PlannedRow(laid, top, height, kind))
        counted += kind == "data"
        top -= height

    for row in grid.rows:
        place(row, "data")
    if grid.summary is not None:
        place(grid.summary, "summary")
    if cycle or not cycles:
        cycles.append(cycle)
    return Plan([list(p) for p in grid.pages], cycles, header, offsets)


# -- drawing ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Space:
    """Page space → the local space of the content stream (under its ``cm``)."""

    cm: str
    sx: float
    sy: float
    tx: float
    ty: float

    def x(self, x: float) -> float:
        return (x - self.tx) / self.sx

    def y(self, y: float) -> float:
        return (y - self.ty) / self.sy

    @property
    def translation_only(self) -> bool:
        return self.sx == 1 and self.sy == 1


_SPACES: dict[Transform, _Space] = {
    "none": _Space("", 1, 1, 0, 0),
    "offset": _Space("1 0 0 1 36 36 cm\n", 1, 1, 36, 36),
    "pixels": _Space(".75 0 0 .75 0 0 cm\n", 0.75, 0.75, 0, 0),
    "flipped": _Space(".75 0 0 -.75 0 792 cm\n", 0.75, -0.75, 0, PAGE_HEIGHT),
}


class _Text:
    """Writes text objects, tracking the text line matrix for relative moves.

    Coordinates given to :meth:`line` are page coordinates; inside a text
    object every move is in text space, which the first ``Tm`` (or ``Td``
    when the page transform is a translation) makes equal to page units.
    """

    def __init__(
        self, out: list[str], variant: Variant, face: _Face, typesetter: _Typesetter
    ) -> None:
        self.out = out
        self.variant = variant
        self.face = face
        self.typesetter = typesetter
        self.space = _SPACES[variant.transform]
        self._cursor: tuple[float, float] | None = None  # (x, y) rounded, page units
        self._leading = variant.grouping != "line"
        self._quote = False
        # Text space units in points: 1, or the font size under "1 Tf".
        self._unit = variant.size if variant.unit_font_size else 1.0

    def _text_space(self, value: float) -> str:
        """A distance in points written in text space units."""
        if self._unit == 1:
            return _num(value)
        text = f"{value / self._unit:.6f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text

    def begin(self) -> None:
        variant = self.variant
        leading = f" {self._text_space(variant.line_height)} TL" if self._leading else ""
        size = "1" if variant.unit_font_size else _num(variant.size)
        self.out.append(f"BT\n/{self.face.resource} {size} Tf{leading}\n")
        self._cursor = None

    def end(self) -> None:
        self.out.append("ET\n")
        self._cursor = None

    def _absolute(self, x: float, y: float) -> None:
        space = self.space
        lx, ly = _num(space.x(x)), _num(space.y(y))
        if space.translation_only and self.variant.show != "glyphs_tm" and self._unit == 1:
            self.out.append(f"{lx} {ly} Td\n")
        else:
            scales = (self._unit / space.sx, self._unit / space.sy)
            a, d = (f"{s:.6f}".rstrip("0").rstrip(".") for s in scales)
            self.out.append(f"{a} 0 0 {d} {lx} {ly} Tm\n")

    def move(self, x: float, y: float) -> None:
        x, y = round(x, 3), round(y, 3)
        if self._cursor is None or self.variant.show == "glyphs_tm":
            self._absolute(x, y)
        else:
            cx, cy = self._cursor
            self.out.append(f"{self._text_space(x - cx)} {self._text_space(y - cy)} Td\n")
        self._cursor = (x, y)

    def line(self, x: float, y: float, text: str) -> None:
        """Draw one line (printable text) whose first glyph's origin is (x, y)."""
        variant = self.variant
        if variant.show != "string":
            for offset, char in self.typesetter.glyph_positions(text):
                self.move(x + offset, y)
                self.out.append(f"{self.face.code(char)} Tj\n")
            return
        x, y = round(x, 3), round(y, 3)
        next_line = (
            self._leading
            and self._cursor is not None
            and self._cursor[0] == x
            and abs(self._cursor[1] - variant.line_height - y) < 0.0015
        )
        if variant.kerning:
            if next_line:
                self.out.append("T*\n")
                self._cursor = (x, y)
            else:
                self.move(x, y)
            self.out.append(self._tj(text))
        elif next_line:
            # Alternate the two ways of going to the next line.
            self._quote = not self._quote
            if self._quote:
                self.out.append(f"{self.face.code(text)} '\n")
            else:
                self.out.append(f"T*\n{self.face.code(text)} Tj\n")
            self._cursor = (x, y)
        else:
            self.move(x, y)
            self.out.append(f"{self.face.code(text)} Tj\n")

    def _tj(self, text: str) -> str:
        parts: list[str] = []
        run = ""
        for index, char in enumerate(text):
            run += char
            adjustment = _kern(char, text[index + 1]) if index + 1 < len(text) else 0
            if adjustment:
                parts.append(f"{self.face.code(run)} {adjustment}")
                run = ""
        if run:
            parts.append(self.face.code(run))
        return f"[{' '.join(parts)}] TJ\n"


class _Painter:
    """The content stream of one page."""

    def __init__(self, plan: Plan, variant: Variant, face: _Face, typesetter: _Typesetter) -> None:
        self.plan = plan
        self.variant = variant
        self.face = face
        self.typesetter = typesetter
        self.space = _SPACES[variant.transform]
        ascent = face.ascent * variant.size / 1000
        descent = -face.descent * variant.size / 1000
        # Baseline below the top of a line box, centring ascent + descent in it.
        self.baseline = (variant.line_height - ascent - descent) / 2 + ascent

    def page(self, cycle: int, group: int) -> bytes:
        rows = [self.plan.header, *self.plan.cycles[cycle]]
        start = self.plan.offsets[group]
        columns = self.plan.pages[group]
        lefts = []
        left = MARGIN
        for column in columns:
            lefts.append(left)
            left += column.width
        indices = range(start, start + len(columns))
        out: list[str] = ["q\n", self.space.cm]
        text: list[str] = []
        self._text(text, rows, list(zip(indices, columns, lefts, strict=True)))
        grid = self._grid(rows, columns, lefts)
        if self.variant.grid_after_text:
            out += ["0 g\n", *text, *grid]
        else:
            out += [*grid, "0 g\n", *text]
        out.append("Q\n")
        return "".join(out).encode("ascii")

    # text

    def _text(
        self,
        out: list[str],
        rows: list[PlannedRow],
        columns: list[tuple[int, Column, float]],
    ) -> None:
        cells = [(row, slot) for row in rows for slot in columns]
        if self.variant.order == "columns":
            cells = [(row, slot) for slot in columns for row in rows]
        writer = _Text(out, self.variant, self.face, self.typesetter)
        grouping = self.variant.grouping
        current_block: object = None
        open_block = False
        for row, (index, column, left) in cells:
            lines = row.cells[index]
            if not any(lines):
                continue
            block: object = (
                (id(row) if self.variant.order == "rows" else index)
                if grouping == "row"
                else (id(row), index)
            )
            if grouping != "line" and block != current_block:
                if open_block:
                    writer.end()
                writer.begin()
                open_block, current_block = True, block
            line_top = row.top - (row.height - len(lines) * self.variant.line_height) / 2
            for number, line in enumerate(lines):
                if not line:
                    continue
                y = line_top - self.baseline - number * self.variant.line_height
                if column.align == "right":
                    x = left + column.width - self.variant.padding - self.typesetter.width(line)
                else:
                    x = left + self.variant.padding
                if grouping == "line":
                    writer.begin()
                    writer.line(x, y, line)
                    writer.end()
                else:
                    writer.line(x, y, line)
        if open_block:
            writer.end()

    # grid

    def _rect(self, x: float, y: float, w: float, h: float) -> str:
        sp = self.space
        x0, x1 = sorted((sp.x(x), sp.x(x + w)))
        y0, y1 = sorted((sp.y(y), sp.y(y + h)))
        return f"{_num(x0)} {_num(y0)} {_num(x1 - x0)} {_num(y1 - y0)} re f\n"

    def _segment(self, x0: float, y0: float, x1: float, y1: float) -> str:
        sp = self.space
        return f"{_num(sp.x(x0))} {_num(sp.y(y0))} m {_num(sp.x(x1))} {_num(sp.y(y1))} l\n"

    def _grid(self, rows: list[PlannedRow], columns: list[Column], lefts: list[float]) -> list[str]:
        right = lefts[-1] + columns[-1].width
        edges = [*lefts, right]
        if self.variant.rules == "none":
            return []
        if self.variant.rules == "header_fills":
            header = rows[0]
            out = [".85 g\n"]
            for left, column in zip(lefts, columns, strict=True):
                out.append(
                    self._rect(left, header.top - header.height, column.width, header.height)
                )
            return out
        if self.variant.rules == "strokes":
            out = [f"{_num(RULE / abs(self.space.sx))} w 0 G\n"]
            tops = [rows[0].top, *(row.top - row.height for row in rows)]
            out += [self._segment(MARGIN, y, right, y) for y in tops]
            bottom = tops[-1]
            out += [self._segment(x, rows[0].top, x, bottom) for x in edges]
            out.append("S\n")
            return out
        out = []
        for number, row in enumerate(rows):
            bottom = row.top - row.height
            if row.kind == "header":
                out.append(".85 g\n")
            elif self.variant.zebra and number % 2 == 0:
                out.append(".94 g\n")
            else:
                out.append("1 g\n")
            out.append(self._rect(MARGIN, bottom, right - MARGIN, row.height))
        out.append(".3 g\n")
        half = RULE / 2
        top, bottom = rows[0].top, rows[-1].top - rows[-1].height
        for row in rows:
            out.append(self._rect(MARGIN, row.top - half, right - MARGIN, RULE))
        out.append(self._rect(MARGIN, bottom - half, right - MARGIN, RULE))
        for x in edges:
            out.append(self._rect(x - half, bottom, RULE, top - bottom))
        return out


# -- the file ---------------------------------------------------------------------


class _Pdf:
    """Objects kept in memory, serialised with an xref table or an xref stream."""

    def __init__(self, compress: bool) -> None:
        self.compress = compress
        self.count = 0
        self.objects: dict[int, bytes] = {}
        self.streams: dict[int, bytes] = {}

    def reserve(self) -> int:
        self.count += 1
        return self.count

    def obj(self, number: int, body: bytes) -> None:
        self.objects[number] = body

    def stream(self, number: int, data: bytes, extra: bytes = b"") -> None:
        entries = extra
        if self.compress:
            data = zlib.compress(data)
            entries += b" /Filter /FlateDecode"
        self.streams[number] = b"<< /Length %d %s >>\nstream\n%s\nendstream" % (
            len(data),
            entries.strip(),
            data,
        )

    def serialise(self, root: int, info: int, object_streams: bool) -> bytes:
        file_id = hashlib.md5(b"".join(self.objects.values())).hexdigest()
        out = io.BytesIO()
        out.write(b"%PDF-1.5\n%\xc7\xec\x8f\xa2\n" if object_streams else b"%PDF-1.4\n")
        offsets: dict[int, int] = {}
        if not object_streams:
            for number in range(1, self.count + 1):
                offsets[number] = out.tell()
                body = self.objects.get(number, self.streams.get(number))
                if body is None:
                    raise RuntimeError(f"object {number} reserved but never written")
                out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
            xref = out.tell()
            out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (self.count + 1))
            for number in range(1, self.count + 1):
                out.write(b"%010d 00000 n \n" % offsets[number])
            out.write(
                b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\n"
                % (self.count + 1, root, info, file_id.encode(), file_id.encode())
            )
            out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
            return out.getvalue()

        for number in range(1, self.count + 1):
            if number in self.streams:
                offsets[number] = out.tell()
                out.write(b"%d 0 obj\n%s\nendobj\n" % (number, self.streams[number]))
            elif number not in self.objects:
                raise RuntimeError(f"object {number} reserved but never written")
        packed = sorted(self.objects)
        objstm = self.count + 1
        xref_number = self.count + 2
        head: list[bytes] = []
        bodies = io.BytesIO()
        for number in packed:
            head.append(b"%d %d" % (number, bodies.tell()))
            bodies.write(self.objects[number] + b"\n")
        header = b" ".join(head) + b"\n"
        data = zlib.compress(header + bodies.getvalue())
        offsets[objstm] = out.tell()
        out.write(
            b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\n"
            b"stream\n%s\nendstream\nendobj\n" % (objstm, len(packed), len(header), len(data), data)
        )
        offsets[xref_number] = out.tell()
        where = {number: index for index, number in enumerate(packed)}
        rows = [b"\x00\x00\x00\x00\x00\xff\xff"]
        for number in range(1, xref_number + 1):
            if number in where:
                rows.append(b"\x02" + objstm.to_bytes(4, "big") + where[number].to_bytes(2, "big"))
            else:
                rows.append(b"\x01" + offsets[number].to_bytes(4, "big") + b"\x00\x00")
        table = zlib.compress(b"".join(rows))
        out.write(
            b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root %d 0 R /Info %d 0 R "
            b"/ID [<%s> <%s>] /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n"
            % (
                xref_number,
                xref_number + 1,
                root,
                info,
                file_id.encode(),
                file_id.encode(),
                len(table),
                table,
            )
        )
        out.write(b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number])
        return out.getvalue()


def plan_variant(grid: Grid, variant: Variant, font: Font | None = None) -> Plan:
    """How ``variant`` paginates ``grid`` (consumes ``grid.rows`` if an iterator)."""
    face = _make_face(variant, font)
    return _plan(grid, variant, _Typesetter(face, variant))


def render_variant(grid: Grid, variant: Variant, font: Font | None = None) -> bytes:
    """``grid`` as a PDF written with ``variant``'s habits.

    ``font`` is the TrueType font of the ``type0`` and ``truetype`` faces
    (default: Liberation Serif, or Sans with ``typeface="sans"``); the
    standard-14 faces ignore it. ``grid.rows`` is consumed.
    """
    face = _make_face(variant, font)
    typesetter = _Typesetter(face, variant)
    plan = _plan(grid, variant, typesetter)
    painter = _Painter(plan, variant, face, typesetter)
    pdf = _Pdf(variant.compress)
    catalog, pages, info, resources = (pdf.reserve() for _ in range(4))
    kids = []
    for cycle in range(len(plan.cycles)):
        for group in range(plan.cycle_length):
            page, contents = pdf.reserve(), pdf.reserve()
            pdf.stream(contents, painter.page(cycle, group))
            pdf.obj(
                page,
                (
                    f"<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 612 792] "
                    f"/Resources {resources} 0 R /Contents {contents} 0 R >>"
                ).encode(),
            )
            kids.append(page)
    font_ref = face.write(pdf)  # after the pages: the subsets know their glyphs
    pdf.obj(
        resources,
        f"<< /Font << /{face.resource} {font_ref} 0 R >> /ProcSet [/PDF /Text] >>".encode(),
    )
    refs = " ".join(f"{kid} 0 R" for kid in kids)
    pdf.obj(pages, f"<< /Type /Pages /Count {len(kids)} /Kids [{refs}] >>".encode())
    pdf.obj(catalog, f"<< /Type /Catalog /Pages {pages} 0 R >>".encode())
    producer = "archid test producer (" + _describe(variant) + ")"
    pdf.obj(
        info,
        b"<< /Producer %s /Title %s >>" % (_pdf_text(producer), _pdf_text(grid.title)),
    )
    return pdf.serialise(catalog, info, variant.object_streams)


def write_variant(out: BinaryIO, grid: Grid, variant: Variant, font: Font | None = None) -> int:
    """Write :func:`render_variant`'s PDF to ``out``; the number of bytes written."""
    data = render_variant(grid, variant, font)
    out.write(data)
    return len(data)


def _describe(variant: Variant) -> str:
    default = Variant()
    changed = [
        f"{knob.name}={getattr(variant, knob.name)}"
        for knob in fields(variant)
        if getattr(variant, knob.name) != getattr(default, knob.name)
    ]
    return ", ".join(changed) or "baseline"
