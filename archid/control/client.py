"""A synchronous client of the control socket, for ``archid ctl`` and the app's backend.

One :class:`Client` is one connection, opened at the first call and kept
until :meth:`Client.close` (or the end of a ``with`` block). Calls on one
client are sequential; use one client per thread. Every failure is a
:class:`~archid.control.errors.ControlError`: :class:`NotListening` when
no daemon listens, :class:`NotAuthorised` when this user may not call the
method, :class:`Refused` when the daemon refused the request as given,
:class:`ProtocolError` for a broken or silent connection.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import socket
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from archid.control.errors import ControlError, NotListening, ProtocolError, error_for_code
from archid.control.protocol import MAX_ANSWER

EventHandler = Callable[[dict[str, Any]], None]


class Client:
    """One connection to archid's control socket.

    ``timeout`` bounds each wait for an answer (seconds, ``None`` for no
    limit); :meth:`watch` and ``sync(wait=True)`` wait for events without
    a limit once the daemon accepted them.
    """

    def __init__(
        self, socket_path: str | os.PathLike[str], *, timeout: float | None = 30.0
    ) -> None:
        self.socket_path = os.fspath(socket_path)
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._ids = itertools.count(1)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self._buffer = b""

    # -- the methods -------------------------------------------------------------

    def call(self, method: str, **params: Any) -> Any:
        """Call ``method`` with named ``params``; its ``result``."""
        return self._call(method, params)

    def status(self) -> dict[str, Any]:
        return self._call("status", {})  # type: ignore[no-any-return]

    def health(self) -> dict[str, Any]:
        return self._call("health", {})  # type: ignore[no-any-return]

    def history(self, type: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        return self._call("history", _given(type=type, limit=limit))  # type: ignore[no-any-return]

    def queue(self) -> list[dict[str, Any]]:
        return self._call("queue", {})  # type: ignore[no-any-return]

    def pause(self, type: str | None = None) -> dict[str, Any]:
        return self._call("pause", _given(type=type))  # type: ignore[no-any-return]

    def resume(self, type: str | None = None) -> dict[str, Any]:
        return self._call("resume", _given(type=type))  # type: ignore[no-any-return]

    def sync(
        self,
        type: str,
        *,
        recent: bool = False,
        wait: bool = False,
        allow_large_change: bool = False,
        on_event: EventHandler | None = None,
    ) -> dict[str, Any]:
        """Queue a sync of ``type``.

        Without ``wait``: ``{"queued": {...}}`` at once. With ``wait``: each
        event of that type goes to ``on_event`` until the sync ends, then
        ``{"outcome", "run", "type", "counts", "error", "seconds"}``.
        """
        params = {
            "type": type,
            "recent": recent,
            "wait": wait,
            "allow_large_change": allow_large_change,
        }
        return self._call(  # type: ignore[no-any-return]
            "sync", params, on_event=on_event, patient=wait
        )

    def cancel(self, type: str | None = None) -> dict[str, Any]:
        return self._call("cancel", _given(type=type))  # type: ignore[no-any-return]

    def session_open(
        self, user: str = "", *, wait: bool = False, on_event: EventHandler | None = None
    ) -> dict[str, Any]:
        """Open an order-form session: ``{"id": ..., "open": n, "queued": {...}}``.

        With ``wait``, returns once the session's customer sync has committed
        the newest customers (its first commit), its outcome under ``"sync"``
        (as :meth:`sync` with ``wait`` returns it, for that commit).
        """
        params = {"user": user, "wait": wait}
        return self._call(  # type: ignore[no-any-return]
            "session.open", params, on_event=on_event, patient=wait
        )

    def session_close(self, id: str) -> dict[str, Any]:
        return self._call("session.close", {"id": id})  # type: ignore[no-any-return]

    def session_list(self) -> list[dict[str, Any]]:
        return self._call("session.list", {})  # type: ignore[no-any-return]

    def deadletters_list(self) -> list[dict[str, Any]]:
        return self._call("deadletters.list", {})  # type: ignore[no-any-return]

    def deadletters_retry(self, id: int) -> dict[str, Any]:
        return self._call("deadletters.retry", {"id": id})  # type: ignore[no-any-return]

    def deadletters_drop(self, id: int) -> dict[str, Any]:
        return self._call("deadletters.drop", {"id": id})  # type: ignore[no-any-return]

    def reload(self) -> dict[str, Any]:
        return self._call("reload", {})  # type: ignore[no-any-return]

    def version(self) -> dict[str, Any]:
        return self._call("version", {})  # type: ignore[no-any-return]

    def watch(self) -> Iterator[dict[str, Any]]:
        """Every event the daemon publishes (``Event.as_json()``), until closed.

        The connection is given over to the events: close the client (or
        stop iterating and close it) to stop watching.
        """
        self._call("watch", {})
        sock = self._connected()
        sock.settimeout(None)
        while True:
            message = self._receive()
            if message is None:
                return
            if message.get("method") == "event":
                yield message.get("params") or {}

    # -- the wire ----------------------------------------------------------------------

    def _call(
        self,
        method: str,
        params: dict[str, Any],
        *,
        on_event: EventHandler | None = None,
        patient: bool = False,
    ) -> Any:
        sock = self._connected()
        request_id = next(self._ids)
        line = json.dumps(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params},
            separators=(",", ":"),
        ).encode()
        sock.settimeout(self.timeout)
        try:
            sock.sendall(line + b"\n")
        except OSError as exc:
            self.close()
            raise ProtocolError(f"could not send to {self.socket_path}: {exc}") from exc
        if patient:
            sock.settimeout(None)
        while True:
            message = self._receive()
            if message is None:
                raise ProtocolError(f"the daemon closed the connection during {method!r}")
            if "method" in message and "id" not in message:
                if on_event is not None and message["method"] == "event":
                    on_event(message.get("params") or {})
                continue
            if message.get("id") != request_id and not (
                # An error the daemon could not tie to a request (too many
                # connections, a line it could not read) is this call's.
                message.get("id") is None and "error" in message
            ):
                continue  # an answer to nothing this client is waiting for
            if "error" in message:
                error = message["error"]
                if not isinstance(error, dict):
                    raise ProtocolError(f"malformed error from the daemon: {error!r}")
                code = error.get("code")
                raise error_for_code(
                    code if isinstance(code, int) else 0,
                    str(error.get("message", "error")),
                    error.get("data"),
                )
            if "result" not in message:
                raise ProtocolError(f"answer without result nor error: {message!r}")
            return message["result"]

    def _connected(self) -> socket.socket:
        if self._sock is not None:
            return self._sock
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            sock.close()
            raise NotListening(f"no archid daemon listens at {self.socket_path}") from exc
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.ENOENT, errno.ECONNREFUSED, errno.ENOTSOCK):
                raise NotListening(f"no archid daemon listens at {self.socket_path}") from exc
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise ControlError(
                    f"not allowed to connect to {self.socket_path}: {exc.strerror}"
                ) from exc
            raise ControlError(f"cannot connect to {self.socket_path}: {exc}") from exc
        self._sock = sock
        return sock

    def _receive(self) -> dict[str, Any] | None:
        """The next message, or ``None`` when the daemon closed the connection."""
        sock = self._connected()
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_ANSWER:
                self.close()
                raise ProtocolError(f"the daemon sent a line longer than {MAX_ANSWER} bytes")
            try:
                chunk = sock.recv(65536)
            except TimeoutError as exc:
                self.close()
                raise ProtocolError(f"no answer from the daemon within {self.timeout} s") from exc
            except OSError as exc:
                self.close()
                raise ProtocolError(f"connection to the daemon lost: {exc}") from exc
            if not chunk:
                self.close()
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            message = json.loads(line)
        except ValueError as exc:
            self.close()
            raise ProtocolError(f"the daemon sent something that is not JSON: {exc}") from exc
        if not isinstance(message, dict):
            self.close()
            raise ProtocolError(f"the daemon sent a non-object: {message!r}")
        return message


def _given(**params: Any) -> dict[str, Any]:
    """The params that were given (``None`` means left out)."""
    return {k: v for k, v in params.items() if v is not None}
