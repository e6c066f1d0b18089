"""Small state files written so that a crash leaves the old one or the new one, never half.

The login-budget ledger and the saved portal session are rewritten whole:
a temporary file in the same folder, created readable and writable by its
owner only (mode 0600: ``mkstemp``'s), written, flushed to disk, renamed
over the old file, and the folder synced so that the rename survives a
power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically; the file is mode 0600.

    Raises ``OSError`` (the folder is read-only, the disk is full…), in
    which case ``path`` is unchanged and no temporary file is left.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
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
