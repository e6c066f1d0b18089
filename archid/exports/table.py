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
  else from the header cells' text (each column ends halfway between two
  header cells);
* **rows**: from the grid's horizontal rules where the page has them, else
  from vertical gaps in the text (a gap wider than 1.8 em between two
  baselines ends a row). Text is assigned to rows by cell, not by
  baseline, so the lines of a wrapped, vertically centred cell stay in
  their row. The pages of a cycle must have their rows in the same places
  (:class:`RowsMisaligned` otherwise), and rows are joined across the
  cycle by position.

:meth:`Table.rows` yields one :class:`Row` per data row; summary rows
(``Sum=…``, ``Count=…`` cells) are collected in :attr:`Table.summary`
instead, and rows with no text at all are counted and skipped. Only one
cycle of pages is held in memory at a time.
"""

from __future__ import annotations

import bisect
import itertools
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
_ROW_GAP = 1.8  # wider gaps between baselines separate rows (text-only pages)


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


def _row_clusters(ys: list[float], em: float) -> list[tuple[float, float]]:
    """Baselines grouped into rows: (highest, lowest) of each, top to bottom."""
    out: list[tuple[float, float]] = []
    for y in sorted(ys, reverse=True):
        if out and out[-1][1] - y <= _ROW_GAP * em:
            out[-1] = (out[-1][0], y)
        else:
            out.append((y, y))
    return out


class _Layout:
    """Reads pages of one file (the name is for messages)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def page(self, page: PageText) -> _Page:
        runs = page.runs
        if not runs:
            raise LayoutChanged(
                f"{self.name}: page {page.number} has no text, so no header row: this is not "
                "a grid export (a scanned or image-only PDF?) or the export layout changed"
            )
        em = statistics.median(run.size for run in runs) or 1.0
        tolerance = max(0.75, _EDGE_TOLERANCE * em)
        laid = self._with_rules(page, em, tolerance)
        return laid if laid is not None else self._text_only(page, em)

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
        placed: list[tuple[int, TextRun]] = []
        for run in page.runs:
            key = _key(run)
            band = bisect.bisect_left(bottoms, -key)
            if band >= len(bands) or not bands[band][1] <= key < bands[band][0]:
                return None  # text outside the grid: the rules do not frame the table
            if not xs[0] <= _x_key(run) < xs[-1]:
                return None
            placed.append((band, run))
        header_band = min(band for band, _ in placed)
        columns = [
            (left, right)
            for left, right in itertools.pairwise(xs)
            if right - left >= _MIN_BAND * em
        ]
        lefts = [left for left, _ in columns]
        header_runs: dict[int, list[_Piece]] = {}
        items: list[_Item] = []
        used: set[int] = set()
        for band, run in placed:
            column = bisect.bisect_right(lefts, _x_key(run)) - 1
            if column < 0 or _x_key(run) >= columns[column][1]:
                return None  # in the gap of a double rule
            used.add(column)
            if band == header_band:
                header_runs.setdefault(column, []).append((run.y, run.x0, run.x1, run.text))
            else:
                items.append(_Item(column, _key(run), run.y, run.x0, run.x1, run.text))
        # Columns with no text at all on the page are gaps between rules, not
        # columns; a column with data but no header keeps an empty header.
        kept = [c for c in range(len(columns)) if c in used]
        renumber = {old: new for new, old in enumerate(kept)}
        for item in items:
            item.column = renumber[item.column]
        headers = tuple(" ".join(_lines(header_runs.get(c, []), em)) for c in kept)
        return _Page(page.index, headers, em, bands[header_band + 1 :], items)

    # -- pages without rules

    def _text_only(self, page: PageText, em: float) -> _Page:
        rows = _row_clusters([run.y for run in page.runs], em)
        header_low = rows[0][1]
        header = [run for run in page.runs if run.y >= header_low]
        data = [run for run in page.runs if run.y < header_low]
        # header cells: header runs that overlap horizontally are one cell
        cells: list[list[TextRun]] = []
        for run in sorted(header, key=lambda r: r.x0):
            if cells and run.x0 < max(r.x1 for r in cells[-1]):
                cells[-1].append(run)
            else:
                cells.append([run])
        spans = [(min(r.x0 for r in cell), max(r.x1 for r in cell)) for cell in cells]
        cuts = [(a[1] + b[0]) / 2 for a, b in itertools.pairwise(spans)]
        headers = tuple(
            " ".join(_lines([(r.y, r.x0, r.x1, r.text) for r in cell], em)) for cell in cells
        )
        items = [
            _Item(
                bisect.bisect_right(cuts, _x_key(run)), _key(run), run.y, run.x0, run.x1, run.text
            )
            for run in data
        ]
        return _Page(page.index, headers, em, None, items)


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

    def _by_gaps(self, em: float) -> list[list[Lines]]:
        every = _row_clusters([item.y for page in self.pages for item in page.items], em)
        lows = [-low for _, low in every]
        for page in self.pages:
            seen: set[int] = set()
            for high, low in _row_clusters([item.y for item in page.items], em):
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
        rows = [[_lines(cell, em) for cell in row] for row in grid]
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
        if cycle is None:
            self.pages_headers = self._detect()
        else:
            self.pages_headers = tuple(tuple(h) for h in cycle)
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

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file if the table opened it."""
        self._pdf.close()

    def _read(self) -> _Page | None:
        page = next(self._source, None)
        if page is None:
            return None
        self.stats.pages += 1
        self.stats.unmapped_glyphs += page.unmapped
        return self._layout.page(page)

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
            if page.headers == first.headers:
                self._first.append(page)  # the second cycle's first page
                return tuple(p.headers for p in self._first[:-1])
            if len(self._first) >= MAX_CYCLE:
                raise CycleNotFound(
                    f"{self.name}: none of pages 2 to {MAX_CYCLE + 1} repeats the header row "
                    f"of page 1 ({' · '.join(first.headers)}): the pages do not form cycles; "
                    "the export layout changed"
                )
            self._first.append(page)

    def rows(self) -> Iterator[Row]:
        """Every data row, in file order; raises as soon as a page breaks the cycle."""
        length = self.cycle_length
        widths = [len(headers) for headers in self.pages_headers]
        pending = self._first
        self._first = []
        while True:
            while len(pending) < length:
                page = self._read()
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
) -> Table:
    """Open an export and find its header rows and cycle.

    ``pages`` (0-based, default all) limits the table to a range of pages
    starting on a cycle boundary, for a parse split between processes;
    ``cycle`` then gives the header rows found by the first process, and
    every page is checked against them instead of detecting the cycle again.

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
        return Table(pdf, range(wanted.start, min(wanted.stop, pdf.page_count)), cycle)
    except BaseException:
        pdf.close()
        raise
