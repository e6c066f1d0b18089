"""Request to commit, per type, through the running daemon against the simulator.

Run: ``.venv/bin/python -m tests.bench.bench_sync [--scale 1] [--sample 20] [--sessions 3]``

What runs is what ``archid run`` runs (:func:`archid.daemon.main.serve`:
scheduler, worker, headless Chromium, parser, SQLite store) against the
simulated portal with the real portal's quirks (loading panels of
0.15-0.8 s, a session's first DDT export failing now and then). The
schedule is off; every sync is a manual request (``Daemon.sync_now``) or
an order-form session (``Daemon.session_open``), and each is timed from
the command to its ``finished`` event, which the worker publishes after the
store committed. The event's stage seconds split that into export (browser
start, login, list page, export menu, download), parse and apply; "other"
is the rest: the worker picking the request up, threads, events.

Passes, all on one database:

* **cold, first load**: a new daemon per type (so a new Chromium and a
  login every time), the type's table empty;
* **warm, a few changes**: one daemon whose browser is already up and
  logged in (a warm-up sync, not counted, did that), after a few records of
  every type were added, changed or removed in the simulator, as the demo
  does (the simulator then builds a new file, as the portal would);
* **warm, nothing changed**: the same again with no change;
* **order-form sessions**: ``session_open`` with the browser warm and a few
  customers changed, timed to the session's customers sync committing,
  checked in ``sync_runs`` to be a ``recent`` sync triggered by the session;
  then ``session_close``. Target: under 5 s.

The comparison is the predecessor's published figures (customers 15-20 s,
products about 55 s, prices about 63 s, request to commit), measured
against the real portal on other hardware: indicative only. The in-run
baseline is the predecessor's way of reading the same files, pdfplumber's
``extract_words`` on a sample of pages scaled to the whole file, added to
the export as archid did it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pdfplumber
import trio

from archid.config import load_config
from archid.daemon.service import Daemon
from archid.demo import change_portal, write_config
from archid.portal.client import Timeouts
from archid.records import ExportType
from archid.sim.cache import ExportCache, default_cache_dir
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.portal import Portal, PortalOptions
from archid.sim.server import SimServer
from tests.inprocess import Events, Sync, timed_sync, with_daemon

#: the predecessor's published request-to-commit seconds (low, high), real portal
PREDECESSOR: dict[ExportType, tuple[float, float]] = {
    ExportType.CUSTOMERS: (15.0, 20.0),
    ExportType.PRODUCTS: (55.0, 55.0),
    ExportType.PRICES: (63.0, 63.0),
}

#: the order-form target: session open to fresh customers committed
SESSION_TARGET = 5.0


def run_row(database: Path, store_run: int) -> dict[str, Any]:
    """The run's row in ``sync_runs``, read-only."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM sync_runs WHERE id = ?", (store_run,)).fetchone()
    return dict(row) if row else {}


def predecessor(export_type: ExportType, ours: float) -> tuple[str, str]:
    figure = PREDECESSOR.get(export_type)
    if figure is None:
        return "", ""
    low, high = figure
    if low == high:
        return f"~{low:g}", f"{low / ours:.1f}×"
    return f"{low:g}-{high:g}", f"{low / ours:.1f}-{high / ours:.1f}×"


def print_pass(title: str, syncs: list[Sync], database: Path, flake_pause: float) -> None:
    print(f"\n{title}")
    print(
        f"{'type':<10} {'records':>7} {'store':>14} {'missing':>7} {'req→commit':>10} "
        f"{'export':>7} {'parse':>6} {'apply':>6} {'other':>6} │ {'start+login':>11} "
        f"{'page':>5} {'menu':>5} {'dl':>5} │ {'predecessor':>11} {'ratio':>9}"
    )
    for s in syncs:
        missing = run_row(database, int(s.data["store_run"])).get("missing", 0)
        figure, ratio = predecessor(s.type, s.total)
        notes = ""
        if s.type is ExportType.DDT and s.stage("export_download") >= flake_pause:
            notes += f"  (portal flake: clicked again after {flake_pause:g} s)"
        if s.failures:
            notes += f"  (after {len(s.failures)} failed attempt(s): {s.failures[0]})"
        print(
            f"{s.type:<10} {int(s.data.get('records', 0)):>7,} {s.changes:>14} {missing:>7,} "
            f"{s.total:>10.2f} {s.stage('export'):>7.2f} {s.stage('parse'):>6.2f} "
            f"{s.stage('apply'):>6.2f} {s.other:>6.2f} │ {s.stage('export_login'):>11.2f} "
            f"{s.stage('export_page_load'):>5.2f} {s.stage('export_menu'):>5.2f} "
            f"{s.stage('export_download'):>5.2f} │ {figure:>11} {ratio:>9}{notes}"
        )
    total = sum(s.total for s in syncs)
    parts = " + ".join(
        f"{name} {sum(s.stage(name) for s in syncs):.1f}" for name in ("export", "parse", "apply")
    )
    print(f"{'all':<10} {'':>7} {'':>14} {'':>7} {total:>10.2f}   ({parts} s)")


def plumber_seconds(path: Path, pages: int, sample: int) -> float:
    """pdfplumber reading the whole file, estimated from ``sample`` pages spread over it.

    Opening the file and listing its pages is timed as it is (pdfplumber
    walks every page's entry whatever it reads); ``extract_words`` on the
    sampled pages is scaled to ``pages``. Pages differ (prices spreads each
    row over three pages side by side), hence a spread, not the first pages.
    """
    sample = max(1, min(sample, pages))
    chosen = sorted({1 + i * pages // sample for i in range(sample)})
    started = time.perf_counter()
    with pdfplumber.open(path, pages=chosen) as pdf:
        listed = pdf.pages
        opened = time.perf_counter() - started
        started = time.perf_counter()
        for page in listed:
            page.extract_words()
            page.flush_cache()
        words = time.perf_counter() - started
    return opened + words * pages / len(chosen)


@dataclass
class Bench:
    portal: Portal
    cache: ExportCache
    config_path: Path
    database: Path
    types: list[ExportType]
    sessions: int
    seed: int
    cold: list[Sync] = field(default_factory=list)
    warmup: Sync | None = None
    warm_changes: dict[ExportType, str] = field(default_factory=dict)
    warm: list[Sync] = field(default_factory=list)
    unchanged: list[Sync] = field(default_factory=list)
    session_syncs: list[tuple[Sync, dict[str, Any], str]] = field(default_factory=list)

    async def run(self) -> None:
        for export_type in self.types:

            async def cold(daemon: Daemon, events: Events, t: ExportType = export_type) -> None:
                self.cold.append(await timed_sync(events, t, partial(daemon.sync_now, t)))

            await with_daemon(self.config_path, cold)
            print(f"  cold {export_type}: {self.cold[-1].total:.1f} s", flush=True)
        await with_daemon(self.config_path, self.warm_passes)

    async def warm_passes(self, daemon: Daemon, events: Events) -> None:
        first = self.types[-1]
        self.warmup = await timed_sync(events, first, partial(daemon.sync_now, first))
        print(f"  warm-up ({first}, browser start and login): {self.warmup.total:.1f} s")
        self.warm_changes = await self.change(self.types, 1)
        for t in self.types:
            self.warm.append(await timed_sync(events, t, partial(daemon.sync_now, t)))
            print(f"  warm {t}: {self.warm[-1].total:.1f} s", flush=True)
        for t in self.types:
            self.unchanged.append(await timed_sync(events, t, partial(daemon.sync_now, t)))
            print(f"  unchanged {t}: {self.unchanged[-1].total:.1f} s", flush=True)
        customers = ExportType.CUSTOMERS
        for number in range(self.sessions):
            made = await self.change([customers], 2 + number)
            opened: dict[str, Any] = {}

            def open_session(opened: dict[str, Any] = opened) -> None:
                opened.update(daemon.session_open("bench"))

            sync = await timed_sync(events, customers, open_session)
            daemon.session_close(opened["session"])
            row = run_row(self.database, int(sync.data["store_run"]))
            self.session_syncs.append((sync, row, made[customers]))
            print(f"  session {number + 1}: {sync.total:.2f} s", flush=True)

    async def change(self, types: list[ExportType], round_: int) -> dict[ExportType, str]:
        """A few changes to each type in the simulator; ``+added ~changed -removed`` per type."""
        made = {}
        for t in types:
            seed = self.seed * 1000 + round_
            # the portal's lock may be held by a request being served: off the event loop
            changes = await trio.to_thread.run_sync(change_portal, self.portal, t, seed)
            made[t] = changes.short
        return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=20, help="pages pdfplumber reads per file")
    parser.add_argument("--sessions", type=int, default=3, help="order-form sessions to time")
    parser.add_argument(
        "--types", default=",".join(ExportType), help="comma-separated export types"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="the daemon's log too")
    args = parser.parse_args()
    types = [ExportType(name) for name in args.types.split(",")]
    if ExportType.CUSTOMERS not in types and args.sessions:
        parser.error("the sessions need customers among --types")

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(asctime)s %(name)s: %(message)s",
    )
    # a browser killed at shutdown makes Selenium's pool warn about each retry
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)

    started = time.perf_counter()
    dataset = Dataset.generate(args.seed, args.scale)
    generated = time.perf_counter() - started
    options = PortalOptions()  # as the real portal behaves: loading panels, DDT flake
    portal = Portal(dataset=dataset, options=options, seed=args.seed)
    cache = ExportCache(default_cache_dir(), load_font(None))
    server = SimServer(portal, cache)
    server.start()
    flake_pause = Timeouts().flake_pause
    counts = ", ".join(f"{dataset.count(t):,} {t}" for t in types)
    print(
        f"simulator at scale {args.scale:g}, seed {args.seed} (dataset in {generated:.1f} s): "
        f"{counts}\nloading panels {options.loading_min}-{options.loading_max} s, DDT flake "
        f"p={options.ddt_flake} (then the client clicks again after {flake_pause:g} s)",
        flush=True,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="archid-bench-sync-") as tmp:
            state = Path(tmp)
            config_path = write_config(state, server.url, options, None)
            bench = Bench(
                portal,
                cache,
                config_path,
                load_config(config_path).database.path,
                types,
                args.sessions,
                args.seed,
            )
            trio.run(bench.run)
            report(bench, args.sample, flake_pause)
            print(f"\nportal logins: {portal.logins_today()}")
    finally:
        server.close()


def report(bench: Bench, sample: int, flake_pause: float) -> None:
    print(
        "\nSeconds from the request to the commit (the worker's 'finished' event), split by "
        "the sync's\nown stage timers: export (start+login: Chromium start and login, when "
        "needed; list page;\nexport menu; download), parse, apply, and other (worker pick-up, "
        "threads, events).\nstore: rows inserted ~updated -deleted; missing: rows absent from "
        "a full export for the first\ntime (deleted when the next full export lacks them too). "
        "Predecessor: its published\nrequest-to-commit figures against the real portal on "
        "other hardware, so the ratio\n(predecessor / ours) is indicative only."
    )
    db = bench.database
    print_pass("cold, first load (a new daemon per type: Chromium start + login)", bench.cold,
               db, flake_pause)  # fmt: skip
    if bench.warmup is not None:
        print(
            f"\n(warm-up before the warm passes, not counted: {bench.warmup.type} "
            f"{bench.warmup.total:.2f} s)"
        )
    changes = ", ".join(f"{t} {c}" for t, c in bench.warm_changes.items())
    print_pass(
        "warm, a few changes (browser up and logged in; +added ~changed -removed in the "
        "simulator:\n" + changes + ")",
        bench.warm,
        db,
        flake_pause,
    )
    print_pass(
        "warm, nothing changed in the simulator (the store deletes what was missing twice)",
        bench.unchanged,
        db,
        flake_pause,
    )

    print(
        f"\nIn-run baseline: the export as above (warm, nothing changed) plus reading the file\n"
        f"with pdfplumber extract_words (the predecessor's reader): {sample} pages spread over "
        f"each file,\nscaled to the whole file, plus opening it"
    )
    print(
        f"{'type':<10} {'pages':>6} {'plumber s':>9} {'archid parse':>12} {'ratio':>7} │ "
        f"{'naive export+parse':>18} {'archid req→commit':>17} {'ratio':>7}"
    )
    for sync in bench.unchanged:
        t = sync.type
        pages = int(run_row(bench.database, int(sync.data["store_run"])).get("pages") or 0)
        with bench.portal.lock:
            records = list(bench.portal.dataset.records(t))
            fingerprint = bench.portal.dataset.fingerprint
            view = bench.portal.export_view()
        path = bench.cache.get(t, fingerprint, records, view)
        plumber = plumber_seconds(path, pages, sample)
        parse = max(sync.stage("parse"), 1e-3)
        naive = sync.stage("export") + plumber
        print(
            f"{t:<10} {pages:>6,} {plumber:>9.1f} {parse:>12.2f} {plumber / parse:>6.0f}× │ "
            f"{naive:>18.1f} {sync.total:>17.2f} {naive / sync.total:>6.1f}×"
        )

    if not bench.session_syncs:
        return
    print(
        f"\nOrder-form sessions: Daemon.session_open with the browser warm, after a few "
        f"customers changed\nin the simulator, to the session's customers sync committing "
        f"(target < {SESSION_TARGET:g} s)"
    )
    print(
        f"{'#':>2} {'simulator':>10} {'mode':>7} {'trigger':>8} {'records':>7} {'store':>12} "
        f"{'open→commit':>11} {'export':>7} {'page':>5} {'menu':>5} {'dl':>5} {'parse':>6} "
        f"{'apply':>6}  target"
    )
    totals = []
    for number, (sync, row, made) in enumerate(bench.session_syncs, 1):
        d = sync.data
        totals.append(sync.total)
        met = "met" if sync.total < SESSION_TARGET else "MISSED"
        print(
            f"{number:>2} {made:>10} {row.get('mode', '?'):>7} {row.get('trigger', '?'):>8} "
            f"{int(d.get('records', 0)):>7,} {sync.changes:>12} {sync.total:>11.2f} "
            f"{sync.stage('export'):>7.2f} {sync.stage('export_page_load'):>5.2f} "
            f"{sync.stage('export_menu'):>5.2f} {sync.stage('export_download'):>5.2f} "
            f"{sync.stage('parse'):>6.2f} {sync.stage('apply'):>6.2f}  {met}"
        )
    median, worst = statistics.median(totals), max(totals)
    verdict = "holds" if worst < SESSION_TARGET else "does NOT hold"
    print(
        f"median {median:.2f} s, max {worst:.2f} s: session open → commit < "
        f"{SESSION_TARGET:g} s {verdict} (median at {median / SESSION_TARGET:.0%} of the target)"
    )


if __name__ == "__main__":
    main()
