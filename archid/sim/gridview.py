"""A list view's grid as the browser gets it: rows of the page, HTML, client state.

:func:`grid_view` applies the user's saved choices (filter, sort, page,
page size) and the session's visible columns to a type's records;
:func:`grid_html` renders the DevExpress-like grid (spec v3 "Grid DOM"),
:func:`dialog_html` its customization dialog, and :func:`client_state`
what the grid's client object needs (``GetColumn``, the pager, the
products' row values, which ``GetRowValues`` answers from the page).

The spec does not say how a sorted header looks; the sorted column's
header carries DevExpress's own glyph, an image of class
``dxGridView_gvHeaderSortDown_XafTheme`` (descending) or
``…SortUp…`` (the ``sort_glyphs`` option turns it off, for a grid that
shows none). A record changed through the test API shows, sorts and
answers by the MODIFIEDDATETIME it was stamped with (``stamps``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from html import escape
from typing import Any

from archid.records import ExportType, Record
from archid.sim import filters
from archid.sim.columns import GridColumn, grid_columns
from archid.sim.layouts import ExportView
from archid.sim.portal import PAGE_SIZES, ListState

#: lists whose rows carry the "N/A" link cell (PDF DDT / FATTURA PDF)
PDF_LINK_TYPES = frozenset({ExportType.DDT, ExportType.INVOICES})
_PDF_LINK_HEADERS = frozenset({"PDF DDT", "FATTURA PDF"})


@dataclass(frozen=True, slots=True)
class GridView:
    """One rendering of a grid: which columns, which rows, which page."""

    type: ExportType
    grid_id: str
    columns: tuple[GridColumn, ...]
    #: the shown columns in display order
    shown: tuple[GridColumn, ...]
    rows: Sequence[Record]
    page_index: int
    page_size: int
    page_count: int
    total: int
    sort: tuple[str, bool]
    english: bool
    grid_filter: bool
    #: data cells rendered empty (DDT and invoices on a full page load)
    blank: bool
    #: key → MODIFIEDDATETIME of records changed through the test API
    stamps: Mapping[str, datetime] = field(default_factory=dict)
    #: the sorted header shows DevExpress's sort glyph
    glyphs: bool = True

    @property
    def first_index(self) -> int:
        """The visible index of the page's first row."""
        return self.page_index * self.page_size


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, "")
    if isinstance(value, str):
        digits = value.replace(".", "")
        if digits.isdigit():
            return (0, int(digits))
        return (1, value.casefold())
    if isinstance(value, datetime):
        return (0, value.timestamp())
    if isinstance(value, date):
        return (0, value.toordinal())
    if isinstance(value, bool | int | float | Decimal):
        return (0, value)
    return (1, str(value))


def grid_view(
    t: ExportType,
    grid_id: str,
    layout: str,
    records: Sequence[Record],
    state: ListState,
    filter: str | None,
    visible: frozenset[str],
    *,
    english: bool,
    blank: bool = False,
    stamps: Mapping[str, datetime] | None = None,
    glyphs: bool = True,
) -> GridView:
    """The grid of ``t`` for these saved choices; clamps ``state.page_index`` to the pages.

    ``stamps`` (:meth:`archid.sim.dataset.Dataset.stamps`) are the changed
    records' MODIFIEDDATETIME: what the grid shows, sorts by and answers.
    """
    stamps = stamps or {}
    columns = grid_columns(t, layout)
    shown = tuple(sorted((c for c in columns if c.key in visible), key=lambda c: c.order))
    selected = filters.select(t, records, filter)
    by_key = {c.key: c for c in columns}
    column = by_key.get(state.sort[0])
    if column is not None:
        spec = column.spec
        present = [r for r in selected if spec.value(r, stamps) is not None]
        missing = [r for r in selected if spec.value(r, stamps) is None]
        present.sort(key=lambda r: _sort_key(spec.value(r, stamps)), reverse=state.sort[1])
        selected = present + missing
    size = state.page_size if state.page_size in PAGE_SIZES else PAGE_SIZES[1]
    count = max(1, -(-len(selected) // size))
    state.page_index = min(max(state.page_index, 0), count - 1)
    start = state.page_index * size
    return GridView(
        type=t,
        grid_id=grid_id,
        columns=columns,
        shown=shown,
        rows=selected[start : start + size],
        page_index=state.page_index,
        page_size=size,
        page_count=count,
        total=len(selected),
        sort=state.sort,
        english=english,
        grid_filter=filter == filters.GRID,
        blank=blank,
        stamps=stamps,
        glyphs=glyphs,
    )


def _cell_text(view: GridView, column: GridColumn, record: Record, export: ExportView) -> str:
    if column.caption in _PDF_LINK_HEADERS:
        return "N/A"
    if view.blank:
        return ""
    return column.spec.text(record, export, view.stamps)


def grid_html(view: GridView) -> str:
    """The grid's inner HTML: filter bar, headers, data rows (or the empty row), pager."""
    gid = view.grid_id
    export = ExportView(english=view.english)
    out = []
    if view.grid_filter:
        label = "Filter" if view.english else "Filtro"
        out.append(
            f'<div id="{gid}_DXFilterBar" class="dxgvFilterBar_XafTheme">'
            f'<span class="dxgvFilterBarCheckBoxCell_XafTheme">☑</span> {label}: '
            f"{escape(filters.GRID_FILTER_TEXT)}</div>"
        )
    out.append(f'<table id="{gid}_DXMainTable" class="dxgvTable_XafTheme">')
    head = [
        '<td class="dxgvCommandColumn_XafTheme dxgvHeaderCommand"></td>',
        '<td class="dxgvCommandColumn_XafTheme dxgvHeaderCommand"></td>',
    ]
    for column in view.shown:
        head.append(
            f'<td id="{gid}_col{column.index}" class="dxgvHeader_XafTheme" '
            f'data-col="{column.index}">{escape(column.caption_in(view.type, view.english))}'
            f"{_sort_glyph(view, column)}</td>"
        )
    out.append(f'<tr id="{gid}_DXHeadersRow0">{"".join(head)}</tr>')
    if not view.rows:
        text = "No data to display" if view.english else "Nessun dato da visualizzare"
        out.append(
            f'<tr id="{gid}_DXEmptyRow" class="dxgvEmptyDataRow_XafTheme">'
            f'<td colspan="{len(view.shown) + 2}">{text}</td></tr>'
        )
    for n, record in enumerate(view.rows):
        index = view.first_index + n
        cells = [
            '<td class="dxgvCommandColumn_XafTheme"><span class="dxICheckBox_XafTheme '
            'dxichCellSys dxWeb_edtCheckBoxUnchecked_XafTheme"></span></td>',
            '<td class="dxgvCommandColumn_XafTheme"><a class="dxbButton_XafTheme" '
            'href="javascript:;">Edit</a></td>',
        ]
        for column in view.shown:
            text = _cell_text(view, column, record, export)
            if column.caption in _PDF_LINK_HEADERS:
                cells.append(f'<td class="dxgv"><a href="javascript:;">{text}</a></td>')
            else:
                cells.append(f'<td class="dxgv">{escape(text).replace(chr(10), "<br>")}</td>')
        out.append(
            f'<tr id="{gid}_DXDataRow{index}" class="dxgvDataRow_XafTheme">{"".join(cells)}</tr>'
        )
    out.append("</table>")
    out.append(_pager(view))
    return "".join(out)


def _sort_glyph(view: GridView, column: GridColumn) -> str:
    """DevExpress's sort glyph for a sorted column's header: an image whose class names
    the direction (``dxGridView_gvHeaderSortDown_XafTheme``), nothing otherwise."""
    if view.sort[0] != column.key or not view.glyphs:
        return ""
    way, alt = ("Down", "Discendente") if view.sort[1] else ("Up", "Crescente")
    return (
        f'<span class="dx-vam"><img class="dxGridView_gvHeaderSort{way}_XafTheme" '
        f'src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" '
        f'alt="({alt})" /></span>'
    )


def _pager(view: GridView) -> str:
    pager = f"{view.grid_id}_DXPagerBottom"
    english = view.english
    numbers = []
    for page in range(view.page_count):
        if page == view.page_index:
            numbers.append(f'<b class="dxp-current">[{page + 1}]</b>')
        elif page < 3 or abs(page - view.page_index) < 3 or page >= view.page_count - 2:
            numbers.append(
                f'<a class="dxp-num" data-page="{page}" href="javascript:;">{page + 1}</a>'
            )
    summary = (
        f"Page {view.page_index + 1} of {view.page_count} ({view.total} items)"
        if english
        else f"Pagina {view.page_index + 1} di {view.page_count} ({view.total} elementi)"
    )
    size_label = "Page size:" if english else "Dimensione pagina:"
    return (
        f'<div id="{pager}" class="dxgvPagerBottomPanel_XafTheme dxpLite_XafTheme">'
        f'<span class="dxp-summary">{summary}</span> '
        f'<a class="dxp-button dxp-prev" data-page="prev" href="javascript:;">&lt;</a> '
        f"{' '.join(numbers)} "
        f'<a class="dxp-button dxp-next" data-page="next" href="javascript:;">&gt;</a> '
        f'<span class="dxp-pageSizeItem">{size_label} '
        f'<input id="{pager}_PSI" class="dxeEditArea_XafTheme" value="{view.page_size}" '
        f'onblur="ASPx.POnPageSizeBlur(\'{pager}\', event)" size="4" /></span></div>'
    )


def dialog_html(view: GridView, visible: frozenset[str]) -> str:
    """The grid's customization dialog (hidden until opened): four tabs, the fourth the
    Column Chooser with an eye per column; customers' May 2026 columns in a
    collapsed sub-panel."""
    gid = view.grid_id
    tabs = ("Sorting", "Grouping", "Filtering", "Column Chooser")
    tab_html = "".join(
        f'<li id="{gid}_DXCDPageControl_T{k}" '
        f'class="dxtc-tab{" dxtc-activeTab" if k == 0 else ""}">'
        f'<a id="{gid}_DXCDPageControl_T{k}T" class="dxtc-link" href="javascript:;" '
        f'data-tab="{k}">{name}</a></li>'
        for k, name in enumerate(tabs)
    )

    def item(column: GridColumn) -> str:
        shown = column.key in visible
        eye = "dxgvCustDialogColumnShow_XafTheme" if shown else "dxgvCustDialogColumnHide_XafTheme"
        return (
            f'<div id="{gid}_3_drag_C{column.index}" class="dxgvCustDialogColumnItem_XafTheme" '
            f'data-col="{column.index}"><span id="{gid}_3_drag_C{column.index}Chk5_D" '
            f'class="dxgvCustDialogEye {eye}"></span> '
            f'<span class="dxgvCustDialogColumnCaption">'
            f"{escape(column.caption_in(view.type, view.english))}</span></div>"
        )

    ordered = sorted(view.columns, key=lambda c: c.order)
    plain = "".join(item(c) for c in ordered if c.group is None)
    groups: dict[str, list[GridColumn]] = {}
    for column in ordered:
        if column.group is not None:
            groups.setdefault(column.group, []).append(column)
    grouped = "".join(
        f'<div id="{gid}_3_G{n}" class="dxgvCustDialogGroup_XafTheme dxgvCollapsed">'
        f'<div id="{gid}_3_G{n}_H" class="dxgvCustDialogGroupHeader_XafTheme">▸ {escape(name)}'
        f'</div><div id="{gid}_3_G{n}_C" class="dxgvCustDialogGroupContent" style="display:none">'
        f"{''.join(item(c) for c in columns)}</div></div>"
        for n, (name, columns) in enumerate(groups.items())
    )
    pages = "".join(
        f'<div id="{gid}_DXCDPageControl_C{k}" class="dxtc-content" '
        f'style="display:{"block" if k == 0 else "none"}">{body}</div>'
        for k, body in enumerate(
            (
                '<p class="dxgvCDHint">—</p>',
                '<p class="dxgvCDHint">—</p>',
                '<p class="dxgvCDHint">—</p>',
                f'<div class="dxgvCustDialogColumnList">{plain}{grouped}</div>',
            )
        )
    )
    return (
        f'<div id="{gid}_DXCDWindow" class="dxpc-mainDiv dxgvCustDialog_XafTheme" '
        'style="display:none">'
        f'<div class="dxpc-header">Customization</div>'
        f'<div id="{gid}_DXCDPageControl" class="dxtcLite_XafTheme"><ul class="dxtc-strip">'
        f"{tab_html}</ul>{pages}</div>"
        f'<div class="dxpc-footer"><a id="{gid}_DXCDWindow_DXCBtn201" '
        'class="dxbButton_XafTheme dxbDisabled_XafTheme" aria-disabled="true" '
        'href="javascript:;">Apply</a> '
        f'<a id="{gid}_DXCDWindow_DXCBtn0" class="dxbButton_XafTheme" href="javascript:;">'
        "Close</a></div></div>"
    )


def jsonable(value: Any) -> Any:
    """A grid value for the browser: dates as ``{"__date": ISO}`` (a JavaScript ``Date``
    there), decimals as numbers."""
    if isinstance(value, datetime | date):
        return {"__date": value.isoformat()}
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def client_state(view: GridView, visible: frozenset[str], *, row_values: bool) -> dict[str, Any]:
    """What the grid's client object knows: columns, pager, the products' row values."""
    shown_order = {c.key: n for n, c in enumerate(view.shown)}
    state: dict[str, Any] = {
        "columns": [
            {
                "index": c.index,
                "fieldName": c.field_name,
                "caption": c.caption_in(view.type, view.english),
                "visible": c.key in visible,
                "visibleIndex": shown_order.get(c.key, -1),
            }
            for c in view.columns
        ],
        "pageIndex": view.page_index,
        "pageCount": view.page_count,
        "pageSize": view.page_size,
        "rowsOnPage": len(view.rows),
        "firstIndex": view.first_index,
    }
    if row_values:
        state["rowValues"] = [
            {c.field_name: jsonable(c.spec.value(r, view.stamps)) for c in view.columns}
            for r in view.rows
        ]
    return state


def row_values(view: GridView, index: int, fields: Sequence[str]) -> list[Any] | None:
    """``GetRowValues`` for the row at visible ``index`` (on the current page), or ``None``."""
    offset = index - view.first_index
    if not 0 <= offset < len(view.rows):
        return None
    by_name = {c.field_name: c for c in view.columns}
    record = view.rows[offset]
    return [
        jsonable(by_name[f].spec.value(record, view.stamps)) if f in by_name else None
        for f in fields
    ]
