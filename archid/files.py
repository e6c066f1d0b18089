"""Files written so that a crash, or a reader, sees the old one or the new one, never half.

The login-budget ledger, the saved portal session, the portal hold and the
metrics textfile are rewritten whole: a temporary file in the same folder
(a rename is atomic only within one file system), created readable and
writable by its owner only (``mkstemp``'s 0600) unless asked otherwise,
written, flushed to disk, renamed over the old file, and the folder synced
so that the rename survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically; the file is mode 0600.

    Creates the folder if needed. Raises ``OSError`` (the folder is
    read-only, the disk is full…), in which case ``path`` is unchanged and
    no temporary file is left.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, text.encode("utf-8"))


def replace_file(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Make ``path`` hold exactly ``data``, with permission bits ``mode``:
    before the call a reader sees the old file (or none), after it the new
    one. The temporary file is ``.NAME.…tmp`` beside it.

    Raises ``OSError`` when the folder cannot take the file (missing,
    read-only, full); ``path`` is then unchanged and no temporary file is
    left behind.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            if mode != 0o600:
                os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries (a rename or an unlink in it) to disk."""
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def is_private(path: Path) -> bool:
    """Whether ``path`` belongs to this user and no one else may read or write it."""
    info = path.stat()
    return info.st_uid == os.geteuid() and info.st_mode & 0o077 == 0
