"""``archid demo`` as an operator runs it: a real process, the real daemon, a real browser.

One demo run (small scale, two rounds, a fast schedule) is shared by the
tests below; each checks one promise of the demo against what it printed,
what the database holds and which processes are left.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from archid.portal.processes import Process
from archid.records import ExportType
from tests.browsers import browsers_marked as marked
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: environment variable marking every process the demo under test starts
MARKER = "ARCHID_DEMO_TEST_RUN"
#: the demo takes about 35 s here; this only stops a hung one
TIMEOUT = 150.0
ROUNDS = 2
TYPES = [str(t) for t in ExportType]

_ROW = re.compile(
    r"(?P<type>[a-z]+)\s+(?P<records>[\d,]+)\s+(?P<inserted>[\d,]+)\s+(?P<updated>[\d,]+)"
    r"\s+(?P<deleted>[\d,]+)\s+(?P<missing>[\d,]+)\s+(?P<seconds>\d+\.\d)"
    r"(?:\s+\+(?P<added>\d+) ~(?P<changed>\d+) -(?P<removed>\d+))?"
)
_PORTAL = re.compile(r"^\s+portal\s+http://127\.0\.0\.1:\d+/Archibald/\s+\((?P<counts>[^)]*)\)$")


@dataclass
class DemoRun:
    returncode: int
    lines: list[str]
    stderr: str
    #: browser processes carrying the marker while an export was downloading
    browsers_during: list[Process]
    #: the same, once the demo had exited
    browsers_after: list[Process]
    #: per round, per type: the table row's numbers
    tables: dict[int, dict[str, dict[str, int]]] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def browsers_marked(marker: str) -> list[Process]:
    return marked(MARKER, marker)


def parse_tables(lines: list[str]) -> dict[int, dict[str, dict[str, int]]]:
    """The per-round tables printed at the end: ``{round: {type: {column: n}}}``."""
    tables: dict[int, dict[str, dict[str, int]]] = {}
    current: dict[str, dict[str, int]] | None = None
    for line in lines:
        heading = re.match(r"round (\d+): (first load|after \d+ changes in the portal)$", line)
        if heading:
            current = tables.setdefault(int(heading[1]), {})
            continue
        row = _ROW.fullmatch(line)
        if current is not None and row and row["type"] in TYPES:
            current[row["type"]] = {
                name: int(value.replace(",", ""))
                for name, value in row.groupdict().items()
                if name not in ("type", "seconds") and value is not None
            }
        elif not line:
            current = None
    return tables


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    tmp = tmp_path_factory.mktemp("demo")
    marker = uuid.uuid4().hex
    env = {
        **os.environ,
        MARKER: marker,
        # generated exports are reused across test runs in this checkout
        "XDG_CACHE_HOME": str(ROOT / ".cache" / "demo-tests"),
    }
    env.pop("NOTIFY_SOCKET", None)
    command = [sys.executable, "-m", "archid", "demo", "--scale", "0.02", "--seed", "7"]
    command += ["--rounds", str(ROUNDS), "--every", "4", "--state-dir", str(tmp / "state")]
    with (tmp / "stderr").open("w+") as stderr:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        watchdog = threading.Timer(TIMEOUT, os.killpg, (process.pid, signal.SIGKILL))
        watchdog.start()
        lines: list[str] = []
        during: list[Process] = []
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line.rstrip("\n"))
                if not during and "downloading the PDF" in line:
                    during = browsers_marked(marker)
            returncode = process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        after = browsers_marked(marker)
        stderr.seek(0)
        run = DemoRun(returncode, lines, stderr.read(), during, after, parse_tables(lines))
    try:
        yield run
    finally:
        for leftover in browsers_marked(marker):
            os.kill(leftover.pid, signal.SIGKILL)


def database_of(demo: DemoRun) -> Path:
    paths = [
        line.removeprefix("database: ") for line in demo.lines if line.startswith("database: ")
    ]
    assert len(paths) == 1, demo.output
    return Path(paths[0])


def test_the_demo_succeeds_and_says_nothing_alarming(demo: DemoRun) -> None:
    assert demo.returncode == 0, demo.output + demo.stderr
    assert "Traceback" not in demo.stderr + demo.output
    # An alert shows once, as the event; the daemon's log line of it is not repeated.
    assert not [line for line in demo.lines if "daemon log: ALERT" in line], demo.output
    # the path, then the hint's three queries: the runs, customers, orders
    assert demo.lines[-5].startswith("database: ")
    assert [line.split()[0] for line in demo.lines[-3:]] == ["the", "customers:", "orders:"]


def test_the_final_table_has_every_type(demo: DemoRun) -> None:
    assert sorted(demo.tables) == list(range(1, ROUNDS + 1)), demo.output
    for number, table in demo.tables.items():
        assert sorted(table) == sorted(TYPES), f"round {number}: {table}"


def test_round_one_loads_what_the_portal_holds(demo: DemoRun) -> None:
    header = [m for m in map(_PORTAL.match, demo.lines) if m]
    assert len(header) == 1, demo.output
    counts = {
        name: int(n.replace(",", ""))
        for n, name in re.findall(r"(\d[\d,]*) ([a-z]+)", header[0]["counts"])
    }
    assert sorted(counts) == sorted(TYPES)
    for t in TYPES:
        row = demo.tables[1][t]
        assert row["records"] == row["inserted"] == counts[t], (t, row)
        assert row["updated"] == row["deleted"] == row["missing"] == 0, (t, row)


def test_later_rounds_show_exactly_the_changes_made_in_the_portal(demo: DemoRun) -> None:
    total = 0
    for number in range(2, ROUNDS + 1):
        before, table = demo.tables[number - 1], demo.tables[number]
        for t in TYPES:
            row = table[t]
            assert row["inserted"] == row["added"], (number, t, row)
            assert row["updated"] == row["changed"], (number, t, row)
            assert row["missing"] == row["removed"], (number, t, row)
            # last round's missing rows, still absent, are deleted now
            assert row["deleted"] == before[t]["missing"], (number, t, row)
            assert row["records"] == before[t]["records"] + row["added"] - row["removed"]
            total += row["inserted"] + row["updated"]
    # the rounds are about deltas: some must show
    assert total > 0, demo.output


def test_the_database_holds_an_ok_run_per_type_and_round(demo: DemoRun) -> None:
    path = database_of(demo)
    assert path.is_file()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        runs = db.execute(
            "SELECT type, parsed, inserted, updated, deleted, missing FROM sync_runs"
            " WHERE outcome = 'ok' ORDER BY id"
        ).fetchall()
        live = {
            t: db.execute(f"SELECT count(*) FROM {t} WHERE deleted_at IS NULL").fetchone()[0]
            for t in TYPES
        }
    db.close()
    for t in TYPES:
        mine = [run[1:] for run in runs if run[0] == t]
        printed = [
            tuple(
                demo.tables[n][t][c]
                for c in ("records", "inserted", "updated", "deleted", "missing")
            )
            for n in range(1, ROUNDS + 1)
        ]
        assert mine == printed, t
        # rows missing once are still live: deleted only after a second absence
        last = demo.tables[ROUNDS][t]
        assert live[t] == last["records"] + last["missing"], t


def test_the_demo_used_a_browser_and_left_none_running(demo: DemoRun) -> None:
    # The marker finds the demo's browser while it runs ...
    names = {p.comm for p in demo.browsers_during}
    assert {"chromium", "chromedriver"} <= names, demo.browsers_during
    # ... and none of it once the demo has exited.
    assert demo.browsers_after == []
