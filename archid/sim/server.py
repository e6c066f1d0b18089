"""The simulated portal's HTTP front: requests in, :class:`Portal` calls, pages out.

A stdlib threaded HTTP server is enough here: a thread per request lets a
hung or slow response (injected faults, the "real" timing profile) block
only itself, and several sessions can be served at once. Within one
session, requests are served one at a time (spec v3 "Where and how long"):
the handler holds the session's lock for the whole request, body
included; a request that finds it taken waits and is counted.

The export (spec v3 "Export"): a real click on the menu's export item
posts the page's form to the list address (``__EVENTARGUMENT`` names the
action); the server spends the export's time, builds the file and keeps
it as the session's pending export, then answers ``302`` to the same
address; the browser's GET of it gets the PDF as an attachment, so the
browser stays on the list page and saves a download.
"""

from __future__ import annotations

import calendar
import json
import logging
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from archid.records import ExportType
from archid.sim import callbacks, login, menu, pages, testapi
from archid.sim.cache import ExportCache, Selection
from archid.sim.faults import FaultKind
from archid.sim.layouts import file_name
from archid.sim.listpage import POLL_PATH, list_page
from archid.sim.portal import (
    REQUESTED_OBJECTS_ERROR,
    VIEW_TYPES,
    LoginOutcome,
    PendingExport,
    Portal,
    Session,
    asks_for_italian,
)

log = logging.getLogger("archid.sim")

SESSION_COOKIE = "ASP.NET_SessionId"
LOGIN_COOKIE = "Login"
USER_COOKIE = "xafkidemovbUserName"
LOGIN_PATH = pages.BASE + "Login.aspx"
DEFAULT_PATH = pages.BASE + "Default.aspx"


class SimServer(ThreadingHTTPServer):
    """The simulated portal listening on ``host:port`` (port 0: any free port)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self,
        portal: Portal,
        cache: ExportCache,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        test_api: bool = False,
    ) -> None:
        self.portal = portal
        self.cache = cache
        self.test_api = test_api
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        """The portal's base address, e.g. ``http://127.0.0.1:8080/Archibald/``."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{pages.BASE}"

    def start(self) -> None:
        """Serve from a background thread (for tests and the demo)."""
        self._thread = threading.Thread(target=self.serve_forever, name="archid-sim", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release hung responses."""
        self.portal.faults.clear()
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser dropping a kept-alive connection is no error worth a traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("%s closed the connection", client_address)
            return
        super().handle_error(request, client_address)


def _month_later(moment: float) -> datetime:
    """The same time one calendar month later (the last day of a shorter month)."""
    now = datetime.fromtimestamp(moment, UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    day = min(now.day, calendar.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


class _Handler(BaseHTTPRequestHandler):
    server: SimServer
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    @property
    def portal(self) -> Portal:
        return self.server.portal

    # -- dispatch --------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        path, query = split.path, parse_qs(split.query)
        try:
            body = self._read_body()
            if path.startswith("/_sim/"):
                if not self.server.test_api:
                    self._html(HTTPStatus.NOT_FOUND, pages.not_found_page())
                    return
                status, reply = testapi.handle(
                    self.portal, self.server.cache, method, path, query, body
                )
                self._json(status, reply)
                return
            self._portal(method, path, query, body)
        except (BrokenPipeError, ConnectionResetError):
            log.debug("client went away during %s %s", method, path)
        except Exception:
            log.exception("simulator error on %s %s", method, path)
            self._html(HTTPStatus.INTERNAL_SERVER_ERROR, pages.server_error_page())

    def _portal(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        faults = self.portal.faults
        if faults.take(FaultKind.MAINTENANCE, path=path):
            self._html(HTTPStatus.SERVICE_UNAVAILABLE, pages.maintenance_page())
            return
        if self.portal.is_blocked():
            self._html(HTTPStatus.FORBIDDEN, pages.blocked_page())
            return
        if faults.take(FaultKind.HTTP_500, path=path):
            self._html(HTTPStatus.INTERNAL_SERVER_ERROR, pages.server_error_page())
            return
        hang = faults.take(FaultKind.HANG, path=path)
        if hang:
            faults.released.wait(hang.seconds)
            self.close_connection = True
            return
        cold = self.portal.touch()
        if path in ("/", pages.BASE.rstrip("/"), pages.BASE):
            self._redirect(DEFAULT_PATH)
            return
        if path.lower() == LOGIN_PATH.lower():
            self._login(method, query, body, cold)
            return
        session = self._session()
        if session is None:
            self._to_login()
            return
        with self._serialised(session) as alive:
            if not alive:
                self._to_login()
                return
            self._in_session(session, method, path, body)

    @contextmanager
    def _serialised(self, session: Session) -> Iterator[bool]:
        """Hold the session's lock for the request; yields whether the session still
        lives once it is ours (it may have ended while this request waited)."""
        if not session.lock.acquire(blocking=False):
            with self.portal.lock:
                session.waits += 1
            session.lock.acquire()
        try:
            with self.portal.lock:
                session.requests += 1
                alive = self.portal.sessions.get(session.id) is session
            yield alive
        finally:
            session.lock.release()

    def _to_login(self) -> None:
        self._redirect(f"{LOGIN_PATH}?ReturnUrl={quote(self.path, safe='')}")

    def _in_session(self, session: Session, method: str, path: str, body: bytes) -> None:
        if path == DEFAULT_PATH:
            self._html(
                HTTPStatus.OK, pages.default_page(session.user, self.portal.options.english_ui)
            )
            return
        if path == POLL_PATH:
            time.sleep(self.portal.timing.callback() / 4)
            self._dx({"notifications": []})
            return
        view = path[len(pages.BASE) :].strip("/") if path.startswith(pages.BASE) else ""
        export_type = VIEW_TYPES.get(view)
        if export_type is None:
            self._html(HTTPStatus.NOT_FOUND, pages.not_found_page())
            return
        if method == "POST":
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            if "__CALLBACKID" in form:
                time.sleep(self.portal.timing.callback())
                reply = callbacks.handle(
                    self.portal,
                    session,
                    export_type,
                    form["__CALLBACKID"],
                    form.get("__CALLBACKPARAM", ""),
                )
                self._dx(reply)
                return
            self._postback(session, export_type, form)
            return
        pending = session.pending
        if pending is not None and pending.type is export_type:
            session.pending = None
            self._download(pending)
            return
        self._list_page(session, export_type)

    def _list_page(self, session: Session, t: ExportType, banner: str | None = None) -> None:
        time.sleep(self.portal.timing.page())
        view = callbacks.build_view(self.portal, session, t, blank=True)
        visible = self.portal.visible(session, t)
        self._html(HTTPStatus.OK, list_page(self.portal, session, t, view, visible, banner=banner))

    # -- login -----------------------------------------------------------------

    def _login(self, method: str, query: dict[str, list[str]], body: bytes, cold: bool) -> None:
        return_url = query.get("ReturnUrl", [DEFAULT_PATH])[0]
        if not return_url.startswith(pages.BASE) or return_url.lower().startswith(
            LOGIN_PATH.lower()
        ):
            return_url = DEFAULT_PATH
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if method != "POST" or form.get("__CALLBACKID") != login.CALLBACK_ID:
            # A plain postback does not log in: the page comes back as it was.
            self._html(HTTPStatus.OK, login.login_page(self.portal, return_url))
            return
        user_field, password_field = login.field_names(self.portal)
        user, password = form.get(user_field), form.get(password_field)
        if (
            form.get("__VIEWSTATE") != self.portal.viewstate
            or form.get("__EVENTVALIDATION") != self.portal.event_validation
            or user is None
            or password is None
        ):
            self._dx({"error": login.INVALID_REQUEST})
            return
        cold = cold or self.portal.login_is_cold()
        time.sleep(self.portal.timing.login(cold))
        outcome, session = self.portal.login(user, password)
        if outcome is LoginOutcome.BLOCKED:
            self._html(HTTPStatus.FORBIDDEN, pages.blocked_page())
        elif outcome is LoginOutcome.WRONG_CREDENTIALS or session is None:
            self._dx({"error": login.WRONG_CREDENTIALS})
        else:
            self._dx({"redirect": return_url}, self._login_cookies(session))

    def _login_cookies(self, session: Session) -> list[str]:
        expires = format_datetime(_month_later(self.portal.now()), usegmt=True)
        cookies = [
            f"{SESSION_COOKIE}={session.id}; path=/; HttpOnly; SameSite=Lax",
            f"{LOGIN_COOKIE}={session.login}; path=/; HttpOnly",
            f"{USER_COOKIE}={quote(session.user)}; expires={expires}; path=/",
        ]
        cookies += [f"{name}={value}; path=/" for name, value in session.guid_cookies.items()]
        return cookies

    def _session(self) -> Session | None:
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie", ""))
        except Exception:
            return None
        session_id = cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else None
        token = cookie[LOGIN_COOKIE].value if LOGIN_COOKIE in cookie else None
        return self.portal.session(session_id, token)

    # -- export ----------------------------------------------------------------

    def _postback(self, session: Session, t: ExportType, form: dict[str, str]) -> None:
        """A menu action posted with the page's form: the export, or the page again."""
        if form.get("__EVENTARGUMENT") != menu.EXPORT_ACTION:
            self._list_page(session, t)
            return
        portal = self.portal
        if (
            t is ExportType.CUSTOMERS
            and callbacks.build_view(portal, session, t, blank=False) is None
        ):
            self._list_page(session, t, "Nessun elenco da esportare nella vista mappa.")
            return
        if t is ExportType.DDT and portal.ddt_flakes(session):
            # Seen both ways on the real portal: a banner, or a page saying it.
            with portal.lock:
                as_banner = portal.rng.random() < 0.5
            if as_banner:
                self._list_page(session, t, REQUESTED_OBJECTS_ERROR)
            else:
                self._html(HTTPStatus.OK, pages.requested_objects_page())
            return
        if portal.faults.take(FaultKind.LOGIN_REDIRECT, str(t)):
            portal.end_session(session)
            self._to_login()
            return
        language = form.get("__CLIENTLANGUAGE") or self.headers.get("Accept-Language") or ""
        view = portal.export_view(session, t, english=not asks_for_italian(language))
        with portal.lock:
            portal.exports_started[str(t)] += 1
        # The export's time is spent here, holding the session: a browser that
        # walks away does not interrupt it.
        time.sleep(portal.timing.export(t))
        faults = portal.faults
        bad = faults.take(FaultKind.BAD_CELLS, str(t))
        selection = Selection(
            shrink=faults.take(FaultKind.SHRUNKEN_EXPORT, str(t)) is not None,
            empty=faults.take(FaultKind.EMPTY_EXPORT, str(t)) is not None,
            garble=(bad.column or "", bad.text, bad.rows) if bad is not None else None,
        )
        with portal.lock:
            records = list(portal.dataset.records(t))
            stamps = portal.dataset.stamps(t)
            fingerprint = portal.dataset.fingerprint
        path = self.server.cache.get(t, fingerprint, records, view, selection, stamps)
        session.pending = PendingExport(t, view, path, file_name(t, view))
        self._redirect(urlsplit(self.path).path)

    def _download(self, pending: PendingExport) -> None:
        t = str(pending.type)
        faults = self.portal.faults
        name = pending.name
        disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
        if faults.take(FaultKind.ZERO_BYTES, t):
            self._send(HTTPStatus.OK, "application/pdf", [], 0, disposition)
            return
        if faults.take(FaultKind.NON_PDF, t):
            html = pages.server_error_page().encode()
            self._send(HTTPStatus.OK, "application/pdf", [html], len(html), disposition)
            return
        data = pending.file.read_bytes()
        truncated = faults.take(FaultKind.TRUNCATED_PDF, t)
        if truncated:
            data = data[: int(len(data) * truncated.keep)]
        cut = faults.take(FaultKind.CUT_BODY, t)
        if cut:
            # The full length is announced, then the connection closes early.
            self.close_connection = True
            self._send(
                HTTPStatus.OK,
                "application/pdf",
                [data[: int(len(data) * cut.keep)]],
                len(data),
                disposition,
            )
            return
        slow = faults.take(FaultKind.SLOW_DOWNLOAD, t)
        chunks: Iterable[bytes] = _trickle(data, slow.rate) if slow else [data]
        self._send(HTTPStatus.OK, "application/pdf", chunks, len(data), disposition)
        with self.portal.lock:
            self.portal.exports_served[t] += 1

    # -- responses -------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 10_000_000:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length else b""

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _html(self, status: HTTPStatus, html: str) -> None:
        data = html.encode("utf-8")
        self._send(status, "text/html; charset=utf-8", [data], len(data))

    def _dx(self, reply: Any, cookies: Iterable[str] = ()) -> None:
        """A callback's reply, wrapped as DevExpress wraps them: ``/*DX*/(...)``."""
        data = f"/*DX*/({json.dumps(reply, ensure_ascii=False)})".encode()
        self._send(HTTPStatus.OK, "text/plain; charset=utf-8", [data], len(data), cookies=cookies)

    def _json(self, status: HTTPStatus, reply: Any) -> None:
        data = json.dumps(reply, ensure_ascii=False).encode("utf-8")
        self._send(status, "application/json", [data], len(data))

    def _send(
        self,
        status: HTTPStatus,
        content_type: str,
        chunks: Iterable[bytes],
        length: int,
        disposition: str | None = None,
        cookies: Iterable[str] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "private, no-store")
        if disposition:
            self.send_header("Content-Disposition", disposition)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(chunk)
        self.wfile.flush()


def _trickle(data: bytes, rate: float) -> Iterable[bytes]:
    """``data`` in pieces paced to ``rate`` bytes per second."""
    step = max(1, int(rate / 10))
    for start in range(0, len(data), step):
        time.sleep(0.1)
        yield data[start : start + step]
