"""Telling systemd how archid is doing: READY, WATCHDOG, STATUS, STOPPING.

Everything is a no-op without ``NOTIFY_SOCKET`` (run by hand, in tests), and
a failing notification never breaks the daemon: sdnotify swallows errors.
"""

from __future__ import annotations

import logging
import os
import socket

import sdnotify
import trio

log = logging.getLogger("archid.notify")


class Notifier:
    """The service manager's notification socket, if there is one."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self._notifier = _connect(address) if address else None
        self.enabled = self._notifier is not None
        self._last_status = ""
        self.watchdog_interval = _watchdog_interval(env)

    def send(self, state: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(state)

    def ready(self) -> None:
        self.send("READY=1")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def reloading(self) -> None:
        self.send("RELOADING=1")

    def status(self, text: str) -> None:
        """Send ``STATUS=`` (one line), only when it changed."""
        line = " ".join(text.split())
        if line != self._last_status:
            self._last_status = line
            self.send(f"STATUS={line}")

    async def watchdog(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Ping the watchdog at half its interval, from the event loop, forever.

        Because the pings come from the event loop, a loop blocked by
        mistake stops them and systemd restarts archid, as it should.
        """
        task_status.started()
        if self.watchdog_interval is None:
            await trio.sleep_forever()
        assert self.watchdog_interval is not None
        while True:
            self.send("WATCHDOG=1")
            await trio.sleep(self.watchdog_interval / 2)


def _connect(address: str) -> sdnotify.SystemdNotifier | None:
    """A notifier sending to ``address`` (``@name``: the abstract namespace)."""
    notifier = sdnotify.SystemdNotifier()
    # sdnotify reads the process environment itself; connect to the address
    # we were given instead, so the environment handed to us is the one used.
    if notifier.socket is not None:
        notifier.socket.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.connect("\0" + address[1:] if address.startswith("@") else address)
    except OSError as exc:
        sock.close()
        log.warning("cannot reach NOTIFY_SOCKET %s: %s; not notifying systemd", address, exc)
        return None
    # A datagram socket blocks when the reader's queue is full; the event
    # loop must never wait on a busy service manager (a lost STATUS= is
    # harmless, a frozen loop is not).
    sock.setblocking(False)
    notifier.socket = sock
    return notifier


def _watchdog_interval(env: dict[str, str]) -> float | None:
    """``WATCHDOG_USEC`` in seconds, if it is meant for this process."""
    usec = env.get("WATCHDOG_USEC")
    pid = env.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        seconds = int(usec) / 1_000_000
    except ValueError:
        log.warning("ignoring WATCHDOG_USEC=%r: not a number", usec)
        return None
    return seconds if seconds > 0 else None
