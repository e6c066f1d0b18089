"""The control methods: each JSON-RPC method over what the daemon already does.

A method takes its params by name, checks them (:class:`Params`) and calls
the :class:`~archid.daemon.service.Daemon`; what it returns, the daemon's
answers as they are (:mod:`archid.daemon.answers`) or composed, is the
JSON-RPC ``result`` once the server has made it JSON
(:func:`archid.control.serialise.to_json`). Failures are raised as the
control errors (:mod:`archid.control.errors`) or the daemon's
``CommandError``; the server turns them into JSON-RPC errors, in one place.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import trio

import archid
from archid.config import ConfigError
from archid.control.errors import INVALID_PARAMS, Refused
from archid.control.follow import Followed, Follower
from archid.control.peers import Peer, Role
from archid.control.protocol import PROTOCOL_VERSION
from archid.control.serialise import to_json
from archid.daemon.answers import (
    Cancellation,
    HealthReport,
    ListedDeadLetter,
    QueueEntry,
    SessionClosed,
)
from archid.daemon.events import Event
from archid.daemon.queue import Mode, Request
from archid.daemon.service import Daemon
from archid.daemon.state import Pauses
from archid.records import ExportType

#: seconds an answer waits for the daemon's state writer (it may be failing)
SETTLE_LIMIT: Final = 5.0

#: most runs one ``history`` call returns
MAX_HISTORY = 1000
_MAX_TEXT = 200


@dataclass
class Context:
    """What a method may use: the daemon, who calls, and the connection's event outlet."""

    daemon: Daemon
    peer: Peer
    role: Role
    reload: Callable[[], list[str]]
    #: queue an event notification for this client (never blocks; may drop)
    notify: Callable[[Event], None]
    #: give the connection over to every event, from now on
    watch: Callable[[], None]


class Params:
    """A request's named params, taken one by one; :meth:`done` refuses the rest."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw
        self._taken: set[str] = set()

    def _take(self, name: str) -> Any:
        self._taken.add(name)
        return self._raw.get(name)

    def export_type(self, name: str = "type", *, required: bool = False) -> ExportType | None:
        value = self._take(name)
        if value is None:
            if required:
                raise _invalid(f"{name!r} is required: one of {_types()}")
            return None
        if not isinstance(value, str) or value not in ExportType._value2member_map_:
            raise _invalid(f"{name!r} must be one of {_types()}, not {_show(value)}")
        return ExportType(value)

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self._take(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise _invalid(f"{name!r} must be true or false, not {_show(value)}")
        return value

    def integer(
        self, name: str, default: int | None = None, *, minimum: int = 0, maximum: int = 2**62
    ) -> int:
        value = self._take(name)
        if value is None:
            if default is None:
                raise _invalid(f"{name!r} is required (an integer)")
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            raise _invalid(f"{name!r} must be an integer, not {_show(value)}")
        if not minimum <= value <= maximum:
            raise _invalid(f"{name!r} must be from {minimum} to {maximum}, not {value}")
        return value

    def string(self, name: str, default: str | None = None) -> str:
        value = self._take(name)
        if value is None:
            if default is None:
                raise _invalid(f"{name!r} is required (a string)")
            return default
        if not isinstance(value, str):
            raise _invalid(f"{name!r} must be a string, not {_show(value)}")
        if len(value) > _MAX_TEXT or not value.isprintable():
            raise _invalid(f"{name!r} must be printable and at most {_MAX_TEXT} characters")
        return value

    def done(self) -> None:
        """Refuse params the method does not know (a typo must not pass silently)."""
        unknown = sorted(set(self._raw) - self._taken)
        if unknown:
            raise _invalid(f"unknown param(s): {', '.join(map(repr, unknown))}")


Handler = Callable[[Context, Params], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    handler: Handler
    #: whether the read role may call it (admins may call everything)
    read: bool

    def allowed(self, role: Role) -> bool:
        return role is Role.ADMIN or self.read


METHODS: dict[str, Method] = {}


def _method(name: str, *, read: bool) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name] = Method(name, handler, read)
        return handler

    return register


# -- reading ------------------------------------------------------------------------


@_method("status", read=True)
async def _status(ctx: Context, params: Params) -> dict[str, Any]:
    params.done()
    daemon = ctx.daemon
    status = daemon.status()
    return {
        "state": status.state,
        **to_json(status),
        "health": daemon.health_report(),
        "dead_letters": len(daemon.dead_letters()),
        "line": daemon.status_line(),
    }


@_method("health", read=True)
async def _health(ctx: Context, params: Params) -> HealthReport:
    params.done()
    return ctx.daemon.health_report()


@_method("history", read=True)
async def _history(ctx: Context, params: Params) -> list[dict[str, Any]]:
    export_type = params.export_type()
    limit = params.integer("limit", 20, minimum=1, maximum=MAX_HISTORY)
    params.done()
    return ctx.daemon.history(export_type, limit)


@_method("queue", read=True)
async def _queue(ctx: Context, params: Params) -> tuple[QueueEntry, ...]:
    params.done()
    return ctx.daemon.queue()


@_method("session.list", read=True)
async def _session_list(ctx: Context, params: Params) -> list[dict[str, Any]]:
    params.done()
    now = trio.current_time()
    return [
        {
            "id": s.id,
            "user": s.user,
            "age": now - s.opened,
            "expires_in": max(0.0, s.deadline - now),
        }
        for s in ctx.daemon.sessions.list()
    ]


@_method("deadletters.list", read=True)
async def _deadletters_list(ctx: Context, params: Params) -> tuple[ListedDeadLetter, ...]:
    params.done()
    return ctx.daemon.dead_letters()


@_method("version", read=True)
async def _version(ctx: Context, params: Params) -> dict[str, Any]:
    params.done()
    return {
        "version": archid.__version__,
        "protocol": PROTOCOL_VERSION,
        "pid": os.getpid(),
        "python": platform.python_version(),
        "role": str(ctx.role),
        "user": ctx.peer.user,
    }


@_method("watch", read=True)
async def _watch(ctx: Context, params: Params) -> dict[str, Any]:
    params.done()
    ctx.watch()
    return {"watching": True}


# -- order-form sessions (the read role may) ---------------------------------------------


@_method("session.open", read=True)
async def _session_open(ctx: Context, params: Params) -> dict[str, Any]:
    user = params.string("user", "")
    wait = params.boolean("wait")
    params.done()
    daemon = ctx.daemon
    with daemon.events.subscribe() as events:
        opened = daemon.session_open(user or ctx.peer.user)
        result: dict[str, Any] = {
            "id": opened.id,
            "open": opened.open,
            "queued": _request(opened.request),
        }
        if wait:
            # The order form waits for the newest customers, not for the 200.
            result["sync"] = await _follow(ctx, opened.request, events, first_commit=True)
        return result


@_method("session.close", read=True)
async def _session_close(ctx: Context, params: Params) -> SessionClosed:
    session_id = params.string("id")
    params.done()
    return ctx.daemon.session_close(session_id)


# -- commands (admins only) ----------------------------------------------------------------


@_method("pause", read=False)
async def _pause(ctx: Context, params: Params) -> dict[str, Pauses]:
    export_type = params.export_type()
    params.done()
    return {"paused": ctx.daemon.pause(export_type)}


@_method("resume", read=False)
async def _resume(ctx: Context, params: Params) -> dict[str, Pauses]:
    export_type = params.export_type()
    params.done()
    return {"paused": ctx.daemon.resume(export_type)}


@_method("sync", read=False)
async def _sync(ctx: Context, params: Params) -> dict[str, Any] | Followed:
    export_type = params.export_type(required=True)
    assert export_type is not None
    recent = params.boolean("recent")
    wait = params.boolean("wait")
    allow_large_change = params.boolean("allow_large_change")
    params.done()
    daemon = ctx.daemon
    mode = Mode.RECENT if recent else Mode.FULL
    if not wait:
        request = daemon.sync_now(
            export_type, mode, allow_large_change=allow_large_change, requested_by=ctx.peer.user
        )
        return {"queued": _request(request)}
    with daemon.events.subscribe() as events:
        request = daemon.sync_now(
            export_type, mode, allow_large_change=allow_large_change, requested_by=ctx.peer.user
        )
        return await _follow(ctx, request, events)


@_method("cancel", read=False)
async def _cancel(ctx: Context, params: Params) -> Cancellation:
    export_type = params.export_type()
    params.done()
    return ctx.daemon.cancel(export_type)


@_method("deadletters.retry", read=False)
async def _deadletters_retry(ctx: Context, params: Params) -> dict[str, Any]:
    letter_id = params.integer("id")
    params.done()
    return {"queued": _request(await ctx.daemon.retry_dead_letter(letter_id))}


@_method("deadletters.drop", read=False)
async def _deadletters_drop(ctx: Context, params: Params) -> dict[str, Any]:
    letter_id = params.integer("id")
    params.done()
    await ctx.daemon.drop_dead_letter(letter_id)
    return {"dropped": letter_id}


@_method("reload", read=False)
async def _reload(ctx: Context, params: Params) -> dict[str, Any]:
    params.done()
    try:
        pending = ctx.reload()
    except ConfigError as exc:
        raise Refused(f"configuration not reloaded, keeping the running one: {exc}") from None
    return {"reloaded": True, "restart_needed": pending}


# -- helpers -------------------------------------------------------------------------------


async def _follow(
    ctx: Context,
    request: Request,
    events: trio.MemoryReceiveChannel[Event],
    *,
    first_commit: bool = False,
) -> Followed:
    """The outcome of ``request``, just queued with ``events`` subscribed before
    (with ``first_commit``, as at its first commit: see :class:`Follower`).

    Called with no checkpoint since the request was queued: the worker
    cannot start it before its follower listens.
    """
    follower = Follower(ctx.daemon, request, events, ctx.notify, first_commit=first_commit)
    ctx.daemon.run_listeners.append(follower.on_running)
    try:
        outcome = await follower.outcome()
    finally:
        ctx.daemon.run_listeners.remove(follower.on_running)
    # Answer once what the end kept (a failed run, a dead letter) is on disk,
    # so that the caller's next ``history`` or ``deadletters.list`` shows it.
    await ctx.daemon.writer.settled(SETTLE_LIMIT)
    return outcome


def _request(request: Request) -> dict[str, Any]:
    """A queued request as the protocol shows it (its place in line and who
    asked are the daemon's own)."""
    return {
        "type": str(request.type),
        "priority": request.priority,
        "mode": str(request.mode),
        "trigger": str(request.trigger),
        "allow_large_change": request.allow_large_change,
    }


def _invalid(message: str) -> Refused:
    return Refused(message, code=INVALID_PARAMS)


def _types() -> str:
    return ", ".join(t.value for t in ExportType)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "…"
