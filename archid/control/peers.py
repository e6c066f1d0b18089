"""Who is on the other end of a control connection, and what they may do.

The kernel tells (``SO_PEERCRED``: pid, uid, gid; ``SO_PEERGROUPS``: the
supplementary groups the peer had when it connected), so no client can
claim to be someone else. Root and the daemon's own user are admins; so
are members of ``[control] admin_groups``; members of ``read_groups`` may
read and open order-form sessions; anyone else is refused.
"""

from __future__ import annotations

import contextlib
import enum
import grp
import logging
import os
import pwd
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("archid.control")

# Not every Python names it; the number is Linux's (asm-generic/socket.h).
_SO_PEERGROUPS = getattr(socket, "SO_PEERGROUPS", 59)
_GID = struct.Struct("I")
_CRED = struct.Struct("3i")


class Role(enum.StrEnum):
    """What a peer may do: everything, or read and open sessions."""

    ADMIN = "admin"
    READ = "read"


@dataclass(frozen=True, slots=True)
class Peer:
    """The process on the other end of a connection, as the kernel saw it at connect."""

    pid: int
    uid: int
    gid: int
    groups: frozenset[int]

    @property
    def user(self) -> str:
        """The peer's user name, or ``uid N`` for a uid without one."""
        try:
            return pwd.getpwuid(self.uid).pw_name
        except KeyError:
            return f"uid {self.uid}"


class _Socket(Protocol):
    def getsockopt(self, level: int, option: int, buflen: int, /) -> bytes: ...


def peer_of(sock: _Socket) -> Peer:
    """The credentials of the peer of a connected Unix socket.

    Raises ``OSError`` if the socket has no peer credentials.
    """
    pid, uid, gid = _CRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size))
    return Peer(pid, uid, gid, frozenset({gid, *_supplementary_groups(sock, pid)}))


def _supplementary_groups(sock: _Socket, pid: int) -> Iterable[int]:
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, _SO_PEERGROUPS, 4 * 65536)
    except OSError:
        # Kernels before 4.13: the groups the process has now.
        return _proc_groups(pid)
    return [gid for (gid,) in _GID.iter_unpack(raw[: len(raw) - len(raw) % _GID.size])]


def _proc_groups(pid: int) -> list[int]:
    with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("Groups:"):
                return [int(gid) for gid in line.split()[1:]]
    return []


class Roles:
    """Decides a peer's role from ``[control] admin_groups`` and ``read_groups``.

    Group names are looked up at each connection, so a group created after
    the daemon started counts; a name that is no group gives no one rights.
    """

    def __init__(
        self,
        admin_groups: Iterable[str],
        read_groups: Iterable[str],
        own_uid: int | None = None,
    ) -> None:
        self.admin_groups = tuple(admin_groups)
        self.read_groups = tuple(read_groups)
        self.own_uid = os.getuid() if own_uid is None else own_uid

    def unknown_groups(self) -> list[str]:
        """The configured names that are no group on this system (for a warning at start)."""
        return [name for name in (*self.admin_groups, *self.read_groups) if _gid_of(name) is None]

    def role_of(self, peer: Peer) -> Role | None:
        """The peer's role, or ``None`` if it may do nothing."""
        if peer.uid in (0, self.own_uid):
            return Role.ADMIN
        if _member(peer, self.admin_groups):
            return Role.ADMIN
        if _member(peer, self.read_groups):
            return Role.READ
        return None


def _member(peer: Peer, names: Iterable[str]) -> bool:
    return any((gid := _gid_of(name)) is not None and gid in peer.groups for name in names)


def _gid_of(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None
