"""Fixtures for the portal client's tests: fast timeouts, and no browser left behind.

Every test here is wrapped by :func:`no_browser_left`, which counts this
test process's browser processes before and after the test (timeouts and
cancellations included) and fails the test if any is still running.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
import trio

from archid.clock import utc_now
from archid.config import Secret
from archid.portal.browser import BrowserSettings
from archid.portal.budget import LoginBudget
from archid.portal.client import Timeouts
from archid.portal.processes import TAG_VARIABLE, Process, descendants, snapshot
from archid.portal.session import AsyncPortal
from archid.sim.server import SimServer

#: small enough that a timeout test takes seconds, large enough for 2 busy cores
FAST = Timeouts(login=10, page=10, download=5, flake_pause=0.2, poll=0.05)


def _owned_by_us(pid: int) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    prefix = f"{TAG_VARIABLE}={os.getpid()}.".encode()
    return any(item.startswith(prefix) for item in environ.split(b"\0"))


def browser_processes() -> list[Process]:
    """Running (not zombie) browser processes started by this test process.

    Found both below this process and by the client's environment tag, so
    that a browser reparented to PID 1 after its driver died still counts.
    """
    table = snapshot()
    roots = {os.getpid()} | {pid for pid, p in table.items() if p.is_browser and _owned_by_us(pid)}
    return [
        table[pid]
        for pid in descendants(roots, table)
        if pid != os.getpid() and table[pid].is_browser and table[pid].alive
    ]


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` until true or ``timeout`` seconds pass (for outside effects)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture(autouse=True)
def no_browser_left(request: pytest.FixtureRequest) -> Iterator[None]:
    if "shared_client" in request.fixturenames:
        # A module-wide client: its own fixtures check instead (test_faults.py).
        yield
        return
    before = browser_processes()
    assert not before, f"browser processes before the test: {before}"
    yield
    # The kill waits for the processes itself; the poll only covers reaping lag.
    left = [] if wait_for(lambda: not browser_processes(), 3.0) else browser_processes()
    assert not left, f"browser processes left behind: {left}"


@pytest.fixture
def budget(tmp_path: Path) -> LoginBudget:
    return LoginBudget(tmp_path / "login-budget.json", 10)


@pytest.fixture
def make_portal(sim: SimServer, budget: LoginBudget) -> Iterator[Callable[..., AsyncPortal]]:
    """Build AsyncPortals against ``sim``; all are killed at the end of the test."""
    made: list[AsyncPortal] = []

    def make(
        *,
        settings: BrowserSettings | None = None,
        timeouts: Timeouts = FAST,
        idle_timeout: float = 600.0,
        now: Callable[[], datetime] = utc_now,
    ) -> AsyncPortal:
        options = sim.portal.options
        portal = AsyncPortal(
            sim.url,
            options.user,
            Secret(options.password),
            settings=settings,
            timeouts=timeouts,
            budget=budget,
            idle_timeout=idle_timeout,
            now=now,
        )
        made.append(portal)
        return portal

    yield make
    for portal in made:
        portal._kill()


@pytest.fixture
async def portal(make_portal: Callable[..., AsyncPortal]) -> AsyncIterator[AsyncPortal]:
    async with make_portal() as p:
        yield p


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` on the event loop; fail the test after ``timeout`` seconds."""
    with trio.fail_after(timeout):
        while not condition():
            await trio.sleep(0.02)


ROOT = Path(__file__).resolve().parents[2]


def write_config(folder: Path, url: str, *, password: str = "komet") -> Path:
    """A config.toml for ``archid`` against the simulator, its database in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "password").write_text(password + "\n")
    (folder / "password").chmod(0o600)
    path = folder / "config.toml"
    path.write_text(
        f'[portal]\nurl = "{url}"\nusername = "agent"\npassword_file = "password"\n'
        'verify_tls = false\n\n[database]\npath = "mirror.sqlite3"\n'
    )
    return path


@pytest.fixture
def config_file(sim: SimServer, tmp_path: Path) -> Path:
    """A configuration whose state folder (database, ledger, session) is ``tmp_path/state``."""
    return write_config(tmp_path / "state", sim.url)
