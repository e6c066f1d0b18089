"""What a simulated export looks like before it becomes PDF: a grid of text.

The layouts (``layouts.py``) turn records into a :class:`Grid`; the PDF
writer (``pdfwriter.py``) turns a :class:`Grid` into a DevExpress-style
export. Neither knows about the other's internals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Align = Literal["left", "right"]


@dataclass(frozen=True, slots=True)
class Column:
    """One grid column: its header text, its width in points, its alignment."""

    header: str
    width: float
    align: Align = "left"


@dataclass(slots=True)
class Grid:
    """The content of one export.

    ``pages`` holds the columns printed on each page of a cycle, in order;
    each row of ``rows`` has one cell per column of all pages flattened in
    that order. A cell is text; ``"\\n"`` in a cell is an explicit line
    break, and the writer wraps long lines to the column width as well.
    ``summary`` is the optional closing row of ``Sum=``/``Count=`` cells
    (same shape as a row). ``rows_per_page`` caps the data rows on a page
    (``None``: as many as fit). ``rows`` may be a one-shot iterator so big
    exports stream.
    """

    pages: Sequence[Sequence[Column]]
    rows: Iterable[Sequence[str]]
    summary: Sequence[str] | None = None
    rows_per_page: int | None = None
    title: str = ""
    producer: str = "Developer Express Inc. DXperience (tm) v24.1.7"
    columns: list[Column] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = [column for page in self.pages for column in page]
