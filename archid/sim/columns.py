"""The grids' column models (spec v3 "Columns"): what ``GetColumn(i)`` answers.

Every list's grid has a column for each column of the type's export
layout (captions as the PDF headers) plus the columns outside the layout
(:data:`archid.sim.layouts.EXTRA_COLUMNS`: the hidden MODIFIEDDATETIME
captioned "CITTA DI FATTURAZIONE", customers' May 2026 columns). Each has
an XAF-like field name. The model's order (``GetColumn``'s ``i``, the
``_col<i>`` of header cells, the ``_3_drag_C<i>`` of the column chooser)
is by field name, which is not the display order: the display order is
the layout's, then the extras'.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from archid.records import ExportType
from archid.sim import english as english_captions
from archid.sim.layouts import (
    MAY_2026_CUSTOMERS,
    ColumnSpec,
    ExportView,
    default_hidden,
    extra_columns,
    layout_columns,
)

#: the field names the spec gives, and a few made-up ones XAF would plausibly use
_FIELD_NAMES: Mapping[str, str] = {
    "modified_at": "MODIFIEDDATETIME",
    "id": "RECID",
    "name": "NAME",
    "account": "ACCOUNTNUM",
    "order_number": "SALESID",
    "ddt_number": "PACKINGSLIPID",
    "invoice_number": "INVOICEID",
    "article": "ITEMID",
}
#: the sub-panel of the customization dialog holding customers' May 2026 columns
MAY_GROUP = "Esclusività"


@dataclass(frozen=True, slots=True)
class GridColumn:
    """One column of a grid's model."""

    #: ``GetColumn``'s index
    index: int
    #: the column's key (:func:`archid.sim.layouts.column_keys`)
    key: str
    field_name: str
    #: the Italian caption (the PDF header)
    caption: str
    spec: ColumnSpec
    #: 0-based position in the display order of all columns
    order: int
    #: outside the export layout (printed on extra pages when shown)
    extra: bool
    #: the customization dialog's sub-panel holding it, if any
    group: str | None = None

    def caption_in(self, t: ExportType, english: bool) -> str:
        return english_captions.caption(t, self.caption) if english else self.caption


def _name_of(spec: ColumnSpec, key: str) -> str:
    if spec.header == "CITTA DI FATTURAZIONE":
        return "MODIFIEDDATETIME" if "#" not in key else "INVOICECITY"
    if spec.field is not None:
        return _FIELD_NAMES.get(spec.field) or spec.field.upper().replace("_", "")
    plain = unicodedata.normalize("NFKD", spec.header).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]", "", plain.upper())


@cache
def grid_columns(t: ExportType, layout: str) -> tuple[GridColumn, ...]:
    """The model of ``t``'s grid in the layout epoch ``layout``, in model order."""
    display = [(k, spec, False) for page in layout_columns(t, layout) for k, spec in page]
    display += [(k, spec, True) for k, spec in extra_columns(t)]
    named = [(_name_of(spec, k), k, spec, extra, n) for n, (k, spec, extra) in enumerate(display)]
    named.sort(key=lambda row: (row[0], row[4]))
    names = [row[0] for row in named]
    if len(set(names)) != len(names):
        raise AssertionError(f"duplicate field names in {t}'s grid")
    return tuple(
        GridColumn(
            index=i,
            key=key,
            field_name=name,
            caption=spec.header,
            spec=spec,
            order=order,
            extra=extra,
            group=MAY_GROUP if spec.header in MAY_2026_CUSTOMERS else None,
        )
        for i, (name, key, spec, extra, order) in enumerate(named)
    )


def default_visible(t: ExportType, layout: str) -> frozenset[str]:
    """The keys a new session shows: the layout's minus :func:`default_hidden`."""
    hidden = default_hidden(t, layout)
    return frozenset(c.key for c in grid_columns(t, layout) if not c.extra and c.key not in hidden)


def export_view(
    t: ExportType, layout: str, visible: frozenset[str], *, english: bool, filter: str | None
) -> ExportView:
    """The :class:`ExportView` of a grid showing ``visible`` (keys)."""
    columns = grid_columns(t, layout)
    hidden = frozenset(c.key for c in columns if not c.extra and c.key not in visible)
    extra = tuple(
        c.key for c in sorted(columns, key=lambda c: c.order) if c.extra and c.key in visible
    )
    return ExportView(layout=layout, english=english, hidden=hidden, extra=extra, filter=filter)
