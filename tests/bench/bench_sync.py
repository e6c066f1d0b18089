"""Request to commit, per type, through the running daemon against the simulator.

Run: ``.venv/bin/python -m tests.bench.bench_sync [--scale 1] [--sample 20] [--sessions 3]
[--time-scale 10] [--profiles fast,real]``

What runs is what ``archid run`` runs (:func:`archid.app.serve`:
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

Everything is run once per ``--profiles`` entry, each on a simulator,
daemon and database of its own built from the same seed (same data, same
changes): ``fast`` (the simulator answers at once, but for the loading
panels above) and ``real`` (the real portal's times from
:mod:`archid.sim.timing` divided by ``--time-scale`` F: login 3-8 s, 15-30
s cold; list pages a few seconds; exports 30-200 s by type). The daemon's
``[portal]`` and ``[schedule.*]`` timeouts get the room the real profile
needs (:func:`tests.bench.profiles.real_config`). The tables put the
profiles side by side, with the real figures brought back to the portal's
full speed: an *estimate*, measured + (F - 1) × the simulator's waits
during the sync (the export stage scaled, parse and apply as measured).
The simulator's file cache is shared: files the first profile built are
reused by the second.

The comparison is the predecessor's published figures (customers 15-20 s,
products about 55 s, prices about 63 s, request to commit), measured
against the real portal on other hardware: indicative only, and closer
to the real profile's full-speed estimate than to the fast run. The in-run
baseline is the predecessor's way of reading the same files, pdfplumber's
``extract_words`` on a sample of pages scaled to the whole file, added to
the export as archid did it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
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
from archid.daemon.answers import SessionOpened
from archid.daemon.service import Daemon
from archid.demo import change_portal, write_config
from archid.portal.client import Timeouts
from archid.records import ExportType
from archid.sim.cache import ExportCache, default_cache_dir
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.portal import Portal, PortalOptions
from archid.sim.server import SimServer
from archid.store.database import open_reader
from tests.bench.profiles import (
    FULL_SPEED,
    Profile,
    Waits,
    add_arguments,
    describe_timeouts,
    profiles,
    real_config,
)
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
    # apsw, as the daemon in this process (open_reader says why).
    with contextlib.closing(open_reader(database)) as db:
        cursor = db.execute("SELECT * FROM sync_runs WHERE id = ?", (store_run,))
        names = [d[0] for d in cursor.get_description()]
        rows = cursor.fetchall()
    return dict(zip(names, rows[0], strict=True)) if rows else {}


def predecessor(export_type: ExportType, ours: float) -> tuple[str, str]:
    figure = PREDECESSOR.get(export_type)
    if figure is None:
        return "", ""
    low, high = figure
    if low == high:
        return f"~{low:g}", f"{low / ours:.1f}×"
    return f"{low:g}-{high:g}", f"{low / ours:.1f}-{high / ours:.1f}×"


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
    profile: Profile
    portal: Portal
    cache: ExportCache
    config_path: Path
    database: Path
    types: list[ExportType]
    sessions: int
    seed: int
    waits: Waits
    #: the daemon's timeouts the real profile needed (empty for fast)
    timeouts: dict[str, float] = field(default_factory=dict)
    cold: list[Sync] = field(default_factory=list)
    warmup: Sync | None = None
    warm_changes: dict[ExportType, str] = field(default_factory=dict)
    warm: list[Sync] = field(default_factory=list)
    unchanged: list[Sync] = field(default_factory=list)
    session_syncs: list[tuple[Sync, dict[str, Any], str]] = field(default_factory=list)
    #: per sync (by ``id``): the simulator's waits during it, seconds
    waited: dict[int, float] = field(default_factory=dict)
    #: the syncs (by ``id``) whose export met the DDT flake
    flaked: set[int] = field(default_factory=set)
    flakes: int = 0

    def __post_init__(self) -> None:
        flakes = self.portal.ddt_flakes

        def counted(session: Any) -> bool:
            flaked = flakes(session)
            self.flakes += flaked
            return flaked

        self.portal.ddt_flakes = counted  # type: ignore[method-assign]

    def full(self, sync: Sync, seconds: float) -> float:
        """``seconds`` of ``sync`` (its total or export stage) at the portal's full speed."""
        return self.profile.full_speed(seconds, self.waited.get(id(sync), 0.0))

    def say(self, text: str) -> None:
        print(f"  {self.profile.label}: {text}", flush=True)

    async def timed(self, events: Events, t: ExportType, command: Any) -> Sync:
        waited, flakes = self.waits.total, self.flakes
        sync = await timed_sync(events, t, command)
        self.waited[id(sync)] = self.waits.total - waited
        if self.flakes > flakes:
            self.flaked.add(id(sync))
        return sync

    async def run(self) -> None:
        for export_type in self.types:

            async def cold(daemon: Daemon, events: Events, t: ExportType = export_type) -> None:
                self.cold.append(await self.timed(events, t, partial(daemon.sync_now, t)))

            await with_daemon(self.config_path, cold)
            self.say(f"cold {export_type}: {self.cold[-1].total:.1f} s")
        await with_daemon(self.config_path, self.warm_passes)

    async def warm_passes(self, daemon: Daemon, events: Events) -> None:
        first = self.types[-1]
        self.warmup = await self.timed(events, first, partial(daemon.sync_now, first))
        self.say(f"warm-up ({first}, browser start and login): {self.warmup.total:.1f} s")
        self.warm_changes = await self.change(self.types, 1)
        for t in self.types:
            self.warm.append(await self.timed(events, t, partial(daemon.sync_now, t)))
            self.say(f"warm {t}: {self.warm[-1].total:.1f} s")
        for t in self.types:
            self.unchanged.append(await self.timed(events, t, partial(daemon.sync_now, t)))
            self.say(f"unchanged {t}: {self.unchanged[-1].total:.1f} s")
        customers = ExportType.CUSTOMERS
        for number in range(self.sessions):
            made = await self.change([customers], 2 + number)
            opened: list[SessionOpened] = []

            def open_session(opened: list[SessionOpened] = opened) -> None:
                opened.append(daemon.session_open("bench"))

            sync = await self.timed(events, customers, open_session)
            daemon.session_close(opened[0].id)
            row = run_row(self.database, int(sync.data["store_run"]))
            self.session_syncs.append((sync, row, made[customers]))
            self.say(f"session {number + 1}: {sync.total:.2f} s")

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
    add_arguments(parser)
    args = parser.parse_args()
    types = [ExportType(name) for name in args.types.split(",")]
    if ExportType.CUSTOMERS not in types and args.sessions:
        parser.error("the sessions need customers among --types")
    chosen = profiles(parser, args)

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(asctime)s %(name)s: %(message)s",
    )
    # a browser killed at shutdown makes Selenium's pool warn about each retry
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)

    flake_pause = Timeouts().flake_pause
    cache = ExportCache(default_cache_dir(), load_font(None))
    with contextlib.ExitStack() as stack:
        benches: list[Bench] = []
        for profile in chosen:
            started = time.perf_counter()
            dataset = Dataset.generate(args.seed, args.scale)
            generated = time.perf_counter() - started
            # as the real portal behaves: loading panels, DDT flake
            options = profile.options(PortalOptions())
            portal = Portal(dataset=dataset, options=options, seed=args.seed)
            waits = Waits(portal)
            server = SimServer(portal, cache)
            server.start()
            stack.callback(server.close)
            if not benches:
                counts = ", ".join(f"{dataset.count(t):,} {t}" for t in types)
                print(
                    f"simulator at scale {args.scale:g}, seed {args.seed} (dataset in "
                    f"{generated:.1f} s): {counts}\nloading panels {options.loading_min}-"
                    f"{options.loading_max} s, DDT flake p={options.ddt_flake} (then the client "
                    f"clicks again after {flake_pause:g} s)",
                    flush=True,
                )
            state = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="archid-bench-")))
            config_path = write_config(state, server.url, options, None)
            timeouts = real_config(config_path, profile)
            print(profile.describe(), flush=True)
            if timeouts:
                print(f"  daemon timeouts: {describe_timeouts(timeouts)}", flush=True)
            bench = Bench(
                profile,
                portal,
                cache,
                config_path,
                load_config(config_path).database.path,
                types,
                args.sessions,
                args.seed,
                waits,
                timeouts,
            )
            trio.run(bench.run)
            benches.append(bench)
        report(benches, args.sample, flake_pause)
        print()
        for bench in benches:
            print(f"portal logins, {bench.profile.label}: {bench.portal.logins_today()}")


def group_heads(benches: list[Bench], cells: str, full_cells: str) -> tuple[str, str]:
    """Two heading lines' column-group parts: a group per profile, then the estimates."""
    names = [(b.profile.label, cells) for b in benches]
    names += [(FULL_SPEED, full_cells) for b in benches if b.profile.real]
    first = " ".join(f"│ {name:<{len(c)}}" for name, c in names)
    second = " ".join(f"│ {c}" for _, c in names)
    return first, second


def print_pass(title: str, pick: Any, benches: list[Bench], flake_pause: float) -> None:
    """One pass, ``pick(bench)`` its syncs, the profiles side by side."""
    print(f"\n{title}")
    cells = (
        f"{'req→commit':>10} {'export':>7} {'parse':>6} {'apply':>6} {'other':>6} "
        f"{'start+login':>11} {'page':>5} {'menu':>5} {'dl':>5}"
    )
    full_cells = f"{'req→commit':>10} {'export':>7}"
    shared = f"{'type':<10} {'records':>7} {'store':>14} {'missing':>7} "
    first, second = group_heads(benches, cells, full_cells)
    print(f"{'':<{len(shared)}}{first} │")
    print(f"{shared}{second} │ {'predecessor':>11} {'ratio':>9} {'ratio ≈full':>11}")
    columns = [pick(b) for b in benches]
    base = benches[0]
    for row in zip(*columns, strict=True):
        s0 = row[0]
        missing = run_row(base.database, int(s0.data["store_run"])).get("missing", 0)
        line = f"{s0.type:<10} {int(s0.data.get('records', 0)):>7,} {s0.changes:>14} {missing:>7,} "
        notes = ""
        fulls: list[str] = []
        for bench, s in zip(benches, row, strict=True):
            line += (
                f"│ {s.total:>10.2f} {s.stage('export'):>7.2f} {s.stage('parse'):>6.2f} "
                f"{s.stage('apply'):>6.2f} {s.other:>6.2f} {s.stage('export_login'):>11.2f} "
                f"{s.stage('export_page_load'):>5.2f} {s.stage('export_menu'):>5.2f} "
                f"{s.stage('export_download'):>5.2f} "
            )
            if bench.profile.real:
                fulls.append(
                    f"│ {bench.full(s, s.total):>10.2f} {bench.full(s, s.stage('export')):>7.2f} "
                )
            label = bench.profile.label
            if id(s) in bench.flaked:
                notes += f"  ({label}: portal flake: clicked again after {flake_pause:g} s)"
            if s.failures:
                notes += f"  ({label}: after {len(s.failures)} failed attempt(s): {s.failures[0]})"
            if s.changes != s0.changes:
                notes += f"  ({label}: store {s.changes})"
        line += "".join(fulls)
        figure, ratio = predecessor(s0.type, row[0].total)
        real = [(b, s) for b, s in zip(benches, row, strict=True) if b.profile.real]
        ratio_full = (
            predecessor(s0.type, real[0][0].full(real[0][1], real[0][1].total))[1] if real else ""
        )
        print(f"{line}│ {figure:>11} {ratio:>9} {ratio_full:>11}{notes}")
    line = f"{'all':<10} {'':>7} {'':>14} {'':>7} "
    parts: list[str] = []
    fulls = []
    for bench, syncs in zip(benches, columns, strict=True):
        total = sum(s.total for s in syncs)
        line += f"│ {total:>10.2f} {'':>{len(cells) - 11}} "
        parts.append(
            f"{bench.profile.label}: "
            + " + ".join(
                f"{name} {sum(s.stage(name) for s in syncs):.1f}"
                for name in ("export", "parse", "apply")
            )
            + " s"
        )
        if bench.profile.real:
            fulls.append(f"│ {sum(bench.full(s, s.total) for s in syncs):>10.2f} {'':>7} ")
    print(f"{line}{''.join(fulls)}│   ({'; '.join(parts)})")


def report(benches: list[Bench], sample: int, flake_pause: float) -> None:
    print(
        "\nSeconds from the request to the commit (the worker's 'finished' event), split by "
        "the sync's\nown stage timers: export (start+login: Chromium start and login, when "
        "needed; list page;\nexport menu; download), parse, apply, and other (worker pick-up, "
        "threads, events).\nstore: rows inserted ~updated -deleted; missing: rows absent from "
        "a full export for the first\ntime (deleted when the next full export lacks them too). "
        "Predecessor: its published\nrequest-to-commit figures against the real portal on "
        "other hardware, so the ratio\n(predecessor / ours; 'ratio' against the first profile, "
        "'ratio ≈full' against the real\nprofile's full-speed estimate) is indicative only."
    )
    if any(b.profile.real for b in benches):
        real = next(b for b in benches if b.profile.real)
        print(
            f"≈ full speed: an ESTIMATE of the real profile's figure at the portal's own speed, "
            f"measured +\n({real.profile.time_scale:g} - 1) × the simulator's waits during the "
            "sync (all of them in the export stage)."
        )
    print_pass(
        "cold, first load (a new daemon per type: Chromium start + login)",
        lambda b: b.cold,
        benches,
        flake_pause,
    )
    for bench in benches:
        if bench.warmup is not None:
            print(
                f"(warm-up before the warm passes, not counted, {bench.profile.label}: "
                f"{bench.warmup.type} {bench.warmup.total:.2f} s)"
            )
    changes = ", ".join(f"{t} {c}" for t, c in benches[0].warm_changes.items())
    print_pass(
        "warm, a few changes (browser up and logged in; +added ~changed -removed in the "
        "simulator:\n" + changes + ")",
        lambda b: b.warm,
        benches,
        flake_pause,
    )
    print_pass(
        "warm, nothing changed in the simulator (the store deletes what was missing twice)",
        lambda b: b.unchanged,
        benches,
        flake_pause,
    )
    baseline(benches, sample)
    sessions(benches)


def baseline(benches: list[Bench], sample: int) -> None:
    print(
        f"\nIn-run baseline: the export as above (warm, nothing changed) plus reading the file\n"
        f"with pdfplumber extract_words (the predecessor's reader): {sample} pages spread over "
        f"each file,\nscaled to the whole file, plus opening it"
    )
    cells = f"{'naive export+parse':>18} {'archid req→commit':>17} {'ratio':>7}"
    shared = f"{'type':<10} {'pages':>6} {'plumber s':>9} {'archid parse':>12} {'ratio':>7} "
    first, second = group_heads(benches, cells, cells)
    print(f"{'':<{len(shared)}}{first}")
    print(f"{shared}{second}")
    base = benches[0]
    for row in zip(*(b.unchanged for b in benches), strict=True):
        sync = row[0]
        t = sync.type
        pages = int(run_row(base.database, int(sync.data["store_run"])).get("pages") or 0)
        with base.portal.lock:
            records = list(base.portal.dataset.records(t))
            fingerprint = base.portal.dataset.fingerprint
            view = base.portal.full_view()
        path = base.cache.get(t, fingerprint, records, view)
        plumber = plumber_seconds(path, pages, sample)
        parse = max(sync.stage("parse"), 1e-3)
        line = f"{t:<10} {pages:>6,} {plumber:>9.1f} {parse:>12.2f} {plumber / parse:>6.0f}× "
        fulls = ""
        for bench, s in zip(benches, row, strict=True):
            naive = s.stage("export") + plumber
            line += f"│ {naive:>18.1f} {s.total:>17.2f} {naive / s.total:>6.1f}× "
            if bench.profile.real:
                naive = bench.full(s, s.stage("export")) + plumber
                total = bench.full(s, s.total)
                fulls += f"│ {naive:>18.1f} {total:>17.2f} {naive / total:>6.1f}× "
        print(line + fulls)


def sessions(benches: list[Bench]) -> None:
    if not benches[0].session_syncs:
        return
    print(
        f"\nOrder-form sessions: Daemon.session_open with the browser warm, after a few "
        f"customers changed\nin the simulator, to the session's customers sync committing "
        f"(target < {SESSION_TARGET:g} s; it is the real portal's, so the real profile's "
        "full-speed\nestimate is the figure to hold against it)"
    )
    cells = (
        f"{'mode':>7} {'trigger':>8} {'open→commit':>11} {'export':>7} {'page':>5} {'menu':>5} "
        f"{'dl':>5} {'parse':>6} {'apply':>6} {'target':>6}"
    )
    full_cells = f"{'open→commit':>11} {'export':>7} {'target':>6}"
    shared = f"{'#':>2} {'simulator':>10} {'records':>7} {'store':>12} "
    first, second = group_heads(benches, cells, full_cells)
    print(f"{'':<{len(shared)}}{first}")
    print(f"{shared}{second}")

    def met(seconds: float) -> str:
        return "met" if seconds < SESSION_TARGET else "MISSED"

    rows = zip(*(b.session_syncs for b in benches), strict=True)
    for number, row in enumerate(rows, 1):
        sync, _, made = row[0]
        line = f"{number:>2} {made:>10} {int(sync.data.get('records', 0)):>7,} {sync.changes:>12} "
        fulls = ""
        for bench, (s, run, _) in zip(benches, row, strict=True):
            line += (
                f"│ {run.get('mode', '?'):>7} {run.get('trigger', '?'):>8} {s.total:>11.2f} "
                f"{s.stage('export'):>7.2f} {s.stage('export_page_load'):>5.2f} "
                f"{s.stage('export_menu'):>5.2f} {s.stage('export_download'):>5.2f} "
                f"{s.stage('parse'):>6.2f} {s.stage('apply'):>6.2f} {met(s.total):>6} "
            )
            if bench.profile.real:
                total = bench.full(s, s.total)
                export = bench.full(s, s.stage("export"))
                fulls += f"│ {total:>11.2f} {export:>7.2f} {met(total):>6} "
        print(line + fulls)
    for bench in benches:
        totals = [s.total for s, _, _ in bench.session_syncs]
        summary(bench.profile.label, totals)
        if bench.profile.real:
            summary(
                f"{bench.profile.label} {FULL_SPEED}",
                [bench.full(s, s.total) for s, _, _ in bench.session_syncs],
            )


def summary(label: str, totals: list[float]) -> None:
    median, worst = statistics.median(totals), max(totals)
    verdict = "holds" if worst < SESSION_TARGET else "does NOT hold"
    print(
        f"{label}: median {median:.2f} s, max {worst:.2f} s: session open → commit < "
        f"{SESSION_TARGET:g} s {verdict} (median at {median / SESSION_TARGET:.0%} of the target)"
    )


if __name__ == "__main__":
    main()
