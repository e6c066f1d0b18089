"""A tiny launcher that ties chromedriver, Chromium and all their helpers to archid's life.

Run by path, never imported by the program it serves (it imports nothing
from archid, so it starts in milliseconds)::

    python -I tether.py OWNER_PID PROGRAM [ARGUMENT...]

It starts PROGRAM (chromedriver) as its child and guarantees that when it
ends, nothing it started runs any more, whatever ended it but its own
SIGKILL:

* it asks the kernel for a signal when its parent dies
  (``PR_SET_PDEATHSIG``). The kernel sends it when the parent *thread*
  ends, and archid starts browsers from worker threads that come and go,
  so the signal only means "look": the owner is gone once ``getppid()`` no
  longer names OWNER_PID (children of an ended thread pass to another
  thread of the same process, whose PID ``getppid`` still reports). Once a
  second it looks anyway;
* it is a child subreaper (``PR_SET_CHILD_SUBREAPER``): Chromium's crash
  handler double-forks away from Chromium, and any process of the tree
  whose parent dies is handed to the tether instead of PID 1, so the whole
  tree stays below it;
* on its owner's death, on SIGTERM, SIGINT or SIGHUP, or when PROGRAM
  exits, it SIGKILLs every process below it, reaps them, and exits with
  PROGRAM's status (1 if PROGRAM did not end by itself).

A tether killed by SIGKILL cannot clean up: its processes are then found
by their environment tag (:func:`archid.portal.processes.reap_leftovers`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from typing import Final

_PR_SET_PDEATHSIG: Final = 1
_PR_SET_CHILD_SUBREAPER: Final = 36
#: what the kernel sends when the parent thread ends (a "look" signal, see above)
PARENT_GONE: Final = signal.SIGUSR1
_STOP: Final = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
_WATCHED: Final = frozenset({signal.SIGCHLD, PARENT_GONE, *_STOP})
#: seconds between looks at the owner when no signal comes
_LOOK_EVERY: Final = 1.0
#: seconds the final sweep may take before the tether gives up on a process
_SWEEP_LIMIT: Final = 10.0


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def _children_table() -> dict[int, list[int]]:
    """Parent PID → child PIDs, for every process in ``/proc`` now."""
    table: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        table.setdefault(ppid, []).append(int(name))
    return table


def _below(pid: int) -> set[int]:
    table = _children_table()
    found: set[int] = set()
    stack = list(table.get(pid, ()))
    while stack:
        child = stack.pop()
        if child not in found:
            found.add(child)
            stack.extend(table.get(child, ()))
    return found


def _reap() -> dict[int, int]:
    """Collect every child that has ended: PID → exit code."""
    ended: dict[int, int] = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended[pid] = os.waitstatus_to_exitcode(status)


def _sweep() -> None:
    """SIGKILL everything below the tether until nothing is left, and reap it."""
    deadline = time.monotonic() + _SWEEP_LIMIT
    while time.monotonic() < deadline:
        _reap()
        victims = _below(os.getpid())
        if not victims:
            return
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # Zombies below us are reaped by their (dying) parents or handed to
        # us; a short pause lets that happen before the next look.
        time.sleep(0.01)


def main(argv: list[str]) -> int:
    """Run ``argv[2:]`` tied to the process ``argv[1]``; return its exit status."""
    if len(argv) < 3 or not argv[1].isdigit():
        print("usage: tether.py OWNER_PID PROGRAM [ARGUMENT...]", file=sys.stderr)
        return 2
    owner = int(argv[1])
    program = argv[2:]
    # Blocked before asking for the death signal, so that none is lost;
    # they are taken one by one with sigtimedwait below.
    signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    _prctl(_PR_SET_PDEATHSIG, PARENT_GONE)
    if os.getppid() != owner:
        return 1  # the owner died before the death signal was asked for
    child = os.posix_spawn(program[0], program, os.environ, setsigmask=())
    status = 1
    try:
        while os.getppid() == owner:
            info = signal.sigtimedwait(_WATCHED, _LOOK_EVERY)
            if info is None or info.si_signo == PARENT_GONE:
                continue  # the loop's condition looks at the owner
            if info.si_signo in _STOP:
                break
            ended = _reap()
            if child in ended:
                status = ended[child]
                break
    finally:
        _sweep()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
