"""Replacing the metrics file whole, so that node_exporter never reads half of one.

node_exporter's textfile collector reads every ``*.prom`` file of its
directory at each scrape. A file written in place can be read while it is
half written, and a half file is a scrape error (or, worse, a file that
parses with series missing). So the text goes to a temporary file in the
same directory (a rename is atomic only within one file system), is
flushed to disk, and is renamed over the old one; the directory is synced
so that the rename outlives a power cut. The temporary name does not end
in ``.prom``: the collector skips it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Final

#: node_exporter runs as its own user: the file must be readable by others
#: (it holds no secret), whatever the daemon's umask.
MODE: Final = 0o644


def write_atomically(path: Path, data: bytes, *, mode: int = MODE) -> None:
    """Make ``path`` hold exactly ``data``: before the call a reader sees the
    old file (or none), after it the new one, never a mix.

    Raises ``OSError`` when the directory cannot take the file (missing,
    read-only, full); the old file is then untouched and no temporary
    file is left behind.
    """
    folder = path.parent
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(folder)


def _sync_directory(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # the file is in place; only its durability across a crash is weaker
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
