"""The control errors, one hierarchy for the server and the client.

Each JSON-RPC error code maps to one class here, and back
(:func:`error_for_code`), so the server raises what it means and the client
raises the same class the server chose.
"""

from __future__ import annotations

from typing import Any

#: JSON-RPC 2.0's own codes
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
#: archid's codes (the implementation-defined range -32000..-32099)
REFUSED = -32000
NOT_AUTHORISED = -32001
OVERLOADED = -32002


class ControlError(Exception):
    """Anything that went wrong talking to the control socket.

    ``code`` is the JSON-RPC error code (0 when there was no JSON-RPC
    error, e.g. a connection that could not be made), ``message`` the
    error's text and ``data`` its structured details, if any.
    """

    code: int = 0

    def __init__(self, message: str, *, code: int | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.data = data

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword arguments are not in ``args``: rebuild with all three.
        return (_rebuild, (type(self), self.message, self.code, self.data))


def _rebuild(cls: type[ControlError], message: str, code: int, data: Any) -> ControlError:
    return cls(message, code=code, data=data)


class NotListening(ControlError):
    """Nothing listens at the socket path (no file, connection refused)."""


class NotAuthorised(ControlError):
    """The daemon does not let this peer call this method."""

    code = NOT_AUTHORISED


class Refused(ControlError):
    """The daemon refused the request: bad params, unknown id, nothing to cancel…"""

    code = REFUSED


class ProtocolError(ControlError):
    """The other side broke the protocol: not JSON, too long, unknown method, a timeout."""


def error_for_code(code: int, message: str, data: Any = None) -> ControlError:
    """The exception a JSON-RPC error object with this code stands for."""
    cls: type[ControlError]
    if code == NOT_AUTHORISED:
        cls = NotAuthorised
    elif code in (REFUSED, INVALID_PARAMS):
        cls = Refused
    else:
        cls = ProtocolError
    return cls(message, code=code, data=data)
