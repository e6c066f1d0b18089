"""``archid parse TYPE FILE``: read one export file and print its records.

Records go to stdout as they are parsed, as JSON lines
(:func:`archid.records.to_json`) or CSV with a header row (the record's
data fields); ``--stats`` prints a summary of the parse on stderr, with its
warnings and the cells that could not be read (their fields are empty in
the output: unread, not empty). Exit status (``sysexits.h``):

* 0: every row was read; the output is complete;
* 64 (EX_USAGE): an unknown TYPE or a bad option value;
* 65 (EX_DATAERR): the file cannot be parsed
  (:class:`~archid.exports.errors.ExportParseError`);
* 66 (EX_NOINPUT): the file does not exist or cannot be opened;
* 74 (EX_IOERR): reading failed half-way;
* 70 (EX_SOFTWARE): a bug (run with ``-vv`` for the traceback).

On any failure stderr gets one line ``archid parse: <ErrorClass>: <message>``
and the records already printed are an incomplete prefix: only exit 0 means
the output is the whole export.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from archid.exports import SPECS, ExportSpec, ParseStats, parse_export
from archid.exports.errors import ExportParseError
from archid.records import ExportType, Record, data_fields, to_json

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``TYPE FILE [--format jsonl|csv] [--stats] [--workers N]`` to ``parser``.

    TYPE and ``--workers`` are checked by :func:`run_parse` (exit 64), not by
    argparse; argparse's own errors (no FILE, a bad ``--format``) exit with
    argparse's status 2 unless the caller's parser maps them to 64.
    """
    types = ", ".join(t.value for t in ExportType)
    parser.add_argument("type", metavar="TYPE", help=f"export type: {types}")
    parser.add_argument("file", metavar="FILE", help="the export PDF as the portal wrote it")
    parser.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        default="jsonl",
        help="jsonl: one JSON object per record (default); csv: a header row, then records",
    )
    parser.add_argument(
        "--stats", action="store_true", help="print a summary of the parse on stderr"
    )
    parser.add_argument(
        "--workers",
        default="1",
        metavar="N",
        help="processes for a big file (default: 1)",
    )


def _fail(code: int, error: BaseException | str, message: str | None = None) -> int:
    name = error if isinstance(error, str) else type(error).__name__
    text = message if message is not None else str(error)
    print(f"archid parse: {name}: {' '.join(text.split())}", file=sys.stderr)
    return code


def run_parse(args: argparse.Namespace) -> int:
    """Parse ``args.file`` as an export of ``args.type``; print records; return the exit status."""
    try:
        export_type = ExportType(args.type)
    except ValueError:
        known = ", ".join(t.value for t in ExportType)
        return _fail(
            os.EX_USAGE, "UsageError", f"unknown export type {args.type!r} (one of: {known})"
        )
    try:
        workers = int(args.workers)
    except ValueError:
        workers = 0
    if workers < 1:
        return _fail(
            os.EX_USAGE, "UsageError", f"--workers must be a positive integer, not {args.workers!r}"
        )
    path = Path(args.file)
    if not path.is_file():
        if path.is_dir():
            return _fail(os.EX_NOINPUT, "IsADirectoryError", f"{path}: is a directory")
        reason = "is not a regular file" if path.exists() else "no such file"
        return _fail(os.EX_NOINPUT, "FileNotFoundError", f"{path}: {reason}")

    spec = SPECS[export_type]
    stats = ParseStats()
    started = time.perf_counter()
    try:
        records = parse_export(spec, path, stats=stats, workers=workers)
        if args.format == "csv":
            _write_csv(sys.stdout, spec, records)
        else:
            _write_jsonl(sys.stdout, records)
        sys.stdout.flush()
    except ExportParseError as exc:
        return _fail(os.EX_DATAERR, exc)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        return _fail(os.EX_NOINPUT, exc, f"{path}: {exc.strerror or exc}")
    except BrokenPipeError:
        # The reader went away (``| head``): not an error of ours. Point stdout
        # at /dev/null so the interpreter's final flush does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return os.EX_OK
    except OSError as exc:
        return _fail(os.EX_IOERR, exc, f"{path}: {exc}")
    except Exception as exc:
        log.debug("archid parse failed", exc_info=True)
        return _fail(os.EX_SOFTWARE, exc)
    if not stats.seconds:
        stats.seconds = time.perf_counter() - started
    if args.stats:
        print(format_stats(export_type, path, stats), file=sys.stderr)
    return os.EX_OK


def _write_jsonl(out: TextIO, records: Iterable[Record]) -> None:
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for record in records:
        out.write(dumps(to_json(record)))
        out.write("\n")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_csv(out: TextIO, spec: ExportSpec, records: Iterable[Record]) -> None:
    names = [f.name for f in data_fields(spec.record)]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(_csv_rows(names, records))


def _csv_rows(names: list[str], records: Iterable[Record]) -> Iterator[list[str]]:
    for record in records:
        data = to_json(record)
        yield [_csv_cell(data[name]) for name in names]


def format_stats(export_type: ExportType, path: Path, stats: ParseStats) -> str:
    """The ``--stats`` summary: a few ``key: value`` lines."""
    dropped = ", ".join(f"{reason} {n}" for reason, n in sorted(stats.dropped.items())) or "none"
    summary = ", ".join(f"{name} {value}" for name, value in stats.summary.items()) or "none"
    lines = [
        f"file: {path} ({export_type.value})",
        f"pages: {stats.pages}",
        f"cycle: {stats.cycle_length} pages, {stats.cycles} cycles",
        f"rows: {stats.rows}",
        f"records: {stats.records}",
        f"dropped: {sum(stats.dropped.values())} ({dropped})",
        f"summary: {summary}",
        f"warnings: {len(stats.warnings)}",
        *(f"  {warning}" for warning in stats.warnings),
        f"bad cells: {stats.bad_cell_count}",
        *(
            f"  page {cell.page}, row {cell.row}, column {cell.column!r} ({cell.field}): "
            f"{cell.text!r}: {cell.reason}"
            for cell in stats.bad_cells
        ),
        *(
            [f"  … and {stats.bad_cell_count - len(stats.bad_cells)} more"]
            if stats.bad_cell_count > len(stats.bad_cells)
            else []
        ),
        f"seconds: {stats.seconds:.3f}",
    ]
    return "\n".join(lines)
