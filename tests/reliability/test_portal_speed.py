"""The portal's speed, as the issue's two acceptance runs have it: an order form
during a long export, and a minute of an unchanged portal.

A daemon just started (its interactive session never used by a person),
the simulator at the real portal's timings divided by 4, a scheduled prices
export rendering: an agent opens the order form and a customer created a
moment before must be in the mirror within 5 s, the prices sync completing
afterwards, no request ever sent on a busy session. The interactive
session, kept ready since the first scheduled export, spends no login on
the agent's path, only a browser start (the keeper closes the browser it
logged in with); without it the same run took 4.3-5.0 s, most of it the
login.

The unchanged minute: five types due every 10 s, the simulator at the real
portal's timings divided by 4 and nothing changing in it: their change
checks find nothing, and at most one PDF export runs in the minute; then a
change made to orders is in the mirror within 40 s.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import apsw
import pytest
import trio

from archid.config import load_config
from archid.daemon.events import EventKind
from archid.daemon.service import Daemon
from archid.records import Customer, ExportType, record_key
from archid.sim.server import SimServer
from tests.daemon_process import write_config
from tests.inprocess import Events, queue_scheduled, with_daemon

pytestmark = [pytest.mark.reliability, pytest.mark.browser, pytest.mark.slow]

CUSTOMERS, PRICES = ExportType.CUSTOMERS, ExportType.PRICES
#: the issue's limit, at a quarter of the portal's timings
LIMIT = 5.0


async def finished(events: Events, export_type: ExportType) -> None:
    """Wait for ``export_type``'s next sync to finish."""
    async for event in events:
        if event.kind is EventKind.FINISHED and event.type is export_type:
            return


def new_customer(sim: SimServer) -> Customer:
    """A customer added to the portal, its ID above every other (as the ERP gives)."""
    with sim.portal.lock:
        customers = [c for c in sim.portal.dataset.records(CUSTOMERS) if isinstance(c, Customer)]
        top = max(int(c.id) for c in customers if c.id.isdigit())
        new = dataclasses.replace(
            customers[0], id=str(top + 1), name=f"Nuovo Cliente {top + 1}", external_account=None
        )
        sim.portal.dataset.add(CUSTOMERS, new)
    return new


def in_mirror(database: Path, key: str) -> bool:
    db = apsw.Connection(str(database), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return bool(db.execute("SELECT 1 FROM customers WHERE key = ?", (key,)).fetchall())
    finally:
        db.close()


async def test_an_order_form_during_a_prices_export_on_a_fresh_daemon(
    sim: SimServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, sim.url, [])
    database = load_config(config).database.path
    timings: dict[str, float] = {}

    async def body(daemon: Daemon, events: Events) -> None:
        # The first loads, at the fast simulator's pace, on the schedule's session.
        for export_type in (CUSTOMERS, PRICES):
            queue_scheduled(daemon, export_type)
            await finished(events, export_type)
        with sim.portal.lock:
            sim.portal.options.update({"timing": "real", "time_scale": 4.0})
            sim.portal.dataset.mutate(PRICES, 3, 11, at=sim.portal.local_now())
        rendered = sim.portal.exports_started[str(PRICES)]
        queue_scheduled(daemon, PRICES)
        with trio.fail_after(120):
            while sim.portal.exports_started[str(PRICES)] == rendered:
                await trio.sleep(0.02)
        customer = new_customer(sim)
        logins = sim.portal.logins_today()
        opened = time.monotonic()
        daemon.session_open("agent")
        with trio.fail_after(60):
            while not await trio.to_thread.run_sync(in_mirror, database, record_key(customer)):
                await trio.sleep(0.02)
        timings["open → committed"] = time.monotonic() - opened
        # The interactive session was kept ready: no login on the agent's path.
        assert sim.portal.logins_today() == logins
        seen: list[EventKind] = []
        with trio.fail_after(240):
            async for event in events:
                if event.type is PRICES:
                    seen.append(event.kind)
                    if event.kind is EventKind.FINISHED:
                        break
        assert EventKind.PREEMPTED in seen, seen
        assert EventKind.DEAD_LETTER not in seen, seen

    await with_daemon(config, body)
    print(f"order form, open → committed: {timings['open → committed']:.2f} s (limit {LIMIT:g} s)")
    assert timings["open → committed"] <= LIMIT, timings
    state = sim.portal.state_json()
    assert state["session_waits"] == 0
    assert state["exports_served"][str(PRICES)] == state["exports_started"][str(PRICES)]


CHECKED = [ExportType.ORDERS, ExportType.DDT, ExportType.INVOICES, PRICES, ExportType.PRODUCTS]
#: the issue's limits for the unchanged minute
MINUTE = 60.0
MOST_EXPORTS = 1
CHANGE_LAG = 40.0


def exports_started(sim: SimServer) -> int:
    return sum(sim.portal.state_json()["exports_started"].values())


async def test_a_minute_of_an_unchanged_portal_costs_at_most_one_export(
    sim: SimServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, sim.url, CHECKED, every="10s")
    outcomes: list[tuple[ExportType | None, object]] = []
    timings: dict[str, float] = {}
    exported: dict[str, int] = {}

    async def body(daemon: Daemon, events: Events) -> None:
        # The first full exports, at the fast simulator's pace: the marks to compare with.
        first = set(CHECKED)
        with trio.fail_after(120):
            async for event in events:
                if event.kind is EventKind.FINISHED and event.type in first:
                    first.discard(event.type)
                    if not first:
                        break
        with sim.portal.lock:
            sim.portal.options.update({"timing": "real", "time_scale": 4.0})
        before = exports_started(sim)
        with trio.move_on_after(MINUTE):
            async for event in events:
                if event.kind is EventKind.FINISHED:
                    outcomes.append((event.type, event.data.get("outcome")))
                elif event.kind is EventKind.FAILED:
                    outcomes.append((event.type, f"failed: {event.message}"))
        exported["in the minute"] = exports_started(sim) - before
        with sim.portal.lock:
            sim.portal.dataset.mutate(ExportType.ORDERS, 7, 3, at=sim.portal.local_now())
        changed = time.monotonic()
        with trio.fail_after(120):
            async for event in events:
                if (
                    event.kind is EventKind.FINISHED
                    and event.type is ExportType.ORDERS
                    and any(event.data.get(k) for k in ("inserted", "updated", "deleted"))
                ):
                    timings["change → mirror"] = time.monotonic() - changed
                    break

    await with_daemon(config, body)
    unchanged = [t for t, outcome in outcomes if outcome == "unchanged"]
    print(
        f"unchanged minute: {len(outcomes)} syncs finished, {exported['in the minute']} PDF"
        f" export(s); orders change → mirror {timings['change → mirror']:.1f} s"
    )
    # The minute exercised the check: every sync in it was one, none failed. (Not
    # every type need have its turn: five due every 10 s are more than the one
    # worker can serve at this speed, and the highest priorities go first.)
    assert len(unchanged) == len(outcomes) >= len(CHECKED), outcomes
    assert exported["in the minute"] <= MOST_EXPORTS, outcomes
    assert timings["change → mirror"] <= CHANGE_LAG, timings
    assert sim.portal.state_json()["session_waits"] == 0
