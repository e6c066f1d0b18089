"""A DevTools connection of archid's own: the browser's download state, and whether the
page answered instead of a file.

A download that fails (a body cut short, a connection reset) is known to
Chromium at once, but not to a program that only watches the download
folder: the partial file just stops growing, and a watcher of files
waits out its whole limit. :class:`DevTools` opens a second
DevTools connection to the browser (chromedriver's own stays untouched),
asks for downloads with events (``Browser.setDownloadBehavior``,
``eventsEnabled``) and reads ``Browser.downloadWillBegin`` and
``Browser.downloadProgress``: ``completed`` and ``canceled`` (Chromium's
word for interrupted too, after its own few quick resumptions) end a
download.

Files are saved under the download's GUID (``allowAndName``), so a file
of an earlier attempt can never be taken for this one; the caller renames
the finished file to the name the server gave.

chromedriver answers no command while a navigation is pending, and the
export's click is one: a POST that the server answers only when it has
rendered the file (up to minutes on the real portal); the page itself
answers no script meanwhile either. So the page's own events tell what the
answer was: ``Page.frameNavigated`` of the main frame means a page came
instead of a file (the login page: the session ended; the DDT flake), and
only then is the page looked at, through chromedriver, free again.

Blocking, like the rest of the client; one connection per browser, used by
one thread. Its failures leave as :class:`~archid.portal.errors.BrowserFailure`.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import websocket

from archid.portal.errors import BrowserFailure, Stage

#: seconds allowed to open the DevTools connection and for each command's reply
_CONNECT_TIMEOUT = 10.0


@dataclass(slots=True)
class Download:
    """One download as the browser reports it.

    ``state`` is ``inProgress``, ``completed`` or ``canceled``; ``name`` is
    the file name the server suggested; the file itself is ``folder/guid``.
    """

    guid: str
    name: str
    state: str = "inProgress"
    received: int = 0
    total: int = 0

    @property
    def finished(self) -> bool:
        return self.state in ("completed", "canceled")


class DevTools:
    """One browser's downloads and page, through a DevTools connection of archid's own.

    ``debugger_address`` is chromedriver's ``goog:chromeOptions.debuggerAddress``
    (``localhost:PORT``).
    """

    def __init__(self, debugger_address: str) -> None:
        self._next_id = 0
        self._downloads: dict[str, Download] = {}
        self._order: list[str] = []
        try:
            with urllib.request.urlopen(
                f"http://{debugger_address}/json/version", timeout=_CONNECT_TIMEOUT
            ) as reply:
                endpoint = json.load(reply)["webSocketDebuggerUrl"]
            # No Origin header: Chromium accepts such DevTools clients without
            # --remote-allow-origins, which would open it to web pages.
            self._socket = websocket.create_connection(
                endpoint, timeout=_CONNECT_TIMEOUT, suppress_origin=True
            )
        except (OSError, ValueError, KeyError, websocket.WebSocketException) as exc:
            raise BrowserFailure(
                f"cannot open a DevTools connection to the browser ({debugger_address}): {exc}",
                Stage.BROWSER,
            ) from exc
        self._page_session: str | None = None
        #: the address the page's main frame committed to since :meth:`arm`, if any
        self.navigated: str | None = None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._socket.close()

    def arm(self, folder: Path) -> None:
        """Send the following downloads into ``folder``, with events; forget earlier ones
        and earlier navigations. Call it while no navigation is pending."""
        self._page()
        self._command(
            "Browser.setDownloadBehavior",
            {"behavior": "allowAndName", "downloadPath": str(folder), "eventsEnabled": True},
        )
        # Only now: the events queued before the command's reply (a page
        # loaded before the click) have been read on the way to it.
        self._downloads.clear()
        self._order.clear()
        self.navigated = None

    def _page(self) -> str:
        """Our session on the browser's page (attached once, flattened)."""
        if self._page_session is None:
            targets = self._command("Target.getTargets", {}).get("targetInfos", [])
            page = next((t for t in targets if t.get("type") == "page"), None)
            if page is None:
                raise BrowserFailure("the browser has no page", Stage.DOWNLOAD)
            attached = self._command(
                "Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}
            )
            self._page_session = str(attached["sessionId"])
            self._command("Page.enable", {}, session=self._page_session)
        return self._page_session

    def latest(self) -> Download | None:
        """The most recent download since :meth:`arm`, or ``None``."""
        return self._downloads[self._order[-1]] if self._order else None

    def wait(self, seconds: float) -> Download | None:
        """Read the browser's events for up to ``seconds``; the latest download then.

        Returns early when the latest download has finished, or when the page
        committed a navigation (:attr:`navigated`): the answer was a page, not
        a file.
        """
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            latest = self.latest()
            done = latest is not None and latest.finished
            if left <= 0 or done or self.navigated is not None:
                return latest
            message = self._receive(left)
            if message is not None:
                self._take(message)

    # -- the connection ----------------------------------------------------------

    def _command(
        self, method: str, params: dict[str, Any], *, session: str | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        ident = self._next_id
        request: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session is not None:
            request["sessionId"] = session
        self._send(request)
        deadline = time.monotonic() + _CONNECT_TIMEOUT
        while time.monotonic() < deadline:
            message = self._receive(deadline - time.monotonic())
            if message is None:
                continue
            if message.get("id") == ident:
                if "error" in message:
                    error = message["error"].get("message", "refused")
                    raise BrowserFailure(f"the browser refused {method}: {error}", Stage.DOWNLOAD)
                result: dict[str, Any] = message.get("result", {})
                return result
            self._take(message)
        raise BrowserFailure(f"the browser did not answer {method}", Stage.DOWNLOAD)

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self._socket.send(json.dumps(message))
        except (OSError, websocket.WebSocketException) as exc:
            raise BrowserFailure(
                f"the browser's DevTools connection failed: {exc}", Stage.DOWNLOAD
            ) from exc

    def _receive(self, seconds: float) -> dict[str, Any] | None:
        self._socket.settimeout(max(0.01, seconds))
        try:
            raw = self._socket.recv()
        except websocket.WebSocketTimeoutException:
            return None
        except (OSError, websocket.WebSocketException) as exc:
            raise BrowserFailure(
                f"the browser's DevTools connection closed: {exc}", Stage.DOWNLOAD
            ) from exc
        try:
            message = json.loads(raw)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

    def _take(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        params = message.get("params") or {}
        if method == "Page.frameNavigated":
            frame = params.get("frame") or {}
            if not frame.get("parentId") and isinstance(frame.get("url"), str):
                self.navigated = frame["url"]
            return
        guid = params.get("guid")
        if not isinstance(guid, str):
            return
        if method == "Browser.downloadWillBegin":
            self._downloads[guid] = Download(guid, str(params.get("suggestedFilename") or guid))
            self._order.append(guid)
        elif method == "Browser.downloadProgress":
            download = self._downloads.get(guid)
            if download is None:
                download = self._downloads[guid] = Download(guid, guid)
                self._order.append(guid)
            download.state = str(params.get("state") or download.state)
            download.received = int(params.get("receivedBytes") or 0)
            download.total = int(params.get("totalBytes") or 0)
