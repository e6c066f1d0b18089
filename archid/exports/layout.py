"""How an export type declares its columns, and what a parse returns.

Each module of this package (``customers.py``, …) declares one
:class:`ExportSpec`: the headers it expects, page by page in spec order,
the record field each feeds and how its text becomes a value. The table
reader (``table.py``) knows nothing of types; ``parse.py`` joins the two.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archid.records import ExportType, Record

#: the lines of one cell, top to bottom; an empty cell has none
Lines = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header as printed, the field it feeds and its converter.

    ``convert`` turns the cell's lines into the field's value (it is not
    called for an empty cell, whose value is ``None``) and raises
    ``ValueError`` with a short reason when the text cannot be that kind of
    value. ``field=None`` marks a column that is known but carries nothing
    archid keeps (IMMAGINE, PDF DDT).

    ``optional`` columns may be absent from an export (E-MAIL, a column a
    session may hide): their field is then *unread* in every record.
    ``strict`` columns (the record's key, and what decides whether a row is
    a record at all) fail the whole export with
    :class:`~archid.exports.errors.BadValue` on a value they cannot hold;
    any other column's bad cell costs only that field (:class:`BadCell`).
    """

    header: str
    field: str | None
    convert: Callable[[Lines], Any]
    optional: bool = False
    strict: bool = False


@dataclass(frozen=True, slots=True)
class Drop:
    """A row that is not a record, and why (``"artefact"``, ``"no order number"``)."""

    reason: str


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """Everything archid knows about one export type's layout.

    ``columns`` lists the columns in the order the spec prints them (page
    by page of the newest layout; a file may group them in pages in any
    way). ``finish`` receives the converted values of one row by field name
    (absent optional columns and bad cells give ``None``), plus ``unread``,
    the frozenset of fields that could not be read, and returns the record
    (with that ``unread``), or a :class:`Drop` for a row the spec says is
    not a record.
    """

    type: ExportType
    record: builtins.type[Record]  # builtins: the field above shadows ``type``
    columns: tuple[Column, ...]
    finish: Callable[[Mapping[str, Any]], Record | Drop]
    file_names: tuple[str, ...] = ()
    english_file_names: tuple[str, ...] = ()
    """What the portal names this export in English: such a file is not Italian."""


@dataclass(frozen=True, slots=True)
class BadCell:
    """A cell of a non-key column whose text its column cannot hold.

    The record is still yielded, with ``field`` in its ``unread`` set: the
    store keeps the value it has (for the DDT's tracking link ``field`` is
    ``tracking``, which stands for its three tracking fields, all unread).
    ``page`` is the 1-based page that shows
    the cell, ``row`` the row's 1-based position under that page's header,
    ``column`` the header as printed, ``text`` the cell's lines joined by
    `` / ``, ``reason`` the converter's short explanation.
    """

    column: str
    field: str
    page: int
    row: int
    text: str
    reason: str


#: At most this many :class:`BadCell` entries are kept per parse; the rest are counted.
BAD_CELLS_KEPT = 100


@dataclass(slots=True)
class ParseStats:
    """What a parse saw: for ``archid parse --stats`` and the sync's run record.

    ``warnings`` are sentences for the log and the run's record (unknown
    columns ignored, optional columns absent, a column that failed in most
    rows, …). ``bad_cells`` holds the first :data:`BAD_CELLS_KEPT` bad
    cells and ``bad_cell_count`` counts them all.
    """

    pages: int = 0
    cycle_length: int = 0
    cycles: int = 0
    rows: int = 0
    records: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    summary: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    bad_cells: list[BadCell] = field(default_factory=list)
    bad_cell_count: int = 0
    seconds: float = 0.0
