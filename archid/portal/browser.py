"""Starting headless Chromium the way the portal and this machine need it.

Selenium is given explicit browser and driver paths so that it never tries
to download a driver (there is no internet here, and there should be none
in production either), and Chromium is started without any of its
background network chatter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

from archid.portal.errors import BrowserFailure, Stage


@dataclass(frozen=True, slots=True)
class BrowserSettings:
    """How to start the browser; defaults are Debian's packages."""

    chromium: Path = Path("/usr/bin/chromium")
    chromedriver: Path = Path("/usr/bin/chromedriver")
    headless: bool = True
    language: str = "it-IT"
    window_width: int = 1440
    window_height: int = 900


def chromium_arguments(settings: BrowserSettings) -> list[str]:
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
    if settings.headless:
        arguments.append("--headless=new")
    if os.geteuid() == 0:
        # Chromium refuses to run as root with its sandbox on.
        arguments.append("--no-sandbox")
    return arguments


def start_browser(settings: BrowserSettings, download_dir: Path) -> webdriver.Chrome:
    """A new Chromium under chromedriver, downloading into ``download_dir``.

    Raises :class:`BrowserFailure` when either program is missing or fails.
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
    for argument in chromium_arguments(settings):
        options.add_argument(argument)
    accept = f"{settings.language},{settings.language.split('-')[0]}"
    options.add_experimental_option(
        "prefs",
        {
            "intl.accept_languages": accept,
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "plugins.always_open_pdf_externally": True,
            "safebrowsing.enabled": False,
        },
    )
    service = Service(executable_path=str(settings.chromedriver), log_output=os.devnull)
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except WebDriverException as exc:
        raise BrowserFailure(f"could not start Chromium: {exc.msg}", Stage.BROWSER) from exc
    set_download_dir(driver, download_dir)
    return driver


def set_download_dir(driver: webdriver.Chrome, download_dir: Path) -> None:
    """Send the following downloads into ``download_dir``."""
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(download_dir), "eventsEnabled": False},
    )
