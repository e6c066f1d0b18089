"""Positioned text and painted rules of each page of a PDF, read as cheaply as possible.

This is the text collector under :mod:`archid.exports.table`. It is built
on pdfminer.six's parser (cross-reference tables and streams, objects,
object streams), its font objects (Type0/Identity-H with ToUnicode, simple
Type1/TrueType fonts with standard encodings and ``/Differences``, the
standard 14 fonts' metrics) and its filters, but not on its interpreter or
its layout analysis: a grid export's content stream is five sixths grid
drawing, and pdfminer turns every rectangle and every glyph into objects.

What the interpreter executes, per page content stream:

* the CTM: ``q``/``Q`` (with the text state they save) and ``cm``;
* paths, only to learn where the grid's rules are: ``re``, ``m``, ``l``,
  ``h`` and the end point of ``c``/``v``/``y``, committed by a painting
  operator (``f F f* B B* b b* S s``) and dropped by ``n`` (so clipping
  paths, ``re W n``, are not rules);
* text objects: ``Tf Td TD Tm T* TL Tc Tw Tz Ts Tj TJ ' "``.

Everything else (colours, line styles, clipping, marked content, images)
is skipped without being parsed. Two ways of reading a stream:

* the **lean path**, for streams whose graphics are only rectangles painted
  right away under an identity CTM (the portal's exports): rectangles are
  found by regular expressions run over the *reversed* stream, where
  each ``re`` comes before its operands so the pattern starts with a
  literal and the regex engine skips ahead by fast search (one for fills
  and one for clips, the portal's only kinds, else one for any paint);
  text objects by one forward pattern starting with ``BT``. The commonest
  text object, one cell line ``BT /FNT0 9.75 Tf x y Td <glyphs> Tj ET``,
  is matched whole (on a page made only of those, all of them at once);
  any other goes through the text-object tokenizer;
* the **full interpreter** otherwise (a ``cm``, path operators, text state
  set outside text objects, inline images): one scanner that finds the
  next operator of interest in stream order.

Form XObjects (``Do``) are not entered: grid exports draw on the page.

A page becomes a :class:`PageText`: its text runs (a run is a contiguous
piece of text on one baseline: glyphs, strings or ``TJ`` pieces closer
than :data:`JOIN_GAP` em are joined, a gap up to :data:`SPACE_GAP` em is
read as a space, a wider gap starts a new run) and the edges of its rules
(painted rectangles and straight stroked segments) in page space. A run
that joins separately drawn pieces says where (:attr:`TextRun.breaks`), so
that the table reader can cut it at a cell border; and on a page whose
strings hold their spaces (the portal's: one string per cell line) a gap
is never a word space, so runs joined across such a gap are cut there
again. Pages
are read one at a time; nothing of a page is kept after it is returned,
and pdfminer's object cache is pruned as pages go.

Failures are the :mod:`archid.exports.errors` classes: :class:`NotAPdf`,
:class:`EncryptedPdf`, :class:`TruncatedPdf` (no ``%%EOF``, no valid
cross-reference, an object or stream that cannot be read),
:class:`EmptyPdf`, and :class:`LayoutChanged` for a rotated page.
"""

from __future__ import annotations

import bisect
import functools
import math
import operator
import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from pdfminer.pdfdocument import (
    PDFDocument,
    PDFEncryptionError,
    PDFNoValidXRef,
)
from pdfminer.pdffont import PDFFont, PDFUnicodeNotDefined
from pdfminer.pdfinterp import PDFResourceManager
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import LITERALS_FLATE_DECODE, PDFObjRef, PDFStream
from pdfminer.psexceptions import PSException

from archid.exports.errors import (
    EmptyPdf,
    EncryptedPdf,
    LayoutChanged,
    NotAPdf,
    TruncatedPdf,
)

__all__ = [
    "JOIN_GAP",
    "SPACE_GAP",
    "PageText",
    "PdfPages",
    "TextRun",
    "open_pdf",
]

JOIN_GAP = 0.12
"""Gaps up to this many em between two pieces of text join them directly (kerning)."""
SPACE_GAP = 0.36
"""Gaps up to this many em are a word space; wider ones separate runs (cells).

A space is 0.25 em in Times, 0.28 in Helvetica and Arial, 0.32 in DejaVu
Sans; two cells' texts are at least their two paddings apart (4 pt in the
portal's exports, 0.41 em at 9.75 pt).
"""

# Search this far into the file for "%PDF-" and back from its end for "%%EOF".
_HEAD = 1024
_TAIL = 2048
# Pruning pdfminer's object cache after this many objects keeps memory flat
# on 15,000-page files; fonts are cached here by object id, not there.
_OBJECT_CACHE_LIMIT = 256
_STRING_CACHE_LIMIT = 4096


#: Where a run joins two separately drawn pieces: the offset in its text where
#: the later piece starts, that piece's left edge and the earlier piece's right
#: edge, in page space.
Break = tuple[int, float, float]


class TextRun(NamedTuple):
    """A contiguous piece of text on one baseline, in page space (points, y up).

    ``breaks`` lists where the run joins pieces that were drawn separately
    (strings, ``TJ`` pieces, glyphs), so that a reader who knows where the
    cells of a grid end can cut a run that a narrow gap made cross a cell
    border (:meth:`split`). Most runs are one string and have none.
    """

    x0: float
    x1: float
    y: float
    """The baseline."""
    size: float
    """The font size as drawn (text size times the vertical scale of the matrices)."""
    text: str
    breaks: tuple[Break, ...] = ()

    def split(self, cuts: Callable[[float], int]) -> list[TextRun]:
        """The run cut at every break where ``cuts`` (x → cell number) changes cell.

        Pieces stay whole: a piece drawn as one string is never cut. Each
        part is stripped of the spaces around the cut; empty parts are dropped.
        """
        if not self.breaks:
            return [self]
        out: list[TextRun] = []
        start, x0 = 0, self.x0
        cell = cuts(x0)
        for offset, left, right in self.breaks:
            here = cuts(left)
            if here == cell:
                continue
            out.append(self._part(start, offset, x0, right))
            start, x0, cell = offset, left, here
        out.append(self._part(start, len(self.text), x0, self.x1))
        return [part for part in out if part.text]

    def _part(self, start: int, stop: int, x0: float, x1: float) -> TextRun:
        inner = tuple(
            (offset - start, left, right)
            for offset, left, right in self.breaks
            if start < offset < stop
        )
        text = self.text[start:stop]
        stripped = text.lstrip()
        if len(stripped) != len(text):
            shift = len(text) - len(stripped)
            inner = tuple((o - shift, left, right) for o, left, right in inner if o > shift)
        return TextRun(x0, x1, self.y, self.size, stripped.rstrip(), inner)


@dataclass(slots=True)
class PageText:
    """What a page shows: its text runs in content-stream order and its grid rules.

    The rules are given as their edges: ``x_edges`` holds the left and right
    edges of every painted rectangle and straight stroked segment, ``y_edges``
    their bottom and top edges, in page space, unsorted, repeats included.
    Extents of 90 % of the page or more (a page background) are left out.
    """

    index: int
    """0-based page index in the file."""
    width: float
    height: float
    runs: list[TextRun] = field(default_factory=list)
    x_edges: list[float] = field(default_factory=list)
    y_edges: list[float] = field(default_factory=list)
    unmapped: int = 0
    """Glyphs whose font gives no Unicode text (extracted as U+FFFD)."""

    @property
    def number(self) -> int:
        """1-based page number, as an operator counts pages."""
        return self.index + 1


# -- the content-stream scanner ----------------------------------------------------

_NUM = rb"[+-]?(?:\d+\.?\d*|\.\d+)"
_DELIM = rb"\s\[\]()<>{}/%"
# A token starts after whitespace or a delimiter and ends before one.
# ("/" is left out of the start set so that a name such as /F is not read as an operator.)
_START = rb"(?<![^\s\[\]()<>{}%])"
_END = rb"(?![^" + _DELIM + rb"])"
_WS = rb"\s+"
_LITERAL = rb"\((?:[^()\\]|\\.|\((?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\))*\)"

# The full interpreter's scanner: one match per operator of interest, in
# stream order. Group numbers are used by _Interpreter._execute_full.
_SCAN = re.compile(
    _START
    + rb"(?:"
    # 1-4 x y w h re, 5 an immediately following painting operator or clip
    + rb"(" + _NUM + rb")\s+(" + _NUM + rb")\s+(" + _NUM + rb")\s+(" + _NUM + rb")\s+re"
    + rb"(?:\s+(f\*?|F|B\*?|b\*?|S|s|n|W\*?\s+n)" + _END + rb")?"
    # 6 a whole one-line text object: 6 font, 7 size, 8-9 Td, 10 hex or 11 literal
    + rb"|BT\s*/([^" + _DELIM + rb"]+)\s*(" + _NUM + rb")\s+Tf\s+(" + _NUM + rb")\s+("
    + _NUM + rb")\s+Td\s*(?:<([0-9A-Fa-f\s]*)>|(" + _LITERAL + rb"))\s*Tj\s*ET"
    # 12 any other text object
    + rb"|(BT)"
    # 13 q, 14 Q
    + rb"|(q)|(Q)"
    # 15 painting operators and clips
    + rb"|(f\*?|F|B\*?|b\*?|S|s|n|W\*?)"
    # 16-17 x y, 18 m, l, or the end point of a curve
    + rb"|(" + _NUM + rb")\s+(" + _NUM + rb")\s+(m|l|c|v|y)"
    # 19 h
    + rb"|(h)"
    # 20-25 cm
    + rb"|(" + _NUM + rb")\s+(" + _NUM + rb")\s+(" + _NUM + rb")\s+(" + _NUM + rb")\s+("
    + _NUM + rb")\s+(" + _NUM + rb")\s+cm"
    # skipped whole, so that nothing inside is taken for an operator
    + rb"|" + _LITERAL
    + rb"|BI" + _END + rb".*?\sID\s.*?\sEI"
    + rb")" + _END,
    re.S,
)  # fmt: skip

# The lean path reads a stream whose graphics are only rectangles painted
# right away (``x y w h re f``, or clipped: ``re W n``), under an identity
# CTM, with no text state set outside text objects: the portal's exports.
# There the order of graphics and text does not matter, so each is found by
# a pattern that starts with a literal, which the regex engine finds by fast
# search instead of trying every position. A rectangle is found backwards,
# in the reversed stream, where its operator comes before its operands.
# A rectangle not painted right away, or anything else that draws or changes
# state (_LEAN_BLOCKERS), sends the page to the full interpreter; false
# alarms (the same letters inside a string) only cost time.
_RNUM = rb"([\d.]+[+-]?)"
# Every alternative starts with a literal, so that the engine skips ahead by
# fast search (an optional or a class first costs five times as much).
_LEAN_RECTS = re.compile(
    rb"(f|\*f|F|B|\*B|b|\*b|S|s|n\s+W|n\s+\*W|n)\s+er\s+" + _RNUM + rb"\s+" + _RNUM
    + rb"\s+" + _RNUM + rb"\s+" + _RNUM + _END
)  # fmt: skip
# The portal paints every rectangle with f or uses it as a clip (W n): a
# pattern for each starts with one literal, which makes them together three
# times as fast as _LEAN_RECTS; a stream with other rectangles falls back to it.
_LEAN_FILLS = re.compile(
    rb"f\s+er\s+" + _RNUM + rb"\s+" + _RNUM + rb"\s+" + _RNUM + rb"\s+" + _RNUM + _END
)
_LEAN_CLIPS = re.compile(
    rb"n\s+W\s+er\s+" + _RNUM + rb"\s+" + _RNUM + rb"\s+" + _RNUM + rb"\s+" + _RNUM + _END
)
# In the reversed stream: cm, Tc, Tw, Tz, TL, Ts, TD, BI, Do and the path
# operators m l c v y h.
_LEAN_BLOCKERS = re.compile(rb"mc|cT|wT|zT|LT|sT|DT|IB|oD|m\s|l\s|c\s|v\s|y\s|h\s")
# Every blocker holds one of these letters, or is TD. A test at a quarter
# of the cost of the search, which the portal's streams pass: keep only
# these letters, T, D and white space (bytes.translate); if no letter is
# left and no T is next to a D, nothing can match.
_BLOCKER_LETTERS = b"mcwzLsIolvyh"
_NOT_KEPT = bytes(range(256)).translate(None, _BLOCKER_LETTERS + b"TD \t\r\n\f\x00")
_NOT_BLOCKER_LETTERS = bytes(range(256)).translate(None, _BLOCKER_LETTERS)
_LEAN_TEXT = re.compile(
    rb"BT\s*/([^" + _DELIM + rb"]+)\s*(" + _NUM + rb")\s+Tf\s+(" + _NUM + rb")\s+("
    + _NUM + rb")\s+Td\s*(?:<([0-9A-Fa-f\s]*)>|(" + _LITERAL + rb"))\s*Tj\s*ET" + _END
    + rb"|BT" + _END
)  # fmt: skip
# _LEAN_TEXT's first alternative, found all at once where each BT starts one
# (a cell line drawn after a newline, as the portal does).
_LEAN_CELLS = re.compile(
    rb"\nBT\s*/([^" + _DELIM + rb"]+)\s*(" + _NUM + rb")\s+Tf\s+(" + _NUM + rb")\s+("
    + _NUM + rb")\s+Td\s*(?:<([0-9A-Fa-f\s]*)>|(" + _LITERAL + rb"))\s*Tj\s*ET" + _END
)  # fmt: skip
_DELIMITERS = frozenset(b" \t\r\n\f\x00[]()<>{}/%")
# A dimension this close to the page's is a background, not a rule.
_BACKGROUND = 0.9

# The tokens of a text object; group numbers are used by _Interpreter._text_object.
_TOKEN = re.compile(
    rb"\s*(?:"
    + rb"(" + _NUM + rb")"  # 1 number
    + rb"|(" + _LITERAL + rb")"  # 2 literal string
    + rb"|<([0-9A-Fa-f\s]*)>"  # 3 hex string
    + rb"|/([^" + _DELIM + rb"]*)"  # 4 name
    + rb"|(\[)|(\])"  # 5 6 arrays
    + rb"|([^" + _DELIM + rb"]+)"  # 7 operator
    + rb"|(<<|>>|[{}]|%[^\r\n]*)"  # 8 skipped
    + rb")",
    re.S,
)  # fmt: skip

_ESCAPES = re.compile(rb"\\(?:([0-7]{1,3})|(\r\n|\r|\n)|(.))", re.S)
_ESCAPED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_NOT_HEX = re.compile(rb"[^0-9A-Fa-f]")

_Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: _Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _unescape(match: re.Match[bytes]) -> bytes:
    octal, newline, char = match.groups()
    if octal is not None:
        return bytes((int(octal, 8) & 0xFF,))
    if newline is not None:
        return b""
    return _ESCAPED.get(char, char)


def _literal(token: bytes) -> bytes:
    """The bytes of a literal string token ``(…)``."""
    body = token[1:-1]
    return _ESCAPES.sub(_unescape, body) if b"\\" in body else body


def _hex(body: bytes) -> bytes:
    digits = _NOT_HEX.sub(b"", body)
    if len(digits) % 2:
        digits += b"0"
    return bytes.fromhex(digits.decode("ascii"))


def _matrix(args: list[Any]) -> _Matrix:
    """The last six operands as a matrix; ``ValueError`` if they are not six numbers."""
    a, b, c, d, e, f = (float(v) for v in args[-6:])
    return (a, b, c, d, e, f)


def _multiply(m: _Matrix, n: _Matrix) -> _Matrix:
    """``m × n`` (apply ``m``, then ``n``), PDF row-vector convention."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


class _Font:
    """A pdfminer font with the measurements the collector needs, cached per string."""

    __slots__ = ("_cache", "_glyphs", "_hex_cache", "font", "single_byte")

    def __init__(self, font: PDFFont) -> None:
        self.font = font
        self.single_byte = not font.is_multibyte()
        self._glyphs: dict[int, tuple[str, float]] = {}
        self._cache: dict[bytes, tuple[str, float, int, int, int, bool]] = {}
        self._hex_cache: dict[bytes, tuple[str, float, int, int, int, bool]] = {}

    def measure_hex(self, digits: bytes) -> tuple[str, float, int, int, int, bool]:
        """:meth:`measure` of the hex string ``<digits>``, cached by its digits
        (which saves decoding the hex: most cell texts repeat)."""
        found = self._hex_cache.get(digits)
        if found is None:
            found = self.measure(_hex(digits))
            if len(self._hex_cache) >= _STRING_CACHE_LIMIT:
                self._hex_cache.clear()
            self._hex_cache[digits] = found
        return found

    def measure(self, raw: bytes) -> tuple[str, float, int, int, int, bool]:
        """Text, width in em, glyph count, single-byte spaces (for Tw), unmapped glyphs,
        and whether the text holds a space."""
        found = self._cache.get(raw)
        if found is not None:
            return found
        glyphs = self._glyphs
        parts: list[str] = []
        width = 0.0
        count = unmapped = 0
        for cid in self.font.decode(raw):
            glyph = glyphs.get(cid)
            if glyph is None:
                glyph = glyphs[cid] = self._glyph(cid)
            char, advance = glyph
            if char == "\ufffd":
                unmapped += 1
            parts.append(char)
            width += advance
            count += 1
        spaces = raw.count(32) if self.single_byte else 0
        text = "".join(parts)
        found = (text, width, count, spaces, unmapped, " " in text)
        if len(self._cache) >= _STRING_CACHE_LIMIT:
            self._cache.clear()
        self._cache[raw] = found
        return found

    def _glyph(self, cid: int) -> tuple[str, float]:
        try:
            char = self.font.to_unichr(cid)
        except (PDFUnicodeNotDefined, KeyError, IndexError, ValueError):
            char = "\ufffd"
        if char in ("\x00", "\ufeff"):
            char = ""
        return char, float(self.font.char_width(cid))


# (y, h) and (x, w) of a _LEAN_FILLS match (h, w, y, x), picked in C
_Y_H = operator.itemgetter(2, 0)
_X_W = operator.itemgetter(3, 1)


def _lean_blocked(data: bytes, backwards: bytes) -> bool:
    """Whether the stream does something the lean path does not follow."""
    kept = data.translate(None, _NOT_KEPT)
    if b"TD" not in kept and not kept.translate(None, _NOT_BLOCKER_LETTERS):
        return False
    return _LEAN_BLOCKERS.search(backwards) is not None


class _Interpreter:
    """Runs one page's content stream into a :class:`PageText`."""

    def __init__(self, page: PageText, fonts: Callable[[str], _Font | None]) -> None:
        self.page = page
        self.fonts = fonts
        self._reset()

    def _reset(self) -> None:
        self.fontless = 0
        self.ctm: _Matrix = _IDENTITY
        self.stack: list[tuple[Any, ...]] = []
        # text state (kept across text objects, saved by q)
        self.font: _Font | None = None
        self.size = 0.0
        self.char_space = 0.0
        self.word_space = 0.0
        self.scale = 1.0
        self.leading = 0.0
        self.rise = 0.0
        # text object state
        self.tm: _Matrix = _IDENTITY
        self.tlm: _Matrix = _IDENTITY
        # path under construction: (x0, y0, x1, y1) boxes in user space
        self.path: list[tuple[float, float, float, float]] = []
        self.point = (0.0, 0.0)
        self.start = (0.0, 0.0)
        # the pieces of text shown, in order, joined into runs at the end
        self.pieces: list[_Piece] = []
        # whether any string shown holds a space glyph, and how many runs joined
        # two pieces across a gap read as a space
        self.drawn_spaces = False
        self.spaced_joins = 0

    # -- driver

    def execute(self, data: bytes) -> None:
        """Run ``data``, a page's whole content stream."""
        backwards = data[::-1]
        if not _lean_blocked(data, backwards) and self._lean_rects(data, backwards):
            self._lean_text(data)
            if not self.fontless:
                self._finish()
                return
            # Text shown before any Tf: the font was set where the lean path
            # does not look (outside a text object). Start again, in full.
            page = self.page
            page.runs.clear()
            page.x_edges.clear()
            page.y_edges.clear()
            page.unmapped = 0
            self._reset()
        self._execute_full(data)
        self._finish()

    def _finish(self) -> None:
        """End the page: the last run, then the gaps read as spaces undone if need be.

        A producer that draws its spaces as glyphs (the portal: one string
        per cell line) never leaves a word space as a gap, so on its pages a
        gap that was read as a space is the few points between two cells
        drawn close together (``DATAAREAID`` ``ID``): those runs are cut
        there again. Producers that draw no space glyph (glyph by glyph)
        keep them: their word spaces are gaps.
        """
        self._flush()
        if not (self.drawn_spaces and self.spaced_joins):
            return
        page = self.page
        runs: list[TextRun] = []
        for run in page.runs:
            limit = JOIN_GAP * run.size
            gaps = [left for _, left, right in run.breaks if left - right > limit]
            if gaps:
                runs.extend(run.split(functools.partial(bisect.bisect_right, gaps)))
            else:
                runs.append(run)
        page.runs = runs

    def _flush(self) -> None:
        """Join the pieces shown so far into the page's runs."""
        runs, spaced = _runs(self.pieces)
        self.page.runs.extend(runs)
        self.spaced_joins += spaced
        self.pieces = []

    def _lean_rects(self, data: bytes, backwards: bytes) -> bool:
        """Add the edges of the stream's rectangles, if each is painted right away
        or is a clip (the lean path's condition); else add nothing and return False."""
        # Rows share their y and height, columns their x and width: convert
        # each distinct pair once. Clips (n, W n) are not rules.
        rects = data.count(b"re")
        fills = _LEAN_FILLS.findall(backwards)
        if len(fills) + len(_LEAN_CLIPS.findall(backwards)) == rects:
            ys = set(map(_Y_H, fills))
            xs = set(map(_X_W, fills))
        else:
            found = _LEAN_RECTS.findall(backwards)
            if len(found) != rects:
                return False
            ys = {(y, h) for paint, h, _w, y, _x in found if paint[0] != 110}
            xs = {(x, w) for paint, _h, w, _y, x in found if paint[0] != 110}
        page = self.page
        for edges, pairs, limit in (
            (page.y_edges, ys, page.height * _BACKGROUND),
            (page.x_edges, xs, page.width * _BACKGROUND),
        ):
            for start_r, extent_r in pairs:
                start, extent = float(start_r[::-1]), float(extent_r[::-1])
                if abs(extent) < limit:
                    edges.append(start)
                    edges.append(start + extent)
        return True

    def _lean_text(self, data: bytes) -> None:
        cells = _LEAN_CELLS.findall(data)
        if len(cells) == data.count(b"BT"):
            # Every text object is one cell line (each BT starts a match).
            self._lean_cells(cells)
            return
        search = _LEAN_TEXT.search
        position = 0
        while True:
            m = search(data, position)
            if m is None:
                return
            start = m.start()
            position = m.end()
            if start and data[start - 1] not in _DELIMITERS:
                position = start + 2  # "BT" ending some other token
            elif m.lastindex is None:
                position = self._text_object(data, position)
            else:
                self._fast_text(m, 0)

    def _lean_cells(self, cells: list[tuple[bytes, ...]]) -> None:
        """Show each ``BT /F size Tf x y Td <…> Tj ET`` of a lean stream, in order.

        What :meth:`_fast_text` and :meth:`_show` do, for the state of a lean
        stream made only of such objects: identity matrices, no character or
        word spacing, no rise, full horizontal scale.
        """
        fonts: dict[bytes, _Font | None] = {}
        page = self.page
        pieces = self.pieces
        for name, size_r, x_r, y_r, hexa, literal in cells:
            font = fonts.get(name)
            if font is None and name not in fonts:
                font = fonts[name] = self.fonts(name.decode("latin-1"))
            if font is None:
                self.fontless += bool(_literal(literal) if literal else _hex(hexa))
                continue
            # findall gives b"" for the alternative that did not match; a
            # literal holds at least its parentheses.
            measured = font.measure(_literal(literal)) if literal else font.measure_hex(hexa)
            text, width, _count, _spaces, unmapped, has_space = measured
            if has_space:
                self.drawn_spaces = True
            if unmapped:
                page.unmapped += unmapped
            if text:
                size = float(size_r)
                x0 = float(x_r)
                x1 = x0 + width * size
                if x1 < x0:
                    x0, x1 = x1, x0
                pieces.append((text, x0, x1, float(y_r), size))

    def _execute_full(self, data: bytes) -> None:
        search = _SCAN.search
        position = 0
        while True:
            m = search(data, position)
            if m is None:
                return
            position = m.end()
            index = m.lastindex
            if index is None:
                continue  # a skipped literal string or inline image
            if index <= 5:
                x, y, w, h = float(m[1]), float(m[2]), float(m[3]), float(m[4])
                paint = m[5]
                if paint is not None and paint[0] in b"nW":
                    self.path.clear()
                    continue
                self.path.append((x, y, x + w, y + h))
                self.point = self.start = (x, y)
                if paint is not None:
                    self._paint()
            elif index <= 11:
                self._fast_text(m, 5)
            elif index == 12:
                position = self._text_object(data, position)
            elif index == 13:
                self._save()
            elif index == 14:
                self._restore()
            elif index == 15:
                op = m[15]
                if op == b"n":
                    self.path.clear()
                elif op[0] != 87:  # not W: the clip marker keeps the path for its n
                    self._paint()
            elif index <= 18:
                x, y = float(m[16]), float(m[17])
                op = m[18]
                if op == b"m":
                    self.point = self.start = (x, y)
                else:
                    if op == b"l":
                        self._segment(self.point, (x, y))
                    self.point = (x, y)
            elif index == 19:
                self._segment(self.point, self.start)
                self.point = self.start
            else:
                a, b, c, d, e, f = (float(m[i]) for i in range(20, 26))
                self.ctm = _multiply((a, b, c, d, e, f), self.ctm)

    # -- graphics

    def _save(self) -> None:
        self.stack.append(
            (
                self.ctm,
                self.font,
                self.size,
                self.char_space,
                self.word_space,
                self.scale,
                self.leading,
                self.rise,
            )
        )

    def _restore(self) -> None:
        if self.stack:
            (
                self.ctm,
                self.font,
                self.size,
                self.char_space,
                self.word_space,
                self.scale,
                self.leading,
                self.rise,
            ) = self.stack.pop()

    def _segment(self, p: tuple[float, float], q: tuple[float, float]) -> None:
        # Only straight horizontal or vertical segments can be grid rules.
        if p[0] == q[0] or p[1] == q[1]:
            self.path.append((p[0], p[1], q[0], q[1]))

    def _paint(self) -> None:
        a, b, c, d, e, f = self.ctm
        page = self.page
        width, height = page.width * _BACKGROUND, page.height * _BACKGROUND
        for x0, y0, x1, y1 in self.path:
            if b == 0 and c == 0:
                u0, u1 = a * x0 + e, a * x1 + e
                v0, v1 = d * y0 + f, d * y1 + f
            else:  # a rotated or skewed CTM: the bounding box
                us = [a * x + c * y + e for x in (x0, x1) for y in (y0, y1)]
                vs = [b * x + d * y + f for x in (x0, x1) for y in (y0, y1)]
                u0, u1, v0, v1 = min(us), max(us), min(vs), max(vs)
            if abs(u1 - u0) < width:
                page.x_edges.append(u0)
                page.x_edges.append(u1)
            if abs(v1 - v0) < height:
                page.y_edges.append(v0)
                page.y_edges.append(v1)
        self.path.clear()

    # -- text

    def _set_font(self, name: bytes, size: float) -> None:
        self.font = self.fonts(name.decode("latin-1"))
        self.size = size

    def _fast_text(self, m: re.Match[bytes], base: int) -> None:
        """A whole ``BT /F size Tf x y Td <…> Tj ET`` whose groups start after ``base``."""
        self._set_font(m[base + 1], float(m[base + 2]))
        self.tm = self.tlm = (1.0, 0.0, 0.0, 1.0, float(m[base + 3]), float(m[base + 4]))
        hexa = m[base + 5]
        self._show(_hex(hexa) if hexa is not None else _literal(m[base + 6]))

    def _text_object(self, data: bytes, position: int) -> int:
        """Run the text object whose ``BT`` ends at ``position``; where its ``ET`` ends."""
        self.tm = self.tlm = _IDENTITY
        operands: list[Any] = []
        array: list[Any] | None = None
        match = _TOKEN.match
        end = len(data)
        while position < end:
            m = match(data, position)
            if m is None:
                break
            position = m.end()
            index = m.lastindex
            if index == 1:
                value: Any = float(m[1])
            elif index == 2:
                value = _literal(m[2])
            elif index == 3:
                value = _hex(m[3])
            elif index == 4:
                value = m[4]
            elif index == 5:
                array = []
                continue
            elif index == 6:
                if array is not None:
                    operands.append(array)
                array = None
                continue
            elif index == 7:
                op = m[7]
                if op == b"ET":
                    return position
                self._text_operator(op, operands)
                operands.clear()
                continue
            else:
                continue
            if array is not None:
                array.append(value)
            else:
                operands.append(value)
        return position  # a text object without ET: the stream ended

    def _text_operator(self, op: bytes, args: list[Any]) -> None:
        try:
            if op == b"Tj":
                self._show(args[-1])
            elif op == b"TJ":
                self._show_array(args[-1])
            elif op == b"Td":
                self._move(args[-2], args[-1])
            elif op == b"Tf":
                self._set_font(args[-2], args[-1])
            elif op == b"Tm":
                self.tm = self.tlm = _matrix(args)
            elif op == b"TD":
                self.leading = -args[-1]
                self._move(args[-2], args[-1])
            elif op == b"T*":
                self._move(0.0, -self.leading)
            elif op == b"'":
                self._move(0.0, -self.leading)
                self._show(args[-1])
            elif op == b'"':
                self.word_space, self.char_space = args[-3], args[-2]
                self._move(0.0, -self.leading)
                self._show(args[-1])
            elif op == b"TL":
                self.leading = args[-1]
            elif op == b"Tc":
                self.char_space = args[-1]
            elif op == b"Tw":
                self.word_space = args[-1]
            elif op == b"Tz":
                self.scale = args[-1] / 100
            elif op == b"Ts":
                self.rise = args[-1]
            elif op == b"q":  # not allowed in a text object, but seen
                self._save()
            elif op == b"Q":
                self._restore()
            elif op == b"cm":
                self.ctm = _multiply(_matrix(args), self.ctm)
        except (IndexError, TypeError, AttributeError, ValueError):
            pass  # an operator without its operands does nothing, as in viewers

    def _move(self, tx: float, ty: float) -> None:
        a, b, c, d, e, f = self.tlm
        self.tm = self.tlm = (a, b, c, d, tx * a + ty * c + e, tx * b + ty * d + f)

    def _show_array(self, items: list[Any]) -> None:
        for item in items:
            if isinstance(item, bytes):
                self._show(item)
            elif isinstance(item, float):
                tx = -item / 1000 * self.size * self.scale
                a, b, c, d, e, f = self.tm
                self.tm = (a, b, c, d, tx * a + e, tx * b + f)

    def _show(self, raw: bytes) -> None:
        font = self.font
        if font is None or not raw:
            self.fontless += bool(raw)
            return
        text, width, count, spaces, unmapped, has_space = font.measure(raw)
        if has_space:
            self.drawn_spaces = True
        if unmapped:
            self.page.unmapped += unmapped
        tx = (width * self.size + count * self.char_space + spaces * self.word_space) * self.scale
        tm = self.tm
        a, _, c, d, e, f = tm if self.ctm is _IDENTITY else _multiply(tm, self.ctm)
        rise = self.rise
        x0 = e + rise * c
        y = f + rise * d
        x1 = x0 + tx * a
        size = self.size * math.hypot(c, d)
        ta, tb, tc, td, te, tf = tm
        self.tm = (ta, tb, tc, td, tx * ta + te, tx * tb + tf)
        if x1 < x0:
            x0, x1 = x1, x0
        if text:
            self.pieces.append((text, x0, x1, y, size))


#: A piece of text as shown: text, left and right edge, baseline, font size.
_Piece = tuple[str, float, float, float, float]


def _runs(pieces: list[_Piece]) -> tuple[list[TextRun], int]:
    """The runs that ``pieces`` (in drawing order) make, and how many joins across a
    gap were read as a space.

    A piece joins the run before it if it is on its baseline, in its size,
    and starts within :data:`JOIN_GAP` em of its end (or a little before:
    kerning), or within :data:`SPACE_GAP` em with a space put between.
    """
    runs: list[TextRun] = []
    spaced = 0
    parts: list[str] = []
    # where the run joins separately drawn pieces: (index in parts, x0, previous x1)
    joins: list[Break] | None = None
    run_x0 = run_x1 = run_y = em = 0.0
    for text, x0, x1, y, size in pieces:
        if parts:
            if abs(y - run_y) <= 0.1 * em and abs(size - em) <= 0.1 * em:
                gap = x0 - run_x1
                if -0.3 * em <= gap <= JOIN_GAP * em:
                    joins = joins or []
                    joins.append((len(parts), x0, run_x1))
                    parts.append(text)
                    run_x1 = max(x1, run_x1)
                    continue
                if 0 < gap <= SPACE_GAP * em:
                    parts.append(" ")
                    joins = joins or []
                    joins.append((len(parts), x0, run_x1))
                    spaced += 1
                    parts.append(text)
                    run_x1 = x1
                    continue
            _add_run(runs, parts, joins, run_x0, run_x1, run_y, em)
            joins = None
        run_x0, run_x1, run_y, em = x0, x1, y, size
        parts = [text]
    if parts:
        _add_run(runs, parts, joins, run_x0, run_x1, run_y, em)
    return runs, spaced


def _add_run(
    runs: list[TextRun],
    parts: list[str],
    joins: list[Break] | None,
    x0: float,
    x1: float,
    y: float,
    size: float,
) -> None:
    text = "".join(parts)
    if text.isspace():
        return
    if joins is None:
        runs.append(TextRun(x0, x1, y, size, text))
        return
    offsets = [0]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    breaks = tuple((offsets[index], left, right) for index, left, right in joins)
    runs.append(TextRun(x0, x1, y, size, text, breaks))


# -- the document ------------------------------------------------------------------


def _name(source: Path | BinaryIO) -> str:
    if isinstance(source, Path):
        return str(source)
    return str(getattr(source, "name", "<stream>"))


def _value(obj: object) -> Any:
    """``obj`` with indirect references followed."""
    while isinstance(obj, PDFObjRef):
        obj = obj.resolve()
    return obj


class PdfPages:
    """An open PDF whose pages are read one at a time; see :func:`open_pdf`.

    Close it (or use it as a context manager) when done if it was opened
    from a path.
    """

    def __init__(self, source: Path | BinaryIO) -> None:
        self.name = _name(source)
        self._own = isinstance(source, Path)
        self._file: BinaryIO = source.open("rb") if isinstance(source, Path) else source
        try:
            self._check_bytes()
            self._open()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> PdfPages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file if this object opened it."""
        if self._own:
            self._file.close()

    # -- opening

    def _check_bytes(self) -> None:
        f = self._file
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(0)
        head = f.read(_HEAD)
        if not head:
            raise NotAPdf(f"{self.name} is empty (0 bytes): the download failed; export again")
        if b"%PDF-" not in head:
            lowered = head.lower()
            html = b"<html" in lowered or b"<!doctype" in lowered
            what = "it looks like an HTML page" if html else f"it starts with {head[:16]!r}"
            raise NotAPdf(
                f"{self.name} is not a PDF ({what}): the portal may have returned an error "
                "page instead of the export; check the portal and export again"
            )
        f.seek(max(0, size - _TAIL))
        if b"%%EOF" not in f.read():
            raise TruncatedPdf(
                f"{self.name} ends without the %%EOF marker after {size:,} bytes: the "
                "download was interrupted or the file is damaged; export again"
            )
        f.seek(0)

    def _open(self) -> None:
        try:
            parser = PDFParser(self._file)
            document = PDFDocument(parser, caching=True, fallback=False)
        except PDFEncryptionError as exc:
            raise self._encrypted() from exc
        except (PDFNoValidXRef, PSException, ValueError, KeyError, TypeError) as exc:
            raise TruncatedPdf(
                f"{self.name} is damaged (its cross-reference table cannot be read: {exc}); "
                "the download was probably interrupted; export again"
            ) from exc
        if document.encryption is not None:
            raise self._encrypted()
        self._document = document
        self._resources = PDFResourceManager(caching=True)
        self._fonts: dict[int, _Font | None] = {}
        try:
            root = _value(document.catalog.get("Pages"))
            count = int(_value(root.get("Count", 0))) if isinstance(root, dict) else 0
        except (PSException, ValueError, TypeError) as exc:
            raise TruncatedPdf(f"{self.name}: the page tree cannot be read ({exc})") from exc
        if not isinstance(root, dict) or count <= 0 or not _value(root.get("Kids")):
            raise EmptyPdf(
                f"{self.name} has no pages: the export is empty; check the list view's "
                "filter in the portal and export again"
            )
        self._root: dict[str, Any] = root
        self.page_count = count
        """Pages the page tree declares."""

    def _encrypted(self) -> EncryptedPdf:
        return EncryptedPdf(
            f"{self.name} is encrypted; the portal's exports never are: this file does not "
            "come from the portal's export, or was re-saved with a password; export again"
        )

    # -- pages

    def _leaves(self, start: int) -> Iterator[tuple[int, dict[str, Any], dict[str, Any]]]:
        """(index, page dictionary, inherited attributes) from page ``start`` on."""
        counter = [0]
        yield from self._walk(self._root, {}, start, counter, 0)

    def _walk(
        self,
        node: dict[str, Any],
        inherited: dict[str, Any],
        start: int,
        counter: list[int],
        depth: int,
    ) -> Iterator[tuple[int, dict[str, Any], dict[str, Any]]]:
        if depth > 32:
            raise TruncatedPdf(f"{self.name} is damaged: its page tree is too deep or cyclic")
        attrs = dict(inherited)
        for key in ("Resources", "MediaBox", "Rotate"):
            if key in node:
                attrs[key] = node[key]
        kids = _value(node.get("Kids")) or []
        count = _value(node.get("Count"))
        if isinstance(count, int) and counter[0] + count <= start:
            counter[0] += count  # a whole subtree before the first page wanted
            return
        # A node with as many kids as pages holds one page per kid: pages
        # before ``start`` are counted without being read.
        flat = isinstance(count, int) and count == len(kids)
        for kid_ref in kids:
            if flat and counter[0] < start:
                counter[0] += 1
                continue
            kid = _value(kid_ref)
            if not isinstance(kid, dict):
                continue
            if "Kids" in kid:
                yield from self._walk(kid, attrs, start, counter, depth + 1)
                continue
            if counter[0] >= start:
                yield counter[0], kid, attrs
            counter[0] += 1

    def pages(self, start: int = 0, stop: int | None = None) -> Iterator[PageText]:
        """Pages ``start`` (0-based) up to ``stop`` (excluded), read one at a time.

        Raises :class:`TruncatedPdf` for an object or stream that cannot be
        read and :class:`LayoutChanged` for a rotated page.
        """
        stop = self.page_count if stop is None else min(stop, self.page_count)
        if start >= stop:
            return
        expected = start
        try:
            for index, page, attrs in self._leaves(start):
                if index >= stop:
                    break
                yield self._read(index, page, attrs)
                self._prune()
                expected = index + 1
        except (PSException, zlib.error, ValueError, KeyError, TypeError) as exc:
            raise TruncatedPdf(
                f"{self.name} is damaged: a page cannot be read ({type(exc).__name__}: {exc}); "
                "export again"
            ) from exc
        if expected < stop:
            raise TruncatedPdf(
                f"{self.name} is damaged: it declares {self.page_count:,} pages but page "
                f"{expected + 1:,} cannot be found; export again"
            )

    def _prune(self) -> None:
        # pdfminer caches every object it parsed; bound that to keep memory flat.
        cached = getattr(self._document, "_cached_objs", None)
        if isinstance(cached, dict) and len(cached) > _OBJECT_CACHE_LIMIT:
            cached.clear()
        parsed = getattr(self._document, "_parsed_objs", None)
        if isinstance(parsed, dict) and len(parsed) > 16:
            parsed.clear()

    def _read(self, index: int, page: dict[str, Any], inherited: dict[str, Any]) -> PageText:
        attrs = {**inherited, **page}
        rotate = int(_value(attrs.get("Rotate", 0)) or 0) % 360
        if rotate:
            raise LayoutChanged(
                f"{self.name}: page {index + 1} is rotated by {rotate}°; the portal's exports "
                "are upright portrait pages: the export layout changed"
            )
        box = _value(attrs.get("MediaBox")) or [0, 0, 612, 792]
        x0, y0, x1, y1 = (float(_value(v)) for v in box)
        text = PageText(index, abs(x1 - x0), abs(y1 - y0))
        data = self._contents(_value(attrs.get("Contents")))
        if data:
            resources = _value(attrs.get("Resources")) or {}
            fonts = _value(resources.get("Font")) if isinstance(resources, dict) else None
            known: dict[str, _Font | None] = {}

            def font(name: str) -> _Font | None:
                if name not in known:
                    ref = fonts.get(name) if isinstance(fonts, dict) else None
                    known[name] = None if ref is None else self._font(ref)
                return known[name]

            _Interpreter(text, font).execute(data)
        return text

    def _contents(self, contents: object) -> bytes:
        if contents is None:
            return b""
        streams = contents if isinstance(contents, list) else [contents]
        parts = []
        for item in streams:
            stream = _value(item)
            if isinstance(stream, PDFStream):
                parts.append(self._decode(stream))
        return b"\n".join(parts)

    def _decode(self, stream: PDFStream) -> bytes:
        filters = stream.get_filters()
        raw = stream.rawdata
        if raw is not None and not filters:
            return bytes(raw)
        if raw is not None and len(filters) == 1 and filters[0][0] in LITERALS_FLATE_DECODE:
            params = filters[0][1]
            if not params or _value(params.get("Predictor", 1)) in (None, 1):
                try:
                    return zlib.decompress(raw)
                except zlib.error as exc:
                    raise TruncatedPdf(
                        f"{self.name}: a page's content stream is damaged ({exc}); the "
                        "download was probably interrupted; export again"
                    ) from exc
        return bytes(stream.get_data())

    def _font(self, ref: object) -> _Font | None:
        # Fonts are cached by object number: pdfminer's object cache is pruned,
        # and the font's glyph and string caches are what make text cheap.
        objid = ref.objid if isinstance(ref, PDFObjRef) else None
        if objid is not None and objid in self._fonts:
            return self._fonts[objid]
        spec = _value(ref)
        made = _Font(self._resources.get_font(objid, spec)) if isinstance(spec, dict) else None
        if objid is not None:
            self._fonts[objid] = made
        return made


def open_pdf(source: Path | BinaryIO) -> PdfPages:
    """Open ``source`` and check it is a complete, unencrypted PDF with pages.

    A binary file object must be seekable; it is not closed by
    :meth:`PdfPages.close`. Raises :class:`NotAPdf`, :class:`TruncatedPdf`,
    :class:`EncryptedPdf` or :class:`EmptyPdf`.
    """
    return PdfPages(source)
