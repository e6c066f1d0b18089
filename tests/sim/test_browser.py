"""Real headless Chromium, driven by Selenium, against the simulated portal."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import resolve1
from selenium.webdriver.common.by import By

from archid.portal.browser import BrowserSettings
from archid.portal.client import PortalClient, Timeouts
from archid.portal.errors import Stage
from archid.records import ExportType
from archid.sim.portal import PortalOptions
from archid.sim.server import SimServer
from tests.pdftext import read_pages
from tests.sim.test_server import FILE_NAMES
from tests.spec_layouts import ENGLISH_FILE_NAMES, SPEC_HEADERS

pytestmark = pytest.mark.browser


@pytest.fixture
def client(sim: SimServer) -> Iterator[PortalClient]:
    options = sim.portal.options
    timeouts = Timeouts(page=30, download=60, flake_pause=0.5)
    with PortalClient(sim.url, options.user, lambda: options.password, timeouts=timeouts) as c:
        yield c


def font_of(path: Path) -> dict[str, object]:
    """What the first page's font resource says about itself."""
    with path.open("rb") as f:
        document = PDFDocument(PDFParser(f))
        page = next(PDFPage.create_pages(document))
        fonts = resolve1(resolve1(page.resources)["Font"])
        name, ref = next(iter(fonts.items()))
        font = resolve1(ref)
        descendant = resolve1(resolve1(font["DescendantFonts"])[0])
        descriptor = resolve1(descendant["FontDescriptor"])
        return {
            "name": name,
            "subtype": resolve1(font["Subtype"]).name,
            "encoding": resolve1(font["Encoding"]).name,
            "to_unicode": "ToUnicode" in font,
            "cid_subtype": resolve1(descendant["Subtype"]).name,
            "embedded": "FontFile2" in descriptor,
            "pages": resolve1(document.catalog["Pages"])["Count"],
        }


def test_login_and_export_all_six_types(client: PortalClient, tmp_path: Path) -> None:
    for export_type in ExportType:
        result = client.export(export_type, tmp_path)
        assert result.path.name == FILE_NAMES[export_type]
        assert result.bytes == result.path.stat().st_size > 0
        font = font_of(result.path)
        assert font == {
            "name": "FNT0",
            "subtype": "Type0",
            "encoding": "Identity-H",
            "to_unicode": True,
            "cid_subtype": "CIDFontType2",
            "embedded": True,
            "pages": font["pages"],
        }
        expected = SPEC_HEADERS[str(export_type)]
        pages = read_pages(result.path, max_pages=2 * len(expected))
        assert all((p.width, p.height) == (612, 792) for p in pages)
        cycle = len(expected)
        assert isinstance(font["pages"], int) and font["pages"] % cycle == 0
        for k, page in enumerate(pages):
            assert page.header_cells() == expected[k % cycle], f"{export_type} page {k + 1}"
    assert client.logins == 1, "the session must be reused across exports"


@pytest.mark.parametrize(
    "sim_options", [PortalOptions(ddt_flake=1.0, loading_min=0.05, loading_max=0.2)]
)
def test_ddt_flake_is_survived_by_clicking_again(client: PortalClient, tmp_path: Path) -> None:
    result = client.export(ExportType.DDT, tmp_path)
    assert result.path.name == "Documenti di trasporto.pdf"


def _open_list(client: PortalClient, sim: SimServer, view: str) -> None:
    client.login()
    client.driver.get(sim.url + view + "/")


def test_menu_ignores_scripted_clicks_and_obeys_pointer_events(
    client: PortalClient, sim: SimServer
) -> None:
    # Panels stay long enough that checking for one cannot miss it.
    sim.portal.options.update({"loading_min": 1.0, "loading_max": 1.2})
    _open_list(client, sim, "CUSTTABLE_ListView_Agent")
    driver = client.driver
    popup = driver.find_element(By.ID, "Vertical_mainMenu_Menu_DXME3_")
    anchor = driver.find_element(By.ID, "Vertical_mainMenu_Menu_DXI3_T")
    client.wait_idle(Stage.PAGE_LOAD)
    driver.execute_script("arguments[0].click();", anchor)
    assert not popup.is_displayed()
    anchor.click()
    assert popup.is_displayed()
    # Every action brings the loading panel back for a while.
    panel = driver.find_element(By.ID, "Vertical_LPV")
    assert not panel.is_displayed()
    driver.find_element(By.ID, "Vertical_mainMenu_Menu_DXI2_T").click()
    assert panel.is_displayed()
    client.wait_idle(Stage.PAGE_LOAD)
    assert not panel.is_displayed()


def test_loading_panel_covers_the_page_after_load(client: PortalClient, sim: SimServer) -> None:
    sim.portal.options.update({"loading_min": 1.5, "loading_max": 1.6})
    _open_list(client, sim, "CUSTINVOICEJOUR_ListView")
    panel = client.driver.find_element(By.ID, "Vertical_LPV")
    assert panel.is_displayed()
    started = time.monotonic()
    client.wait_idle(Stage.PAGE_LOAD)
    assert not panel.is_displayed()
    assert time.monotonic() - started > 0.5


def test_narrow_window_pushes_export_into_overflow(sim: SimServer, tmp_path: Path) -> None:
    settings = BrowserSettings(window_width=900, window_height=700)
    options = sim.portal.options
    with PortalClient(sim.url, options.user, lambda: options.password, settings=settings) as client:
        _open_list(client, sim, "CUSTTABLE_ListView_Agent")
        item = client.driver.find_element(By.ID, "Vertical_mainMenu_Menu_DXI3_")
        assert not item.is_displayed()
        overflow = client.driver.find_elements(By.CSS_SELECTOR, "li.dxm-overflow")
        assert overflow and overflow[0].text.strip() == "…"
        # Widening after load does not bring the item back, as on the real portal.
        client.driver.set_window_size(1440, 900)
        assert not item.is_displayed()
        client.driver.refresh()
        assert client.driver.find_element(By.ID, "Vertical_mainMenu_Menu_DXI3_").is_displayed()


def test_english_browser_gets_the_english_export(sim: SimServer, tmp_path: Path) -> None:
    settings = BrowserSettings(language="en-US")
    options = sim.portal.options
    # The client refuses a non-Italian browser unless told this is on purpose.
    with PortalClient(
        sim.url, options.user, lambda: options.password, settings=settings, require_italian=False
    ) as client:
        result = client.export(ExportType.ORDERS, tmp_path)
    assert result.path.name == ENGLISH_FILE_NAMES["orders"]
    pages = read_pages(result.path)
    assert pages[0].header_cells()[:2] == ["ID", "SALES ORDER"]
    moments = [
        (int(month), int(day))
        for page in pages
        for run in page.runs
        for month, day in re.findall(
            r"^(\d{1,2})/(\d{1,2})/\d{4} \d{1,2}:\d\d:\d\d [AP]M$", run.text
        )
    ]
    assert moments and any(day > 12 for _, day in moments) and all(m <= 12 for m, _ in moments)
