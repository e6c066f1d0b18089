"""The control protocol: JSON-RPC 2.0, one JSON object per line (UTF-8, ``\\n``-ended).

A request is ``{"jsonrpc": "2.0", "id": ..., "method": ..., "params": {...}}``
with params by name (an object, or left out). The daemon answers each
request with one line carrying the same ``id``; a request without ``id``
(a notification) is carried out without an answer. The daemon sends
notifications of its own (``"method": "event"``) to the clients that asked
for events (``watch``, ``sync`` with ``wait``).

Batches (a JSON array of requests) are not supported: they get an
``invalid request`` error.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from archid.control.errors import INVALID_REQUEST, PARSE_ERROR, ControlError, ProtocolError

#: the protocol's version, as ``version`` reports it
PROTOCOL_VERSION = 1
#: longest request line the daemon reads, in bytes, its newline excluded
MAX_LINE = 64 * 1024
#: longest answer line the client reads (a long history is large)
MAX_ANSWER = 64 * 1024 * 1024

RequestId = str | int | float | None


@dataclass(frozen=True, slots=True)
class Call:
    """One well-formed request; ``id`` is ``None`` for a notification."""

    method: str
    params: dict[str, Any]
    id: RequestId
    notification: bool


class BadRequest(ControlError):
    """A line that is JSON but not a valid request; ``id`` is the request's, if it had one."""

    code = INVALID_REQUEST

    def __init__(self, message: str, *, id: RequestId = None) -> None:
        super().__init__(message)
        self.id = id


class NotJson(ProtocolError):
    """A line that is not JSON at all: the daemon answers and closes."""

    code = PARSE_ERROR


def parse_request(line: bytes) -> Call:
    """The request in ``line`` (without its newline).

    Raises :class:`NotJson` for bytes that are not UTF-8 JSON and
    :class:`BadRequest` for JSON that is not a request.
    """
    try:
        text = line.decode("utf-8")
        message = json.loads(text, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise NotJson(f"not JSON: {_short(exc)}") from None
    if not isinstance(message, dict):
        raise BadRequest("a request must be a JSON object (batches are not supported)")
    raw_id = message.get("id")
    has_id = "id" in message
    request_id: RequestId = raw_id if _valid_id(raw_id) else None
    if has_id and not _valid_id(raw_id):
        raise BadRequest("id must be a string, a number or null")
    if message.get("jsonrpc") != "2.0":
        raise BadRequest('"jsonrpc" must be "2.0"', id=request_id)
    method = message.get("method")
    if not isinstance(method, str) or not method:
        raise BadRequest('"method" must be a non-empty string', id=request_id)
    params = message.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise BadRequest('"params" must be an object (params are by name)', id=request_id)
    return Call(method, params, request_id, notification=not has_id)


def result_line(request_id: RequestId, result: Any) -> bytes:
    """The answer line for a request that succeeded."""
    return _line({"jsonrpc": "2.0", "id": request_id, "result": result})


def error_line(request_id: RequestId, code: int, message: str, data: Any = None) -> bytes:
    """The answer line for a request that failed."""
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return _line({"jsonrpc": "2.0", "id": request_id, "error": error})


def notification_line(method: str, params: Any) -> bytes:
    """A notification line from the daemon (``event``)."""
    return _line({"jsonrpc": "2.0", "method": method, "params": params})


def _line(message: dict[str, Any]) -> bytes:
    # Non-finite floats are not JSON: they go out as null, not as NaN.
    return json.dumps(_finite(message), separators=(",", ":"), default=str).encode() + b"\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _valid_id(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, str | int)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"
