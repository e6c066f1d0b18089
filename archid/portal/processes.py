"""Finding and killing a browser's whole process tree through ``/proc`` (Linux).

Chromium does not stay under chromedriver: its crash handler double-forks
away to PID 1, and once chromedriver dies its children are reparented too.
So a browser is found two ways at once: the descendants of chromedriver's
PID, and every process whose environment carries the client's *tag* (an
environment variable given to chromedriver, which passes it on to Chromium
and its helpers). :func:`kill_tree` kills the union of both, and of their
descendants, with SIGKILL, then waits until none of them runs any more.

Zombies (state ``Z``) count as gone: they hold no memory, and their parent
(here often the sandbox's PID 1, which may reap slowly) is the one to reap
them. The one process we must reap ourselves, chromedriver, is our child:
its ``Popen`` is waited on by the caller.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: environment variable naming the client that started a browser
TAG_VARIABLE = "ARCHID_BROWSER_OWNER"

#: ``comm`` names of the programs a browser consists of (``comm`` is cut at 15 bytes)
BROWSER_COMMANDS = ("chromium", "chromedriver", "chrome", "chrome_crashpad")

_PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class Process:
    """One line of ``/proc/<pid>/stat``: enough to walk trees and spot reuse."""

    pid: int
    ppid: int
    state: str
    comm: str
    #: start time in clock ticks since boot: a reused PID has another one
    start: int

    @property
    def alive(self) -> bool:
        """Running or sleeping, not a zombie waiting to be reaped."""
        return self.state not in ("Z", "X")

    @property
    def is_browser(self) -> bool:
        return self.comm.startswith(BROWSER_COMMANDS)


def read_process(pid: int) -> Process | None:
    """The process ``pid`` as ``/proc`` shows it now, or ``None`` if it is gone."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may itself hold ")" or spaces.
    close = stat.rfind(")")
    fields = stat[close + 2 :].split()
    return Process(
        pid=pid,
        ppid=int(fields[1]),
        state=fields[0],
        comm=stat[stat.find("(") + 1 : close],
        start=int(fields[19]),
    )


def snapshot() -> dict[int, Process]:
    """Every process visible in ``/proc`` right now, by PID."""
    table: dict[int, Process] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            process = read_process(int(entry.name))
            if process is not None:
                table[process.pid] = process
    return table


def has_tag(pid: int, tag: str) -> bool:
    """Whether the environment ``pid`` was started with holds ``TAG_VARIABLE=tag``."""
    try:
        environ = (_PROC / str(pid) / "environ").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return f"{TAG_VARIABLE}={tag}".encode() in environ.split(b"\0")


def descendants(roots: Iterable[int], table: dict[int, Process]) -> set[int]:
    """``roots`` and every process below them in ``table``."""
    children: dict[int, list[int]] = {}
    for process in table.values():
        children.setdefault(process.ppid, []).append(process.pid)
    found: set[int] = set()
    stack = [pid for pid in roots if pid in table]
    while stack:
        pid = stack.pop()
        if pid not in found:
            found.add(pid)
            stack.extend(children.get(pid, ()))
    return found


def browser_tree(roots: Iterable[int], tag: str | None) -> dict[int, Process]:
    """The live processes of one browser: below ``roots`` or tagged with ``tag``."""
    table = snapshot()
    seeds = set(roots)
    if tag is not None:
        seeds |= {pid for pid, process in table.items() if process.alive and has_tag(pid, tag)}
    return {pid: table[pid] for pid in descendants(seeds, table) if table[pid].alive and pid != 1}


def kill_tree(roots: Iterable[int], tag: str | None, timeout: float = 5.0) -> set[int]:
    """SIGKILL a browser's processes and wait until they no longer run.

    Returns the PIDs that were killed. Processes that are still running
    after ``timeout`` seconds (which SIGKILL makes practically impossible)
    are left; the caller can look again with :func:`browser_tree`.
    Never kills this process or PID 1.
    """
    victims = browser_tree(roots, tag)
    victims.pop(os.getpid(), None)
    for pid in victims:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    pending = dict(victims)
    while pending and time.monotonic() < deadline:
        for pid, before in list(pending.items()):
            now = read_process(pid)
            if now is None or not now.alive or now.start != before.start:
                del pending[pid]
        if pending:
            time.sleep(0.01)
    return set(victims)
