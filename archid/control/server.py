"""The control socket: JSON-RPC 2.0 over a Unix stream socket, in the daemon's nursery.

::

    ControlServer.run            accepts, at most ``max_connections`` at a time
    └── one task per connection
        ├── reader               lines → requests → methods, one at a time
        ├── writer               answers and events → the socket
        └── events               for ``watch``: the event bus → the writer

Nothing a client does reaches further than its own connection: a bad line
gets a JSON-RPC error (bytes that are not JSON, or a line over 64 KiB, an
error and a close), a failing method an error, a client that stops
reading loses events (and is told how many) rather than holding the
daemon back, and one that reads nothing for ``idle_timeout`` is dropped.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket as stdlib_socket
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import trio

from archid.config import ControlConfig
from archid.control import errors
from archid.control.errors import ControlError
from archid.control.methods import METHODS, Context, Params
from archid.control.peers import Peer, Role, Roles, peer_of
from archid.control.protocol import (
    MAX_LINE,
    BadRequest,
    Call,
    NotJson,
    RequestId,
    error_line,
    notification_line,
    parse_request,
    result_line,
)
from archid.control.serialise import to_json
from archid.daemon.events import Event
from archid.daemon.service import CommandError, Daemon

log = logging.getLogger("archid.control")

#: connections served at once; one more is told so and closed
MAX_CONNECTIONS = 64
#: answers and events waiting for a client to read them; past it, events are dropped
OUTBOX = 512
_RECEIVE = 65536


class ControlServer:
    """Serves the daemon's commands on ``config.socket``; see the module docstring."""

    def __init__(
        self,
        daemon: Daemon,
        config: ControlConfig,
        *,
        reload: Callable[[], list[str]],
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.daemon = daemon
        self.config = config
        self.reload = reload
        self.max_connections = max_connections
        self.roles = Roles(config.admin_groups, config.read_groups)
        self.connections = 0
        self._inode: tuple[int, int] | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; the socket file is removed at the end.

        If the socket cannot be made (no folder, another daemon listening
        there), that is logged and the daemon runs on without one.
        """
        unknown = self.roles.unknown_groups()
        if unknown:
            log.warning("[control] names no such group(s): %s", ", ".join(unknown))
        listener = await self._listen()
        if listener is None:
            task_status.started()
            return
        try:
            async with trio.open_nursery() as nursery:
                log.info("control socket listening at %s", self.config.socket)
                task_status.started()
                while True:
                    try:
                        sock, _ = await listener.accept()
                    except OSError as exc:
                        # Out of file descriptors, mostly: let some close first.
                        log.warning("control socket: accept failed: %s", exc)
                        await trio.sleep(0.1)
                        continue
                    if self.connections >= self.max_connections:
                        nursery.start_soon(self._turn_away, sock)
                    else:
                        self.connections += 1
                        nursery.start_soon(self._serve, sock)
        finally:
            listener.close()
            self._remove()

    # -- the socket file ------------------------------------------------------------

    async def _listen(self) -> trio.socket.SocketType | None:
        path = self.config.socket
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not _clear_stale(path):
                return None
            sock = trio.socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_STREAM)
            try:
                # Bound with the umask's bits, then narrowed: a peer that slips
                # in between is still checked by its credentials.
                await sock.bind(os.fspath(path))
                os.chmod(path, self.config.mode)
                sock.listen(self.max_connections)
                info = os.stat(path)
            except BaseException:
                sock.close()
                raise
        except OSError as exc:
            log.error("no control socket at %s: %s", path, exc)
            return None
        self._inode = (info.st_dev, info.st_ino)
        return sock

    def _remove(self) -> None:
        """Remove the socket file, if it is still the one this server made."""
        path = self.config.socket
        with contextlib.suppress(OSError):
            info = os.lstat(path)
            if (info.st_dev, info.st_ino) == self._inode:
                path.unlink()

    # -- connections -------------------------------------------------------------------

    async def _turn_away(self, sock: trio.socket.SocketType) -> None:
        stream = trio.SocketStream(sock)
        line = error_line(
            None, errors.OVERLOADED, f"too many connections (at most {self.max_connections})"
        )
        with trio.move_on_after(1.0), contextlib.suppress(trio.BrokenResourceError, OSError):
            await stream.send_all(line)
            # Take the request the client sent meanwhile: closing with it
            # unread would reset the connection before the client reads why.
            await stream.receive_some(MAX_LINE)
        await trio.aclose_forcefully(stream)

    async def _serve(self, sock: trio.socket.SocketType) -> None:
        stream = trio.SocketStream(sock)
        peer: Peer | None = None
        try:
            peer = peer_of(sock)
            role = self.roles.role_of(peer)
            if role is None:
                log.warning(
                    "control socket: refused uid %d (pid %d): not root, not archid's user,"
                    " in no group of [control] admin_groups or read_groups",
                    peer.uid,
                    peer.pid,
                )
            await _Connection(self, stream, peer, role).serve()
        except Exception:  # one connection's trouble must not reach the daemon
            who = "an unknown peer" if peer is None else f"uid {peer.uid} (pid {peer.pid})"
            log.exception("control connection of %s failed", who)
        finally:
            self.connections -= 1
            await trio.aclose_forcefully(stream)


_Error = tuple[int, str, Any]  # code, message, data


class _Closing(Exception):
    """The connection ends after what was said (an error that leaves no way on)."""


class _Connection:
    """One client: its requests in order, its answers and events through one outbox."""

    def __init__(
        self, server: ControlServer, stream: trio.SocketStream, peer: Peer, role: Role | None
    ) -> None:
        self.server = server
        self.stream = stream
        self.peer = peer
        self.role = role
        self.idle_timeout = server.config.idle_timeout
        self._out, self._outbox = trio.open_memory_channel[bytes](OUTBOX)
        self._buffer = bytearray()
        self._watching = False
        self._dropped = 0
        self._dropped_at = 0.0  # when the last event was dropped
        self._nursery: trio.Nursery | None = None
        self._stack = contextlib.ExitStack()

    async def serve(self) -> None:
        with self._stack:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._write, nursery.cancel_scope)
                try:
                    await self._read()
                except _Closing:
                    pass
                finally:
                    # What is in the outbox still goes out, then the writer ends.
                    self._out.close()
                    if self._watching:
                        self._watching = False
                        self._stack.close()

    # -- reading -----------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            line = await self._next_line()
            if line is None:
                return
            if not line.strip():
                continue
            await self._handle(line)

    async def _next_line(self) -> bytes | None:
        """The next line without its newline; ``None`` when the client is gone."""
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                if len(line) > MAX_LINE:
                    await self._fail(None, errors.INVALID_REQUEST, _too_long())
                return line
            if len(self._buffer) > MAX_LINE:
                await self._fail(None, errors.INVALID_REQUEST, _too_long())
            limit = None if self._watching else self.idle_timeout
            with trio.move_on_after(limit if limit is not None else float("inf")) as idle:
                try:
                    data = await self.stream.receive_some(_RECEIVE)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return None
            if idle.cancelled_caught:
                await self._fail(None, errors.REFUSED, f"idle for {self.idle_timeout:g} s: closing")
            if not data:
                return None
            self._buffer += data

    async def _handle(self, line: bytes) -> None:
        try:
            call = parse_request(line)
        except NotJson as exc:
            await self._fail(None, exc.code, exc.message)
        except BadRequest as exc:
            await self._answer(exc.id, error=(exc.code, exc.message, None))
            return
        if self.role is None:
            await self._fail(
                call.id,
                errors.NOT_AUTHORISED,
                f"{self.peer.user} may not use archid's control socket",
            )
        method = METHODS.get(call.method)
        if method is None:
            await self._reply(
                call,
                error=(
                    errors.METHOD_NOT_FOUND,
                    f"unknown method {call.method[:100]!r}",
                    {"methods": sorted(METHODS)},
                ),
            )
            return
        if not method.allowed(self.role):
            log.warning(
                "control socket: uid %d (pid %d) may not call %s (role %s)",
                self.peer.uid,
                self.peer.pid,
                method.name,
                self.role,
            )
            await self._reply(
                call,
                error=(
                    errors.NOT_AUTHORISED,
                    f"{method.name!r} is for admins; {self.peer.user} may only read",
                    None,
                ),
            )
            return
        await self._reply(call, **self._outcome_of(await self._run(call, method.handler)))

    async def _run(self, call: Call, handler: Any) -> tuple[bool, Any]:
        """``(True, result)`` or ``(False, (code, message, data))``: the one place
        where what a method returns becomes JSON values, and what it raises a
        JSON-RPC error."""
        context = Context(
            daemon=self.server.daemon,
            peer=self.peer,
            role=self.role or Role.READ,
            reload=self.server.reload,
            notify=self._notify_waiting,
            watch=self._watch,
        )
        try:
            return True, to_json(await handler(context, Params(call.params)))
        except ControlError as exc:
            return False, (exc.code, exc.message, exc.data)
        except CommandError as exc:
            return False, (errors.REFUSED, str(exc), None)
        except Exception as exc:
            log.exception("control method %s failed", call.method)
            return False, (errors.INTERNAL_ERROR, f"internal error: {type(exc).__name__}", None)

    @staticmethod
    def _outcome_of(outcome: tuple[bool, Any]) -> dict[str, Any]:
        ok, value = outcome
        return {"result": value} if ok else {"error": value}

    # -- writing -------------------------------------------------------------------------

    async def _reply(
        self,
        call: Call,
        *,
        result: Any = None,
        error: tuple[int, str, Any] | None = None,
    ) -> None:
        if call.notification:
            return  # JSON-RPC: a notification is never answered, not even with an error
        await self._answer(call.id, result=result, error=error)

    async def _answer(
        self, request_id: RequestId, *, result: Any = None, error: _Error | None = None
    ) -> None:
        line = result_line(request_id, result) if error is None else error_line(request_id, *error)
        with contextlib.suppress(trio.ClosedResourceError, trio.BrokenResourceError):
            await self._out.send(line)

    async def _fail(self, request_id: RequestId, code: int, message: str) -> NoReturn:
        """Answer with an error, then close the connection."""
        await self._answer(request_id, error=(code, message, None))
        raise _Closing(message)

    def notify(self, event: Event) -> None:
        """Queue an event for this client; drop it (and count) if the client lags."""
        if self._dropped:
            if not self._send_nowait(_dropped_notice(self._dropped, event.at)):
                self._dropped += 1
                return
            self._dropped = 0
        if not self._send_nowait(notification_line("event", event.as_json())):
            self._dropped += 1
            self._dropped_at = event.at

    def _notify_waiting(self, event: Event) -> None:
        """An event of the sync this client waits for (a watching client has it already)."""
        if not self._watching:
            self.notify(event)

    def _send_nowait(self, line: bytes) -> bool:
        try:
            self._out.send_nowait(line)
        except trio.WouldBlock:
            return False
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            return True  # the connection is ending: nothing to count
        return True

    async def _write(self, scope: trio.CancelScope) -> None:
        """Send what the outbox holds; a client that takes none of it for
        ``idle_timeout`` is disconnected."""
        try:
            async for line in self._outbox:
                with trio.move_on_after(self.idle_timeout) as stuck:
                    await self.stream.send_all(line)
                if stuck.cancelled_caught:
                    log.warning(
                        "control socket: uid %d (pid %d) read nothing for %g s: disconnected",
                        self.peer.uid,
                        self.peer.pid,
                        self.idle_timeout,
                    )
                    break
                notice = _dropped_notice(self._dropped, self._dropped_at)
                if self._dropped and self._send_nowait(notice):
                    # Room again: say what was lost, where it was lost.
                    self._dropped = 0
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass  # the client went away
        scope.cancel()  # the reader too: nothing more will reach the client

    # -- watch -------------------------------------------------------------------------

    def _watch(self) -> None:
        if self._watching or self._nursery is None:
            return
        # Subscribed now, before the answer goes out: no event after it is missed.
        events = self._stack.enter_context(self.server.daemon.events.subscribe())
        self._watching = True
        self._nursery.start_soon(self._forward, events)

    async def _forward(self, events: trio.MemoryReceiveChannel[Event]) -> None:
        with contextlib.suppress(trio.ClosedResourceError, trio.EndOfChannel):
            async for event in events:
                self.notify(event)


def _clear_stale(path: Path) -> bool:
    """Make room for the socket: a stale one is removed; False (logged) if
    something else is there or a live server listens."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return True
    if not stat.S_ISSOCK(info.st_mode):
        log.error("no control socket: %s exists and is not a socket", path)
        return False
    probe = stdlib_socket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(os.fspath(path))
    except OSError as exc:
        if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT):
            log.warning("replacing the control socket %s (%s)", path, exc)
    else:
        log.error("no control socket: another process listens at %s", path)
        return False
    finally:
        probe.close()
    path.unlink(missing_ok=True)
    log.info("replaced a stale control socket at %s", path)
    return True


def _too_long() -> str:
    return f"request line longer than {MAX_LINE} bytes: closing"


def _dropped_notice(count: int, at: float) -> bytes:
    return notification_line(
        "event",
        {
            "kind": "dropped",
            "type": None,
            "run": None,
            "stage": None,
            "current": None,
            "total": None,
            "message": f"{count} event(s) dropped: this client read too slowly",
            "data": {"count": count},
            "at": at,
        },
    )
