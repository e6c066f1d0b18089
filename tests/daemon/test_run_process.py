"""``archid run`` as a real process against the simulator: data, systemd, signals.

Each test starts the daemon with ``python -m archid run``, a real datagram
socket as ``NOTIFY_SOCKET`` and a marker in its environment (Chromium
inherits it, so the test finds every browser the daemon started), and
talks to it only the way systemd and an operator do: signals, the socket,
the log and the database file.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from archid.records import ExportType
from archid.sim.faults import FaultKind
from archid.sim.portal import PortalOptions
from archid.sim.server import SimServer
from tests.conftest import ROOT
from tests.daemon_process import (
    CUSTOMERS,
    PASSWORD,
    Daemon,
    quick_sim_options,
    start_daemon,
    stored,
    truth,
    write_config,
)


@pytest.fixture
def sim_options() -> PortalOptions:
    return quick_sim_options()


start_daemon = pytest.fixture(start_daemon)


def test_all_six_types_mirror_the_portal_and_systemd_hears_it_all(
    sim: SimServer, tmp_path: Path, start_daemon: Callable[..., Daemon]
) -> None:
    config = write_config(tmp_path, sim.url, list(ExportType))
    daemon = start_daemon(config)

    first = daemon.receive(lambda m: True, 30, "first notification")
    assert first == "READY=1", f"READY must come first, got {daemon.messages}"
    daemon.wait_until(lambda: daemon.ok_runs() == set(map(str, ExportType)), 120, "six ok syncs")
    for export_type in ExportType:
        assert stored(daemon.database, export_type) == truth(sim, export_type), export_type

    # A broken file on SIGHUP: rejected, named, and the daemon goes on as before.
    good = config.read_text()
    config.write_text(
        good.replace("[quiet_hours]\nenabled = false", '[quiet_hours]\nstart = "25:00"')
    )
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_until(lambda: "configuration not reloaded" in daemon.log(), 10, "reload refusal")
    refusal = next(line for line in daemon.log().splitlines() if "not reloaded" in line)
    assert "quiet_hours.start" in refusal and "25:00" in refusal
    daemon.receive(lambda m: m == "RELOADING=1", 5, "RELOADING=1")
    daemon.receive(lambda m: m == "READY=1", 5, "READY=1 after the reload")
    daemon.receive(lambda m: m == "WATCHDOG=1", 5, "a watchdog ping after the reload")
    assert daemon.process.poll() is None

    # A good file is taken; a [portal] change is said to need a restart.
    config.write_text(
        good.replace("verify_tls = false", 'verify_tls = false\nlogin_timeout = "45s"')
    )
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_until(lambda: "configuration reloaded" in daemon.log(), 10, "a reload")
    assert "changes to [portal] take effect at the next restart" in daemon.log()

    took = daemon.stop()
    assert took < 10
    last = daemon.receive(lambda m: m == "STOPPING=1", 5, "STOPPING=1")
    assert last == "STOPPING=1"

    kinds = [m.split("=", 1)[0] for m in daemon.messages]
    assert kinds.count("WATCHDOG") >= 2
    statuses = [m for m in daemon.messages if m.startswith("STATUS=")]
    assert any(s.startswith("STATUS=syncing ") for s in statuses), statuses
    assert any(s.startswith("STATUS=idle") for s in statuses), statuses
    assert kinds.index("READY") < kinds.index("WATCHDOG") < kinds.index("STOPPING")
    assert kinds.index("READY") < kinds.index("STATUS")
    assert daemon.browsers() == []
    log = daemon.log()
    assert PASSWORD not in log and "Traceback" not in log


def queued(daemon: Daemon) -> list[str]:
    return [str(t) for (t,) in daemon.rows("SELECT type FROM daemon_queue ORDER BY running DESC")]


def test_sigterm_during_a_download_kills_the_browser_and_requeues(
    sim: SimServer, tmp_path: Path, start_daemon: Callable[..., Daemon]
) -> None:
    sim.portal.faults.arm({"kind": FaultKind.SLOW_DOWNLOAD, "type": "customers", "rate": 2000})
    daemon = start_daemon(write_config(tmp_path, sim.url, [CUSTOMERS]))
    daemon.receive(lambda m: m.startswith("STATUS=syncing customers (download)"), 60, "a download")
    assert daemon.browsers(), "the export runs in a browser"

    took = daemon.stop()

    assert took < 10
    assert daemon.browsers() == []
    assert queued(daemon) == ["customers"]
    assert daemon.ok_runs() == set()
    # The attempt the stop cut off has its row, saying so.
    assert daemon.rows("SELECT error_class, error_message, error_stage FROM sync_runs") == [
        ("Cancelled", "archid stopped", "download")
    ]
    assert "SIGTERM received: stopping" in daemon.log()


def test_sigterm_during_an_apply_rolls_it_back_and_requeues(
    sim: SimServer, tmp_path: Path, start_daemon: Callable[..., Daemon]
) -> None:
    daemon = start_daemon(
        write_config(tmp_path, sim.url, [CUSTOMERS]),
        {"ARCHID_FAILPOINTS": "stall-before-commit"},
    )
    daemon.receive(lambda m: m.startswith("STATUS=syncing customers (apply)"), 60, "an apply")
    # Every row is written inside the transaction when the drill holds it.
    daemon.wait_until(lambda: "holding before COMMIT" in daemon.log(), 10, "the stalled apply")

    took = daemon.stop()

    assert took < 10
    assert daemon.rows("SELECT count(*) FROM customers") == [(0,)]
    assert daemon.rows("SELECT count(*) FROM changes") == [(0,)]
    assert daemon.ok_runs() == set()
    assert daemon.rows("SELECT error_class, error_stage FROM sync_runs") == [("Cancelled", "apply")]
    assert queued(daemon) == ["customers"]
    assert daemon.browsers() == []

    # The next start runs it again, to the end.
    again = start_daemon(write_config(tmp_path, sim.url, [CUSTOMERS]))
    again.wait_until(lambda: again.ok_runs() == {"customers"}, 60, "the requeued sync")
    assert stored(again.database, CUSTOMERS) == truth(sim, CUSTOMERS)
    again.stop()
    assert queued(again) == []


def test_a_database_that_cannot_be_opened_is_named_without_a_traceback(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/Archibald/", [CUSTOMERS])
    config.write_text(
        config.read_text().replace(
            'path = "mirror.sqlite3"', 'path = "/proc/archid-nowhere/m.sqlite3"'
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "archid", "run", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "cannot use the database /proc/archid-nowhere/m.sqlite3 ([database] path)" in done.stderr
    assert "Traceback" not in done.stderr and PASSWORD not in done.stderr


def test_a_second_daemon_on_the_same_database_exits_at_once_naming_the_first(
    sim: SimServer, tmp_path: Path, start_daemon: Callable[..., Daemon]
) -> None:
    config = write_config(tmp_path, sim.url, [])
    first = start_daemon(config)
    first.receive(lambda m: "READY=1" in m, 30, "READY=1 from the first daemon")
    second = start_daemon(config)
    started = time.monotonic()
    code = second.process.wait(timeout=30)
    assert code != 0
    assert time.monotonic() - started < 10
    log = second.log()
    assert f"PID {first.process.pid}" in log and "already running" in log, log
    assert not any("READY=1" in m for m in second.drained())
    # the first one is unaffected and stops cleanly; then a new one may start
    assert first.process.poll() is None
    first.stop()
    third = start_daemon(config)
    third.receive(lambda m: "READY=1" in m, 30, "READY=1 once the first one is gone")
    third.stop()


def test_a_wrong_password_holds_the_portal_after_one_login_and_a_fixed_file_lifts_it(
    sim: SimServer, tmp_path: Path, start_daemon: Callable[..., Daemon]
) -> None:
    types = list(ExportType)
    config = write_config(tmp_path, sim.url, types)
    (tmp_path / "password").write_text("not-the-password\n")
    daemon = start_daemon(config)
    daemon.receive(lambda m: "READY=1" in m, 30, "READY=1")
    daemon.receive(lambda m: "portal hold (WrongCredentials)" in m, 60, "STATUS with the hold")
    attempts = sim.portal.login_attempts
    assert attempts == 1
    # Six types are due: none of them tries to log in while the portal is held,
    # and none becomes a dead letter.
    daemon.wait_until(lambda: "lifts when" in daemon.log(), 10, "the hold's log line")
    assert sim.portal.login_attempts == 1
    assert daemon.rows("SELECT count(*) FROM dead_letters") in ([(0,)], [])
    # The operator fixes the file and reloads: every type syncs, at once.
    (tmp_path / "password").write_text(PASSWORD + "\n")
    fixed = time.monotonic()
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_until(lambda: daemon.ok_runs() == {str(t) for t in types}, 120, "all six synced")
    assert time.monotonic() - fixed < 90
    # One login for the schedule's session; the interactive one is then kept
    # ready for people ([portal] keep_interactive_ready): one more.
    daemon.wait_until(lambda: sim.portal.login_attempts == 3, 60, "the interactive login")
    assert PASSWORD not in daemon.log()
    daemon.stop()
