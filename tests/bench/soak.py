"""Soak: many syncs on an accelerated schedule, the portal changing between rounds.

Run: ``.venv/bin/python -m tests.bench.soak [--syncs 1000] [--every 6] [--minutes 60]``

What runs is what ``archid run`` runs (:func:`archid.daemon.main.serve`,
in this process: scheduler, worker, headless Chromium, parser, store)
against the simulated portal, every type due every ``--every`` seconds.
After every round of six finished syncs a few records of one type change
in the simulator (as ``archid demo`` does). It stops after ``--syncs``
finished syncs or ``--minutes``, whichever comes first, then checks:

* resident memory grew less than 10 % from the end of the warm-up (the
  first tenth of the syncs) to the end;
* open file descriptors stayed flat (at most a few more than after the
  warm-up);
* no zombie child at any sample, and once the daemon stopped, no process
  it started (found by a marker in the environment its browsers inherit);
* every attempt the worker started has its ``sync_runs`` row, and the
  file passes SQLite's integrity check;
* each table holds what the simulator would export now (after a last
  sync of every type), without duplicates.

The exit status is 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sqlite3
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import trio

from archid.config import load_config
from archid.daemon.events import Event, EventKind
from archid.daemon.service import Daemon
from archid.demo import change_portal, write_config
from archid.portal.processes import Process, snapshot
from archid.records import ExportType, record_key, to_json
from archid.sim.cache import ExportCache, default_cache_dir
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.layouts import expected_records
from archid.sim.portal import Portal, PortalOptions
from archid.sim.server import SimServer
from archid.store import open_database
from tests.browsers import browsers_marked
from tests.inprocess import Events, timed_sync, with_daemon

MARKER = "ARCHID_SOAK"
#: allowed growth of resident memory from the warm-up's end to the end
MAX_RSS_GROWTH = 0.10
#: allowed growth of open descriptors (a socket or two in flight)
MAX_FD_GROWTH = 4


@dataclass
class Sample:
    syncs: int
    rss: int
    fds: int
    children: int
    zombies: int


@dataclass
class Soak:
    portal: Portal
    database: Path
    syncs: int
    deadline: float
    seed: int
    finished: Counter[ExportType] = field(default_factory=Counter)
    started: int = 0
    failed: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    warm: Sample | None = None  # taken at the end of the warm-up

    def sample(self) -> Sample:
        children = _descendants(os.getpid())
        taken = Sample(
            sum(self.finished.values()),
            _rss(),
            len(os.listdir("/proc/self/fd")),
            len(children),
            sum(1 for c in children if c.state == "Z"),
        )
        self.samples.append(taken)
        return taken

    async def count(self, events: Events, out: trio.MemorySendChannel[Event]) -> None:
        """Count every attempt and failure, passing each event on."""
        async with out:
            async for event in events:
                if event.kind is EventKind.STARTED:
                    self.started += 1
                elif event.kind is EventKind.FAILED:
                    error = event.data.get("error")
                    self.failed.append(f"{event.type}: {error}: {event.message}")
                await out.send(event)

    async def run(self, daemon: Daemon, events: Events) -> None:
        send, counted = trio.open_memory_channel[Event](4096)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.count, events, send)
            await self.soak(daemon, counted)
            # Idle, so that no attempt starts unseen before the stop.
            daemon.pause()
            while daemon.worker.current is not None or events.statistics().current_buffer_used:
                await trio.sleep(0.1)
            nursery.cancel_scope.cancel()

    async def soak(self, daemon: Daemon, events: Events) -> None:
        warm = max(6, self.syncs // 10)
        rounds = 0
        async for event in events:
            if event.kind is EventKind.FINISHED and event.type is not None:
                self.finished[event.type] += 1
                done = sum(self.finished.values())
                if done == warm or done % 50 == 0:
                    taken = self.sample()
                    if done == warm:
                        self.warm = taken
                    print(
                        f"  {done:>5} syncs: rss {taken.rss / 2**20:.1f} MiB, "
                        f"{taken.fds} fds, {taken.children} children",
                        flush=True,
                    )
                if done // len(ExportType) > rounds:
                    rounds = done // len(ExportType)
                    changed = list(ExportType)[rounds % len(ExportType)]
                    seed = self.seed * 100_000 + rounds
                    # The portal's lock may be held by a request: off the event loop.
                    await trio.to_thread.run_sync(change_portal, self.portal, changed, seed)
                if done >= self.syncs or time.monotonic() > self.deadline:
                    break
        # A last sync of every type, so that each table shows the portal as it is now.
        daemon.pause()
        while daemon.worker.current is not None:
            await trio.sleep(0.1)
        daemon.resume()
        for export_type in ExportType:
            await timed_sync(events, export_type, partial(daemon.sync_now, export_type))
        self.sample()


def _rss() -> int:
    """This process's resident memory, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _descendants(pid: int) -> list[Process]:
    table = snapshot()
    found: list[Process] = []
    parents = {pid}
    while True:
        more = [p for p in table.values() if p.ppid in parents and p not in found]
        if not more:
            return found
        found += more
        parents = {p.pid for p in more}


def check(soak: Soak, marker: str) -> list[str]:
    """What failed, as sentences (empty: every check passed)."""
    problems: list[str] = []
    warm = soak.warm
    end = soak.samples[-1] if soak.samples else None
    if warm is None or end is None:
        return ["no samples: too few syncs"]
    growth = (end.rss - warm.rss) / warm.rss
    print(
        f"resident memory: {warm.rss / 2**20:.1f} MiB after {warm.syncs} syncs, "
        f"{end.rss / 2**20:.1f} MiB at the end ({growth:+.1%})"
    )
    if growth >= MAX_RSS_GROWTH:
        problems.append(f"resident memory grew {growth:.1%}")
    print(f"open descriptors: {warm.fds} after the warm-up, {end.fds} at the end")
    if end.fds > warm.fds + MAX_FD_GROWTH:
        problems.append(f"open descriptors grew from {warm.fds} to {end.fds}")
    zombies = max(s.zombies for s in soak.samples)
    if zombies:
        problems.append(f"{zombies} zombie child process(es) seen")
    left = browsers_marked(MARKER, marker)
    print(f"processes left after the stop: {len(left)}")
    if left:
        problems.append(f"{len(left)} browser process(es) outlived the daemon")
    with contextlib.closing(sqlite3.connect(f"file:{soak.database}?mode=ro", uri=True)) as db:
        [(runs,)] = db.execute("SELECT count(*) FROM sync_runs").fetchall()
        [(integrity,)] = db.execute("PRAGMA integrity_check").fetchall()
    print(f"attempts started: {soak.started}, sync_runs rows: {runs}; integrity: {integrity}")
    if runs != soak.started:
        problems.append(f"{soak.started} attempts but {runs} sync_runs rows")
    if integrity != "ok":
        problems.append(f"integrity check: {integrity}")
    database = open_database(soak.database)
    try:
        for export_type in ExportType:
            stored = {k: to_json(r) for k, r in database.read_records(export_type).items()}
            with soak.portal.lock:
                view = soak.portal.export_view()
                records = expected_records(
                    export_type, soak.portal.dataset.records(export_type), view
                )
            truth = {record_key(r): to_json(r) for r in records}
            if len(truth) != len(records):
                problems.append(f"{export_type}: the simulator's export repeats keys")
            if stored != truth:
                wrong = len(stored.keys() ^ truth.keys()) + sum(
                    1 for k in stored.keys() & truth.keys() if stored[k] != truth[k]
                )
                problems.append(f"{export_type}: {wrong} row(s) differ from the simulator")
    finally:
        database.close()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--syncs", type=int, default=1000)
    parser.add_argument("--every", type=float, default=6.0, help="seconds between syncs of a type")
    parser.add_argument("--minutes", type=float, default=60.0, help="stop after this long")
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("-v", "--verbose", action="store_true", help="the daemon's log too")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(asctime)s %(name)s: %(message)s",
    )
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    marker = uuid.uuid4().hex
    os.environ[MARKER] = marker  # the browsers inherit it: how leftovers are found

    dataset = Dataset.generate(args.seed, args.scale)
    options = PortalOptions(ddt_flake=0.0, loading_min=0.05, loading_max=0.2)
    portal = Portal(dataset=dataset, options=options, seed=args.seed)
    server = SimServer(portal, ExportCache(default_cache_dir(), load_font(None)))
    server.start()
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="archid-soak-") as tmp:
            config_path = write_config(Path(tmp), server.url, options, args.every)
            soak = Soak(
                portal,
                load_config(config_path).database.path,
                args.syncs,
                started + args.minutes * 60,
                args.seed,
            )
            print(
                f"soak: up to {args.syncs} syncs, every type every {args.every:g} s, "
                f"at most {args.minutes:g} min",
                flush=True,
            )
            trio.run(with_daemon, config_path, soak.run)
            took = time.monotonic() - started
            done = sum(soak.finished.values())
            print(
                f"\n{done} syncs in {took / 60:.1f} min ({done / took * 60:.0f}/min), "
                f"{len(soak.failed)} failed attempt(s)"
            )
            for line in soak.failed[:10]:
                print(f"  {line}")
            problems = check(soak, marker)
    finally:
        server.close()
    for problem in problems:
        print(f"FAILED: {problem}")
    print("every check passed" if not problems else f"{len(problems)} check(s) failed")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
