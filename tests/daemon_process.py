"""A real ``archid run`` process for tests: config, start, watch, stop, read.

The daemon runs as ``python -m archid run`` with a real datagram socket as
``NOTIFY_SOCKET`` and a marker in its environment (Chromium inherits it, so
a test finds every browser the daemon started); a test talks to it only
the way systemd and an operator do: signals, sockets, the log and the
database file.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import apsw

from archid.records import ExportType, record_key, to_json
from archid.sim.layouts import expected_records
from archid.sim.portal import PortalOptions
from archid.sim.server import SimServer
from archid.store import open_database
from tests.browsers import browsers_marked
from tests.conftest import ROOT, quick_options

PASSWORD = "Pw-" + uuid.uuid4().hex[:12]
MARKER = "ARCHID_TEST_RUN"
CUSTOMERS = ExportType.CUSTOMERS


def quick_sim_options() -> PortalOptions:
    """A simulator that answers fast and never flakes, with the test password."""
    return quick_options(password=PASSWORD)


def write_config(
    folder: Path, url: str, types: list[ExportType], extra: str = "", *, every: str = "1h"
) -> Path:
    (folder / "password").write_text(PASSWORD + "\n")
    (folder / "password").chmod(0o600)
    schedules = "".join(
        f'[schedule.{t}]\nevery = "{every}"\noffset = "0s"\nenabled = {str(t in types).lower()}\n\n'
        for t in ExportType
    )
    # A socket of its own (the default is the system's, shared by all).
    control = "" if "[control]" in extra else '[control]\nsocket = "control.sock"\n\n'
    path = folder / "config.toml"
    path.write_text(
        f"""[portal]
url = "{url}"
username = "agent"
password_file = "password"
verify_tls = false

[database]
path = "mirror.sqlite3"

[quiet_hours]
enabled = false

[load]
max_load_average = 0

[retry]
retries = 1
base_delay = "1s"
max_delay = "2s"

{schedules}{control}{extra}"""
    )
    return path


@dataclass
class Daemon:
    """A running ``archid run`` and what it said."""

    process: subprocess.Popen[bytes]
    notify: socket.socket
    log_path: Path
    database: Path
    marker: str
    #: every datagram, as it came; drained by a thread as systemd would
    inbox: queue.Queue[str]
    messages: list[str] = field(default_factory=list)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def receive(self, until: Callable[[str], bool], timeout: float, what: str) -> str:
        """Take notifications in order until one satisfies ``until``; fail naming ``what``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.inbox.get(timeout=left)
            except queue.Empty:
                break
            self.messages.append(message)
            if until(message):
                return message
        raise AssertionError(f"no {what} within {timeout} s; got {self.messages}\n{self.tail()}")

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll an outside effect (a file, the database) until it shows, or fail."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"daemon exited while waiting for {what}\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout} s\n{self.tail()}")
            time.sleep(0.05)

    def stop(self, signum: int = signal.SIGTERM) -> float:
        """Send ``signum``; return the seconds until the process exited (status 0)."""
        started = time.monotonic()
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"daemon still running 15 s after {signum}\n{self.tail()}"
            ) from None
        took = time.monotonic() - started
        assert code == 0, f"exit status {code}\n{self.tail()}"
        return took

    def tail(self) -> str:
        return "daemon log (tail):\n" + "\n".join(self.log().splitlines()[-30:])

    def rows(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        if not self.database.exists():
            return []
        connection = apsw.Connection(
            f"file:{self.database}?mode=ro", flags=apsw.SQLITE_OPEN_URI | apsw.SQLITE_OPEN_READONLY
        )
        connection.set_busy_timeout(5000)
        try:
            return list(connection.execute(sql, args))
        except apsw.SQLError:
            return []  # the schema is not there yet
        finally:
            connection.close()

    def ok_runs(self) -> set[str]:
        return {str(t) for (t,) in self.rows("SELECT type FROM sync_runs WHERE outcome = 'ok'")}

    def drained(self) -> list[str]:
        """Every notification so far, those not yet taken by :meth:`receive` too."""
        while not self.inbox.empty():
            self.messages.append(self.inbox.get())
        return self.messages

    def wait_until_gone(self, timeout: float, what: str) -> None:
        """After the process ended: wait for every browser it started to end too."""
        deadline = time.monotonic() + timeout
        while self.browsers():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} still alive {timeout} s on: {self.browsers()}")
            time.sleep(0.05)

    def browsers(self) -> list[int]:
        """Live (not zombie) browser processes carrying this daemon's marker."""
        return [process.pid for process in browsers_marked(MARKER, self.marker)]


def start_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []
    # A socket path must fit in sun_path (108 bytes): pytest's tmp_path may not.
    short = Path(tempfile.mkdtemp(prefix="archid-notify-"))

    def start(
        config: Path, env: dict[str, str] | None = None, python: Sequence[str] = ("-m", "archid")
    ) -> Daemon:
        """``python`` is what runs archid: its arguments come before ``run --config``."""
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        address = short / f"notify-{len(started)}"
        notify.bind(str(address))
        marker = uuid.uuid4().hex
        log_path = tmp_path / f"daemon-{len(started)}.log"
        environ = {
            **os.environ,
            "NOTIFY_SOCKET": str(address),
            "WATCHDOG_USEC": "1000000",  # a ping every 0.5 s
            MARKER: marker,
            **(env or {}),
        }
        environ.pop("WATCHDOG_PID", None)
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, *python, "run", "--config", str(config)],
                cwd=ROOT,
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        inbox: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_drain, args=(notify, inbox), daemon=True).start()
        daemon = Daemon(process, notify, log_path, config.parent / "mirror.sqlite3", marker, inbox)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.process.poll() is None:
            # Only after a failed test: SIGKILL leaves the daemon no chance to
            # kill its browser, so the test does it by the marker.
            daemon.process.kill()
            daemon.process.wait()
            for pid in daemon.browsers():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        daemon.notify.shutdown(socket.SHUT_RDWR)
        daemon.notify.close()
    for leftover in short.iterdir():
        leftover.unlink()
    short.rmdir()


def _drain(notify: socket.socket, inbox: queue.Queue[str]) -> None:
    while True:
        try:
            data = notify.recv(4096)
        except OSError:
            return
        if not data:
            return
        inbox.put(data.decode())


def stored(database: Path, export_type: ExportType) -> dict[str, object]:
    db = open_database(database)
    try:
        return {key: to_json(record) for key, record in db.read_records(export_type).items()}
    finally:
        db.close()


def truth(sim: SimServer, export_type: ExportType) -> dict[str, object]:
    portal = sim.portal
    with portal.lock:
        records = expected_records(
            export_type, portal.dataset.records(export_type), portal.full_view()
        )
    return {record_key(r): to_json(r) for r in records}
