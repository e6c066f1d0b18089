"""``archid demo``: the real daemon keeping a mirror of the bundled simulator fresh.

What runs is what ``archid run`` runs — :func:`archid.app.serve`
with its scheduler, worker, headless Chromium, parsers and SQLite store —
against a simulated portal on a free loopback port, with a configuration
written into a new state folder (kept afterwards, so the database can be
looked at) and an accelerated schedule: every type every ``--every``
seconds, the first syncs staggered by a few seconds.

The demo follows the daemon's event stream (subscribed before the daemon
starts, so nothing is missed) and prints each sync's progress. It counts
*rounds*: a round is one successful sync of every type. A type is paused
with the daemon's own pause command as soon as its sync starts (the running
sync goes on; the scheduler just cannot queue the type again) and stays
paused until every type has finished the round. Then a few records of
every type are changed in the simulator — never so many removals that the
store's guard would refuse the next export — the pauses are lifted, and the
schedule starts the next round, whose deltas show exactly those changes.
At the end it prints a table per round and the database's path, and stops
the daemon, which kills its browser.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import trio

from archid import exitstatus, logs
from archid.config import MAX_SOCKET_PATH_BYTES, Config, ConfigError, load_config
from archid.ctl.stages import STAGE_LABELS
from archid.daemon.events import Event, EventBus, EventKind
from archid.daemon.health import MAX_INTERVALS_SINCE_SUCCESS as HEALTH_STALE_INTERVALS
from archid.daemon.service import Daemon
from archid.records import ExportType, Record, data_fields, record_key
from archid.runs import Outcome
from archid.sim.cache import ExportCache, default_cache_dir
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.layouts import expected_records
from archid.sim.portal import Portal, PortalOptions
from archid.sim.server import SimServer
from archid.store import StoreError
from archid.store.database import open_reader

#: the order the production schedule staggers the types in (see DEFAULT_SCHEDULES)
STAGGER = (
    ExportType.ORDERS,
    ExportType.CUSTOMERS,
    ExportType.PRICES,
    ExportType.INVOICES,
    ExportType.DDT,
    ExportType.PRODUCTS,
)


# -- what is shown -----------------------------------------------------------------


class Screen:
    """Progress lines on stdout, stamped with the seconds since the daemon started.

    On a terminal the sync's stages overwrite one status line; otherwise
    (a pipe, a log) each stage is a line of its own.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._status = False
        self._lock = threading.Lock()  # the daemon's threads log too
        self.start = time.monotonic()

    def _stamp(self) -> str:
        return f"[{time.monotonic() - self.start:6.1f}s] "

    def _clear(self) -> None:
        if self._status:
            self._stream.write("\r\x1b[K")
            self._status = False

    def line(self, text: str) -> None:
        self.text(self._stamp() + text)

    def text(self, text: str = "") -> None:
        with self._lock:
            self._clear()
            self._stream.write(text + "\n")
            self._stream.flush()

    def status(self, text: str) -> None:
        if not self._tty:
            self.line(text)
            return
        with self._lock:
            self._clear()
            self._stream.write(self._stamp() + text)
            self._stream.flush()
            self._status = True


class _LogToScreen(logging.Handler):
    """The daemon's log records, as lines among the progress."""

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self._screen = screen

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "archid_alert", None) == logs.Alert.TYPE_STALE:
            return  # its event is shown ("alert: ..."): once is enough
        try:
            level = "" if record.levelno < logging.ERROR else f"{record.levelname.lower()}: "
            self._screen.line(f"daemon log: {level}{record.getMessage()}")
        except Exception:
            self.handleError(record)


# -- changes in the simulator ----------------------------------------------------------


@dataclass
class PortalChanges:
    """The net effect of a batch of changes to one type in the simulator."""

    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # key → fields
    removed: list[str] = field(default_factory=list)

    @property
    def short(self) -> str:
        return f"+{len(self.added)} ~{len(self.changed)} -{len(self.removed)}"

    def describe(self, most: int = 3) -> str:
        def some(keys: Sequence[str]) -> str:
            return ", ".join(keys[:most]) + (", …" if len(keys) > most else "")

        parts = []
        if self.added:
            parts.append(f"{len(self.added)} added ({some(self.added)})")
        if self.changed:
            edits = [f"{key}: {', '.join(names)}" for key, names in self.changed.items()]
            parts.append(f"{len(self.changed)} changed ({some(edits)})")
        if self.removed:
            parts.append(f"{len(self.removed)} removed ({some(self.removed)})")
        return "; ".join(parts) or "no net change"


def mutation_size(count: int) -> int:
    """Changes per type and round: a few."""
    return max(1, min(5, count // 10))


def removals_allowed(count: int) -> int:
    """Records of a type of ``count`` that one round may remove.

    At most a tenth, so that the store's guard never refuses an export: the
    next export still holds over 70 % of the live rows (``min_export_share``)
    even while the previous round's removals await deletion, and deletes
    under 30 % of them (``max_delete_share``).
    """
    return count // 10


def change_portal(portal: Portal, export_type: ExportType, seed: int) -> PortalChanges:
    """Make a few random plausible changes to ``export_type`` (as the test API's
    ``mutate`` does) and return their net effect on what a full export shows."""
    t = export_type
    dataset = portal.dataset
    with portal.lock:
        view = portal.full_view()
        originals = _by_key(dataset.records(t))
        before = _by_key(expected_records(t, dataset.records(t), view))
        dataset.mutate(t, seed, mutation_size(len(originals)))
        gone = [key for key in originals if (t, key) not in dataset]
        for key in gone[removals_allowed(len(originals)) :]:
            dataset.add(t, originals[key])  # more than the guard lets go at once: kept
        after = _by_key(expected_records(t, dataset.records(t), view))
    changes = PortalChanges(
        added=[key for key in after if key not in before],
        removed=[key for key in before if key not in after],
    )
    for key, record in after.items():
        old = before.get(key)
        if old is not None and old != record:
            changes.changed[key] = [
                f.name
                for f in data_fields(type(record))
                if getattr(old, f.name) != getattr(record, f.name)
            ]
    return changes


def _by_key(records: list[Record]) -> dict[str, Record]:
    keyed: dict[str, Record] = {}
    for record in records:
        keyed.setdefault(record_key(record), record)  # as the store: the first one counts
    return keyed


# -- following the daemon ---------------------------------------------------------------


@dataclass
class SyncRow:
    """One successful sync, for the tables."""

    type: ExportType
    round: int
    records: int
    inserted: int
    updated: int
    deleted: int
    seconds: float
    store_run: int | None
    missing: int = 0
    portal: PortalChanges | None = None
    #: the change check found the list as at its last full export: nothing exported
    unchanged: bool = False


class Rounds:
    """Follows the daemon's events; paces the rounds; collects the results."""

    def __init__(
        self,
        daemon: Daemon,
        portal: Portal,
        screen: Screen,
        *,
        database: Path,
        rounds: int,
        seed: int,
    ) -> None:
        self.daemon = daemon
        self.portal = portal
        self.database = database
        self.screen = screen
        self.rounds = rounds
        self.seed = seed
        self.round = 1
        self.round_started = 0.0
        self.done = dict.fromkeys(ExportType, 0)  # successful syncs per type
        self.failed: dict[ExportType, str] = {}
        self.rows: list[SyncRow] = []
        self.changes: dict[ExportType, PortalChanges] = {}  # made before this round
        self.finished = False

    def active(self) -> list[ExportType]:
        return [t for t in ExportType if t not in self.failed]

    async def follow(self, events: trio.MemoryReceiveChannel[Event]) -> None:
        """Until every type has done every round (or failed for good)."""
        self.round_started = time.monotonic()
        async for event in events:
            await self.on_event(event)
            if self.finished:
                return

    async def on_event(self, event: Event) -> None:
        t = event.type
        kind = event.kind
        if kind is EventKind.BREAKER:
            self.screen.line(f"circuit breaker {event.message}")
            # A sync put back while the portal is unreachable must stay eligible.
            for waiting in self.active():
                if self.done[waiting] < self.round:
                    self.daemon.resume(waiting)
            return
        if kind is EventKind.ALERT:
            self.screen.line(f"alert: {event.message}")
            return
        if t is None:
            return
        name = f"{t:<10}"
        if kind is EventKind.STARTED:
            # No second sync of this type until the round is complete: the
            # pause stops the scheduler from queueing it again.
            self.daemon.pause(t)
            attempt = "" if event.message == "attempt 1" else f", {event.message}"
            self.screen.line(f"{name} round {self.done[t] + 1}: sync started{attempt}")
        elif kind is EventKind.STAGE and event.stage:
            self.screen.status(f"{name}   {STAGE_LABELS.get(event.stage, event.stage)}…")
        elif kind is EventKind.PROGRESS and event.stage == "parse":
            pages = f" from {event.total} pages" if event.total else ""
            self.screen.status(f"{name}   parsed {event.current:,} records{pages}")
        elif kind is EventKind.FAILED:
            where = f" at {event.stage}" if event.stage else ""
            error = event.data.get("error", "error")
            self.screen.line(f"{name} failed{where}: {error}: {event.message}")
        elif kind is EventKind.RETRYING:
            self.screen.line(f"{name} {event.message}")
        elif kind is EventKind.DEAD_LETTER:
            self.daemon.pause(t)
            self.failed[t] = event.message
            self.screen.line(f"{name} gave up: {event.message}")
            await self._maybe_next_round()
        elif kind is EventKind.FINISHED:
            self.daemon.pause(t)
            self._finished(t, event.data, event.message)
            await self._maybe_next_round()

    def _finished(self, t: ExportType, data: dict[str, Any], message: str) -> None:
        seconds = data.get("seconds") or {}
        row = SyncRow(
            type=t,
            round=self.done[t] + 1,
            records=int(data.get("records", 0)),
            inserted=int(data.get("inserted", 0)),
            updated=int(data.get("updated", 0)),
            deleted=int(data.get("deleted", 0)),
            seconds=sum(float(seconds.get(s, 0.0)) for s in ("export", "parse", "apply")),
            store_run=data.get("store_run"),
            portal=self.changes.get(t) if self.round > 1 else None,
            unchanged=data.get("outcome") is Outcome.UNCHANGED,
        )
        if row.store_run is not None:
            row.missing = self._missing(row.store_run)
        self.done[t] += 1
        self.rows.append(row)
        if row.unchanged:
            self.screen.line(
                f"{t:<10} round {row.round}: unchanged since its last full export"
                f" ({message}): not exported (check {row.seconds:.1f} s)"
            )
            return
        counts = {**data, "missing": row.missing}
        kinds = ("inserted", "updated", "deleted", "restored", "missing")
        changes = ", ".join(f"{counts[k]:,} {k}" for k in kinds if counts.get(k))
        stages = ", ".join(
            f"{stage} {seconds[stage]:.{2 if stage == 'apply' else 1}f} s"
            for stage in ("export", "parse", "apply")
            if stage in seconds
        )
        self.screen.line(
            f"{t:<10} round {row.round}: {row.records:,} records: {changes or 'no change'}"
            f" ({stages})"
        )

    def _missing(self, store_run: int) -> int:
        """Rows the run marked missing (the event does not carry it): from the database."""
        # apsw, as the daemon in this process: see open_reader.
        with contextlib.closing(open_reader(self.database)) as db:
            rows = db.execute("SELECT missing FROM sync_runs WHERE id = ?", (store_run,)).fetchall()
        missing = rows[0][0] if rows else 0
        return missing if isinstance(missing, int) else 0

    async def _maybe_next_round(self) -> None:
        active = self.active()
        if any(self.done[t] < self.round for t in active):
            return
        took = time.monotonic() - self.round_started
        self.screen.line(f"round {self.round} done in {took:.1f} s")
        if self.round >= self.rounds or not active:
            self.finished = True
            return
        self.round += 1
        self.round_started = time.monotonic()
        self.screen.line(f"changing the portal before round {self.round}:")
        for t in active:
            seed = self.seed * 1000 + self.round
            # The lock may be held by a request being served: not on the event loop.
            changes = await trio.to_thread.run_sync(change_portal, self.portal, t, seed)
            self.changes[t] = changes
            self.screen.text(f"{'':10}{t:<10} {changes.describe()}")
        for t in active:
            self.daemon.resume(t)
        due = self.daemon.status().next_due
        first = min(active, key=lambda t: due.get(t, float("inf")))
        wait = max(0.0, due[first] - time.time())
        self.screen.line(f"round {self.round}: next due is {first}, in {wait:.1f} s")


# -- the run ---------------------------------------------------------------------------


@dataclass
class Setup:
    state_dir: Path
    config_path: Path
    config: Config
    server: SimServer
    portal: Portal


def write_config(state_dir: Path, url: str, options: PortalOptions, every: float | None) -> Path:
    """A configuration for the daemon against the simulator, in ``state_dir``.

    Every type is due every ``every`` seconds, the first syncs staggered;
    ``None`` turns the schedule off (only requests run: the benchmark).
    """
    password = state_dir / "portal-password"
    password.write_text(options.password + "\n")
    password.chmod(0o600)
    if every is None:
        schedules = "\n".join(f"[schedule.{t}]\nenabled = false\n" for t in STAGGER)
    else:
        step = every / 12
        schedules = "\n".join(
            f'[schedule.{t}]\nevery = "{every:g}s"\noffset = "{i * step:g}s"\n'
            for i, t in enumerate(STAGGER)
        )
    text = f"""# written by `archid demo`: the daemon against the simulated portal
[portal]
url = "{url}"
username = "{options.user}"
password_file = "portal-password"
verify_tls = false
daily_login_budget = 40

[database]
path = "archid.sqlite3"

{schedules}
[quiet_hours]
enabled = false

[retry]
retries = 2
base_delay = "2s"
max_delay = "10s"

[load]
max_load_average = 0

[metrics]
textfile = "archid.prom"
{_control_section(state_dir)}"""
    path = state_dir / "config.toml"
    path.write_text(text)
    return path


def _control_section(state_dir: Path) -> str:
    """The demo's own control socket, in its state folder (so ``archid ctl
    --socket`` reaches it while it runs), where the path fits a socket's."""
    socket = state_dir / "control.sock"
    if len(os.fsencode(socket)) > MAX_SOCKET_PATH_BYTES:
        return ""  # the system's default then: /run/archid/control.sock
    return '\n[control]\nsocket = "control.sock"\n'


def run_demo(args: argparse.Namespace) -> int:
    for name in ("scale", "rounds", "every"):
        if not getattr(args, name) > 0:
            print(f"archid demo: --{name} must be above 0", file=sys.stderr)
            return os.EX_USAGE
    try:
        state_dir = _state_dir(args.state_dir)
    except ValueError as exc:
        print(f"archid demo: {exc}", file=sys.stderr)
        return os.EX_USAGE
    print(
        f"archid demo: the archid daemon keeping a SQLite mirror of a simulated portal\n"
        f"  generating the portal's data (scale {args.scale:g}, seed {args.seed})…",
        flush=True,
    )
    dataset = Dataset.generate(args.seed, args.scale)
    options = PortalOptions()  # as the real portal behaves, DDT flake included
    portal = Portal(dataset=dataset, options=options, seed=args.seed)
    server = SimServer(portal, ExportCache(default_cache_dir(), load_font(None)))
    server.start()
    try:
        config_path = write_config(state_dir, server.url, options, args.every)
        config = load_config(config_path)
        setup = Setup(state_dir, config_path, config, server, portal)
        return _run(setup, args)
    except ConfigError as exc:  # a bug of the demo, not the user's doing
        print(f"archid demo: {exc}", file=sys.stderr)
        return exitstatus.FAILURE
    finally:
        server.close()


def _state_dir(name: str | None) -> Path:
    if name is None:
        return Path(tempfile.mkdtemp(prefix="archid-demo-")).resolve()
    given = Path(name)
    if given.exists() and (not given.is_dir() or any(given.iterdir())):
        raise ValueError(f"--state-dir {given} must be a new or empty folder")
    given.mkdir(parents=True, exist_ok=True)
    return given.resolve()


def _run(setup: Setup, args: argparse.Namespace) -> int:
    portal, config = setup.portal, setup.config
    counts = ", ".join(f"{portal.dataset.count(t):,} {t}" for t in ExportType)
    print(
        f"  portal    {setup.server.url}  ({counts})\n"
        f"            quirks as on the real portal: slow list pages; a session's first DDT "
        f"export may fail once, and the client clicks again after 5 s\n"
        f"  login     {config.portal.username} (real headless Chromium: the schedule's session;"
        f" people's requests get a second one)\n"
        f"  state     {setup.state_dir}  (config.toml, archid.sqlite3)\n"
        f"  schedule  every type every {args.every:g} s, the first syncs {args.every / 12:.1f} s "
        f"apart; {args.rounds} round(s)\n"
        f"  pauses    a type that finished its round is paused (archid ctl status shows it)"
        f" until every type has, so each round syncs each type once\n"
        f"  alerts    a type whose last success is older than {HEALTH_STALE_INTERVALS} of its"
        f" intervals is reported stale, as in production; here a round at the portal's pace"
        f" can outlast {HEALTH_STALE_INTERVALS} × {args.every:g} s, so some may show\n",
        flush=True,
    )
    screen = Screen(sys.stdout)
    root = logging.getLogger()
    saved_handlers = root.handlers[:]
    root.handlers = [_LogToScreen(screen)]
    # A browser killed under an export thread (Ctrl-C) makes Selenium's HTTP
    # pool warn about each refused retry until the process ends: not news.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    outcome: dict[str, Any] = {}
    try:
        trio.run(_follow_daemon, setup, args, screen, outcome)
    except StoreError as exc:
        print(f"archid demo: cannot use the database: {exc}", file=sys.stderr)
        return exitstatus.FAILURE
    finally:
        root.handlers = saved_handlers
    rounds: Rounds | None = outcome.get("rounds")
    interrupted = bool(outcome.get("interrupted"))
    rows = rounds.rows if rounds is not None else []
    screen.text()
    _print_tables(screen, rows)
    screen.text(f"portal logins: {portal.logins_today()} (the session is reused across exports)")
    screen.text(f"database: {config.database.path}")
    _print_query_hint(screen, config.database.path)
    if interrupted:
        print("archid demo: interrupted; the daemon stopped cleanly", file=sys.stderr)
        return exitstatus.INTERRUPTED
    if rounds is None:
        return exitstatus.FAILURE
    if rounds.failed:
        for t, message in rounds.failed.items():
            print(f"archid demo: {t} failed for good: {message}", file=sys.stderr)
        return exitstatus.FAILURE
    return 0


async def _follow_daemon(
    setup: Setup, args: argparse.Namespace, screen: Screen, outcome: dict[str, Any]
) -> None:
    from archid.app import serve

    events = EventBus(buffer=4096)
    # Subscribed before the daemon starts, so that no event is missed.
    with events.subscribe() as stream:
        async with trio.open_nursery() as nursery:

            async def daemon(*, task_status: trio.TaskStatus[Daemon]) -> None:
                await serve(setup.config, setup.config_path, events=events, task_status=task_status)
                # serve returns by itself only on SIGINT/SIGTERM (Ctrl-C).
                outcome["interrupted"] = True
                nursery.cancel_scope.cancel()

            running: Daemon = await nursery.start(daemon)
            screen.start = time.monotonic()
            screen.line("daemon ready: scheduler and worker running")
            rounds = Rounds(
                running,
                setup.portal,
                screen,
                database=setup.config.database.path,
                rounds=args.rounds,
                seed=args.seed,
            )
            outcome["rounds"] = rounds
            await rounds.follow(stream)
            # Leave the database's daemon state as a fresh start would find it.
            running.resume()
            screen.line("stopping the daemon (its browser is killed, the database closed)")
            nursery.cancel_scope.cancel()


def _print_tables(screen: Screen, rows: list[SyncRow]) -> None:
    header = (
        f"{'type':<10} {'records':>8} {'inserted':>9} {'updated':>8} {'deleted':>8} "
        f"{'missing':>8} {'busy s':>8}"
    )
    for number in sorted({row.round for row in rows}):
        chosen = [row for row in rows if row.round == number]
        if number == 1:
            screen.text("round 1: first load")
            screen.text(header)
        else:
            made = [row.portal for row in chosen if row.portal is not None]
            total = sum(len(c.added) + len(c.changed) + len(c.removed) for c in made)
            screen.text(f"round {number}: after {total} changes in the portal")
            screen.text(header + "  portal")
        order = {t: i for i, t in enumerate(ExportType)}
        for row in sorted(chosen, key=lambda r: order[r.type]):
            line = (
                f"{row.type:<10} {row.records:>8,} {row.inserted:>9,} {row.updated:>8,} "
                f"{row.deleted:>8,} {row.missing:>8,} {row.seconds:>8.1f}"
            )
            if row.unchanged:
                line = (
                    f"{row.type:<10} {'unchanged: checked, not exported':>44} {row.seconds:>8.1f}"
                )
            if row.portal is not None:
                line += f"  {row.portal.short}"
            screen.text(line)
        screen.text(
            f"{'total':<10} {sum(r.records for r in chosen):>8,} "
            f"{sum(r.inserted for r in chosen):>9,} {sum(r.updated for r in chosen):>8,} "
            f"{sum(r.deleted for r in chosen):>8,} {sum(r.missing for r in chosen):>8,} "
            f"{sum(r.seconds for r in chosen):>8.1f}"
        )
        screen.text()
    if any(row.round > 1 for row in rows):
        screen.text(
            "portal: records added ~changed -removed in the simulator before the round.\n"
            "busy s: the sync's export, parse and apply; a round's wall time is the\n"
            "'round N done in' line above (the syncs run one after another, and wait\n"
            "for the schedule between rounds).\n"
            "unchanged: the type's list showed the same newest change and row count as\n"
            "at its last full export, so nothing was exported.\n"
            "missing: rows absent from a full export for the first time; archid deletes a\n"
            "row only when the next full export lacks it too (then it counts as deleted).\n"
        )


#: what the closing hint offers to look at: the runs, then the records themselves
QUERIES = (
    (
        "the syncs",
        "SELECT id, type, outcome, parsed, inserted, updated, deleted, missing "
        "FROM sync_runs ORDER BY id",
    ),
    (
        "customers",
        "SELECT key, name, city, order_count, sales_this_year FROM customers "
        "WHERE deleted_at IS NULL ORDER BY order_count DESC, key LIMIT 5",
    ),
    (
        "orders",
        "SELECT key, created_at, account, account_name, total_amount, sales_status FROM orders "
        "WHERE deleted_at IS NULL ORDER BY created_at DESC LIMIT 5",
    ),
)


def _print_query_hint(screen: Screen, database: Path) -> None:
    if shutil.which("sqlite3"):
        screen.text("look inside:")
        for label, query in QUERIES:
            screen.text(f'  {label + ":":<11} sqlite3 -header -column {database} "{query}"')
        return
    python = Path(sys.executable)
    screen.text("look inside (no sqlite3 command here):")
    for label, query in QUERIES:
        screen.text(
            f"  {label + ':':<11} {python} -c "
            f"\"import sqlite3; print(*sqlite3.connect('{database}').execute('{query}'), "
            f"sep='\\n')\""
        )
