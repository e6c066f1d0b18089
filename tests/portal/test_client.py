"""The portal client in real headless Chromium against ``archid sim`` (spec v3).

Each test is one scenario of the issues; the autouse fixture in
``conftest.py`` checks that no browser process outlives any of them. An
export is judged by what a correct parser reads from it: every record of
the simulator's truth, every field read.
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

from archid.exports import SPECS, WrongLocale
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
from archid.sim.portal import PortalOptions
from archid.sim.server import SimServer
from tests.pdftext import read_pages
from tests.portal.conftest import browser_processes, wait_until
from tests.portal.helpers import NARROW, api, assert_complete, parsed
from tests.sim.helpers import FILE_NAMES

pytestmark = pytest.mark.browser

STAGES = {"login", "page_load", "menu", "download"}


def saved_filters(sim: SimServer) -> dict[str, Any]:
    user = api(sim, "GET", "state")["users"]["agent"]
    lists = {t: state["filter"] for t, state in user["lists"].items() if state["filter"]}
    return {**lists, "products": user["products_grid_filter"]}


async def test_all_six_types_complete_with_one_login(
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
        assert set(result.seconds) == STAGES and all(s >= 0 for s in result.seconds.values())
        # The fresh session hid columns archid reads, and the new user's
        # profile holds narrow filters: neither shows in what was exported.
        assert_complete(sim, export_type, result.path)
    # The session is reused: only the first export logs in, counted once everywhere.
    assert logins == [1, 0, 0, 0, 0, 0]
    # Stages are reported on the event loop as the export enters them.
    assert stages[0] == ["login", "page_load", "menu", "download"]
    assert all(later == ["page_load", "menu", "download"] for later in stages[1:])
    assert portal.logins == 1 and budget.used() == 1 and sim.portal.logins_today() == 1
    # One click each: the portal rendered each list once.
    assert api(sim, "GET", "state")["exports_served"] == {t.value: 1 for t in ExportType}


@pytest.mark.parametrize("prefix", ["a0", "a1", "a2"])
async def test_the_agents_narrow_filters_give_complete_tables_and_are_put_back(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path, prefix: str
) -> None:
    api(sim, "POST", "options", {"filter_prefix": prefix})
    api(sim, "POST", "saved-filters", NARROW)
    for export_type in (ExportType.DDT, ExportType.PRODUCTS, ExportType.CUSTOMERS):
        result = await portal.export(export_type, tmp_path)
        assert_complete(sim, export_type, result.path)
    state = saved_filters(sim)
    # The agent's choices are theirs again; products' grid filter cannot be
    # read through the grid's client API, so it stays cleared.
    assert state == {**NARROW, "orders": state["orders"], "invoices": state["invoices"]} | {
        "products": False
    }
    user = api(sim, "GET", "state")["users"]["agent"]
    assert user["lists"]["ddt"]["filter_value"] == f"xaf_xaf_{prefix}ListViewPackingSlipsToday"


async def test_every_list_with_narrow_filters_and_the_a0_prefix(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path
) -> None:
    api(sim, "POST", "options", {"filter_prefix": "a0"})
    api(sim, "POST", "saved-filters", NARROW)
    for export_type in ExportType:
        result = await portal.export(export_type, tmp_path)
        assert_complete(sim, export_type, result.path)
    assert saved_filters(sim) == {**NARROW, "products": False}
    assert portal.logins == 1


async def test_a_saved_page_index_is_no_matter_and_is_put_back(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path
) -> None:
    # The grids open on the second page the agent left them at; the agent's
    # customers filter lets half the customers through, archid's all of them.
    api(
        sim,
        "POST",
        "saved-filters",
        {"customers": "Free_customers", "orders": "ListViewSalesTableOrdersAll"},
    )
    state = sim.portal.user_state(sim.portal.options.user)
    with sim.portal.lock:
        for export_type in (ExportType.CUSTOMERS, ExportType.ORDERS):
            state.lists[export_type].page_index = 1
            state.lists[export_type].page_size = 10
    for export_type in (ExportType.CUSTOMERS, ExportType.ORDERS):
        result = await portal.export(export_type, tmp_path)
        assert_complete(sim, export_type, result.path)
    lists = api(sim, "GET", "state")["users"]["agent"]["lists"]
    for name in ("customers", "orders"):
        assert (lists[name]["page_index"], lists[name]["page_size"]) == (1, 10), name
    assert lists["customers"]["filter"] == "Free_customers"


async def test_ddt_and_invoices_empty_first_load_is_refreshed_with_real_clicks(
    sim: SimServer, make_portal: Callable[..., AsyncPortal], tmp_path: Path
) -> None:
    # Already on "All": only a click on another item and back refills the cells.
    api(sim, "POST", "saved-filters", {"ddt": "ListViewPackingSlipsAll"})
    async with make_portal() as portal:
        await portal.export(ExportType.INVOICES, tmp_path)
        client = portal._client
        assert client is not None

        def open_ddt() -> bool:
            client._open_list(ExportType.DDT)
            return bool(client._page().wait_idle(filled=True, filled_timeout=0.0))

        assert await trio.to_thread.run_sync(open_ddt), "the grid's cells are filled"
        result = await portal.export(ExportType.DDT, tmp_path)
    assert_complete(sim, ExportType.DDT, result.path)
    assert saved_filters(sim)["ddt"] == "ListViewPackingSlipsAll"


async def test_the_agents_filter_is_put_back_whatever_the_combos_object_is_named(
    sim: SimServer, make_portal: Callable[..., AsyncPortal], tmp_path: Path
) -> None:
    """The spec names the combo's GetValue and SetValue, not where its object lives."""
    api(sim, "POST", "saved-filters", {"invoices": "open_invoices"})
    async with make_portal() as portal:
        await portal.export(ExportType.CUSTOMERS, tmp_path)
        client = portal._client
        assert client is not None

        def export_with_the_object_renamed() -> None:
            choice = client._open_list(ExportType.INVOICES)
            assert choice is not None and choice.value.endswith("open_invoices")
            client._page().js(
                "for (const el of document.querySelectorAll('[id$=\"_Cb\"]')) {"
                " if (window[el.id]) { window['renamed_' + el.id.length] = window[el.id];"
                " delete window[el.id]; } }"
            )
            # The text the combo showed is forgotten: the fallback, SetValue, is what runs.
            client._put_back(dataclasses.replace(choice, text=""))

        await trio.to_thread.run_sync(export_with_the_object_renamed)
    assert saved_filters(sim)["invoices"] == "open_invoices"


async def test_the_agents_orders_filter_is_put_back_without_a_page_load(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SetValue may reload the whole orders page (spec v3), seconds at the portal's
    speed: the agent's item is clicked back instead, found by the text it showed."""
    api(sim, "POST", "saved-filters", {"orders": "ListViewSalesTableOrdersThisMonth"})
    pages: list[float] = []
    page = sim.portal.timing.page

    def counted() -> float:
        pages.append(page())
        return pages[-1]

    monkeypatch.setattr(sim.portal.timing, "page", counted)
    result = await portal.export(ExportType.ORDERS, tmp_path)
    assert_complete(sim, ExportType.ORDERS, result.path)
    assert saved_filters(sim)["orders"] == "ListViewSalesTableOrdersThisMonth"
    assert len(pages) == 1, "the list page was loaded once"


async def test_a_session_ended_between_two_exports_costs_one_login(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path
) -> None:
    await portal.export(ExportType.CUSTOMERS, tmp_path)
    sim.portal.expire_sessions()
    result = await portal.export(ExportType.CUSTOMERS, tmp_path)
    assert result.logins == 1 and portal.logins == 2
    assert_complete(sim, ExportType.CUSTOMERS, result.path)


async def test_an_export_answered_with_the_login_page_logs_in_once_and_goes_on(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path
) -> None:
    await portal.export(ExportType.INVOICES, tmp_path)
    sim.portal.faults.arm({"kind": "login_redirect", "type": "customers"})
    started = trio.current_time()
    result = await portal.export(ExportType.CUSTOMERS, tmp_path)
    assert result.logins == 1
    assert_complete(sim, ExportType.CUSTOMERS, result.path)
    assert trio.current_time() - started < 30


async def test_an_interrupted_download_is_exported_again_at_once(
    sim: SimServer, make_portal: Callable[..., AsyncPortal], tmp_path: Path
) -> None:
    # A download limit far above the test's: the retry does not wait for it.
    from tests.portal.conftest import FAST

    slow_limit = FAST.__class__(**{**FAST.__dict__, "download": 600.0})
    async with make_portal(timeouts=slow_limit) as portal:
        await portal.export(ExportType.INVOICES, tmp_path)
        sim.portal.faults.arm({"kind": "cut_body", "type": "ddt", "keep": 0.3})
        started = trio.current_time()
        result = await portal.export(ExportType.DDT, tmp_path)
        took = trio.current_time() - started
    assert_complete(sim, ExportType.DDT, result.path)
    assert result.logins == 0 and took < 30
    assert api(sim, "GET", "state")["exports_served"]["ddt"] == 1


@pytest.mark.parametrize(
    "sim_options",
    [PortalOptions(english_ui=True, doubled_menu_text=True, loading_min=0.05, loading_max=0.2)],
)
async def test_the_english_ui_in_a_narrow_window_ends_in_a_refused_export(
    sim: SimServer, make_portal: Callable[..., AsyncPortal], tmp_path: Path
) -> None:
    """An agent profile in English: "Log In", "Export to" (doubled), English filter items.

    The client works through it; the export is English, and the parser
    refuses it rather than read month-first dates.
    """
    api(sim, "POST", "saved-filters", NARROW)
    # A narrow window pushes the export item and the filters into the overflow.
    settings = BrowserSettings(window_width=1000, language="en-US")
    async with make_portal(settings=settings) as portal:
        portal.require_italian = False
        for export_type in (ExportType.ORDERS, ExportType.PRICES):
            result = await portal.export(export_type, tmp_path)
            assert result.path.name in SPECS[export_type].english_file_names
            with pytest.raises(WrongLocale):
                parsed(result.path, export_type)
    assert saved_filters(sim)["orders"] == NARROW["orders"]
    assert saved_filters(sim)["prices"] == NARROW["prices"]


@pytest.mark.parametrize(
    "sim_options", [PortalOptions(menu_shift=2, orders_copy_item=False, ddt_flake=0.0)]
)
async def test_menu_positions_are_not_relied_on(
    sim: SimServer, portal: AsyncPortal, tmp_path: Path
) -> None:
    result = await portal.export(ExportType.ORDERS, tmp_path)
    assert_complete(sim, ExportType.ORDERS, result.path)


def printed_count(path: Path) -> int:
    """The ``Count=`` figure of an export's summary row."""
    for page in reversed(read_pages(path)):
        for run in page.runs:
            if run.text.startswith("Count="):
                return int(run.text.removeprefix("Count=").replace(".", ""))
    raise AssertionError(f"{path.name} has no Count= cell")


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
    # A broken file is exported again at once, twice at most.
    sim.portal.faults.arm({"kind": "truncated_pdf", "times": 2})
    again = await portal.export(ExportType.CUSTOMERS, tmp_path / "again")
    assert again.bytes == full.bytes
    sim.portal.faults.arm({"kind": "truncated_pdf", "times": 3})
    with pytest.raises(InvalidDownload):
        await portal.export(ExportType.CUSTOMERS, tmp_path / "truncated")
    # The browser in an unknown state was replaced; the session was not.
    # Valid PDFs with fewer rows are returned: the client cannot tell them
    # from a real change; the parser/store guard judges them.
    everyone = printed_count(full.path)
    assert everyone == sim.portal.dataset.count(ExportType.CUSTOMERS)
    assert_complete(sim, ExportType.CUSTOMERS, full.path)
    for kind, rows in (("shrunken_export", len(range(0, everyone, 10))), ("empty_export", 0)):
        sim.portal.faults.arm({"kind": kind, "type": "customers"})
        small = await portal.export(ExportType.CUSTOMERS, tmp_path / kind)
        assert small.path.read_bytes().startswith(b"%PDF-")
        assert 0 < small.bytes < full.bytes, kind
        assert printed_count(small.path) == rows, kind
    assert portal.logins == 1
