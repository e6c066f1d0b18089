"""Real headless Chromium, driven by Selenium alone, against the simulated portal.

These tests use no archid client: they click what spec v3 section 1 says a
client finds, with real pointer events (Selenium's clicks are trusted).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver import ActionChains
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from archid.portal.browser import BrowserSettings, start_browser
from archid.records import ExportType
from archid.sim.portal import PortalOptions
from archid.sim.server import SimServer
from tests.conftest import serving_sim

pytestmark = pytest.mark.browser

FIND_GRID = """
for (const key of Object.keys(window)) {
  const o = window[key];
  if (o && typeof o.GetColumn === 'function' && typeof o.GetRowValues === 'function') return key;
}
return null;
"""
BUSY = """
const panels = [...document.querySelectorAll('.dxgvLoadingPanel_XafTheme, .dxlp, [id*="LPV"]')];
if (panels.some(p => getComputedStyle(p).display !== 'none')) return true;
for (const key of Object.keys(window)) {
  const o = window[key];
  if (o && typeof o.InCallback === 'function' && o.InCallback()) return true;
}
return false;
"""


def until(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def portal() -> Iterator[SimServer]:
    with serving_sim(PortalOptions(ddt_flake=0.0, loading_min=0.05, loading_max=0.15)) as sim:
        yield sim


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(downloads: Path) -> Iterator[WebDriver]:
    browser = start_browser(BrowserSettings(language="it-IT"), downloads)
    try:
        yield browser
    finally:
        browser.quit()


def attr(element: Any, name: str) -> str:
    value = element.get_attribute(name)
    return value if isinstance(value, str) else ""


def idle(driver: WebDriver) -> None:
    """Idle as the spec defines it: no panel, no control in callback, three times running."""
    streak = [0]

    def quiet() -> bool:
        streak[0] = 0 if driver.execute_script(BUSY) else streak[0] + 1
        return streak[0] >= 3

    until(quiet)


def log_in(driver: WebDriver, sim: SimServer, password: str = "komet") -> None:
    driver.delete_all_cookies()
    driver.get(sim.url + "Login.aspx?ReturnUrl=%2fArchibald%2fDefault.aspx")
    # a download or callback of the previous page may still be settling: poll
    user = until(
        lambda: next(
            iter(driver.find_elements(By.CSS_SELECTOR, "input[type=text][name*='UserName']")),
            None,
        )
    )
    user.send_keys(sim.portal.options.user)
    driver.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(password)
    driver.find_element(By.ID, "Logon_PopupActions_Menu_DXI0_T").click()


def open_list(driver: WebDriver, sim: SimServer, view: str) -> str:
    """Open a list view after a fresh login; the grid client object's key."""
    log_in(driver, sim)
    until(lambda: "Login.aspx" not in driver.current_url)
    driver.get(sim.url + view + "/")
    idle(driver)
    key: str = driver.execute_script(FIND_GRID) or ""
    return key


def menu_item(driver: WebDriver, text: str) -> Any:
    anchors = driver.find_elements(By.CSS_SELECTOR, "#Vertical_mainMenu a")
    return next(a for a in anchors if attr(a, "textContent").strip().startswith(text))


def test_login_refused_then_accepted(driver: WebDriver, portal: SimServer) -> None:
    log_in(driver, portal, password="wrong")
    info = driver.find_element(By.ID, "Logon_ErrorInfo")
    until(lambda: info.text.strip())
    assert "Login.aspx" in driver.current_url
    # a scripted click is not a click
    driver.execute_script("document.getElementById('Logon_PopupActions_Menu_DXI0_T').click()")
    log_in(driver, portal)
    until(lambda: "Login.aspx" not in driver.current_url)
    assert {c["name"] for c in driver.get_cookies()} >= {"ASP.NET_SessionId", "Login"}


def test_one_real_click_on_the_export_item_downloads(
    driver: WebDriver, portal: SimServer, downloads: Path
) -> None:
    open_list(driver, portal, "CUSTTABLE_ListView_Agent")
    address = driver.current_url
    anchor = menu_item(driver, "Esportare in")
    driver.execute_script("arguments[0].click()", anchor)  # synthetic: ignored
    time.sleep(0.3)
    assert not (downloads / "Clienti.pdf").exists()
    anchor.click()
    until(
        lambda: (downloads / "Clienti.pdf").exists() and (downloads / "Clienti.pdf").stat().st_size
    )
    assert (downloads / "Clienti.pdf").read_bytes().startswith(b"%PDF")
    assert driver.current_url == address


def test_narrow_window_moves_items_into_the_overflow(driver: WebDriver, portal: SimServer) -> None:
    driver.set_window_size(900, 700)
    try:
        open_list(driver, portal, "CUSTTABLE_ListView_Agent")
        overflow = driver.find_element(By.ID, "Vertical_mainMenu_Menu_DXI8_T")
        assert attr(overflow, "textContent") == "Show hidden items"
        export = menu_item(driver, "Esportare in")
        assert attr(export, "id").startswith("Vertical_mainMenu_Menu_DXI8i")
        assert not export.is_displayed()
        overflow.click()
        assert export.is_displayed()
    finally:
        driver.set_window_size(1440, 900)


def test_filter_combo_choose_by_click(driver: WebDriver, portal: SimServer) -> None:
    grid = open_list(driver, portal, "PRICEDISCTABLE_ListView")
    combo = driver.find_element(By.CSS_SELECTOR, "[id^=Vertical_mainMenu_Menu_ITCNT][id$=_Cb]")
    cid = attr(combo, "id")
    driver.find_element(By.ID, cid + "_I").click()
    items = driver.find_elements(By.CSS_SELECTOR, f"#{cid}_DDD_L td")
    assert [i.text for i in items] == ["Prezzi attivi", "Prezzi bloccati"]
    items[1].click()
    idle(driver)
    assert driver.execute_script(f"return window['{cid}'].GetValue()").endswith("ClosedPrices")
    state = portal.portal.state_json()["users"]["agent"]["lists"]["prices"]
    assert state["filter"] == "ClosedPrices"
    assert driver.execute_script(f"return window['{grid}'].GetVisibleRowsOnPage()") >= 1
    portal.portal.reset_user_state()


def test_dialog_eye_and_apply_show_a_hidden_column(driver: WebDriver, portal: SimServer) -> None:
    grid = open_list(driver, portal, "CUSTINVOICEJOUR_ListView")
    count = driver.execute_script(f"return window['{grid}'].GetColumnCount()")
    columns = [
        driver.execute_script(f"return window['{grid}'].GetColumn({i})") for i in range(count)
    ]
    target = next(c for c in columns if c["caption"] == "ID VENDITE")
    assert not target["visible"]
    header = driver.find_element(By.CSS_SELECTOR, "td.dxgvHeader_XafTheme")
    ActionChains(driver).context_click(header).perform()
    menu = driver.find_element(By.XPATH, "//a[text()='Show Customization Dialog']")
    menu.click()
    dialog = driver.find_element(By.CSS_SELECTOR, '[id*="DXCDWindow"]')
    assert dialog.is_displayed()
    driver.find_element(By.ID, f"{grid}_DXCDPageControl_T3T").click()
    eye = driver.find_element(By.ID, f"{grid}_3_drag_C{target['index']}Chk5_D")
    assert "ColumnHide" in attr(eye, "class")
    apply = driver.find_element(By.ID, f"{grid}_DXCDWindow_DXCBtn201")
    assert "Disabled" in attr(apply, "class")
    eye.click()
    assert "ColumnShow" in attr(eye, "class")
    assert "Disabled" not in attr(apply, "class")
    apply.click()
    idle(driver)
    assert driver.execute_script(f"return window['{grid}'].GetColumn({target['index']}).visible")
    session = list(portal.portal.sessions.values())[-1]  # this login's
    view = portal.portal.export_view(session, ExportType.INVOICES, english=False)
    assert "ID VENDITE" not in view.hidden


def test_products_clear_filter(driver: WebDriver, portal: SimServer) -> None:
    grid = open_list(driver, portal, "INVENTTABLE_ListView")
    before = driver.execute_script(f"return window['{grid}'].GetPageCount()")
    driver.execute_script(f"window['{grid}'].ClearFilter()")
    idle(driver)
    assert driver.execute_script(f"return window['{grid}'].GetPageCount()") > before
    assert not portal.portal.state_json()["users"]["agent"]["products_grid_filter"]
    values: list[Any] = []
    driver.execute_script(
        f"window['{grid}'].GetRowValues(0, 'MODIFIEDDATETIME', v => window.__v = v instanceof Date)"
    )
    values.append(until(lambda: driver.execute_script("return window.__v")))
    assert values == [True]
    portal.portal.reset_user_state()


def test_ddt_cells_are_empty_until_a_real_choice(driver: WebDriver, portal: SimServer) -> None:
    portal.portal.options.update({})
    grid = open_list(driver, portal, "CUSTPACKINGSLIPJOUR_ListView")

    def texts() -> list[str]:
        cells = driver.find_elements(By.CSS_SELECTOR, f"#{grid} tr.dxgvDataRow_XafTheme td.dxgv")
        return [c.text for c in cells if c.text != "N/A"]

    assert texts() and not any(texts())
    combo = driver.find_element(By.CSS_SELECTOR, "[id^=Vertical_mainMenu_Menu_ITCNT][id$=_Cb]")
    cid = attr(combo, "id")
    driver.execute_script(f"window['{cid}'].SetValue(window['{cid}'].GetValue())")
    idle(driver)
    assert not any(texts())
    driver.find_element(By.ID, "Vertical_mainMenu_Menu_DXI5_T").click()  # the overflow
    driver.find_element(By.ID, cid + "_B-1").click()
    driver.find_elements(By.CSS_SELECTOR, f"#{cid}_DDD_L td")[-1].click()  # Tutti
    idle(driver)
    assert any(texts())
    portal.portal.reset_user_state()


def test_english_ui(downloads: Path) -> None:
    with serving_sim(PortalOptions(ddt_flake=0.0, english_ui=True)) as sim:
        browser = start_browser(BrowserSettings(language="en-US"), downloads)
        try:
            browser.get(sim.url + "Login.aspx")
            assert browser.find_element(By.ID, "Logon_PopupActions_Menu_DXI0_T").text == "Log In"
            log_in(browser, sim)
            until(lambda: "Login.aspx" not in browser.current_url)
            browser.get(sim.url + "SALESTABLE_ListView_Agent/")
            idle(browser)
            assert menu_item(browser, "Export to")
            cid = (
                browser.find_element(
                    By.CSS_SELECTOR, "[id^=Vertical_mainMenu_Menu_ITCNT][id$=_Cb]"
                ).get_attribute("id")
                or ""
            )
            texts = browser.execute_script(
                f"return [...document.querySelectorAll('#{cid}_DDD_L td')].map(t => t.textContent)"
            )
            assert texts[0] == "All Orders "
            menu_item(browser, "Export to").click()
            until(lambda: (downloads / "Customer orders.pdf").exists())
        finally:
            browser.quit()
