"""The grid reads of the portal client in real headless Chromium against ``archid sim``.

The list survey before an export (``PortalClient.export(..., skip=...)``)
and the newest customers from the grid (``PortalClient.recent_customers``).
Each is judged against the simulator's own truth, and by what the agent's
profile holds before and after (``/_sim/state``): the filter, sort, page
index and page size the read changed must be theirs again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from archid.portal.client import ExportResult, PortalClient, Timeouts
from archid.portal.columns import Columns
from archid.portal.errors import Stage
from archid.portal.grid import RECENT_PAGE_SIZE, ListSurvey, RecentRows, Unchanged
from archid.records import Customer, ExportType, from_json, record_key, to_json
from archid.sim import filters
from archid.sim.columns import grid_columns
from archid.sim.portal import PORTAL_ZONE, PortalOptions
from archid.sim.server import SimServer
from tests.bench.profiles import Waits
from tests.conftest import quick_options
from tests.portal.conftest import FAST
from tests.portal.helpers import NARROW, api, assert_complete

pytestmark = pytest.mark.browser

#: the lists with a modification time, in the spec's order
SURVEYED = (
    ExportType.PRODUCTS,
    ExportType.PRICES,
    ExportType.ORDERS,
    ExportType.DDT,
    ExportType.INVOICES,
)


@pytest.fixture
def make_client(sim: SimServer) -> Iterator[Callable[..., PortalClient]]:
    """Blocking clients against ``sim``; every one is closed at the end of the test."""
    made: list[PortalClient] = []

    def make(timeouts: Timeouts = FAST) -> PortalClient:
        options = sim.portal.options
        client = PortalClient(sim.url, options.user, lambda: options.password, timeouts=timeouts)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., PortalClient]) -> PortalClient:
    return make_client()


def lists(sim: SimServer) -> dict[str, Any]:
    """The agent's saved list states: filter, page index, page size, sort."""
    sim.portal.user_state(sim.portal.options.user)  # a new user's, before the first login
    saved: dict[str, Any] = api(sim, "GET", "state")["users"]["agent"]["lists"]
    return saved


def exports_asked(sim: SimServer) -> dict[str, int]:
    counts: dict[str, int] = api(sim, "GET", "state")["exports_started"]
    return counts


def truth_newest(sim: SimServer, t: ExportType) -> datetime:
    """The newest MODIFIEDDATETIME under the export's filter, as aware UTC."""
    portal = sim.portal
    with portal.lock:
        records = filters.select(t, portal.dataset.records(t), None)
        stamps = portal.dataset.stamps(t)
        column = next(
            c for c in grid_columns(t, portal.options.layout) if c.field_name == "MODIFIEDDATETIME"
        )
        moments = [column.spec.value(r, stamps) for r in records]
    newest: datetime = max(m for m in moments if m is not None)
    return newest.replace(tzinfo=PORTAL_ZONE).astimezone(UTC)


def truth_count(sim: SimServer, t: ExportType) -> int:
    with sim.portal.lock:
        return sim.portal.dataset.count(t)


def oldest_key(sim: SimServer, t: ExportType) -> str:
    """The key of the record modified longest ago (far from the grid's first page)."""
    portal = sim.portal
    with portal.lock:
        records = portal.dataset.records(t)
        stamps = portal.dataset.stamps(t)
        column = next(
            c for c in grid_columns(t, portal.options.layout) if c.field_name == "MODIFIEDDATETIME"
        )
        dated = [(column.spec.value(r, stamps), record_key(r)) for r in records]
    return min((m, k) for m, k in dated if m is not None)[1]


def edit_of(t: ExportType) -> dict[str, Any]:
    """A harmless change of a record of ``t`` through the test API."""
    edits: dict[ExportType, dict[str, Any]] = {
        ExportType.PRODUCTS: {"description": "Fresa (rivista)"},
        ExportType.PRICES: {"unit_price": "12.34"},
        ExportType.ORDERS: {"customer_reference": "Rif. 999/26"},
        ExportType.DDT: {"quantity": 77},
        ExportType.INVOICES: {"due_date": "2026-04-30"},
    }
    return edits[t]


def grid_columns_shown(sim: SimServer, t: ExportType) -> frozenset[str]:
    """The column keys the (single) session's grid of ``t`` shows."""
    portal = sim.portal
    with portal.lock:
        (session,) = portal.sessions.values()
        return portal.visible(session, t)


#: the agent's filters on the items that let everything through
EVERYTHING = {
    "orders": "ListViewSalesTableOrdersAll",
    "ddt": "ListViewPackingSlipsAll",
    "invoices": "All_invoices",
    "prices": "ActivePrices",
    "products": False,
}


def more_invoices(sim: SimServer, n: int) -> None:
    """``n`` more invoices (the tests' portal has 5: one page of 10)."""
    with sim.portal.lock:
        template = sim.portal.dataset.records(ExportType.INVOICES)[0]
    for i in range(n):
        data = {**to_json(template), "invoice_number": f"CF1/26{990000 + i}"}
        api(sim, "POST", "records/invoices", data)


def customer_ids_newest_first(sim: SimServer) -> list[int]:
    with sim.portal.lock:
        records = sim.portal.dataset.records(ExportType.CUSTOMERS)
        return sorted((int(c.key) for c in records), reverse=True)


def skip_always(survey: ListSurvey) -> bool:
    return True


def skip_if_known(survey: ListSurvey) -> bool:
    """The daemon's rule, roughly: a figure that could not be read is in doubt: export."""
    return survey.newest_modified is not None and survey.row_count is not None


# -- the list survey ---------------------------------------------------------------------


@pytest.mark.parametrize("agent", ["narrow filter", "second page"])
@pytest.mark.parametrize("export_type", SURVEYED)
def test_an_unchanged_list_is_surveyed_skipped_and_left_as_the_agent_had_it(
    sim: SimServer, client: PortalClient, tmp_path: Path, export_type: ExportType, agent: str
) -> None:
    if agent == "narrow filter":
        api(sim, "POST", "saved-filters", NARROW)
    else:
        # Everything, on the second page of 10 (a narrow filter's rows fit on one).
        api(sim, "POST", "saved-filters", EVERYTHING)
        if export_type is ExportType.INVOICES:
            more_invoices(sim, 6)
        with sim.portal.lock:
            state = sim.portal.user_state(sim.portal.options.user).lists[export_type]
            state.page_size, state.page_index = 10, 1
    before = lists(sim)
    asked = exports_asked(sim)
    stages: list[Stage] = []
    client.on_stage = stages.append
    seen: list[ListSurvey] = []
    started = datetime.now(UTC)

    def skip(survey: ListSurvey) -> bool:
        seen.append(survey)
        return True

    result = client.export(export_type, tmp_path, skip=skip)
    assert isinstance(result, Unchanged)
    assert seen == [result.survey] and result.logins == 1
    assert set(result.seconds) == {"login", "page_load", "survey"}
    assert stages == [Stage.LOGIN, Stage.PAGE_LOAD, Stage.SURVEY]
    survey = result.survey
    assert survey.export_type is export_type
    # Under the export's filter, not the agent's: what the export would hold.
    assert survey.newest_modified == truth_newest(sim, export_type)
    assert survey.row_count == truth_count(sim, export_type)
    assert started <= survey.read_at <= datetime.now(UTC)
    # No file was asked for; filter, sort, page and page size are the agent's again
    # (products' saved grid filter cannot be read, so it stays cleared, as for an export).
    assert exports_asked(sim) == asked
    assert lists(sim)[export_type] == before[export_type]
    assert before[export_type]["page_index"] == (0 if agent == "narrow filter" else 1)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("export_type", SURVEYED)
def test_a_change_is_a_newer_modification_and_a_deletion_a_smaller_count(
    sim: SimServer, client: PortalClient, tmp_path: Path, export_type: ExportType
) -> None:
    first = client.export(export_type, tmp_path, skip=skip_always)
    assert isinstance(first, Unchanged)
    assert first.survey.newest_modified is not None and first.survey.row_count is not None
    # The record modified longest ago changes now: only a read sorted by
    # modification sees it (an old invoice's payment, an old DDT's tracking).
    key = quote(oldest_key(sim, export_type), safe="")
    changed = api(sim, "PATCH", f"records/{export_type}/{key}", edit_of(export_type))
    at = datetime.now(UTC)
    second = client.export(export_type, tmp_path, skip=skip_always)
    assert isinstance(second, Unchanged)
    newest = second.survey.newest_modified
    assert newest is not None and newest > first.survey.newest_modified
    assert abs(newest - at) < timedelta(seconds=5), "the portal stamps a change with its clock"
    assert second.survey.row_count == first.survey.row_count
    api(sim, "DELETE", f"records/{export_type}/{quote(changed['key'], safe='')}")
    third = client.export(export_type, tmp_path, skip=skip_always)
    assert isinstance(third, Unchanged)
    assert third.survey.row_count == first.survey.row_count - 1
    assert third.survey.newest_modified == truth_newest(sim, export_type)
    assert client.logins == 1


@pytest.mark.parametrize("export_type", [ExportType.PRICES, ExportType.PRODUCTS])
def test_prices_and_products_are_sorted_by_modification_and_their_sort_put_back(
    sim: SimServer, client: PortalClient, tmp_path: Path, export_type: ExportType
) -> None:
    """Neither list is sorted by modification: the survey sorts, reads and sorts back.

    On prices the column is hidden, so it is shown for the read and hidden
    before the export: the file prints no extra column.
    """
    before = lists(sim)[export_type]["sort"]
    assert before["column"] not in ("CITTA DI FATTURAZIONE", "DATETIME MODIFICATO")
    result = client.export(export_type, tmp_path, skip=lambda survey: False)
    assert isinstance(result, ExportResult) and result.survey is not None
    assert result.survey.newest_modified == truth_newest(sim, export_type)
    assert set(result.seconds) == {"login", "page_load", "survey", "menu", "download"}
    assert lists(sim)[export_type]["sort"] == before
    assert_complete(sim, export_type, result.path)
    if export_type is ExportType.PRICES:
        assert "CITTA DI FATTURAZIONE" not in grid_columns_shown(sim, export_type)


def test_a_surveys_column_stays_shown_for_the_session_and_an_export_hides_it(
    sim: SimServer, client: PortalClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Columns are the session's own: the prices' MODIFIEDDATETIME, shown for the first
    survey, spares the next survey the dialog; an export then hides it in the dialog
    that shows the export's columns, one dialog for both."""
    dialogs: list[Stage] = []
    open_dialog = Columns._open_dialog

    def counted(columns: Columns) -> Any:
        dialogs.append(columns.page.stage())
        return open_dialog(columns)

    monkeypatch.setattr(Columns, "_open_dialog", counted)
    first = client.export(ExportType.PRICES, tmp_path, skip=skip_always)
    assert isinstance(first, Unchanged) and first.survey.newest_modified is not None
    assert "CITTA DI FATTURAZIONE" in grid_columns_shown(sim, ExportType.PRICES)
    assert dialogs == [Stage.SURVEY]
    second = client.export(ExportType.PRICES, tmp_path, skip=skip_always)
    assert isinstance(second, Unchanged)
    assert second.survey.newest_modified == first.survey.newest_modified
    assert second.survey.row_count == first.survey.row_count
    assert dialogs == [Stage.SURVEY], "the column was still shown: no dialog"
    third = client.export(ExportType.PRICES, tmp_path, skip=lambda survey: False)
    assert isinstance(third, ExportResult)
    assert dialogs == [Stage.SURVEY, Stage.PAGE_LOAD]
    assert "CITTA DI FATTURAZIONE" not in grid_columns_shown(sim, ExportType.PRICES)
    assert_complete(sim, ExportType.PRICES, third.path)
    assert client.logins == 1


def test_the_agents_own_sort_is_put_back_after_the_survey(
    sim: SimServer, client: PortalClient, tmp_path: Path
) -> None:
    """DDT sorted by the agent on another column, ascending: sorted by modification for
    the read (shown for it, in this session only), then as the agent had it."""
    with sim.portal.lock:
        sim.portal.user_state("agent").lists[ExportType.DDT].sort = ("DATA DI CONSEGNA", False)
    result = client.export(ExportType.DDT, tmp_path, skip=skip_always)
    assert isinstance(result, Unchanged)
    assert result.survey.newest_modified == truth_newest(sim, ExportType.DDT)
    assert lists(sim)["ddt"]["sort"] == {"column": "DATA DI CONSEGNA", "descending": False}
    assert "CITTA DI FATTURAZIONE" in grid_columns_shown(sim, ExportType.DDT)


def test_orders_sorted_by_the_agent_are_sorted_by_modification_for_the_read(
    sim: SimServer, client: PortalClient, tmp_path: Path
) -> None:
    """Orders are newest-modified first by default; a header the agent clicked is not."""
    with sim.portal.lock:
        sim.portal.user_state("agent").lists[ExportType.ORDERS].sort = ("ID DI VENDITA", True)
    result = client.export(ExportType.ORDERS, tmp_path, skip=skip_always)
    assert isinstance(result, Unchanged)
    assert result.survey.newest_modified == truth_newest(sim, ExportType.ORDERS)
    assert lists(sim)["orders"]["sort"] == {"column": "ID DI VENDITA", "descending": True}


def test_a_survey_that_cannot_be_read_does_not_stop_the_export(
    sim: SimServer, client: PortalClient, tmp_path: Path
) -> None:
    # The grid's answer to GetRowValues is an error banner.
    sim.portal.faults.arm({"kind": "grid_error", "type": "orders", "path": "ROWVALUES"})
    before = lists(sim)["orders"]
    seen: list[ListSurvey] = []

    def skip(survey: ListSurvey) -> bool:
        seen.append(survey)
        return skip_if_known(survey)

    result = client.export(ExportType.ORDERS, tmp_path, skip=skip)
    assert isinstance(result, ExportResult)
    assert result.survey == seen[0]
    assert result.survey.newest_modified is None
    assert result.survey.row_count == truth_count(sim, ExportType.ORDERS)
    assert_complete(sim, ExportType.ORDERS, result.path)
    assert lists(sim)["orders"] == before
    assert exports_asked(sim)["orders"] == 1


def test_a_failed_sort_leaves_the_survey_in_doubt_and_the_export_complete(
    sim: SimServer, client: PortalClient, tmp_path: Path
) -> None:
    sim.portal.faults.arm({"kind": "grid_error", "type": "prices", "path": "SORT", "times": None})
    result = client.export(ExportType.PRICES, tmp_path, skip=skip_if_known)
    assert isinstance(result, ExportResult)
    assert result.survey is not None and result.survey.newest_modified is None
    assert_complete(sim, ExportType.PRICES, result.path)


def test_customers_are_never_surveyed(sim: SimServer, client: PortalClient, tmp_path: Path) -> None:
    called: list[ListSurvey] = []

    def skip(survey: ListSurvey) -> bool:
        called.append(survey)
        return True

    result = client.export(ExportType.CUSTOMERS, tmp_path, skip=skip)
    assert isinstance(result, ExportResult) and result.survey is None and not called
    assert "survey" not in result.seconds


# -- the newest customers -------------------------------------------------------------------


def add_customer(sim: SimServer) -> Customer:
    """A new customer through the test API, with the next ID the ERP would give."""
    with sim.portal.lock:
        customers = sim.portal.dataset.records(ExportType.CUSTOMERS)
        template = customers[0]
        newest = max(int(c.key) for c in customers)
    assert isinstance(template, Customer)
    data = to_json(template)
    data.update(id=str(newest + 3), name="Studio Dentistico Nuovo", phone="+39 06 1234567")
    created = api(sim, "POST", "records/customers", data)
    record = from_json(Customer, data)
    assert isinstance(record, Customer) and created["key"] == record.key
    return record


def truth_customers(sim: SimServer) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in api(sim, "GET", "truth/customers")}


def test_a_new_customer_is_read_from_the_grid_as_the_export_would_read_it(
    sim: SimServer, client: PortalClient
) -> None:
    client.recent_customers()  # a session and a grid the agent has used before
    new = add_customer(sim)
    stages: list[Stage] = []
    client.on_stage = stages.append
    reads: list[RecentRows] = []
    rows = client.recent_customers(reads.append)
    assert isinstance(rows, RecentRows)
    assert stages == [Stage.PAGE_LOAD, Stage.GRID]
    assert rows.records[0].id == new.id and rows.skipped == 0 and rows.logins == 0
    # The agent's first page (20 rows) first, sorted and before the page size
    # callback: the new customer is in it; then the 200.
    first, complete = reads
    assert not first.complete and complete.complete and rows.complete
    assert len(first.records) == 20 and first.records[0].id == new.id
    assert first.records == complete.records[:20] and complete.records == rows.records
    assert first.callbacks == 1 and complete.callbacks == 2
    assert "page_size" not in first.seconds and "page_size" in complete.seconds
    ids = [int(r.id) for r in rows.records]
    assert ids == sorted(ids, reverse=True)
    assert len(rows.records) == min(RECENT_PAGE_SIZE, truth_count(sim, ExportType.CUSTOMERS))
    # Every field the export has is in the grid: all read, each as the export reads it.
    truth = truth_customers(sim)
    assert rows.read == frozenset(truth[new.id]) - {"unread"}
    for record in rows.records:
        assert to_json(record) == truth[record.id]
        assert not record.unread
    assert set(rows.seconds) == {"login", "page_load", "grid", "read", "page_size", "restore"}


def test_a_column_the_session_hides_is_unread(sim: SimServer, client: PortalClient) -> None:
    client.recent_customers()
    portal = sim.portal
    with portal.lock:
        (session,) = portal.sessions.values()
        columns = grid_columns(ExportType.CUSTOMERS, portal.options.layout)
        phone = next(c.key for c in columns if c.caption == "TELEFONO:")
        shown = portal.visible(session, ExportType.CUSTOMERS)
        portal.set_visible(session, ExportType.CUSTOMERS, shown - {phone})
    rows = client.recent_customers()
    assert "phone" not in rows.read and rows.records
    truth = truth_customers(sim)
    for record in rows.records:
        assert record.phone is None and "phone" in record.unread
        expected = {k: v for k, v in truth[record.id].items() if k != "phone"}
        assert {k: v for k, v in to_json(record).items() if k != "phone"} == expected


@pytest.mark.parametrize(
    ("saved", "page_size", "page_index"),
    [("Free_customers", 20, 0), ("Free_customers", 50, 0), ("All_Customers", 10, 1)],
)
def test_the_agents_page_size_sort_page_and_filter_are_put_back(
    sim: SimServer, client: PortalClient, saved: str, page_size: int, page_index: int
) -> None:
    # The agent's own filter, page size, page (one that exists under their
    # filter: a grid keeps no page past its last) and sort.
    api(sim, "POST", "saved-filters", {"customers": saved})
    with sim.portal.lock:
        state = sim.portal.user_state("agent").lists[ExportType.CUSTOMERS]
        state.page_size, state.page_index = page_size, page_index
        state.sort = ("CITTÀ", True)
    before = lists(sim)["customers"]
    assert (before["page_size"], before["page_index"]) == (page_size, page_index)
    reads: list[RecentRows] = []
    rows = client.recent_customers(reads.append)
    # Read under "all customers", not the agent's filter.
    everyone = customer_ids_newest_first(sim)
    assert [int(r.id) for r in rows.records] == everyone[:RECENT_PAGE_SIZE]
    assert lists(sim)["customers"] == before
    # SortBy, (the first page read and given,) page size, read; SortBy back,
    # page size (filter and page are the client's). A grid left past its
    # first page is not read there: the page size callback brings it back.
    assert rows.callbacks == 4
    shown = min(RECENT_PAGE_SIZE, len(everyone))
    first = min(page_size, shown)
    assert [len(r.records) for r in reads] == ([first, shown] if page_index == 0 else [shown])
    assert [int(r.id) for r in reads[0].records] == everyone[: len(reads[0].records)]


@pytest.mark.parametrize(
    "sim_options",
    [quick_options(grid_sort_by=False)],
)
def test_a_grid_object_without_sort_by_is_sorted_with_header_clicks(
    sim: SimServer, client: PortalClient, tmp_path: Path
) -> None:
    """Spec v3 names no SortBy: without it a descending sort is two header clicks."""
    with sim.portal.lock:
        sim.portal.user_state("agent").lists[ExportType.CUSTOMERS].sort = ("CITTÀ", True)
    before = lists(sim)
    rows = client.recent_customers()
    everyone = customer_ids_newest_first(sim)
    assert [int(r.id) for r in rows.records] == everyone[:RECENT_PAGE_SIZE]
    # Two clicks, first page, page size, read; two clicks back (CITTÀ descending), page size.
    assert rows.callbacks == 6
    # A survey's sort by MODIFIEDDATETIME, and the agent's sort back, by clicks too.
    result = client.export(ExportType.PRICES, tmp_path, skip=skip_always)
    assert isinstance(result, Unchanged)
    assert result.survey.newest_modified == truth_newest(sim, ExportType.PRICES)
    assert lists(sim) == before


def test_a_customers_page_left_on_the_map_is_switched_to_the_list(
    sim: SimServer, client: PortalClient
) -> None:
    with sim.portal.lock:
        sim.portal.user_state("agent").customers_view = "Mappa clienti"
    rows = client.recent_customers()
    assert len(rows.records) == truth_count(sim, ExportType.CUSTOMERS)
    assert api(sim, "GET", "state")["users"]["agent"]["customers_view"] == "Clienti"


def test_a_grid_already_at_200_by_id_descending_costs_no_callback(
    sim: SimServer, client: PortalClient
) -> None:
    with sim.portal.lock:
        state = sim.portal.user_state("agent").lists[ExportType.CUSTOMERS]
        state.page_size = RECENT_PAGE_SIZE
        state.sort = ("ID", True)
    api(sim, "POST", "saved-filters", {"customers": "All_Customers"})
    before = lists(sim)["customers"]
    rows = client.recent_customers()
    assert rows.callbacks == 0 and rows.records
    assert lists(sim)["customers"] == before


@pytest.mark.parametrize(
    "sim_options",
    [quick_options(sort_glyphs=False)],
)
def test_a_grid_that_draws_no_sort_glyphs(
    sim: SimServer, client: PortalClient, tmp_path: Path
) -> None:
    """No header shows its sort: clicked as the spec says and checked where it can be."""
    rows = client.recent_customers()
    everyone = customer_ids_newest_first(sim)
    # The IDs read show the sort.
    assert [int(r.id) for r in rows.records] == everyone[:RECENT_PAGE_SIZE]
    # The agent's sort could not be read: left by ID (a log line says so); the rest is back.
    saved = lists(sim)["customers"]
    assert saved["sort"] == {"column": "ID", "descending": True}
    assert saved["page_size"] == 20
    # Orders are by modification by default; prices cannot be shown sorted: in doubt.
    orders = client.export(ExportType.ORDERS, tmp_path, skip=skip_always)
    assert isinstance(orders, Unchanged)
    assert orders.survey.newest_modified == truth_newest(sim, ExportType.ORDERS)
    prices = client.export(ExportType.PRICES, tmp_path, skip=skip_if_known)
    assert isinstance(prices, ExportResult) and prices.survey is not None
    assert prices.survey.newest_modified is None
    assert prices.survey.row_count == truth_count(sim, ExportType.PRICES)


# -- timings -------------------------------------------------------------------------------

TIME_SCALE = 10.0


@pytest.mark.slow
@pytest.mark.parametrize(
    "sim_options", [PortalOptions(ddt_flake=0.0, timing="real", time_scale=TIME_SCALE)]
)
def test_timings_at_the_real_portals_speed(
    sim: SimServer, make_client: Callable[..., PortalClient], capsys: pytest.CaptureFixture[str]
) -> None:
    """Not an assertion: the survey's and the newest customers' seconds, printed.

    Against the real portal's times divided by :data:`TIME_SCALE`; the
    full-speed figure is an estimate (measured + (F - 1) × the simulator's
    waits, ``tests/bench/profiles.py``).
    """
    waits = Waits(sim.portal)
    slow = Timeouts(login=30, page=30, download=120)  # the production poll of 200 ms
    client = make_client(slow)
    client.login()
    lines = []

    def timed(label: str, read: Callable[[], Any]) -> None:
        kinds = ("page", "initial_loading", "callback")
        waited, before, started = waits.total, [waits.of(k) for k in kinds], time.monotonic()
        result = read()
        took = time.monotonic() - started
        full = took + (TIME_SCALE - 1) * (waits.total - waited)
        page, loading, callbacks = (
            TIME_SCALE * (waits.of(k) - b) for k, b in zip(kinds, before, strict=True)
        )
        parts = " ".join(f"{k}={v:.2f}" for k, v in result.seconds.items() if k != "login")
        lines.append(
            f"{label:<22} {took:5.2f} s measured ({parts}); ≈ {full:4.1f} s at full speed,"
            f" of which the portal: page {page + loading:.1f} s, callbacks {callbacks:.1f} s"
        )

    for export_type in (ExportType.ORDERS, ExportType.PRICES):
        for n in (1, 2):
            survey = partial(client.export, export_type, Path("/nonexistent"), skip=skip_always)
            timed(f"survey {export_type} #{n}", survey)
    for n in (1, 2, 3):
        timed(f"recent customers #{n}", client.recent_customers)
    with capsys.disabled():
        print(f"\nreal portal times ÷{TIME_SCALE:g}:\n" + "\n".join(lines))
