"""Columns a session hides: switched on in the grid's customization dialog.

Which columns a grid shows is reset for every new session, and a new
session hides many (spec v3, "Columns": 40 of 63 orders columns, invoices'
ID VENDITE, 18 to 22 product columns); an export holds only the shown
ones. Before an export, every column archid reads (the columns of
``archid/exports/<type>.py`` that feed a field) that the grid's client
object reports hidden (``GetColumn(i).visible`` false) is switched on:
the customization dialog is opened by a real right click on a header cell
and its "Show Customization Dialog" item (``ShowCustomizationDialog()``
when no such item shows), its "Column Chooser" tab chosen, the eye of
each column clicked (item ``…_3_drag_C<i>``, ``i`` the ``GetColumn``
index; the caption as a fallback), then Apply, which stays disabled unless
the eyes got real clicks. The grid then reports every such column shown,
or the export stops with :class:`UnexpectedPage`.

The same dialog shows any other column on request (:meth:`Columns.show`):
the list survey (``grid.py``) shows a list's hidden MODIFIEDDATETIME to
sort by it. It stays shown for the session, so that the next survey opens
no dialog; when an export follows, :meth:`Columns.prepare_export` hides it
in the dialog that shows the export's columns: one Apply, and the export
holds only the columns its layout knows.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from archid.exports import SPECS
from archid.exports.parse import normalise_header
from archid.portal.errors import UnexpectedPage
from archid.portal.page import GRID_JS, Page
from archid.portal.texts import APPLY, CLOSE, COLUMN_CHOOSER, SHOW_CUSTOMIZATION
from archid.records import ExportType

_COLUMNS_JS = (
    GRID_JS
    + """
const grid = archidGrid();
if (!grid) { return null; }
const out = [];
const count = typeof grid.GetColumnCount === 'function' ? grid.GetColumnCount() : 0;
for (let i = 0; i < count; i++) {
  const c = grid.GetColumn(i);
  if (c) {
    const at = Number(c.visibleIndex);
    out.push({index: i, field: String(c.fieldName || ''), caption: String(c.caption || ''),
              visible: !!c.visible, visibleIndex: Number.isInteger(at) ? at : -1});
  }
}
return out;
"""
)

_OPEN_BY_API_JS = GRID_JS + "const g = archidGrid(); if (g) { g.ShowCustomizationDialog(); }"

_DIALOG = "[id*='DXCDWindow']"


@dataclass(frozen=True, slots=True)
class GridColumn:
    """One column as the grid's client object reports it."""

    index: int
    field: str
    caption: str
    visible: bool
    #: the position among the shown columns (``visibleIndex``); -1 when hidden or unknown
    visible_index: int = -1

    @classmethod
    def from_script(cls, column: Mapping[str, Any]) -> GridColumn:
        """From what the page's script reports of ``GetColumn(i)``."""
        return cls(
            int(column["index"]),
            str(column["field"]),
            str(column["caption"]),
            bool(column["visible"]),
            int(column["visibleIndex"]),
        )


def needed_headers(export_type: ExportType) -> frozenset[str]:
    """The normalised headers of the columns archid reads for ``export_type``."""
    return frozenset(
        normalise_header(column.header)
        for column in SPECS[export_type].columns
        if column.field is not None
    )


class Columns:
    """The grid's columns on one page, and the dialog that shows hidden ones."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def read(self) -> list[GridColumn]:
        raw = self.page.js(_COLUMNS_JS)
        if raw is None:
            raise UnexpectedPage("the list has no grid", self.page.stage())
        return [GridColumn.from_script(c) for c in raw]

    def prepare_export(self, export_type: ExportType, *, hide: Collection[str] = ()) -> bool:
        """Show every column archid reads that the session hides, and hide the shown
        columns whose field is in ``hide`` (a survey's MODIFIEDDATETIME), in one
        dialog and one Apply; whether anything had to change.

        A column the export reads is never hidden. :class:`UnexpectedPage`
        when the grid is not as asked after the Apply.
        """
        wanted = needed_headers(export_type)
        unwanted = {name.casefold() for name in hide}

        def wrong() -> tuple[list[GridColumn], list[GridColumn]]:
            columns = self.read()
            needed = [c for c in columns if normalise_header(c.caption) in wanted]
            extra = [
                c
                for c in columns
                if c.visible and c.field.casefold() in unwanted and c not in needed
            ]
            return [c for c in needed if not c.visible], extra

        hidden, extra = wrong()
        if not hidden and not extra:
            return False
        self._switch([(c, True) for c in hidden] + [(c, False) for c in extra])
        hidden, extra = wrong()
        if hidden or extra:
            still = [f"hides {', '.join(c.caption for c in hidden)}"] if hidden else []
            still += [f"shows {', '.join(c.field for c in extra)}"] if extra else []
            raise UnexpectedPage(
                f"the {export_type} grid still {' and '.join(still)} after the column"
                " chooser's Apply",
                self.page.stage(),
            )
        return True

    def show(self, columns: list[GridColumn]) -> None:
        """Switch ``columns`` on; :class:`UnexpectedPage` when the grid still hides one."""
        wanted = {c.index for c in columns}
        hidden = [c for c in self.read() if c.index in wanted and not c.visible]
        if not hidden:
            return
        self._switch([(c, True) for c in hidden])
        still = [c.caption for c in self.read() if c.index in wanted and not c.visible]
        if still:
            raise UnexpectedPage(
                f"the grid still hides {', '.join(still)} after the column chooser's Apply",
                self.page.stage(),
            )

    def _switch(self, changes: Sequence[tuple[GridColumn, bool]]) -> None:
        """In one dialog, click the eye of each column (to show it when its flag is
        true, else to hide it), then Apply (if any eye was found)."""
        dialog = self._open_dialog()
        self._choose_tab(dialog)
        clicked = 0
        for column, show in changes:
            eye = self._eye(dialog, column, showing=not show)
            if eye is None:
                continue
            self.page.click(eye)
            clicked += 1
        if clicked:
            self._apply(dialog)
        self._close(dialog)

    # -- the dialog ------------------------------------------------------------------

    def _dialog(self) -> WebElement | None:
        shown = self.page.shown_matching(_DIALOG)
        return shown[0] if shown else None

    def _open_dialog(self) -> WebElement:
        page = self.page
        # A column's header cell (id ending _col<k>), not the command column's.
        headers = [
            cell
            for cell in page.shown_matching("td[class*='dxgvHeader']")
            if re.search(r"_col\d+$", cell.get_attribute("id") or "")
        ]
        if headers:
            page.context_click(headers[0])
            items: list[WebElement] = []

            def menu_item() -> bool:
                found = page.elements_reading("a, span, li", SHOW_CUSTOMIZATION)
                items[:] = [e for e in found if page.shown(e)]
                return bool(items)

            if page.wait_for(menu_item, 3.0):
                page.click(items[-1])
        if not page.wait_for(lambda: self._dialog() is not None, 3.0):
            # The API is unreliable headless on the real portal: the fallback only.
            page.js(_OPEN_BY_API_JS)
        dialogs: list[WebElement] = []

        def opened() -> bool:
            found = self._dialog()
            dialogs[:] = [found] if found is not None else []
            return bool(dialogs)

        if not page.wait_for(opened, page.timeout):
            raise UnexpectedPage("the grid's customization dialog did not open", page.stage())
        return dialogs[0]

    def _choose_tab(self, dialog: WebElement) -> None:
        page = self.page
        tabs = [t for t in dialog.find_elements(By.CSS_SELECTOR, "[id$='_DXCDPageControl_T3T']")]
        tabs += page.elements_reading("[id*='DXCDPageControl'] *", COLUMN_CHOOSER, within=dialog)
        for tab in tabs:
            if page.shown(tab):
                page.click(tab)
                break
        items = "[class*='CustDialogColumnItem']"
        if not page.wait_for(lambda: bool(page.shown_matching(items, within=dialog)), 5.0):
            raise UnexpectedPage("the column chooser lists no columns", page.stage())
        page.wait_idle(filled=False)

    def _eye(self, dialog: WebElement, column: GridColumn, *, showing: bool) -> WebElement | None:
        """The eye of ``column`` (by its ``GetColumn`` index, else by caption among the
        eyes in the state ``showing`` says: ``ColumnShow`` or ``ColumnHide``)."""
        page = self.page
        for eye in dialog.find_elements(By.CSS_SELECTOR, f"[id$='_3_drag_C{column.index}Chk5_D']"):
            if page.shown(eye):
                return eye
        wanted = normalise_header(column.caption)
        state = "ColumnShow" if showing else "ColumnHide"
        for item in dialog.find_elements(By.CSS_SELECTOR, "[class*='CustDialogColumnItem']"):
            if normalise_header(item.get_attribute("textContent") or "") != wanted:
                continue
            for eye in item.find_elements(By.CSS_SELECTOR, f"[class*='{state}']"):
                if page.shown(eye):
                    return eye
        return None

    def _apply(self, dialog: WebElement) -> None:
        if not self._press(dialog, "_DXCDWindow_DXCBtn201", APPLY):
            raise UnexpectedPage("the column chooser has no Apply button", self.page.stage())

    def _close(self, dialog: WebElement) -> None:
        if self._dialog() is not None:
            self._press(dialog, "_DXCDWindow_DXCBtn0", CLOSE)

    def _press(self, dialog: WebElement, id_suffix: str, texts: tuple[str, ...]) -> bool:
        """Click the dialog's shown button with this id ending (spec v3) or text."""
        page = self.page
        buttons = dialog.find_elements(By.CSS_SELECTOR, f"[id$='{id_suffix}']")
        buttons += page.elements_reading("a, button, div[id*='DXCBtn']", texts, within=dialog)
        for button in buttons:
            if page.shown(button):
                # Apply re-renders the grid through a callback: watched as one.
                page.mark()
                page.click(button)
                page.await_callback("the column chooser")
                return True
        return False
