"""``[metrics] listen``: the metrics over HTTP, for a Prometheus that scrapes archid itself.

A deliberately small HTTP/1.1 server on the daemon's event loop: ``GET``
(or ``HEAD``) ``/metrics`` answers the current text, anything else a short
error, and every connection closes after one answer. A client that sends
a broken or oversized request, or takes longer than
:data:`REQUEST_TIMEOUT` to send it, gets an error or is dropped; no
request can stop the server or the daemon.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

import trio

log = logging.getLogger("archid.metrics")

#: seconds a client has to send its request and read the answer
REQUEST_TIMEOUT: Final = 10.0
#: the most bytes of request line and headers read
MAX_HEAD: Final = 8192
#: the text format every Prometheus 2 reads (the names need no UTF-8 escaping)
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"

_REASONS: Final = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


async def serve_http(
    host: str,
    port: int,
    render: Callable[[], bytes],
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``render()`` at ``http://host:port/metrics`` until cancelled.

    ``task_status.started()`` gets the bound port once listening. Raises
    ``OSError`` if the address cannot be bound (in use, not local).
    """
    listeners = await trio.open_tcp_listeners(port, host=host)
    task_status.started(listeners[0].socket.getsockname()[1])

    async def handle(stream: trio.SocketStream) -> None:
        await _answer(stream, render)

    await trio.serve_listeners(handle, listeners)


async def _answer(stream: trio.SocketStream, render: Callable[[], bytes]) -> None:
    try:
        with trio.move_on_after(REQUEST_TIMEOUT):
            head = await _read_head(stream)
            if head is not None:
                await stream.send_all(_respond(head, render))
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
        pass  # the client went away
    except Exception:  # an answer that fails must not stop the server
        log.exception("metrics: could not answer an HTTP request")
    finally:
        with trio.CancelScope(shield=True):
            await stream.aclose()


async def _read_head(stream: trio.SocketStream) -> bytes | None:
    """The request up to its blank line; ``b""`` if too long, ``None`` if the
    client closed before finishing it."""
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data:
        if len(data) > MAX_HEAD:
            return b""
        chunk = await stream.receive_some(4096)
        if not chunk:
            return None
        data += chunk
    return data


def _respond(head: bytes, render: Callable[[], bytes]) -> bytes:
    if not head:
        return _response(431, b"request too long\n")
    request_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    parts = request_line.split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        return _response(400, b"not an HTTP/1.x request\n")
    method, target = parts[0], parts[1].split(b"?", 1)[0]
    if method not in (b"GET", b"HEAD"):
        return _response(405, b"only GET and HEAD\n", allow=True)
    if target != b"/metrics":
        return _response(404, b"archid serves /metrics only\n", head_only=method == b"HEAD")
    try:
        body = render()
    except Exception:
        log.exception("metrics: could not render the metrics")
        return _response(500, b"the metrics could not be rendered\n")
    return _response(200, body, content_type=CONTENT_TYPE, head_only=method == b"HEAD")


def _response(
    status: int,
    body: bytes,
    *,
    content_type: str = "text/plain; charset=utf-8",
    head_only: bool = False,
    allow: bool = False,
) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {_REASONS[status]}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if allow:
        lines.append("Allow: GET, HEAD")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    return head if head_only else head + body
