"""The simulated portal's HTTP front: requests in, :class:`Portal` calls, pages out.

A stdlib threaded HTTP server is enough here: the simulator serves one
browser at a time, and a thread per request lets a hung or slow response
(injected faults) block only itself.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterable
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from archid.records import ExportType
from archid.sim import pages, testapi
from archid.sim.cache import ExportCache, Selection
from archid.sim.faults import FaultKind
from archid.sim.layouts import file_name
from archid.sim.portal import VIEW_TYPES, ExportTicket, LoginOutcome, Portal, Session

log = logging.getLogger("archid.sim")

SESSION_COOKIE = "ASP.NET_SessionId"
AUTH_COOKIE = ".ASPXAUTH"
USER_COOKIE = "ArchibaldUserName"
LOGIN_PATH = pages.BASE + "Login.aspx"
EXPORT_PATH = pages.BASE + "Export.aspx"


class SimServer(ThreadingHTTPServer):
    """The simulated portal listening on ``host:port`` (port 0: any free port)."""

    daemon_threads = True
    allow_reuse_address = True

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
        if path in ("/", pages.BASE.rstrip("/"), pages.BASE):
            self._redirect(pages.BASE + "Default.aspx")
            return
        if path.lower() == LOGIN_PATH.lower():
            self._login(method, query, body)
            return
        session = self._session()
        if session is None:
            target = path + (f"?{urlsplit(self.path).query}" if urlsplit(self.path).query else "")
            self._redirect(f"{LOGIN_PATH}?ReturnUrl={quote(target, safe='')}")
            return
        if path == pages.BASE + "Default.aspx":
            self._html(HTTPStatus.OK, pages.default_page(self.portal, session), session)
            return
        if path == EXPORT_PATH:
            self._download(query.get("token", [""])[0], session)
            return
        view = path[len(pages.BASE) :].strip("/") if path.startswith(pages.BASE) else ""
        export_type = VIEW_TYPES.get(view)
        if export_type is None:
            self._html(HTTPStatus.NOT_FOUND, pages.not_found_page(), session)
            return
        if method == "POST":
            self._callback(session, export_type, parse_qs(body.decode("utf-8", "replace")))
            return
        with self.portal.lock:
            count = len(self.portal.dataset.records(export_type))
        html = pages.list_page(self.portal, session, export_type, count)
        self._html(HTTPStatus.OK, html, session)

    # -- login -----------------------------------------------------------------

    def _login(self, method: str, query: dict[str, list[str]], body: bytes) -> None:
        return_url = query.get("ReturnUrl", [pages.BASE + "Default.aspx"])[0]
        if not return_url.startswith(pages.BASE):
            return_url = pages.BASE + "Default.aspx"
        if method != "POST":
            self._html(HTTPStatus.OK, pages.login_page(self.portal, return_url))
            return
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        marker = f"Logon$v0_{self.portal.field_number}$"
        user = next(
            (v for k, v in form.items() if k.startswith(marker) and k.endswith("UserName_Edit")),
            None,
        )
        password = next(
            (v for k, v in form.items() if k.startswith(marker) and k.endswith("Password_Edit")),
            None,
        )
        valid_postback = (
            form.get("__VIEWSTATE") == self.portal.viewstate
            and form.get("__EVENTVALIDATION") == self.portal.event_validation
            and user is not None
            and password is not None
        )
        if not valid_postback:
            page = pages.login_page(self.portal, return_url, "Richiesta non valida. Riprovare.")
            self._html(HTTPStatus.OK, page)
            return
        assert user is not None and password is not None
        outcome, session = self.portal.login(user, password)
        if outcome is LoginOutcome.BLOCKED:
            self._html(HTTPStatus.FORBIDDEN, pages.blocked_page())
        elif outcome is LoginOutcome.WRONG_CREDENTIALS or session is None:
            error = "Nome utente o password non validi."
            self._html(HTTPStatus.OK, pages.login_page(self.portal, return_url, error))
        else:
            self._redirect(return_url, session, new_login=True)

    def _session(self) -> Session | None:
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie", ""))
        except Exception:
            return None
        session_id = cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else None
        auth = cookie[AUTH_COOKIE].value if AUTH_COOKIE in cookie else None
        return self.portal.session(session_id, auth)

    # -- list view callbacks ----------------------------------------------------

    def _callback(
        self, session: Session, export_type: ExportType, form: dict[str, list[str]]
    ) -> None:
        callback = form.get("__CALLBACKID", [""])[0]
        param = form.get("__CALLBACKPARAM", [""])[0]
        reply: dict[str, Any]
        if callback == "export":
            reply = self._export(session, export_type, param)
        elif callback == "orders_filter" and export_type is ExportType.ORDERS:
            self.portal.set_orders_all(session, param == "all")
            reply = {"ok": True}
        elif callback == "clear_filter" and export_type is ExportType.PRODUCTS:
            self.portal.clear_products_filter(session)
            reply = {"ok": True}
        elif callback == "show_columns" and export_type is ExportType.PRODUCTS:
            self.portal.show_all_product_columns(session)
            reply = {"ok": True}
        elif callback == "show_column" and self.portal.show_column(session, export_type, param):
            reply = {"ok": True}
        else:
            reply = {"error": f"Callback non valido: {callback!r}"}
        time.sleep(self.portal.loading_time() / 2)
        data = f"/*DX*/({json.dumps(reply)})".encode()
        self._send(HTTPStatus.OK, "text/plain; charset=utf-8", [data], len(data), session)

    def _export(self, session: Session, export_type: ExportType, fmt: str) -> dict[str, Any]:
        if fmt != "pdf":
            return {"error": f"Esportazione {fmt.upper()} non disponibile"}
        language = self.headers.get("Accept-Language", "")
        ticket = self.portal.begin_export(session, export_type, language)
        if isinstance(ticket, str):
            return {"error": ticket}
        faults = self.portal.faults
        bad = faults.take(FaultKind.BAD_CELLS, export_type)
        selection = Selection(
            shrink=faults.take(FaultKind.SHRUNKEN_EXPORT, export_type) is not None,
            empty=faults.take(FaultKind.EMPTY_EXPORT, export_type) is not None,
            garble=(bad.column or "", bad.text, bad.rows) if bad is not None else None,
        )
        ticket.file = self._generate(ticket, selection)
        return {"url": f"{EXPORT_PATH}?token={ticket.token}"}

    def _generate(self, ticket: ExportTicket, selection: Selection) -> Path:
        with self.portal.lock:
            records = list(self.portal.dataset.records(ticket.type))
            fingerprint = self.portal.dataset.fingerprint
        view = self.portal.export_view(ticket)
        return self.server.cache.get(ticket.type, fingerprint, records, view, selection)

    # -- downloads -------------------------------------------------------------

    def _download(self, token: str, session: Session) -> None:
        ticket = self.portal.take_ticket(token)
        if ticket is None or ticket.file is None:
            self._html(HTTPStatus.NOT_FOUND, pages.not_found_page(), session)
            return
        export_type = ticket.type
        faults = self.portal.faults
        name = file_name(export_type, self.portal.export_view(ticket))
        disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
        if faults.take(FaultKind.ZERO_BYTES, export_type):
            self._send(HTTPStatus.OK, "application/pdf", [], 0, session, disposition)
            return
        if faults.take(FaultKind.NON_PDF, export_type):
            html = pages.server_error_page().encode()
            self._send(HTTPStatus.OK, "application/pdf", [html], len(html), session, disposition)
            return
        data = ticket.file.read_bytes()
        truncated = faults.take(FaultKind.TRUNCATED_PDF, export_type)
        if truncated:
            data = data[: int(len(data) * truncated.keep)]
        slow = faults.take(FaultKind.SLOW_DOWNLOAD, export_type)
        chunks: Iterable[bytes] = [data]
        if slow:
            chunks = _trickle(data, slow.rate)
        self._send(HTTPStatus.OK, "application/pdf", chunks, len(data), session, disposition)

    # -- responses -------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 10_000_000:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length else b""

    def _cookies(self, session: Session | None, new_login: bool) -> list[str]:
        if session is None:
            return []
        # Sliding expiry, as ASP.NET forms authentication does: every request
        # pushes the auth cookie's end out by the idle time.
        idle = int(self.portal.options.session_idle)
        cookies = [
            f"{AUTH_COOKIE}={session.auth}; Max-Age={idle}; Path=/; HttpOnly; SameSite=Lax",
        ]
        if new_login:
            cookies += [
                f"{SESSION_COOKIE}={session.id}; Path=/; HttpOnly; SameSite=Lax",
                f"{USER_COOKIE}={quote(session.user)}; Max-Age=31536000; Path=/; SameSite=Lax",
            ]
        return cookies

    def _redirect(
        self, location: str, session: Session | None = None, new_login: bool = False
    ) -> None:
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", location)
        for cookie in self._cookies(session, new_login):
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _html(self, status: HTTPStatus, html: str, session: Session | None = None) -> None:
        data = html.encode("utf-8")
        self._send(status, "text/html; charset=utf-8", [data], len(data), session)

    def _json(self, status: HTTPStatus, reply: Any) -> None:
        data = json.dumps(reply, ensure_ascii=False).encode("utf-8")
        self._send(status, "application/json", [data], len(data), None)

    def _send(
        self,
        status: HTTPStatus,
        content_type: str,
        chunks: Iterable[bytes],
        length: int,
        session: Session | None,
        disposition: str | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "private, no-store")
        if disposition:
            self.send_header("Content-Disposition", disposition)
        for cookie in self._cookies(session, new_login=False):
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
