"""What several portal tests share: the simulator's test API, its truth, the agent's choices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from archid.exports import SPECS, parse_export
from archid.records import ExportType, Record
from archid.sim.layouts import FULL_VIEW, expected_records
from archid.sim.server import SimServer

#: the agent's own narrow choices, saved in the profile archid shares (spec v3's table)
NARROW = {
    "ddt": "ListViewPackingSlipsToday",
    "orders": "ListViewSalesTableOrdersToday",
    "customers": "Free_customers",
    "invoices": "open_invoices",
    "prices": "ClosedPrices",
    "products": True,
}


def truth(sim: SimServer, export_type: ExportType) -> list[Record]:
    with sim.portal.lock:
        records = list(sim.portal.dataset.records(export_type))
    return expected_records(export_type, records, FULL_VIEW)


def parsed(path: Path, export_type: ExportType) -> list[Record]:
    return list(parse_export(SPECS[export_type], path))


def assert_complete(sim: SimServer, export_type: ExportType, path: Path) -> None:
    """Every record of the portal, every field read (no column hidden, no filter)."""
    records = parsed(path, export_type)
    assert sorted(records, key=lambda r: r.key) == sorted(
        truth(sim, export_type), key=lambda r: r.key
    )
    assert not [r for r in records if r.unread], "a column archid reads was hidden"


def api(sim: SimServer, method: str, path: str, body: Any = None) -> Any:
    root = sim.url.removesuffix("Archibald/")
    reply = httpx.request(method, f"{root}_sim/{path}", json=body, timeout=30)
    reply.raise_for_status()
    return reply.json()
