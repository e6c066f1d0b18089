"""What the simulated grid tells a client that reads it instead of exporting it.

A change through the test API is stamped with the portal's clock (the
grid's MODIFIEDDATETIME, a product's ``modified_at``), deletions shrink the
pager's count, new customers get the highest IDs, sorted headers carry
DevExpress's sort glyph, and a grid callback can be made to fail.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from archid.records import Customer, ExportType, record_key
from archid.sim.dataset import Dataset
from archid.sim.server import SimServer
from tests.sim.helpers import (
    choose_all,
    export,
    grid_callback,
    login,
    page_config,
    pdf_texts,
    save,
)


def newest(http: httpx.Client, t: ExportType) -> datetime:
    """Row 0's MODIFIEDDATETIME of the grid sorted by it, newest first."""
    config = page_config(http, t)
    column = next(c for c in config["state"]["columns"] if c["fieldName"] == "MODIFIEDDATETIME")
    wanted = {"column": column["caption"], "descending": True}
    for _ in range(2):
        if http.get("/_sim/state").json()["users"]["agent"]["lists"][t]["sort"] == wanted:
            break
        grid_callback(http, t, f"SORT|{column['index']}|0")
    assert http.get("/_sim/state").json()["users"]["agent"]["lists"][t]["sort"] == wanted
    grid_callback(http, t, "PAGE|0|0")
    value = grid_callback(http, t, "ROWVALUES|0|MODIFIEDDATETIME")["values"][0]
    return datetime.fromisoformat(value["__date"])


def header_of(grid_html: str, index: int) -> str:
    cell = rf'<td id="[^"]*_col{index}" class="dxgvHeader_XafTheme"[^>]*>(.*?)</td>'
    match = re.search(cell, grid_html)
    assert match, f"no header cell for column {index}"
    return match.group(1)


def local_now(sim: SimServer) -> datetime:
    return sim.portal.local_now()


def test_changes_are_stamped_with_the_portals_clock(http: httpx.Client, sim: SimServer) -> None:
    login(http)
    choose_all(http)
    for t in (ExportType.ORDERS, ExportType.DDT, ExportType.INVOICES, ExportType.PRICES):
        before = newest(http, t)
        with sim.portal.lock:
            oldest = record_key(sim.portal.dataset.records(t)[-1])
        field = {
            ExportType.ORDERS: {"customer_reference": "Rif. 1/26"},
            ExportType.DDT: {"quantity": 3},
            ExportType.INVOICES: {"due_date": "2026-05-31"},
            ExportType.PRICES: {"unit_price": "9.99"},
        }[t]
        reply = http.patch(f"/_sim/records/{t}/{quote(oldest, safe='')}", json=field)
        assert reply.status_code == 200, reply.text
        stamped = newest(http, t)
        assert stamped > before
        assert abs(stamped - local_now(sim)) < timedelta(seconds=3), t
        assert sim.portal.dataset.stamps(t)[reply.json()["key"]] == stamped
    # The clock the test API moves is the one changes are stamped with.
    http.post("/_sim/clock", json={"advance": 7200})
    login(http)  # two idle hours ended the session
    with sim.portal.lock:
        key = record_key(sim.portal.dataset.records(ExportType.ORDERS)[3])
    http.patch(f"/_sim/records/orders/{quote(key, safe='')}", json={"customer_reference": "x"})
    later = newest(http, ExportType.ORDERS)
    assert abs(later - local_now(sim)) < timedelta(seconds=3)
    assert later - datetime.now() > timedelta(minutes=100)


def test_a_products_modified_at_is_the_portals_clock_unless_the_change_sets_it(
    http: httpx.Client, sim: SimServer
) -> None:
    article = http.get("/_sim/truth/products").json()[0]["article"]
    path = f"/_sim/records/products/{quote(article, safe='')}"
    changed = http.patch(path, json={"description": "Nuova"}).json()["record"]
    moment = datetime.fromisoformat(changed["modified_at"])
    assert abs(moment - local_now(sim)) < timedelta(seconds=3) and moment.microsecond == 0
    truth = {p["article"]: p for p in http.get("/_sim/truth/products").json()}
    assert truth[article]["modified_at"] == changed["modified_at"]
    given = http.patch(path, json={"modified_at": "2026-01-02T03:04:05"}).json()["record"]
    assert given["modified_at"] == "2026-01-02T03:04:05"


def test_deletions_shrink_the_pagers_count(http: httpx.Client, sim: SimServer) -> None:
    login(http)
    choose_all(http)

    def count() -> int:
        grid = grid_callback(http, ExportType.DDT, "PERFORM|0")["grid"]
        match = re.search(r"\((\d+) elementi\)", grid)
        assert match
        return int(match.group(1))

    before = count()
    key = http.get("/_sim/truth/ddt").json()[0]["ddt_number"]
    assert http.delete(f"/_sim/records/ddt/{quote(key, safe='')}").status_code == 200
    assert count() == before - 1
    assert key not in sim.portal.dataset.stamps(ExportType.DDT)


def test_mutations_are_stamped_and_new_customers_get_the_highest_ids(sim: SimServer) -> None:
    reply = httpx.post(sim.url.removesuffix("Archibald/") + "_sim/mutate/ddt", json={"n": 6})
    assert reply.status_code == 200, reply.text
    stamps = sim.portal.dataset.stamps(ExportType.DDT)
    kept = [c for c in reply.json()["changes"] if c["op"] != "delete" and c["after"]]
    assert kept and all(c["after"]["ddt_number"] in stamps for c in kept)
    dataset = Dataset.generate(3, 0.02)
    highest = max(int(c.key) for c in dataset.records(ExportType.CUSTOMERS))
    changes = dataset.mutate(ExportType.CUSTOMERS, 5, 40)
    # The highest customers go too: a new one's ID is still above every ID given before.
    top = next(
        c.key
        for c in dataset.records(ExportType.CUSTOMERS)
        if int(c.key) == max(int(r.key) for r in dataset.records(ExportType.CUSTOMERS))
    )
    dataset.delete(ExportType.CUSTOMERS, top)
    changes += dataset.mutate(ExportType.CUSTOMERS, 6, 20)
    added = [c.after for c in changes if c.op == "add"]
    assert added
    for customer in added:
        assert isinstance(customer, Customer) and int(customer.id) > highest
        highest = int(customer.id)
    # Without a clock nothing is stamped: generated data and plain mutations stay as they were.
    assert not dataset.stamps(ExportType.CUSTOMERS)
    assert not Dataset.generate(3, 0.02).stamps(ExportType.ORDERS)


def test_sorted_headers_show_devexpress_sort_glyphs(http: httpx.Client, sim: SimServer) -> None:
    login(http)
    choose_all(http)
    config = page_config(http, ExportType.DDT)
    by_caption = {c["caption"]: c["index"] for c in config["state"]["columns"]}
    page = http.get("/Archibald/CUSTPACKINGSLIPJOUR_ListView/").text
    date = by_caption["DATA DI CONSEGNA"]
    assert "dxGridView_gvHeaderSortDown_XafTheme" in header_of(page, date)
    assert page.count("gvHeaderSort") == 1
    other = by_caption["DOCUMENTO DI TRASPORTO:"]
    up = grid_callback(http, ExportType.DDT, f"SORT|{other}|0")["grid"]
    assert "dxGridView_gvHeaderSortUp_XafTheme" in header_of(up, other)
    assert "gvHeaderSort" not in header_of(up, date)
    down = grid_callback(http, ExportType.DDT, f"SORT|{other}|0")["grid"]
    assert "dxGridView_gvHeaderSortDown_XafTheme" in header_of(down, other)
    saved = http.get("/_sim/state").json()["users"]["agent"]["lists"]["ddt"]["sort"]
    assert saved == {"column": "DOCUMENTO DI TRASPORTO:", "descending": True}
    # Orders are sorted by their hidden MODIFIEDDATETIME: no shown header has a glyph.
    assert "gvHeaderSort" not in http.get("/Archibald/SALESTABLE_ListView_Agent/").text


def test_sort_by_sorts_one_column_in_the_order_asked_and_none_unsorts(
    http: httpx.Client,
) -> None:
    """DevExpress's SortBy: one callback for a descending sort (two header clicks), saved."""
    login(http)
    choose_all(http)
    config = page_config(http, ExportType.PRICES)
    by_caption = {c["caption"]: c["index"] for c in config["state"]["columns"]}
    column = by_caption["ID"]
    down = grid_callback(http, ExportType.PRICES, f"SORTBY|{column}/DSC|0")["grid"]
    assert "dxGridView_gvHeaderSortDown_XafTheme" in header_of(down, column)
    assert down.count("gvHeaderSort") == 1

    def saved() -> Any:
        return http.get("/_sim/state").json()["users"]["agent"]["lists"]["prices"]["sort"]

    assert saved() == {"column": "ID", "descending": True}
    # Asked again, the order stays (a header click would turn it).
    grid_callback(http, ExportType.PRICES, f"SORTBY|{column}/DSC|0")
    assert saved() == {"column": "ID", "descending": True}
    grid_callback(http, ExportType.PRICES, f"SORTBY|{column}/ASC|0")
    assert saved() == {"column": "ID", "descending": False}
    unsorted = grid_callback(http, ExportType.PRICES, f"SORTBY|{column}/NONE|0")["grid"]
    assert "gvHeaderSort" not in unsorted
    for bad in (f"{column}/UP", "999/DSC", "x/DSC"):
        assert set(grid_callback(http, ExportType.PRICES, f"SORTBY|{bad}|0")) == {"error"}
    assert saved() == {"column": "", "descending": False}


def test_a_grid_error_fault_answers_the_matching_command_with_an_error(
    http: httpx.Client,
) -> None:
    login(http)
    armed = http.post(
        "/_sim/faults", json={"kind": "grid_error", "type": "orders", "path": "ROWVALUES"}
    )
    assert armed.status_code == 201, armed.text
    assert "grid" in grid_callback(http, ExportType.ORDERS, "PAGE|0|0")
    reply: dict[str, Any] = grid_callback(http, ExportType.ORDERS, "ROWVALUES|0|MODIFIEDDATETIME")
    assert set(reply) == {"error"}
    assert "values" in grid_callback(http, ExportType.ORDERS, "ROWVALUES|0|MODIFIEDDATETIME")


def test_a_shown_modification_column_prints_the_stamp(
    http: httpx.Client, sim: SimServer, tmp_path: Path
) -> None:
    login(http)
    choose_all(http)
    with sim.portal.lock:
        key = record_key(sim.portal.dataset.records(ExportType.PRICES)[0])
    http.patch(f"/_sim/records/prices/{quote(key, safe='')}", json={"unit_price": "1.50"})
    stamp = sim.portal.dataset.stamps(ExportType.PRICES)[key]
    config = page_config(http, ExportType.PRICES)
    shown = [c["index"] for c in config["state"]["columns"] if c["visible"]]
    modified = next(
        c["index"] for c in config["state"]["columns"] if c["fieldName"] == "MODIFIEDDATETIME"
    )
    grid_callback(http, ExportType.PRICES, f"COLUMNS|{','.join(map(str, [*shown, modified]))}|0")
    path = save(export(http, ExportType.PRICES), tmp_path)
    assert stamp.strftime("%d/%m/%Y %H:%M:%S") in " ".join(pdf_texts(path))
