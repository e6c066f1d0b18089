"""Generated export files, cached on disk per data version and view.

Generating the prices export at full scale takes seconds, and tests export
the same unchanged data many times, so each file is written once under a
name derived from everything that shapes it (type, dataset fingerprint,
view, fault-induced selection, writer version) and reused after that, by
this process and by later ones sharing the directory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from archid.records import ExportType, Record
from archid.sim.font import Font
from archid.sim.grid import Grid
from archid.sim.layouts import ExportView, build_grid
from archid.sim.pdfwriter import write_grid_pdf

#: bump when the layouts or the writer change what a file contains
FORMAT_VERSION = 2


@dataclass(frozen=True, slots=True)
class Selection:
    """Which rows reach the file, beyond what the view selects."""

    #: keep one row in ten, as a saved filter would
    shrink: bool = False
    #: no rows at all
    empty: bool = False
    #: (header as printed, text, rows or None for all): cells printed wrong
    garble: tuple[str, str, int | None] | None = None

    def apply(self, records: Sequence[Record]) -> Sequence[Record]:
        if self.empty:
            return []
        if self.shrink:
            return records[::10]
        return records

    def print(self, grid: Grid) -> Grid:
        """``grid`` with the garbled cells, if any (the rows stream as before)."""
        if self.garble is None:
            return grid
        header, text, count = self.garble
        columns = [i for i, column in enumerate(grid.columns) if column.header == header]
        if not columns:
            raise ValueError(f"no column headed {header!r} in this export")
        rows = grid.rows

        def garbled() -> Iterator[Sequence[str]]:
            for number, row in enumerate(rows):
                if count is None or number < count:
                    row = [text if i in columns else cell for i, cell in enumerate(row)]
                yield row

        return dataclasses.replace(grid, rows=garbled())


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "archid" / "sim"


class ExportCache:
    """A directory of generated exports; safe to use from many threads."""

    def __init__(self, directory: Path, font: Font) -> None:
        self.directory = directory
        self.font = font
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self.generated = 0

    def get(
        self,
        export_type: ExportType,
        fingerprint: str,
        records: Sequence[Record],
        view: ExportView,
        selection: Selection = Selection(),
        stamps: Mapping[str, datetime] | None = None,
    ) -> Path:
        """The file for these records as seen through ``view``, generated if missing.

        ``fingerprint`` must identify ``records`` and ``stamps`` exactly (the
        dataset's fingerprint): it is what makes a cached file valid.
        """
        key_text = repr(
            (FORMAT_VERSION, str(export_type), fingerprint, view.cache_key(), selection)
        )
        key = hashlib.sha256(key_text.encode()).hexdigest()[:24]
        path = self.directory / f"{export_type}-{key}.pdf"
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if path.exists():
                return path
            self.directory.mkdir(parents=True, exist_ok=True)
            grid = selection.print(build_grid(export_type, selection.apply(records), view, stamps))
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".part")
            try:
                with os.fdopen(fd, "wb") as out:
                    write_grid_pdf(out, grid, self.font)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
            self.generated += 1
            return path
