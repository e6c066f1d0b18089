"""The portal hold: a permanent login failure stops every login until something changes."""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archid.config import Secret, load_config
from archid.portal.budget import LoginBudget
from archid.portal.errors import (
    LoginBudgetSpent,
    PermanentPortalError,
    PortalBlocked,
    PortalUnavailable,
    Stage,
    TransientPortalError,
    WrongBrowserLanguage,
    WrongCredentials,
)
from archid.portal.hold import HOLD_FILE_NAME, PortalHold, save_hold
from archid.portal.lanes import PortalLanes
from archid.portal.password import PasswordFile
from archid.portal.session import AsyncPortal
from archid.records import ExportType
from archid.sim.portal import PortalOptions
from archid.sim.server import SimServer
from tests.portal.conftest import FAST, write_config


class Clock:
    """A wall clock the test moves; starts at the real time (the portal's cookies follow it)."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.moment


def make(
    sim: SimServer, password: PasswordFile, budget: LoginBudget, clock: Callable[[], datetime]
) -> AsyncPortal:
    return AsyncPortal(
        sim.url, sim.portal.options.user, password, timeouts=FAST, budget=budget, now=clock
    )


@pytest.fixture
def password_file(tmp_path: Path) -> PasswordFile:
    path = tmp_path / "password"
    path.write_text("wrong\n")
    path.chmod(0o600)
    return PasswordFile(path)


def test_the_markers_say_which_failures_hold() -> None:
    held = {WrongCredentials, PortalBlocked, LoginBudgetSpent}
    for cls in (*held, WrongBrowserLanguage):
        assert issubclass(cls, PermanentPortalError) and cls.transient is False
        assert cls.hold is (cls in held) and bool(cls.lifts) is (cls in held)
    assert PortalUnavailable.transient is True and issubclass(
        PortalUnavailable, TransientPortalError
    )
    assert (LoginBudgetSpent.next_day, LoginBudgetSpent.password_change) == (True, False)
    assert (WrongCredentials.next_day, WrongCredentials.password_change) == (False, True)


async def test_a_wrong_password_is_tried_once_for_six_types_then_the_fixed_file_is_read(
    sim: SimServer, password_file: PasswordFile, budget: LoginBudget, tmp_path: Path
) -> None:
    async with make(sim, password_file, budget, Clock()) as portal:
        refused = []
        for export_type in ExportType:
            with pytest.raises(WrongCredentials) as caught:
                await portal.export(export_type, tmp_path)
            refused.append(caught.value)
        assert sim.portal.login_attempts == 1 and budget.used() == 1
        assert not portal.browser_open, "a held portal starts no browser"
        hold = portal.hold
        assert hold is not None and hold.kind == "WrongCredentials" and hold.until is None
        assert "password file" in hold.describe() and "since" in hold.describe()
        assert all("portal hold" in str(error) for error in refused[1:])
        assert all(error.stage is Stage.LOGIN for error in refused)
        # The operator fixes the file: no reload, no restart, the next login reads it.
        password_file.path.write_text(sim.portal.options.password + "\n")
        assert portal.hold is None
        result = await portal.export(ExportType.CUSTOMERS, tmp_path)
    assert result.logins == 1 and sim.portal.login_attempts == 2


async def test_an_unreadable_password_file_holds_without_any_login(
    sim: SimServer, budget: LoginBudget, tmp_path: Path
) -> None:
    password = PasswordFile(tmp_path / "missing")
    async with make(sim, password, budget, Clock()) as portal:
        with pytest.raises(WrongCredentials, match="cannot read the password file"):
            await portal.export(ExportType.CUSTOMERS, tmp_path)
        assert portal.hold is not None
        # The file appears: the hold lifts and the login uses it.
        password.path.write_text(sim.portal.options.password)
        password.path.chmod(0o600)
        await portal.export(ExportType.CUSTOMERS, tmp_path)
    assert sim.portal.logins_today() == 1


async def test_an_admin_resume_lifts_the_hold(
    sim: SimServer, password_file: PasswordFile, budget: LoginBudget, tmp_path: Path
) -> None:
    async with make(sim, password_file, budget, Clock()) as portal:
        with pytest.raises(WrongCredentials):
            await portal.export(ExportType.CUSTOMERS, tmp_path)
        lifted = portal.resume()
        assert lifted is not None and lifted.kind == "WrongCredentials"
        assert portal.hold is None and portal.resume() is None
        sim.portal.options.update({"password": "wrong"})
        await portal.export(ExportType.CUSTOMERS, tmp_path)
    assert sim.portal.login_attempts == 2


async def test_a_spent_budget_holds_until_the_next_portal_day(
    sim: SimServer, tmp_path: Path
) -> None:
    clock = Clock()
    budget = LoginBudget(tmp_path / "ledger.json", 1, now=clock)
    budget.spend()  # an earlier process's login today
    password = PasswordFile(tmp_path / "password")
    password.path.write_text(sim.portal.options.password)
    password.path.chmod(0o600)
    async with make(sim, password, budget, clock) as portal:
        for _ in range(3):
            with pytest.raises(LoginBudgetSpent):
                await portal.export(ExportType.CUSTOMERS, tmp_path)
        hold = portal.hold
        assert hold is not None and hold.until == budget.next_day()
        assert "Europe/Rome" in hold.describe()
        # Touching the password file does not renew a budget.
        password.path.write_text(sim.portal.options.password)
        clock.moment = hold.until - timedelta(seconds=1)
        assert portal.hold is not None
        clock.moment = hold.until
        assert portal.hold is None
        result = await portal.export(ExportType.CUSTOMERS, tmp_path)
    assert result.logins == 1 and sim.portal.login_attempts == 1 and budget.remaining() == 0


@pytest.mark.parametrize(
    "sim_options", [PortalOptions(daily_login_cap=0, ddt_flake=0.0, loading_max=0.2)]
)
async def test_a_blocked_client_stops_logging_in(
    sim: SimServer, password_file: PasswordFile, budget: LoginBudget, tmp_path: Path
) -> None:
    password_file.path.write_text(sim.portal.options.password)
    clock = Clock()
    async with make(sim, password_file, budget, clock) as portal:
        for export_type in ExportType:
            with pytest.raises(PortalBlocked):
                await portal.export(export_type, tmp_path)
        assert sim.portal.login_attempts == 1
        hold = portal.hold
        assert hold is not None and hold.until == budget.next_day()
        clock.moment = hold.until + timedelta(minutes=1)
        assert portal.hold is None


async def test_a_hold_outlives_a_restart_until_the_file_is_fixed(
    sim: SimServer, tmp_path: Path
) -> None:
    config = load_config(write_config(tmp_path / "state", sim.url, password="wrong"))
    hold_file = tmp_path / "state" / HOLD_FILE_NAME
    async with AsyncPortal.from_config(config) as portal:
        portal.timeouts = FAST
        with pytest.raises(WrongCredentials):
            await portal.export(ExportType.CUSTOMERS, tmp_path)
    assert stat.S_IMODE(hold_file.stat().st_mode) == 0o600
    # A crash loop: every new process starts on hold and tries no login.
    for _ in range(3):
        async with AsyncPortal.from_config(config) as portal:
            assert portal.hold is not None and portal.hold.kind == "WrongCredentials"
            with pytest.raises(WrongCredentials, match="portal hold"):
                await portal.export(ExportType.CUSTOMERS, tmp_path)
    assert sim.portal.login_attempts == 1
    (tmp_path / "state" / "password").write_text(sim.portal.options.password + "\n")
    async with AsyncPortal.from_config(config) as portal:
        portal.timeouts = FAST
        # Looking says it is over; the export lifts it, file and all, first.
        assert portal.hold is None and hold_file.exists()
        result = await portal.export(ExportType.CUSTOMERS, tmp_path)
        assert not hold_file.exists()
    assert result.logins == 1 and sim.portal.login_attempts == 2


URL = "http://127.0.0.1/Archibald/"
OWNER = {"portal": URL, "user": "agent"}


def held_portal(
    tmp_path: Path, error: PermanentPortalError, clock: Clock, password: PasswordFile | None = None
) -> tuple[AsyncPortal, Path]:
    """A portal that starts on the hold a previous process saved for ``error``."""
    hold_file = tmp_path / HOLD_FILE_NAME
    mark = None if password is None else password.fingerprint()
    until = clock.moment + timedelta(hours=1) if error.next_day else None
    save_hold(hold_file, PortalHold(error, clock.moment, until, mark), OWNER)
    secret = password if password is not None else Secret("x")
    return AsyncPortal(URL, "agent", secret, now=clock, hold_path=hold_file), hold_file


def test_looking_at_a_hold_past_its_day_changes_nothing_until_it_is_lifted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    portal, hold_file = held_portal(tmp_path, LoginBudgetSpent("no logins", Stage.LOGIN), clock)
    saved = hold_file.read_text()
    held = portal.hold
    assert held is not None and held.until is not None
    assert portal.lift_expired() is None  # still in force: nothing to lift
    clock.moment = held.until
    caplog.clear()  # the hold's line at the start, carried over
    with caplog.at_level(logging.WARNING, logger="archid.portal"):
        for _ in range(3):
            assert portal.hold is None
        assert hold_file.read_text() == saved, "looking must not touch the hold file"
        assert not any("lifted" in r.getMessage() for r in caplog.records)
        lifted = portal.lift_expired()
    assert lifted is not None and lifted.kind == "LoginBudgetSpent"
    assert not hold_file.exists()
    assert [r.getMessage() for r in caplog.records] == [
        "portal hold lifted (a new portal day began): logins allowed again"
    ]
    assert portal.lift_expired() is None and portal.hold is None


def test_a_changed_password_file_ends_the_hold_for_readers_and_lift_expired_removes_it(
    tmp_path: Path, password_file: PasswordFile
) -> None:
    clock = Clock()
    error = WrongCredentials("wrong password", Stage.LOGIN)
    portal, hold_file = held_portal(tmp_path, error, clock, password_file)
    assert portal.hold is not None
    password_file.path.write_text("right, at last\n")
    assert portal.hold is None and hold_file.exists()
    # A reader in another process (a restart) still finds it, until it is lifted.
    again = AsyncPortal(URL, "agent", password_file, now=clock, hold_path=hold_file)
    assert again.hold is None and hold_file.exists()
    lifted = portal.lift_expired()
    assert lifted is not None and lifted.kind == "WrongCredentials"
    assert not hold_file.exists()


def test_the_lanes_only_look_and_lift_an_expired_hold_on_either_session(tmp_path: Path) -> None:
    clock = Clock()
    batch, hold_file = held_portal(tmp_path, LoginBudgetSpent("no logins", Stage.LOGIN), clock)
    lanes = PortalLanes(batch, AsyncPortal(URL, "agent", Secret("x"), now=clock))
    held = lanes.hold
    assert held is not None and held.until is not None and lanes.lift_expired() is None
    clock.moment = held.until
    assert lanes.hold is None and hold_file.exists()
    lifted = lanes.lift_expired()
    assert lifted is not None and lifted.kind == "LoginBudgetSpent"
    assert not hold_file.exists() and lanes.lift_expired() is None
