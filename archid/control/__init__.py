"""archid's control socket: JSON-RPC 2.0 over a Unix socket, and a client for it.

The daemon serves the socket (:mod:`archid.control.server`); admins, ``archid
ctl`` and the app's backend talk to it through :class:`Client`. The protocol
is described in ``docs/control.md``.
"""

from archid.control.client import Client
from archid.control.errors import (
    ControlError,
    NotAuthorised,
    NotListening,
    ProtocolError,
    Refused,
)
from archid.control.protocol import PROTOCOL_VERSION

__all__ = [
    "PROTOCOL_VERSION",
    "Client",
    "ControlError",
    "NotAuthorised",
    "NotListening",
    "ProtocolError",
    "Refused",
]
