"""The login budget's ledger: persistent, per Europe/Rome day, capped, locked."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archid.config import Config, DatabaseConfig, PortalConfig, Secret
from archid.portal.budget import LoginBudget, default_ledger_path
from archid.portal.errors import LoginBudgetSpent, PermanentPortalError, Stage


class FakeClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def test_spending_is_capped_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    budget = LoginBudget(path, 3)
    assert [budget.spend(), budget.spend()] == [2, 1]
    again = LoginBudget(path, 3)  # a restarted daemon
    assert again.used() == 2 and again.spend() == 0
    with pytest.raises(LoginBudgetSpent) as caught:
        again.spend()
    assert isinstance(caught.value, PermanentPortalError) and caught.value.stage is Stage.LOGIN
    assert again.used() == 3, "a refused login is not counted"


def test_days_are_rome_days(tmp_path: Path) -> None:
    # 23:30 UTC on 1 March is already 2 March in Rome (UTC+1).
    clock = FakeClock(datetime(2026, 3, 1, 22, 30, tzinfo=UTC))
    budget = LoginBudget(tmp_path / "ledger.json", 1, now=clock)
    budget.spend()
    clock.moment = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert budget.today().isoformat() == "2026-03-02"
    assert budget.remaining() == 1
    budget.spend()
    days = json.loads((tmp_path / "ledger.json").read_text())["logins"]
    assert days == {"2026-03-01": 1, "2026-03-02": 1}


def test_unreadable_ledger_counts_as_spent(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    path.write_text("{not json")
    budget = LoginBudget(path, 5)
    assert budget.remaining() == 0
    with pytest.raises(LoginBudgetSpent, match="cannot be read"):
        budget.spend()
    assert path.read_text() == "{not json", "the evidence is left for the operator"


def test_concurrent_spending_never_exceeds_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    granted: list[int] = []
    refused: list[int] = []

    def spend_many() -> None:
        budget = LoginBudget(path, 20)  # one object per thread, as separate processes
        for _ in range(10):
            try:
                budget.spend()
                granted.append(1)
            except LoginBudgetSpent:
                refused.append(1)

    threads = [threading.Thread(target=spend_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 20 and len(refused) == 20
    assert LoginBudget(path, 20).used() == 20


def test_default_ledger_sits_next_to_the_database(tmp_path: Path) -> None:
    config = Config(
        portal=PortalConfig(url="http://x/Archibald/", username="u", password=Secret("p")),
        database=DatabaseConfig(path=tmp_path / "data" / "archid.sqlite3"),
    )
    assert default_ledger_path(config) == tmp_path / "data" / "login-budget.json"
    assert LoginBudget.from_config(config).limit == 10


def test_the_daemons_clock_is_handed_down_and_the_day_ends_at_midnight_in_rome(
    tmp_path: Path,
) -> None:
    config = Config(
        portal=PortalConfig(url="http://x/Archibald/", username="u", password=Secret("p")),
        database=DatabaseConfig(path=tmp_path / "archid.sqlite3"),
    )
    # 23:30 UTC on 28 March: Rome is at 00:30 on the 29th, the night its clocks
    # move to summer time, so the next midnight there is 22:00 UTC on the 29th.
    clock = FakeClock(datetime(2026, 3, 28, 23, 30, tzinfo=UTC))
    budget = LoginBudget.from_config(config, now=clock)
    assert budget.today().isoformat() == "2026-03-29"
    assert budget.next_day() == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    for _ in range(budget.limit):
        budget.spend()
    assert budget.remaining() == 0
    # The wall clock steps back an hour (NTP): still the same Rome day, still spent.
    clock.moment = datetime(2026, 3, 28, 23, 5, tzinfo=UTC)
    assert budget.remaining() == 0
    clock.moment = budget.next_day()
    assert budget.remaining() == budget.limit
    # Stepping back across midnight shows the earlier day's count again.
    clock.moment = datetime(2026, 3, 28, 23, 5, tzinfo=UTC)
    assert budget.remaining() == 0


def test_the_ledger_is_private(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    LoginBudget(path, 3).spend()
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json", "ledger.json.lock"]
