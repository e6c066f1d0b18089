"""Finding and killing a browser's whole process tree through ``/proc`` (Linux).

Chromium does not stay under chromedriver: its crash handler double-forks
away to PID 1, and once chromedriver dies its children are reparented too.
So a browser is found two ways at once: the descendants of chromedriver's
PID, and every process whose environment carries the client's *tag* (an
environment variable given to chromedriver, which passes it on to Chromium
and its helpers). :func:`kill_tree` kills the union of both, and of their
descendants, with SIGKILL, then waits until none of them runs any more.

Browsers normally die with their owner through the tether
(``tether.py``). For what a tether could not clean (it was SIGKILLed
itself), two more tags are set: :data:`INSTANCE_VARIABLE` names the
database the owner serves (:func:`instance_tag`, a digest of its resolved
path) and :data:`TAG_VARIABLE` starts with the owner's PID and start time
(:func:`owner_tag`). :func:`reap_leftovers` kills, at start, the browsers
of the same database whose owner no longer runs, and nothing else.

Zombies (state ``Z``) count as gone: they hold no memory, and their parent
(here often the sandbox's PID 1, which may reap slowly) is the one to reap
them. The one process we must reap ourselves, chromedriver, is our child:
its ``Popen`` is waited on by the caller.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: environment variable naming the client that started a browser (:func:`owner_tag`)
TAG_VARIABLE = "ARCHID_BROWSER_OWNER"
#: environment variable naming the database the owner serves (:func:`instance_tag`)
INSTANCE_VARIABLE = "ARCHID_BROWSER_INSTANCE"

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


def environment(pid: int) -> dict[str, str]:
    """The environment ``pid`` was started with (empty if it is gone or not ours)."""
    try:
        environ = (_PROC / str(pid) / "environ").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return {}
    pairs = (item.partition(b"=") for item in environ.split(b"\0") if item)
    return {os.fsdecode(name): os.fsdecode(value) for name, _, value in pairs}


def has_tag(pid: int, tag: str) -> bool:
    """Whether the environment ``pid`` was started with holds ``TAG_VARIABLE=tag``."""
    return environment(pid).get(TAG_VARIABLE) == tag


def owner_tag(pid: int | None = None) -> str:
    """A new client tag: ``<pid>.<start time>-<random>`` of the owning process.

    The start time tells a running owner from a later process that reuses
    its PID (see :func:`owner_alive`).
    """
    pid = os.getpid() if pid is None else pid
    me = read_process(pid)
    start = me.start if me is not None else 0
    return f"{pid}.{start}-{uuid.uuid4().hex[:12]}"


def owner_alive(tag: str) -> bool:
    """Whether the process that made ``tag`` (:func:`owner_tag`) still runs.

    A tag that does not parse counts as alive: what cannot be told apart
    is never killed.
    """
    head = tag.partition("-")[0]
    pid_text, dot, start_text = head.partition(".")
    if not (dot and pid_text.isdigit() and start_text.isdigit()):
        return True
    process = read_process(int(pid_text))
    return process is not None and process.alive and process.start == int(start_text)


def instance_tag(database: os.PathLike[str] | str) -> str:
    """The tag of the archid instances serving ``database``: a digest of its resolved path.

    Two paths to one file (relative, through a symbolic link) give one tag;
    two databases never share one. The path itself is not shown.
    """
    resolved = os.path.realpath(os.fspath(database))
    return "db-" + hashlib.sha256(os.fsencode(resolved)).hexdigest()[:24]


def reap_leftovers(database: os.PathLike[str] | str, timeout: float = 5.0) -> set[int]:
    """Kill the browsers an earlier, dead, archid on ``database`` left running.

    Found by :data:`INSTANCE_VARIABLE`; only processes whose owner (their
    :data:`TAG_VARIABLE`) no longer runs are killed, with everything below
    them, so a live ``archid export`` or daemon on the same database keeps
    its browser and another database's browsers are never touched. Call it
    at start, before the first browser. Returns the PIDs killed.
    """
    tag = instance_tag(database)
    stale: set[int] = set()
    for pid, process in snapshot().items():
        if pid in (1, os.getpid()) or not process.alive:
            continue
        environ = environment(pid)
        if environ.get(INSTANCE_VARIABLE) == tag and not owner_alive(environ.get(TAG_VARIABLE, "")):
            stale.add(pid)
    return kill_tree(stale, None, timeout) if stale else set()


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
