"""One loaded portal page as archid sees it: what it is, when it is idle, real clicks.

Built on as little of the page as spec v3 gives: the main menu's
``Vertical_mainMenu`` ids, the grid's client object (found as the
``window`` property that has ``GetColumn`` and ``GetRowValues``, never by
its per-session id), DevExpress's loading panels and ``InCallback()``,
the navigation's HTTP status, and texts. A page the spec does not record
(a block, a maintenance page, a server error) is recognised by what it
lacks and by its status, never by ids of its own.

Blocking; used by the client's one thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    JavascriptException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.remote.webelement import WebElement

from archid.portal.errors import (
    ExportRejected,
    ExportTimeout,
    PortalBlocked,
    PortalUnavailable,
    SessionExpired,
    Stage,
    UnexpectedPage,
)
from archid.portal.texts import REQUESTED_OBJECTS, SHOW_HIDDEN_ITEMS, normalise, reads_any

#: JavaScript that defines ``archidGrid()``: the grid's client object, or null
#: JavaScript that defines ``archidFind(test)``: the first ``window`` property that is
#: an object passing ``test`` (DevExpress's client objects live there, named by
#: ids archid does not rely on), or null
FIND_JS = """
function archidFind(test) {
  for (const key of Object.keys(window)) {
    let v;
    try { v = window[key]; } catch (e) { continue; }
    try { if (v && typeof v === 'object' && test(v)) { return v; } } catch (e) { }
  }
  return null;
}
"""

#: JavaScript that defines ``archidGrid()``: the grid's client object, or null
GRID_JS = (
    FIND_JS
    + """
function archidGrid() {
  return archidFind((v) => typeof v.GetColumn === 'function'
                           && typeof v.GetRowValues === 'function');
}
"""
)

#: seconds between looks while a callback archid started runs: it can be watched
#: closer than spec v3's idle rule (looks 200 ms apart), since archid knows
#: what it re-renders
CALLBACK_POLL = 0.05

_SHOWN_JS = """
function archidShown(el) {
  if (!el || !el.getClientRects().length) { return false; }
  const style = getComputedStyle(el);
  return style.visibility !== 'hidden' && style.display !== 'none';
}
"""

#: JavaScript that defines ``archidBusy()``: why the page is busy, or '' (spec v3,
#: "List view pages", Loading): a loading panel is visible, a control is in
#: callback, or the document is still loading
BUSY_JS = (
    _SHOWN_JS
    + FIND_JS
    + """
function archidBusy() {
  const panels = document.querySelectorAll(
    '.dxgvLoadingPanel_XafTheme, .dxlp, [id*="LPV"], [class*="LoadingPanel"]');
  for (const el of panels) { if (archidShown(el)) { return 'a loading panel'; } }
  if (archidFind((v) => typeof v.InCallback === 'function' && v.InCallback())) {
    return 'a control in callback';
  }
  return document.readyState === 'complete' ? '' : 'the document';
}
"""
)
_BUSY_JS = BUSY_JS + "return archidBusy();"

# The first data row shows its values: half its cells have text (the
# predecessor's rule; the first cells are the selection box and "Edit").
_FILLED_JS = """
const row = document.querySelector('tr[class*="dxgvDataRow"]');
if (!row) { return true; }
const cells = row.querySelectorAll(':scope > td');
let filled = 0;
for (const cell of cells) { if (cell.textContent.trim()) { filled += 1; } }
return filled * 2 >= cells.length;
"""

# What a grid callback re-renders: a header cell, the pager, the first row (or
# the empty row). Marked before an act; one of them gone (or a new document:
# a filter that reloads the page) means the answer is in.
_MARK_JS = """
window.archidAnswer = undefined;
window.archidMarks = [
  document.querySelector('td[class*="dxgvHeader"]'),
  document.querySelector('[id$="_DXPagerBottom"]'),
  document.querySelector('tr[class*="dxgvDataRow"], [class*="dxgvEmptyDataRow"]'),
].filter(Boolean);
"""

_AFTER_JS = (
    BUSY_JS
    + """
const marks = window.archidMarks;
return {busy: archidBusy(), replaced: !marks || marks.some((el) => !el.isConnected),
        login: /login\\.aspx/i.test(document.URL),
        answer: window.archidAnswer === undefined ? null : window.archidAnswer};
"""
)

_CONTAINING_JS = """
const root = arguments[2] || document;
const wanted = arguments[1];
return Array.from(root.querySelectorAll(arguments[0])).filter((el) => {
  const text = (el.textContent || '').replace(/\\s+/g, ' ').trim().toLowerCase();
  return wanted.some((w) => text.includes(w));
});
"""

_SHOWN_MATCHING_JS = (
    _SHOWN_JS
    + """
const root = arguments[1] || document;
return Array.from(root.querySelectorAll(arguments[0])).filter(archidShown);
"""
)

_LOOK_JS = (
    GRID_JS
    + """
const nav = performance.getEntriesByType('navigation')[0];
const text = document.body ? document.body.innerText : '';
return {url: document.URL, status: nav && nav.responseStatus ? nav.responseStatus : 0,
        title: document.title || '', menu: !!document.querySelector('[id^="Vertical_mainMenu"]'),
        grid: archidGrid() !== null, requested: text.includes(arguments[0]),
        text: text.trim().replace(/\\s+/g, ' ').slice(0, 160)};
"""
)

# Who opens a menu item that a narrow window (or the portal itself) put in
# the overflow: the shown top-level item holding it, or the item named by
# DevExpress's sub-item ids (DXI8i0_, ITCNT8i0_, DXME8_ belong to DXI8_).
_OPENER_JS = (
    _SHOWN_JS
    + """
const el = arguments[0];
for (let li = el.closest('li'); li; li = li.parentElement && li.parentElement.closest('li')) {
  if (/^Vertical_mainMenu_Menu_DXI\\d+_$/.test(li.id) && archidShown(li)) {
    return li.querySelector(':scope > a') || li;
  }
}
for (let node = el; node && node !== document.body; node = node.parentElement) {
  const m = /^(.*_Menu_)(?:DXI|ITCNT|DXME)(\\d+)(?:i|_)/.exec(node.id || '');
  if (m) {
    const top = document.getElementById(m[1] + 'DXI' + m[2] + '_');
    if (top && top !== el && archidShown(top)) { return top.querySelector(':scope > a') || top; }
  }
}
return null;
"""
)

_TOP_ITEMS_JS = (
    _SHOWN_JS
    + """
return Array.from(document.querySelectorAll('li[id^="Vertical_mainMenu_Menu_DXI"]'))
  .filter((li) => /^Vertical_mainMenu_Menu_DXI\\d+_$/.test(li.id) && archidShown(li))
  .map((li) => li.querySelector(':scope > a') || li);
"""
)


@dataclass(frozen=True, slots=True)
class Look:
    """What one look at the page found."""

    url: str
    status: int
    title: str
    menu: bool
    grid: bool
    requested_objects: bool
    text: str

    @property
    def list_view(self) -> bool:
        """A list view page: the main menu and a grid."""
        return self.menu and self.grid


class Page:
    """The browser's current page, for the client's one thread.

    ``stage`` is called for the stage errors are tagged with; ``timeout``
    bounds every wait (``[portal] page_timeout``); ``poll`` is the pause
    between looks (200 ms: spec v3's idle rule).
    """

    def __init__(
        self,
        driver: webdriver.Chrome,
        stage: Callable[[], Stage],
        *,
        timeout: float,
        poll: float = 0.2,
        filled_timeout: float = 8.0,
    ) -> None:
        self.driver = driver
        self._stage = stage
        self.timeout = timeout
        self.poll = poll
        self.filled_timeout = filled_timeout

    def js(self, script: str, *args: Any) -> Any:
        """Run ``script``; a page that changes while it runs is looked at again."""
        for _ in range(3):
            try:
                return self.driver.execute_script(script, *args)
            except (JavascriptException, StaleElementReferenceException):
                time.sleep(self.poll)
        return self.driver.execute_script(script, *args)

    # -- what the page is ------------------------------------------------------------

    def look(self) -> Look:
        raw = self.js(_LOOK_JS, REQUESTED_OBJECTS)
        return Look(
            url=str(raw["url"]),
            status=int(raw["status"] or 0),
            title=str(raw["title"]),
            menu=bool(raw["menu"]),
            grid=bool(raw["grid"]),
            requested_objects=bool(raw["requested"]),
            text=str(raw["text"]),
        )

    def check(self, *, login: bool = False, base_url: str = "") -> Look:
        """The page, or the error that what the browser shows instead means.

        Chromium's own error page: :class:`PortalUnavailable`; the login
        page where a list was expected: :class:`SessionExpired` (the
        server ended the session: cookies never tell); HTTP 403:
        :class:`PortalBlocked`; HTTP 5xx: :class:`PortalUnavailable`; the
        DDT flake's text: :class:`ExportRejected`.
        """
        stage = self._stage()
        seen = self.look()
        url = seen.url.lower()
        if url.startswith("chrome-error:"):
            raise PortalUnavailable(
                f"the browser could not reach {base_url or 'the portal'}", stage
            )
        if not login and "login.aspx" in url:
            raise SessionExpired("the portal sent the browser to the login page", stage)
        if seen.status == 403:
            raise PortalBlocked(f"the portal refuses this client (HTTP 403: {seen.title})", stage)
        if seen.status >= 500:
            raise PortalUnavailable(f"the portal answered HTTP {seen.status} ({seen.title})", stage)
        if seen.requested_objects:
            raise ExportRejected(REQUESTED_OBJECTS, stage)
        return seen

    def require_list(self, what: str) -> Look:
        """:meth:`check`, and the page must be a list view (menu and grid)."""
        seen = self.check()
        if not seen.menu:
            shown = seen.title or seen.text[:80] or seen.url
            raise UnexpectedPage(f"the portal showed {shown!r} instead of {what}", self._stage())
        return seen

    # -- waiting ------------------------------------------------------------------

    def stage(self) -> Stage:
        """The stage errors raised now are tagged with."""
        return self._stage()

    def wait_idle(self, *, filled: bool = True, filled_timeout: float | None = None) -> bool:
        """Wait until the page is idle; with ``filled``, until its first row shows values too.

        Idle: no loading panel, no control in callback, the document
        loaded, seen three times in a row ``poll`` apart (spec v3). Then,
        with ``filled``, at most ``filled_timeout`` more seconds for half the
        first data row's cells to have text (an empty grid counts as
        filled). Returns whether the first row was filled; raises
        :class:`ExportTimeout` when the page stays busy past ``timeout``.
        """
        deadline = time.monotonic() + self.timeout
        quiet = 0
        while True:
            if time.monotonic() > deadline:
                raise ExportTimeout("the page stayed busy too long", self._stage())
            busy = self.js(_BUSY_JS)
            quiet = 0 if busy else quiet + 1
            if quiet == 3:
                break
            # A busy page is watched closely for its end; the quiet looks are the rule's.
            time.sleep(self.poll if quiet else min(CALLBACK_POLL, self.poll))
        if not filled:
            return True
        return self.wait_filled(filled_timeout)

    def wait_filled(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` (default ``filled_timeout``) seconds for half the first
        data row's cells to have text (an empty grid counts as filled); whether they do."""
        limit = self.filled_timeout if timeout is None else timeout
        return self.wait_for(lambda: bool(self.js(_FILLED_JS)), limit)

    def mark(self) -> None:
        """Mark what a grid callback re-renders, before an act that starts one."""
        self.js(_MARK_JS)

    def await_callback(self, what: str, *, answer: bool = False) -> Any:
        """Wait for the callback an act started after :meth:`mark` to end.

        Over when something marked has been replaced (a new document counts)
        and two looks in a row, :data:`CALLBACK_POLL` apart, see nothing
        busy; with ``answer``, when ``window.archidAnswer`` (a script's
        answer, reset by :meth:`mark`) is set instead, which is returned.
        An act that replaces nothing ends by spec v3's idle rule (quiet for
        three looks ``poll`` apart). The login page instead of the list:
        :class:`SessionExpired`; still busy after ``timeout``:
        :class:`ExportTimeout`.
        """
        deadline = time.monotonic() + self.timeout
        poll = min(CALLBACK_POLL, self.poll)
        quiet = 0
        quiet_since: float | None = None
        while True:
            seen = self.js(_AFTER_JS)
            if seen["login"]:
                raise SessionExpired("the portal sent the browser to the login page", self._stage())
            now = time.monotonic()
            if seen["busy"]:
                quiet, quiet_since = 0, None
            else:
                quiet += 1
                quiet_since = now if quiet_since is None else quiet_since
                done = seen["answer"] is not None if answer else bool(seen["replaced"])
                if (done and quiet >= 2) or (quiet >= 3 and now - quiet_since >= 2 * self.poll):
                    return seen["answer"]
            if now > deadline:
                raise ExportTimeout(f"{what} did not end in time", self._stage())
            time.sleep(poll)

    def wait_for(self, condition: Callable[[], bool], seconds: float) -> bool:
        """Poll ``condition`` every ``poll`` seconds for up to ``seconds``; its last value."""
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(self.poll)
        return True

    # -- acting --------------------------------------------------------------------

    def click(self, element: WebElement) -> None:
        """A real pointer click (mousedown, mouseup, click), waiting out loading panels."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                element.click()
                return
            except (ElementClickInterceptedException, ElementNotInteractableException):
                if time.monotonic() > deadline:
                    raise ExportTimeout("a loading panel never let go", self._stage()) from None
                self.wait_idle(filled=False)
            except StaleElementReferenceException:
                raise UnexpectedPage("the page changed under a click", self._stage()) from None

    def context_click(self, element: WebElement) -> None:
        """A real right click."""
        ActionChains(self.driver).context_click(element).perform()

    def shown(self, element: WebElement) -> bool:
        try:
            return bool(self.js(_SHOWN_JS + "return archidShown(arguments[0]);", element))
        except StaleElementReferenceException:
            return False

    def reveal(self, element: WebElement) -> None:
        """Make a main-menu element clickable: open the overflow item that hides it.

        The opener is the shown top-level item that holds the element, or
        the one DevExpress's sub-item ids name, or, last, an item reading
        "Show hidden items".
        """
        if self.shown(element):
            return
        openers: list[WebElement] = []
        found = self.js(_OPENER_JS, element)
        if isinstance(found, WebElement):
            openers.append(found)
        for item in self.js(_TOP_ITEMS_JS) or []:
            text = item.get_attribute("textContent") or ""
            if reads_any(text, SHOW_HIDDEN_ITEMS) or text.strip() in ("…", "..."):
                openers.append(item)
        for opener in openers:
            self.click(opener)
            if self.wait_for(lambda: self.shown(element), 3.0):
                return
        raise UnexpectedPage("a menu item stays hidden in the overflow menu", self._stage())

    def elements_reading(
        self, css: str, texts: tuple[str, ...], *, within: WebElement | None = None
    ) -> list[WebElement]:
        """The elements matching ``css`` (inside ``within``) whose text, shown or not,
        reads one of ``texts``."""
        # The browser picks the few candidates whose text contains a wanted one:
        # reading every element's text from here costs a round trip each.
        candidates = self.js(_CONTAINING_JS, css, [normalise(t) for t in texts], within) or []
        return [
            element
            for element in candidates
            if reads_any(element.get_attribute("textContent") or "", texts)
        ]

    def shown_matching(self, css: str, *, within: WebElement | None = None) -> list[WebElement]:
        """The shown elements matching ``css`` (inside ``within``), in document order."""
        return list(self.js(_SHOWN_MATCHING_JS, css, within) or [])
