"""One daemon per database: an exclusive lock held for the process's life.

Two daemons on one mirror would both sync, both spend logins and fight
over the write lock. The lock is ``flock`` on ``<database>.lock`` beside
the database file: the kernel releases it when the process ends, however
it ends (a SIGKILL included), so a stale lock file never blocks a start.
The file holds the holder's PID, for the message a second daemon prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class AlreadyRunning(Exception):
    """Another process holds the database's instance lock."""

    def __init__(self, database: Path, pid: int | None) -> None:
        self.database = database
        self.pid = pid
        holder = f"PID {pid}" if pid is not None else "another process"
        super().__init__(
            f"another archid ({holder}) is already running on the database {database}; "
            "stop it first, or give this one another [database] path"
        )


def lock_path(database: Path) -> Path:
    """The lock file of ``database``."""
    return database.with_name(database.name + ".lock")


@contextlib.contextmanager
def instance_lock(database: Path) -> Iterator[None]:
    """Hold ``database``'s instance lock for the ``with`` block.

    Raises :class:`AlreadyRunning` at once (no waiting) when another
    process holds it, and ``OSError`` when the lock file cannot be created.
    """
    path = lock_path(database)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(database, _holder(fd)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays, harmlessly


def _holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text)
    except (OSError, ValueError):
        return None
