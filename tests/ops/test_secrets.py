"""The portal password and the session cookies appear nowhere an operator looks.

A real ``archid run`` (Chromium, the simulator, the control socket, the
metrics file) syncs and holds an order-form session; then every place a
secret could leak is searched for the password and for every cookie value
the portal set: the daemon's whole log, the command line and environment
of every process it started, the metrics file, and every reply of the
control socket's reading methods.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archid.control import Client
from archid.records import ExportType
from archid.sim.portal import PortalOptions
from archid.sim.server import SimServer
from tests.daemon_process import (
    MARKER,
    PASSWORD,
    Daemon,
    quick_sim_options,
    start_daemon,
    write_config,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def sim_options() -> PortalOptions:
    return quick_sim_options()


@pytest.fixture
def daemon_starter(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    yield from start_daemon(tmp_path)


def _marked_processes(marker: str) -> dict[int, bytes]:
    """Command line and environment of every process carrying ``marker``."""
    found: dict[int, bytes] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            if f"{MARKER}={marker}".encode() not in environ:
                continue
            found[int(entry.name)] = (entry / "cmdline").read_bytes() + b"\0" + environ
        except OSError:
            continue  # gone, or not ours to read
    return found


def test_no_secret_in_logs_processes_metrics_or_replies(
    sim: SimServer, tmp_path: Path, daemon_starter: Callable[..., Daemon]
) -> None:
    extra = '[metrics]\ntextfile = "archid.prom"\n'
    config = write_config(tmp_path, sim.url, [ExportType.CUSTOMERS, ExportType.ORDERS], extra)
    daemon = daemon_starter(config)
    daemon.wait_until(lambda: daemon.ok_runs() == {"customers", "orders"}, 90, "two syncs")
    socket_path = tmp_path / "control.sock"
    with Client(socket_path, timeout=30) as client:
        session = client.session_open("agent-7")
        replies = [
            client.status(),
            client.health(),
            client.history(limit=50),
            client.queue(),
            client.session_list(),
            client.deadletters_list(),
            client.version(),
        ]
        # While the daemon and its browser are alive: their processes.
        processes = _marked_processes(daemon.marker)
        client.session_close(session["id"])
    metrics = (tmp_path / "archid.prom").read_text()
    daemon.stop()

    session_file = json.loads((tmp_path / "portal-session.json").read_text())
    cookies = [c["value"] for c in session_file["cookies"] if len(c["value"]) >= 8]
    assert cookies, "the portal set no session cookie to look for"
    assert len(processes) >= 3  # the daemon, chromedriver, Chromium
    secrets = [PASSWORD, *cookies]
    places = {
        "the log": daemon.log(),
        "the metrics file": metrics,
        "the control replies": json.dumps(replies),
        **{f"process {pid}": data.decode(errors="replace") for pid, data in processes.items()},
    }
    leaks = [
        f"{'password' if secret == PASSWORD else 'a cookie'} in {place}"
        for place, text in places.items()
        for secret in secrets
        if secret in text
    ]
    assert leaks == []
    # The files that hold them are the owner's alone.
    assert (tmp_path / "portal-session.json").stat().st_mode & 0o077 == 0
    assert os.stat(tmp_path / "password").st_mode & 0o077 == 0
