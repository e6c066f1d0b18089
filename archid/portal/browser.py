"""Starting headless Chromium the way the portal and this machine need it.

Selenium is given explicit browser and driver paths so that it never tries
to download a driver (there is no internet here, and there should be none
in production either), and Chromium is started without any of its
background network chatter. The window size and the language are fixed on
the command line, before the first page loads: the portal decides at load
time which menu items fit and which date format to write.

chromedriver is started through the tether (``tether.py``), in a session
of its own: chromedriver, Chromium and every helper they start die with
archid, even when archid is SIGKILLed, and a Ctrl-C in archid's terminal
reaches archid alone, which then stops its browser itself.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

from archid.config import BrowserConfig
from archid.portal.errors import BrowserFailure, Stage
from archid.portal.processes import INSTANCE_VARIABLE, TAG_VARIABLE

# Selenium logs every WebDriver command with its payload at DEBUG: the
# password typed into the login form, the session cookies read and set.
# Secrets never reach archid's logs, whatever level the root logger has.
logging.getLogger("selenium").setLevel(logging.WARNING)

# The defaults live in one place, the configuration's dataclass.
_DEFAULTS = BrowserConfig()
#: the launcher that ties the browser's processes to this one
TETHER: Final = Path(__file__).with_name("tether.py")


class _TetheredService(Service):
    """chromedriver run as ``python -I tether.py <our pid> chromedriver --port=…``.

    Selenium starts, stops and polls the tether as if it were
    chromedriver: it exits when chromedriver does, and takes the whole
    tree with it when it is told to stop or when this process dies.
    """

    def __init__(self, chromedriver: Path, env: dict[str, str]) -> None:
        super().__init__(
            executable_path=sys.executable,
            log_output=os.devnull,
            env=env,
            popen_kw={"start_new_session": True},
        )
        self._chromedriver = chromedriver

    def command_line_args(self) -> list[str]:
        # os.getpid() here, not at construction: the owner is whoever starts it.
        tethered = ["-I", str(TETHER), str(os.getpid()), str(self._chromedriver)]
        return tethered + super().command_line_args()


@dataclass(frozen=True, slots=True)
class BrowserSettings:
    """How to start the browser; the defaults are ``[browser]``'s (Debian's packages).

    ``accept_insecure_certs`` lets Chromium load a portal with a self-signed
    certificate (``portal.verify_tls = false``); ``sandbox`` false (``[browser]
    sandbox``) passes ``--no-sandbox``.
    """

    chromium: Path = _DEFAULTS.chromium
    chromedriver: Path = _DEFAULTS.chromedriver
    headless: bool = _DEFAULTS.headless
    language: str = _DEFAULTS.language
    window_width: int = _DEFAULTS.window_width
    window_height: int = _DEFAULTS.window_height
    accept_insecure_certs: bool = False
    sandbox: bool = _DEFAULTS.sandbox

    @classmethod
    def from_config(cls, config: BrowserConfig, *, verify_tls: bool = True) -> BrowserSettings:
        """The settings ``[browser]`` describes (and ``portal.verify_tls``)."""
        return cls(
            chromium=config.chromium,
            chromedriver=config.chromedriver,
            headless=config.headless,
            language=config.language,
            window_width=config.window_width,
            window_height=config.window_height,
            accept_insecure_certs=not verify_tls,
            sandbox=config.sandbox,
        )

    @property
    def accept_language(self) -> str:
        """The ``Accept-Language`` list: the tag, then its bare language ("it-IT,it")."""
        primary = self.language.split("-")[0]
        return self.language if primary == self.language else f"{self.language},{primary}"


def chromium_arguments(settings: BrowserSettings, profile_dir: Path | None = None) -> list[str]:
    """Command-line flags for Chromium; the window size is fixed before any page loads."""
    arguments = [
        f"--lang={settings.language}",
        f"--window-size={settings.window_width},{settings.window_height}",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-quic",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--metrics-recording-only",
        "--password-store=basic",
    ]
    if profile_dir is not None:
        # Our own folder, removed with the client: chromedriver's default
        # temporary profiles would pile up in /tmp after every kill.
        arguments.append(f"--user-data-dir={profile_dir}")
    if settings.headless:
        arguments.append("--headless=new")
    if not settings.sandbox or os.geteuid() == 0:
        # Chromium refuses to run as root with its sandbox on; under the
        # systemd unit, which denies namespaces, its sandbox cannot start.
        arguments.append("--no-sandbox")
    return arguments


def start_browser(
    settings: BrowserSettings,
    download_dir: Path,
    *,
    profile_dir: Path | None = None,
    tag: str | None = None,
    instance: str | None = None,
) -> webdriver.Chrome:
    """A new Chromium under a tethered chromedriver, downloading into ``download_dir``.

    ``tag`` and ``instance`` are put into chromedriver's environment (and
    so Chromium's) as :data:`~archid.portal.processes.TAG_VARIABLE` and
    :data:`~archid.portal.processes.INSTANCE_VARIABLE`, so that the whole
    tree can be found and killed later, by this process or, for
    ``instance``, by the next one on the same database. ``driver.service.process``
    is the tether, the root of the tree. Raises :class:`BrowserFailure`
    when either program is missing or fails to start.
    """
    for program in (settings.chromium, settings.chromedriver):
        if not os.access(program, os.X_OK):
            raise BrowserFailure(
                f"{program} is missing or not executable (Debian: apt-get install "
                "chromium chromium-driver)",
                Stage.BROWSER,
            )
    options = webdriver.ChromeOptions()
    options.binary_location = str(settings.chromium)
    for argument in chromium_arguments(settings, profile_dir):
        options.add_argument(argument)
    options.accept_insecure_certs = settings.accept_insecure_certs
    # chromedriver must not hold a click until the navigation it starts is
    # done: the export's click is a POST the portal answers only when the
    # file is rendered, minutes later. The client waits for pages itself.
    options.page_load_strategy = "none"
    options.add_experimental_option(
        "prefs",
        {
            "intl.accept_languages": settings.accept_language,
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "plugins.always_open_pdf_externally": True,
            "safebrowsing.enabled": False,
        },
    )
    env = dict(os.environ)
    for variable, value in ((TAG_VARIABLE, tag), (INSTANCE_VARIABLE, instance)):
        # Never inherited: a browser carries only the tags of the client that starts it.
        env.pop(variable, None)
        if value is not None:
            env[variable] = value
    # An explicit driver path: Selenium Manager (which downloads drivers) is never run.
    service = _TetheredService(settings.chromedriver, env)
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except WebDriverException as exc:
        raise BrowserFailure(f"could not start Chromium: {exc.msg}", Stage.BROWSER) from exc
    try:
        set_download_dir(driver, download_dir)
    except WebDriverException as exc:
        driver.quit()
        raise BrowserFailure(f"Chromium refused downloads: {exc.msg}", Stage.BROWSER) from exc
    return driver


def set_download_dir(driver: webdriver.Chrome, download_dir: Path) -> None:
    """Send the following downloads into ``download_dir``."""
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(download_dir), "eventsEnabled": False},
    )
