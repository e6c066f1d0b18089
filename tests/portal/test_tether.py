"""Browsers die with their owner, whatever kills it; a new instance reaps what is left.

These tests start real owner processes (a small script around
:class:`PortalClient`), SIGKILL them with their browser up, and look in
``/proc`` for any process still carrying the owner's tags.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from archid.portal.client import PortalClient
from archid.portal.processes import (
    INSTANCE_VARIABLE,
    TAG_VARIABLE,
    Process,
    browser_tree,
    environment,
    instance_tag,
    reap_leftovers,
    snapshot,
)
from archid.records import ExportType
from archid.sim.server import SimServer
from tests.browsers import processes_of
from tests.portal.conftest import FAST, ROOT, wait_for

# The owner: starts its browser, loads the login page, says so, waits to be killed.
OWNER = """
import sys, threading, time
from archid.portal.client import PortalClient
from archid.portal.processes import instance_tag
client = PortalClient(sys.argv[1], "agent", lambda: "komet", instance=instance_tag(sys.argv[2]))
# Started from a thread that then ends, as trio's worker threads do.
starter = threading.Thread(target=lambda: client.driver.get(sys.argv[1] + "Login.aspx"))
starter.start()
starter.join()
print(client.tag, flush=True)
time.sleep(600)
"""


def tagged(instance: str) -> list[Process]:
    """Live processes (any program) carrying ``instance`` in their environment."""
    return [
        process
        for pid, process in snapshot().items()
        if process.alive and environment(pid).get(INSTANCE_VARIABLE) == instance
    ]


def browsers(instance: str) -> list[Process]:
    return [process for process in tagged(instance) if process.is_browser]


@pytest.fixture
def owners(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for owner in started:
        if owner.poll() is None:
            owner.kill()
        owner.wait()
    # Only after a failed test can anything be left: do not leave it running.
    reap_leftovers(tmp_path / "mirror.sqlite3")


def start_owner(
    sim: SimServer, database: Path, owners: list[subprocess.Popen[str]]
) -> tuple[subprocess.Popen[str], str]:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, sim.url, str(database)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    owners.append(owner)
    assert owner.stdout is not None
    tag = owner.stdout.readline().strip()
    assert tag.startswith(f"{owner.pid}."), f"the owner did not start its browser: {tag!r}"
    return owner, tag


def test_six_sigkilled_owners_leave_no_browser(
    sim: SimServer, tmp_path: Path, owners: list[subprocess.Popen[str]]
) -> None:
    database = tmp_path / "mirror.sqlite3"
    instance = instance_tag(database)
    for _ in range(6):
        owner, tag = start_owner(sim, database, owners)
        up = browsers(instance)
        commands = {process.comm for process in up}
        assert {"chromedriver", "chromium"} <= commands, commands
        assert all(environment(p.pid).get(TAG_VARIABLE) == tag for p in up)
        owner.kill()
        owner.wait()
        # The tether hears of its owner's death and takes the tree with it.
        assert wait_for(lambda: not tagged(instance), 10.0), tagged(instance)
    assert not processes_of(database)


def test_reap_leftovers_kills_a_dead_owners_browser_and_nothing_else(
    sim: SimServer, tmp_path: Path, owners: list[subprocess.Popen[str]]
) -> None:
    database = tmp_path / "mirror.sqlite3"
    instance = instance_tag(database)
    owner, _ = start_owner(sim, database, owners)
    # The one way around the tether: SIGKILL it before its owner.
    tether = [p for p in tagged(instance) if p.ppid == owner.pid and not p.is_browser]
    assert len(tether) == 1, tagged(instance)
    os.kill(tether[0].pid, signal.SIGKILL)
    owner.kill()
    owner.wait()
    left = browsers(instance)
    assert {"chromedriver", "chromium"} <= {p.comm for p in left}, "nothing was left to reap"
    # A live owner on the same database keeps its browser; another database's
    # leftovers are not ours.
    with PortalClient(sim.url, "agent", lambda: "komet", timeouts=FAST, instance=instance) as own:
        own.driver.get(sim.url + "Login.aspx")
        assert reap_leftovers(tmp_path / "other.sqlite3") == set()
        assert {p.pid for p in left} <= {p.pid for p in browsers(instance)}
        killed = reap_leftovers(database)
        assert {p.pid for p in left} <= killed
        assert own.browser_open and own.driver.execute_script("return 1") == 1
        ours = {p.pid for p in browsers(instance)}
        assert ours and not ours & {p.pid for p in left}
    assert wait_for(lambda: not tagged(instance), 5.0), tagged(instance)


def test_a_browser_outlives_the_thread_that_started_it(sim: SimServer, tmp_path: Path) -> None:
    with PortalClient(sim.url, "agent", lambda: "komet", timeouts=FAST) as client:
        starter = threading.Thread(target=lambda: client.driver)
        starter.start()
        starter.join()
        # The tether heard "parent thread ended" but its owner process lives on.
        result = client.export(ExportType.INVOICES, tmp_path)
        assert result.bytes > 0 and result.logins == 1


def test_the_tether_cleans_up_when_chromedriver_dies(sim: SimServer) -> None:
    with PortalClient(sim.url, "agent", lambda: "komet", timeouts=FAST) as client:
        driver = client.driver
        tether = driver.service.process
        below = [p for p in snapshot().values() if p.ppid == tether.pid and p.alive]
        chromedriver = [p for p in below if p.comm == "chromedriver"]
        assert len(chromedriver) == 1
        os.kill(chromedriver[0].pid, signal.SIGKILL)
        # Chromium and its crash handlers go too, before the tether exits.
        assert tether.wait(timeout=10) != 0
        assert not browser_tree([], client.tag)
