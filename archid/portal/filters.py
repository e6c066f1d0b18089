"""The lists' saved filters: set to "everything" before an export, put back after it.

Each list but products has a filter combo inside the main menu (spec v3,
"Filters"). The chosen item is saved in the user's profile on the server
and shared with the agent's own browser: whatever the agent chose last
("Questo mese") is what the next export gets, unless archid chooses the
wanted item first. Its value is ``xaf_xaf_a<m>`` and a suffix, and the
``a<m>`` part drifts between releases (a stale one silently chose another
filter: 25 DDT instead of 1,144), so a combo and its items are matched by
the value's suffix or the item's text, never by a whole value or an id.

The combo is found as an element whose id ends in ``_Cb`` with its value
input ``<id>_VI``, whose value ends in one of the list's suffixes (or
whose drop-down items read one of the list's texts); its items are the
``td`` cells of ``<id>_DDD_L``. An item is chosen with real clicks through
the opened drop-down (that works everywhere); the combo's client
``SetValue`` with the learned prefix is the fallback. The agent's item is
put back the same way, found by the text the combo's shown input read
before archid chose (``SetValue`` may reload the whole orders page: seconds
at the portal's speed), with ``SetValue`` of the agent's whole value as the
fallback. DDT and invoices show
rows with empty cells after a load until a real click on another item and
back refreshes them. Products have a saved grid filter instead, cleared
with the grid's ``ClearFilter()``; the grid's client API cannot read a
filter, so that one cannot be put back (their page index is).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from selenium.common.exceptions import NoSuchElementException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from archid.portal.errors import PortalError, UnexpectedPage
from archid.portal.page import FIND_JS, GRID_JS, Page
from archid.portal.texts import CUSTOMERS_VIEW, reads_any, same_text
from archid.records import ExportType

log = logging.getLogger("archid.portal")


@dataclass(frozen=True, slots=True)
class ListFilter:
    """One list's filter combo: the item archid wants, and every item's value suffix."""

    wanted: str
    texts: tuple[str, ...]
    suffixes: tuple[str, ...]

    def reads_wanted(self, value: str) -> bool:
        return value.endswith(self.wanted)

    def owns(self, value: str) -> bool:
        """Whether ``value`` is one of this list's items, whatever its prefix."""
        return any(value.endswith(suffix) for suffix in self.suffixes)


#: spec v3's table: the wanted item first (its value suffix and texts), then every suffix
FILTERS: dict[ExportType, ListFilter] = {
    ExportType.CUSTOMERS: ListFilter(
        "All_Customers",
        ("Tutti i clienti", "All Customers"),
        ("All_Customers", "Exclusiv_customers", "Free_customers"),
    ),
    ExportType.ORDERS: ListFilter(
        "ListViewSalesTableOrdersAll",
        ("Tutti gli ordini", "All Orders"),
        (
            "ListViewSalesTableOrdersAll",
            "ListViewSalesTableOrdersToday",
            "ListViewSalesTableOrdersThisWeek",
            "ListViewSalesTableOrdersThisMonth",
            "ListViewSalesTableOrdersEntered",
            "ListViewSalesTableOrdersCompleted",
            "ListViewSalesTableOrdersApprovalRM",
            "ListViewSalesTableOrdersTransferred",
            "ListViewSalesTableQuote",
        ),
    ),
    ExportType.DDT: ListFilter(
        "ListViewPackingSlipsAll",
        ("Tutti", "All"),
        (
            "ListViewPackingSlipsAll",
            "ListViewPackingSlipsToday",
            "ListViewPackingSlipsThisWeek",
            "ListViewPackingSlipsThisMonth",
            "ListViewPackingSlipsLast3Month",
        ),
    ),
    ExportType.INVOICES: ListFilter(
        "All_invoices",
        ("Tutti", "All"),
        ("All_invoices", "InvoicesLast3Month", "open_invoices", "OverDued"),
    ),
    ExportType.PRICES: ListFilter(
        "ActivePrices",
        ("Prezzi attivi", "Active prices"),
        ("ActivePrices", "ClosedPrices"),
    ),
}

#: lists whose grid shows empty cells after a load until a real click refreshes it
EMPTY_AFTER_LOAD = frozenset({ExportType.DDT, ExportType.INVOICES})

# Every combo of the page: id, value (value input, else the client object), the
# text its shown input reads, and items.
_COMBOS_JS = """
const out = [];
for (const el of document.querySelectorAll('[id$="_Cb"]')) {
  const input = document.getElementById(el.id + '_VI');
  let value = input ? input.value : null;
  const client = window[el.id];
  if ((value === null || value === '') && client && typeof client.GetValue === 'function') {
    try { value = client.GetValue(); } catch (e) { }
  }
  const shown = el.querySelector('input:not([type=hidden])');
  const list = document.getElementById(el.id + '_DDD_L');
  const items = list ? Array.from(list.querySelectorAll('td'))
    .filter((td) => !td.querySelector('td')).map((td) => td.textContent) : [];
  out.push({id: el.id, value: value === null || value === undefined ? '' : String(value),
            text: shown ? String(shown.value || '') : '', items});
}
return out;
"""

_PAGE_JS = (
    GRID_JS
    + """
const g = archidGrid();
return g && typeof g.GetPageIndex === 'function' ? g.GetPageIndex() : null;
"""
)

_GOTO_PAGE_JS = (
    GRID_JS
    + """
const g = archidGrid();
if (g && typeof g.GotoPage === 'function') { g.GotoPage(arguments[0]); }
"""
)

# The combo's client object: the window property named by its id (DevExpress's
# habit), else the one whose GetValue() is what the combo's value input holds.
_SET_VALUE_JS = (
    FIND_JS
    + """
const settable = (v) => v && typeof v === 'object' && typeof v.SetValue === 'function'
  && typeof v.GetValue === 'function';
let client = window[arguments[0]];
if (!settable(client)) {
  client = archidFind((v) => settable(v) && String(v.GetValue()) === arguments[2]);
}
if (!client) { return false; }
client.SetValue(arguments[1]);
return true;
"""
)


@dataclass(frozen=True, slots=True)
class _Combo:
    id: str
    value: str
    items: tuple[str, ...]
    #: what the combo's shown input reads (the chosen item's text), "" if none
    text: str = ""


@dataclass(frozen=True, slots=True)
class AgentChoice:
    """What the agent's profile held before archid chose its item: put back after.

    ``page`` is the grid's page index, saved per user too, which a change of
    filter moves back to the first page. Products have no item (``value``
    is empty): only their page is put back.
    """

    type: ExportType
    value: str
    page: int | None = None
    #: the item's text as the combo showed it, "" when it showed none
    text: str = ""


class Filters:
    """Setting and putting back one page's list filter."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def _combos(self) -> list[_Combo]:
        return [
            _Combo(
                str(c["id"]),
                str(c["value"]),
                tuple(str(t) for t in c["items"]),
                str(c.get("text") or ""),
            )
            for c in self.page.js(_COMBOS_JS) or []
        ]

    def _combo(self, export_type: ExportType) -> _Combo | None:
        spec = FILTERS[export_type]
        combos = self._combos()
        for combo in combos:
            if spec.owns(combo.value):
                return combo
        for combo in combos:
            if any(reads_any(item, spec.texts) for item in combo.items):
                return combo
        return None

    def prepare(self, export_type: ExportType, *, refresh: bool = False) -> AgentChoice | None:
        """Choose the wanted item of ``export_type``'s filter; what the agent had, to put back.

        With ``refresh`` (DDT and invoices after a load showed empty
        cells) the wanted item is chosen again through another item, with
        real clicks. Products: the saved grid filter is cleared (only the
        page index is kept to put back). Raises :class:`UnexpectedPage`
        when a list has no filter combo or it cannot be set.
        """
        if export_type is ExportType.PRODUCTS:
            # The filter cannot be read to put it back; the page index can.
            page = self.page.js(_PAGE_JS)
            self.page.mark()
            self.page.js(GRID_JS + "const g = archidGrid(); if (g) { g.ClearFilter(); }")
            self.page.await_callback("the grid filter's clearing")
            return AgentChoice(export_type, "", page if isinstance(page, int) else None)
        spec = FILTERS[export_type]
        combo = self._combo(export_type)
        if combo is None:
            raise UnexpectedPage(f"the {export_type} list has no filter combo", self.page.stage())
        page = self.page.js(_PAGE_JS)
        before = AgentChoice(
            export_type, combo.value, page if isinstance(page, int) else None, combo.text
        )
        if spec.reads_wanted(combo.value) and not refresh:
            return before
        if refresh and spec.reads_wanted(combo.value):
            other = next((item for item in combo.items if not reads_any(item, spec.texts)), None)
            if other is not None:
                self._choose(combo, (other,))
                combo = self._combo(export_type) or combo
        if not self._choose(combo, spec.texts):
            self._set_value(combo, spec.wanted)
        after = self._combo(export_type)
        if after is None or not spec.reads_wanted(after.value):
            shown = after.value if after is not None else "nothing"
            raise UnexpectedPage(
                f"the {export_type} filter could not be set to its {spec.texts[0]!r} item"
                f" (it holds {shown!r})",
                self.page.stage(),
            )
        return before

    def restore(self, choice: AgentChoice) -> None:
        """Put the agent's item and page back; a failure is a warning, never the export's."""
        try:
            if choice.type is ExportType.PRODUCTS:
                self._restore_page(choice)
                return
            combo = self._combo(choice.type)
            if combo is None:
                return
            if combo.value != choice.value:
                combo = self._choose_again(combo, choice)
                if combo is not None and combo.value != choice.value:
                    self.page.mark()
                    if self.page.js(_SET_VALUE_JS, combo.id, choice.value, combo.value):
                        self.page.await_callback("the filter's change")
                    combo = self._combo(choice.type)
            if combo is None or combo.value != choice.value:
                log.warning(
                    "could not put the agent's %s filter back (%s)", choice.type, choice.value
                )
                return
            self._restore_page(choice)
        except (PortalError, WebDriverException) as exc:
            log.warning("could not put the agent's %s filter back: %s", choice.type, exc)

    def _choose_again(self, combo: _Combo, choice: AgentChoice) -> _Combo | None:
        """The agent's item clicked in the drop-down, found by the text the combo
        showed; the combo as it reads after the click (``combo`` itself when
        nothing was clicked).

        Real clicks, because ``SetValue`` may reload the whole orders page
        (spec v3): a page load of seconds on every put-back. Only an item
        read by exactly one entry of the list is clicked.
        """
        if not choice.text or sum(same_text(item, choice.text) for item in combo.items) != 1:
            return combo
        if not self._choose(combo, (choice.text,)):
            return combo
        return self._combo(choice.type)

    def _restore_page(self, choice: AgentChoice) -> None:
        if choice.page is not None and self.page.js(_PAGE_JS) != choice.page:
            self.page.mark()
            self.page.js(_GOTO_PAGE_JS, choice.page)
            self.page.await_callback("the page change")

    def show_customers_list(self) -> None:
        """Customers' view combo to Clienti when the page shows the map (no grid)."""
        for combo in self._combos():
            if any(reads_any(item, CUSTOMERS_VIEW) for item in combo.items):
                self._choose(combo, CUSTOMERS_VIEW)
                return
        raise UnexpectedPage("the customers page shows no list", self.page.stage())

    # -- choosing ------------------------------------------------------------------

    def _choose(self, combo: _Combo, texts: tuple[str, ...]) -> bool:
        """Open the combo's drop-down and click the item reading one of ``texts``."""
        page = self.page
        try:
            element = page.driver.find_element(By.ID, combo.id)
        except NoSuchElementException:
            return False
        page.reveal(element)
        item = self._item(combo.id, texts)
        if item is None:
            return False
        if not page.shown(item):
            for opener in self._openers(element, combo.id):
                page.click(opener)
                if page.wait_for(lambda: page.shown(item), 2.0):
                    break
            else:
                return False
        page.mark()
        page.click(item)
        page.await_callback("the filter's change")
        return True

    def _item(self, combo_id: str, texts: tuple[str, ...]) -> WebElement | None:
        cells = self.page.driver.find_elements(By.CSS_SELECTOR, f"[id='{combo_id}_DDD_L'] td")
        for cell in cells:
            if cell.find_elements(By.CSS_SELECTOR, "td"):
                continue
            if reads_any(cell.get_attribute("textContent") or "", texts):
                return cell
        return None

    def _openers(self, element: WebElement, combo_id: str) -> list[WebElement]:
        """What may open the drop-down: its shown input, its button, the combo itself."""
        page = self.page
        found = [
            child
            for child in element.find_elements(By.CSS_SELECTOR, "input:not([type=hidden])")
            if page.shown(child)
        ]
        found += [
            button
            for button in page.driver.find_elements(By.CSS_SELECTOR, f"[id^='{combo_id}_B']")
            if page.shown(button)
        ]
        return [*found, element]

    def _set_value(self, combo: _Combo, suffix: str) -> None:
        """The client object's ``SetValue``, with the prefix the combo's value shows."""
        spec_suffix = next((s for s in _all_suffixes() if combo.value.endswith(s)), "")
        prefix = combo.value[: len(combo.value) - len(spec_suffix)] if spec_suffix else ""
        if not prefix:
            return
        self.page.mark()
        if self.page.js(_SET_VALUE_JS, combo.id, prefix + suffix, combo.value):
            self.page.await_callback("the filter's change")


def _all_suffixes() -> list[str]:
    # Longest first: "ListViewSalesTableOrdersAll" before a shorter one it ends with.
    return sorted({s for spec in FILTERS.values() for s in spec.suffixes}, key=len, reverse=True)
