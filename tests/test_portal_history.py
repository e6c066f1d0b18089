"""The portal's history, lived through by the real daemon against the simulator.

Each test runs :func:`archid.app.serve` in this process (headless
Chromium, the parser, the store on a real SQLite file) and changes the
simulated portal between two syncs the way the real one changed (spec v2,
"Layout history"): the layout epoch switches, the ERP renumbers its
internal IDs, a session hides a column. What the mirror holds is compared
with the simulator's truth, and what the runs say with what happened.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from archid.config import load_config
from archid.daemon.service import Daemon
from archid.demo import write_config
from archid.records import ExportType, Order, Price, from_json, to_json
from archid.sim.portal import PortalOptions
from archid.sim.server import SimServer
from archid.store import FeedEntry, changes_since, latest_seq, open_database
from tests.inprocess import Events, Sync, timed_sync, with_daemon

pytestmark = [pytest.mark.browser, pytest.mark.slow]

T = ExportType


@pytest.fixture
def sim_options() -> PortalOptions:
    return PortalOptions(ddt_flake=0.0, loading_min=0.05, loading_max=0.15)


class Mirror:
    """The daemon's database and the simulator's test API, side by side."""

    def __init__(self, http: httpx.Client, config: Path) -> None:
        self.http = http
        self.config = config
        self.database = load_config(config).database.path

    def stored(self, export_type: ExportType) -> dict[str, dict[str, Any]]:
        with open_database(self.database) as db:
            return {key: to_json(r) for key, r in db.read_records(export_type).items()}

    def truth(self, export_type: ExportType) -> list[dict[str, Any]]:
        response = self.http.get(f"/_sim/truth/{export_type}")
        response.raise_for_status()
        truth: list[dict[str, Any]] = response.json()
        return truth

    def options(self, **options: object) -> None:
        self.http.post("/_sim/options", json=options).raise_for_status()

    def renumber(self, export_type: ExportType, seed: int) -> int:
        response = self.http.post(f"/_sim/renumber/{export_type}", json={"seed": seed})
        response.raise_for_status()
        renumbered: int = response.json()["renumbered"]
        return renumbered

    def run_row(self, run: int) -> dict[str, Any]:
        with open_database(self.database) as db:
            cursor = db.connection.execute("SELECT * FROM sync_runs WHERE id = ?", (run,))
            names = [d[0] for d in cursor.getdescription()]
            row = cursor.fetchone()
        assert row is not None
        return dict(zip(names, row, strict=True))

    def warnings(self, run: int) -> dict[str, Any]:
        """The run's ``warnings`` column as an app would read it: JSON, ``{}`` when NULL."""
        text = self.run_row(run)["warnings"]
        return dict(json.loads(text)) if text else {}

    def feed(self, export_type: ExportType, after_seq: int) -> list[FeedEntry]:
        """The change feed of ``export_type`` after ``after_seq``, through the consumer API."""
        with open_database(self.database) as db:
            return changes_since(db, after_seq, limit=1_000_000, types=[export_type])

    def last_seq(self) -> int:
        with open_database(self.database) as db:
            return latest_seq(db)


@pytest.fixture
def mirror(sim: SimServer, http: httpx.Client, tmp_path: Path) -> Iterator[Mirror]:
    config = write_config(tmp_path, sim.url, sim.portal.options, None)
    yield Mirror(http, config)


async def sync(daemon: Daemon, events: Events, export_type: ExportType) -> Sync:
    return await timed_sync(events, export_type, lambda: daemon.sync_now(export_type))


def same(mirror: Mirror, export_type: ExportType) -> None:
    """The mirror holds exactly the simulator's truth for ``export_type``."""
    stored = sorted(
        mirror.stored(export_type).values(), key=lambda r: json.dumps(r, sort_keys=True)
    )
    truth = sorted(mirror.truth(export_type), key=lambda r: json.dumps(r, sort_keys=True))
    assert len(stored) == len(truth)
    assert stored == truth


async def test_a_layout_epoch_switch_between_two_syncs_changes_nothing_but_what_it_adds(
    mirror: Mirror,
) -> None:
    types = [T.CUSTOMERS, T.PRODUCTS, T.ORDERS, T.DDT, T.INVOICES]
    mirror.options(layout="2026-01")

    async def body(daemon: Daemon, events: Events) -> None:
        for t in types:
            first = await sync(daemon, events, t)
            assert first.data["inserted"] == first.data["records"] > 0
            same(mirror, t)
        # January's orders have no E-MAIL: the field is unknown, so empty in a first load
        assert all(r["email"] is None for r in mirror.stored(T.ORDERS).values())
        mirror.options(layout="2026-03")
        for t in types:
            second = await sync(daemon, events, t)
            assert second.data["inserted"] == 0 and second.data["deleted"] == 0, second.data
            same(mirror, t)
            warnings = mirror.warnings(second.data["store_run"])
            messages = " ".join(warnings.get("messages", []))
            # The 7th DDT page of March 2026 holds columns archid does not
            # know; the session hides them, and archid switches on only the
            # columns it reads: no export shows them.
            assert "PESO LORDO" not in messages and "NUMERO DI COLLI" not in messages
        emails = [r["email"] for r in mirror.stored(T.ORDERS).values()]
        assert any(emails), "the E-MAIL column of March 2026 filled the field"

    await with_daemon(mirror.config, body)


async def test_a_column_the_next_layout_lacks_keeps_its_stored_values(mirror: Mirror) -> None:
    async def body(daemon: Daemon, events: Events) -> None:
        await sync(daemon, events, T.ORDERS)
        before = mirror.stored(T.ORDERS)
        assert any(r["email"] for r in before.values())
        seq = mirror.last_seq()
        mirror.options(layout="2026-01")  # an export without E-MAIL
        after = await sync(daemon, events, T.ORDERS)
        assert after.data["updated"] == 0 and after.data["inserted"] == 0
        assert mirror.stored(T.ORDERS) == before
        assert mirror.feed(T.ORDERS, seq) == []

    await with_daemon(mirror.config, body)


@pytest.mark.parametrize("export_type", [T.ORDERS, T.DDT, T.PRICES, T.PRODUCTS])
async def test_a_renumbering_applies_as_updates_of_the_internal_id(
    mirror: Mirror, export_type: ExportType
) -> None:
    async def body(daemon: Daemon, events: Events) -> None:
        await sync(daemon, events, export_type)
        before = mirror.stored(export_type)
        seq = mirror.last_seq()
        assert mirror.renumber(export_type, seed=5) == len(before)
        second = await sync(daemon, events, export_type)
        assert second.data["inserted"] == 0 and second.data["deleted"] == 0, second.data
        assert second.data["updated"] == len(before)
        row = mirror.run_row(second.data["store_run"])
        assert row["outcome"] == "ok"
        same(mirror, export_type)
        after = mirror.stored(export_type)
        # Rows keep their keys; only pending orders, keyed by their internal ID
        # until they have a number, take the new ID as their key.
        moved = before.keys() - after.keys()
        assert all(before[k].get("order_number") is None for k in moved)
        assert export_type is T.ORDERS or not moved
        for key in before.keys() & after.keys():
            assert after[key]["id"] != before[key]["id"]
            assert {**after[key], "id": None} == {**before[key], "id": None}
        assert sorted(json.dumps({**r, "id": None}, sort_keys=True) for r in after.values()) == (
            sorted(json.dumps({**r, "id": None}, sort_keys=True) for r in before.values())
        )
        feed = mirror.feed(export_type, seq)
        assert {entry.op for entry in feed} == {"update"}
        assert all(entry.fields == ("id",) for entry in feed)
        assert len(feed) == len(before)

    await with_daemon(mirror.config, body)


async def test_invoices_carry_their_order_because_the_client_switches_the_column_on(
    mirror: Mirror,
) -> None:
    async def body(daemon: Daemon, events: Events) -> None:
        await sync(daemon, events, T.INVOICES)
        stored = mirror.stored(T.INVOICES)
        truth = {r["invoice_number"]: r for r in mirror.truth(T.INVOICES)}
        assert stored.keys() == truth.keys()
        with_order = [k for k, r in truth.items() if r["order_number"]]
        assert with_order, "the simulator's invoices link orders"
        assert all(stored[k]["order_number"] == truth[k]["order_number"] for k in with_order)

    await with_daemon(mirror.config, body)


def test_record_keys_in_paths_are_the_stable_keys(mirror: Mirror) -> None:
    """The test API's record paths take the mirror's keys: a price by what it prices."""
    key = from_json(Price, mirror.truth(T.PRICES)[0]).key
    assert key.count("|") == 4
    response = mirror.http.patch(
        f"/_sim/records/prices/{quote(key, safe='')}", json={"currency": "CHF"}
    )
    assert response.status_code == 200, response.text
    assert any(r["currency"] == "CHF" for r in mirror.truth(T.PRICES))


def arm_bad_cells(
    mirror: Mirror, export_type: ExportType, column: str, text: str, rows: object
) -> None:
    fault = {"kind": "bad_cells", "type": str(export_type), "column": column, "text": text}
    response = mirror.http.post("/_sim/faults", json={**fault, "rows": rows})
    assert response.status_code in (200, 201), response.text


async def test_bad_cells_cost_their_field_not_the_sync_and_the_run_says_where(
    mirror: Mirror,
) -> None:
    async def body(daemon: Daemon, events: Events) -> None:
        await sync(daemon, events, T.ORDERS)
        before = mirror.stored(T.ORDERS)
        truth = mirror.truth(T.ORDERS)
        first_three = [from_json(Order, r).key for r in truth[:3]]
        # the portal changes a discount and prints three cells of that column wrong
        changed = first_three[0]
        response = mirror.http.patch(
            f"/_sim/records/orders/{quote(changed, safe='')}", json={"discount_percent": "7.5"}
        )
        assert response.status_code == 200, response.text
        arm_bad_cells(mirror, T.ORDERS, "APPLICA SCONTO %:", "0,0x %", 3)
        second = await sync(daemon, events, T.ORDERS)
        assert second.data["inserted"] == 0 and second.data["deleted"] == 0
        after = mirror.stored(T.ORDERS)
        for key in first_three:
            # an unreadable cell is not an empty one: the stored value stays
            assert after[key]["discount_percent"] == before[key]["discount_percent"]
        assert after.keys() == before.keys()
        warnings = mirror.warnings(second.data["store_run"])
        assert warnings["bad_cell_count"] == 3
        cells = warnings["bad_cells"]
        assert [(c["column"], c["page"], c["row"], c["text"]) for c in cells] == [
            ("APPLICA SCONTO %:", 6, row, "0,0x %") for row in (1, 2, 3)
        ]
        assert all(c["field"] == "discount_percent" for c in cells)

    await with_daemon(mirror.config, body)


async def test_a_column_unreadable_in_most_rows_is_reported_once_as_a_format_change(
    mirror: Mirror,
) -> None:
    async def body(daemon: Daemon, events: Events) -> None:
        await sync(daemon, events, T.INVOICES)
        before = mirror.stored(T.INVOICES)
        arm_bad_cells(mirror, T.INVOICES, "CHIUSO", "Sì", None)
        second = await sync(daemon, events, T.INVOICES)
        assert second.data["updated"] == 0 and second.data["deleted"] == 0
        assert mirror.stored(T.INVOICES) == before
        warnings = mirror.warnings(second.data["store_run"])
        assert warnings["bad_cell_count"] == len(before)
        about_chiuso = [m for m in warnings["messages"] if "CHIUSO" in m]
        assert len(about_chiuso) == 1, warnings["messages"]

    await with_daemon(mirror.config, body)
