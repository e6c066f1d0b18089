"""An outsider's Selenium client, written from spec v3 section 1 alone, against the simulator.

Others will check ``archid sim`` with their own client written from the spec
(spec v3, section 1: the portal's pages as captured live), so this module does the
same: it knows nothing of the simulator's pages or of archid's production
client, only what the spec states (texts, field names, value suffixes, the id
patterns it documents, the grid's client object). Where the spec leaves
something open, the client is tolerant: it searches by text, by id suffix or
by structure, as someone who never saw the simulator would.
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    JavascriptException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from archid.exports import SPECS, parse_export
from archid.records import ExportType, Record
from archid.sim.layouts import FULL_VIEW, expected_records
from archid.sim.server import SimServer
from tests.conftest import quick_options, serving_sim
from tests.portal.helpers import NARROW

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [pytest.mark.browser, pytest.mark.slow]

T = TypeVar("T")

# -- what the spec says -----------------------------------------------------------

#: "List views (path under /Archibald/)"
LIST_VIEWS: dict[ExportType, str] = {
    ExportType.CUSTOMERS: "CUSTTABLE_ListView_Agent",
    ExportType.PRODUCTS: "INVENTTABLE_ListView",
    ExportType.PRICES: "PRICEDISCTABLE_ListView",
    ExportType.ORDERS: "SALESTABLE_ListView_Agent",
    ExportType.DDT: "CUSTPACKINGSLIPJOUR_ListView",
    ExportType.INVOICES: "CUSTINVOICEJOUR_ListView",
}


@dataclass(frozen=True)
class WantedFilter:
    """The filter item an export of everything needs: its texts and its value's suffix."""

    texts: tuple[str, ...]
    suffix: str


#: "Filters: saved per user" table, the wanted item (first value) of each list
WANTED_FILTERS: dict[ExportType, WantedFilter] = {
    ExportType.CUSTOMERS: WantedFilter(("Tutti i clienti", "All Customers"), "All_Customers"),
    ExportType.ORDERS: WantedFilter(
        ("Tutti gli ordini", "All Orders"), "ListViewSalesTableOrdersAll"
    ),
    ExportType.DDT: WantedFilter(("Tutti", "All"), "ListViewPackingSlipsAll"),
    ExportType.INVOICES: WantedFilter(("Tutti", "All"), "All_invoices"),
    ExportType.PRICES: WantedFilter(("Prezzi attivi", "Active prices"), "ActivePrices"),
}

#: the overflow item's position per list ("Show hidden items"), a fallback to its text
OVERFLOW_ITEM: dict[ExportType, int] = {
    ExportType.CUSTOMERS: 8,
    ExportType.ORDERS: 9,
    ExportType.DDT: 5,
    ExportType.INVOICES: 5,
    ExportType.PRICES: 5,
    ExportType.PRODUCTS: 4,
}

LOADING_PANELS = '.dxgvLoadingPanel_XafTheme, .dxlp, [id*="LPV"], [class*="LoadingPanel"]'
MAIN_MENU_ITEMS = '[id^="Vertical_mainMenu_Menu_DXI"]'
FILTER_COMBOS = '[id^="Vertical_mainMenu_Menu_ITCNT"][id$="_Cb"]'
HEADER_CELLS = "td.dxgvHeader_XafTheme"
EXPORT_TEXTS = ("Esportare in", "Export to")

USER = "agent"
PASSWORD = "komet"

PAGE_LIMIT = 90.0  # "navigation limits had to be raised from 30 s to 90 s"
EXPORT_LIMIT = 240.0  # "allow minutes for the big ones"
LOGIN_LIMIT = 60.0


# -- small helpers ----------------------------------------------------------------


class SpecClientError(AssertionError):
    """The spec-only client could not do a step the spec describes."""


def wait_for(what: str, probe: Callable[[], T | None], limit: float, every: float = 0.1) -> T:
    """``probe()``'s first truthy answer; ``SpecClientError`` after ``limit`` seconds.
    WebDriver errors while probing (a page being replaced) count as "not yet"."""
    deadline = time.monotonic() + limit
    while True:
        try:
            answer = probe()
        except (StaleElementReferenceException, JavascriptException):
            answer = None
        except WebDriverException as exc:
            if "target frame detached" in str(exc) or "no such" in str(exc):
                answer = None
            else:
                raise
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise SpecClientError(f"timed out after {limit:.0f} s waiting for {what}")
        time.sleep(every)


def caption_key(text: str) -> str:
    """A caption or a PDF header, compared loosely: case, accents, apostrophes,
    a trailing colon and spacing do not matter."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = " ".join(text.split()).strip().rstrip(":").strip()
    return text.casefold()


def wanted_captions(t: ExportType) -> set[str]:
    """The headers of the parser's columns that carry a field, as caption keys."""
    return {caption_key(c.header) for c in SPECS[t].columns if c.field is not None}


# -- the browser ------------------------------------------------------------------


def start_browser(downloads: Path) -> webdriver.Chrome:
    """Headless Chromium in Italian, 1440x900 before the first page, downloads allowed."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--lang=it-IT",
        "--window-size=1440,900",
        "--no-first-run",
        "--no-default-browser-check",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "intl.accept_languages": "it-IT,it",
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
        },
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_window_size(1440, 900)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.set_page_load_timeout(PAGE_LIMIT)
    return driver


IDLE_JS = """
const panels = document.querySelectorAll(arguments[0]);
const shown = (el) => {
    if (!el.getClientRects().length) return false;
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none';
};
for (const el of panels) if (shown(el)) return false;
for (const name of Object.getOwnPropertyNames(window)) {
    let o;
    try { o = window[name]; } catch (e) { continue; }
    if (!o || typeof o !== 'object' || o === window) continue;
    try {
        if (typeof o.InCallback === 'function' && o.InCallback()) return false;
    } catch (e) { continue; }
}
return document.readyState === 'complete';
"""

# the first element matching arguments[0] that has a box, scrolled into view
FIRST_SHOWN_JS = """
for (const e of document.querySelectorAll(arguments[0])) {
    if (e.getClientRects().length) {
        e.scrollIntoView({block: 'center', inline: 'center'});
        return e;
    }
}
return null;
"""

SCROLL_JS = "arguments[0].scrollIntoView({block: 'center', inline: 'center'});"

GRID_NAME_JS = """
for (const name of Object.getOwnPropertyNames(window)) {
    let o;
    try { o = window[name]; } catch (e) { continue; }
    if (o && typeof o === 'object' && o !== window
        && typeof o.GetColumn === 'function' && typeof o.GetRowValues === 'function') {
        return name;
    }
}
return null;
"""

COLUMNS_JS = """
const grid = window[arguments[0]];
const columns = [];
for (let i = 0; i < grid.GetColumnCount(); i++) {
    const c = grid.GetColumn(i);
    if (!c) { columns.push(null); continue; }
    columns.push({index: i, fieldName: c.fieldName, caption: c.caption, visible: !!c.visible,
                  visibleIndex: c.visibleIndex});
}
return columns;
"""

# the innermost visible elements whose own text, title or label matches one of arguments[1]
BY_TEXT_JS = """
const root = arguments[0] || document;
const wanted = arguments[1].map((s) => s.trim().toLowerCase());
const exact = arguments[2];
const matches = (s) => {
    if (!s) return false;
    s = s.replace(/\\s+/g, ' ').trim().toLowerCase();
    return exact ? wanted.includes(s) : wanted.some((w) => s.includes(w));
};
const found = [];
for (const el of root.querySelectorAll('*')) {
    if (!el.getClientRects().length) continue;
    const label = [el.getAttribute('title'), el.getAttribute('aria-label'), el.getAttribute('alt')];
    if (!(matches(el.textContent) || label.some(matches))) continue;
    // keep the innermost: drop an element one of whose children matches too
    const child = Array.from(el.children).some((c) => c.getClientRects().length
        && (matches(c.textContent) || [c.getAttribute('title'), c.getAttribute('aria-label'),
            c.getAttribute('alt')].some(matches)));
    if (!child) found.push(el);
}
return found;
"""


@dataclass
class SpecClient:
    """A Selenium client for one portal session, from the spec's section 1 only."""

    driver: webdriver.Chrome
    base: str  # http://host:port/Archibald/
    downloads: Path
    log: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def note(self, text: str) -> None:
        self.log.append(f"{time.monotonic() - self.started:7.2f} s  {text}")

    # -- pointer and page ---------------------------------------------------------

    def real_click(self, element: WebElement, *, right: bool = False, scroll: bool = True) -> None:
        """A real pointer click (mousedown, mouseup, click) in the element's middle."""
        if scroll:
            self.driver.execute_script(SCROLL_JS, element)
        actions = ActionChains(self.driver).move_to_element(element)
        if right:
            actions.context_click()
        else:
            actions.click()
        actions.perform()

    def click_if_shown(self, element: WebElement) -> None:
        if element.is_displayed():
            self.real_click(element)

    def visible_by_text(
        self, texts: tuple[str, ...], *, root: WebElement | None = None, exact: bool = True
    ) -> list[WebElement]:
        found: list[WebElement] = self.driver.execute_script(BY_TEXT_JS, root, list(texts), exact)
        return found

    def is_idle(self) -> bool:
        return bool(self.driver.execute_script(IDLE_JS, LOADING_PANELS))

    def wait_idle(self, limit: float = PAGE_LIMIT) -> None:
        """The spec's idle: no visible loading panel and no control in callback,
        three times in a row 200 ms apart. (The spec's further wait for the first
        row's cells to have text is for reading the grid; an export does not need it.)"""
        deadline = time.monotonic() + limit
        streak = 0
        while streak < 3:
            try:
                idle = self.is_idle()
            except (JavascriptException, StaleElementReferenceException):
                idle = False
            streak = streak + 1 if idle else 0
            if streak >= 3:
                break
            if time.monotonic() > deadline:
                raise SpecClientError(f"the page was not idle within {limit:.0f} s")
            time.sleep(0.2)

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    # -- login --------------------------------------------------------------------

    def login_page(self) -> None:
        self.open("Login.aspx?ReturnUrl=%2fArchibald%2fDefault.aspx")
        wait_for(
            "the login form",
            lambda: self.driver.find_elements(By.CSS_SELECTOR, 'input[type="password"]'),
            PAGE_LIMIT,
        )

    def error_info(self) -> str:
        return str(
            self.driver.execute_script(
                "const e = document.getElementById('Logon_ErrorInfo');"
                "return e ? e.textContent.trim() : null;"
            )
            or ""
        )

    def submit_login(self, user: str, password: str) -> None:
        """Fill the inputs found by "UserName" and ``type=password``, click "Accedi"."""
        # several inputs may carry "UserName" in their name (a hidden state field):
        # the user name is the one a person can type into
        user_input = self.visible_input('input[name*="UserName"]')
        password_input = self.visible_input('input[type="password"]')
        self.real_click(user_input)
        user_input.clear()
        user_input.send_keys(user)
        self.real_click(password_input)
        password_input.clear()
        password_input.send_keys(password)
        buttons = self.visible_by_text(("Accedi", "Log In"))
        anchors = [b for b in buttons if b.tag_name == "a"] or buttons
        if not anchors:
            raise SpecClientError('no visible "Accedi" button on the login page')
        self.real_click(anchors[0])

    def visible_input(self, css: str) -> WebElement:
        for element in self.driver.find_elements(By.CSS_SELECTOR, css):
            kind = (element.get_attribute("type") or "text").lower()
            if kind != "hidden" and element.is_displayed():
                return element
        raise SpecClientError(f"no visible input {css}")

    def login(self, user: str = USER, password: str = PASSWORD) -> None:
        self.login_page()
        assert self.driver.find_elements(By.ID, "Logon_ErrorInfo"), "no #Logon_ErrorInfo"
        assert self.error_info() == "", f"#Logon_ErrorInfo not empty: {self.error_info()!r}"
        self.submit_login(user, password)

        def left_login() -> bool:
            if self.error_info():
                raise SpecClientError(f"login refused: {self.error_info()!r}")
            return "login.aspx" not in self.driver.current_url.lower()

        wait_for("leaving Login.aspx", left_login, LOGIN_LIMIT, every=0.2)

    # -- the list view ------------------------------------------------------------

    def open_list(self, t: ExportType) -> str:
        """Open ``t``'s list view, wait until idle; the grid's client object's name."""
        self.open(LIST_VIEWS[t])
        if "login.aspx" in self.driver.current_url.lower():
            raise SpecClientError(f"{t}: sent to the login page")
        name = wait_for(
            f"{t}: the grid object (GetColumn and GetRowValues)",
            lambda: self.driver.execute_script(GRID_NAME_JS),
            PAGE_LIMIT,
            every=0.2,
        )
        self.wait_idle()
        return str(name)

    def reveal_overflow(self, t: ExportType) -> bool:
        """Click the "Show hidden items" overflow item, if the menu shows one."""
        items = self.visible_by_text(("Show hidden items",), exact=False)
        if not items:
            fallback = self.driver.find_elements(
                By.CSS_SELECTOR, f"#Vertical_mainMenu_Menu_DXI{OVERFLOW_ITEM[t]}_"
            )
            items = [i for i in fallback if i.is_displayed()]
        if not items:
            return False
        self.note(f"{t}: overflow revealed")
        self.real_click(items[0])
        time.sleep(0.3)
        return True

    def filter_combo(self, t: ExportType) -> WebElement:
        """The main menu's combo whose drop-down list holds the wanted item
        (customers also have a view combo)."""
        wanted = WANTED_FILTERS[t]
        combos = self.driver.find_elements(By.CSS_SELECTOR, FILTER_COMBOS)
        for combo in combos:
            cid = combo.get_attribute("id")
            texts = self.driver.execute_script(
                "const l = document.getElementById(arguments[0]);"
                "return l ? Array.from(l.querySelectorAll('td')).map((td) => td.textContent) : [];",
                f"{cid}_DDD_L",
            )
            if any(text.strip() in wanted.texts for text in texts):
                return combo
        ids = [c.get_attribute("id") for c in combos]
        raise SpecClientError(f"{t}: no filter combo with an item {wanted.texts} among {ids}")

    def combo_value(self, combo_id: str) -> str:
        value = self.driver.execute_script(
            "const v = document.getElementById(arguments[0]); return v ? v.value : null;",
            f"{combo_id}_VI",
        )
        return str(value or "")

    def drop_down_shown(self, combo_id: str) -> bool:
        found = self.driver.find_elements(By.ID, f"{combo_id}_DDD_L")
        return bool(found) and found[0].is_displayed()

    def set_filter(self, t: ExportType) -> None:
        """Choose the wanted item through the opened drop-down, with real clicks."""
        wanted = WANTED_FILTERS[t]
        combo = self.filter_combo(t)
        combo_id = str(combo.get_attribute("id"))
        if not combo.is_displayed():
            self.reveal_overflow(t)
            wait_for(f"{t}: the filter combo, shown", combo.is_displayed, 5.0)
        self.note(f"{t}: filter was {self.combo_value(combo_id)!r}")
        # open the drop-down: a click on the combo; if that does not open it, a click
        # on its right end (where a combo's button is), then on each of its parts
        self.real_click(combo)
        tries: list[Callable[[], None]] = [
            lambda: (
                ActionChains(self.driver)
                .move_to_element_with_offset(combo, combo.size["width"] // 2 - 4, 0)
                .click()
                .perform()
            ),
        ]
        for part in combo.find_elements(By.CSS_SELECTOR, "input, img, td, div"):
            tries.append(functools.partial(self.click_if_shown, part))
        for attempt, again in enumerate([None, *tries]):
            if again is not None:
                again()
            try:
                wait_for(f"{t}: the drop-down list", lambda: self.drop_down_shown(combo_id), 1.5)
            except SpecClientError:
                continue
            if attempt:
                self.note(f"{t}: the drop-down opened after {attempt} more clicks")
            break
        else:
            raise SpecClientError(f"{t}: real clicks did not open the drop-down {combo_id}")
        listing = self.driver.find_element(By.ID, f"{combo_id}_DDD_L")
        items = [
            td
            for td in listing.find_elements(By.TAG_NAME, "td")
            if td.text.strip() in wanted.texts and td.is_displayed()
        ]
        if not items:
            raise SpecClientError(f"{t}: no item {wanted.texts} in the drop-down")
        self.real_click(items[0])
        # on orders the choice may reload the whole page
        time.sleep(0.3)
        self.wait_idle()

        def chosen() -> bool:
            return self.combo_value(combo_id).endswith(wanted.suffix)

        wait_for(f"{t}: the filter value ending {wanted.suffix}", chosen, 15.0, every=0.2)
        self.note(f"{t}: filter now {self.combo_value(combo_id)!r}")

    def clear_grid_filter(self, grid: str) -> None:
        self.driver.execute_script("window[arguments[0]].ClearFilter();", grid)
        time.sleep(0.2)
        self.wait_idle()

    def columns(self, grid: str) -> list[dict[str, Any]]:
        columns: list[dict[str, Any] | None] = self.driver.execute_script(COLUMNS_JS, grid)
        return [c for c in columns if c is not None]

    def show_columns(self, t: ExportType, grid: str) -> list[str]:
        """Switch on the hidden columns the parser reads, through the customization
        dialog's column chooser; the captions switched on."""
        wanted = wanted_captions(t)
        hidden = [
            c
            for c in self.columns(grid)
            if not c["visible"] and caption_key(str(c["caption"] or "")) in wanted
        ]
        if not hidden:
            return []
        self.open_customization_dialog(t)
        dialogs = [
            d
            for d in self.driver.find_elements(By.CSS_SELECTOR, '[id*="DXCDWindow"]')
            if d.is_displayed()
        ]
        tabs = [
            *self.driver.find_elements(By.CSS_SELECTOR, '[id$="_DXCDPageControl_T3T"]'),
            *(self.visible_by_text(("Column Chooser",), root=dialogs[0]) if dialogs else []),
        ]
        tabs = [tab for tab in tabs if tab.is_displayed()]
        if not tabs:
            raise SpecClientError(f'{t}: no "Column Chooser" tab in the customization dialog')
        self.real_click(tabs[0])
        self.note(f"{t}: column chooser open")
        for column in hidden:
            eye_css = f'span[id$="_3_drag_C{column["index"]}Chk5_D"]'
            eye = wait_for(
                f"{t}: the eye of column {column['index']} ({column['caption']})",
                functools.partial(self.driver.execute_script, FIRST_SHOWN_JS, eye_css),
                10.0,
            )
            self.real_click(eye, scroll=False)
        self.note(f"{t}: eyes clicked")
        apply = wait_for(
            f"{t}: the Apply button",
            lambda: [
                b
                for b in self.driver.find_elements(By.CSS_SELECTOR, '[id$="_DXCDWindow_DXCBtn201"]')
                if b.is_displayed()
            ],
            5.0,
        )[0]
        self.real_click(apply)
        time.sleep(0.3)
        self.wait_idle()
        self.note(f"{t}: applied")
        shown = {c["index"] for c in self.columns(grid) if c["visible"]}
        missing = [c["caption"] for c in hidden if c["index"] not in shown]
        if missing:
            raise SpecClientError(f"{t}: columns still hidden after Apply: {missing}")
        return [str(c["caption"]) for c in hidden]

    def open_customization_dialog(self, t: ExportType) -> None:
        """A right click on a header cell (id ending ``_col<k>``), then its
        context-menu item "Show Customization Dialog"."""
        headers = [
            h
            for h in self.driver.find_elements(By.CSS_SELECTOR, HEADER_CELLS)
            if re.search(r"_col\d+$", h.get_attribute("id") or "") and h.is_displayed()
        ]
        if not headers:
            raise SpecClientError(f"{t}: no header cell with an id ending _col<k>")
        self.real_click(headers[0], right=True)
        item = wait_for(
            f'{t}: the context-menu item "Show Customization Dialog"',
            lambda: self.visible_by_text(("Show Customization Dialog",)),
            10.0,
        )[0]
        self.note(f"{t}: context menu open")
        self.real_click(item)
        wait_for(
            f"{t}: the customization dialog",
            lambda: [
                d
                for d in self.driver.find_elements(By.CSS_SELECTOR, '[id*="DXCDWindow"]')
                if d.is_displayed()
            ],
            10.0,
        )

    def export_anchor(self, t: ExportType) -> WebElement | None:
        """The main menu's anchor reading "Esportare in" (or "Export to", maybe doubled)."""
        for anchor in self.driver.find_elements(By.CSS_SELECTOR, f"{MAIN_MENU_ITEMS} a"):
            text = " ".join((anchor.get_attribute("textContent") or "").split())
            if any(text.startswith(e) for e in EXPORT_TEXTS) and (
                anchor.get_attribute("id") or ""
            ).endswith("_T"):
                return anchor
        return None

    def export(self, t: ExportType) -> Path:
        """One click on the export anchor; the downloaded PDF."""
        anchor = self.export_anchor(t)
        if anchor is None:
            raise SpecClientError(f'{t}: no main-menu anchor reading "Esportare in"')
        if not anchor.is_displayed():
            self.reveal_overflow(t)
            wait_for(f'{t}: "Esportare in", shown', anchor.is_displayed, 5.0)
        before = set(self.downloads.iterdir())
        self.note(f"{t}: export clicked")
        self.real_click(anchor)

        def downloaded() -> Path | None:
            new = [p for p in self.downloads.iterdir() if p not in before]
            done = [p for p in new if p.suffix.lower() == ".pdf" and p.stat().st_size > 0]
            if not done or any(p.name.endswith(".crdownload") for p in new):
                return None
            return done[0]

        path = wait_for(f"{t}: the PDF download", downloaded, EXPORT_LIMIT, every=0.25)
        self.note(f"{t}: downloaded {path.name} ({path.stat().st_size} bytes)")
        self.wait_idle()
        return path

    def export_everything(self, t: ExportType) -> Path:
        """The whole list ``t`` as PDF: filter set to everything, columns shown, exported."""
        self.note(f"{t}: opening")
        grid = self.open_list(t)
        self.note(f"{t}: idle")
        if t is ExportType.PRODUCTS:
            self.clear_grid_filter(grid)
        else:
            self.set_filter(t)
            grid = str(
                wait_for(
                    f"{t}: the grid object", lambda: self.driver.execute_script(GRID_NAME_JS), 30.0
                )
            )
        shown = self.show_columns(t, grid)
        self.note(f"{t}: columns switched on {shown}")
        return self.export(t)


# -- fixtures ---------------------------------------------------------------------


@dataclass
class Setup:
    sim: SimServer
    client: SpecClient
    api: httpx.Client

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.api.get("/_sim/state").raise_for_status().json()
        return state


@pytest.fixture(scope="module")
def _downloads() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="spec-client-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _setup(sim: SimServer, downloads: Path) -> Iterator[Setup]:
    downloads.mkdir(parents=True, exist_ok=True)
    driver = start_browser(downloads)
    try:
        with httpx.Client(base_url=sim.url.removesuffix("Archibald/")) as api:
            yield Setup(sim, SpecClient(driver, sim.url, downloads), api)
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def full(_downloads: Path) -> Iterator[Setup]:
    """A portal with the simulator's default saved filters, one browser logged in once."""
    with serving_sim(quick_options()) as sim, _setup(sim, _downloads / "full") as setup:
        setup.client.login()
        yield setup


@pytest.fixture(scope="module")
def narrow(_downloads: Path) -> Iterator[Setup]:
    """A portal whose agent saved narrow filters, with the filter prefix a0."""
    with serving_sim(quick_options()) as sim, _setup(sim, _downloads / "narrow") as setup:
        setup.api.post(
            "/_sim/saved-filters",
            json=NARROW,
        ).raise_for_status()
        setup.api.post("/_sim/options", json={"filter_prefix": "a0"}).raise_for_status()
        setup.client.login()
        yield setup


def truth(sim: SimServer, t: ExportType) -> list[Record]:
    with sim.portal.lock:
        records = sim.portal.dataset.records(t)
    return expected_records(t, records, FULL_VIEW)


def by_key(records: list[Record]) -> list[Record]:
    return sorted(records, key=lambda r: r.key)


def check_all_exports(setup: Setup) -> None:
    problems: list[str] = []
    for t in ExportType:
        path = setup.client.export_everything(t)
        parsed = list(parse_export(SPECS[t], path))
        expected = truth(setup.sim, t)
        unread = [r.key for r in parsed if r.unread]
        if by_key(parsed) != by_key(expected):
            wanted = {r.key: r for r in expected}
            differ = [r.key for r in parsed if r.key in wanted and wanted[r.key] != r]
            missing = {r.key for r in expected} - {r.key for r in parsed}
            extra = {r.key for r in parsed} - {r.key for r in expected}
            problems.append(
                f"{t}: {len(parsed)} records parsed, {len(expected)} expected "
                f"({len(missing)} missing, {len(extra)} extra, "
                f"{len(differ)} differ, e.g. {differ[:3]})"
            )
        if unread:
            problems.append(f"{t}: {len(unread)} records with unread fields, e.g. {unread[:3]}")
    assert not problems, "\n".join([*problems, *setup.client.log])


# -- the tests --------------------------------------------------------------------


def test_a_spec_only_client_exports_every_list_completely(full: Setup) -> None:
    check_all_exports(full)
    state = full.state()
    assert state["logins"] == 1, state["logins"]
    assert state["exports_served"] == {t.value: 1 for t in ExportType}, state["exports_served"]


def test_saved_narrow_filters_and_prefix_a0_still_give_complete_exports(narrow: Setup) -> None:
    check_all_exports(narrow)
    state = narrow.state()
    assert state["logins"] == 1, state["logins"]
    assert state["exports_served"] == {t.value: 1 for t in ExportType}, state["exports_served"]


def test_a_wrong_password_shows_text_in_the_error_info_and_stays(_downloads: Path) -> None:
    with serving_sim(quick_options()) as sim, _setup(sim, _downloads / "wrong") as setup:
        client = setup.client
        client.login_page()
        assert client.driver.find_elements(By.ID, "Logon_ErrorInfo")
        assert client.error_info() == ""
        client.submit_login(USER, "not-" + PASSWORD)
        message = wait_for("text in #Logon_ErrorInfo", client.error_info, LOGIN_LIMIT)
        assert message
        assert "login.aspx" in client.driver.current_url.lower()
        assert setup.state()["logins"] == 0


def test_the_cookies_after_login_are_the_real_portals(full: Setup) -> None:
    cookies = {c["name"]: c for c in full.client.driver.get_cookies()}
    assert "ASP.NET_SessionId" in cookies, sorted(cookies)
    assert "Login" in cookies, sorted(cookies)
    assert ".ASPXAUTH" not in cookies, sorted(cookies)
    for name in ("ASP.NET_SessionId", "Login"):
        assert "expiry" not in cookies[name], cookies[name]
