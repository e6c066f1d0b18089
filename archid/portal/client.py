"""A portal client: log in once, then turn "export customers" into a PDF on disk.

This module is synchronous and blocking (Selenium is); callers on the event
loop use :class:`archid.portal.session.AsyncPortal`, which runs it in a
worker thread and kills the browser when the caller is cancelled.

Guarantees of :class:`PortalClient`:

* one browser at a time, started on demand with the settings' paths (never
  a downloaded driver), Italian language and a fixed window size; its
  language is checked before the first page loads;
* the session lives in :class:`~archid.portal.cookies.SessionCookies`,
  outside the browser (and, given a path, on disk): a browser closed for
  idleness, crashed or killed, or a new process, starts with the same
  cookies, so a restart costs no login; a session the portal has dropped
  meanwhile (it sends the browser to ``Login.aspx``) costs one;
* every login is counted in the :class:`~archid.portal.budget.LoginBudget`
  before its form is submitted;
* every failure leaves as a :class:`~archid.portal.errors.PortalError` with
  its stage; Selenium's exceptions are mapped once, in :meth:`_boundary`;
* after a failure that leaves the browser in an unknown state (timeouts,
  bad downloads, a dead browser) the browser is killed, whole tree;
* the browser's processes cannot outlive this process (``tether.py``).
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, urljoin

from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    JavascriptException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.remote_connection import RemoteConnection
from selenium.webdriver.remote.webelement import WebElement
from urllib3.exceptions import HTTPError as DriverConnectionError
from urllib3.exceptions import MaxRetryError
from urllib3.exceptions import TimeoutError as DriverTimeout

from archid.config import PortalConfig
from archid.portal.browser import BrowserSettings, set_download_dir, start_browser
from archid.portal.budget import LoginBudget
from archid.portal.cookies import AUTH_COOKIE, SESSION_COOKIE, SessionCookies
from archid.portal.errors import (
    BrowserFailure,
    ExportRejected,
    ExportTimeout,
    InvalidDownload,
    PortalBlocked,
    PortalError,
    PortalUnavailable,
    SessionExpired,
    Stage,
    UnexpectedPage,
    WrongBrowserLanguage,
    WrongCredentials,
)
from archid.portal.listviews import LIST_VIEWS
from archid.portal.processes import kill_tree, owner_tag
from archid.records import ExportType

__all__ = [
    "AUTH_COOKIE",
    "SESSION_COOKIE",
    "ExportResult",
    "PortalClient",
    "SessionCookies",
    "Timeouts",
]

log = logging.getLogger("archid.portal")

EXPORT_MENU_TEXTS = ("Esportare in", "Export to")
LOGIN_BUTTON_TEXTS = ("Accedi", "Log In")
REQUESTED_OBJECTS = "Requested objects cannot be loaded"
CHOOSER_TEXTS = ("Scelta colonne", "Column Chooser")
SHOW_ALL_COLUMNS_TEXTS = ("Mostra tutte le colonne", "Show all columns")
#: columns archid needs that a session may hide, per list (spec v2), switched on before export
NEEDED_COLUMNS: dict[ExportType, tuple[tuple[str, ...], ...]] = {
    ExportType.INVOICES: (("ID VENDITE",),),
}

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

# One round trip per look at a page: where it is and what it says.
_PAGE_SCRIPT = """
const has = (id) => document.getElementById(id) !== null;
const box = document.getElementById('Vertical_ErrorInfo_Text');
const shown = box !== null && box.getClientRects().length > 0
  && getComputedStyle(box).visibility !== 'hidden';
return {url: document.URL, blocked: has('Blocked'), maintenance: has('Maintenance'),
        server_error: has('ServerError'), error: shown ? box.textContent.trim() : null};
"""

#: Selenium's ways of saying that chromedriver or Chromium is gone
_DRIVER_GONE = (WebDriverException, DriverConnectionError, ConnectionError)
#: seconds a browser command may take beyond the page or login timeout
_COMMAND_MARGIN = 5.0
#: failures after which the browser's state is unknown: it is replaced
_RESTART_AFTER = (ExportTimeout, InvalidDownload, BrowserFailure)


@dataclass
class ExportResult:
    """A verified export on disk and what each stage of getting it took.

    ``seconds`` has the keys ``login``, ``page_load``, ``menu`` and
    ``download``; ``logins`` counts the logins this export needed (0 when
    the session was reused); ``flake_retries`` the DDT "Requested objects"
    flakes clicked through.
    """

    type: ExportType
    path: Path
    bytes: int
    seconds: dict[str, float] = field(default_factory=dict)
    logins: int = 0
    flake_retries: int = 0


@dataclass
class Timeouts:
    """Seconds allowed per stage (``[portal]`` ``*_timeout``)."""

    login: float = 30.0
    page: float = 60.0
    download: float = 180.0
    #: pause before clicking again after the DDT "Requested objects" flake
    flake_pause: float = 5.0
    #: between looks at loading panels (idle = three quiet looks) and at the download
    poll: float = 0.2

    @classmethod
    def from_config(cls, config: PortalConfig) -> Timeouts:
        return cls(
            login=config.login_timeout,
            page=config.page_timeout,
            download=config.download_timeout,
        )


def _ignore_stage(stage: Stage) -> None:
    pass


class PortalClient:
    """One browser, one portal session, reused across exports while valid.

    ``password`` is called each time the login form is filled in (so a
    password file read there follows its changes; it may raise
    :class:`WrongCredentials`). Without a ``budget`` logins are not limited
    (tests, the demo). ``cookies`` may be shared with a previous client, or
    read from a file a previous process saved, so that its session carries
    over. ``instance`` (:func:`~archid.portal.processes.instance_tag` of the
    database) marks the browser so that the next archid on the same
    database can find it if it is left behind. With ``require_italian``
    (the default) a browser whose language is not Italian is refused with
    :class:`WrongBrowserLanguage`.

    Not thread-safe, except :meth:`kill`, which any thread may call.
    """

    def __init__(
        self,
        base_url: str,
        user: str,
        password: Callable[[], str],
        settings: BrowserSettings | None = None,
        timeouts: Timeouts | None = None,
        *,
        budget: LoginBudget | None = None,
        cookies: SessionCookies | None = None,
        require_italian: bool = True,
        instance: str | None = None,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.user = user
        self._password = password
        self.settings = settings or BrowserSettings()
        self.timeouts = timeouts or Timeouts()
        self.budget = budget
        self.cookies = cookies or SessionCookies()
        self.require_italian = require_italian
        #: marks this client's browser processes (see ``processes.py``)
        self.tag = owner_tag()
        self.instance = instance
        self._driver: webdriver.Chrome | None = None
        self._driver_pid: int | None = None
        self._workdir = Path(tempfile.mkdtemp(prefix="archid-browser-"))
        self._starts = 0
        #: called (from the export's thread) each time the export enters a stage
        self.on_stage: Callable[[Stage], None] = _ignore_stage
        self._current = Stage.BROWSER
        self._killed = False
        self._closed = False
        self.logins = 0

    @property
    def _stage(self) -> Stage:
        return self._current

    @_stage.setter
    def _stage(self, stage: Stage) -> None:
        if stage is not self._current:
            self._current = stage
            self.on_stage(stage)

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- browser lifetime ----------------------------------------------------------

    @property
    def browser_open(self) -> bool:
        """Whether a browser is running for this client."""
        return self._driver is not None

    @property
    def driver(self) -> webdriver.Chrome:
        """The browser, started (with the saved session's cookies) if none runs."""
        if self._driver is None:
            self._driver = self._start()
        return self._driver

    def _start(self) -> webdriver.Chrome:
        if self._killed or self._closed:
            raise BrowserFailure("the portal client is closed", Stage.BROWSER)
        self._stage = Stage.BROWSER
        self._starts += 1
        profile = self._workdir / f"profile-{self._starts}"
        downloads = self._workdir / "downloads"
        downloads.mkdir(exist_ok=True)
        driver = start_browser(
            self.settings, downloads, profile_dir=profile, tag=self.tag, instance=self.instance
        )
        self._driver_pid = driver.service.process.pid
        if self._killed:
            # kill() ran while the browser was starting and may have missed it.
            self._kill_processes(driver)
            raise BrowserFailure("the portal client was stopped", Stage.BROWSER)
        try:
            driver.set_page_load_timeout(self.timeouts.page)
            # chromedriver does not always honour the page load timeout while a
            # navigation hangs (a download that never starts): bound every
            # command on our side too, instead of Selenium's 120 s.
            executor = driver.command_executor
            assert isinstance(executor, RemoteConnection)
            executor.client_config.timeout = (
                max(self.timeouts.page, self.timeouts.login) + _COMMAND_MARGIN
            )
            if self.require_italian:
                languages = driver.execute_script(
                    "return [navigator.language].concat(navigator.languages || [])"
                )
                if not all(str(language).lower().startswith("it") for language in languages[:2]):
                    raise WrongBrowserLanguage(
                        f"the browser runs in {languages[0]!s}, not Italian: the portal would"
                        ' write month-first dates (set [browser] language = "it-IT")',
                        Stage.BROWSER,
                    )
            self._restore_session(driver)
        except BaseException:
            self._kill_processes(driver)
            raise
        return driver

    def _restore_session(self, driver: webdriver.Chrome) -> None:
        """Put the held session into a fresh browser; a cookie it refuses drops the session."""
        try:
            self.cookies.restore(lambda params: driver.execute_cdp_cmd("Network.setCookie", params))
        except WebDriverException:
            # A dead browser is the boundary's to report; otherwise a saved
            # cookie was unusable, and a fresh login is the way on. The
            # error is not shown: it may quote the cookie.
            driver.execute_script("return 1")
            log.warning("the browser refused the saved portal session: logging in afresh")
            self.cookies.clear()
            driver.delete_all_cookies()

    def close_browser(self) -> None:
        """Quit the browser (the session's cookies are kept for the next one)."""
        driver = self._driver
        if driver is None:
            return
        try:
            with contextlib.suppress(*_DRIVER_GONE):
                driver.quit()
        finally:
            # quit() leaves Chromium's helpers behind when Chromium hangs.
            self._kill_processes(driver)
            # Only now: browser_open stays true while any process may run.
            self._driver = None

    def close(self) -> None:
        """Quit the browser and remove its working files; the client is done."""
        self._closed = True
        self.close_browser()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL the browser's whole process tree now; callable from any thread.

        Selenium calls blocked in another thread then fail promptly; the
        client is done (it starts no new browser) and its files are removed.
        """
        self._killed = True
        self._closed = True
        driver = self._driver
        kill_tree([self._driver_pid] if self._driver_pid else [], self.tag)
        if driver is not None:
            _reap(driver)
        shutil.rmtree(self._workdir, ignore_errors=True)

    def _discard_browser(self) -> None:
        """Kill a browser in an unknown state; the next export starts a new one."""
        driver = self._driver
        if driver is not None:
            self._kill_processes(driver)
            self._driver = None

    def _kill_processes(self, driver: webdriver.Chrome) -> None:
        kill_tree([driver.service.process.pid], self.tag)
        _reap(driver)
        for profile in self._workdir.glob("profile-*"):
            shutil.rmtree(profile, ignore_errors=True)

    def _ensure_alive(self) -> None:
        """Replace a browser that died since the last export (no page is loaded)."""
        if self._driver is None:
            return
        try:
            self._driver.execute_script("return 1")
        except _DRIVER_GONE:
            self._discard_browser()

    @contextlib.contextmanager
    def _boundary(self) -> Iterator[None]:
        """Map Selenium's and the connection's exceptions onto :class:`PortalError`."""
        try:
            yield
        except _RESTART_AFTER:
            self._discard_browser()
            raise
        except PortalError:
            raise
        except TimeoutException as exc:
            self._discard_browser()
            raise ExportTimeout(f"the browser gave up waiting: {exc.msg}", self._stage) from exc
        except (DriverTimeout, MaxRetryError) as exc:
            if isinstance(exc, MaxRetryError) and not isinstance(exc.reason, DriverTimeout):
                killed = self._killed
                self._discard_browser()
                raise BrowserFailure(
                    "the browser was stopped" if killed else f"the browser is gone: {exc}",
                    self._stage,
                ) from exc
            self._discard_browser()
            late = "the browser did not answer a command in time"
            raise ExportTimeout(late, self._stage) from exc
        except _DRIVER_GONE as exc:
            killed = self._killed
            self._discard_browser()
            if killed:
                raise BrowserFailure("the browser was stopped", self._stage) from exc
            message = exc.msg if isinstance(exc, WebDriverException) else str(exc)
            raise BrowserFailure(f"the browser failed: {message}", self._stage) from exc

    # -- session -----------------------------------------------------------------

    def has_session(self) -> bool:
        """Whether a portal session is held (from its cookies; no page is loaded)."""
        return self.cookies.valid()

    def login(self) -> None:
        """Log in through the form.

        Raises :class:`WrongCredentials`, :class:`PortalBlocked`,
        :class:`LoginBudgetSpent` (before touching the browser), …
        """
        with self._boundary():
            self._login()

    def _login(self) -> None:
        if self.budget is not None and self.budget.remaining() <= 0:
            self.budget.spend()  # raises LoginBudgetSpent with the ledger's details
        driver = self.driver
        self._stage = Stage.LOGIN
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
            raise UnexpectedPage("the login form is not on the login page", Stage.LOGIN) from None
        user.clear()
        user.send_keys(self.user)
        password.clear()
        password.send_keys(self._password())
        button = self._find_by_text("a, span, button", LOGIN_BUTTON_TEXTS, Stage.LOGIN)
        # Counted before the submit: a crash from here on still used a login.
        if self.budget is not None:
            self.budget.spend()
        self.logins += 1
        self._click(button)
        while time.monotonic() - started < self.timeouts.login:
            self._check_page(Stage.LOGIN)
            if "login.aspx" not in driver.current_url.lower():
                self.cookies.save(driver.get_cookies())
                return
            if driver.find_elements(By.ID, "Logon_ErrorInfo"):
                raise WrongCredentials("the portal rejected the user name or password", Stage.LOGIN)
            time.sleep(0.1)
        raise ExportTimeout("the portal did not answer the login in time", Stage.LOGIN)

    # -- export ------------------------------------------------------------------

    def export(self, export_type: ExportType, out_dir: Path) -> ExportResult:
        """Export one list view as PDF into ``out_dir``, logging in if needed.

        Returns the verified file (starts with ``%PDF-``, ends with
        ``%%EOF``, not empty). A session found expired on the way logs in
        again once and goes on; any other failure raises a
        :class:`~archid.portal.errors.PortalError` tagged with its stage.
        """
        logins_before = self.logins
        with self._boundary():
            self._ensure_alive()
            try:
                result = self._export_once(export_type, out_dir)
            except SessionExpired:
                # The cookies still look valid: forget them, or the retry
                # would trust them again.
                self.cookies.clear()
                self.driver.delete_all_cookies()
                result = self._export_once(export_type, out_dir)
        result.logins = self.logins - logins_before
        return result

    def _export_once(self, export_type: ExportType, out_dir: Path) -> ExportResult:
        seconds: dict[str, float] = {}
        mark = time.monotonic()
        if not self.has_session():
            self._login()
        seconds["login"] = time.monotonic() - mark
        mark = time.monotonic()
        self._stage = Stage.PAGE_LOAD
        self._get(urljoin(self.base_url, LIST_VIEWS[export_type] + "/"), Stage.PAGE_LOAD)
        self.wait_idle(Stage.PAGE_LOAD)
        self._check_page(Stage.PAGE_LOAD)
        self._prepare_list(export_type)
        self.cookies.save(self.driver.get_cookies())
        seconds["page_load"] = time.monotonic() - mark
        mark = time.monotonic()
        self._stage = Stage.MENU
        # A private folder per export: no file of an earlier export is taken for this one.
        downloads = self._workdir / f"download-{export_type}-{time.monotonic_ns()}"
        downloads.mkdir()
        set_download_dir(self.driver, downloads)
        self._click_export()
        seconds["menu"] = time.monotonic() - mark
        mark = time.monotonic()
        self._stage = Stage.DOWNLOAD
        flakes = 0
        try:
            path = self._wait_download(downloads, export_type)
        except ExportRejected as exc:
            if export_type is not ExportType.DDT or REQUESTED_OBJECTS not in str(exc):
                raise
            # Known flake of the DDT list: a second click after a pause works.
            flakes += 1
            time.sleep(self.timeouts.flake_pause)
            self._dismiss_error()
            self._click_export()
            path = self._wait_download(downloads, export_type)
        seconds["download"] = time.monotonic() - mark
        if self._killed:
            raise BrowserFailure("the portal client was stopped", Stage.DOWNLOAD)
        out_dir.mkdir(parents=True, exist_ok=True)
        final = out_dir / path.name
        shutil.move(path, final)
        shutil.rmtree(downloads, ignore_errors=True)
        with contextlib.suppress(*_DRIVER_GONE):
            self.cookies.save(self.driver.get_cookies())
        return ExportResult(export_type, final, final.stat().st_size, seconds, flake_retries=flakes)

    def _prepare_list(self, export_type: ExportType) -> None:
        """Undo the user profile's saved state that would shrink the export, and show
        the hidden columns archid needs."""
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
        self._show_needed_columns(export_type)

    def _show_needed_columns(self, export_type: ExportType) -> None:
        """Switch on, in the column chooser, every column archid needs that the session hides.

        A new session hides columns (spec v2: 18 product columns, invoices'
        ID VENDITE); the choice lasts for the session. Controls are found by
        their text; each choice reloads the page, so the chooser is looked
        up again for the next one.
        """
        wanted: list[tuple[str, ...]] = list(NEEDED_COLUMNS.get(export_type, ()))
        if export_type is ExportType.PRODUCTS:
            wanted.insert(0, SHOW_ALL_COLUMNS_TEXTS)
        for texts in wanted:
            chooser = self._text_elements("a", CHOOSER_TEXTS)
            if not chooser:
                return  # nothing hidden any more
            choice = self._text_elements(".dxpc-mainDiv li, .dxpc-mainDiv a", texts)
            if not choice:
                continue  # this column is shown already
            self._click(chooser[0])
            self._click(choice[0])
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
            raise UnexpectedPage("the export menu has no PDF item", Stage.MENU)
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
        raise UnexpectedPage(f"no menu item reads {' or '.join(texts)}", Stage.MENU)

    def _wait_download(self, folder: Path, export_type: ExportType) -> Path:
        """The downloaded file once complete: no partial file, size stable, verified."""
        deadline = time.monotonic() + self.timeouts.download
        last_size = -1
        while time.monotonic() < deadline:
            self._check_page(Stage.DOWNLOAD)
            names = list(folder.iterdir())
            files = [p for p in names if not p.name.endswith((".crdownload", ".tmp"))]
            partial = [p for p in names if p.name.endswith(".crdownload")]
            if files and not partial:
                path = files[0]
                size = path.stat().st_size
                if size == last_size:
                    return _verified(path)
                last_size = size
            time.sleep(self.timeouts.poll)
        raise ExportTimeout(f"the {export_type} download did not finish in time", Stage.DOWNLOAD)

    # -- page helpers -------------------------------------------------------------

    def _get(self, url: str, stage: Stage) -> None:
        try:
            self.driver.get(url)
        except TimeoutException as exc:
            raise ExportTimeout(f"{url} did not load in time", stage) from exc
        except WebDriverException as exc:
            # Navigation errors name Chromium's network error; anything else
            # (a dead browser) is left to the boundary.
            if "net::ERR_" not in (exc.msg or ""):
                raise
            raise PortalUnavailable(f"could not load {url}: {exc.msg}", stage) from exc
        self._check_page(stage)

    def _check_page(self, stage: Stage) -> None:
        """Map what the portal shows instead of the expected page to an error."""
        for _ in range(3):
            try:
                page = self.driver.execute_script(_PAGE_SCRIPT)
                break
            except (JavascriptException, StaleElementReferenceException):
                continue  # the page changed while it was looked at: look at the new one
        else:
            page = self.driver.execute_script(_PAGE_SCRIPT)
        shown = str(page["url"])
        url = shown.lower()
        if url.startswith("chrome-error:"):
            # Chromium's own error page: connection refused, reset, DNS, TLS.
            raise PortalUnavailable(f"the browser could not reach {self.base_url}", stage)
        if stage is not Stage.LOGIN and "login.aspx" in url:
            raise SessionExpired("the portal sent the browser to the login page", stage)
        if page["blocked"]:
            raise PortalBlocked("the portal blocks this client for today", stage)
        if page["maintenance"]:
            raise PortalUnavailable(f"the portal is in maintenance ({shown})", stage)
        if page["server_error"]:
            raise PortalUnavailable(f"the portal answered {shown} with a server error", stage)
        if page["error"] is not None:
            raise ExportRejected(page["error"] or "the portal reported an error", stage)

    def wait_idle(self, stage: Stage = Stage.PAGE_LOAD) -> None:
        """Wait until no loading panel is visible three times in a row, ``poll`` s apart."""
        deadline = time.monotonic() + self.timeouts.page
        quiet = 0
        while quiet < 3:
            if time.monotonic() > deadline:
                raise ExportTimeout("the page stayed busy too long", stage)
            busy = self.driver.execute_script(_BUSY_SCRIPT)
            quiet = 0 if busy else quiet + 1
            time.sleep(self.timeouts.poll)

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
                raise UnexpectedPage("the page changed under a click", Stage.MENU) from None

    def _dismiss_error(self) -> None:
        close = self.driver.find_elements(By.ID, "Vertical_ErrorInfo_Close")
        if close and close[0].is_displayed():
            self._click(close[0])

    def _text_elements(self, css: str, texts: tuple[str, ...]) -> list[WebElement]:
        """The elements matching ``css`` whose text (shown or not) reads one of ``texts``."""
        return [
            element
            for element in self.driver.find_elements(By.CSS_SELECTOR, css)
            if any(
                _is_label(_normalise(element.get_attribute("textContent") or ""), text)
                for text in texts
            )
        ]

    def _find_by_text(self, css: str, texts: tuple[str, ...], stage: Stage) -> WebElement:
        for element in self.driver.find_elements(By.CSS_SELECTOR, css):
            if any(_is_label(_normalise(element.text), text) for text in texts):
                return element
        raise UnexpectedPage(f"nothing on the page reads {' or '.join(texts)}", stage)


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


def _reap(driver: webdriver.Chrome) -> None:
    """Collect chromedriver's exit status, so that it does not linger as our zombie."""
    process = driver.service.process
    with contextlib.suppress(Exception):
        process.wait(timeout=5)
