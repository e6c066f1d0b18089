"""The simulated portal over real HTTP: login, sessions, list state, exports, faults."""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from archid.records import ExportType
from archid.sim.main import add_arguments, build_server
from archid.sim.portal import Portal, PortalOptions
from archid.sim.server import SimServer
from tests.conftest import SIM_SCALE, SIM_SEED, http_login, login_form
from tests.pdftext import read_pages
from tests.spec_layouts import ENGLISH_FILE_NAMES, LIST_VIEWS
from tests.spec_layouts import FILE_NAMES as SPEC_FILE_NAMES

VIEWS = {t: LIST_VIEWS[t] for t in ExportType}
FILE_NAMES = {t: SPEC_FILE_NAMES[t] for t in ExportType}
SPEC_ENGLISH_FILE_NAMES = {t: ENGLISH_FILE_NAMES[t] for t in ExportType}


def callback(client: httpx.Client, export_type: ExportType, name: str, param: str = "") -> dict:  # type: ignore[type-arg]
    response = client.post(
        f"/Archibald/{VIEWS[export_type]}/",
        data={"__CALLBACKID": name, "__CALLBACKPARAM": param},
    )
    assert response.status_code == 200, response.text
    match = re.fullmatch(r"/\*DX\*/\((.*)\)", response.text, re.S)
    assert match, f"callback reply not wrapped as /*DX*/(...): {response.text[:80]}"
    reply: dict = json.loads(match.group(1))  # type: ignore[type-arg]
    return reply


def export(client: httpx.Client, export_type: ExportType) -> httpx.Response:
    reply = callback(client, export_type, "export", "pdf")
    assert "url" in reply, reply
    return client.get(reply["url"])


def save(response: httpx.Response, tmp_path: Path, name: str = "export.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(response.content)
    return path


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


# -- login and sessions ----------------------------------------------------------


def test_login_page_is_a_webforms_postback_with_generated_field_names(
    http: httpx.Client, sim: SimServer
) -> None:
    page = http.get("/Archibald/Login.aspx", params={"ReturnUrl": "/Archibald/Default.aspx"})
    assert page.status_code == 200
    fields = login_form(page.text)
    assert fields["__VIEWSTATE"] and fields["__EVENTVALIDATION"]
    assert any(name.endswith("_EditorClientInfo") for name in fields)
    user = next(name for name in fields if "UserName" in name and name.endswith("_Edit"))
    number = sim.portal.field_number
    assert user == f"Logon$v0_{number}$MainLayoutEdit$xaf_l12$xaf_l30$xaf_dviUserName_Edit"
    assert f'id="{user.replace("$", "_")}_I"' in page.text
    assert re.search(r'type="password" name="[^"]*xaf_dviPassword_Edit"', page.text)
    assert 'id="Logon_PopupActions_Menu_DXI0_T"' in page.text
    assert ">Accedi<" in page.text


def test_login_field_names_change_between_starts(sim: SimServer) -> None:
    numbers = {Portal(dataset=sim.portal.dataset).field_number for _ in range(6)}
    assert len(numbers) > 1


def test_login_sets_session_cookies_and_returns_to_the_page(http: httpx.Client) -> None:
    response = http_login(http)
    assert response.status_code == 302
    assert response.headers["location"] == "/Archibald/Default.aspx"
    assert {"ASP.NET_SessionId", ".ASPXAUTH", "ArchibaldUserName"} <= set(http.cookies.keys())
    assert http.get("/Archibald/Default.aspx").status_code == 200


def test_wrong_credentials_stay_on_the_login_page_with_an_error(http: httpx.Client) -> None:
    response = http_login(http, password="wrong")
    assert response.status_code == 200
    assert "Nome utente o password non validi" in response.text
    assert ".ASPXAUTH" not in http.cookies


def test_pages_without_a_session_redirect_to_login(http: httpx.Client) -> None:
    response = http.get("/Archibald/CUSTTABLE_ListView_Agent/")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/Archibald/Login.aspx?ReturnUrl=")
    assert "CUSTTABLE_ListView_Agent" in response.headers["location"]


def test_idle_session_silently_redirects_to_login(http: httpx.Client, sim: SimServer) -> None:
    http_login(http)
    assert http.get("/Archibald/Default.aspx").status_code == 200
    sim.portal.advance_clock(sim.portal.options.session_idle - 5)
    assert http.get("/Archibald/Default.aspx").status_code == 200  # activity slides it
    sim.portal.advance_clock(sim.portal.options.session_idle + 1)
    response = http.get("/Archibald/CUSTINVOICEJOUR_ListView/")
    assert response.status_code == 302
    assert "Login.aspx" in response.headers["location"]


@pytest.mark.parametrize("sim_options", [PortalOptions(daily_login_cap=2, ddt_flake=0.0)])
def test_daily_login_cap_blocks_for_the_rest_of_the_day(http: httpx.Client, sim: SimServer) -> None:
    assert http_login(http).status_code == 302
    assert http_login(http).status_code == 302
    blocked = http_login(http)
    assert blocked.status_code == 403
    assert "blocked" in blocked.text
    assert http.get("/Archibald/Default.aspx").status_code == 403
    assert http.get("/Archibald/Login.aspx").status_code == 403
    sim.portal.advance_clock(24 * 3600)
    assert http_login(http).status_code == 302


# -- list views ----------------------------------------------------------------


@pytest.mark.parametrize("export_type", list(ExportType))
def test_list_view_has_the_export_menu_found_by_text(
    http: httpx.Client, export_type: ExportType
) -> None:
    http_login(http)
    page = http.get(f"/Archibald/{VIEWS[export_type]}/")
    assert page.status_code == 200
    index = 7 if export_type is ExportType.ORDERS else 3
    assert re.search(rf'id="Vertical_mainMenu_Menu_DXI{index}_T"[^>]*>Esportare in<', page.text), (
        "export item not at its default index"
    )
    assert re.search(rf'id="Vertical_mainMenu_Menu_DXI{index}i0_T"[^>]*>PDF<', page.text)
    assert 'id="Vertical_LPV"' in page.text and "dxlp" in page.text


@pytest.mark.parametrize(
    "sim_options",
    [PortalOptions(export_menu_index=5, doubled_menu_text=True, english_ui=True, ddt_flake=0.0)],
)
def test_menu_index_and_text_are_configurable(http: httpx.Client) -> None:
    http_login(http)
    page = http.get("/Archibald/CUSTTABLE_ListView_Agent/").text
    assert re.search(r'id="Vertical_mainMenu_Menu_DXI5_T"[^>]*>Export toExport to<', page)


# -- exports ---------------------------------------------------------------------


@pytest.mark.parametrize("export_type", list(ExportType))
def test_download_has_the_real_file_name(http: httpx.Client, export_type: ExportType) -> None:
    http_login(http)
    callback(http, ExportType.ORDERS, "orders_filter", "all")
    response = export(http, export_type)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="{FILE_NAMES[export_type]}"' in disposition
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")


def test_export_link_works_once(http: httpx.Client) -> None:
    http_login(http)
    reply = callback(http, ExportType.INVOICES, "export", "pdf")
    assert http.get(reply["url"]).status_code == 200
    assert http.get(reply["url"]).status_code == 404


def test_orders_default_to_open_orders_until_all_are_chosen(
    http: httpx.Client, tmp_path: Path
) -> None:
    http_login(http)
    page = http.get("/Archibald/SALESTABLE_ListView_Agent/").text
    assert 'value="Ordini aperti"' in page
    open_only = summary_count(save(export(http, ExportType.ORDERS), tmp_path, "open.pdf"))
    callback(http, ExportType.ORDERS, "orders_filter", "all")
    assert 'value="Tutti gli ordini"' in http.get("/Archibald/SALESTABLE_ListView_Agent/").text
    everything = summary_count(save(export(http, ExportType.ORDERS), tmp_path, "all.pdf"))
    assert 0 < open_only < everything
    # The choice is saved in the user's profile: a new session keeps it.
    http.cookies.clear()
    http_login(http)
    assert summary_count(save(export(http, ExportType.ORDERS), tmp_path, "again.pdf")) == everything


def test_products_saved_filter_and_hidden_columns(http: httpx.Client, tmp_path: Path) -> None:
    http_login(http)
    page = http.get("/Archibald/INVENTTABLE_ListView/").text
    assert "Cancella filtro" in page and "Scelta colonne" in page
    filtered = save(export(http, ExportType.PRODUCTS), tmp_path, "filtered.pdf")
    callback(http, ExportType.PRODUCTS, "clear_filter")
    unfiltered = save(export(http, ExportType.PRODUCTS), tmp_path, "unfiltered.pdf")
    assert summary_count(filtered) < summary_count(unfiltered)
    assert cycle_length(unfiltered) == 5  # a fresh session hides 18 columns
    callback(http, ExportType.PRODUCTS, "show_columns")
    full = save(export(http, ExportType.PRODUCTS), tmp_path, "full.pdf")
    assert cycle_length(full) == 9
    assert summary_count(full) == summary_count(unfiltered)
    # A fresh session hides the columns again; the cleared filter stays cleared.
    http.cookies.clear()
    http_login(http)
    page = http.get("/Archibald/INVENTTABLE_ListView/").text
    assert "Cancella filtro" not in page and "Scelta colonne" in page


@pytest.mark.parametrize("sim_options", [PortalOptions(ddt_flake=1.0)])
def test_first_ddt_export_of_a_session_can_fail(http: httpx.Client) -> None:
    http_login(http)
    assert "url" in callback(http, ExportType.INVOICES, "export", "pdf")
    first = callback(http, ExportType.DDT, "export", "pdf")
    assert first == {"error": "Requested objects cannot be loaded"}
    assert "url" in callback(http, ExportType.DDT, "export", "pdf")
    http.cookies.clear()
    http_login(http)
    assert "error" in callback(http, ExportType.DDT, "export", "pdf")


def _texts(path: Path) -> list[str]:
    return [run.text for page in read_pages(path) for run in page.runs]


def test_a_browser_not_asking_for_italian_gets_the_english_export(
    http: httpx.Client, tmp_path: Path
) -> None:
    http_login(http)
    callback(http, ExportType.ORDERS, "orders_filter", "all")
    italian = _texts(save(export(http, ExportType.ORDERS), tmp_path, "it.pdf"))
    http.headers["Accept-Language"] = "en-US,en;q=0.9"
    response = export(http, ExportType.ORDERS)
    assert 'filename="Customer orders.pdf"' in response.headers["content-disposition"]
    english = _texts(save(response, tmp_path, "en.pdf"))
    # Italian: 24 h date-times day first, IDs with dots, amounts "105,60 €".
    assert any(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", t) for t in italian)
    assert any(re.fullmatch(r"\d\d\.\d{3}", t) for t in italian)
    assert any(re.fullmatch(r"[\d.]+,\d\d €", t) for t in italian)
    assert "PROFILO CLIENTE:" in italian and "PROFILO CLIENTE:" not in english
    # English (spec v2 section 1): "3/28/2026 6:24:57 AM", "55,080", "$14.34".
    moments = [
        t for t in english if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M", t)
    ]
    assert moments and all(int(t.split("/")[0]) <= 12 for t in moments)
    assert any(int(t.split("/")[1]) > 12 for t in moments)
    assert any(re.fullmatch(r"\d\d,\d{3}", t) for t in english)
    assert any(re.fullmatch(r"\$[\d,]+\.\d\d", t) for t in english)
    assert not any(t.endswith(" €") for t in english)


@pytest.mark.parametrize("export_type", list(ExportType))
def test_english_file_names(http: httpx.Client, export_type: ExportType) -> None:
    http.headers["Accept-Language"] = "en-GB,en;q=0.8,it;q=0.5"
    http_login(http)
    disposition = export(http, export_type).headers["content-disposition"]
    assert f'filename="{SPEC_ENGLISH_FILE_NAMES[export_type]}"' in disposition


def test_layout_option_switches_the_epoch_between_two_exports(
    http: httpx.Client, tmp_path: Path
) -> None:
    http_login(http)
    callback(http, ExportType.ORDERS, "orders_filter", "all")
    before = {t: save(export(http, t), tmp_path, f"{t}-03.pdf") for t in ExportType}
    assert http.get("/_sim/state").json()["options"]["layout"] == "2026-03"
    reply = http.post("/_sim/options", json={"layout": "2026-01"})
    assert reply.status_code == 200 and reply.json()["layout"] == "2026-01"
    after = {t: save(export(http, t), tmp_path, f"{t}-01.pdf") for t in ExportType}
    # the same session; only the epoch changed
    for t, (new, old) in {
        ExportType.CUSTOMERS: (8, 9),
        ExportType.DDT: (6, 7),
        ExportType.ORDERS: (7, 7),
        ExportType.PRICES: (3, 3),
        ExportType.INVOICES: (7, 7),
    }.items():
        assert (cycle_length(after[t]), cycle_length(before[t])) == (new, old), t
        if t is not ExportType.INVOICES:  # invoices print no Count=
            assert summary_count(after[t]) == summary_count(before[t]), t
    # products: 5 pages in a fresh 2026-03 session, all 8 in January's layout
    assert (
        cycle_length(before[ExportType.PRODUCTS]),
        cycle_length(after[ExportType.PRODUCTS]),
    ) == (5, 8)
    orders_headers = {
        c for page in read_pages(before[ExportType.ORDERS]) for c in page.header_cells()
    }
    assert "E-MAIL" in orders_headers
    orders_headers = {
        c for page in read_pages(after[ExportType.ORDERS]) for c in page.header_cells()
    }
    assert "E-MAIL" not in orders_headers
    # the truth follows the epoch: January's orders have no e-mail to read
    assert all(r["email"] is None for r in http.get("/_sim/truth/orders").json())
    bad = http.post("/_sim/options", json={"layout": "2025-12", "ddt_flake": 0.5})
    assert bad.status_code == 400 and "2026-01" in bad.json()["error"]
    options = http.get("/_sim/state").json()["options"]
    assert (options["layout"], options["ddt_flake"]) == ("2026-01", 0.0), "all or nothing"


def test_invoices_order_column_is_switched_on_in_the_column_chooser(
    http: httpx.Client, tmp_path: Path
) -> None:
    http_login(http)
    page = http.get("/Archibald/CUSTINVOICEJOUR_ListView/").text
    assert "Scelta colonne" in page and 'data-column="ID VENDITE"' in page
    hidden = save(export(http, ExportType.INVOICES), tmp_path, "hidden.pdf")
    assert "ID VENDITE" not in {c for p in read_pages(hidden) for c in p.header_cells()}
    assert callback(http, ExportType.INVOICES, "show_column", "NO SUCH COLUMN")["error"]
    assert callback(http, ExportType.INVOICES, "show_column", "ID VENDITE") == {"ok": True}
    assert 'data-column="ID VENDITE"' not in http.get("/Archibald/CUSTINVOICEJOUR_ListView/").text
    shown = save(export(http, ExportType.INVOICES), tmp_path, "shown.pdf")
    assert read_pages(shown)[6].header_cells() == ["CHIUSO", "IMPORTO RIMANENTE MST", "ID VENDITE"]
    assert read_pages(hidden)[6].header_cells() == ["CHIUSO", "IMPORTO RIMANENTE MST"]
    # which columns are visible is reset with every new session
    http.cookies.clear()
    http_login(http)
    assert 'data-column="ID VENDITE"' in http.get("/Archibald/CUSTINVOICEJOUR_ListView/").text


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
    assert "non validi" in http_login(http).text
    assert http_login(http).status_code == 302


def test_fault_http_500_on_a_page(http: httpx.Client) -> None:
    http_login(http)
    arm(http, kind="http_500", path="CUSTTABLE")
    response = http.get("/Archibald/CUSTTABLE_ListView_Agent/")
    assert response.status_code == 500
    assert "Server Error" in response.text
    assert http.get("/Archibald/CUSTTABLE_ListView_Agent/").status_code == 200


def test_fault_hung_response_until_released(http: httpx.Client) -> None:
    http_login(http)
    arm(http, kind="hang", path="CUSTINVOICEJOUR")
    with pytest.raises(httpx.ReadTimeout):
        http.get("/Archibald/CUSTINVOICEJOUR_ListView/", timeout=0.5)
    http.delete("/_sim/faults")
    assert http.get("/Archibald/CUSTINVOICEJOUR_ListView/").status_code == 200


def test_fault_slow_download(http: httpx.Client) -> None:
    http_login(http)
    reply = callback(http, ExportType.INVOICES, "export", "pdf")
    size = len(http.get(reply["url"]).content)
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
    http_login(http)
    arm(http, kind=kind, type="invoices")
    body = export(http, ExportType.INVOICES).content
    assert callable(check) and check(body)
    assert export(http, ExportType.INVOICES).content.rstrip().endswith(b"%%EOF")


def test_fault_empty_and_shrunken_exports(http: httpx.Client, tmp_path: Path) -> None:
    http_login(http)
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
    http_login(http)
    assert http.post("/_sim/expire-sessions").json() == {"expired": 1}
    response = http.post(
        "/Archibald/CUSTTABLE_ListView_Agent/",
        data={"__CALLBACKID": "export", "__CALLBACKPARAM": "pdf"},
    )
    assert response.status_code == 302 and "Login.aspx" in response.headers["location"]


def test_fault_maintenance_page(http: httpx.Client) -> None:
    arm(http, kind="maintenance", times=2)
    assert http.get("/Archibald/Login.aspx").status_code == 503
    assert "Manutenzione" in http.get("/Archibald/Default.aspx").text
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
    http_login(http)
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
