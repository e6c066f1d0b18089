"""The portal client in real headless Chromium against ``archid sim``.

Each test is one scenario of the issue; the autouse fixture in
``conftest.py`` checks that no browser process outlives any of them.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from archid.portal.browser import BrowserSettings
from archid.portal.budget import LoginBudget
from archid.portal.errors import (
    InvalidDownload,
    LoginBudgetSpent,
    PortalBlocked,
    Stage,
    WrongBrowserLanguage,
    WrongCredentials,
)
from archid.portal.session import AsyncPortal
from archid.records import ExportType
from archid.sim.cache import Selection
from archid.sim.portal import ExportTicket, PortalOptions, Session
from archid.sim.server import SimServer
from tests.pdftext import read_pages
from tests.portal.conftest import browser_processes, wait_until
from tests.sim.test_server import FILE_NAMES

pytestmark = pytest.mark.browser

STAGES = {"login", "page_load", "menu", "download"}


def full_export(sim: SimServer, export_type: ExportType, **view: Any) -> Path:
    """The file the portal writes for ``export_type`` seen through the full (or given) view."""
    portal = sim.portal
    with portal.lock:
        records = list(portal.dataset.records(export_type))
        fingerprint = portal.dataset.fingerprint
    chosen = dataclasses.replace(portal.export_view(), **view)
    return sim.cache.get(export_type, fingerprint, records, chosen, Selection())


async def test_all_six_types_with_one_login(
    sim: SimServer, portal: AsyncPortal, budget: LoginBudget, tmp_path: Path
) -> None:
    logins = []
    stages: list[list[str]] = []
    for export_type in ExportType:
        seen: list[str] = []
        result = await portal.export(export_type, tmp_path, seen.append)
        await trio.testing.wait_all_tasks_blocked()
        stages.append(seen)
        logins.append(result.logins)
        assert result.type is export_type
        assert result.path == tmp_path / FILE_NAMES[export_type]
        data = result.path.read_bytes()
        assert result.bytes == len(data) > 0
        assert data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]
        assert set(result.seconds) == STAGES and all(s >= 0 for s in result.seconds.values())
    # The session is reused: only the first export logs in, counted once everywhere.
    assert logins == [1, 0, 0, 0, 0, 0]
    # Stages are reported on the event loop as the export enters them.
    assert stages[0] == ["login", "page_load", "menu", "download"]
    assert all(later == ["page_load", "menu", "download"] for later in stages[1:])
    assert portal.logins == 1 and budget.used() == 1 and sim.portal.logins_today() == 1


async def test_saved_list_state_is_undone_before_export(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path
) -> None:
    # The ERP profile starts with a saved products filter and "open orders only".
    products = await portal.export(ExportType.PRODUCTS, tmp_path)
    orders = await portal.export(ExportType.ORDERS, tmp_path)
    assert sim.portal.state_json()["users"]["agent"] == {
        "orders_all": True,
        "products_filter": False,
    }
    # The full export (same size: only the creation date differs), not the
    # shrunken one that the saved profile would give.
    full = full_export(sim, ExportType.PRODUCTS)
    shrunken = full_export(
        sim, ExportType.PRODUCTS, products_filter=True, products_all_columns=False
    )
    assert products.bytes == full.stat().st_size > 2 * shrunken.stat().st_size
    open_only = full_export(sim, ExportType.ORDERS, orders_all=False)
    assert orders.bytes == full_export(sim, ExportType.ORDERS).stat().st_size
    assert orders.bytes > open_only.stat().st_size


def printed_count(path: Path) -> int:
    """The ``Count=`` figure of an export's summary row."""
    for page in reversed(read_pages(path)):
        for run in page.runs:
            if run.text.startswith("Count="):
                return int(run.text.removeprefix("Count=").replace(".", ""))
    raise AssertionError(f"{path.name} has no Count= cell")


async def test_column_chooser_shows_what_archid_needs_before_each_export(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path
) -> None:
    # A fresh session hides invoices' ID VENDITE and 18 product columns.
    invoices = await portal.export(ExportType.INVOICES, tmp_path)
    products = await portal.export(ExportType.PRODUCTS, tmp_path)
    (session,) = sim.portal.sessions.values()
    assert session.invoices_order_column and session.products_all_columns
    # What was downloaded is the export with every column, not the fresh session's.
    shown = full_export(sim, ExportType.INVOICES)
    hidden = full_export(sim, ExportType.INVOICES, invoices_order_column=False)
    assert invoices.bytes == shown.stat().st_size != hidden.stat().st_size
    headers = {cell for page in read_pages(invoices.path) for cell in page.header_cells()}
    assert "ID VENDITE" in headers
    pages = read_pages(products.path)
    cycle = next(
        k for k, page in enumerate(pages[1:], 1) if page.header_cells() == pages[0].header_cells()
    )
    assert cycle == 9
    # The choice lasts for the session: the next export needs no chooser.
    again = await portal.export(ExportType.INVOICES, tmp_path / "again")
    assert again.bytes == invoices.bytes and portal.logins == 1


@pytest.mark.parametrize("sim_options", [PortalOptions(layout="2026-01", ddt_flake=0.0)])
async def test_january_layout_needs_no_product_chooser(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path
) -> None:
    products = await portal.export(ExportType.PRODUCTS, tmp_path)
    pages = read_pages(products.path)
    first = pages[0].header_cells()
    assert next(k for k, page in enumerate(pages[1:], 1) if page.header_cells() == first) == 8
    (session,) = sim.portal.sessions.values()
    assert not session.products_all_columns  # nothing was hidden, nothing was chosen


async def test_session_expired_mid_export_logs_in_once_and_continues(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await portal.export(ExportType.CUSTOMERS, tmp_path)
    begin = sim.portal.begin_export
    expired: list[int] = []

    def begin_then_expire(
        session: Session, export_type: ExportType, language: str
    ) -> ExportTicket | str:
        ticket = begin(session, export_type, language)
        if not expired:
            # The export callback succeeded; the session dies before the download.
            expired.append(sim.portal.expire_sessions())
        return ticket

    monkeypatch.setattr(sim.portal, "begin_export", begin_then_expire)
    result = await portal.export(ExportType.CUSTOMERS, tmp_path)
    assert expired == [1]
    assert result.logins == 1
    assert result.bytes == full_export(sim, ExportType.CUSTOMERS).stat().st_size


async def test_wrong_password_is_permanent_and_counted(
    sim: SimServer, make_portal: Callable[..., AsyncPortal], budget: LoginBudget, tmp_path: Path
) -> None:
    async with make_portal() as portal:
        sim.portal.options.update({"password": "changed"})
        with pytest.raises(WrongCredentials) as caught:
            await portal.export(ExportType.CUSTOMERS, tmp_path)
    assert caught.value.stage is Stage.LOGIN
    assert budget.used() == 1 and sim.portal.login_attempts == 1


async def test_spent_budget_refuses_before_starting_a_browser(
    sim: SimServer, portal: AsyncPortal, budget: LoginBudget, tmp_path: Path
) -> None:
    for _ in range(budget.limit):
        budget.spend()
    with pytest.raises(LoginBudgetSpent) as caught:
        await portal.export(ExportType.CUSTOMERS, tmp_path)
    assert caught.value.stage is Stage.LOGIN
    assert not portal.browser_open and sim.portal.login_attempts == 0


async def test_budget_runs_out_across_expiries(
    sim: SimServer, make_portal: Callable[..., AsyncPortal], tmp_path: Path
) -> None:
    small = LoginBudget(tmp_path / "small.json", 2)
    async with make_portal() as portal:
        portal.budget = small
        await portal.export(ExportType.INVOICES, tmp_path)
        sim.portal.expire_sessions()
        await portal.export(ExportType.INVOICES, tmp_path)
        sim.portal.expire_sessions()
        with pytest.raises(LoginBudgetSpent):
            await portal.export(ExportType.INVOICES, tmp_path)
    assert sim.portal.logins_today() == 2
    # The count survives a restart: a new budget object reads the same ledger.
    assert LoginBudget(tmp_path / "small.json", 2).remaining() == 0


@pytest.mark.parametrize(
    "sim_options", [PortalOptions(daily_login_cap=0, ddt_flake=0.0, loading_max=0.2)]
)
async def test_blocked_portal_is_permanent(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path
) -> None:
    with pytest.raises(PortalBlocked) as caught:
        await portal.export(ExportType.ORDERS, tmp_path)
    assert caught.value.stage is Stage.LOGIN
    assert sim.portal.is_blocked()
    # Blocked for the rest of the day: even the login page says so.
    with pytest.raises(PortalBlocked):
        await portal.export(ExportType.ORDERS, tmp_path)


@pytest.mark.parametrize(
    "sim_options", [PortalOptions(ddt_flake=1.0, loading_min=0.05, loading_max=0.2)]
)
async def test_ddt_flake_is_clicked_through_once(portal: AsyncPortal, tmp_path: Path) -> None:
    result = await portal.export(ExportType.DDT, tmp_path)
    assert result.flake_retries == 1
    assert result.path.name == FILE_NAMES[ExportType.DDT]


async def test_english_browser_is_refused_before_login(
    sim: SimServer, make_portal: Callable[..., AsyncPortal], tmp_path: Path
) -> None:
    async with make_portal(settings=BrowserSettings(language="en-US")) as portal:
        with pytest.raises(WrongBrowserLanguage) as caught:
            await portal.export(ExportType.ORDERS, tmp_path / "out")
    assert caught.value.stage is Stage.BROWSER
    assert sim.portal.login_attempts == 0 and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "sim_options",
    [PortalOptions(english_ui=True, doubled_menu_text=True, loading_min=0.05, loading_max=0.2)],
)
async def test_doubled_english_menu_in_overflow(
    make_portal: Callable[..., AsyncPortal], tmp_path: Path
) -> None:
    # A narrow window pushes the orders' export item (7th) into "…".
    async with make_portal(settings=BrowserSettings(window_width=1000)) as portal:
        result = await portal.export(ExportType.ORDERS, tmp_path)
    assert result.path.name == FILE_NAMES[ExportType.ORDERS]


async def test_idle_browser_is_closed_and_restarted_without_login(
    make_portal: Callable[..., AsyncPortal], tmp_path: Path
) -> None:
    portal = make_portal(idle_timeout=0.5)
    async with trio.open_nursery() as nursery:
        await nursery.start(portal.run)
        await portal.export(ExportType.INVOICES, tmp_path)
        assert portal.browser_open and browser_processes()
        await wait_until(lambda: not portal.browser_open)
        assert not browser_processes()
        result = await portal.export(ExportType.INVOICES, tmp_path)
        assert result.logins == 0 and portal.browser_open
        nursery.cancel_scope.cancel()
    # Cancelling the idle task (shutdown) takes the browser with it.
    assert not browser_processes()


async def test_crashed_browser_is_replaced_without_login(
    portal: AsyncPortal, tmp_path: Path
) -> None:
    await portal.export(ExportType.INVOICES, tmp_path)
    main = [p for p in browser_processes() if p.comm == "chromium" and p.ppid != 1]
    chromium = [p for p in main if p.ppid not in {q.pid for q in main}]
    assert len(chromium) == 1
    os.kill(chromium[0].pid, signal.SIGKILL)
    result = await portal.export(ExportType.INVOICES, tmp_path)
    assert result.logins == 0 and portal.logins == 1
    assert chromium[0].pid not in {p.pid for p in browser_processes()}


async def test_cancel_mid_download_kills_the_browser_promptly(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path
) -> None:
    await portal.export(ExportType.INVOICES, tmp_path)
    sim.portal.faults.arm({"kind": "slow_download", "type": "customers", "rate": 1000})
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(portal.export, ExportType.CUSTOMERS, tmp_path / "cancelled")
            # The slow fault is used up once the download has started streaming.
            await wait_until(lambda: not sim.portal.faults.as_json())
            cancelled_at = trio.current_time()
            scope.cancel()
    assert trio.current_time() - cancelled_at < 1.5
    assert not browser_processes() and not portal.browser_open
    assert not (tmp_path / "cancelled").exists()
    # The next export starts a new browser on the same session.
    result = await portal.export(ExportType.CUSTOMERS, tmp_path)
    assert result.logins == 0


async def test_timeout_on_a_hung_page_kills_the_browser(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path
) -> None:
    sim.portal.faults.arm({"kind": "hang", "path": "CUSTINVOICEJOUR"})
    started = trio.current_time()
    with trio.move_on_after(2.0) as scope:
        await portal.export(ExportType.INVOICES, tmp_path)
    assert scope.cancelled_caught
    assert trio.current_time() - started < 3.0
    assert not browser_processes()


async def test_transient_failures_and_smaller_exports_on_one_session(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path
) -> None:
    full = await portal.export(ExportType.CUSTOMERS, tmp_path / "full")
    sim.portal.faults.arm({"kind": "truncated_pdf"})
    with pytest.raises(InvalidDownload):
        await portal.export(ExportType.CUSTOMERS, tmp_path / "truncated")
    # The browser in an unknown state was replaced; the session was not.
    # Valid PDFs with fewer rows are returned: the client cannot tell them
    # from a real change; the parser/store guard judges them.
    everyone = printed_count(full.path)
    assert everyone == sim.portal.dataset.count(ExportType.CUSTOMERS)
    for kind, rows in (("shrunken_export", len(range(0, everyone, 10))), ("empty_export", 0)):
        sim.portal.faults.arm({"kind": kind, "type": "customers"})
        small = await portal.export(ExportType.CUSTOMERS, tmp_path / kind)
        assert small.path.read_bytes().startswith(b"%PDF-")
        assert 0 < small.bytes < full.bytes, kind
        assert printed_count(small.path) == rows, kind
    assert portal.logins == 1
