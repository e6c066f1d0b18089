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

from pathlib import Path
from typing import Final

from archid.files import replace_file

#: node_exporter runs as its own user: the file must be readable by others
#: (it holds no secret), whatever the daemon's umask.
MODE: Final = 0o644


def write_atomically(path: Path, data: bytes) -> None:
    """Make ``path`` hold exactly ``data``, mode 0644: before the call a
    reader sees the old file (or none), after it the new one, never a mix.

    Raises ``OSError`` when the directory cannot take the file (missing,
    read-only, full); the old file is then untouched and no temporary
    file is left behind.
    """
    replace_file(path, data, mode=MODE)
