"""A run killed at any moment leaves all of it or none of it.

A subprocess applies a large sync (state A → B of 20,000 prices) and is
killed with SIGKILL after a random delay, again and again. Every time the
file must pass ``PRAGMA integrity_check`` and hold exactly state A or state
B: the mirror table, its ``_seen`` table, the change feed and the run rows.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import apsw
import pytest

from archid.records import ExportType
from archid.store import apply_sync, open_database
from tests.store.synthetic import fixed_clock, prices

ROOT = Path(__file__).resolve().parents[2]
ROWS = 20_000
KILLS = 22


def state(path: Path) -> tuple[str, int, str]:
    """(integrity_check, number of runs, digest of every mirror table)."""
    connection = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READWRITE)
    try:
        [(integrity,)] = connection.execute("PRAGMA integrity_check").fetchall()
        # every run row, whatever its outcome: a killed run must leave none
        [(runs,)] = connection.execute("SELECT count(*) FROM sync_runs").fetchall()
        digest = hashlib.blake2b(digest_size=16)
        tables = (
            ("prices", "key"),
            ("prices_seen", "key"),
            ("changes", "seq"),
            ("sqlite_sequence", "name"),
        )
        for table, order in tables:
            for row in connection.execute(f"SELECT * FROM {table} ORDER BY {order}"):
                digest.update(repr(row).encode())
        return str(integrity), int(runs), digest.hexdigest()  # type: ignore[arg-type]
    finally:
        connection.close()


def writer(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.crash_writer", str(path), str(ROWS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_ready(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_all_or_nothing(tmp_path: Path) -> None:
    base = tmp_path / "base.sqlite3"
    with open_database(base, clock=fixed_clock) as db:
        apply_sync(db, ExportType.PRICES, prices(ROWS, 0))
    before = state(base)
    assert before[:2] == ("ok", 1)

    # Undisturbed runs give state B and how long an apply takes. The
    # fastest of three is the window: one slow run, on a machine busy with
    # other tests, would put most kills after the commit.
    complete = tmp_path / "complete.sqlite3"
    durations = []
    for _ in range(3):
        shutil.copy(base, complete)
        process = writer(complete)
        wait_ready(process)
        start = time.monotonic()
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "done"
        durations.append(time.monotonic() - start)
        assert process.wait() == 0
        process.stdout.close()
        after = state(complete)
        assert after[:2] == ("ok", 2) and after[2] != before[2]
    window = min(durations) * 1.1

    rng = random.Random(20260320)
    seen = {"A": 0, "B": 0}
    for attempt in range(KILLS):
        path = tmp_path / f"kill{attempt}.sqlite3"
        shutil.copy(base, path)
        process = writer(path)
        wait_ready(process)
        delay = rng.uniform(0, window)
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
        found = state(path)
        assert found[0] == "ok", (attempt, found)
        assert found in (before, after), (attempt, found)
        if found == before:
            seen["A"] += 1
        else:
            seen["B"] += 1
            # This apply committed within the delay: later kills aim inside
            # the shortest apply seen so far.
            window = min(window, delay)
        for leftover in tmp_path.glob(f"kill{attempt}.sqlite3*"):
            leftover.unlink()
    # The delays cover the whole apply: most kills land inside it.
    assert seen["A"] >= KILLS // 3, seen
