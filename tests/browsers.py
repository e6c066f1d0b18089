"""Finding the browsers a daemon process started, by a marker in its environment."""

from __future__ import annotations

import os
from pathlib import Path

from archid.portal.processes import (
    INSTANCE_VARIABLE,
    Process,
    environment,
    instance_tag,
    snapshot,
)


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


def processes_of(database: os.PathLike[str] | str) -> list[Process]:
    """Live processes of any program (tether, chromedriver, Chromium, crash handlers)
    started for the archid instances serving ``database`` (their instance tag)."""
    tag = instance_tag(database)
    return [
        process
        for pid, process in snapshot().items()
        if process.alive and environment(pid).get(INSTANCE_VARIABLE) == tag
    ]
