"""Soak: many syncs on an accelerated schedule, the portal changing between rounds.

Run: ``.venv/bin/python -m tests.bench.soak [--syncs 1000] [--every 6] [--minutes 60]
[--tracemalloc]``

Three processes, as in production: the simulated portal (``archid sim
--test-api``), the daemon (``archid run``, with its headless Chromium) and
this runner, which talks to them only as an operator would: the daemon's
control socket (``watch``, ``pause``, ``sync``, ``reload``), ``/proc``,
signals and the database file; the simulator's ``/_sim/`` test API over
HTTP. The daemon runs as a real process, not in this one, so that what is
measured is the daemon alone: the simulator's caches and data sets, which
grow with every change, and this runner's own bookkeeping are in other
processes, and the process measured is the one systemd would run (its
imports, its threads, its control server).

The daemon starts with every schedule off; once this runner watches its
events, the configuration is rewritten (every type due every ``--every``
seconds, the first syncs staggered) and reloaded, so that no attempt starts
unseen. After every round of six finished syncs a few records of one type
change in the simulator (as ``archid demo`` does, never so many removals
that the store's guard would refuse the next export). It stops after
``--syncs`` finished syncs or ``--minutes``, whichever comes first, runs two
last syncs of every type (a row or a field missing from one export is kept
until the next confirms it), stops the daemon with SIGTERM and checks:

* resident memory (``VmRSS`` of the daemon's process) grew less than 10 %
  from the end of the warm-up (the first tenth of the syncs) to the end;
  the growth over the last half and the peak are printed too (a leak keeps
  growing over the last half, a cache levels off);
* the daemon's open file descriptors stayed flat (at most a few more than
  after the warm-up);
* no zombie among the daemon's descendants and no orphan (a process
  carrying the daemon's marker that is not its descendant) at any sample;
  at most two browsers among its descendants (one chromedriver each: the
  schedule's portal session and the interactive one, which its keeper
  starts for a page now and then and closes again), and never more browser
  processes (Chromium, chromedriver, crash handler) than that many
  headless browsers have;
* the daemon exited with status 0 and, once it had, no process it started
  (found by a marker in the environment its browsers inherit) was alive;
* the control socket's event stream lost nothing, every attempt the daemon
  announced has its ``sync_runs`` row, and the file passes SQLite's
  integrity check;
* each table holds what the simulator exports now (its ``/_sim/truth``),
  without duplicates.

The daemon is sampled every ten finished syncs. With ``--tracemalloc`` it
runs under :mod:`tracemalloc`, a snapshot is taken (after a garbage
collection) at the end of the warm-up and at the end, and the ten source
lines whose live allocations grew most between them are printed. The tracer
costs time and memory of its own, growing with what it has seen: judge the
resident memory from an untraced run.

The exit status is 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import tracemalloc
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from archid.config import load_config
from archid.control.client import Client
from archid.control.errors import ControlError, NotListening
from archid.demo import mutation_size, removals_allowed, write_config
from archid.portal.processes import Process, environment, snapshot
from archid.records import RECORD_TYPES, ExportType, from_json, record_key, to_json
from archid.sim.portal import PortalOptions
from archid.store import open_database

ROOT = Path(__file__).resolve().parents[2]
MARKER = "ARCHID_SOAK"
#: where the traced daemon writes its snapshots (``--tracemalloc``)
SNAPSHOT_DIR = "ARCHID_SOAK_SNAPSHOTS"
#: frames kept per traced allocation
TRACE_FRAMES = 8
#: allowed growth of resident memory from the warm-up's end to the end
MAX_RSS_GROWTH = 0.10
#: allowed growth of open descriptors (a socket or two in flight)
MAX_FD_GROWTH = 4
#: browsers at once: the schedule's portal session and the interactive one
MAX_BROWSERS = 2
#: one headless Chromium as the daemon runs it: chromedriver, the browser, its two
#: zygotes, a utility and a GPU process, four renderers, two crash handlers (12
#: in all; 13 seen over 1,000 syncs), and room for renderers in passing;
#: renderers that pile up exceed it
MAX_BROWSER_PROCESSES = 16
SAMPLE_EVERY = 10
PRINT_EVERY = 50
#: how long the daemon's browsers may take to end after it exited
GONE_WITHIN = 10.0


class SoakError(Exception):
    """The soak could not go on (a process died, a socket broke)."""


@dataclass
class Sample:
    syncs: int
    at: float  # seconds since the start
    rss: int
    anon: int
    fds: int
    browsers: int  # processes
    drivers: int  # chromedrivers: one a browser
    zombies: int
    orphans: int


# -- the simulator ------------------------------------------------------------------------


class Simulator:
    """``archid sim --test-api`` in a process of its own, and its test API."""

    def __init__(self, folder: Path, seed: int, scale: float, password: Path) -> None:
        self.log_path = folder / "sim.log"
        command = [
            *(sys.executable, "-m", "archid", "sim", "--test-api", "--port", "0"),
            *("--seed", str(seed), "--scale", f"{scale:g}", "--ddt-flake", "0"),
            *("--password-file", str(password)),
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.url = self._served_url(timeout=120.0)
        self.api = httpx.Client(base_url=self.url.removesuffix("Archibald/") + "_sim/", timeout=60)
        # Quick list pages: the soak is about the daemon, not the portal's pace.
        self._call("POST", "options", {"loading_min": 0.05, "loading_max": 0.2})

    def _served_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_path.read_text(errors="replace").splitlines():
                if line.startswith("archid sim: serving "):
                    return line.split()[3]
            if self.process.poll() is not None:
                raise SoakError(f"the simulator exited: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        raise SoakError(f"the simulator did not serve within {timeout:g} s")

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        reply = self.api.request(method, path, json=body)
        if reply.status_code >= 300:
            raise SoakError(f"{method} /_sim/{path}: {reply.status_code} {reply.text[:300]}")
        return reply.json()

    def truth(self, export_type: ExportType) -> list[dict[str, Any]]:
        """The records a correct parser yields from a full export now (JSON form)."""
        return list(self._call("GET", f"truth/{export_type}"))

    def change(self, export_type: ExportType, seed: int) -> None:
        """A few random changes to one type; removals past what the store's guard lets
        go at once are undone (as :func:`archid.demo.change_portal` does)."""
        count = len(self.truth(export_type))
        done = self._call(
            "POST", f"mutate/{export_type}", {"n": mutation_size(count), "seed": seed}
        )
        removed = [c for c in done["changes"] if c["op"] == "delete"]
        for change in removed[removals_allowed(count) :]:
            self._call("POST", f"records/{export_type}", change["before"])

    def logins(self) -> int:
        return int(self._call("GET", "state")["logins_today"])

    def close(self) -> None:
        self.api.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# -- the daemon ---------------------------------------------------------------------------


class DaemonProcess:
    """``archid run`` in a process of its own; its control socket; ``/proc`` views of it."""

    def __init__(self, config: Path, folder: Path, marker: str, trace: bool) -> None:
        self.log_path = folder / "daemon.log"
        self.socket = folder / "control.sock"
        self.marker = marker
        self.snapshots = folder / "snapshots"
        env = {**os.environ, MARKER: marker}
        for systemd in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            env.pop(systemd, None)
        python = ["-m", "archid"]
        if trace:
            self.snapshots.mkdir()
            env[SNAPSHOT_DIR] = str(self.snapshots)
            python = ["-c", "from tests.bench.soak import traced_daemon; traced_daemon()"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, *python, "run", "--config", str(config)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.pid = self.process.pid
        self._taken = itertools.count()

    def client(self, timeout: float | None = 30.0) -> Client:
        return Client(self.socket, timeout=timeout)

    def wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.alive()
            try:
                with self.client(timeout=5) as client:
                    pid = client.version()["pid"]
            except NotListening:
                if time.monotonic() > deadline:
                    raise SoakError(f"no control socket within {timeout:g} s") from None
                time.sleep(0.1)
                continue
            if pid != self.pid:
                raise SoakError(f"another daemon (PID {pid}) answers on {self.socket}")
            return

    def alive(self) -> None:
        code = self.process.poll()
        if code is not None:
            raise SoakError(f"the daemon exited with status {code}\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return "daemon log (tail):\n" + "\n".join(text)

    def memory(self) -> tuple[int, int]:
        """Resident memory of the daemon's process, all and anonymous, in bytes."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon"):
                fields[name] = int(value.split()[0]) * 1024
        return fields["VmRSS"], fields["RssAnon"]

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def marked(self) -> list[Process]:
        """Live processes, other than the daemon, started with its marker."""
        return [
            p
            for pid, p in snapshot().items()
            if pid != self.pid and p.alive and environment(pid).get(MARKER) == self.marker
        ]

    def take_snapshot(self, timeout: float = 120.0) -> Path:
        """Ask the traced daemon for a tracemalloc snapshot; its file once written."""
        path = self.snapshots / f"{next(self._taken)}.snap"
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while not path.exists():
            self.alive()
            if time.monotonic() > deadline:
                raise SoakError(f"no tracemalloc snapshot within {timeout:g} s")
            time.sleep(0.2)
        return path

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM; the exit status (``-9`` if it had to be killed)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return -signal.SIGKILL

    def kill_leftovers(self) -> None:
        """After a failure: no process of this soak survives it."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for process in self.marked():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)


def traced_daemon() -> None:
    """``archid``'s command line under tracemalloc; each SIGUSR1 dumps a snapshot
    (after a garbage collection, so that only reachable blocks count).

    The snapshots go to ``$ARCHID_SOAK_SNAPSHOTS/<n>.snap`` (written under
    another name, then renamed: a file that exists is complete).
    """
    from archid.cli import main

    folder = Path(os.environ[SNAPSHOT_DIR])
    taken = itertools.count()
    tracemalloc.start(TRACE_FRAMES)

    def dump(signum: int, frame: FrameType | None) -> None:
        path = folder / f"{next(taken)}.snap"
        partial = path.with_suffix(".part")
        gc.collect()  # what a snapshot shows is then what is still reachable
        tracemalloc.take_snapshot().dump(str(partial))
        partial.rename(path)

    signal.signal(signal.SIGUSR1, dump)
    sys.exit(main(sys.argv[1:]))


# -- the events -------------------------------------------------------------------------------


class Watcher:
    """The daemon's event stream (``watch`` on the control socket), read by a thread.

    Returns once subscribed: it pauses and resumes one type (each an event)
    until the stream shows it. The daemon must not be syncing yet.
    """

    def __init__(self, daemon: DaemonProcess, timeout: float = 30.0) -> None:
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._client = daemon.client(timeout=30)
        self._failure: ControlError | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        with daemon.client() as client:
            while True:
                client.pause(str(ExportType.CUSTOMERS))
                try:
                    event = self.events.get(timeout=1.0)
                except queue.Empty:
                    if time.monotonic() > deadline:
                        raise SoakError(f"no event came within {timeout:g} s") from None
                    continue
                if event is None:
                    raise SoakError(f"could not watch the daemon's events: {self._failure}")
                if event.get("kind") == "paused":
                    break
            client.resume(str(ExportType.CUSTOMERS))

    def _read(self) -> None:
        try:
            for event in self._client.watch():
                self.events.put(event)
        except ControlError as exc:
            self._failure = exc
        finally:
            self.events.put(None)

    def close(self) -> None:
        self._client.close()


# -- the run ------------------------------------------------------------------------------


@dataclass
class Soak:
    daemon: DaemonProcess
    sim: Simulator
    watcher: Watcher
    syncs: int
    deadline: float
    seed: int
    started_at: float = field(default_factory=time.monotonic)
    finished: Counter[str] = field(default_factory=Counter)
    started: int = 0
    dropped: int = 0
    failed: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    warm: Sample | None = None  # taken at the end of the warm-up
    snapshots: list[Path] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(self.finished.values())

    def sample(self) -> Sample:
        daemon = self.daemon
        table = snapshot()
        tree = _descendants(table, daemon.pid)
        rss, anon = daemon.memory()
        marked = [p for p in table.values() if p.alive and p.pid != daemon.pid]
        ours = {p.pid for p in tree}
        orphans = [
            p
            for p in marked
            if p.pid not in ours and environment(p.pid).get(MARKER) == daemon.marker
        ]
        taken = Sample(
            self.done,
            time.monotonic() - self.started_at,
            rss,
            anon,
            daemon.fds(),
            sum(1 for p in tree if p.alive and p.is_browser),
            sum(1 for p in tree if p.alive and p.comm.startswith("chromedriver")),
            sum(1 for p in tree if not p.alive),
            len(orphans),
        )
        self.samples.append(taken)
        return taken

    def next_event(self, deadline: float | None = None) -> dict[str, Any] | None:
        """The next event, or ``None`` once ``deadline`` (the soak's) passed."""
        while time.monotonic() < (self.deadline if deadline is None else deadline):
            self.daemon.alive()
            try:
                event = self.watcher.events.get(timeout=1.0)
            except queue.Empty:
                continue
            if event is None:
                raise SoakError(f"the event stream ended\n{self.daemon.tail()}")
            self.note(event)
            return event
        return None

    def note(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        if kind == "started":
            self.started += 1
        elif kind == "failed":
            error = (event.get("data") or {}).get("error")
            self.failed.append(f"{event.get('type')}: {error}: {event.get('message')}")
        elif kind == "dropped":
            self.dropped += int((event.get("data") or {}).get("count", 1))
        elif kind == "finished" and event.get("type"):
            self.finished[str(event["type"])] += 1

    def run(self, every: float, config: Path, url: str, options: PortalOptions) -> None:
        # Watching now: the schedule may start.
        write_schedule(config, url, options, every)
        with self.daemon.client() as client:
            client.reload()
        warm = max(6, self.syncs // 10)
        rounds = 0
        while self.done < self.syncs and (event := self.next_event()) is not None:
            if event.get("kind") != "finished" or not event.get("type"):
                continue
            done = self.done
            if done == warm or done % SAMPLE_EVERY == 0:
                taken = self.sample()
                if done == warm:
                    self.warm = taken
                    if self.daemon.snapshots.exists():
                        self.snapshots.append(self.daemon.take_snapshot())
                if done == warm or done % PRINT_EVERY == 0:
                    print(f"  {_describe(taken)}", flush=True)
            if done // len(ExportType) > rounds:
                rounds = done // len(ExportType)
                changed = list(ExportType)[rounds % len(ExportType)]
                self.sim.change(changed, self.seed * 100_000 + rounds)
        with self.daemon.client(timeout=600) as client:
            # Two last syncs of every type, so that each table shows the portal as it
            # is now: a row or a field missing from one export waits for the next.
            client.pause()
            self.wait_idle(client)
            client.resume()
            for export_type in [*ExportType, *ExportType]:
                outcome = client.sync(str(export_type), wait=True)
                if outcome.get("outcome") != "ok":
                    self.failed.append(f"last {export_type} sync: {outcome}")
            client.pause()
            self.wait_idle(client)
            # A pause is an event too: once this one is read, so is every earlier one.
            client.pause(str(ExportType.CUSTOMERS))
        flushed = time.monotonic() + 60
        while (event := self.next_event(flushed)) is not None:
            if event.get("kind") == "paused" and str(ExportType.CUSTOMERS) in (
                (event.get("data") or {}).get("types") or ()
            ):
                break
        else:
            raise SoakError("the last pause was never announced")
        print(f"  {_describe(self.sample())} (at the end)", flush=True)
        if self.daemon.snapshots.exists():
            self.snapshots.append(self.daemon.take_snapshot())

    def wait_idle(self, client: Client, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while client.status()["running"] is not None:
            if time.monotonic() > deadline:
                raise SoakError(f"a sync still runs {timeout:g} s after the pause")
            time.sleep(0.2)


def write_schedule(config: Path, url: str, options: PortalOptions, every: float | None) -> None:
    """The daemon's configuration (:func:`archid.demo.write_config`), its control
    socket beside it; ``every=None``: every schedule off."""
    write_config(config.parent, url, options, every)
    if "control" not in tomllib.loads(config.read_text()):
        with config.open("a") as out:
            out.write(f'\n[control]\nsocket = "{config.parent / "control.sock"}"\n')
    written = load_config(config).control.socket
    if written != config.parent / "control.sock":
        raise SoakError(f"the daemon's control socket would be {written}")


def _descendants(table: dict[int, Process], pid: int) -> list[Process]:
    found: list[Process] = []
    parents = {pid}
    while parents:
        more = [p for p in table.values() if p.ppid in parents]
        found += more
        parents = {p.pid for p in more}
    return found


def _describe(sample: Sample) -> str:
    return (
        f"{sample.syncs:>5} syncs {sample.at / 60:5.1f} min: rss {sample.rss / 2**20:.1f} MiB "
        f"(anonymous {sample.anon / 2**20:.1f}), {sample.fds} fds, "
        f"{sample.browsers} browser processes ({sample.drivers} browsers)"
    )


def _growth(before: Sample, after: Sample) -> float:
    return (after.rss - before.rss) / before.rss


# -- the checks -----------------------------------------------------------------------------


def check_resources(soak: Soak) -> list[str]:
    """Memory, descriptors and processes while the daemon ran, as failed sentences."""
    problems: list[str] = []
    warm = soak.warm
    if warm is None or not soak.samples:
        return [f"no warm-up sample: {soak.done} syncs are too few"]
    end = soak.samples[-1]
    after = [s for s in soak.samples if s.syncs >= warm.syncs]
    middle = next(s for s in after if s.syncs >= end.syncs // 2 or s is end)
    peak = max(after, key=lambda s: s.rss)
    growth = _growth(warm, end)
    print(
        f"resident memory: {warm.rss / 2**20:.1f} MiB after the warm-up ({warm.syncs} syncs), "
        f"{end.rss / 2**20:.1f} MiB at the end ({growth:+.1%}); "
        f"last half {_growth(middle, end):+.1%} (from {middle.syncs} syncs); "
        f"peak {peak.rss / 2**20:.1f} MiB at {peak.syncs} syncs; "
        f"anonymous {warm.anon / 2**20:.1f} → {end.anon / 2**20:.1f} MiB"
    )
    if growth >= MAX_RSS_GROWTH:
        problems.append(f"resident memory grew {growth:.1%} (limit {MAX_RSS_GROWTH:.0%})")
    most = max(s.fds for s in after)
    print(f"open descriptors: {warm.fds} after the warm-up, {end.fds} at the end, at most {most}")
    if end.fds > warm.fds + MAX_FD_GROWTH:
        problems.append(f"open descriptors grew from {warm.fds} to {end.fds}")
    browsers = max(s.browsers for s in soak.samples)
    drivers = max(s.drivers for s in soak.samples)
    two = sum(1 for s in soak.samples if s.drivers > 1)
    zombies = max(s.zombies for s in soak.samples)
    orphans = max(s.orphans for s in soak.samples)
    print(
        f"processes per sample ({len(soak.samples)} samples): browsers at most {drivers} "
        f"({two} samples with two), browser processes at most {browsers}, "
        f"zombies at most {zombies}, orphans at most {orphans}"
    )
    if drivers > MAX_BROWSERS:
        problems.append(f"{drivers} browsers at once (at most {MAX_BROWSERS}: one a session)")
    crowded = [s for s in soak.samples if s.browsers > MAX_BROWSER_PROCESSES * max(1, s.drivers)]
    if crowded:
        worst = max(crowded, key=lambda s: s.browsers)
        problems.append(f"{worst.browsers} browser processes for {worst.drivers} browser(s) "
                        f"(one browser has at most {MAX_BROWSER_PROCESSES})")  # fmt: skip
    if zombies:
        problems.append(f"{zombies} zombie process(es) under the daemon")
    if orphans:
        problems.append(f"{orphans} process(es) of the daemon outside its tree (orphans)")
    return problems


def check_records(soak: Soak, database: Path) -> list[str]:
    """Runs recorded, integrity, and every table equal to the simulator's truth."""
    problems: list[str] = []
    if soak.dropped:
        problems.append(f"the event stream dropped {soak.dropped} event(s): counts unreliable")
    uri = f"file:{database}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        [(runs,)] = db.execute("SELECT count(*) FROM sync_runs").fetchall()
        [(integrity,)] = db.execute("PRAGMA integrity_check").fetchall()
    print(f"attempts started: {soak.started}, sync_runs rows: {runs}; integrity: {integrity}")
    if runs != soak.started:
        problems.append(f"{soak.started} attempts but {runs} sync_runs rows")
    if integrity != "ok":
        problems.append(f"integrity check: {integrity}")
    store = open_database(database)
    try:
        for export_type in ExportType:
            stored = {k: to_json(r) for k, r in store.read_records(export_type).items()}
            records = [from_json(RECORD_TYPES[export_type], r) for r in soak.sim.truth(export_type)]
            truth = {record_key(r): to_json(r) for r in records}
            if len(truth) != len(records):
                problems.append(f"{export_type}: the simulator's export repeats keys")
            if stored != truth:
                wrong = len(stored.keys() ^ truth.keys()) + sum(
                    1 for k in stored.keys() & truth.keys() if stored[k] != truth[k]
                )
                problems.append(f"{export_type}: {wrong} row(s) differ from the simulator")
    finally:
        store.close()
    return problems


def check_stop(daemon: DaemonProcess) -> list[str]:
    """SIGTERM: status 0, and every process the daemon started gone soon after."""
    problems: list[str] = []
    code = daemon.stop()
    if code != 0:
        problems.append(f"the daemon exited with status {code} on SIGTERM\n{daemon.tail()}")
    started = time.monotonic()
    while (left := daemon.marked()) and time.monotonic() - started < GONE_WITHIN:
        time.sleep(0.1)
    print(f"exit status {code}; processes left {GONE_WITHIN:g} s after the stop: {len(left)}")
    if left:
        names = ", ".join(f"{p.comm}[{p.pid}]" for p in left)
        problems.append(f"{len(left)} process(es) outlived the daemon: {names}")
    return problems


def print_growth(snapshots: list[Path], top: int = 10) -> None:
    """The source lines whose live allocations grew most between two snapshots."""
    ignored = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
        tracemalloc.Filter(False, "<unknown>"),
    ]
    first, last = (tracemalloc.Snapshot.load(str(p)).filter_traces(ignored) for p in snapshots)
    total = sum(s.size for s in last.statistics("filename")) - sum(
        s.size for s in first.statistics("filename")
    )
    print(f"traced allocations grew {total / 2**20:+.2f} MiB; top {top} lines by growth:")
    for stat in last.compare_to(first, "lineno")[:top]:
        frame = stat.traceback[0]
        where = os.path.relpath(frame.filename, ROOT) if frame.filename.startswith(str(ROOT)) else (
            frame.filename
        )  # fmt: skip
        print(
            f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks "
            f"(now {stat.size / 1024:.1f} KiB)  {where}:{frame.lineno}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--syncs", type=int, default=1000)
    parser.add_argument("--every", type=float, default=6.0, help="seconds between syncs of a type")
    parser.add_argument("--minutes", type=float, default=60.0, help="stop after this long")
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace the daemon's allocations; print what grew after the warm-up",
    )
    args = parser.parse_args()
    if args.syncs < 6 or args.every <= 0 or args.minutes <= 0 or args.scale <= 0:
        parser.error("--syncs must be at least 6; --every, --minutes and --scale above 0")
    marker = uuid.uuid4().hex
    started = time.monotonic()

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise SoakError(f"interrupted by {signal.Signals(signum).name}")

    # Stopped from outside (SIGTERM, or SIGINT though a shell ignored it for a
    # background job), the soak still stops its daemon, browsers and simulator.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, interrupted)
    options = PortalOptions()
    problems: list[str] = []
    # A short folder: the control socket's path must fit in 108 bytes.
    with tempfile.TemporaryDirectory(prefix="archid-soak-", dir="/tmp") as tmp:
        folder = Path(tmp)
        config = folder / "config.toml"
        password = folder / "portal-password"
        password.write_text(options.password + "\n")
        password.chmod(0o600)
        sim = Simulator(folder, args.seed, args.scale, password)
        daemon: DaemonProcess | None = None
        try:
            write_schedule(config, sim.url, options, None)
            daemon = DaemonProcess(config, folder, marker, args.tracemalloc)
            daemon.wait_listening(timeout=120)
            watcher = Watcher(daemon)
            soak = Soak(
                daemon,
                sim,
                watcher,
                args.syncs,
                started + args.minutes * 60,
                args.seed,
            )
            print(
                f"soak: up to {args.syncs} syncs, every type every {args.every:g} s, "
                f"at most {args.minutes:g} min; daemon PID {daemon.pid}, simulator PID "
                f"{sim.process.pid}{', traced' if args.tracemalloc else ''}",
                flush=True,
            )
            soak.run(args.every, config, sim.url, options)
            took = time.monotonic() - started
            print(
                f"\n{soak.done} syncs in {took / 60:.1f} min ({soak.done / took * 60:.0f}/min), "
                f"{len(soak.failed)} failed attempt(s), {sim.logins()} portal login(s)"
            )
            for line in soak.failed[:10]:
                print(f"  {line}")
            watcher.close()
            problems += check_resources(soak)
            problems += check_stop(daemon)
            problems += check_records(soak, folder / "archid.sqlite3")
            if len(soak.snapshots) == 2:
                print_growth(soak.snapshots)
        except SoakError as exc:
            problems.append(str(exc))
        finally:
            if daemon is not None:
                daemon.kill_leftovers()
            sim.close()
    for problem in problems:
        print(f"FAILED: {problem}")
    print("every check passed" if not problems else f"{len(problems)} check(s) failed")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
