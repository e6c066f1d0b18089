"""What archid reads from a list's grid without exporting it: a change check, the newest customers.

Both reads run on a list page the client has opened with the export's
filter prepared (``client.py``), and both use only what spec v3 ("List
view pages") names: the grid's client object (``GetColumn``,
``GetRowValues``, ``GetPageIndex``, ``GetPageCount``, ``GotoPage``,
``GetVisibleRowsOnPage``), header cells (``td.dxgvHeader_XafTheme``, ids
ending ``_col<k>``), data rows (``tr.dxgvDataRow_XafTheme``), the empty
row, and the pager (``…_DXPagerBottom``, its ``_PSI`` page size input and
``ASPx.POnPageSizeBlur``). A header click sorts ascending, a second click
descending, through a callback; sort, page index and page size are saved
per user, so whatever a read changes is put back.

What the spec leaves open is read the DevExpress way and checked, never
guessed:

* **The sort** shows as DevExpress's glyph in the sorted header cell, an
  element whose class contains ``SortDown`` (descending) or ``SortUp``. A
  sort archid needs is set with one ``SortBy(column, "DSC"|"ASC", true)``
  where the grid's object has it (DevExpress's documented client API: one
  callback where a descending sort takes two header clicks), else, or
  when the glyph does not then show it, by header clicks until the glyph
  says so (or, for the customers' IDs, the rows read show it). A sort it
  cannot read (no glyph, or several) is not put back: a log line says so
  and the grid stays sorted as archid left it.
* **A callback's end** is watched closer than spec v3's idle rule
  (:meth:`Page.await_callback`): a grid callback costs about 0.5 s on the
  real portal, and the rule's three looks 200 ms apart would add 0.6 s to
  each.

:func:`survey` reads a :class:`ListSurvey` (the newest ``MODIFIEDDATETIME``
and the row count: has the list changed since the last export?);
:func:`recent_customers` reads the newest customers (the page of highest
IDs) as the export's parser would read them, for the order form.

Blocking; used by the client's one thread.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    JavascriptException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By

from archid.exports import SPECS, WrongLocale
from archid.exports.layout import Column, Drop
from archid.exports.parse import match_headers, normalise_header
from archid.portal.budget import PORTAL_ZONE
from archid.portal.columns import Columns, GridColumn
from archid.portal.errors import (
    BrowserFailure,
    PortalError,
    SessionExpired,
    UnexpectedPage,
)
from archid.portal.page import GRID_JS, Page
from archid.records import Customer, ExportType

__all__ = [
    "MODIFIED_FIELD",
    "RECENT_PAGE_SIZE",
    "Grid",
    "ListSurvey",
    "RecentRows",
    "SortKey",
    "Unchanged",
    "recent_customers",
    "survey",
]

log = logging.getLogger("archid.portal")

#: the field every list but customers has (spec v3): the row's last modification
MODIFIED_FIELD = "MODIFIEDDATETIME"
#: the page size the newest customers are read with (the pager's largest)
RECENT_PAGE_SIZE = 200
#: clicks on a header before its sort is given up (none to ascending to descending is 2)
_SORT_CLICKS = 3

#: what a read may meet that fails the read, not the export: the page not as
#: expected, a callback that errs, an element replaced under a click
_READ_FAILURES = (
    JavascriptException,
    StaleElementReferenceException,
    NoSuchElementException,
    ElementNotInteractableException,
    ElementClickInterceptedException,
)


@dataclass(frozen=True, slots=True)
class ListSurvey:
    """A look at a list before its export: has it changed since the last one?

    Read under the export's filter, so ``row_count`` counts what the export
    would hold. ``None`` means unknown (not readable, or the read failed):
    the daemon then exports.
    """

    export_type: ExportType
    #: the newest MODIFIEDDATETIME of the list, aware UTC; ``None``: not readable or empty
    newest_modified: datetime | None
    #: rows the grid holds under the export's filter; ``None``: unknown
    row_count: int | None
    #: this machine's clock (aware UTC) when read
    read_at: datetime


@dataclass(frozen=True, slots=True)
class Unchanged:
    """An export skipped: the caller's ``skip`` judged the survey unchanged.

    ``seconds`` has the keys ``login``, ``page_load`` and ``survey``;
    ``logins`` counts the logins it needed (0 when the session was reused).
    """

    survey: ListSurvey
    seconds: dict[str, float]
    logins: int = 0


@dataclass(frozen=True, slots=True)
class RecentRows:
    """The newest customers as the grid shows them, newest first.

    Each record holds what the customers export would give for the fields
    the grid shows (``read``); every other field is ``None`` and in the
    record's ``unread`` (the store keeps what it has), as is a field whose
    cell could not be read. ``skipped`` counts rows without a readable ID.
    ``seconds`` has the keys ``login``, ``page_load``, ``grid`` (sort,
    page), ``read`` (the first page), ``page_size`` (the page size set to
    200 and the page read again, when it was not 200 already) and
    ``restore`` (the agent's page size, sort, page and filter put back);
    ``callbacks`` counts the grid callbacks made. ``complete`` is false for
    the first page read at the agent's page size, before the page size
    changed: the newest customers, but not yet all of the 200.
    """

    records: list[Customer]
    seconds: dict[str, float]
    read: frozenset[str] = frozenset()
    skipped: int = 0
    logins: int = 0
    callbacks: int = 0
    complete: bool = True


@dataclass(frozen=True, slots=True)
class SortKey:
    """A column the grid is sorted by: its ``GetColumn`` index and direction."""

    index: int
    descending: bool


@dataclass(frozen=True, slots=True)
class _Header:
    index: int
    element_id: str
    #: ``True``: sorted descending, ``False``: ascending, ``None``: not sorted
    sorted: bool | None


@dataclass(frozen=True, slots=True)
class GridState:
    """One look at the grid: columns, headers, pager, rows on the page."""

    columns: tuple[GridColumn, ...]
    headers: tuple[_Header, ...]
    #: header cells with a sort glyph archid could not tie to a column
    unmatched_sorts: int
    page_index: int | None
    page_count: int | None
    page_size: int | None
    #: the pager summary's "(N elementi)"
    total: int | None
    rows_on_page: int
    empty: bool

    @property
    def sorts(self) -> tuple[SortKey, ...] | None:
        """The sort the headers show; ``None`` when a glyph names no known column."""
        if self.unmatched_sorts:
            return None
        return tuple(SortKey(h.index, h.sorted) for h in self.headers if h.sorted is not None)

    def column(self, index: int) -> GridColumn | None:
        return next((c for c in self.columns if c.index == index), None)

    def header(self, index: int) -> _Header | None:
        return next((h for h in self.headers if h.index == index), None)


# -- JavaScript ------------------------------------------------------------------------

_STATE_JS = (
    GRID_JS
    + """
const grid = archidGrid();
if (!grid) { return null; }
const call = (name, ...args) => {
  try { return typeof grid[name] === 'function' ? grid[name](...args) : null; }
  catch (e) { return null; }
};
const columns = [];
const count = call('GetColumnCount') || 0;
for (let i = 0; i < count; i++) {
  const c = grid.GetColumn(i);
  if (c) {
    const at = Number(c.visibleIndex);
    columns.push({index: i, field: String(c.fieldName || ''), caption: String(c.caption || ''),
                  visible: !!c.visible, visibleIndex: Number.isInteger(at) ? at : -1});
  }
}
const headers = [];
for (const cell of document.querySelectorAll('td[class*="dxgvHeader"]')) {
  const m = /_col(\\d+)$/.exec(cell.id || '');
  if (!m) { continue; }
  let sorted = null;
  for (const el of cell.querySelectorAll('[class]')) {
    const cls = String(el.getAttribute('class') || '');
    if (cls.includes('SortDown')) { sorted = true; break; }
    if (cls.includes('SortUp')) { sorted = false; break; }
  }
  headers.push({id: cell.id, k: Number(m[1]), text: cell.textContent, sorted});
}
const pager = document.querySelector('[id$="_DXPagerBottom"]');
const size = document.querySelector('input[id$="_DXPagerBottom_PSI"]');
return {columns, headers, pageIndex: call('GetPageIndex'), pageCount: call('GetPageCount'),
        rowsOnPage: call('GetVisibleRowsOnPage'),
        pageSize: size ? size.value : null, summary: pager ? pager.textContent : '',
        rows: document.querySelectorAll('tr[class*="dxgvDataRow"]').length,
        empty: !!document.querySelector('[class*="dxgvEmptyDataRow"]')};
"""
)

# GetRowValues(row, field, cb): the answer lands in window.archidAnswer (which
# Page.await_callback watches). A
# Date is given as its local fields: the portal's wall clock, whatever the
# browser's time zone (DevExpress builds the Date from them).
_ROW_VALUE_JS = (
    GRID_JS
    + """
window.archidAnswer = undefined;
const grid = archidGrid();
if (!grid) { return false; }
grid.GetRowValues(arguments[0], arguments[1], function (v) {
  if (Object.prototype.toString.call(v) === '[object Date]') {
    window.archidAnswer = {date: isNaN(v.getTime()) ? null :
      [v.getFullYear(), v.getMonth() + 1, v.getDate(), v.getHours(), v.getMinutes(),
       v.getSeconds(), v.getMilliseconds()]};
  } else {
    window.archidAnswer = {value: v === undefined ? null : v};
  }
});
return true;
"""
)

_GOTO_JS = GRID_JS + "archidGrid().GotoPage(arguments[0]);"

# DevExpress's SortBy(column, order, reset), given the GetColumn object; false
# when the grid has none (spec v3 names only header clicks) or it throws.
_SORT_BY_JS = (
    GRID_JS
    + """
const grid = archidGrid();
if (!grid || typeof grid.SortBy !== 'function') { return false; }
try { grid.SortBy(grid.GetColumn(arguments[0]), arguments[1] ? 'DSC' : 'ASC', true); }
catch (e) { return false; }
return true;
"""
)

# The page size: written into the pager's _PSI input, then DevExpress's own
# handler (spec v3; PerformCallback('PAGESIZE|…') does nothing).
_PAGE_SIZE_JS = """
const input = document.querySelector('input[id$="_DXPagerBottom_PSI"]');
if (!input || !window.ASPx || typeof ASPx.POnPageSizeBlur !== 'function') { return false; }
input.value = String(arguments[0]);
ASPx.POnPageSizeBlur(input.id.slice(0, -'_PSI'.length), new Event('blur'));
return true;
"""

# Every data row's cells as lines of text (a <br> breaks a line, as in the PDF).
_ROWS_JS = """
return Array.from(document.querySelectorAll('tr[class*="dxgvDataRow"]')).map((row) =>
  Array.from(row.querySelectorAll(':scope > td')).map((td) =>
    (td.innerText || td.textContent || '').split('\\n').map((s) => s.trim()).filter(Boolean)));
"""

_TOTAL = re.compile(r"\(\s*(\d[\d.,\s]*?)\s+(?:elementi|items)\s*\)", re.IGNORECASE)


def _total(summary: str) -> int | None:
    """N of the pager's "(N elementi)" / "(N items)" (thousands separators allowed)."""
    match = _TOTAL.search(summary or "")
    if match is None:
        return None
    digits = re.sub(r"[.,\s]", "", match.group(1))
    return int(digits) if digits.isdigit() else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _same(a: str, b: str) -> bool:
    return normalise_header(a) == normalise_header(b)


# -- the grid ------------------------------------------------------------------------


class Grid:
    """The grid of the page's list view, for the client's one thread.

    Every method that makes a callback waits for its answer; ``callbacks``
    counts them.
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.callbacks = 0

    # -- looking ------------------------------------------------------------------

    def state(self) -> GridState:
        """One look at columns, headers (and their sort glyphs), pager and rows."""
        raw = self.page.js(_STATE_JS)
        if raw is None:
            raise UnexpectedPage("the list has no grid", self.page.stage())
        columns = tuple(GridColumn.from_script(c) for c in raw["columns"])
        by_index = {c.index: c for c in columns}
        headers: list[_Header] = []
        unmatched = 0
        for cell in raw["headers"]:
            # The _col<k> of a header is GetColumn's index where its caption agrees;
            # else the one shown column with the header's caption.
            k, text = int(cell["k"]), str(cell["text"])
            sorted_ = cell["sorted"] if isinstance(cell["sorted"], bool) else None
            column = by_index.get(k)
            if column is None or not _same(column.caption, text):
                alike = [c for c in columns if c.visible and _same(c.caption, text)]
                column = alike[0] if len(alike) == 1 else None
            if column is None:
                unmatched += sorted_ is not None
                continue
            headers.append(_Header(column.index, str(cell["id"]), sorted_))
        return GridState(
            columns=columns,
            headers=tuple(headers),
            unmatched_sorts=unmatched,
            page_index=_int(raw["pageIndex"]),
            page_count=_int(raw["pageCount"]),
            page_size=_int(raw["pageSize"]),
            total=_total(str(raw["summary"] or "")),
            rows_on_page=_int(raw["rows"]) or 0,
            empty=bool(raw["empty"]),
        )

    def rows(self) -> list[list[tuple[str, ...]]]:
        """The data rows of the page: each cell's lines of text, in DOM order."""
        self.page.wait_filled()
        return [[tuple(cell) for cell in row] for row in self.page.js(_ROWS_JS) or []]

    # -- acting ---------------------------------------------------------------------

    def sort_by(self, index: int, descending: bool) -> bool | None:
        """Sort by column ``index`` until its glyph shows the wanted sort alone.

        On a grid showing a sort glyph, one ``SortBy`` first where the grid
        has it; then (no glyph, no ``SortBy``, or a glyph that does not
        show the wanted sort) header clicks.
        ``True`` once the glyph shows it; ``False`` when the column has no
        header cell or the glyphs show another sort after
        :data:`_SORT_CLICKS` clicks; ``None`` when no header shows a glyph
        at all after a click (a grid that draws none): the header was then
        clicked as spec v3 says (once ascending, twice descending),
        unconfirmed.
        """
        wanted = (SortKey(index, descending),)
        clicks = 0
        tried_sort_by = False
        while True:
            state = self.state()
            if state.sorts == wanted:
                return True
            # SortBy once, before any click, and only on a grid that shows a glyph:
            # elsewhere the clicks (which toggle) would have to guess what it did.
            if not clicks and not tried_sort_by and state.sorts:
                tried_sort_by = True
                if self._sort_by_api(index, descending):
                    continue
            if clicks and state.sorts == () and not state.unmatched_sorts:
                if descending and clicks == 1:
                    self.click_header(index)
                return None
            if clicks == _SORT_CLICKS or state.header(index) is None:
                return False
            self.click_header(index)
            clicks += 1

    def _sort_by_api(self, index: int, descending: bool) -> bool:
        """One ``SortBy`` callback, waited for; whether the grid had the method."""
        self.page.mark()
        if not self.page.js(_SORT_BY_JS, index, descending):
            return False
        self._await("a sort")
        return True

    def click_header(self, index: int) -> None:
        """One real click on the header of column ``index`` (a sort), waited for;
        :class:`UnexpectedPage` when the column shows no header."""
        header = self.state().header(index)
        if header is None:
            raise UnexpectedPage(f"column {index} has no header cell", self.page.stage())
        cell = self.page.driver.find_element(By.ID, header.element_id)
        self._callback(partial(self.page.click, cell), "a sort")

    def set_page_size(self, size: int) -> bool:
        """Write ``size`` into the pager and apply it; whether the pager then shows it."""
        self.page.mark()
        if not self.page.js(_PAGE_SIZE_JS, size):
            return False
        self._await("the page size")
        return self.state().page_size == size

    def goto_page(self, index: int) -> None:
        """``GotoPage(index)``, waited for."""
        self._callback(lambda: self.page.js(_GOTO_JS, index), "a page change")

    def row_value(self, row: int, field_name: str) -> Any:
        """``GetRowValues(row, field_name)``: a Date as its local fields ``[y, m, d, H, M, S,
        ms]`` (``{"date": ...}``), anything else as ``{"value": ...}``.

        On most lists this is a server request per row that leaves the grid
        in callback: waited for. :class:`UnexpectedPage` when the grid ends
        its callback without an answer (an error banner).
        """
        self.page.mark()
        if not self.page.js(_ROW_VALUE_JS, row, field_name):
            raise UnexpectedPage("the list has no grid", self.page.stage())
        answer = self._await("GetRowValues", answer=True)
        if not isinstance(answer, dict):
            raise UnexpectedPage(
                f"the grid gave no {field_name} for row {row} (GetRowValues)", self.page.stage()
            )
        return answer

    def row_count(self, state: GridState) -> int | None:
        """The rows the grid holds: the pager's "(N elementi)", else counted from the
        pages (``(GetPageCount() - 1) × page size`` plus the last page's rows, the
        page index put back); ``None`` when neither can be read."""
        if state.total is not None:
            return state.total
        if state.empty:
            return 0
        pages, size, here = state.page_count, state.page_size, state.page_index
        if pages is None or pages < 1:
            return None
        if pages == 1:
            return state.rows_on_page
        if size is None or here is None:
            return None
        self.goto_page(pages - 1)
        last = _int(self.page.js(GRID_JS + "return archidGrid().GetVisibleRowsOnPage();"))
        self.goto_page(here)
        return None if last is None else (pages - 1) * size + last

    # -- callbacks ------------------------------------------------------------------

    def _callback(self, act: Callable[[], object], what: str) -> None:
        self.page.mark()
        act()
        self._await(what)

    def _await(self, what: str, *, answer: bool = False) -> Any:
        self.callbacks += 1
        return self.page.await_callback(what, answer=answer)


# -- the list survey ---------------------------------------------------------------------


def survey(page: Page, export_type: ExportType, now: Callable[[], datetime]) -> ListSurvey:
    """Read ``export_type``'s :class:`ListSurvey` on the open list (filter prepared).

    The newest MODIFIEDDATETIME is row 0's ``GetRowValues(0,
    "MODIFIEDDATETIME")`` on the first page, with the grid sorted by that
    field descending: orders are by default (on a hidden column, so no
    header shows a sort: taken as the default); every other list is sorted
    so with header clicks first, its hidden column shown for it in the
    customization dialog. That column stays shown: columns are the
    session's own (spec v3), so the agent never sees it, and the session's
    next survey needs no dialog; an export hides it
    (:meth:`~archid.portal.columns.Columns.prepare_export`). The sort and
    the page index, saved per user, are put back before this returns (a
    sort that could not be read is left, with a log line). A part that cannot be
    read is ``None``; only a session found ended (:class:`SessionExpired`)
    and a browser gone (:class:`BrowserFailure`, Selenium's own) leave as
    errors.
    """
    grid = Grid(page)
    state = grid.state()
    modified = next(
        (c for c in state.columns if c.field.casefold() == MODIFIED_FIELD.casefold()), None
    )
    newest: datetime | None = None
    resorted = False
    try:
        with _read_failure(f"read the {export_type} list's newest {MODIFIED_FIELD}"):
            if modified is None:
                raise UnexpectedPage(f"the grid has no {MODIFIED_FIELD} field", page.stage())
            if not _sorted_newest_first(export_type, modified, state):
                resorted = True
                if not modified.visible:
                    Columns(page).show([modified])
                if grid.sort_by(modified.index, True) is not True:
                    raise UnexpectedPage(
                        f"the headers do not show the grid sorted by {MODIFIED_FIELD}",
                        page.stage(),
                    )
            if grid.state().page_index not in (0, None):
                grid.goto_page(0)
            after = grid.state()
            if not after.empty and after.rows_on_page:
                newest = _utc(grid.row_value(0, MODIFIED_FIELD))
        count: int | None = None
        with _read_failure(f"read the {export_type} list's row count"):
            count = grid.row_count(grid.state())
    finally:
        _put_back(grid, export_type, state, resorted)
    return ListSurvey(export_type, newest, count, now())


def _sorted_newest_first(export_type: ExportType, modified: GridColumn, state: GridState) -> bool:
    """Whether row 0 is the newest modification without a click."""
    if state.sorts == (SortKey(modified.index, True),):
        return True
    # Orders are sorted by their hidden MODIFIEDDATETIME, newest first, unless the
    # agent clicked a header (spec v3's default sorts): a hidden column shows no glyph.
    return export_type is ExportType.ORDERS and not modified.visible and state.sorts == ()


def _utc(answer: Mapping[str, Any]) -> datetime | None:
    """A GetRowValues date (the portal's wall clock, Europe/Rome) as aware UTC."""
    parts = answer.get("date")
    if not isinstance(parts, list) or len(parts) != 7:
        return None
    y, mo, d, h, mi, s, ms = (int(p) for p in parts)
    local = datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=PORTAL_ZONE)
    return local.astimezone(UTC)


def _put_back(grid: Grid, export_type: ExportType, before: GridState, resorted: bool) -> None:
    """The sort and the page index as they were; failures are logged."""
    if resorted:
        with _read_failure(f"put the {export_type} list's sort back"):
            _resort(grid, f"the {export_type} list", before.sorts, MODIFIED_FIELD)
    with _read_failure(f"put the {export_type} list's page back"):
        was = before.page_index
        if was is not None and grid.state().page_index != was:
            grid.goto_page(was)


def _resort(grid: Grid, what: str, sorts: tuple[SortKey, ...] | None, now_by: str) -> None:
    """Sort as ``sorts`` (what the headers showed before) when that can be clicked back."""
    if sorts is None or len(sorts) > 1:
        log.warning("%s's sort could not be read before: it stays sorted by %s", what, now_by)
    elif not sorts:
        # A sort on a hidden column shows no glyph, and only a shown header can be clicked.
        log.warning("%s showed no sorted header before: it stays sorted by %s", what, now_by)
    elif grid.state().sorts != sorts and grid.sort_by(sorts[0].index, sorts[0].descending) is False:
        log.warning("could not put %s's sort back: it stays sorted by %s", what, now_by)


@contextmanager
def _read_failure(doing: str) -> Iterator[None]:
    """A failure inside is logged and swallowed, but a session found ended or a browser gone."""
    try:
        yield
    except (SessionExpired, BrowserFailure):
        raise
    except (PortalError, *_READ_FAILURES) as exc:
        log.warning("the survey could not %s: %s", doing, exc)


# -- the newest customers ------------------------------------------------------------------


@dataclass(slots=True)
class _Reading:
    """What :func:`recent_customers` found, filled in as it goes."""

    records: list[Customer] = field(default_factory=list)
    read: frozenset[str] = frozenset()
    skipped: int = 0


def recent_customers(
    page: Page,
    seconds: dict[str, float],
    on_read: Callable[[RecentRows], None] | None = None,
) -> RecentRows:
    """The customers of the grid's first page at 200 rows sorted by ID descending: the newest.

    On the open customers list (filter prepared): the sort is set to ID
    descending, unless so already, and the first page's rows are read from
    the DOM, each cell mapped to a column through ``GetColumn``'s
    ``visibleIndex`` and each column to a customer field by the export's
    header rules and value parsers (:data:`archid.exports.SPECS`), so a
    cell gives what the export would. No hidden column is shown. When the
    page size is not :data:`RECENT_PAGE_SIZE`, that first page goes to
    ``on_read`` (``complete`` false) before the page size is set and the
    first page read again. Then the sort and the page size are put back
    (the caller puts the filter and the page index back). ``seconds`` gets
    ``grid``, ``read``, ``page_size`` (when set) and ``restore``.
    ``on_read`` is given each read as soon as it is made, the complete one
    last, before anything is put back (the order form need not wait for
    that).

    Raises :class:`UnexpectedPage` when the grid shows no ID column, its
    captions are not the Italian export's, or the rows cannot be shown
    sorted by ID descending.
    """
    grid = Grid(page)
    mark = time.monotonic()
    before = grid.state()
    spec = SPECS[ExportType.CUSTOMERS]
    shown = sorted(
        (c for c in before.columns if c.visible and c.visible_index >= 0),
        key=lambda c: c.visible_index,
    )
    match = match_headers(spec, [[c.caption for c in shown]])
    captioned = [c for c in shown if c.caption.strip()]
    if match.matched * 2 < len(captioned):
        raise UnexpectedPage(
            "the customers grid's captions are not the Italian export's headers"
            f" ({match.matched} of {len(captioned)} known): an English profile?",
            page.stage(),
        )
    fields = {
        j: spec.columns[i]
        for j, i in enumerate(match.columns)
        if i is not None and spec.columns[i].field is not None
    }
    ids = [shown[j] for j, column in fields.items() if column.field == "id"]
    if not ids:
        raise UnexpectedPage("the customers grid shows no ID column", page.stage())
    id_column = ids[0]
    reading = _Reading()
    changed_size = False
    sorted_: bool | None = before.sorts == (SortKey(id_column.index, True),)
    resorted = not sorted_

    def rows_read(complete: bool) -> RecentRows:
        return RecentRows(
            reading.records,
            dict(seconds),
            read=reading.read,
            skipped=reading.skipped,
            callbacks=grid.callbacks,
            complete=complete,
        )

    def read() -> _Reading:
        nonlocal sorted_
        reading = _read_rows(grid.rows(), shown, fields, page)
        if sorted_ is None and not _descending([c.id for c in reading.records]):
            # A grid without glyphs that was by ID ascending already: one more click.
            grid.click_header(id_column.index)
            reading = _read_rows(grid.rows(), shown, fields, page)
            if not _descending([c.id for c in reading.records]):
                raise UnexpectedPage(
                    "the customers grid could not be sorted by ID descending", page.stage()
                )
            sorted_ = True
        return reading

    try:
        if not sorted_:
            sorted_ = grid.sort_by(id_column.index, True)
        if sorted_ is False:
            raise UnexpectedPage("the customers grid could not be sorted by ID", page.stage())
        resize = before.page_size != RECENT_PAGE_SIZE
        # The newest customers are on the first page at the agent's page size:
        # read there, they need not wait for the page size callback.
        early = resize and grid.state().page_index in (0, None)
        if not early:
            changed_size = resize  # before the callback: a failed one is put back too
            _first_page(grid, resize)
        seconds["grid"] = time.monotonic() - mark
        mark = time.monotonic()
        reading = read()
        seconds["read"] = time.monotonic() - mark
        if early:
            if on_read is not None:
                on_read(rows_read(complete=False))
            mark = time.monotonic()
            changed_size = True
            _first_page(grid, resize)
            reading = read()
            seconds["page_size"] = time.monotonic() - mark
        if on_read is not None:
            on_read(rows_read(complete=True))
    finally:
        mark = time.monotonic()
        _restore_recent(grid, before, resorted, changed_size)
        seconds["restore"] = time.monotonic() - mark
    return rows_read(complete=True)


def _read_rows(
    rows: Sequence[Sequence[tuple[str, ...]]],
    shown: Sequence[GridColumn],
    fields: Mapping[int, Column],
    page: Page,
) -> _Reading:
    """Rows of cell lines → customers, as the export's parser would make them."""
    spec = SPECS[ExportType.CUSTOMERS]
    read = frozenset(column.field for column in fields.values() if column.field is not None)
    unread = frozenset(c.field for c in spec.columns if c.field is not None) - read
    base: dict[str, Any] = {c.field: None for c in spec.columns if c.field is not None}
    reading = _Reading(read=read)
    for cells in rows:
        # The cells the column model does not cover come first: the selection
        # box and "Edit" (spec v3), unless the model counts them as columns.
        offset = len(cells) - len(shown)
        if offset < 0:
            raise UnexpectedPage(
                f"a customers row has {len(cells)} cells for {len(shown)} shown columns",
                page.stage(),
            )
        values = dict(base)
        bad: set[str] = set()
        keyless = False
        for j, column in fields.items():
            lines = cells[offset + j]
            name = column.field
            if not lines or name is None:
                continue
            try:
                values[name] = column.convert(lines)
            except WrongLocale as exc:
                raise UnexpectedPage(f"the customers grid: {exc}", page.stage()) from exc
            except ValueError:
                if column.strict:
                    keyless = True
                    break
                bad.add(name)
        if keyless:
            reading.skipped += 1
            continue
        values["unread"] = unread | bad
        record = spec.finish(values)
        if isinstance(record, Drop) or not isinstance(record, Customer):
            reading.skipped += 1
            continue
        reading.records.append(record)
    return reading


def _first_page(grid: Grid, resize: bool) -> None:
    """The grid at :data:`RECENT_PAGE_SIZE` rows a page when ``resize``, on its first page."""
    if resize and not grid.set_page_size(RECENT_PAGE_SIZE):
        log.warning("the customers grid did not take the page size %d", RECENT_PAGE_SIZE)
    if grid.state().page_index not in (0, None):
        grid.goto_page(0)


def _descending(ids: Sequence[str]) -> bool:
    numbers = [int(i) for i in ids if i.isdigit()]
    return len(numbers) == len(ids) and all(a > b for a, b in itertools.pairwise(numbers))


def _restore_recent(grid: Grid, before: GridState, resorted: bool, changed_size: bool) -> None:
    """The sort, then the page size, as the agent had them; failures are logged.

    The sort first: a page size change moves the grid to its first page,
    which the caller's page index put back then corrects.
    """
    try:
        if resorted:
            _resort(grid, "the customers list", before.sorts, "ID")
        if changed_size and before.page_size is not None:
            if not grid.set_page_size(before.page_size):
                log.warning("could not put the customers list's page size back")
        elif changed_size:
            log.warning("the customers list's page size could not be read: it stays at 200")
    except (SessionExpired, BrowserFailure):
        raise
    except (PortalError, *_READ_FAILURES) as exc:
        log.warning("could not put the customers list back: %s", exc)
