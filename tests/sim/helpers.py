"""A client of the simulated portal over plain HTTP, as the sim's tests drive it:
the list page's config, grid and control callbacks, the saved filters, an
export's two requests, and the exported PDF's texts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from archid.records import ExportType
from tests.conftest import dx_reply, http_login
from tests.pdftext import read_pages
from tests.spec_layouts import FILE_NAMES as SPEC_FILE_NAMES
from tests.spec_layouts import LIST_VIEWS

VIEWS = {t: LIST_VIEWS[t] for t in ExportType}
FILE_NAMES = {t: SPEC_FILE_NAMES[t] for t in ExportType}


def page_config(client: httpx.Client, export_type: ExportType) -> dict[str, Any]:
    """The list page's ``window.SIM_CONFIG`` (grid id, combo ids, grid state)."""
    page = client.get(f"/Archibald/{VIEWS[export_type]}/")
    assert page.status_code == 200, page.status_code
    match = re.search(r"window\.SIM_CONFIG = (\{.*?\});</script>", page.text)
    assert match, "no page config"
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def callback(
    client: httpx.Client, export_type: ExportType, control: str, param: str = ""
) -> dict[str, Any]:
    response = client.post(
        f"/Archibald/{VIEWS[export_type]}/",
        data={"__CALLBACKID": control, "__CALLBACKPARAM": param},
    )
    assert response.status_code == 200, response.text
    return dx_reply(response)


def grid_callback(client: httpx.Client, export_type: ExportType, param: str) -> dict[str, Any]:
    return callback(client, export_type, page_config(client, export_type)["gridId"], param)


def choose_all(client: httpx.Client) -> None:
    """Every list on its wanted item (the truth), products' grid filter off."""
    reply = client.post(
        "/_sim/saved-filters",
        json={
            "customers": "All_Customers",
            "orders": "ListViewSalesTableOrdersAll",
            "ddt": "ListViewPackingSlipsAll",
            "invoices": "All_invoices",
            "prices": "ActivePrices",
            "products": False,
        },
    )
    assert reply.status_code == 200, reply.text


def export(
    client: httpx.Client, export_type: ExportType, language: str | None = None
) -> httpx.Response:
    """A click on "Esportare in": the form's POST, then the GET that brings the file."""
    address = f"/Archibald/{VIEWS[export_type]}/"
    form = {
        "__EVENTTARGET": "Vertical$mainMenu$Menu",
        "__EVENTARGUMENT": "ExportTo",
        "__CLIENTLANGUAGE": language or "",
    }
    posted = client.post(address, data=form)
    assert posted.status_code == 302, posted.text[:200]
    assert posted.headers["location"] == address
    return client.get(address)


def login(client: httpx.Client) -> None:
    assert dx_reply(http_login(client)) == {"redirect": "/Archibald/Default.aspx"}


def save(response: httpx.Response, tmp_path: Path, name: str = "export.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(response.content)
    return path


def pdf_texts(path: Path) -> list[str]:
    """Every text run of the PDF at ``path``, page by page."""
    return [run.text for page in read_pages(path) for run in page.runs]
