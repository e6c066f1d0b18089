"""``archid ctl``: its formatting on recorded answers, then the command against a real daemon.

The end-to-end tests share one ``archid run`` process (and one simulated
portal) per module; every ``archid ctl`` is a real process talking to it
over the real socket.
"""

from __future__ import annotations

import io
import json
import os
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archid.ctl.progress import Follow, progress_text
from archid.ctl.tables import (
    format_dead_letters,
    format_health,
    format_history,
    format_outcome,
    format_queue,
    format_status,
    relative,
    table,
)
from archid.demo import QUERIES
from archid.records import ExportType
from archid.sim.dataset import Dataset
from archid.sim.faults import FaultKind
from archid.sim.server import SimServer
from archid.store import apply_sync, open_database
from tests import config_files
from tests.conftest import ROOT, serving_sim
from tests.daemon_process import Daemon, quick_sim_options, start_daemon, write_config

NOW = 1_780_000_000.0  # 2026-05-28T20:26:40Z

# -- formatting, on answers as the daemon gives them ------------------------------------

RUNS = [
    {
        "id": 42,
        "type": "orders",
        "mode": "full",
        "trigger": "manual",
        "started_at": "2026-05-28T20:20:00.000Z",
        "ended_at": "2026-05-28T20:20:03.500Z",
        "outcome": "failed",
        "parsed": 0,
        "inserted": 0,
        "updated": 0,
        "deleted": 0,
        "missing": 0,
        "error_stage": "download",
        "error_class": "PortalUnavailable",
        "error_message": "the portal answered 500",
    },
    {
        "id": 41,
        "type": "customers",
        "mode": "full",
        "trigger": "schedule",
        "started_at": "2026-05-28T18:00:00.000Z",
        "ended_at": "2026-05-28T18:00:12.000Z",
        "outcome": "ok",
        "parsed": 1203,
        "inserted": 3,
        "updated": 12,
        "deleted": 0,
        "missing": 1,
        "error_stage": None,
        "error_class": None,
        "error_message": None,
    },
]


def test_a_table_aligns_its_columns_and_numbers_to_the_right() -> None:
    text = table(("type", "records", "note"), [("orders", 1203, "x"), ("ddt", 7, None)], "lr")
    lines = text.splitlines()
    assert lines == [
        "type    records  note",
        "orders    1,203  x",
        "ddt           7  -",
    ]


def test_times_are_relative_to_now() -> None:
    assert relative(NOW - 180, NOW) == "3 min ago"
    assert relative(NOW + 12, NOW) == "in 12 s"
    assert relative(NOW, NOW) == "just now"
    assert relative("2026-05-28T18:26:40.000Z", NOW) == "2 h ago"
    assert relative(NOW - 3 * 86400, NOW) == "3 days ago"
    assert relative(None, NOW) == "-"
    assert relative("not a time", NOW) == "-"


def test_history_is_a_row_per_run_newest_first_with_the_error_of_a_failure() -> None:
    lines = format_history(RUNS, NOW).splitlines()
    assert lines[0].split()[:4] == ["run", "type", "mode", "trigger"]
    assert lines[1].split()[:2] == ["42", "orders"]
    assert "7 min ago" in lines[1] and "3.5 s" in lines[1]
    assert "PortalUnavailable at download: the portal answered 500" in lines[1]
    assert lines[2].split()[:2] == ["41", "customers"]
    assert "1,203" in lines[2] and "12 s" in lines[2]
    # the columns line up: each row's "outcome" starts where the header's does
    column = lines[0].index("outcome")
    assert lines[1][column:].startswith("failed") and lines[2][column:].startswith("ok")
    assert format_history([], NOW) == "no syncs yet"


def test_status_says_what_runs_what_waits_and_when_each_type_is_next() -> None:
    status = {
        "running": {
            "type": "orders",
            "run": 42,
            "attempt": 2,
            "since": NOW - 30,
            "mode": "full",
            "trigger": "schedule",
            "stage": "download",
        },
        "queue": [{"type": "customers", "held": True}],
        "paused": {"everything": False, "types": ["prices"]},
        "breaker": "closed",
        "portal_hold": None,
        "sessions": 1,
        "dead_letters": 2,
        "next_due": {"customers": NOW + 600, "orders": NOW + 60},
        "healthy": False,
    }
    text = format_status(status, NOW)
    assert "syncing orders (downloading the PDF, full, schedule), run 42, attempt 2" in text
    assert "started 30 s ago" in text
    assert "1 waiting: customers (held)" in text
    assert "paused:       prices" in text
    assert "dead letters: 2 (archid ctl dlq list)" in text
    assert "healthy:      no" in text
    rows = text.split("\n\n")[1].splitlines()
    assert [row.split()[0] for row in rows] == ["type", "orders", "customers"]  # soonest first
    assert "in 10 min" in rows[2]
    assert format_status({"running": None}, NOW).startswith("state:        idle")


def test_health_queue_and_dead_letters_read_at_a_glance() -> None:
    health = {
        "healthy": False,
        "types": {
            "orders": {
                "healthy": False,
                "success_rate": 0.5,
                "last_success": NOW - 7200,
                "consecutive_failures": 3,
                "last_error": "PortalUnavailable: down",
            },
            "customers": {
                "healthy": True,
                "success_rate": None,
                "last_success": None,
                "consecutive_failures": 0,
                "last_error": None,
            },
        },
    }
    lines = format_health(health, NOW).splitlines()
    assert lines[0] == "archid is NOT healthy"
    assert [line.split()[0] for line in lines[3:]] == ["customers", "orders"]  # type order
    assert "50 %" in lines[4] and "2 h ago" in lines[4] and "NO" in lines[4]
    queue = [
        {"type": "orders", "priority": 100, "mode": "full", "trigger": "manual", "waiting": 3.2},
        {"type": "ddt", "priority": 4, "mode": "full", "trigger": "schedule", "held": True},
    ]
    lines = format_queue(queue).splitlines()
    assert lines[1].split() == ["orders", "100", "full", "manual", "3.2", "s", "ready"]
    assert lines[2].split()[-1] == "held"
    assert format_queue([]) == "the queue is empty"
    letters = [
        {"id": 5, "type": "ddt", "at": NOW - 60, "attempts": [{}, {}], "stage": "download",
         "error": "ExportRejected", "message": "no rows"},
    ]  # fmt: skip
    text = format_dead_letters(letters, NOW)
    assert re.search(r"^ 5\s+ddt\s+1 min ago\s+2\s+download\s+ExportRejected: no rows$", text, re.M)
    assert "archid ctl dlq retry ID" in text


def test_the_outcome_line_of_a_waited_sync() -> None:
    ok = {
        "outcome": "ok",
        "type": "customers",
        "run": 7,
        "counts": {"records": 1203, "inserted": 3, "updated": 0},
        "error": None,
        "seconds": 4.25,
    }
    assert format_outcome(ok) == "customers sync ok in 4.2 s: 1,203 records: 3 inserted (run 7)"
    failed = {"outcome": "failed", "type": "ddt", "run": None, "error": "boom", "seconds": 1}
    assert format_outcome(failed) == "ddt sync failed in 1.0 s: boom"


SYNC_EVENTS = [
    {"kind": "started", "type": "customers", "run": 9, "message": "attempt 1", "at": NOW},
    {"kind": "stage", "type": "customers", "run": 9, "stage": "export", "at": NOW},
    {"kind": "stage", "type": "customers", "run": 9, "stage": "login", "at": NOW + 1},
    {"kind": "stage", "type": "customers", "run": 9, "stage": "download", "at": NOW + 3},
    {"kind": "progress", "type": "customers", "stage": "download", "current": 2, "total": 8,
     "data": {"unit": "pages"}, "at": NOW + 3.5},
    {"kind": "progress", "type": "customers", "stage": "download", "current": 8, "total": 8,
     "data": {"unit": "pages"}, "at": NOW + 4},
    {"kind": "stage", "type": "customers", "run": 9, "stage": "parse", "at": NOW + 4},
    {"kind": "progress", "type": "customers", "stage": "parse", "current": 1203, "total": 8,
     "at": NOW + 5},
    {"kind": "stage", "type": "customers", "run": 9, "stage": "apply", "total": 1203,
     "at": NOW + 5},
    {"kind": "finished", "type": "customers", "run": 9, "message": "ok", "at": NOW + 6,
     "data": {"records": 1203, "inserted": 1203, "store_run": 9,
              "seconds": {"export": 4.0, "parse": 1.0, "apply": 0.25}}},
]  # fmt: skip


def test_following_a_pipe_gives_a_line_per_stage_change_and_per_finished_sync() -> None:
    out = io.StringIO()
    follow = Follow(out)
    for event in SYNC_EVENTS:
        follow.event(event)
    follow.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "customers  sync started (attempt 1, run 9)"
    stages = [line.split("] ")[1].split(":")[0].split("  ")[0] for line in lines[1:-1]]
    # one line per stage: the download's progress is not repeated
    # one line per stage, and one when its work is complete: the download's
    # progress is not repeated, its end and the parse's count are kept
    assert stages == [
        "exporting",
        "logging in",
        "downloading the PDF",
        "downloading the PDF",
        "parsing",
        "parsing",
        "applying to SQLite",
    ]
    assert "8 of 8 pages" in lines[4]
    assert "1,203 records from 8 pages" in lines[6]
    assert "applying to SQLite: 1,203 rows" in lines[7]
    assert lines[-1] == (
        "customers  finished: 1,203 records: 1,203 inserted "
        "(export 4.0 s, parse 1.0 s, apply 0.25 s), run 9"
    )
    assert "\r" not in out.getvalue()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_bar_is_redrawn_in_place() -> None:
    out = _Terminal()
    follow = Follow(out)
    for event in SYNC_EVENTS:
        follow.event(event)
    follow.close()
    screen = out.getvalue()
    # every event redraws (the download's progress too), the finished line stays
    assert screen.count("\r\x1b[K") == len(SYNC_EVENTS) - 2
    assert "[######" in screen and "8 of 8 pages" in screen
    assert screen.endswith("run 9\n")
    bar = progress_text("orders", {"stage": "download", "current": 1, "total": 4}, 2.0)
    assert bar == "orders     [######..................] downloading the PDF: 1 of 4  2.0 s"


def test_the_demo_hint_queries_run_on_a_real_mirror(tmp_path: Path) -> None:
    dataset = Dataset.generate(7, 0.02)
    path = tmp_path / "mirror.sqlite3"
    db = open_database(path)
    try:
        for t in (ExportType.CUSTOMERS, ExportType.ORDERS):
            apply_sync(db, t, dataset.records(t))
    finally:
        db.close()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        answers = {label: connection.execute(query).fetchall() for label, query in QUERIES}
    connection.close()
    assert len(answers["the syncs"]) == 2
    assert len(answers["customers"]) == 5 and len(answers["orders"]) == 5
    counts = [row[3] for row in answers["customers"]]
    assert counts == sorted(counts, reverse=True)


# -- against a real daemon --------------------------------------------------------------
#
# Each ``archid ctl`` is a process of its own; the ones whose order does not
# matter run side by side (``parallel``), which keeps the module's wall time down.

#: a child that becomes another user before it runs ``archid ctl`` (argv: uid gid args...).
#: What ctl needs is imported first (building the parser imports what argparse does):
#: the interpreter's own folder is not readable by that user.
DROP_PRIVILEGES = """
import locale, os, pwd, sys
import archid.cli, archid.ctl, archid.control, archid.control.client, archid.config
archid.cli.build_parser(only="ctl").format_help()
os.setgroups([])
os.setgid(int(sys.argv[2]))
os.setuid(int(sys.argv[1]))
sys.exit(archid.cli.main(["ctl", *sys.argv[3:]]))
"""
NOBODY = 65534
NOGROUP = 65534  # the read group in the daemon's [control]
NO_GROUP_AT_ALL = 65533

Done = subprocess.CompletedProcess[str]


@dataclass
class Setup:
    daemon: Daemon
    socket: Path
    sim: SimServer

    def ctl(self, *args: str) -> list[str]:
        """The command line of ``archid ctl --socket SOCKET args``."""
        return [sys.executable, "-m", "archid", "ctl", "--socket", str(self.socket), *args]


@pytest.fixture(scope="module")
def ctl_sim() -> Iterator[SimServer]:
    """One simulated portal for the module (the top conftest's ``sim`` is per test)."""
    with serving_sim(quick_sim_options()) as server:
        yield server


@pytest.fixture(scope="module")
def setup(ctl_sim: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """One daemon for the module; customers and orders scheduled, but not before 40 min."""
    folder = tmp_path_factory.mktemp("ctl")
    # Short (sun_path) and open to every user: the credentials decide, not the path.
    socket_dir = Path(tempfile.mkdtemp(prefix="archid-ctl-"))
    socket_dir.chmod(0o755)
    socket = socket_dir / "control.sock"
    control = f'[control]\nsocket = "{socket}"\nmode = "0666"\nread_groups = ["nogroup"]\n'
    config = write_config(folder, ctl_sim.url, [], control)
    text = config.read_text()
    for name, offset in (("customers", "50m"), ("orders", "40m")):
        off = f'[schedule.{name}]\nevery = "1h"\noffset = "0s"\nenabled = false'
        on = f'[schedule.{name}]\nevery = "1h"\noffset = "{offset}"\nenabled = true'
        assert off in text
        text = text.replace(off, on)
    config.write_text(text)
    starter = start_daemon(folder)
    start = next(starter)
    try:
        daemon = start(config)
        daemon.receive(lambda m: "READY=1" in m, 30, "READY=1")
        yield Setup(daemon, socket, ctl_sim)
        daemon.stop()
    finally:
        next(starter, None)
        shutil.rmtree(socket_dir, ignore_errors=True)


def parallel(*commands: list[str]) -> list[Done]:
    """Run the commands side by side; their results in the same order."""
    started = [
        (
            command,
            subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            ),
        )
        for command in commands
    ]
    results = []
    for command, process in started:
        stdout, stderr = process.communicate(timeout=60)
        results.append(subprocess.CompletedProcess(command, process.returncode, stdout, stderr))
    return results


def run(command: list[str]) -> Done:
    (done,) = parallel(command)
    return done


def archid(*args: str) -> list[str]:
    return [sys.executable, "-m", "archid", *args]


def as_user(uid: int, gid: int, command: list[str]) -> list[str]:
    """``command`` (an ``archid ctl`` line) as run by a child that drops to ``uid``/``gid``."""
    assert command[1:4] == ["-m", "archid", "ctl"]
    return [sys.executable, "-c", DROP_PRIVILEGES, str(uid), str(gid), *command[4:]]


def succeeded(done: Done) -> Done:
    assert done.returncode == 0, (done.args, done.stdout, done.stderr)
    return done


def answer(done: Done) -> Any:
    return json.loads(succeeded(done).stdout)


def test_bad_arguments_exit_64_naming_the_problem() -> None:
    cases = [
        (("ctl",), "the following arguments are required: COMMAND"),
        (("ctl", "history", "--limit", "0"), "must be at least 1"),
        (("ctl", "sync", "invoicez"), "invalid choice: 'invoicez'"),
        (("ctl", "dlq", "retry", "one"), "invalid int value: 'one'"),
        (("ctl", "--socket", "a", "--config", "b", "status"), "not allowed with argument"),
        (("export", "customers", "--bogus"), "unrecognized arguments: --bogus"),
        (("nonsense",), "invalid choice: 'nonsense'"),
    ]
    results = parallel(*(archid(*args) for args, _ in cases))
    for (args, problem), done in zip(cases, results, strict=True):
        assert done.returncode == 64, (args, done.stderr)
        assert problem in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_no_daemon_exits_69_naming_the_socket_and_what_to_do(tmp_path: Path) -> None:
    # The path from the configuration's [control] socket, relative to its folder; even
    # when the whole does not load (a password file others may read is refused).
    control = '\n[control]\nsocket = "elsewhere.sock"\n'
    config = config_files.write_config(tmp_path, config_files.PORTAL + control)
    (tmp_path / "secrets" / "portal-password").chmod(0o644)
    socket = tmp_path / "control.sock"
    given, configured, missing = parallel(
        archid("ctl", "--socket", str(socket), "status"),
        archid("ctl", "--config", str(config), "status"),
        archid("ctl", "--config", str(tmp_path / "missing.toml"), "status"),
    )
    assert given.returncode == 69
    assert given.stderr == (
        f"archid ctl: no daemon listening on {socket}: is archid running? "
        f"(systemctl status archid)\n"
    )
    assert configured.returncode == 69
    assert f"no daemon listening on {tmp_path / 'elsewhere.sock'}" in configured.stderr
    assert missing.returncode == 78 and "give --socket PATH" in missing.stderr


def test_status_health_queue_and_version_of_an_idle_daemon(setup: Setup) -> None:
    status, raw, health, raw_health, queue_, raw_queue, version, raw_version = parallel(
        setup.ctl("status"),
        setup.ctl("--json", "status"),
        setup.ctl("health"),
        setup.ctl("health", "--json"),
        setup.ctl("queue"),
        setup.ctl("queue", "--json"),
        setup.ctl("version"),
        setup.ctl("version", "--json"),
    )
    lines = succeeded(status).stdout.splitlines()
    assert lines[0] == "state:        idle"
    assert "paused:       nothing" in lines
    per_type = status.stdout.split("\n\n")[1].splitlines()
    # the next sync first: orders (in 40 min), then customers (in 50 min)
    assert [row.split()[:4] for row in per_type[1:]] == [
        ["orders", "in", "40", "min"],
        ["customers", "in", "50", "min"],
    ]
    raw_status = answer(raw)
    assert raw_status["state"] == "idle" and raw_status["running"] is None
    assert sorted(raw_status["next_due"]) == ["customers", "orders"]

    lines = succeeded(health).stdout.splitlines()
    assert lines[0] == "archid is healthy"
    assert [line.split()[0] for line in lines[3:]] == ["customers", "orders"]
    assert answer(raw_health)["healthy"] is True

    assert succeeded(queue_).stdout == "the queue is empty\n"
    assert answer(raw_queue) == []

    assert succeeded(version).stdout.splitlines()[0].startswith("daemon: archid ")
    assert answer(raw_version)["protocol"] == 1


class Watcher:
    """A running ``archid ctl watch``, its lines gathered by a thread."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            # Ctrl-C must reach it even when the tests run with SIGINT ignored (nohup, &).
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, found: Callable[[str], bool], timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            self.seen.append(line)
            if found(line):
                return line
        return None

    def interrupt(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=10)
        assert self.process.stderr is not None
        return code, self.process.stderr.read()


def listening(setup: Setup, *watchers: Watcher) -> None:
    """Return once every watcher listens: when it reports a pause made after it started."""
    waiting = list(watchers)
    for _ in range(20):
        succeeded(run(setup.ctl("pause", "ddt")))
        waiting = [w for w in waiting if w.until(lambda line: "paused" in line, 2.0) is None]
        if not waiting:
            break
    assert not waiting, [w.seen for w in waiting]
    succeeded(run(setup.ctl("resume", "ddt")))


def test_sync_wait_follows_the_sync_and_watch_sees_it(setup: Setup) -> None:
    watchers = {
        "plain": Watcher(setup.ctl("watch")),
        "json": Watcher(setup.ctl("watch", "--json")),
    }
    try:
        listening(setup, *watchers.values())

        lines = succeeded(run(setup.ctl("sync", "customers", "--wait"))).stdout.splitlines()
        count = len(setup.sim.portal.dataset.records(ExportType.CUSTOMERS))
        assert re.fullmatch(r"customers  sync started \(attempt 1, run \d+\)", lines[0]), lines
        stages = [line.split("] ")[1].split(":")[0].split("  ")[0] for line in lines[1:-1]]
        assert stages[0] == "exporting" and stages[-1] == "applying to SQLite", lines
        assert "downloading the PDF" in stages and "parsing" in stages
        assert re.fullmatch(
            rf"customers sync ok in [\d.]+ s: {count:,} records: {count:,} inserted \(run \d+\)",
            lines[-1],
        ), lines

        plain = watchers["plain"].until(lambda line: "finished" in line, 15.0)
        assert plain is not None, watchers["plain"].seen
        assert plain.startswith(f"customers  finished: {count:,} records: {count:,} inserted")
        finished = watchers["json"].until(lambda line: '"finished"' in line, 15.0)
        assert finished is not None, watchers["json"].seen
        event = json.loads(finished)
        assert event["kind"] == "finished" and event["data"]["inserted"] == count
        kinds = {json.loads(line)["kind"] for line in watchers["json"].seen}
        assert {"queued", "started", "stage", "progress", "finished"} <= kinds
    finally:
        for watcher in watchers.values():
            code, stderr = watcher.interrupt()
            assert code == 130 and "Traceback" not in stderr, (code, stderr)


def test_history_lists_the_runs_newest_first(setup: Setup) -> None:
    table_, latest, none, empty = parallel(
        setup.ctl("history"),
        setup.ctl("--json", "history", "customers", "--limit", "1"),
        setup.ctl("history", "orders", "--json"),
        setup.ctl("history", "orders"),
    )
    header, *rows = succeeded(table_).stdout.splitlines()
    assert header.split()[:7] == ["run", "type", "mode", "trigger", "started", "took", "outcome"]
    assert rows[0].split()[1:4] == ["customers", "full", "manual"] and " ok " in rows[0]
    runs = answer(latest)
    assert len(runs) == 1 and runs[0]["outcome"] == "ok" and runs[0]["type"] == "customers"
    assert answer(none) == []
    assert succeeded(empty).stdout == "no syncs yet\n"


def test_a_closed_pipe_ends_quietly(setup: Setup) -> None:
    commands = [setup.ctl("--json", "history"), setup.ctl("history"), archid("--help")]
    # The reader is gone before the first byte: every write fails, deterministically.
    read, write = os.pipe()
    os.close(read)
    try:
        started = [
            subprocess.Popen(command, stdout=write, stderr=subprocess.PIPE, text=True, cwd=ROOT)
            for command in commands
        ]
        for command, process in zip(commands, started, strict=True):
            _, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, (command, stderr)
            assert stderr == "", (command, stderr)
    finally:
        os.close(write)


def test_pause_and_resume_one_type_or_everything(setup: Setup) -> None:
    paused = succeeded(run(setup.ctl("pause", "orders"))).stdout
    assert paused.startswith("paused orders: no new syncs start")
    assert paused.splitlines()[-1] == "now paused: orders"
    resumed = answer(run(setup.ctl("--json", "resume", "orders")))
    assert resumed == {"paused": {"everything": False, "types": []}}
    assert succeeded(run(setup.ctl("pause"))).stdout.startswith("paused every type")
    assert succeeded(run(setup.ctl("status"))).stdout.splitlines()[0] == "state:        paused"
    assert succeeded(run(setup.ctl("resume"))).stdout.splitlines() == [
        "resumed every type (and lifted any portal hold)",
        "now paused: nothing",
    ]


def test_queue_cancel_and_sessions_while_paused(setup: Setup) -> None:
    succeeded(run(setup.ctl("pause")))  # what is queued stays queued
    try:
        queued = succeeded(run(setup.ctl("sync", "orders", "--recent"))).stdout
        assert queued == (
            "orders sync queued (recent, manual, priority 100); follow it with: archid ctl watch\n"
        )
        table_, raw = parallel(setup.ctl("queue"), setup.ctl("queue", "--json"))
        header, row = succeeded(table_).stdout.splitlines()
        assert header.split() == ["type", "priority", "mode", "trigger", "waiting", "state"]
        assert row.split()[:4] == ["orders", "100", "recent", "manual"]
        assert row.split()[-1] == "held"
        assert [r["type"] for r in answer(raw)] == ["orders"]
        cancelled = succeeded(run(setup.ctl("cancel", "orders"))).stdout
        assert cancelled == "cancelled the queued orders sync\n"
        refused = run(setup.ctl("cancel"))
        assert refused.returncode == 1
        assert refused.stderr == "archid ctl: the daemon refused: nothing to cancel\n"

        opened = succeeded(run(setup.ctl("session", "open", "--user", "agent-7"))).stdout
        found = re.match(r"session (\S+) opened \(1 open\)", opened)
        assert found, opened
        session = found[1]
        assert f"archid ctl session close {session}" in opened
        table_, raw, second = parallel(
            setup.ctl("session", "list"),
            setup.ctl("session", "list", "--json"),
            setup.ctl("--json", "session", "open"),
        )
        header, *rows = succeeded(table_).stdout.splitlines()
        assert header.split()[:3] == ["id", "user", "opened"]
        assert rows[0].split()[:2] == [session, "agent-7"] and "in 10 min" in rows[0]
        assert session in [s["id"] for s in answer(raw)]
        other = answer(second)
        assert other["open"] == 2 and other["queued"]["mode"] == "recent"
        closed, _ = parallel(
            setup.ctl("session", "close", session), setup.ctl("session", "close", other["id"])
        )
        assert succeeded(closed).stdout.startswith(f"session {session} closed (")
        unknown, listed, cancel = parallel(
            setup.ctl("session", "close", session),
            setup.ctl("session", "list"),
            setup.ctl("cancel", "customers"),  # the sessions' recent sync
        )
        assert unknown.returncode == 1
        assert unknown.stderr == f"archid ctl: the daemon refused: no open session {session!r}\n"
        assert succeeded(listed).stdout == "no open order-form sessions\n"
        assert succeeded(cancel).stdout == "cancelled the queued customers sync\n"
    finally:
        succeeded(run(setup.ctl("resume")))


def test_dead_letters_list_retry_and_drop(setup: Setup) -> None:
    def letters() -> list[int]:
        # The daemon writes its dead letters off the event loop: wait for the row.
        return [int(str(id_)) for (id_,) in setup.daemon.rows("SELECT id FROM dead_letters")]

    # Every products export is empty, which the store's guard rejects, until cleared.
    setup.sim.portal.faults.arm({"kind": FaultKind.EMPTY_EXPORT, "type": "products", "times": None})
    try:
        failed = run(setup.ctl("sync", "products", "--wait"))
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert re.search(r"^products sync rejected in [\d.]+ s: \S", failed.stdout, re.M)
        setup.daemon.wait_until(lambda: len(letters()) == 1, 10, "the dead letter")
        table_, raw = parallel(setup.ctl("dlq", "list"), setup.ctl("dlq", "list", "--json"))
        (letter,) = answer(raw)
        assert letter["type"] == "products" and letter["id"] == letters()[0]
        row = succeeded(table_).stdout.splitlines()[1]
        assert row.split()[:2] == [str(letter["id"]), "products"] and "GuardRejected" in row
        retried = succeeded(run(setup.ctl("dlq", "retry", str(letter["id"])))).stdout
        assert retried == f"dead letter {letter['id']} queued again (full, manual, priority 100)\n"
        # The retry took the letter; the retried sync fails again: a new one (the
        # daemon may give it the number the taken one had).
        assert letters() == []
        setup.daemon.wait_until(lambda: len(letters()) == 1, 30, "the retried sync's letter")
        (again,) = letters()
        dropped = succeeded(run(setup.ctl("dlq", "drop", str(again)))).stdout
        assert dropped == f"dead letter {again} dropped\n"
        gone, listed = parallel(setup.ctl("dlq", "drop", str(again)), setup.ctl("dlq", "list"))
        assert gone.returncode == 1
        assert gone.stderr == f"archid ctl: the daemon refused: no dead letter {again}\n"
        assert succeeded(listed).stdout == "no dead letters\n"
    finally:
        setup.sim.portal.faults.clear()


def test_reload(setup: Setup) -> None:
    plain, raw = parallel(setup.ctl("reload"), setup.ctl("reload", "--json"))
    assert succeeded(plain).stdout == "configuration reloaded\n"
    assert answer(raw) == {"reloaded": True, "restart_needed": []}


def test_other_users_are_refused_with_77_and_readers_may_only_read(setup: Setup) -> None:
    # A socket in a folder this user may not enter: the kernel refuses, still 77.
    hidden = setup.daemon.log_path.parent / "control.sock"
    reader, pause, stranger, denied, status = parallel(
        as_user(NOBODY, NOGROUP, setup.ctl("status")),
        as_user(NOBODY, NOGROUP, setup.ctl("pause")),
        as_user(NOBODY, NO_GROUP_AT_ALL, setup.ctl("status")),
        as_user(NOBODY, NOGROUP, archid("ctl", "--socket", str(hidden), "status")),
        setup.ctl("--json", "status"),
    )
    assert succeeded(reader).stdout.startswith("state:")
    assert pause.returncode == 77, pause.stderr
    assert f"not authorised by the daemon on {setup.socket}" in pause.stderr
    assert stranger.returncode == 77, stranger.stderr
    assert "Traceback" not in stranger.stderr
    assert denied.returncode == 77, denied.stderr
    assert f"not allowed to connect to {hidden}" in denied.stderr
    assert answer(status)["paused"] == {"everything": False, "types": []}


def test_a_watch_ends_with_69_when_the_daemon_stops(setup: Setup) -> None:
    """The module's last test: it stops the shared daemon."""
    watcher = Watcher(setup.ctl("watch"))
    listening(setup, watcher)
    setup.daemon.stop()
    assert watcher.process.wait(timeout=10) == 69
    assert watcher.process.stderr is not None
    assert watcher.process.stderr.read() == (
        f"archid ctl: the daemon on {setup.socket} closed the connection: did archid stop? "
        f"(systemctl status archid)\n"
    )
