"""The systemd notifier over a real datagram socket."""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path

from archid.daemon.notify import Notifier


def test_a_reader_that_does_not_read_never_blocks_the_daemon() -> None:
    folder = Path(tempfile.mkdtemp(prefix="archid-notify-"))
    address = folder / "notify"
    reader = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    reader.bind(str(address))
    try:
        notifier = Notifier({"NOTIFY_SOCKET": str(address)})
        started = time.monotonic()
        # Far more than the kernel queues for an unread datagram socket (10 by default).
        for n in range(500):
            notifier.status(f"syncing {n}")
        assert time.monotonic() - started < 2.0
        reader.setblocking(False)
        first = reader.recv(4096).decode()
        assert first == "STATUS=syncing 0"
    finally:
        reader.close()
        address.unlink()
        folder.rmdir()


def test_status_is_sent_only_when_it_changes_and_nothing_without_a_socket() -> None:
    folder = Path(tempfile.mkdtemp(prefix="archid-notify-"))
    address = folder / "notify"
    reader = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    reader.bind(str(address))
    reader.settimeout(0.5)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": str(address), "WATCHDOG_USEC": "30000000"})
        assert notifier.watchdog_interval == 30.0
        notifier.status("idle;  queue 0")
        notifier.status("idle; queue 0")
        notifier.ready()
        assert reader.recv(4096) == b"STATUS=idle; queue 0"
        assert reader.recv(4096) == b"READY=1"
    finally:
        reader.close()
        address.unlink()
        folder.rmdir()
    silent = Notifier({})
    assert not silent.enabled and silent.watchdog_interval is None
    silent.ready()  # no socket: nothing happens, nothing breaks
