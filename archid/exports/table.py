"""The grid of a DevExpress-style export, read back as whole rows: type-agnostic.

Spec section 2: every page of an export shows a header row at the top, then
rows; the grid is cut into vertical strips, so a *cycle* of N consecutive
pages holds the same rows, page k of the cycle the k-th group of columns.
:func:`open_table` finds that structure from the file itself:

* **header row**: the top row of each page (gray fills are not relied on:
  other producers do not fill);
* **cycle**: the first page k > 0 whose header row equals page 1's gives
  N = k; if none does, the whole file is one cycle. Every page must then
  show the header row of its position in the cycle, and the page count
  must be a whole number of cycles (:class:`CycleNotFound` otherwise);
* **columns**: from the grid's vertical rules where the page has them,
  else from the header cells' rules (a producer that draws only the
  header cells), else from the header cells' text (a column starts just
  before its header's text). Text the collector joined across a cell
  border (cells drawn closer than a word space) is cut where the column
  ends, so a value never spans two columns; header cells drawn close
  together are cut alike (at a rule, or where the data under them start),
  and a text-only page's header row is cut where the cycle's first page
  at that place had its cells;
* **rows**: from the grid's horizontal rules where the page has them, else
  from vertical gaps in the text: the gap that separates rows is learnt
  from the cycle's text (between the line spacing of a wrapped cell and
  the commonest gap above it), so it holds for the portal's 13.5 pt rows
  with 11.25 pt lines as for looser ones. Text is assigned to rows by cell,
  not by baseline, so the lines of a wrapped, vertically centred cell stay
  in their row. The pages of a cycle must have their rows in the same
  places (:class:`RowsMisaligned` otherwise), and rows are joined across
  the cycle by position.

:meth:`Table.rows` yields one :class:`Row` per data row; summary rows
(``Sum=…``, ``Count=…`` cells) are collected in :attr:`Table.summary`
instead, and rows with no text at all are counted and skipped. Only one
cycle of pages is held in memory at a time.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from archid.exports.errors import CycleNotFound, LayoutChanged, RowsMisaligned
from archid.exports.layout import Lines
from archid.exports.pdftext import PageText, PdfPages, TextRun, open_pdf

__all__ = ["MAX_CYCLE", "Row", "Table", "TableStats", "open_table"]

MAX_CYCLE = 64
"""The longest cycle looked for: a grid of 64 pages of columns is not an export."""

_SUMMARY = re.compile(r"(?:Sum|Count|Min|Max|Average|Avg)\s*=")
_SPACES = re.compile(r"\s+")
# Fractions of the font size (em) used to read the geometry.
_EDGE_TOLERANCE = 0.2  # rules closer than this are one rule (a border is two edges)
_MIN_BAND = 0.5  # a band between two rules thinner than this is not a row
_SAME_LINE = 0.3  # runs whose baselines differ by less are on one line
_ROW_GAP = 1.8  # wider gaps between baselines separate rows, failing a better guess
_WRAP_MAX = 1.3  # a cell's lines are closer than this, when nothing else tells
_SAME_GAP = 1.08  # gaps within this ratio of the line spacing are the line spacing


@dataclass(frozen=True, slots=True)
class Row:
    """One data row of the export, joined across the pages of its cycle."""

    cells: tuple[Lines, ...]
    """One cell per header of :attr:`Table.headers`, in order; ``()`` when empty."""
    page: int
    """1-based number of the first page of the row's cycle."""
    position: int
    """1-based position of the row under the header row of its pages."""


@dataclass(slots=True)
class TableStats:
    """What the reader saw so far."""

    pages: int = 0
    """Pages read."""
    cycle_length: int = 0
    cycles: int = 0
    rows: int = 0
    """Data rows yielded."""
    summary_rows: int = 0
    empty_rows: int = 0
    """Rows without any text on any page of their cycle: skipped."""
    unmapped_glyphs: int = 0
    """Glyphs the fonts could not turn into text (read as U+FFFD)."""
    text_only_cycles: int = 0
    """Cycles whose rows were found from text gaps, without rules."""


# -- one page ----------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    """A data run placed in a column."""

    column: int
    key: float  # the height that decides its row: a little above the baseline
    y: float
    x: float
    x1: float
    text: str


@dataclass(slots=True)
class _Page:
    """A page's header and data runs, before its rows are matched with its cycle's."""

    index: int
    headers: tuple[str, ...]
    em: float
    bands: list[tuple[float, float]] | None
    """Data row bands (top, bottom) from the rules, top to bottom; None: no usable rules."""
    items: list[_Item] = field(default_factory=list)
    line_gap: float | None = None
    """The distance between two lines of a wrapped header cell, if one wraps."""
    starts: tuple[float, ...] | None = None
    """Where each header cell's text starts, on a page read without rules around rows."""

    @property
    def squeezed(self) -> str:
        """The header row's text without any space: equal however its cells were cut."""
        return "".join("".join(header.split()) for header in self.headers)


def _clusters(values: list[float], tolerance: float) -> list[float]:
    """Sorted values with those closer than ``tolerance`` to their neighbour merged."""
    values = sorted(values)
    out: list[float] = []
    group: list[float] = []
    for value in values:
        if group and value - group[-1] > tolerance:
            out.append(sum(group) / len(group))
            group = []
        group.append(value)
    if group:
        out.append(sum(group) / len(group))
    return out


def _key(run: TextRun) -> float:
    return run.y + 0.3 * run.size


def _x_key(run: TextRun) -> float:
    return run.x0 + min(1.0, (run.x1 - run.x0) / 2)


def _clean(text: str) -> str:
    """``text`` stripped, inner whitespace collapsed to one space."""
    # Most runs are one clean line: skip the regex. isprintable() is False
    # for every whitespace character but the plain space.
    if text.isprintable() and "  " not in text:
        return text.strip()
    return _SPACES.sub(" ", text).strip()


_Piece = tuple[float, float, float, str]
"""A run in a cell: baseline, left, right, text."""


def _lines(pieces: Sequence[_Piece], em: float) -> Lines:
    """The lines of one cell from its runs, top to bottom.

    Lines are kept as printed: a word the producer broke between characters
    to fit a narrow cell stays broken (``"WN8XCW"``, ``"Z"``); geometry
    cannot tell it from a wrap between words (``"FATTURA"``, ``"PDF"``), so
    joining is left to the column's converter.
    """
    if not pieces:
        return ()
    if len(pieces) == 1:
        text = _clean(pieces[0][3])
        return (text,) if text else ()
    ordered = sorted(pieces, key=lambda piece: (-piece[0], piece[1]))
    lines: list[str] = []
    current: list[_Piece] = []
    for piece in ordered:
        if current and current[0][0] - piece[0] > _SAME_LINE * em:
            lines.append(_line(current))
            current = []
        current.append(piece)
    lines.append(_line(current))
    return tuple(line for line in lines if line)


def _line(pieces: list[_Piece]) -> str:
    pieces.sort(key=lambda piece: piece[1])
    return _clean(" ".join(piece[3] for piece in pieces))


def _cut(
    run: TextRun,
    columns: Sequence[tuple[float, float]],
    column_of: Callable[[float], int],
    tolerance: float,
) -> list[TextRun]:
    """``run``, or its parts if it crosses the end of the column it starts in.

    Pieces of text drawn close together are joined into one run by the
    text collector (a gap narrower than a space is no gap); where such a
    run goes past its column's end it held two cells' texts (a code that
    fills its cell next to the neighbour's), and is cut at the breaks
    between its pieces.
    """
    if not run.breaks:
        return [run]
    column = column_of(_x_key(run))
    if 0 <= column < len(columns) and run.x1 <= columns[column][1] + tolerance:
        return [run]
    return run.split(column_of)


def _row_clusters(ys: list[float], gap: float) -> list[tuple[float, float]]:
    """Baselines grouped into rows (a gap wider than ``gap`` between two ends one):
    (highest, lowest) of each, top to bottom."""
    out: list[tuple[float, float]] = []
    for y in sorted(ys, reverse=True):
        if out and out[-1][1] - y <= gap:
            out[-1] = (out[-1][0], y)
        else:
            out.append((y, y))
    return out


class _Layout:
    """Reads pages of one file (the name is for messages)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def page(self, page: PageText, starts: tuple[float, ...] | None = None) -> _Page:
        """``page`` laid out; ``starts``: where the header cells of the page at the same
        place in the cycle start, to cut a text-only page's header row alike."""
        runs = page.runs
        if not runs:
            raise LayoutChanged(
                f"{self.name}: page {page.number} has no text, so no header row: this is not "
                "a grid export (a scanned or image-only PDF?) or the export layout changed"
            )
        em = statistics.median(run.size for run in runs) or 1.0
        tolerance = max(0.75, _EDGE_TOLERANCE * em)
        laid = self._with_rules(page, em, tolerance)
        return laid if laid is not None else self._text_only(page, em, tolerance, starts)

    # -- pages with rules

    def _with_rules(self, page: PageText, em: float, tolerance: float) -> _Page | None:
        """The page read with its rules, or None if they do not hold all its text."""
        ys = _clusters(page.y_edges, tolerance)
        xs = _clusters(page.x_edges, tolerance)
        if len(ys) < 2 or len(xs) < 2:
            return None
        # bands top to bottom, as (top, bottom); thin ones are double rules
        bands = [
            (top, bottom)
            for bottom, top in zip(reversed(ys[:-1]), reversed(ys[1:]), strict=True)
            if top - bottom >= _MIN_BAND * em
        ]
        bottoms = [-bottom for _, bottom in bands]  # ascending for bisect
        # (band, run, _key(run), _x_key(run)): the keys computed once, and inline,
        # as these two loops run for every run of every page
        placed: list[tuple[int, TextRun, float, float]] = []
        band_of = functools.partial(bisect.bisect_left, bottoms)
        count = len(bands)
        left_edge, right_edge = xs[0], xs[-1]
        for run in page.runs:
            x0 = run.x0
            key = run.y + 0.3 * run.size
            band = band_of(-key)
            if band >= count or not bands[band][1] <= key < bands[band][0]:
                return None  # text outside the grid: the rules do not frame the table
            x_key = x0 + min(1.0, (run.x1 - x0) / 2)
            if not left_edge <= x_key < right_edge:
                return None
            placed.append((band, run, key, x_key))
        header_band = min(band for band, _, _, _ in placed)
        columns = [
            (left, right)
            for left, right in itertools.pairwise(xs)
            if right - left >= _MIN_BAND * em
        ]
        lefts = [left for left, _ in columns]
        header_runs: dict[int, list[_Piece]] = {}
        items: list[_Item] = []
        used: set[int] = set()

        def column_of(x: float) -> int:
            return bisect.bisect_right(lefts, x) - 1

        right_of = bisect.bisect_right
        for band, whole, whole_key, whole_x_key in placed:
            # most runs are one string, which _cut returns whole
            parts = _cut(whole, columns, column_of, tolerance) if whole.breaks else (whole,)
            for run in parts:
                if run is whole:
                    key, x_key = whole_key, whole_x_key
                else:
                    key, x_key = _key(run), _x_key(run)
                column = right_of(lefts, x_key) - 1
                if column < 0 or x_key >= columns[column][1]:
                    return None  # in the gap of a double rule
                used.add(column)
                if band == header_band:
                    header_runs.setdefault(column, []).append((run.y, run.x0, run.x1, run.text))
                else:
                    items.append(_Item(column, key, run.y, run.x0, run.x1, run.text))
        # Columns with no text at all on the page are gaps between rules, not
        # columns; a column with data but no header keeps an empty header.
        kept = [c for c in range(len(columns)) if c in used]
        renumber = {old: new for new, old in enumerate(kept)}
        for item in items:
            item.column = renumber[item.column]
        headers = tuple(" ".join(_lines(header_runs.get(c, []), em)) for c in kept)
        return _Page(page.index, headers, em, bands[header_band + 1 :], items)

    # -- pages without rules around every row

    def _text_only(
        self, page: PageText, em: float, tolerance: float, starts: tuple[float, ...] | None
    ) -> _Page:
        """The page read from its text, and from the header row's rules if it has some.

        The header row is the top band of the page's rules (a producer that
        draws only the header cells) or else the top cluster of baselines.
        Columns end at the header cells' vertical rules, or else halfway
        between two header cells' texts (header runs that overlap
        horizontally are one wrapped cell). Data runs are cut where they
        cross a column's end, and rows are found later from text gaps.
        """
        runs = page.runs
        band = self._header_band(page, em, tolerance)
        if band is None:
            header_low = _row_clusters([run.y for run in runs], _ROW_GAP * em)[0][1]
            header = [run for run in runs if run.y >= header_low]
        else:
            header = [run for run in runs if band[1] <= _key(run) < band[0]]
            header_low = min(run.y for run in header)
        data = [run for run in runs if run.y < header_low]
        header = self._split_headers(page, header, data, tolerance, starts)
        # header cells: header runs that overlap horizontally are one cell
        cells: list[list[TextRun]] = []
        for run in sorted(header, key=lambda r: r.x0):
            if cells and run.x0 < max(r.x1 for r in cells[-1]):
                cells[-1].append(run)
            else:
                cells.append([run])
        spans = [(min(r.x0 for r in cell), max(r.x1 for r in cell)) for cell in cells]
        cuts = self._header_rules(page, spans, tolerance)
        if cuts is None:
            # A column starts a little before its header's text (headers are
            # drawn from the cell's left edge, after the padding).
            cuts = [b[0] - min(0.25 * em, (b[0] - a[1]) / 2) for a, b in itertools.pairwise(spans)]
        headers = tuple(
            " ".join(_lines([(r.y, r.x0, r.x1, r.text) for r in cell], em)) for cell in cells
        )
        line_gap = min(
            (
                a - b
                for cell in cells
                for a, b in itertools.pairwise(sorted({r.y for r in cell}, reverse=True))
                if a - b > _SAME_LINE * em
            ),
            default=None,
        )
        bounds = list(itertools.pairwise([-math.inf, *cuts, math.inf]))

        def column_of(x: float) -> int:
            return bisect.bisect_right(cuts, x)

        items = [
            _Item(column_of(_x_key(run)), _key(run), run.y, run.x0, run.x1, run.text)
            for whole in data
            for run in _cut(whole, bounds, column_of, tolerance)
        ]
        starts = tuple(left for left, _ in spans)
        return _Page(page.index, headers, em, None, items, line_gap, starts)

    @staticmethod
    def _split_headers(
        page: PageText,
        header: list[TextRun],
        data: list[TextRun],
        tolerance: float,
        known: tuple[float, ...] | None,
    ) -> list[TextRun]:
        """The header runs, cut where two header cells drawn close together were joined.

        A header run is cut at a vertical rule it crosses (a producer that
        draws the header cells) or else at a gap between its pieces where
        the data of many lines start too: left-aligned cells start at their
        column's left edge, and a word inside a header does not line up with
        the starts of the data under it. Where the cycle's first pages said
        where the header cells start (``known``), the run is cut there
        instead, so that every cycle's pages read alike whatever their data.
        """
        if not any(run.breaks for run in header):
            return header
        rules = _clusters(page.x_edges, tolerance)
        if rules:

            def rule_of(x: float) -> int:
                return bisect.bisect_right(rules, x)

            return [part for run in header for part in run.split(rule_of)]
        # where data runs start, to a quarter point; a column's start recurs on
        # most of its lines, a word's on few
        starts: dict[int, int] = {}
        for run in data:
            for x in (run.x0, *(left for _, left, right in run.breaks if left - right > 0.5)):
                key = round(4 * x)
                starts[key] = starts.get(key, 0) + 1
        needed = max(2.0, 0.3 * len({round(run.y) for run in data}))

        def lined_up(left: float, right: float) -> bool:
            if known is not None:
                return any(abs(left - start) <= 0.5 for start in known)
            key = round(4 * left)
            found = starts.get(key - 1, 0) + starts.get(key, 0) + starts.get(key + 1, 0)
            return left - right > 0.5 and found >= needed

        out: list[TextRun] = []
        for run in header:
            cuts = [left for _, left, right in run.breaks if lined_up(left, right)]
            if cuts:
                out.extend(run.split(functools.partial(bisect.bisect_right, cuts)))
            else:
                out.append(run)
        return out

    @staticmethod
    def _header_band(page: PageText, em: float, tolerance: float) -> tuple[float, float] | None:
        """(top, bottom) of the top band of the page's horizontal rules, if text is in it."""
        ys = _clusters(page.y_edges, tolerance)
        for bottom, top in zip(reversed(ys[:-1]), reversed(ys[1:]), strict=True):
            if top - bottom < _MIN_BAND * em:
                continue
            if any(bottom <= _key(run) < top for run in page.runs):
                return top, bottom
            return None
        return None

    @staticmethod
    def _header_rules(
        page: PageText, spans: list[tuple[float, float]], tolerance: float
    ) -> list[float] | None:
        """The column ends from vertical rules between the header cells, if every pair
        of neighbouring header cells has one between them."""
        xs = _clusters(page.x_edges, tolerance)
        if not xs:
            return None
        cuts = []
        for (_, right), (left, _) in itertools.pairwise(spans):
            between = [x for x in xs if right - tolerance <= x <= left + tolerance]
            if not between:
                return None
            cuts.append(sum(between) / len(between))
        return cuts


# -- a cycle of pages --------------------------------------------------------------


def _same_bands(a: list[tuple[float, float]], b: list[tuple[float, float]], tol: float) -> bool:
    return len(a) == len(b) and all(
        abs(t1 - t2) <= tol and abs(b1 - b2) <= tol for (t1, b1), (t2, b2) in zip(a, b, strict=True)
    )


class _Cycle:
    """Joins the pages of one cycle into rows of cells."""

    def __init__(self, name: str, pages: list[_Page], widths: Sequence[int]) -> None:
        self.name = name
        self.pages = pages
        self.widths = widths  # columns per page of the cycle

    def rows(self) -> tuple[list[list[Lines]], bool]:
        """Each row's cells (all pages' columns in order); and whether text gaps made the rows."""
        pages = self.pages
        em = max(page.em for page in pages)
        if all(page.bands is not None for page in pages):
            return self._by_bands(em), False
        return self._by_gaps(em), True

    def _by_bands(self, em: float) -> list[list[Lines]]:
        first = self.pages[0]
        bands = first.bands or []
        tolerance = max(1.0, _EDGE_TOLERANCE * em)
        for page in self.pages[1:]:
            other = page.bands or []
            if not _same_bands(bands, other, tolerance):
                raise RowsMisaligned(
                    f"{self.name}: page {page.index + 1} has {len(other)} rows under its header "
                    f"and page {first.index + 1} of the same cycle {len(bands)}, or not in the "
                    "same places: the rows cannot be joined across the cycle; export again, "
                    "and if it persists the export layout changed"
                )
        bottoms = [-bottom for _, bottom in bands]
        return self._assemble(len(bands), lambda item: bisect.bisect_left(bottoms, -item.key))

    def _row_gap(self, em: float) -> float:
        """How far apart two baselines must be to be in two rows, from the cycle's text.

        Cells are vertically centred, so the baselines of one row are at most
        the line spacing apart (the tallest cell's lines, the others' between
        them), and the extreme lines of two neighbouring rows are a one-line
        row's height apart, whatever the rows hold: the threshold lies
        halfway between the line spacing and the commonest gap above it.
        The line spacing is that of a wrapped header, or else the smallest
        gap between two lines of a column if it is smaller than a one-line
        row can be (1.3 em); if nothing wraps, each row is one baseline.
        """
        column_gaps: list[float] = []
        for page in self.pages:
            columns: dict[int, set[float]] = {}
            for item in page.items:
                columns.setdefault(item.column, set()).add(item.y)
            for ys in columns.values():
                ordered = sorted(ys, reverse=True)
                column_gaps.extend(
                    a - b for a, b in itertools.pairwise(ordered) if a - b > _SAME_LINE * em
                )
        if not column_gaps:
            return _ROW_GAP * em
        smallest = min(column_gaps)
        line = min((p.line_gap for p in self.pages if p.line_gap is not None), default=None)
        if line is None and smallest < _WRAP_MAX * em:
            line = smallest
        if line is None:
            return smallest / 2  # nothing wraps: a row is one baseline
        baselines = sorted(
            {round(item.y, 2) for page in self.pages for item in page.items}, reverse=True
        )
        between = [a - b for a, b in itertools.pairwise(baselines) if a - b > line * _SAME_GAP]
        if not between:
            return _ROW_GAP * em
        return (line + statistics.median(between)) / 2

    def _by_gaps(self, em: float) -> list[list[Lines]]:
        gap = self._row_gap(em)
        every = _row_clusters([item.y for page in self.pages for item in page.items], gap)
        lows = [-low for _, low in every]
        for page in self.pages:
            seen: set[int] = set()
            for high, low in _row_clusters([item.y for item in page.items], gap):
                row = bisect.bisect_left(lows, -low)
                if row in seen or not every[row][1] <= high <= every[row][0]:
                    raise RowsMisaligned(
                        f"{self.name}: on page {page.index + 1} the rows are not where the other "
                        "pages of its cycle have theirs: the rows cannot be joined across the "
                        "cycle; export again, and if it persists the export layout changed"
                    )
                seen.add(row)
        return self._assemble(len(every), lambda item: bisect.bisect_left(lows, -item.y))

    def _assemble(self, count: int, row_of: Callable[[_Item], int]) -> list[list[Lines]]:
        offsets = [0]
        for width in self.widths:
            offsets.append(offsets[-1] + width)
        grid: list[list[list[_Piece]]] = [[[] for _ in range(offsets[-1])] for _ in range(count)]
        for page_number, page in enumerate(self.pages):
            offset = offsets[page_number]
            for item in page.items:
                row = row_of(item)
                if row >= count:
                    row = count - 1  # below the last rule; cannot happen with rules
                grid[row][offset + item.column].append((item.y, item.x, item.x1, item.text))
        em = max(page.em for page in self.pages)
        rows = [[_lines(cell, em) if cell else () for cell in row] for row in grid]
        while rows and not any(rows[-1]):
            rows.pop()  # bands below the last row (a background, the page's rules)
        return rows


# -- the table ---------------------------------------------------------------------


class Table:
    """An export's grid, opened by :func:`open_table`; iterate :meth:`rows` once.

    Attributes set on opening: :attr:`pages_headers`, :attr:`headers`,
    :attr:`cycle_length`, :attr:`page_count`. :attr:`summary` and
    :attr:`stats` fill as rows are read.
    """

    def __init__(
        self,
        pdf: PdfPages,
        pages: range,
        cycle: Sequence[tuple[str, ...]] | None,
        starts: Sequence[tuple[float, ...] | None] | None = None,
    ) -> None:
        self.name = pdf.name
        self._pdf = pdf
        self._layout = _Layout(pdf.name)
        self._range = pages
        self._source = pdf.pages(pages.start, pages.stop)
        self.page_count = pdf.page_count
        """Pages in the file."""
        self.stats = TableStats()
        self.summary: dict[str, str] = {}
        """Summary cells by header: ``{"ID": "Count=999", "IMPORTO TOTALE": "Sum=785.057,97"}``."""
        self._first: list[_Page] = []
        self._raw: PageText | None = None  # the page last read, to lay it out again
        if cycle is None:
            self.pages_headers = self._detect()
            self.header_starts = tuple(p.starts for p in self._first[: len(self.pages_headers)])
        else:
            self.pages_headers = tuple(tuple(h) for h in cycle)
            self.header_starts = tuple(starts) if starts is not None else (None,) * len(cycle)
        """Where the header cells of each page of the cycle start (text-only pages)."""
        self.cycle_length = len(self.pages_headers)
        self.stats.cycle_length = self.cycle_length
        self.headers: tuple[str, ...] = tuple(h for page in self.pages_headers for h in page)
        """Every header of the cycle, page by page, left to right."""
        self.header_pages: tuple[int, ...] = tuple(
            index for index, page in enumerate(self.pages_headers) for _ in page
        )
        """For each header, the 0-based position in the cycle of the page that shows it."""
        if len(pages) % self.cycle_length:
            whole = len(pages) - len(pages) % self.cycle_length
            raise CycleNotFound(
                f"{self.name} has {len(pages):,} pages, not a whole number of "
                f"{self.cycle_length}-page cycles: pages {pages.start + whole + 1:,} to "
                f"{pages.stop:,} are an incomplete cycle; the file is damaged or the layout "
                "changed; export again"
            )

    @property
    def pdf(self) -> PdfPages:
        """The open file the table reads."""
        return self._pdf

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file if the table opened it."""
        self._pdf.close()

    def _read(self, starts: tuple[float, ...] | None = None) -> _Page | None:
        page = next(self._source, None)
        if page is None:
            return None
        self._raw = page
        self.stats.pages += 1
        self.stats.unmapped_glyphs += page.unmapped
        return self._layout.page(page, starts)

    def _same_header_row(self, page: _Page, first: _Page) -> _Page | None:
        """``page`` if its header row is ``first``'s, laid out again like ``first`` if its
        cells were cut otherwise (text-only pages); else None."""
        if page.headers == first.headers:
            return page
        if page.starts is None or first.starts is None or page.squeezed != first.squeezed:
            return None
        assert self._raw is not None
        again = self._layout.page(self._raw, first.starts)
        return again if again.headers == first.headers else None

    def _detect(self) -> tuple[tuple[str, ...], ...]:
        """Read pages until one repeats page 1's header row; the cycle's header rows.

        The pages read stay in ``self._first`` for :meth:`rows`.
        """
        first = self._read()
        if first is None:
            raise CycleNotFound(f"{self.name}: no pages to read")
        self._first.append(first)
        while True:
            page = self._read()
            if page is None:
                return tuple(p.headers for p in self._first)  # the file is one cycle
            repeat = self._same_header_row(page, first)
            if repeat is not None:
                self._first.append(repeat)  # the second cycle's first page
                return tuple(p.headers for p in self._first[:-1])
            if len(self._first) >= MAX_CYCLE:
                raise CycleNotFound(
                    f"{self.name}: none of pages 2 to {MAX_CYCLE + 1} repeats the header row "
                    f"of page 1 ({' · '.join(first.headers)}): the pages do not form cycles; "
                    "the export layout changed"
                )
            self._first.append(page)

    def sample_texts(self) -> list[str]:
        """The data runs' texts of the pages read to find the cycle (before :meth:`rows`)."""
        return [item.text for page in self._first for item in page.items]

    def rows(self) -> Iterator[Row]:
        """Every data row, in file order; raises as soon as a page breaks the cycle."""
        length = self.cycle_length
        widths = [len(headers) for headers in self.pages_headers]
        pending = self._first
        self._first = []
        while True:
            while len(pending) < length:
                page = self._read(self.header_starts[len(pending)])
                if page is None:
                    break
                pending.append(page)
            if not pending:
                return
            cycle, pending = pending[:length], pending[length:]
            for position, page in enumerate(cycle):
                expected = self.pages_headers[position]
                if page.headers != expected:
                    raise CycleNotFound(
                        f"{self.name}: page {page.index + 1} shows the headers "
                        f"{' · '.join(page.headers) or '(none)'} where page {position + 1} of "
                        f"the {length}-page cycle shows {' · '.join(expected)}: pages are out "
                        "of order or the layout changed; export again"
                    )
            rows, by_gaps = _Cycle(self.name, cycle, widths).rows()
            self.stats.cycles += 1
            self.stats.text_only_cycles += by_gaps
            first_page = cycle[0].index + 1
            for number, cells in enumerate(rows, start=1):
                if not any(cells):
                    self.stats.empty_rows += 1
                elif self._is_summary(cells):
                    self.stats.summary_rows += 1
                    for header, cell in zip(self.headers, cells, strict=True):
                        if cell:
                            text = " ".join(cell)
                            old = self.summary.get(header)
                            self.summary[header] = text if old is None else f"{old}; {text}"
                else:
                    self.stats.rows += 1
                    yield Row(tuple(cells), first_page, number)

    @staticmethod
    def _is_summary(cells: list[Lines]) -> bool:
        """Every non-empty cell is a DevExpress summary (``Sum=…``, ``Count=…``)."""
        return all(_SUMMARY.match(cell[0]) for cell in cells if cell)


def open_table(
    source: Path | BinaryIO,
    *,
    pages: range | None = None,
    cycle: Sequence[tuple[str, ...]] | None = None,
    starts: Sequence[tuple[float, ...] | None] | None = None,
) -> Table:
    """Open an export and find its header rows and cycle.

    ``pages`` (0-based, default all) limits the table to a range of pages
    starting on a cycle boundary, for a parse split between processes;
    ``cycle`` then gives the header rows found by the first process, and
    every page is checked against them instead of detecting the cycle again,
    and ``starts`` gives its :attr:`Table.header_starts`.

    Raises, before any row is read: :class:`NotAPdf`, :class:`EncryptedPdf`,
    :class:`TruncatedPdf`, :class:`EmptyPdf` (:func:`~archid.exports.pdftext.open_pdf`),
    :class:`LayoutChanged` (a page without text, a rotated page) and
    :class:`CycleNotFound`. :meth:`Table.rows` raises :class:`CycleNotFound`
    and :class:`RowsMisaligned` when a later page breaks the structure, and
    :class:`TruncatedPdf` when a page cannot be read.
    """
    pdf = open_pdf(source)
    try:
        wanted = range(pdf.page_count) if pages is None else pages
        return Table(pdf, range(wanted.start, min(wanted.stop, pdf.page_count)), cycle, starts)
    except BaseException:
        pdf.close()
        raise
