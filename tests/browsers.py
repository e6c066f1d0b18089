"""Finding the browsers a daemon process started, by a marker in its environment."""

from __future__ import annotations

from pathlib import Path

from archid.portal.processes import Process, snapshot


def browsers_marked(variable: str, marker: str) -> list[Process]:
    """Live (not zombie) browser processes whose environment holds ``variable=marker``.

    Chromium inherits the daemon's environment, so this finds its browsers
    even after they were reparented away from it.
    """
    wanted = f"{variable}={marker}".encode()
    found = []
    for pid, process in snapshot().items():
        if not (process.is_browser and process.alive):
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if wanted in environ.split(b"\0"):
            found.append(process)
    return found
