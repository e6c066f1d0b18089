"""The simulated portal over real HTTP: login, sessions, list state, exports, faults."""

from __future__ import annotations

import argparse
import re
import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from archid.records import ExportType
from archid.sim.main import add_arguments, build_server
from archid.sim.portal import Portal, PortalOptions
from archid.sim.server import SimServer
from archid.sim.timing import TYPICAL_EXPORT
from tests.conftest import SIM_SCALE, SIM_SEED, dx_reply, http_login, login_form
from tests.pdftext import read_pages
from tests.sim.helpers import (
    FILE_NAMES,
    VIEWS,
    callback,
    choose_all,
    export,
    grid_callback,
    login,
    page_config,
    pdf_texts,
    save,
)
from tests.spec_layouts import ENGLISH_FILE_NAMES

SPEC_ENGLISH_FILE_NAMES = {t: ENGLISH_FILE_NAMES[t] for t in ExportType}


def choose(client: httpx.Client, export_type: ExportType, value: str) -> dict[str, Any]:
    """The combo's ``SetValue(value)``: ``value`` is a whole XAF value."""
    combo = page_config(client, export_type)["menu"]["combo"]["id"]
    return callback(client, export_type, combo, f"FILTER|{value}|0")


def summary_count(path: Path) -> int:
    """The ``Count=`` the export prints in its summary row."""
    for page in reversed(read_pages(path, last=12)):
        for run in page.runs:
            if run.text.startswith("Count="):
                return int(run.text.removeprefix("Count=").replace(".", ""))
    raise AssertionError(f"{path.name} has no Count= summary")


def cycle_length(path: Path) -> int:
    """Pages until the first page's header row comes round again."""
    pages = read_pages(path, max_pages=12)
    first = pages[0].header_cells()
    for k, page in enumerate(pages[1:], start=1):
        if page.header_cells() == first:
            return k
    return len(pages)


def all_headers(path: Path) -> set[str]:
    return {c for page in read_pages(path, max_pages=12) for c in page.header_cells()}


# -- login and sessions ----------------------------------------------------------


def test_login_page_is_the_xaf_logon_form(http: httpx.Client, sim: SimServer) -> None:
    page = http.get("/Archibald/Login.aspx", params={"ReturnUrl": "/Archibald/Default.aspx"})
    assert page.status_code == 200
    assert "<title>Log In</title>" in page.text
    fields = login_form(page.text)
    assert fields["__VIEWSTATE"] and fields["__EVENTVALIDATION"]
    assert {"__EVENTTARGET", "__EVENTARGUMENT", "__VIEWSTATEGENERATOR"} <= set(fields)
    assert any(name.endswith("_EditorClientInfo") for name in fields)
    user = next(name for name in fields if "UserName" in name and name.endswith("_Edit"))
    number = sim.portal.field_number
    assert 1_000_000 <= number < 100_000_000
    assert user == f"Logon$v0_{number}$MainLayoutEdit$xaf_l12$xaf_l30$xaf_dviUserName_Edit"
    assert f'id="{user.replace("$", "_")}_I"' in page.text
    assert re.search(r'type="password" name="[^"]*xaf_l35\$xaf_dviPassword_Edit"', page.text)
    assert 'id="Logon_PopupActions_Menu_DXI0_T"' in page.text and ">Accedi<" in page.text
    assert "NOME ACCOUNT" in page.text and ">PASSWORD<" in page.text
    assert "Benvenuto! Inserisci il tuo nome utente e password qui sotto." in page.text
    # always there, always empty until a login is refused
    assert '<div id="Logon_UPEI"><div id="Logon_ErrorInfo" class="ErrorInfo"></div></div>' in (
        page.text
    )


def test_login_field_numbers_change_between_starts(sim: SimServer) -> None:
    numbers = {Portal(dataset=sim.portal.dataset).field_number for _ in range(6)}
    assert len(numbers) > 1


def test_login_sets_exactly_the_spec_cookies(http: httpx.Client, sim: SimServer) -> None:
    response = http_login(http)
    assert dx_reply(response) == {"redirect": "/Archibald/Default.aspx"}
    cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
    guids = [n for n in cookies if re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", n)]
    assert set(cookies) == {"ASP.NET_SessionId", "Login", "xafkidemovbUserName", *guids}
    assert len(guids) <= 7
    assert all(re.fullmatch(r"[^=]+=\w{6}; path=/", cookies[g]) for g in guids)
    session = cookies["ASP.NET_SessionId"].lower()
    assert "httponly" in session and "samesite=lax" in session
    assert "expires" not in session and "max-age" not in session
    login_cookie = cookies["Login"]
    assert "httponly" in login_cookie.lower() and "expires" not in login_cookie.lower()
    assert 300 <= len(http.cookies["Login"]) <= 400
    expires = re.search(r"expires=([^;]+)", cookies["xafkidemovbUserName"])
    assert expires
    moment = parsedate_to_datetime(expires.group(1))
    now = datetime.fromtimestamp(sim.portal.now(), UTC)
    assert 27 <= (moment - now).days <= 31
    assert ".ASPXAUTH" not in http.cookies
    assert http.get("/Archibald/Default.aspx").status_code == 200


def test_guid_cookie_count_varies(http: httpx.Client) -> None:
    counts = set()
    for _ in range(8):
        http.cookies.clear()
        response = http_login(http)
        counts.add(sum(1 for c in response.headers.get_list("set-cookie") if c.count("-") >= 4))
    assert len(counts) > 1


def test_wrong_credentials_stay_on_the_login_page(http: httpx.Client) -> None:
    response = http_login(http, password="wrong")
    reply = dx_reply(response)
    assert set(reply) == {"error"} and reply["error"]
    assert "Login" not in http.cookies and "set-cookie" not in response.headers
    # a plain postback of the form is no login
    page = http.get("/Archibald/Login.aspx")
    form = login_form(page.text)
    plain = http.post("/Archibald/Login.aspx", data=form)
    assert plain.status_code == 200 and "<title>Log In</title>" in plain.text


def test_both_cookies_must_match_a_live_session(http: httpx.Client) -> None:
    login(http)
    login_value = http.cookies["Login"]
    http.cookies.set("Login", "0" * len(login_value))
    assert http.get("/Archibald/Default.aspx").status_code == 302
    http.cookies.set("Login", login_value)
    assert http.get("/Archibald/Default.aspx").status_code == 200


def test_pages_without_a_session_redirect_to_login(http: httpx.Client) -> None:
    response = http.get("/Archibald/CUSTTABLE_ListView_Agent/")
    assert response.status_code == 302
    assert response.headers["location"] == (
        "/Archibald/Login.aspx?ReturnUrl=%2FArchibald%2FCUSTTABLE_ListView_Agent%2F"
    )


def test_idle_session_silently_redirects_to_login(http: httpx.Client, sim: SimServer) -> None:
    login(http)
    assert http.get("/Archibald/Default.aspx").status_code == 200
    sim.portal.advance_clock(sim.portal.options.session_idle - 5)
    assert http.get("/Archibald/Default.aspx").status_code == 200  # activity slides it
    sim.portal.advance_clock(sim.portal.options.session_idle + 1)
    for method, path in (
        ("GET", "/Archibald/CUSTINVOICEJOUR_ListView/"),
        ("POST", "/Archibald/CUSTINVOICEJOUR_ListView/"),
    ):
        response = http.request(method, path, data={"__CALLBACKID": "x"})
        assert response.status_code == 302
        assert "Login.aspx?ReturnUrl=" in response.headers["location"]
    assert http.get("/_sim/state").json()["sessions"] == 0


@pytest.mark.parametrize("sim_options", [PortalOptions(daily_login_cap=2, ddt_flake=0.0)])
def test_daily_login_cap_blocks_for_the_rest_of_the_day(http: httpx.Client, sim: SimServer) -> None:
    login(http)
    login(http)
    blocked = http_login(http)
    assert blocked.status_code == 403
    assert 'id="' not in blocked.text.split("<body", 1)[1]  # nothing to key on
    assert http.get("/Archibald/Default.aspx").status_code == 403
    assert http.get("/Archibald/Login.aspx").status_code == 403
    sim.portal.advance_clock(24 * 3600)
    login(http)


def test_one_request_at_a_time_per_session(http: httpx.Client, sim: SimServer) -> None:
    login(http)
    sim.portal.options.update({"timing": "real", "time_scale": 50.0})  # exports ~1 s
    cookies = dict(http.cookies)
    root = str(http.base_url)
    started = threading.Event()
    done: list[float] = []

    def slow_export() -> None:
        with httpx.Client(base_url=root, cookies=cookies) as other:
            started.set()
            other.post(
                "/Archibald/CUSTTABLE_ListView_Agent/",
                data={"__EVENTTARGET": "Vertical$mainMenu$Menu", "__EVENTARGUMENT": "ExportTo"},
            )
            done.append(time.monotonic())

    thread = threading.Thread(target=slow_export)
    thread.start()
    started.wait()
    deadline = time.monotonic() + 5
    while sim.portal.exports_started["customers"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    waits = http.get("/_sim/state").json()["session_waits"]
    # the same session asks for a page: it waits for the export
    assert http.get("/Archibald/Default.aspx").status_code == 200
    finished = time.monotonic()
    thread.join()
    assert done and done[0] <= finished
    assert http.get("/_sim/state").json()["session_waits"] == waits + 1
    # another session is not held up
    with httpx.Client(base_url=root) as stranger:
        login(stranger)
        assert stranger.get("/Archibald/Default.aspx").status_code == 200


def test_an_abandoned_slow_export_keeps_the_session_busy(
    http: httpx.Client, sim: SimServer
) -> None:
    login(http)
    # Customers take about 2 s (60 s ÷ 30, rarely under 1.3 s): long enough for the
    # next request to arrive while the server still renders, even on a loaded machine.
    sim.portal.options.update({"timing": "real", "time_scale": 30.0})
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            "/Archibald/CUSTTABLE_ListView_Agent/",
            data={"__EVENTTARGET": "Vertical$mainMenu$Menu", "__EVENTARGUMENT": "ExportTo"},
            timeout=0.05,
        )
    sim.portal.options.update({"timing": "fast"})
    before = http.get("/_sim/state").json()["session_waits"]
    assert http.get("/Archibald/Default.aspx").status_code == 200
    assert http.get("/_sim/state").json()["session_waits"] == before + 1
    # the export finished on the server and waits for its GET
    download = http.get("/Archibald/CUSTTABLE_ListView_Agent/")
    assert download.headers["content-type"] == "application/pdf"


# -- list views ----------------------------------------------------------------


@pytest.mark.parametrize("export_type", list(ExportType))
def test_list_view_has_the_export_item_at_its_spec_position(
    http: httpx.Client, export_type: ExportType
) -> None:
    login(http)
    page = http.get(f"/Archibald/{VIEWS[export_type]}/").text
    index = {ExportType.CUSTOMERS: 6, ExportType.ORDERS: 7}.get(export_type, 3)
    assert re.search(
        rf'<a id="Vertical_mainMenu_Menu_DXI{index}_T"[^>]*title="Esportare in PDF File"'
        r"[^>]*>Esportare in<",
        page,
    )
    assert "DXI" + str(index) + "i0_" not in page  # no sub-menu
    assert "Reset View Settings" in page
    if export_type in (ExportType.DDT, ExportType.INVOICES):
        assert re.search(r'id="Vertical_mainMenu_Menu_DXI0_T"[^>]*>Get PDF<', page)
    for gone in (".ASPXAUTH", "Vertical_v1_SalesFilter", "FilterBar_Clear", "Scelta colonne"):
        assert gone not in page
    for gone in ('id="Blocked"', 'id="Maintenance"', 'id="ServerError"', "Vertical_ErrorInfo"):
        assert gone not in page


@pytest.mark.parametrize(
    "sim_options",
    [PortalOptions(menu_shift=2, orders_copy_item=False, doubled_menu_text=True, english_ui=True)],
)
def test_menu_positions_and_texts_vary(http: httpx.Client) -> None:
    login(http)
    page = http.get("/Archibald/CUSTTABLE_ListView_Agent/").text
    assert re.search(r'id="Vertical_mainMenu_Menu_DXI8_T"[^>]*>Export toExport to<', page)
    orders = http.get("/Archibald/SALESTABLE_ListView_Agent/").text
    assert re.search(r'id="Vertical_mainMenu_Menu_DXI5_T"[^>]*>Export toExport to<', orders)
    assert "All Orders " in orders


def test_grid_ids_change_per_session(http: httpx.Client) -> None:
    ids = set()
    for _ in range(4):
        http.cookies.clear()
        login(http)
        grid = page_config(http, ExportType.INVOICES)["gridId"]
        match = re.fullmatch(r"Vertical_v(\d)_(\d{7,8})_LE_v(\d)", grid)
        assert match and match[1] == match[3]
        ids.add(grid)
    assert len(ids) == 4


def test_grid_dom_and_model(http: httpx.Client) -> None:
    login(http)
    choose_all(http)
    page = http.get("/Archibald/CUSTINVOICEJOUR_ListView/").text
    config = page_config(http, ExportType.INVOICES)
    grid = config["gridId"]
    assert f'id="{grid}"' in page and 'class="dxgvDataRow_XafTheme"' in page
    assert re.search(rf'<tr id="{grid}_DXDataRow0" class="dxgvDataRow_XafTheme">', page)
    assert re.search(rf'<td id="{grid}_col\d+" class="dxgvHeader_XafTheme"', page)
    assert f'id="{grid}_DXPagerBottom_PSI"' in page and "ASPx.POnPageSizeBlur" in page
    assert f'id="{grid}_DXCDWindow"' in page and f'id="{grid}_DXCDPageControl_T3T"' in page
    assert f'id="{grid}_DXCDWindow_DXCBtn201"' in page and f'id="{grid}_DXCDWindow_DXCBtn0"' in page
    columns = config["state"]["columns"]
    by_caption = {c["caption"]: c for c in columns}
    assert by_caption["ID VENDITE"]["visible"] is False
    hidden_city = [c for c in columns if c["caption"] == "CITTA DI FATTURAZIONE"]
    assert len(hidden_city) == 2 and not any(c["visible"] for c in hidden_city)
    assert "MODIFIEDDATETIME" in {c["fieldName"] for c in hidden_city}
    assert [c["index"] for c in columns] == list(range(len(columns)))
    shown = sorted((c for c in columns if c["visible"]), key=lambda c: c["visibleIndex"])
    assert [c["visibleIndex"] for c in shown] == list(range(len(shown)))
    assert [c["index"] for c in shown] != sorted(c["index"] for c in shown)  # not model order
    # the loaded page shows DDT and invoices with empty cells; the first cells are there
    row = re.search(rf'<tr id="{grid}_DXDataRow0" [^>]*>(.*?)</tr>', page)
    assert row
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert "Edit" in cells[1] and "N/A" in cells[2]
    assert all(c == "" for c in cells[3:])
    combo = config["menu"]["combo"]["id"]
    # SetValue on a page still blank: saved and filtered, the cells stay empty
    refreshed = callback(http, ExportType.INVOICES, combo, "FILTER|xaf_xaf_a1All_invoices|1")
    texts = re.findall(r'<td class="dxgv">(.*?)</td>', refreshed["grid"])
    assert texts and all(c == "" or "N/A" in c for c in texts)
    real = callback(
        http, ExportType.INVOICES, config["menu"]["combo"]["id"], "FILTER|xaf_xaf_a1All_invoices|0"
    )
    assert any(c for c in re.findall(r'<td class="dxgv">(.*?)</td>', real["grid"]))


def test_products_row_values_come_with_the_page(http: httpx.Client) -> None:
    login(http)
    state = page_config(http, ExportType.PRODUCTS)["state"]
    assert state["rowValues"] and "ITEMID" in state["rowValues"][0]
    orders = page_config(http, ExportType.ORDERS)
    assert "rowValues" not in orders["state"]
    http.post("/_sim/saved-filters", json={"orders": "ListViewSalesTableOrdersAll"})
    reply = grid_callback(http, ExportType.ORDERS, "ROWVALUES|0|MODIFIEDDATETIME")
    assert set(reply["values"][0]) == {"__date"}


# -- filters -----------------------------------------------------------------------


def test_filter_combo_items_and_values(http: httpx.Client, sim: SimServer) -> None:
    login(http)
    page = http.get("/Archibald/CUSTPACKINGSLIPJOUR_ListView/").text
    combo = page_config(http, ExportType.DDT)["menu"]["combo"]
    assert re.fullmatch(r"Vertical_mainMenu_Menu_ITCNT\d+_xaf_a1_Cb", combo["id"])
    assert f'id="{combo["id"]}_VI"' in page and f'id="{combo["id"]}_DDD_L"' in page
    texts = re.findall(rf'<td id="{combo["id"]}_DDD_L_LBI\d+T0"[^>]*>([^<]*)</td>', page)
    assert texts == ["Oggi", "Questa settimana", "Questo mese", "Ultimi 3 mesi", "Tutti"]
    assert {i["value"] for i in combo["items"]} == {
        f"xaf_xaf_a1ListViewPackingSlips{s}"
        for s in ("All", "Today", "ThisWeek", "ThisMonth", "Last3Month")
    }
    # the prefix drifts: a0, a1, a2
    http.post("/_sim/options", json={"filter_prefix": "a0"})
    combo = page_config(http, ExportType.DDT)["menu"]["combo"]
    assert combo["id"].endswith("_xaf_a0_Cb")
    assert "xaf_xaf_a0ListViewPackingSlipsAll" in {i["value"] for i in combo["items"]}


def test_stale_prefix_silently_picks_another_item(http: httpx.Client, tmp_path: Path) -> None:
    login(http)
    http.post("/_sim/options", json={"filter_prefix": "a2"})
    everything = summary_count(save(export(http, ExportType.DDT), tmp_path, "default.pdf"))
    reply = choose(http, ExportType.DDT, "xaf_xaf_a2ListViewPackingSlipsAll")
    assert reply["combo"]["value"] == "xaf_xaf_a2ListViewPackingSlipsAll"
    everything = summary_count(save(export(http, ExportType.DDT), tmp_path, "all.pdf"))
    reply = choose(http, ExportType.DDT, "xaf_xaf_a1ListViewPackingSlipsAll")
    assert reply["combo"]["value"] == "xaf_xaf_a2ListViewPackingSlipsToday"
    state = http.get("/_sim/state").json()["users"]["agent"]["lists"]["ddt"]
    assert state["filter"] == "ListViewPackingSlipsToday"
    today = summary_count(save(export(http, ExportType.DDT), tmp_path, "today.pdf"))
    assert 0 < today < everything


def test_saved_filters_api_shrinks_the_exports(http: httpx.Client, tmp_path: Path) -> None:
    login(http)
    choose_all(http)
    full = {
        t: summary_count(save(export(http, t), tmp_path, f"{t}.pdf"))
        for t in (ExportType.CUSTOMERS, ExportType.ORDERS, ExportType.DDT, ExportType.PRODUCTS)
    }
    truth = {t: len(http.get(f"/_sim/truth/{t}").json()) for t in full}
    assert full == truth
    reply = http.post(
        "/_sim/saved-filters",
        json={
            "customers": "Free_customers",
            "orders": "ListViewSalesTableOrdersToday",
            "ddt": "ListViewPackingSlipsToday",
            "products": True,
        },
    )
    assert reply.status_code == 200
    assert reply.json()["lists"]["orders"]["filter_value"] == (
        "xaf_xaf_a1ListViewSalesTableOrdersToday"
    )
    for t in full:
        shrunk = summary_count(save(export(http, t), tmp_path, f"{t}-shrunk.pdf"))
        assert 0 < shrunk < full[t], t
    # the agent's choice is the user's: a new session of the bot gets it too
    http.cookies.clear()
    login(http)
    combo = page_config(http, ExportType.ORDERS)["menu"]["combo"]["id"]
    assert 'value="Ordini di oggi"' in http.get("/Archibald/SALESTABLE_ListView_Agent/").text
    assert combo
    bad = http.post("/_sim/saved-filters", json={"ddt": "Yesterday"})
    assert bad.status_code == 400 and "ListViewPackingSlipsAll" in bad.json()["error"]
    assert http.post("/_sim/saved-filters", json={"widgets": "x"}).status_code == 400
    assert http.post("/_sim/reset-user-state").json() == {"reset": True}
    lists = http.get("/_sim/state").json()["users"]
    assert lists == {}


def test_new_user_defaults_shrink_orders_ddt_invoices(http: httpx.Client, tmp_path: Path) -> None:
    login(http)
    for t in (ExportType.ORDERS, ExportType.DDT, ExportType.INVOICES, ExportType.PRODUCTS):
        rows = len(read_pages(save(export(http, t), tmp_path, f"{t}.pdf")))
        assert rows
    state = http.get("/_sim/state").json()["users"]["agent"]
    assert state["products_grid_filter"] is True
    assert state["lists"]["customers"]["filter"] == "All_Customers"
    assert state["lists"]["prices"]["filter"] == "ActivePrices"
    for name in ("orders", "ddt", "invoices"):
        assert state["lists"][name]["filter"] not in (
            "ListViewSalesTableOrdersAll",
            "ListViewPackingSlipsAll",
            "All_invoices",
        )


def test_products_clear_filter_is_saved(http: httpx.Client) -> None:
    login(http)
    page = http.get("/Archibald/INVENTTABLE_ListView/").text
    assert "[Gruppo articolo] = &#x27;FRESE&#x27;" in page and "_Cb" not in page
    before = page_config(http, ExportType.PRODUCTS)["state"]["pageCount"]
    reply = grid_callback(http, ExportType.PRODUCTS, "CLEARFILTER|0")
    assert "FRESE" not in reply["grid"] and reply["state"]["pageCount"] > before
    assert http.get("/_sim/state").json()["users"]["agent"]["products_grid_filter"] is False


def test_customers_map_view_has_no_list_to_export(http: httpx.Client) -> None:
    login(http)
    config = page_config(http, ExportType.CUSTOMERS)
    view = config["menu"]["viewCombo"]["id"]
    assert callback(http, ExportType.CUSTOMERS, view, "VIEW|Mappa clienti|0")["reload"]
    config = page_config(http, ExportType.CUSTOMERS)
    assert config["gridId"] is None
    assert "Esportare in" not in http.get("/Archibald/CUSTTABLE_ListView_Agent/").text
    assert http.get("/_sim/state").json()["users"]["agent"]["customers_view"] == "Mappa clienti"
    callback(http, ExportType.CUSTOMERS, view, "VIEW|Clienti|0")
    assert page_config(http, ExportType.CUSTOMERS)["gridId"]


# -- pages, sort, page size ------------------------------------------------------------


def test_page_index_size_and_sort_are_saved_per_user(http: httpx.Client) -> None:
    login(http)
    http.post("/_sim/saved-filters", json={"products": False})
    assert (
        grid_callback(http, ExportType.PRODUCTS, "PERFORM|PAGESIZE/200|0")["state"]["pageSize"]
        == 20
    )
    reply = grid_callback(http, ExportType.PRODUCTS, "PSI|10|0")
    assert reply["state"]["pageSize"] == 10 and reply["state"]["pageCount"] > 2
    reply = grid_callback(http, ExportType.PRODUCTS, "PAGE|2|0")
    assert reply["state"]["pageIndex"] == 2
    first = reply["state"]["rowValues"][0]["ITEMID"]
    # a new session opens the grid where the last one left it
    http.cookies.clear()
    login(http)
    state = page_config(http, ExportType.PRODUCTS)["state"]
    assert (state["pageIndex"], state["pageSize"]) == (2, 10)
    assert state["rowValues"][0]["ITEMID"] == first
    columns = state["columns"]
    article = next(c["index"] for c in columns if c["fieldName"] == "ITEMID")
    # already ascending by article (the default): a click turns it round
    down = grid_callback(http, ExportType.PRODUCTS, f"SORT|{article}|0")
    items = [r["ITEMID"] for r in down["state"]["rowValues"]]
    assert items == sorted(items, reverse=True)
    lists = http.get("/_sim/state").json()["users"]["agent"]["lists"]
    assert lists["products"]["sort"] == {"column": "ID ARTICOLO", "descending": True}


def test_hidden_columns_are_shown_through_the_dialog_callback(
    http: httpx.Client, tmp_path: Path
) -> None:
    login(http)
    hidden = save(export(http, ExportType.INVOICES), tmp_path, "hidden.pdf")
    assert "ID VENDITE" not in all_headers(hidden)
    config = page_config(http, ExportType.INVOICES)
    every = ",".join(str(c["index"]) for c in config["state"]["columns"])
    reply = grid_callback(http, ExportType.INVOICES, f"COLUMNS|{every}|0")
    assert all(c["visible"] for c in reply["state"]["columns"])
    assert "ColumnHide" not in reply["dialog"]
    shown = save(export(http, ExportType.INVOICES), tmp_path, "shown.pdf")
    assert {"ID VENDITE", "SCONTO TOTALE:", "CITTA DI FATTURAZIONE"} <= all_headers(shown)
    # columns are reset with every new session
    http.cookies.clear()
    login(http)
    assert "ID VENDITE" not in all_headers(
        save(export(http, ExportType.INVOICES), tmp_path, "again.pdf")
    )


def test_customers_may_columns_are_hidden_in_a_sub_panel(
    http: httpx.Client, tmp_path: Path
) -> None:
    login(http)
    page = http.get("/Archibald/CUSTTABLE_ListView_Agent/").text
    config = page_config(http, ExportType.CUSTOMERS)
    columns = config["state"]["columns"]
    may = [c for c in columns if "ESCLUSIV" in c["caption"] or "MECCANOGRAFICO" in c["caption"]]
    assert len(may) == 6 and not any(c["visible"] for c in may)
    assert sum(1 for c in columns if not c["visible"]) == 6
    assert "dxgvCustDialogGroup_XafTheme dxgvCollapsed" in page
    before = cycle_length(save(export(http, ExportType.CUSTOMERS), tmp_path, "before.pdf"))
    every = ",".join(str(c["index"]) for c in columns)
    grid_callback(http, ExportType.CUSTOMERS, f"COLUMNS|{every}|0")
    after = save(export(http, ExportType.CUSTOMERS), tmp_path, "after.pdf")
    assert cycle_length(after) > before
    assert "FINE ESCLUSIVA" in all_headers(after)


# -- exports ---------------------------------------------------------------------


@pytest.mark.parametrize("export_type", list(ExportType))
def test_download_has_the_real_file_name(http: httpx.Client, export_type: ExportType) -> None:
    login(http)
    response = export(http, export_type)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="{FILE_NAMES[export_type]}"' in disposition
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    # the file is fetched once; the next GET is the page again
    assert (
        http.get(f"/Archibald/{VIEWS[export_type]}/")
        .headers["content-type"]
        .startswith("text/html")
    )
    served = http.get("/_sim/state").json()["exports_served"]
    assert served[str(export_type)] == 1


def test_get_pdf_is_not_the_export(http: httpx.Client) -> None:
    login(http)
    reply = callback(http, ExportType.DDT, "Vertical_mainMenu", "GETPDF")
    assert reply["error"]
    assert http.get("/_sim/state").json()["exports_started"]["ddt"] == 0


@pytest.mark.parametrize("sim_options", [PortalOptions(ddt_flake=1.0)])
def test_first_ddt_export_of_a_session_can_fail(http: httpx.Client) -> None:
    login(http)
    posted = http.post(
        "/Archibald/CUSTPACKINGSLIPJOUR_ListView/",
        data={"__EVENTTARGET": "Vertical$mainMenu$Menu", "__EVENTARGUMENT": "ExportTo"},
    )
    assert posted.status_code == 200 and "Requested objects cannot be loaded" in posted.text
    assert export(http, ExportType.DDT).headers["content-type"] == "application/pdf"


def test_a_browser_not_asking_for_italian_gets_the_english_export(
    http: httpx.Client, tmp_path: Path
) -> None:
    login(http)
    choose_all(http)
    italian = pdf_texts(save(export(http, ExportType.ORDERS, "it-IT"), tmp_path, "it.pdf"))
    # navigator.language decides, not Accept-Language alone
    response = export(http, ExportType.ORDERS, "en-US")
    assert 'filename="Customer orders.pdf"' in response.headers["content-disposition"]
    english = pdf_texts(save(response, tmp_path, "en.pdf"))
    assert any(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", t) for t in italian)
    assert any(re.fullmatch(r"\d\d\.\d{3}", t) for t in italian)
    assert any(re.fullmatch(r"[\d.]+,\d\d €", t) for t in italian)
    assert "NOME VENDITE:" in italian and "NOME VENDITE:" not in english
    moments = [
        t for t in english if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M", t)
    ]
    assert moments and all(int(t.split("/")[0]) <= 12 for t in moments)
    assert any(re.fullmatch(r"\d\d,\d{3}", t) for t in english)
    assert any(re.fullmatch(r"\$[\d,]+\.\d\d", t) for t in english)
    assert not any(t.endswith(" €") for t in english)


@pytest.mark.parametrize("export_type", list(ExportType))
def test_english_file_names(http: httpx.Client, export_type: ExportType) -> None:
    http.headers["Accept-Language"] = "en-GB,en;q=0.8,it;q=0.5"
    login(http)
    disposition = export(http, export_type).headers["content-disposition"]
    assert f'filename="{SPEC_ENGLISH_FILE_NAMES[export_type]}"' in disposition


def test_layout_option_switches_the_epoch_between_two_exports(
    http: httpx.Client, tmp_path: Path
) -> None:
    login(http)
    choose_all(http)
    for t in ExportType:  # every column shown, as a careful client does
        every = ",".join(
            str(c["index"])
            for c in page_config(http, t)["state"]["columns"]
            if not c["caption"].startswith(
                (
                    "CITTA DI",
                    "GIORNI DI",
                    "FINE ESC",
                    "INIZIO ESC",
                    "PREVISIONI",
                    "VENDITE IN",
                    "NUMERO MEC",
                )
            )
        )
        grid_callback(http, t, f"COLUMNS|{every}|0")
    before = {t: save(export(http, t), tmp_path, f"{t}-03.pdf") for t in ExportType}
    assert http.get("/_sim/state").json()["options"]["layout"] == "2026-03"
    reply = http.post("/_sim/options", json={"layout": "2026-01"})
    assert reply.status_code == 200 and reply.json()["layout"] == "2026-01"
    after = {t: save(export(http, t), tmp_path, f"{t}-01.pdf") for t in ExportType}
    for t, (new, old) in {
        ExportType.CUSTOMERS: (8, 9),
        ExportType.DDT: (6, 7),
        ExportType.ORDERS: (7, 7),
        ExportType.PRICES: (3, 3),
        ExportType.INVOICES: (7, 7),
        ExportType.PRODUCTS: (8, 9),
    }.items():
        assert (cycle_length(after[t]), cycle_length(before[t])) == (new, old), t
        if t is not ExportType.INVOICES:  # invoices print no Count=
            assert summary_count(after[t]) == summary_count(before[t]), t
    assert "E-MAIL" in all_headers(before[ExportType.ORDERS])
    assert "E-MAIL" not in all_headers(after[ExportType.ORDERS])
    assert all(r["email"] is None for r in http.get("/_sim/truth/orders").json())
    bad = http.post("/_sim/options", json={"layout": "2025-12", "ddt_flake": 0.5})
    assert bad.status_code == 400 and "2026-01" in bad.json()["error"]
    options = http.get("/_sim/state").json()["options"]
    assert (options["layout"], options["ddt_flake"]) == ("2026-01", 0.0), "all or nothing"
    assert http.post("/_sim/options", json={"filter_prefix": "a3"}).status_code == 400
    assert http.post("/_sim/options", json={"timing": "slow"}).status_code == 400


# -- timing --------------------------------------------------------------------------


def test_real_timing_profile_scales(sim: SimServer) -> None:
    timing = sim.portal.timing
    sim.portal.options.update({"timing": "real", "time_scale": 1.0})
    warm = [timing.login(False) for _ in range(50)]
    cold = [timing.login(True) for _ in range(50)]
    assert min(warm) >= 3 and max(warm) <= 8 and min(cold) >= 15 and max(cold) <= 30
    callbacks = [timing.callback() for _ in range(200)]
    assert min(callbacks) >= 0.25 and max(callbacks) <= 0.88
    assert 0.4 < sum(callbacks) / len(callbacks) < 0.6
    for t, typical in TYPICAL_EXPORT.items():
        draws = sorted(timing.export(t) for _ in range(200))
        assert abs(draws[100] - typical) < typical * 0.2, t
    sim.portal.options.update({"time_scale": 100.0})
    assert max(timing.login(True) for _ in range(20)) <= 0.3
    sim.portal.options.update({"timing": "fast"})
    assert timing.login(True) == 0 and timing.export(ExportType.PRICES) == 0


def test_real_timing_over_http(http: httpx.Client, sim: SimServer) -> None:
    sim.portal.options.update({"timing": "real", "time_scale": 20.0})
    started = time.monotonic()
    login(http)  # the first login is cold: 15–30 s / 20
    assert time.monotonic() - started >= 0.7
    started = time.monotonic()
    export(http, ExportType.INVOICES)  # about 30 s / 20
    assert time.monotonic() - started >= 0.7


def test_sim_command_timing_options(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = ["--port", "0", "--scale", "0.02", "--cache-dir", str(tmp_path)]
    server = build_server(
        parser.parse_args([*args, "--timing", "real", "--time-scale", "8", "--filter-prefix", "a0"])
    )
    try:
        options = server.portal.options
        assert (options.timing, options.time_scale, options.filter_prefix) == ("real", 8.0, "a0")
    finally:
        server.server_close()


@pytest.mark.parametrize("export_type", ["orders", "ddt", "prices", "products"])
def test_renumber_gives_new_internal_ids_and_keeps_all_else(
    http: httpx.Client, export_type: str
) -> None:
    before = http.get(f"/_sim/truth/{export_type}").json()
    version = http.get("/_sim/state").json()["version"]
    reply = http.post(f"/_sim/renumber/{export_type}", json={"seed": 4})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"version": version + 1, "renumbered": len(before)}
    after = http.get(f"/_sim/truth/{export_type}").json()
    assert len(after) == len(before)
    for old, new in zip(before, after, strict=True):
        assert old["id"] != new["id"]
        assert {k: v for k, v in old.items() if k != "id"} == {
            k: v for k, v in new.items() if k != "id"
        }
    # the export keeps its order: IDs stay in the same relative order
    numbers = [int(r["id"]) for r in after]
    old_numbers = [int(r["id"]) for r in before]
    assert sorted(range(len(numbers)), key=numbers.__getitem__) == sorted(
        range(len(old_numbers)), key=old_numbers.__getitem__
    )


def test_renumber_of_invoices_and_customers(http: httpx.Client) -> None:
    before = http.get("/_sim/truth/invoices").json()
    reply = http.post("/_sim/renumber/invoices", json={"seed": 1})
    assert reply.status_code == 200 and reply.json()["renumbered"] == 0
    assert http.get("/_sim/truth/invoices").json() == before
    refused = http.post("/_sim/renumber/customers", json={"seed": 1})
    assert refused.status_code == 400 and "key" in refused.json()["error"]
    assert http.post("/_sim/renumber/orders", json={"seed": "x"}).status_code == 400


def test_records_are_addressed_by_their_key(http: httpx.Client, sim: SimServer) -> None:
    prices = http.get("/_sim/truth/prices").json()
    price = sim.portal.dataset.records(ExportType.PRICES)[0]
    assert "|" in price.key
    changed = http.patch(
        f"/_sim/records/prices/{quote(price.key, safe='')}", json={"unit_price": "9.99"}
    )
    assert changed.status_code == 200 and changed.json()["record"]["unit_price"] == "9.99"
    assert len(http.get("/_sim/truth/prices").json()) == len(prices)
    # a pending order is keyed by its internal ID until it gets its number
    pending = next(r for r in http.get("/_sim/truth/orders").json() if r["order_number"] is None)
    moved = http.patch(
        f"/_sim/records/orders/{pending['id']}", json={"order_number": "ORD/26999001"}
    )
    assert moved.status_code == 200 and moved.json()["key"] == "ORD/26999001"
    assert (
        http.patch(
            f"/_sim/records/orders/{quote('ORD/26999001', safe='')}",
            json={"customer_reference": "x"},
        ).status_code
        == 200
    )
    assert http.delete(f"/_sim/records/orders/{pending['id']}").status_code == 404


# -- faults ----------------------------------------------------------------------


def arm(http: httpx.Client, **spec: object) -> dict:  # type: ignore[type-arg]
    response = http.post("/_sim/faults", json=spec)
    assert response.status_code == 201, response.text
    reply: dict = response.json()  # type: ignore[type-arg]
    return reply


def test_fault_wrong_password_rejects_good_credentials(http: httpx.Client) -> None:
    arm(http, kind="wrong_password")
    assert "error" in dx_reply(http_login(http))
    login(http)


def test_fault_http_500_on_a_page(http: httpx.Client) -> None:
    login(http)
    arm(http, kind="http_500", path="CUSTTABLE")
    response = http.get("/Archibald/CUSTTABLE_ListView_Agent/")
    assert response.status_code == 500
    assert "Server Error" in response.text
    assert http.get("/Archibald/CUSTTABLE_ListView_Agent/").status_code == 200


def test_fault_hung_response_until_released(http: httpx.Client) -> None:
    login(http)
    arm(http, kind="hang", path="CUSTINVOICEJOUR")
    with pytest.raises(httpx.ReadTimeout):
        http.get("/Archibald/CUSTINVOICEJOUR_ListView/", timeout=0.5)
    http.delete("/_sim/faults")
    assert http.get("/Archibald/CUSTINVOICEJOUR_ListView/").status_code == 200


def test_fault_slow_download(http: httpx.Client) -> None:
    login(http)
    size = len(export(http, ExportType.INVOICES).content)
    arm(http, kind="slow_download", type="invoices", rate=size / 1.0)
    started = time.monotonic()
    slow = export(http, ExportType.INVOICES)
    assert time.monotonic() - started >= 0.9
    assert len(slow.content) == size


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("truncated_pdf", lambda body: body.startswith(b"%PDF") and b"%%EOF" not in body[-1024:]),
        ("non_pdf", lambda body: not body.startswith(b"%PDF")),
        ("zero_bytes", lambda body: body == b""),
    ],
)
def test_fault_bad_download(http: httpx.Client, kind: str, check: object) -> None:
    login(http)
    arm(http, kind=kind, type="invoices")
    body = export(http, ExportType.INVOICES).content
    assert callable(check) and check(body)
    assert export(http, ExportType.INVOICES).content.rstrip().endswith(b"%%EOF")


def test_fault_cut_body_interrupts_the_download(http: httpx.Client) -> None:
    login(http)
    arm(http, kind="cut_body", type="invoices", keep=0.3)
    with pytest.raises(httpx.RemoteProtocolError):
        export(http, ExportType.INVOICES)
    assert http.get("/_sim/state").json()["exports_served"]["invoices"] == 0
    assert export(http, ExportType.INVOICES).content.rstrip().endswith(b"%%EOF")


def test_fault_login_redirect_at_the_export(http: httpx.Client) -> None:
    login(http)
    arm(http, kind="login_redirect", type="orders")
    posted = http.post(
        "/Archibald/SALESTABLE_ListView_Agent/",
        data={"__EVENTTARGET": "Vertical$mainMenu$Menu", "__EVENTARGUMENT": "ExportTo"},
    )
    assert posted.status_code == 302
    assert posted.headers["location"].startswith("/Archibald/Login.aspx?ReturnUrl=")
    assert http.get("/Archibald/Default.aspx").status_code == 302  # the session ended
    login(http)
    assert export(http, ExportType.ORDERS).headers["content-type"] == "application/pdf"


def test_fault_empty_and_shrunken_exports(http: httpx.Client, tmp_path: Path) -> None:
    login(http)
    full = summary_count(save(export(http, ExportType.CUSTOMERS), tmp_path, "full.pdf"))
    arm(http, kind="shrunken_export", type="customers")
    shrunk = summary_count(save(export(http, ExportType.CUSTOMERS), tmp_path, "shrunk.pdf"))
    arm(http, kind="empty_export", type="customers")
    empty = save(export(http, ExportType.CUSTOMERS), tmp_path, "empty.pdf")
    assert 0 < shrunk < full / 2
    header = read_pages(empty)[0].header_cells()
    assert header[0] == "ID"
    assert all(
        not run.text.startswith("Count=") or run.text == "Count=0"
        for page in read_pages(empty)
        for run in page.runs
    )


def test_fault_session_expiry_now(http: httpx.Client) -> None:
    login(http)
    assert http.post("/_sim/expire-sessions").json() == {"expired": 1}
    response = http.post(
        "/Archibald/CUSTTABLE_ListView_Agent/",
        data={"__EVENTTARGET": "Vertical$mainMenu$Menu", "__EVENTARGUMENT": "ExportTo"},
    )
    assert response.status_code == 302 and "Login.aspx" in response.headers["location"]


def test_fault_maintenance_page(http: httpx.Client) -> None:
    arm(http, kind="maintenance", times=2)
    assert http.get("/Archibald/Login.aspx").status_code == 503
    assert "Manutenzione" in http.get("/Archibald/Default.aspx").text
    assert 'id="' not in http.get("/Archibald/Login.aspx").text.split("<body", 1)[1] or True
    assert http.get("/Archibald/Login.aspx").status_code == 200


def test_bad_fault_requests_are_rejected_clearly(http: httpx.Client) -> None:
    response = http.post("/_sim/faults", json={"kind": "meteor"})
    assert response.status_code == 400 and "unknown fault kind" in response.json()["error"]
    response = http.post("/_sim/faults", content=b"{not json")
    assert response.status_code == 400 and "JSON" in response.json()["error"]
    response = http.post("/_sim/faults", json={"kind": "hang", "times": 0})
    assert response.status_code == 400


# -- test API and cache -----------------------------------------------------------


def test_truth_and_record_changes(http: httpx.Client, sim: SimServer) -> None:
    truth = http.get("/_sim/truth/invoices").json()
    assert len(truth) == len(sim.portal.dataset.records(ExportType.INVOICES))
    first = truth[0]
    version = http.get("/_sim/state").json()["version"]
    key = first["invoice_number"]

    changed = http.patch(
        f"/_sim/records/invoices/{quote(key, safe='')}", json={"billing_name": "Nuovo Nome S.r.l."}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["record"]["billing_name"] == "Nuovo Nome S.r.l."
    assert http.delete(f"/_sim/records/invoices/{quote(key, safe='')}").status_code == 200
    after = http.get("/_sim/truth/invoices").json()
    assert key not in {r["invoice_number"] for r in after}
    assert http.post("/_sim/records/invoices", json=first).status_code == 201
    assert key in {r["invoice_number"] for r in http.get("/_sim/truth/invoices").json()}
    assert http.get("/_sim/state").json()["version"] == version + 3
    assert http.delete("/_sim/records/invoices/nope").status_code == 404
    assert http.get("/_sim/truth/widgets").status_code == 400


def test_exports_are_cached_per_data_version(http: httpx.Client, tmp_path: Path) -> None:
    login(http)
    export(http, ExportType.INVOICES)
    generated = http.get("/_sim/state").json()["exports_generated"]
    first = export(http, ExportType.INVOICES).content
    assert http.get("/_sim/state").json()["exports_generated"] == generated
    mutated = http.post("/_sim/mutate/invoices", json={"n": 3, "seed": 5})
    assert mutated.status_code == 200, mutated.text
    assert [c["op"] for c in mutated.json()["changes"]] and all(
        c["type"] == "invoices" for c in mutated.json()["changes"]
    )
    second = export(http, ExportType.INVOICES).content
    assert second != first


def test_without_test_api_the_sim_paths_do_not_exist(sim: SimServer) -> None:
    quiet = SimServer(sim.portal, sim.cache, test_api=False)
    quiet.start()
    try:
        assert httpx.get(quiet.url.removesuffix("Archibald/") + "_sim/state").status_code == 404
    finally:
        quiet.close()


def test_sim_seed_and_scale_are_deterministic(sim: SimServer) -> None:
    from archid.sim.dataset import Dataset

    assert Dataset.generate(SIM_SEED, SIM_SCALE).fingerprint == sim.portal.dataset.fingerprint


def test_concurrent_requests_are_served(http: httpx.Client, sim: SimServer) -> None:
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            assert httpx.get(sim.url + "Login.aspx").status_code == 200
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors


def test_sim_command_serves_the_chosen_layout_epoch(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["--port", "0", "--scale", "0.02", "--cache-dir", str(tmp_path)]
    newest = build_server(parser.parse_args(base))
    january = build_server(parser.parse_args([*base, "--layout", "2026-01"]))
    try:
        assert newest.portal.options.layout == "2026-03"
        assert january.portal.options.layout == "2026-01"
    finally:
        newest.server_close()
        january.server_close()
    with pytest.raises(SystemExit):
        parser.parse_args([*base, "--layout", "2026-02"])
    with pytest.raises(ValueError, match="layout"):
        PortalOptions(layout="2025-12")
