"""An export file read against an :class:`~archid.exports.layout.ExportSpec`: records.

:func:`parse_export` joins the type-agnostic table reader
(:mod:`archid.exports.table`) with one export type's spec:

* **headers**: the file's header cells are matched to the spec's columns
  as whole cells, after normalising case, spacing, a trailing colon and
  the apostrophe's shape (``’`` is ``'``); failing that, with all spaces
  ignored (a narrow column may wrap a header inside a word). Never by
  substring: ``ID`` is not ``ID DI VENDITA``. A header printed twice (the
  DDT's two NOME DI CONSEGNA) matches the spec's columns of that header in
  order. A column is found wherever the cycle puts it: the grouping of
  columns into pages changes between layouts.
* **unknown columns** (anywhere, a whole page of them too) are ignored,
  each named once in :attr:`ParseStats.warnings`;
* **missing columns**: a required one fails the export with
  :class:`MissingHeader` naming it; an optional one (a column a session
  may hide) puts its field into every record's ``unread``. Before that,
  :class:`WrongLocale` is raised for an English export and
  :class:`WrongExportType` for another type's;
* **cells**: every non-empty cell goes through its column's ``convert``.
  In a strict column (the key, and what decides whether a row is a
  record) a ``ValueError`` fails the export with :class:`BadValue` naming
  page, row, header and text. In any other column it costs only that
  field: the record is yielded with the field ``None`` and in its
  ``unread``, and a :class:`~archid.exports.layout.BadCell` goes into the
  stats; a column with bad cells is named once in the warnings, as a
  probable format change when most of its cells are bad;
* ``spec.finish`` makes the record or a :class:`Drop`, counted by reason.

With ``workers`` > 1 a file of :data:`PARALLEL_MIN_PAGES` pages or more
is split on cycle boundaries into chunks parsed by this process and
``workers - 1`` helper processes; records still come in file order and
memory stays bounded (a few chunks in flight). The helpers are started
afresh (``python -c``, not forked: the caller may run threads) and import
archid's parser only, not the caller's main module: a script that asks
for workers needs no ``if __name__ == "__main__"`` guard, and a helper
starts in a seventh of a second. A helper that dies costs nothing but
time: its chunks are parsed by this process.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from archid.exports.errors import (
    BadValue,
    MissingHeader,
    WrongExportType,
    WrongLocale,
)
from archid.exports.layout import BAD_CELLS_KEPT, BadCell, Column, Drop, ExportSpec, ParseStats
from archid.exports.pdftext import PdfPages, open_pdf
from archid.exports.table import Row, Table, TableStats, open_table
from archid.records import ExportType, Record

__all__ = ["PARALLEL_MIN_PAGES", "match_headers", "normalise_header", "parse_export"]

PARALLEL_MIN_PAGES = 200
"""Files shorter than this are parsed in one process whatever ``workers`` says: a
helper process takes about 0.15 s to start, about what the simulator's 35-page
invoices export takes to parse, and pays off from 200 to 300 pages."""
_CHUNK_PAGES = 64
"""Pages per chunk of a parallel parse (rounded to whole cycles): small, so that
the processes finish together and the first records come early."""
_CHUNKS_PER_WORKER = 8
"""At least this many chunks per process where chunks of :data:`_CHUNK_PAGES` would be fewer."""
_LOCAL_AHEAD_PAGES = 320
"""Pages (in whole chunks, two at least) the parsing process may hold parsed while
an earlier chunk is not done: enough to keep it busy while a helper starts."""

#: A column whose bad cells are more than this share of its non-empty cells,
#: and at least :data:`_FORMAT_CHANGE_MIN` of them, has probably changed format.
_FORMAT_CHANGE_SHARE = 0.5
_FORMAT_CHANGE_MIN = 3


# -- headers -----------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})


def normalise_header(header: str) -> str:
    """``header`` as compared: case folded, spaces collapsed, apostrophes straight,
    without a trailing colon (``ALL’ATTENZIONE DI:`` is ``all'attenzione di``)."""
    return " ".join(header.translate(_APOSTROPHES).split()).rstrip(":").rstrip().casefold()


def _squeezed(header: str) -> str:
    """``header`` without any space: a header wrapped inside a word ("…IMBALLAGGI O")."""
    return "".join(normalise_header(header).split())


@dataclass(slots=True)
class HeaderMatch:
    """How a file's headers map onto a spec's columns."""

    columns: list[int | None]
    """For each header of the file's cycle: the index of its column in the spec."""
    missing: list[Column] = field(default_factory=list)
    """Required columns of the spec not in the file."""
    absent: list[Column] = field(default_factory=list)
    """Optional columns of the spec not in the file."""
    unknown: list[tuple[int, str]] = field(default_factory=list)
    """(page position in the cycle, header) of the headers archid does not know."""

    @property
    def matched(self) -> int:
        return sum(column is not None for column in self.columns)

    @property
    def fits(self) -> bool:
        """Every required column was found."""
        return not self.missing


def match_headers(spec: ExportSpec, pages_headers: Sequence[Sequence[str]]) -> HeaderMatch:
    """Match the header rows of a cycle's pages with ``spec``'s columns (see the module doc)."""
    wanted: dict[str, list[int]] = {}
    squeezed: dict[str, list[int]] = {}
    for index, column in enumerate(spec.columns):
        wanted.setdefault(normalise_header(column.header), []).append(index)
        squeezed.setdefault(_squeezed(column.header), []).append(index)
    used: set[int] = set()
    match = HeaderMatch([])
    for position, headers in enumerate(pages_headers):
        for header in headers:
            # As printed first; then with spaces ignored, for a header that a
            # narrow column broke inside a word (no two headers differ by spaces).
            found = next(
                (i for i in wanted.get(normalise_header(header), []) if i not in used), None
            )
            if found is None:
                candidates = squeezed.get(_squeezed(header), [])
                found = next((i for i in candidates if i not in used), None)
            if found is None:
                match.unknown.append((position, header))
            else:
                used.add(found)
            match.columns.append(found)
    for index, column in enumerate(spec.columns):
        if index not in used:
            (match.absent if column.optional else match.missing).append(column)
    return match


# -- is it this export at all? ---------------------------------------------------------

# Words of the portal's English captions that no Italian caption uses.
_ENGLISH_WORDS = frozenset(
    {
        "NAME", "DATE", "CUSTOMER", "CUSTOMERS", "ORDER", "ORDERS", "AMOUNT", "INVOICE",
        "QUANTITY", "STATUS", "DELIVERY", "SALES", "NUMBER", "CURRENCY", "CREATED", "MODIFIED",
        "ADDRESS", "CITY", "PHONE", "PAYMENT", "DUE", "CLOSED", "PACKING", "SLIP", "REFERENCE",
        "TRACKING", "MODE", "TERMS", "GROUP", "UNIT", "PRODUCT", "FROM", "VAT", "STREET",
        "DISCOUNT", "GROSS", "NET", "BALANCE", "REMAINING", "SETTLED", "LAST", "COUNT", "YEAR",
    }
)  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+")
# Values only an English browser writes (spec section 1): a 12-hour clock,
# a month-first date whose second field is a day above 12, dollar prices.
_ENGLISH_VALUE = re.compile(
    r"\b\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}(?::\d{2})? ?[AP]M\b"
    r"|\b\d{1,2}/(?:1[3-9]|2\d|3[01])/\d{4}\b"
    r"|\$ ?\d"
)


def _english(spec: ExportSpec, table: Table, match: HeaderMatch) -> str | None:
    """Why ``table`` looks like an English export, or None."""
    from archid.exports import SPECS  # lazily: that package imports this module's users

    if not match.fits:
        name = Path(table.name).name.casefold()
        for other in SPECS.values():
            if any(name == english.casefold() for english in other.english_file_names):
                return f"its file name {Path(table.name).name!r} is the English locale's"
        headers = [header for _, header in match.unknown]
        english = [h for h in headers if _ENGLISH_WORDS.intersection(_WORD.findall(h.upper()))]
        if len(english) >= 3 and 2 * len(english) >= len(headers):
            return f"its headers are English ({', '.join(repr(h) for h in english[:4])}, …)"
    for text in table.sample_texts():
        found = _ENGLISH_VALUE.search(text)
        if found is not None:
            return f"it writes values in English formats ({text!r})"
    return None


def _check_locale(spec: ExportSpec, table: Table, match: HeaderMatch) -> None:
    why = _english(spec, table, match)
    if why is not None:
        raise WrongLocale(
            f"{table.name} is not an Italian {spec.type.value} export: {why}. The portal "
            "writes English headers, month-first dates and other number formats for a browser "
            "not set to Italian; run the browser with --lang=it-IT and Accept-Language: it-IT "
            "and export again"
        )


def _check_type(spec: ExportSpec, match: HeaderMatch, table: Table) -> None:
    """Raise :class:`WrongExportType` if another type's spec reads the file better."""
    from archid.exports import SPECS

    best: tuple[bool, int, ExportSpec] | None = None
    for other in SPECS.values():
        if other.type == spec.type:
            continue
        theirs = match_headers(other, table.pages_headers)
        score = (theirs.fits, theirs.matched, other)
        if best is None or score[:2] > best[:2]:
            best = score
    if best is None:
        return
    fits, matched, other = best
    if fits or matched > match.matched:
        names = " or ".join(other.file_names) or other.type.value
        how = "all of its" if fits else f"{matched} of its {len(table.headers)}"
        raise WrongExportType(
            f"{table.name} is not the {spec.type.value} export: {how} headers are those of the "
            f"{other.type.value} export ({names}); the wrong file was given, or the "
            f"portal exported another list view; parse it as {other.type.value}, or export "
            f"the {spec.type.value} list view again"
        )


def _check_headers(spec: ExportSpec, table: Table) -> HeaderMatch:
    match = match_headers(spec, table.pages_headers)
    _check_locale(spec, table, match)
    if match.fits:
        return match
    _check_type(spec, match, table)
    cycle = f"{table.cycle_length}-page cycle"
    missing = ", ".join(repr(column.header) for column in match.missing)
    found = " | ".join(" · ".join(page) for page in table.pages_headers)
    raise MissingHeader(
        f"{table.name}: the {spec.type.value} export lacks the column(s) {missing}; its "
        f"{cycle} shows: {found}. The portal's list view did not show every column (a fresh "
        "session hides some: the column chooser shows them) or the layout changed; show all "
        "columns and export again"
    )


def _header_warnings(spec: ExportSpec, table: Table, match: HeaderMatch) -> list[str]:
    out = []
    cycle = table.cycle_length
    for position, header in match.unknown:
        out.append(
            f"column {header!r} (page {position + 1} of the {cycle}-page cycle) is not one "
            "archid knows: ignored"
        )
    for column in match.absent:
        if column.field is not None:
            out.append(
                f"column {column.header!r} is not in this export (a session may hide it, a "
                f"layout may lack it): {column.field} is unread in every record, the stored "
                "values are kept"
            )
    return out


# -- records -----------------------------------------------------------------------


@dataclass(slots=True)
class _Tally:
    """Cells read and cells that could not be, per header of the file's cycle."""

    filled: list[int]
    """Non-empty cells seen, per header."""
    bad: list[int]
    """Bad cells, per header."""
    examples: dict[int, str] = field(default_factory=dict)
    """The first bad text of each header that had one."""
    cells: list[BadCell] = field(default_factory=list)
    """The first :data:`BAD_CELLS_KEPT` bad cells, in file order."""

    @staticmethod
    def empty(headers: int) -> _Tally:
        return _Tally([0] * headers, [0] * headers)

    def add(self, other: _Tally) -> None:
        """Fold ``other``, the tally of later rows, into this one."""
        for index, (filled, bad) in enumerate(zip(other.filled, other.bad, strict=True)):
            self.filled[index] += filled
            self.bad[index] += bad
        for index, text in other.examples.items():
            self.examples.setdefault(index, text)
        self.cells.extend(other.cells[: BAD_CELLS_KEPT - len(self.cells)])


@dataclass(slots=True)
class _Converter:
    """Turns the table's rows into records for one spec and header match."""

    spec: ExportSpec
    columns: Sequence[int | None]
    absent: frozenset[str]
    headers: Sequence[str]
    header_pages: Sequence[int]
    name: str
    dropped: dict[str, int] = field(default_factory=dict)
    records: int = 0
    tally: _Tally = field(init=False)

    def __post_init__(self) -> None:
        self.tally = _Tally.empty(len(self.headers))

    def run(self, rows: Iterator[Row]) -> Iterator[Record]:
        spec = self.spec
        plan = [
            (cell, column.field, column.convert, column.strict)
            for cell, index in enumerate(self.columns)
            if index is not None
            for column in (spec.columns[index],)
            if column.field is not None
        ]
        absent = self.absent
        base: dict[str, Any] = {c.field: None for c in spec.columns if c.field is not None}
        base["unread"] = absent
        filled = self.tally.filled
        finish = spec.finish
        for row in rows:
            values = base.copy()
            cells = row.cells
            bad: set[str] | None = None
            for cell, name, convert, strict in plan:
                lines = cells[cell]
                if not lines:
                    continue  # an empty cell is None whatever its column
                filled[cell] += 1
                try:
                    values[name] = convert(lines)
                except ValueError as exc:
                    if strict:
                        raise self._bad_value(row, cell, exc) from exc
                    self._bad_cell(row, cell, name, exc)
                    if bad is None:
                        bad = set()
                    bad.add(name)
            if bad is not None:
                values["unread"] = absent | bad
            try:
                result = finish(values)
            except ValueError as exc:
                raise BadValue(
                    f"{self.name}: row {row.position} of the cycle starting on page "
                    f"{row.page} cannot be a {spec.type.value} record: {exc}"
                ) from exc
            if isinstance(result, Drop):
                self.dropped[result.reason] = self.dropped.get(result.reason, 0) + 1
            else:
                self.records += 1
                yield result

    def _bad_value(self, row: Row, cell: int, exc: ValueError) -> BadValue:
        text = " / ".join(row.cells[cell])
        return BadValue(
            f"{self.name}: page {row.page + self.header_pages[cell]}, row {row.position}, "
            f"column {self.headers[cell]!r}: {text!r} is not a valid value ({exc}); this "
            "column identifies the record, so the export cannot be applied: the portal's "
            "format for this column changed, or the file is damaged"
        )

    def _bad_cell(self, row: Row, cell: int, name: str, exc: ValueError) -> None:
        tally = self.tally
        text = " / ".join(row.cells[cell])
        tally.bad[cell] += 1
        tally.examples.setdefault(cell, text)
        if len(tally.cells) < BAD_CELLS_KEPT:
            page = row.page + self.header_pages[cell]
            column = self.headers[cell]
            tally.cells.append(BadCell(column, name, page, row.position, text, str(exc)))


def _cell_warnings(table: Table, tally: _Tally) -> list[str]:
    """One sentence per column that had bad cells; a probable format change when most were."""
    out = []
    for cell, bad in enumerate(tally.bad):
        if not bad:
            continue
        filled = tally.filled[cell]
        header = table.headers[cell]
        page = table.header_pages[cell] + 1
        example = tally.examples.get(cell, "")
        what = (
            f"column {header!r} (page {page} of the {table.cycle_length}-page cycle): {bad:,} of "
            f"{filled:,} cells unreadable (e.g. {example!r})"
        )
        if bad >= _FORMAT_CHANGE_MIN and bad > _FORMAT_CHANGE_SHARE * filled:
            out.append(f"{what}: the portal's format changed? Those fields kept their values")
        else:
            out.append(f"{what}: those fields kept their stored values")
    return out


def _table_warnings(stats: TableStats) -> list[str]:
    out = []
    if stats.empty_rows:
        out.append(f"{stats.empty_rows} rows without any text were skipped")
    if stats.unmapped_glyphs:
        out.append(
            f"{stats.unmapped_glyphs} glyphs have no Unicode text in their font and were read "
            "as U+FFFD"
        )
    return out


def parse_export(
    spec: ExportSpec,
    source: Path | BinaryIO,
    *,
    stats: ParseStats | None = None,
    workers: int = 1,
) -> Iterator[Record]:
    """The records of the export ``source`` (a path or a seekable binary file), in file order.

    A generator: the file is opened and checked when iteration starts.
    Raises the :mod:`archid.exports.errors` classes (see the module doc and
    :func:`~archid.exports.table.open_table`); a month-first date raises
    :class:`~archid.exports.errors.WrongLocale`. A parse that raises has
    yielded an incomplete prefix of the records.

    ``stats``, if given, is filled as the parse goes (``seconds``, the
    warnings and the bad cells at the end). ``workers`` > 1 parses a file
    of :data:`PARALLEL_MIN_PAGES` pages or more, given as a path, in that
    many processes.
    """
    stats = stats if stats is not None else ParseStats()
    started = time.perf_counter()
    try:
        with open_table(source) as table:
            match = _check_headers(spec, table)
            absent = frozenset(c.field for c in match.absent if c.field is not None)
            stats.cycle_length = table.cycle_length
            stats.warnings.extend(_header_warnings(spec, table, match))
            job = None
            if (
                workers > 1
                and isinstance(source, Path)
                and table.page_count >= PARALLEL_MIN_PAGES
                and table.page_count >= 2 * table.cycle_length
            ):
                job = _Job.make(spec, source, table, match, absent)
            if job is None:
                converter = _Converter(
                    spec,
                    match.columns,
                    absent,
                    table.headers,
                    table.header_pages,
                    table.name,
                    stats.dropped,
                )
                for record in converter.run(table.rows()):
                    stats.records += 1
                    yield record
                table_stats, summary, tally = table.stats, table.summary, converter.tally
            else:
                table_stats = TableStats()
                summary = {}
                tally = _Tally.empty(len(table.headers))
                for records in _run_parallel(
                    job, spec, table, workers, stats, table_stats, summary, tally
                ):
                    for record in records:
                        stats.records += 1
                        yield record
            _finish(stats, table_stats, summary)
            stats.bad_cells.extend(tally.cells)
            stats.bad_cell_count += sum(tally.bad)
            stats.warnings.extend(_cell_warnings(table, tally))
            stats.warnings.extend(_table_warnings(table_stats))
    finally:
        stats.seconds = time.perf_counter() - started


def _finish(stats: ParseStats, table: TableStats, summary: dict[str, str]) -> None:
    stats.pages = table.pages
    stats.cycles = table.cycles
    stats.rows = table.rows
    stats.summary.update(summary)


# -- two cores ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    """What a worker process needs to parse a range of pages (all picklable)."""

    path: str
    spec: ExportType | ExportSpec  # the type when the spec is a registered one
    columns: tuple[int | None, ...]
    absent: frozenset[str]
    cycle: tuple[tuple[str, ...], ...]
    starts: tuple[tuple[float, ...] | None, ...]

    @staticmethod
    def make(
        spec: ExportSpec, path: Path, table: Table, match: HeaderMatch, absent: frozenset[str]
    ) -> _Job | None:
        from archid.exports import SPECS

        ref: ExportType | ExportSpec = spec.type
        if SPECS.get(spec.type) is not spec:
            try:
                pickled = pickle.dumps(spec)
            except (pickle.PicklingError, AttributeError, TypeError):
                return None  # a spec made of lambdas: parse in this process
            if b"__main__" in pickled:
                return None  # the helpers do not import the caller's main module
            ref = spec
        return _Job(
            str(path), ref, tuple(match.columns), absent, table.pages_headers, table.header_starts
        )


@dataclass(slots=True)
class _Chunk:
    """What a worker returns for one range of pages."""

    records: list[Record]
    stats: TableStats
    summary: dict[str, str]
    dropped: dict[str, int]
    tally: _Tally


# One open file per worker process, reused across its chunks: opening reads
# the whole cross-reference table.
_OPEN: dict[tuple[str, int, int], PdfPages] = {}


def _parse_chunk(job: _Job, start: int, stop: int) -> _Chunk:
    """Parse pages ``start`` to ``stop`` (a whole number of cycles) in a helper process."""
    from archid.exports import SPECS

    spec = SPECS[job.spec] if isinstance(job.spec, ExportType) else job.spec
    info = os.stat(job.path)
    key = (job.path, info.st_mtime_ns, info.st_size)
    pdf = _OPEN.get(key)
    if pdf is None:
        for old in _OPEN.values():
            old.close()
        _OPEN.clear()
        pdf = _OPEN[key] = open_pdf(Path(job.path))
    return _parse_pages(job, spec, pdf, start, stop)


class _GaveUp(Exception):
    """A parse stopped because another process finished the same chunk first."""


def _parse_pages(
    job: _Job,
    spec: ExportSpec,
    pdf: PdfPages,
    start: int,
    stop: int,
    give_up: Callable[[], bool] | None = None,
) -> _Chunk:
    """Parse pages ``start`` to ``stop`` (a whole number of cycles) of ``pdf``.

    Raises :class:`_GaveUp` when ``give_up``, asked after each record, says so.
    """
    table = Table(pdf, range(start, stop), job.cycle, job.starts)
    converter = _Converter(
        spec, job.columns, job.absent, table.headers, table.header_pages, table.name
    )
    if give_up is None:
        records = list(converter.run(table.rows()))
    else:
        records = []
        for record in converter.run(table.rows()):
            if give_up():
                raise _GaveUp
            records.append(record)
    return _Chunk(records, table.stats, table.summary, converter.dropped, converter.tally)


#: A chunk's pages: first (0-based) and last + 1.
Range = tuple[int, int]


class _HelperGone(Exception):
    """A helper process ended before it replied: its chunks are parsed here instead."""


# A helper's command: the caller's import path, then the serving loop.
_HELPER = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "from archid.exports.parse import _serve; _serve()"
)


def _serve() -> None:
    """A helper process: read ``(job, start, stop)`` requests from stdin until it
    ends, and write ``(True, chunk)`` or ``(False, exception)`` to stdout for each."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not land in the replies
    requests = sys.stdin.buffer
    while True:
        try:
            job, start, stop = pickle.load(requests)
        except EOFError:
            return
        try:
            reply = pickle.dumps((True, _parse_chunk(job, start, stop)), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            reply = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
        replies.write(reply)
        replies.flush()


class _Helper:
    """A helper process (:func:`_serve`) and the futures of the chunks it owes, in order.

    A thread reads its replies, sets their futures and then calls ``replied``.
    """

    def __init__(self, replied: Callable[[], None]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", _HELPER, json.dumps(sys.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._replied = replied
        self._owed: deque[Future[_Chunk]] = deque()
        self._lock = threading.Lock()
        self.gone = False
        """The process ended (or its pipe broke): hand it nothing more."""
        # A daemon thread: an interpreter exiting with a parse left unfinished
        # must not wait for a reply that will never come.
        self._reader = threading.Thread(target=self._read, name="archid-parse-helper", daemon=True)
        self._reader.start()

    @property
    def owed(self) -> int:
        """Chunks handed to this helper and not replied to yet."""
        return len(self._owed)

    def submit(self, job: _Job, start: int, stop: int) -> Future[_Chunk]:
        future: Future[_Chunk] = Future()
        with self._lock:
            self._owed.append(future)
        pipe = self._process.stdin
        assert pipe is not None
        try:
            pickle.dump((job, start, stop), pipe, pickle.HIGHEST_PROTOCOL)
            pipe.flush()
        except OSError:
            self._fail()  # the process is gone; the reader may not have seen it yet
        return future

    def _read(self) -> None:
        pipe = self._process.stdout
        assert pipe is not None
        while True:
            try:
                ok, value = pickle.load(pipe)
            except Exception:  # the end of the pipe, or a reply cut short
                break
            with self._lock:
                future = self._owed.popleft()
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
            self._replied()
        self._fail()

    def _fail(self) -> None:
        with self._lock:
            self.gone = True
            owed, self._owed = self._owed, deque()
        code = self._process.poll()
        for future in owed:
            future.set_exception(_HelperGone(f"a parse helper process ended (exit code {code})"))

    def close(self) -> None:
        """End the process, at once: it holds nothing worth finishing (a chunk it
        is in the middle of is one this process parsed itself or no longer needs),
        and an interpreter's orderly exit takes tens of milliseconds."""
        self._process.kill()
        with contextlib.suppress(OSError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        self._process.wait()
        self._reader.join()
        if self._process.stdout is not None:
            self._process.stdout.close()


class _Schedule:
    """Who parses which chunk of a parallel parse, and the chunks handed out, in file order.

    This process is warm (imported, the file open) while a helper takes a
    seventh of a second to start: it parses the first chunk, and then the
    next one whenever the oldest chunk is a helper's that is not done yet.
    A helper is handed its next chunk as soon as it replies (from its reader
    thread), one at a time. When this process may not parse further ahead
    (at most :data:`_LOCAL_AHEAD_PAGES` pages parsed here, and one chunk per
    helper, wait to be yielded: memory stays bounded) or nothing is left to
    hand out, it parses the oldest chunk too rather than wait for it: its
    helper may be starved of CPU by other processes. The first to finish wins.
    """

    def __init__(self, job: _Job, spec: ExportSpec, pdf: PdfPages, chunks: list[Range]) -> None:
        self._job = job
        self._spec = spec
        self._pdf = pdf
        self._queue = iter(chunks)
        self._ahead = max(2, _LOCAL_AHEAD_PAGES // (chunks[0][1] - chunks[0][0]))
        # (pages, future, parsed here); futures of chunks parsed here are made
        # done here, so that an error is raised in its turn, after earlier chunks.
        self._order: deque[tuple[Range, Future[_Chunk], bool]] = deque()
        self._lock = threading.Lock()
        self.helpers: list[_Helper] = []

    def start(self, helpers: int) -> None:
        """Start ``helpers`` processes; parse the first chunk while they start."""
        first = self._claim()
        # If no helper process can start, this one parses every chunk.
        with contextlib.suppress(OSError):
            for _ in range(helpers):
                self.helpers.append(_Helper(self._hand_out))
        self._hand_out()
        if first is not None:
            self._parse(*first)

    def next_chunk(self) -> _Chunk | None:
        """The next chunk in file order, parsing chunks here while the helpers' are not
        done; None at the end."""
        order = self._order
        while True:
            with self._lock:
                busy = bool(order) and not order[0][1].done()
                ahead = sum(here for _, _, here in order)
            if not order or (busy and ahead < self._ahead):
                taken = self._claim()
                if taken is not None:
                    self._parse(*taken)
                    continue
                if not order:
                    return None
            with self._lock:
                pages, future, _ = order.popleft()
            if not future.done():
                future = self._steal(pages, future)  # rather than wait
            if isinstance(future.exception(), _HelperGone):
                future = Future()
                self._parse(pages, future)
            chunk = future.result()
            self._hand_out()  # a helper may have been held back by the bound on memory
            return chunk

    def _steal(self, pages: Range, theirs: Future[_Chunk]) -> Future[_Chunk]:
        """A helper's chunk parsed here, or ``theirs`` if the helper replies first
        (both read the same).

        A parse error here is left for the helper's reply to report (or for
        the parse that follows the helper's death), so that it is raised once.
        """

        def replied() -> bool:
            return theirs.done() and not isinstance(theirs.exception(), _HelperGone)

        mine: Future[_Chunk] = Future()
        try:
            mine.set_result(_parse_pages(self._job, self._spec, self._pdf, *pages, replied))
        except Exception:  # _GaveUp, or the error the helper's reply will hold too
            theirs.exception()  # wait for that reply (or the helper's death)
            return theirs
        return mine

    def _claim(self) -> tuple[Range, Future[_Chunk]] | None:
        """The next chunk, for this process to parse; None if every chunk is handed out."""
        with self._lock:
            pages = next(self._queue, None)
            if pages is None:
                return None
            future: Future[_Chunk] = Future()
            self._order.append((pages, future, True))
            return pages, future

    def _parse(self, pages: Range, done: Future[_Chunk]) -> None:
        try:
            done.set_result(_parse_pages(self._job, self._spec, self._pdf, *pages))
        except Exception as exc:
            done.set_exception(exc)

    def _hand_out(self) -> None:
        with self._lock:
            for helper in self.helpers:
                if helper.gone or helper.owed:
                    continue
                if len(self._order) >= self._ahead + len(self.helpers) + 1:
                    return  # memory: wait until this process yields a chunk
                pages = next(self._queue, None)
                if pages is None:
                    return
                self._order.append((pages, helper.submit(self._job, *pages), False))


def _run_parallel(
    job: _Job,
    spec: ExportSpec,
    table: Table,
    workers: int,
    stats: ParseStats,
    table_stats: TableStats,
    summary: dict[str, str],
    tally: _Tally,
) -> Iterator[list[Record]]:
    """Each chunk's records, in file order, parsed by this process and ``workers - 1``
    helper processes (see :class:`_Schedule`)."""
    length = table.cycle_length
    cycles = table.page_count // length
    per_chunk = max(1, min(_CHUNK_PAGES // length, cycles // (_CHUNKS_PER_WORKER * workers)))
    chunks = [
        (first * length, min(first + per_chunk, cycles) * length)
        for first in range(0, cycles, per_chunk)
    ]
    schedule = _Schedule(job, spec, table.pdf, chunks)
    try:
        schedule.start(workers - 1)
        while (chunk := schedule.next_chunk()) is not None:
            _merge(chunk, stats, table_stats, summary)
            tally.add(chunk.tally)
            yield chunk.records
    finally:
        for helper in schedule.helpers:
            helper.close()


def _merge(chunk: _Chunk, stats: ParseStats, totals: TableStats, summary: dict[str, str]) -> None:
    for reason, count in chunk.dropped.items():
        stats.dropped[reason] = stats.dropped.get(reason, 0) + count
    for name in ("pages", "cycles", "rows", "summary_rows", "empty_rows", "unmapped_glyphs"):
        setattr(totals, name, getattr(totals, name) + getattr(chunk.stats, name))
    for header, text in chunk.summary.items():
        old = summary.get(header)
        summary[header] = text if old is None else f"{old}; {text}"
