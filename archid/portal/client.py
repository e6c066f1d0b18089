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
import dataclasses
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import overload
from urllib.parse import quote, urljoin, urlsplit

from selenium import webdriver
from selenium.common.exceptions import (
    JavascriptException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.remote_connection import RemoteConnection
from urllib3.exceptions import HTTPError as DriverConnectionError
from urllib3.exceptions import MaxRetryError
from urllib3.exceptions import TimeoutError as DriverTimeout

from archid.clock import utc_now
from archid.config import PortalConfig
from archid.portal.browser import BrowserSettings, start_browser
from archid.portal.budget import LoginBudget
from archid.portal.columns import Columns
from archid.portal.cookies import SessionCookies
from archid.portal.devtools import DevTools
from archid.portal.errors import (
    BrowserFailure,
    ExportRejected,
    ExportTimeout,
    InvalidDownload,
    PortalError,
    PortalUnavailable,
    SessionExpired,
    Stage,
    UnexpectedPage,
    WrongBrowserLanguage,
    WrongCredentials,
)
from archid.portal.filters import EMPTY_AFTER_LOAD, AgentChoice, Filters
from archid.portal.grid import (
    MODIFIED_FIELD,
    ListSurvey,
    RecentRows,
    Unchanged,
    recent_customers,
    survey,
)
from archid.portal.listviews import LIST_VIEWS
from archid.portal.page import Page
from archid.portal.processes import kill_tree, owner_tag
from archid.portal.texts import (
    EXPORT,
    EXPORT_PDF,
    GET_PDF,
    LOGIN_BUTTON,
    reads_any,
)
from archid.records import ExportType

__all__ = [
    "ExportResult",
    "ListSurvey",
    "PortalClient",
    "RecentRows",
    "SessionCookies",
    "Timeouts",
    "Unchanged",
]

log = logging.getLogger("archid.portal")

#: what #Logon_ErrorInfo says (it is always in the login page, empty until a refusal)
_LOGIN_ERROR_JS = """
const box = document.getElementById('Logon_ErrorInfo');
return box ? box.textContent.trim() : '';
"""

# Whether the export anchor's item has a sub-menu (a future portal's PDF
# item): nested items, or DevExpress's popup DXME<k>_ of item DXI<k>_.
_SUB_ITEMS_JS = """
const li = arguments[0].closest('li');
if (!li) { return []; }
const nested = Array.from(li.querySelectorAll(':scope li a'));
const m = /^(.*_Menu_)DXI(\\d+)_$/.exec(li.id || '');
const popup = m ? document.getElementById(m[1] + 'DXME' + m[2] + '_') : null;
return nested.concat(popup ? Array.from(popup.querySelectorAll('a')) : []);
"""

#: the navigation has replaced the document that was marked before it
_ARRIVED_JS = "return !window.archidLeaving && document.readyState !== 'loading';"

#: seconds between looks at the browser's events while a download is awaited
_LOOK_EVERY = 1.0
#: interrupted downloads clicked again at once before the export fails
_INTERRUPTED_RETRIES = 2
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
    ``download``, and ``survey`` when the export was surveyed first;
    ``logins`` counts the logins this export needed (0 when the session was
    reused); ``flake_retries`` the DDT "Requested objects" flakes clicked
    through; ``survey`` is the list's survey read before the export (only
    when the caller asked for one: see :meth:`PortalClient.export`).
    """

    type: ExportType
    path: Path
    bytes: int
    seconds: dict[str, float] = field(default_factory=dict)
    logins: int = 0
    flake_retries: int = 0
    survey: ListSurvey | None = None


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
    :class:`WrongBrowserLanguage`. ``now`` (aware UTC) dates list surveys.

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
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.user = user
        self._password = password
        self.settings = settings or BrowserSettings()
        self.timeouts = timeouts or Timeouts()
        self.budget = budget
        self.cookies = cookies or SessionCookies()
        self.require_italian = require_italian
        #: this machine's clock (aware UTC): a survey's ``read_at``
        self._now = now
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
        self._current_page: Page | None = None
        self._tools: DevTools | None = None
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
        tools = self._tools
        if tools is not None:
            tools.close()
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
        tools, self._tools = self._tools, None
        if tools is not None:
            tools.close()
        self._current_page = None
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
        """Whether a portal session is held: cookies a login gave, used within the idle time.

        Never judged by cookie names or expiry (the portal's carry none):
        the next page tells whether the server still holds the session.
        """
        return self.cookies.valid()

    def _forget_session(self) -> None:
        """The server ended the session (a page landed on the login page): its
        cookies go, here and in the browser, so that the next page logs in."""
        log.info("the portal session ended: logging in again")
        self.cookies.clear()
        self.driver.delete_all_cookies()

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
        page = self._page()
        started = time.monotonic()
        self._get(urljoin(self.base_url, f"Login.aspx?ReturnUrl={self._return_url()}"), login=True)
        page.wait_idle(filled=False)
        seen = page.check(login=True, base_url=self.base_url)
        if "login.aspx" not in seen.url.lower():
            # The server still held a session for these cookies.
            self.cookies.save(driver.get_cookies())
            return
        user = [
            e
            for e in driver.find_elements(By.CSS_SELECTOR, "input[name*='UserName']")
            if e.get_attribute("type") not in ("hidden", "password") and page.shown(e)
        ]
        secret = [
            e
            for e in driver.find_elements(By.CSS_SELECTOR, "input[type=password]")
            if page.shown(e)
        ]
        buttons = [
            e for e in page.elements_reading("a, button, span", LOGIN_BUTTON) if page.shown(e)
        ]
        if not user or not secret or not buttons:
            raise UnexpectedPage("the login form is not on the login page", Stage.LOGIN)
        user[0].clear()
        user[0].send_keys(self.user)
        secret[0].clear()
        secret[0].send_keys(self._password())
        # Counted before the submit: a crash from here on still used a login.
        if self.budget is not None:
            self.budget.spend()
        self.logins += 1
        page.click(buttons[0])
        # The login is an XAF callback that takes seconds on the real portal;
        # success is leaving Login.aspx, a refusal is text in #Logon_ErrorInfo
        # (the element is always there, empty).
        while time.monotonic() - started < self.timeouts.login:
            seen = page.check(login=True, base_url=self.base_url)
            if "login.aspx" not in seen.url.lower():
                page.wait_idle(filled=False)
                self.cookies.save(driver.get_cookies())
                return
            refused = page.js(_LOGIN_ERROR_JS)
            if refused:
                raise WrongCredentials(
                    f"the portal rejected the user name or password ({refused})", Stage.LOGIN
                )
            time.sleep(self.timeouts.poll)
        # The callback's answer may have been a refusal the page does not
        # show (a block answers HTTP 403): the login page again tells.
        self._get(urljoin(self.base_url, f"Login.aspx?ReturnUrl={self._return_url()}"), login=True)
        raise ExportTimeout("the portal did not answer the login in time", Stage.LOGIN)

    def _return_url(self) -> str:
        return quote(urlsplit(urljoin(self.base_url, "Default.aspx")).path, safe="")

    def keep_session(self) -> bool:
        """Make sure a portal session is held and fresh: log in when none is, else
        load the landing page under it (a session found ended logs in once).
        Whether a login was spent.

        For a session kept ready for people (:mod:`archid.portal.lanes`): the
        next list it opens finds the server's session alive, its idle time
        started again, and costs no login.
        """
        logins_before = self.logins
        with self._boundary():
            self._ensure_alive()
            if not self.has_session():
                self._login()
            else:
                self._stage = Stage.PAGE_LOAD
                try:
                    self._get(urljoin(self.base_url, "Default.aspx"))
                except SessionExpired:
                    self._forget_session()
                    self._login()
                else:
                    self._save_cookies()
        return self.logins > logins_before

    # -- export ------------------------------------------------------------------

    @overload
    def export(self, export_type: ExportType, out_dir: Path) -> ExportResult: ...

    @overload
    def export(
        self,
        export_type: ExportType,
        out_dir: Path,
        *,
        skip: Callable[[ListSurvey], bool] | None,
    ) -> ExportResult | Unchanged: ...

    def export(
        self,
        export_type: ExportType,
        out_dir: Path,
        *,
        skip: Callable[[ListSurvey], bool] | None = None,
    ) -> ExportResult | Unchanged:
        """Export one list view as PDF into ``out_dir``, logging in if needed.

        Returns the verified file (starts with ``%PDF-``, ends with
        ``%%EOF``, not empty), named as the server named it. A session
        found ended on the way (a page or the export's answer lands on the
        login page) logs in again once and goes on; any other failure
        raises a :class:`~archid.portal.errors.PortalError` tagged with its
        stage.

        With ``skip`` (any type but customers), once the list is open with
        the export's filter and before the export is clicked, the list is
        surveyed (:func:`archid.portal.grid.survey`, stage ``survey``) and
        ``skip(survey)`` is called in this thread. If it returns true, the
        agent's filter, sort and page are put back and :class:`Unchanged`
        is returned: no file is asked for. Otherwise the export goes on and
        its result carries the survey. A survey that cannot be read does
        not fail the export: its unreadable figures are ``None``.
        Customers are never surveyed (their list has no modification time).
        """
        logins_before = self.logins
        with self._boundary():
            self._ensure_alive()
            try:
                result = self._export_once(export_type, out_dir, skip)
            except SessionExpired:
                self._forget_session()
                result = self._export_once(export_type, out_dir, skip)
        if isinstance(result, Unchanged):
            return dataclasses.replace(result, logins=self.logins - logins_before)
        result.logins = self.logins - logins_before
        return result

    def _export_once(
        self,
        export_type: ExportType,
        out_dir: Path,
        skip: Callable[[ListSurvey], bool] | None,
    ) -> ExportResult | Unchanged:
        seconds: dict[str, float] = {}
        choice = self._logged_in_list(export_type, seconds)
        survey: ListSurvey | None = None
        try:
            if skip is not None and export_type is not ExportType.CUSTOMERS:
                mark = time.monotonic()
                self._stage = Stage.SURVEY
                survey = self._survey(export_type)
                seconds["survey"] = time.monotonic() - mark
                if skip(survey):
                    if choice is not None:
                        self._put_back(choice)
                    self._save_cookies()
                    return Unchanged(survey, seconds)
            # The columns only now: an unchanged list needs none of them.
            mark = time.monotonic()
            self._stage = Stage.PAGE_LOAD
            self._prepare_columns(export_type)
            seconds["page_load"] += time.monotonic() - mark
            mark = time.monotonic()
            self._stage = Stage.MENU
            devtools = self._devtools()
            # A private folder per export: no file of an earlier export is taken for this one.
            downloads = self._workdir / f"download-{export_type}-{time.monotonic_ns()}"
            downloads.mkdir()
            devtools.arm(downloads)
            self._click_export()
            seconds["menu"] = time.monotonic() - mark
            mark = time.monotonic()
            self._stage = Stage.DOWNLOAD
            path, flakes = self._download(export_type, downloads)
            seconds["download"] = time.monotonic() - mark
            if self._killed:
                raise BrowserFailure("the portal client was stopped", Stage.DOWNLOAD)
            out_dir.mkdir(parents=True, exist_ok=True)
            final = out_dir / path.name
            shutil.move(path, final)
            shutil.rmtree(downloads, ignore_errors=True)
        except SessionExpired:
            raise
        except Exception:
            # The agent's filter is theirs again whatever stopped the export
            # (skip() itself may raise); a dead browser has nothing to put back.
            self._put_back_after_failure(choice)
            raise
        if choice is not None:
            self._put_back(choice)
        self._save_cookies()
        return ExportResult(
            export_type,
            final,
            final.stat().st_size,
            seconds,
            flake_retries=flakes,
            survey=survey,
        )

    def _survey(self, export_type: ExportType) -> ListSurvey:
        """The list's survey; figures that could not be read are ``None``, never an error.

        Only a session found ended (the export logs in again) and a browser
        gone leave as errors.
        """
        try:
            return survey(self._page(), export_type, self._now)
        except (SessionExpired, BrowserFailure):
            raise
        except (PortalError, JavascriptException, StaleElementReferenceException) as exc:
            log.warning("could not survey the %s list: %s", export_type, exc)
            return ListSurvey(export_type, None, None, self._now())

    # -- the newest customers -------------------------------------------------------

    def recent_customers(self, on_read: Callable[[RecentRows], None] | None = None) -> RecentRows:
        """The newest customers (up to 200, newest first) from the customers grid.

        The fast path of the order form: no export. The customers list is
        opened with the "all customers" filter, as for an export, and read
        by :func:`archid.portal.grid.recent_customers` (stage ``grid``);
        the agent's page size, sort, page and filter are put back
        (``on_read`` gets each read before that, in this thread: the first
        page at the agent's page size, then the complete 200). A session
        found ended logs in again once; failures raise
        :class:`~archid.portal.errors.PortalError` tagged with their stage.
        """
        logins_before = self.logins
        with self._boundary():
            self._ensure_alive()
            try:
                rows = self._recent_once(on_read)
            except SessionExpired:
                self._forget_session()
                rows = self._recent_once(on_read)
        return dataclasses.replace(rows, logins=self.logins - logins_before)

    def _recent_once(self, on_read: Callable[[RecentRows], None] | None) -> RecentRows:
        seconds: dict[str, float] = {}
        # No hidden column is shown for this read: it must be fast.
        choice = self._logged_in_list(ExportType.CUSTOMERS, seconds)
        try:
            self._stage = Stage.GRID
            rows = recent_customers(self._page(), seconds, on_read)
        except SessionExpired:
            raise
        except Exception:
            self._put_back_after_failure(choice)
            raise
        mark = time.monotonic()
        if choice is not None:
            self._put_back(choice)
        seconds["restore"] = seconds.get("restore", 0.0) + time.monotonic() - mark
        self._save_cookies()
        return rows

    # -- the list ------------------------------------------------------------------

    def _logged_in_list(
        self, export_type: ExportType, seconds: dict[str, float]
    ) -> AgentChoice | None:
        """Log in if the session needs it, then :meth:`_open_list`; their times go
        into ``seconds`` as ``login`` and ``page_load``."""
        mark = time.monotonic()
        if not self.has_session():
            self._login()
        seconds["login"] = time.monotonic() - mark
        mark = time.monotonic()
        choice = self._open_list(export_type)
        seconds["page_load"] = time.monotonic() - mark
        return choice

    def _open_list(self, export_type: ExportType) -> AgentChoice | None:
        """Load ``export_type``'s list with the export's filter; the agent's filter.

        The session's columns stay as they are (:meth:`_prepare_columns`
        shows the export's before the export menu).
        """
        page = self._page()  # starts the browser if none runs (its own stage)
        self._stage = Stage.PAGE_LOAD
        self._get(urljoin(self.base_url, LIST_VIEWS[export_type] + "/"))
        page.wait_idle(filled=False)
        seen = page.require_list(f"the {export_type} list")
        # The session is alive: the page did not land on the login page.
        self.cookies.save(self.driver.get_cookies())
        filters = Filters(page)
        if not seen.grid and export_type is ExportType.CUSTOMERS:
            filters.show_customers_list()
            page.wait_idle(filled=False)
            seen = page.look()
        if not seen.grid:
            raise UnexpectedPage(f"the {export_type} list shows no grid", Stage.PAGE_LOAD)
        # Idle already: only the cells may still be filling (spec v3), so no
        # second idle wait (three more looks) before the filter.
        if export_type in EMPTY_AFTER_LOAD:
            # Their cells stay empty after a load until a real click refreshes them.
            refresh = not page.wait_filled(0.0)
        else:
            refresh = False
            page.wait_filled()
        return filters.prepare(export_type, refresh=refresh)

    def _prepare_columns(self, export_type: ExportType) -> None:
        """Every column the export reads shown, a survey's MODIFIEDDATETIME hidden
        (``columns.py``), and the grid idle again if that took the dialog."""
        page = self._page()
        if Columns(page).prepare_export(export_type, hide=(MODIFIED_FIELD,)):
            page.wait_idle(filled=True)
            page.require_list(f"the {export_type} list")

    def _save_cookies(self) -> None:
        with contextlib.suppress(*_DRIVER_GONE):
            self.cookies.save(self.driver.get_cookies())

    def _put_back_after_failure(self, choice: AgentChoice | None) -> None:
        """:meth:`_put_back` while a failure leaves: the failure is the one reported."""
        if choice is not None and self._driver is not None:
            with contextlib.suppress(*_DRIVER_GONE):
                self._put_back(choice)

    def _put_back(self, choice: AgentChoice) -> None:
        """The agent's filter, as it was before the export (their profile is shared)."""
        stage = self._stage
        try:
            Filters(self._page()).restore(choice)
        finally:
            self._stage = stage

    def _click_export(self) -> None:
        """One real click on the main menu's "Esportare in" anchor (revealed from the overflow).

        The item has no sub-menu on the real portal; if a future portal
        shows a PDF sub-item under it, that is clicked too.
        """
        page = self._page()
        anchors = [
            a
            for a in page.elements_reading("[id^='Vertical_mainMenu'] a", EXPORT)
            if not reads_any(a.get_attribute("textContent") or "", GET_PDF)
        ]
        if not anchors:
            raise UnexpectedPage(f"no menu item reads {' or '.join(EXPORT)}", Stage.MENU)
        anchor = anchors[0]
        page.reveal(anchor)
        sub_items = page.js(_SUB_ITEMS_JS, anchor) or []
        page.click(anchor)
        if sub_items:
            pdf = [
                e for e in sub_items if reads_any(e.get_attribute("textContent") or "", EXPORT_PDF)
            ]
            if not pdf:
                raise UnexpectedPage("the export menu has no PDF item", Stage.MENU)
            page.wait_for(lambda: page.shown(pdf[0]), 3.0)
            page.click(pdf[0])

    def _download(self, export_type: ExportType, folder: Path) -> tuple[Path, int]:
        """The export's file once the browser reports it complete; flakes clicked through.

        Watched through DevTools (chromedriver answers nothing while the
        export's POST is pending): a download the browser cancels or
        interrupts, or that completes as no whole PDF, is clicked again at
        once (twice at most, then :class:`InvalidDownload`); the login
        page instead of the file is :class:`SessionExpired`; the DDT flake
        ("Requested objects cannot be loaded") is clicked through once
        after ``flake_pause``.
        """
        devtools = self._devtools()
        deadline = time.monotonic() + self.timeouts.download
        interrupted = 0
        flakes = 0
        while time.monotonic() < deadline:
            download = devtools.wait(min(_LOOK_EVERY, max(0.0, deadline - time.monotonic())))
            failure: InvalidDownload | None = None
            if download is not None and download.state == "completed":
                path = folder / download.guid
                named = folder / _safe_name(download.name, export_type)
                if path.exists():
                    path.rename(named)
                try:
                    return _verified(named), flakes
                except InvalidDownload as exc:
                    # A body cut short that the browser's own resumption
                    # "completed" with whatever the server sent next.
                    failure = exc
                    named.unlink(missing_ok=True)
            elif download is not None and download.state == "canceled":
                failure = InvalidDownload(
                    f"the browser reports the {export_type} download interrupted", Stage.DOWNLOAD
                )
            if failure is not None:
                interrupted += 1
                if interrupted > _INTERRUPTED_RETRIES:
                    raise failure
                log.warning("%s: exporting again at once", failure)
                self._again(folder)
                continue
            answered = devtools.navigated
            if download is None and answered is not None:
                # A page came instead of the file: chromedriver is free again.
                if "login.aspx" in answered.lower():
                    raise SessionExpired(
                        "the portal answered the export with the login page", Stage.DOWNLOAD
                    )
                page = self._page()
                page.wait_idle(filled=False)
                seen = page.look()
                if seen.requested_objects and export_type is ExportType.DDT and not flakes:
                    # Known flake of the DDT list: a second click after a pause works.
                    flakes += 1
                    time.sleep(self.timeouts.flake_pause)
                    self._after_flake(export_type)
                    self._again(folder)
                    continue
                page.check(base_url=self.base_url)
                shown = seen.title or seen.text[:80] or answered
                raise ExportRejected(
                    f"the portal answered the export with a page ({shown!r}), not a file",
                    Stage.DOWNLOAD,
                )
        raise ExportTimeout(f"the {export_type} download did not finish in time", Stage.DOWNLOAD)

    def _again(self, folder: Path) -> None:
        """Click the export once more, into the same folder (the browser may be mid-page)."""
        stage = self._stage
        self._page().wait_idle(filled=False)
        self._devtools().arm(folder)
        self._stage = Stage.MENU
        self._click_export()
        self._stage = stage

    def _after_flake(self, export_type: ExportType) -> None:
        """After the flake's banner or navigation: back on a list page, ready to export."""
        page = self._page()
        page.wait_idle(filled=False)
        seen = page.look()
        if not seen.list_view or seen.requested_objects:
            # Its filter is archid's own by now: the agent's was kept at the first load.
            self._open_list(export_type)

    # -- page helpers -------------------------------------------------------------

    def _page(self) -> Page:
        page = self._current_page
        if page is None or page.driver is not self.driver:
            page = self._current_page = Page(
                self.driver,
                lambda: self._stage,
                timeout=self.timeouts.page,
                poll=self.timeouts.poll,
            )
        return page

    def _devtools(self) -> DevTools:
        if self._tools is None:
            capabilities = self.driver.capabilities.get("goog:chromeOptions", {})
            address = capabilities.get("debuggerAddress")
            if not address:
                raise BrowserFailure("chromedriver gave no DevTools address", Stage.BROWSER)
            self._tools = DevTools(str(address))
        return self._tools

    def _get(self, url: str, *, login: bool = False) -> None:
        """Navigate to ``url`` and wait until the new document is there."""
        stage = self._stage
        page = self._page()
        try:
            page.js("window.archidLeaving = true;")
        except WebDriverException as exc:
            if "net::ERR_" not in (exc.msg or "") and not isinstance(exc, JavascriptException):
                raise
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
        try:
            arrived = page.wait_for(lambda: bool(page.js(_ARRIVED_JS)), self.timeouts.page)
        except TimeoutException as exc:
            # chromedriver's own limit on the pending navigation
            raise ExportTimeout(f"{url} did not load in time", stage) from exc
        if not arrived:
            raise ExportTimeout(f"{url} did not load in time", stage)
        page.check(login=login, base_url=self.base_url)


def _safe_name(name: str, export_type: ExportType) -> str:
    """The server's file name, reduced to a plain name inside the download folder."""
    plain = Path(name.replace("\\", "/")).name.strip()
    return plain if plain and plain not in (".", "..") else f"{export_type}.pdf"


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
