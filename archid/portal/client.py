"""A portal client: log in once, then turn "export customers" into a PDF on disk.

This module is synchronous and blocking (Selenium is); callers on the event
loop run it in a worker thread.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar
from urllib.parse import quote, urljoin

from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from archid.portal.browser import BrowserSettings, set_download_dir, start_browser
from archid.portal.errors import (
    ExportRejected,
    ExportTimeout,
    InvalidDownload,
    PortalBlocked,
    PortalError,
    PortalUnavailable,
    SessionExpired,
    Stage,
    WrongCredentials,
)
from archid.portal.listviews import LIST_VIEWS
from archid.records import ExportType

EXPORT_MENU_TEXTS = ("Esportare in", "Export to")
LOGIN_BUTTON_TEXTS = ("Accedi", "Log In")
REQUESTED_OBJECTS = "Requested objects cannot be loaded"

_BUSY_SCRIPT = """
const panels = document.querySelectorAll(
  '[id*="LPV"], .dxlp, .dxlpLoadingPanel, [id*="Loading"]');
for (const el of panels) {
  const style = getComputedStyle(el);
  if (el.getClientRects().length && style.visibility !== 'hidden'
      && style.display !== 'none') { return true; }
}
return false;
"""

T = TypeVar("T")


@dataclass
class ExportResult:
    """A verified export on disk and what each stage of getting it took."""

    type: ExportType
    path: Path
    bytes: int
    seconds: dict[str, float] = field(default_factory=dict)
    logins: int = 0


@dataclass
class Timeouts:
    login: float = 30.0
    page: float = 60.0
    download: float = 180.0
    #: pause before clicking again after the DDT "Requested objects" flake
    flake_pause: float = 5.0


class PortalClient:
    """One browser, one portal session, reused across exports while valid."""

    def __init__(
        self,
        base_url: str,
        user: str,
        password: Callable[[], str],
        settings: BrowserSettings | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.user = user
        self._password = password
        self.settings = settings or BrowserSettings()
        self.timeouts = timeouts or Timeouts()
        self._driver: webdriver.Chrome | None = None
        self._workdir = Path(tempfile.mkdtemp(prefix="archid-browser-"))
        self.logins = 0

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Quit the browser and remove its working files."""
        driver, self._driver = self._driver, None
        if driver is not None:
            with contextlib.suppress(WebDriverException):
                driver.quit()
        shutil.rmtree(self._workdir, ignore_errors=True)

    @property
    def driver(self) -> webdriver.Chrome:
        if self._driver is None:
            self._driver = start_browser(self.settings, self._workdir)
        return self._driver

    # -- session -----------------------------------------------------------------

    def has_session(self) -> bool:
        """Whether the browser holds the portal's auth cookie (no page is loaded)."""
        if self._driver is None:
            return False
        names = {cookie["name"] for cookie in self._driver.get_cookies()}
        return ".ASPXAUTH" in names and "ASP.NET_SessionId" in names

    def login(self) -> None:
        """Log in through the form; raises WrongCredentials, PortalBlocked, …"""
        driver = self.driver
        started = time.monotonic()
        target = quote("/Archibald/Default.aspx", safe="")
        self._get(urljoin(self.base_url, f"Login.aspx?ReturnUrl={target}"), Stage.LOGIN)
        try:
            user = driver.find_element(
                By.CSS_SELECTOR,
                "input[type=text][name*='UserName'], input[id*='UserName'][type=text]",
            )
            password = driver.find_element(By.CSS_SELECTOR, "input[type=password]")
        except NoSuchElementException:
            raise PortalUnavailable(
                "the login form is not on the login page", Stage.LOGIN
            ) from None
        user.clear()
        user.send_keys(self.user)
        password.clear()
        password.send_keys(self._password())
        self._click(self._find_by_text("a, span, button", LOGIN_BUTTON_TEXTS, Stage.LOGIN))
        self.logins += 1
        while time.monotonic() - started < self.timeouts.login:
            self._check_page(Stage.LOGIN)
            if "login.aspx" not in driver.current_url.lower():
                return
            if driver.find_elements(By.ID, "Logon_ErrorInfo"):
                raise WrongCredentials("the portal rejected the user name or password", Stage.LOGIN)
            time.sleep(0.1)
        raise ExportTimeout("the portal did not answer the login in time", Stage.LOGIN)

    # -- export ------------------------------------------------------------------

    def export(self, export_type: ExportType, out_dir: Path) -> ExportResult:
        """Export one list view as PDF into ``out_dir``, logging in if needed.

        A session found expired on the way logs in again once and goes on.
        """
        logins_before = self.logins
        try:
            result = self._export_once(export_type, out_dir)
        except SessionExpired:
            result = self._export_once(export_type, out_dir)
        result.logins = self.logins - logins_before
        return result

    def _export_once(self, export_type: ExportType, out_dir: Path) -> ExportResult:
        seconds: dict[str, float] = {}
        mark = time.monotonic()
        if not self.has_session():
            self.login()
        seconds["login"] = time.monotonic() - mark
        mark = time.monotonic()
        self._get(urljoin(self.base_url, LIST_VIEWS[export_type] + "/"), Stage.PAGE_LOAD)
        self.wait_idle(Stage.PAGE_LOAD)
        self._prepare_list(export_type)
        seconds["page_load"] = time.monotonic() - mark
        mark = time.monotonic()
        downloads = self._workdir / f"download-{export_type}-{time.monotonic_ns()}"
        downloads.mkdir()
        set_download_dir(self.driver, downloads)
        self._click_export()
        seconds["menu"] = time.monotonic() - mark
        mark = time.monotonic()
        try:
            path = self._wait_download(downloads, export_type)
        except ExportRejected as exc:
            if export_type is not ExportType.DDT or REQUESTED_OBJECTS not in str(exc):
                raise
            # Known flake of the DDT list: a second click after a pause works.
            time.sleep(self.timeouts.flake_pause)
            self._dismiss_error()
            self._click_export()
            path = self._wait_download(downloads, export_type)
        seconds["download"] = time.monotonic() - mark
        out_dir.mkdir(parents=True, exist_ok=True)
        final = out_dir / path.name
        shutil.move(path, final)
        shutil.rmtree(downloads, ignore_errors=True)
        return ExportResult(export_type, final, final.stat().st_size, seconds)

    def _prepare_list(self, export_type: ExportType) -> None:
        """Undo the user profile's saved state that would shrink the export."""
        driver = self.driver
        if export_type is ExportType.ORDERS:
            combo = driver.find_elements(By.ID, "Vertical_v1_SalesFilter_I")
            if combo and combo[0].get_attribute("value") != "Tutti gli ordini":
                self._click(combo[0])
                self._click(self._find_by_text("td", ("Tutti gli ordini",), Stage.PAGE_LOAD))
                self._wait_reload(Stage.PAGE_LOAD)
        if export_type is ExportType.PRODUCTS:
            clear = driver.find_elements(By.ID, "Vertical_v1_FilterBar_Clear")
            if clear:
                self._click(clear[0])
                self._wait_reload(Stage.PAGE_LOAD)
            chooser = driver.find_elements(By.ID, "Vertical_v1_ColumnChooser")
            if chooser:
                self._click(chooser[0])
                self._click(driver.find_element(By.ID, "Vertical_v1_ColumnChooser_ShowAll"))
                self._wait_reload(Stage.PAGE_LOAD)

    def _click_export(self) -> None:
        export_item = self._menu_item(EXPORT_MENU_TEXTS)
        if not export_item.is_displayed():
            self._click(self._menu_item(("…", "...")))
        self._click(export_item.find_element(By.CSS_SELECTOR, ":scope > a"))
        pdf = next(
            (
                li
                for li in export_item.find_elements(By.CSS_SELECTOR, "li")
                if _normalise(li.text) == "PDF"
            ),
            None,
        )
        if pdf is None:
            raise PortalError("the export menu has no PDF item", Stage.MENU)
        self._click(pdf.find_element(By.CSS_SELECTOR, ":scope > a"))

    def _menu_item(self, texts: tuple[str, ...]) -> WebElement:
        items = self.driver.find_elements(By.CSS_SELECTOR, "li[id^='Vertical_mainMenu_Menu_DXI']")
        for item in items:
            if not re.fullmatch(r"Vertical_mainMenu_Menu_DXI\d+_", item.get_attribute("id") or ""):
                continue
            anchors = item.find_elements(By.CSS_SELECTOR, ":scope > a")
            text = _normalise(anchors[0].get_attribute("textContent") or "") if anchors else ""
            if any(_is_label(text, wanted) for wanted in texts):
                return item
        raise PortalError(f"no menu item reads {' or '.join(texts)}", Stage.MENU)

    def _wait_download(self, folder: Path, export_type: ExportType) -> Path:
        deadline = time.monotonic() + self.timeouts.download
        last_size = -1
        while time.monotonic() < deadline:
            self._check_page(Stage.DOWNLOAD)
            files = [p for p in folder.iterdir() if not p.name.endswith((".crdownload", ".tmp"))]
            partial = [p for p in folder.iterdir() if p.name.endswith(".crdownload")]
            if files and not partial:
                path = files[0]
                size = path.stat().st_size
                if size == last_size:
                    return _verified(path)
                last_size = size
            time.sleep(0.2)
        raise ExportTimeout(f"the {export_type} download did not finish in time", Stage.DOWNLOAD)

    # -- page helpers -------------------------------------------------------------

    def _get(self, url: str, stage: Stage) -> None:
        try:
            self.driver.get(url)
        except WebDriverException as exc:
            raise PortalUnavailable(f"could not load {url}: {exc.msg}", stage) from exc
        self._check_page(stage)

    def _check_page(self, stage: Stage) -> None:
        """Map what the portal shows instead of the expected page to an error."""
        driver = self.driver
        url = driver.current_url.lower()
        if stage is not Stage.LOGIN and "login.aspx" in url:
            raise SessionExpired("the portal sent the browser to the login page", stage)
        if driver.find_elements(By.ID, "Blocked"):
            raise PortalBlocked("the portal blocks this client for today", stage)
        if driver.find_elements(By.ID, "Maintenance"):
            raise PortalUnavailable("the portal is in maintenance", stage)
        if driver.find_elements(By.ID, "ServerError"):
            raise PortalUnavailable("the portal answered with a server error", stage)
        errors = driver.find_elements(By.ID, "Vertical_ErrorInfo_Text")
        if errors and errors[0].is_displayed():
            raise ExportRejected(errors[0].text or "the portal reported an error", stage)

    def wait_idle(self, stage: Stage = Stage.PAGE_LOAD) -> None:
        """Wait until no loading panel is visible three times in a row, 200 ms apart."""
        deadline = time.monotonic() + self.timeouts.page
        quiet = 0
        while quiet < 3:
            if time.monotonic() > deadline:
                raise ExportTimeout("the page stayed busy too long", stage)
            busy = self.driver.execute_script(_BUSY_SCRIPT)
            quiet = 0 if busy else quiet + 1
            time.sleep(0.2)

    def _wait_reload(self, stage: Stage) -> None:
        """After an action that reloads the page: wait for the new page to settle."""
        self.wait_idle(stage)
        self._check_page(stage)

    def _click(self, element: WebElement) -> None:
        """A real pointer click, waiting out loading panels that cover the page."""
        deadline = time.monotonic() + self.timeouts.page
        while True:
            try:
                element.click()
                return
            except (ElementClickInterceptedException, ElementNotInteractableException):
                if time.monotonic() > deadline:
                    raise ExportTimeout("a loading panel never let go", Stage.MENU) from None
                self.wait_idle(Stage.MENU)
            except StaleElementReferenceException:
                raise PortalError("the page changed under a click", Stage.MENU) from None

    def _dismiss_error(self) -> None:
        close = self.driver.find_elements(By.ID, "Vertical_ErrorInfo_Close")
        if close and close[0].is_displayed():
            self._click(close[0])

    def _find_by_text(self, css: str, texts: tuple[str, ...], stage: Stage) -> WebElement:
        for element in self.driver.find_elements(By.CSS_SELECTOR, css):
            if any(_is_label(_normalise(element.text), text) for text in texts):
                return element
        raise PortalError(f"nothing on the page reads {' or '.join(texts)}", stage)


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _is_label(text: str, wanted: str) -> bool:
    """``text`` is ``wanted``, possibly rendered twice ("Export toExport to")."""
    return text == wanted or text == wanted * 2


def _verified(path: Path) -> Path:
    size = path.stat().st_size
    if size == 0:
        raise InvalidDownload(f"{path.name} is empty", Stage.DOWNLOAD)
    with path.open("rb") as f:
        head = f.read(5)
        f.seek(max(0, size - 1024))
        tail = f.read()
    if head != b"%PDF-":
        raise InvalidDownload(f"{path.name} is not a PDF", Stage.DOWNLOAD)
    if b"%%EOF" not in tail:
        raise InvalidDownload(f"{path.name} is truncated (no end-of-file marker)", Stage.DOWNLOAD)
    return path
