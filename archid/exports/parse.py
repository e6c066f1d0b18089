"""An export file read against an :class:`~archid.exports.layout.ExportSpec`: records.

:func:`parse_export` joins the type-agnostic table reader
(:mod:`archid.exports.table`) with one export type's spec:

* the file's headers are matched to the spec's columns as whole cells,
  ignoring case, repeated spaces and a trailing colon (and, failing that,
  all spaces: a narrow column may wrap a header inside a word); a header
  printed twice (the DDT's two "NOME DI CONSEGNA") matches the spec's
  columns of that name in order;
* a page of the cycle whose headers are all unknown (the DDT's 7th page)
  is ignored, with a warning in the stats; an unknown header on a page with
  known ones raises :class:`UnknownHeader`; a required column that is not
  in the file raises :class:`MissingHeader`; if the headers match another
  type's spec better, :class:`WrongExportType` names that type instead;
* every cell goes through its column's ``convert``; a ``ValueError``
  becomes :class:`BadValue` naming the page, row, header and text;
* ``spec.finish`` makes the record or a :class:`Drop`, counted by reason.

With ``workers`` > 1 a large file is split on cycle boundaries into
chunks parsed by that many processes; records still come in file order
and memory stays bounded (a few chunks in flight). The processes are
started with ``spawn`` (safe under threads), so a script that asks for
workers must guard its entry point with ``if __name__ == "__main__"``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from archid.exports.errors import (
    BadValue,
    MissingHeader,
    UnknownHeader,
    WrongExportType,
)
from archid.exports.layout import Column, Drop, ExportSpec, ParseStats
from archid.exports.pdftext import PdfPages, open_pdf
from archid.exports.table import Row, Table, TableStats, open_table
from archid.records import ExportType, Record

__all__ = ["PARALLEL_MIN_PAGES", "match_headers", "parse_export"]

PARALLEL_MIN_PAGES = 600
"""Files shorter than this are parsed in one process whatever ``workers`` says:
starting processes costs more than they save."""
_CHUNK_PAGES = 600
"""Pages per chunk of a parallel parse (rounded to whole cycles)."""


# -- headers -----------------------------------------------------------------------


def _norm(header: str) -> str:
    return " ".join(header.split()).rstrip(":").rstrip().casefold()


def _squeezed(header: str) -> str:
    """``header`` without any space: a header wrapped inside a word ("…IMBALLAGGI O")."""
    return "".join(_norm(header).split())


@dataclass(slots=True)
class HeaderMatch:
    """How a file's headers map onto a spec's columns."""

    columns: list[int | None]
    """For each header of the file's cycle: the index of its column in the spec."""
    missing: list[Column] = field(default_factory=list)
    """Required columns of the spec not in the file."""
    unknown: list[tuple[int, str]] = field(default_factory=list)
    """(page position in the cycle, header) of unknown headers on pages with known ones."""
    ignored_pages: list[int] = field(default_factory=list)
    """Positions in the cycle of pages whose headers are all unknown."""

    @property
    def matched(self) -> int:
        return sum(column is not None for column in self.columns)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unknown


def match_headers(spec: ExportSpec, pages_headers: Sequence[Sequence[str]]) -> HeaderMatch:
    """Match the header rows of a cycle's pages with ``spec``'s columns (see the module doc)."""
    wanted: dict[str, list[int]] = {}
    squeezed: dict[str, list[int]] = {}
    for index, column in enumerate(spec.columns):
        wanted.setdefault(_norm(column.header), []).append(index)
        squeezed.setdefault(_squeezed(column.header), []).append(index)
    used: set[int] = set()
    match = HeaderMatch([])
    for position, headers in enumerate(pages_headers):
        page: list[int | None] = []
        for header in headers:
            # As printed first; then with spaces ignored, for a header that a
            # narrow column broke inside a word (no two headers differ by spaces).
            found = next((i for i in wanted.get(_norm(header), []) if i not in used), None)
            if found is None:
                candidates = squeezed.get(_squeezed(header), [])
                found = next((i for i in candidates if i not in used), None)
            if found is not None:
                used.add(found)
            page.append(found)
        if headers and all(index is None for index in page):
            match.ignored_pages.append(position)
        else:
            match.unknown.extend(
                (position, header)
                for header, index in zip(headers, page, strict=True)
                if index is None
            )
        match.columns.extend(page)
    match.missing = [
        column
        for index, column in enumerate(spec.columns)
        if index not in used and not column.optional
    ]
    return match


def _check_type(spec: ExportSpec, match: HeaderMatch, table: Table) -> None:
    """Raise :class:`WrongExportType` if another type's spec reads the file better."""
    from archid.exports import SPECS  # lazily: that package imports this module's users

    best: tuple[bool, int, ExportSpec] | None = None
    for other in SPECS.values():
        if other.type == spec.type:
            continue
        theirs = match_headers(other, table.pages_headers)
        score = (theirs.ok, theirs.matched, other)
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
    if match.ok:
        return match
    _check_type(spec, match, table)
    cycle = f"{table.cycle_length}-page cycle"
    missing = ", ".join(repr(column.header) for column in match.missing)
    if match.unknown:
        position, header = match.unknown[0]
        others = ", ".join(repr(h) for _, h in match.unknown[1:])
        more = f" (and {others})" if others else ""
        lacks = f", and it lacks {missing}" if missing else ""
        raise UnknownHeader(
            f"{table.name}: page {position + 1} of the {cycle} of this {spec.type.value} "
            f"export has the column {header!r}{more}, which archid does not know, next to "
            f"columns it knows{lacks}: the portal's layout changed (a column added or "
            "renamed); update the export spec before syncing"
        )
    found = " | ".join(" · ".join(page) for page in table.pages_headers)
    raise MissingHeader(
        f"{table.name}: the {spec.type.value} export lacks the column(s) {missing}; its "
        f"{cycle} shows: {found}. A column was hidden in the portal's list view (the "
        "user profile keeps visible columns): show it again and export again"
    )


# -- records -----------------------------------------------------------------------


@dataclass(slots=True)
class _Converter:
    """Turns the table's rows into records for one spec and header match."""

    spec: ExportSpec
    columns: Sequence[int | None]
    headers: Sequence[str]
    header_pages: Sequence[int]
    name: str
    dropped: dict[str, int] = field(default_factory=dict)
    records: int = 0

    def run(self, rows: Iterator[Row]) -> Iterator[Record]:
        spec = self.spec
        cells = [
            (cell, spec.columns[index])
            for cell, index in enumerate(self.columns)
            if index is not None and spec.columns[index].field is not None
        ]
        present = {column.field for _, column in cells}
        base: dict[str, Any] = {
            column.field: None
            for column in spec.columns
            if column.field is not None and column.field not in present
        }
        finish = spec.finish
        for row in rows:
            values = dict(base)
            for cell, column in cells:
                lines = row.cells[cell]
                try:
                    values[column.field] = column.convert(lines)  # type: ignore[index]
                except ValueError as exc:
                    raise self._bad(row, cell, exc) from exc
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

    def _bad(self, row: Row, cell: int, exc: ValueError) -> BadValue:
        text = " / ".join(row.cells[cell])
        return BadValue(
            f"{self.name}: page {row.page + self.header_pages[cell]}, row {row.position}, "
            f"column {self.headers[cell]!r}: {text!r} is not a valid value ({exc}); the "
            "portal's format for this column changed, or the file is damaged"
        )


def _warnings(name: str, table: Table, match: HeaderMatch, stats: TableStats) -> list[str]:
    out = []
    for position in match.ignored_pages:
        headers = " · ".join(table.pages_headers[position])
        out.append(
            f"page {position + 1} of every {table.cycle_length}-page cycle holds only columns "
            f"archid does not know ({headers}): ignored"
        )
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
    :func:`~archid.exports.table.open_table`); the values' converters may
    also raise :class:`~archid.exports.errors.WrongLocale`. A parse that
    raises has yielded an incomplete prefix of the records.

    ``stats``, if given, is filled as the parse goes (``seconds`` at the
    end). ``workers`` > 1 parses a file of :data:`PARALLEL_MIN_PAGES` pages
    or more, given as a path, in that many processes.
    """
    stats = stats if stats is not None else ParseStats()
    started = time.perf_counter()
    try:
        with open_table(source) as table:
            match = _check_headers(spec, table)
            stats.cycle_length = table.cycle_length
            job = None
            if (
                workers > 1
                and isinstance(source, Path)
                and table.page_count >= PARALLEL_MIN_PAGES
                and table.page_count >= 2 * table.cycle_length
            ):
                job = _Job.make(spec, source, table, match)
            if job is None:
                converter = _Converter(
                    spec,
                    match.columns,
                    table.headers,
                    table.header_pages,
                    table.name,
                    stats.dropped,
                )
                for record in converter.run(table.rows()):
                    stats.records += 1
                    yield record
                _finish(stats, table.stats, table.summary)
                stats.warnings.extend(_warnings(table.name, table, match, table.stats))
            else:
                table_stats = TableStats()
                summary: dict[str, str] = {}
                for records in _run_parallel(job, table, workers, stats, table_stats, summary):
                    for record in records:
                        stats.records += 1
                        yield record
                _finish(stats, table_stats, summary)
                stats.warnings.extend(_warnings(table.name, table, match, table_stats))
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
    cycle: tuple[tuple[str, ...], ...]

    @staticmethod
    def make(spec: ExportSpec, path: Path, table: Table, match: HeaderMatch) -> _Job | None:
        from archid.exports import SPECS

        ref: ExportType | ExportSpec = spec.type
        if SPECS.get(spec.type) is not spec:
            try:
                pickle.dumps(spec)
            except (pickle.PicklingError, AttributeError, TypeError):
                return None  # a spec made of lambdas: parse in this process
            ref = spec
        return _Job(str(path), ref, tuple(match.columns), table.pages_headers)


@dataclass(slots=True)
class _Chunk:
    """What a worker returns for one range of pages."""

    records: list[Record]
    stats: TableStats
    summary: dict[str, str]
    dropped: dict[str, int]


# One open file per worker process, reused across its chunks: opening reads
# the whole cross-reference table.
_OPEN: dict[tuple[str, int, int], PdfPages] = {}


def _parse_chunk(job: _Job, start: int, stop: int) -> _Chunk:
    """Parse pages ``start`` to ``stop`` (a whole number of cycles) in a worker process."""
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
    table = Table(pdf, range(start, stop), job.cycle)
    converter = _Converter(spec, job.columns, table.headers, table.header_pages, table.name)
    records = list(converter.run(table.rows()))
    return _Chunk(records, table.stats, table.summary, converter.dropped)


def _run_parallel(
    job: _Job,
    table: Table,
    workers: int,
    stats: ParseStats,
    table_stats: TableStats,
    summary: dict[str, str],
) -> Iterator[list[Record]]:
    """Each chunk's records, in file order, parsed ``workers`` chunks at a time."""
    length = table.cycle_length
    cycles = table.page_count // length
    per_chunk = max(1, min(_CHUNK_PAGES // length, math.ceil(cycles / workers)))
    bounds = [
        (first * length, min(first + per_chunk, cycles) * length)
        for first in range(0, cycles, per_chunk)
    ]
    # spawn, not fork: the caller may run threads (trio, the daemon) that a
    # forked child would inherit in an undefined state.
    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    pending: deque[Future[_Chunk]] = deque()
    queue = iter(bounds)
    try:
        for start, stop in queue:
            pending.append(executor.submit(_parse_chunk, job, start, stop))
            if len(pending) > workers:
                break
        while pending:
            chunk = pending.popleft().result()
            for start, stop in queue:
                pending.append(executor.submit(_parse_chunk, job, start, stop))
                break
            _merge(chunk, stats, table_stats, summary)
            yield chunk.records
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _merge(chunk: _Chunk, stats: ParseStats, totals: TableStats, summary: dict[str, str]) -> None:
    for reason, count in chunk.dropped.items():
        stats.dropped[reason] = stats.dropped.get(reason, 0) + count
    for name in ("pages", "cycles", "rows", "summary_rows", "empty_rows", "unmapped_glyphs"):
        setattr(totals, name, getattr(totals, name) + getattr(chunk.stats, name))
    for header, text in chunk.summary.items():
        old = summary.get(header)
        summary[header] = text if old is None else f"{old}; {text}"
