"""The portal session outlives the process: restarts reuse it, the budget counts real logins."""

from __future__ import annotations

import json
import logging
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archid.config import load_config
from archid.portal.budget import LoginBudget, default_ledger_path
from archid.portal.cookies import SessionCookies
from archid.portal.session import AsyncPortal
from archid.records import ExportType
from archid.sim.server import SimServer
from tests.portal.conftest import FAST, ROOT, write_config


def export_process(config: Path, out: Path) -> subprocess.CompletedProcess[str]:
    command = ["export", "customers", "--config", str(config), "--out", str(out)]
    return subprocess.run(
        [sys.executable, "-m", "archid", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


#: the cookies that carry the session (spec v3): the others hold a user name or 6 characters
SECRET_COOKIES = ("ASP.NET_SessionId", "Login")


def cookie_values(path: Path) -> list[str]:
    """The secret cookies' values (the user-name cookie holds only the user name)."""
    cookies = json.loads(path.read_text())["cookies"]
    return [str(c["value"]) for c in cookies if c["name"] in SECRET_COOKIES]


def test_six_export_processes_cost_one_login(
    sim: SimServer, config_file: Path, tmp_path: Path
) -> None:
    session = config_file.parent / "portal-session.json"
    outputs = []
    for round_ in range(6):
        done = export_process(config_file, tmp_path / f"out-{round_}")
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout + done.stderr)
        # Written by the first process already, private from the start.
        assert stat.S_IMODE(session.stat().st_mode) == 0o600
    assert sim.portal.logins_today() == 1
    assert [("logins=1" in text, "logins=0" in text) for text in outputs] == [(True, False)] + [
        (False, True)
    ] * 5
    ledger = default_ledger_path(load_config(config_file))
    assert LoginBudget(ledger, 10).used() == 1
    # The cookies are secrets: no process printed them.
    values = cookie_values(session)
    assert {c["name"] for c in json.loads(session.read_text())["cookies"]} >= set(SECRET_COOKIES)
    assert values and not [v for v in values for text in outputs if v in text]
    assert not list(config_file.parent.glob(".portal-session.json.*")), "temporary file left"


async def test_a_session_the_portal_dropped_costs_one_login_then_is_reused(
    sim: SimServer, config_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = load_config(config_file)

    async def lifetime() -> int:
        async with AsyncPortal.from_config(config) as portal:
            portal.timeouts = FAST
            result = await portal.export(ExportType.INVOICES, tmp_path)
            return result.logins

    assert await lifetime() == 1
    assert await lifetime() == 0
    # The saved cookies still look valid, but the portal forgot the session:
    # the next process is sent to Login.aspx, logs in once, saves the new one.
    before = cookie_values(config_file.parent / "portal-session.json")
    sim.portal.expire_sessions()
    assert await lifetime() == 1
    assert cookie_values(config_file.parent / "portal-session.json") != before
    assert await lifetime() == 0
    assert sim.portal.logins_today() == 2
    assert LoginBudget.from_config(config).used() == 2
    # Not even Selenium's DEBUG lines, which carry every command's payload.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    values = before + cookie_values(config_file.parent / "portal-session.json")
    assert len(values) == 4 and not [value for value in values if value in logged]
    assert "komet" not in logged, "nor the password typed into the form"


def saved(path: Path, portal: str = "http://sim/", user: str = "agent") -> SessionCookies:
    """A session as the portal gives it: session cookies with no expiry at all."""
    cookies = SessionCookies(path, portal=portal, user=user)
    cookies.save(
        [
            {"name": "ASP.NET_SessionId", "value": "S" * 24, "path": "/", "httpOnly": True},
            {"name": "Login", "value": "A" * 350, "path": "/", "httpOnly": True},
        ]
    )
    return cookies


def test_a_session_is_held_while_used_within_the_idle_time(tmp_path: Path) -> None:
    """Never judged by cookie names or expiry: by the last page loaded under them."""
    path = tmp_path / "portal-session.json"
    moment = [1_000_000.0]

    def clock() -> datetime:
        return datetime.fromtimestamp(moment[0], UTC)

    cookies = SessionCookies(path, portal="p", user="u", now=clock, idle=1200)
    assert not cookies.valid(), "no cookies, no session"
    cookies.save([{"name": "anything", "value": "x"}])
    moment[0] += 1199
    assert cookies.valid()
    # A restart reads the time of the last page with the cookies.
    assert SessionCookies(path, portal="p", user="u", now=clock, idle=1200).valid()
    moment[0] += 2
    assert not cookies.valid(), "idle past session_idle: the portal has ended it"
    assert not SessionCookies(path, portal="p", user="u", now=clock, idle=1200).valid()
    cookies.save([{"name": "anything", "value": "y"}])
    assert cookies.valid(), "a page loaded under the cookies starts the idle time again"
    cookies.clear()
    assert not cookies.valid()


def test_the_file_is_private_and_reused_only_by_its_portal_and_user(tmp_path: Path) -> None:
    path = tmp_path / "state" / "portal-session.json"
    cookies = saved(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "A" * 64 not in repr(cookies) and "S" * 24 not in repr(cookies)
    assert SessionCookies(path, portal="http://sim/", user="agent").valid()
    assert not SessionCookies(path, portal="http://sim/", user="someone").valid()
    assert not SessionCookies(path, portal="http://other/", user="agent").valid()
    assert not SessionCookies(path).valid(), "a session is never given to an unnamed owner"


def test_a_file_others_may_read_is_not_trusted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "portal-session.json"
    saved(path)
    path.chmod(0o644)
    assert not SessionCookies(path, portal="http://sim/", user="agent").valid()
    assert "other users may read it" in caplog.text
    # The next save puts it right.
    saved(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"format": 99}',
        '{"format": 2, "portal": "", "user": "", "used": 1, "cookies": 5}',
        '{"format": 2, "portal": "", "user": "", "used": "x", "cookies": []}',
        # spec v2's file, judged by .ASPXAUTH: not trusted, one login makes a new one
        '{"format": 1, "portal": "", "user": "", "cookies": [{"name": "a", "value": "b"}]}',
    ],
)
def test_a_damaged_file_means_no_session(tmp_path: Path, content: str) -> None:
    path = tmp_path / "portal-session.json"
    path.write_text(content)
    path.chmod(0o600)
    assert not SessionCookies(path, portal="", user="").valid()


def test_clear_removes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "portal-session.json"
    saved(path).clear()
    assert not path.exists()


async def test_a_session_file_that_cannot_be_written_costs_a_warning_not_the_export(
    sim: SimServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    config = load_config(write_config(tmp_path / "state", sim.url))
    async with AsyncPortal.from_config(config, session_path=blocker / "portal-session.json") as p:
        p.timeouts = FAST
        first = await p.export(ExportType.INVOICES, tmp_path / "out")
        second = await p.export(ExportType.INVOICES, tmp_path / "out")
    assert (first.logins, second.logins) == (1, 0), "the session is still kept in memory"
    warnings = [r for r in caplog.records if "cannot save the portal session" in r.getMessage()]
    assert len(warnings) == 1, "one warning per failing spell, not one per page"
