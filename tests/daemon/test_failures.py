"""Failures are classified by the failure: SQLite's errors at the store boundary,
retried when busy, said as "disk full" when the disk (a real file size limit) is full."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import apsw
import pytest

from archid.daemon.sync import GuardRejected
from archid.daemon.worker import SyncTimeout
from archid.exports.errors import LayoutChanged, NotAPdf
from archid.failures import is_portal_fault, is_transient
from archid.portal.errors import BrowserFailure, PortalUnavailable, Stage, WrongCredentials
from archid.records import ExportType
from archid.store import apply_sync, list_runs, open_database
from archid.store.errors import (
    DatabaseBusy,
    DatabaseCorrupt,
    DatabaseError,
    DatabaseIOError,
    DiskFull,
    ExportTypeError,
    StoreError,
)
from tests.conftest import ROOT
from tests.store.synthetic import many

C = ExportType.CUSTOMERS


def test_whether_to_retry_is_read_from_the_failure() -> None:
    transient = [
        DatabaseBusy("busy"),
        DiskFull("full"),
        DatabaseIOError("io"),
        SyncTimeout("slow"),
        PortalUnavailable("down", Stage.PAGE_LOAD),
        NotAPdf("html"),
    ]
    permanent = [
        DatabaseCorrupt("bad"),
        DatabaseError("constraint"),
        ExportTypeError("wrong records"),
        GuardRejected("shrunken"),
        WrongCredentials("password", Stage.LOGIN),
        LayoutChanged("header"),
        ZeroDivisionError("a bug"),
    ]
    assert [is_transient(e) for e in transient] == [True] * len(transient)
    assert [is_transient(e) for e in permanent] == [False] * len(permanent)
    # The marker is the class's: a new store error needs no list updated elsewhere.
    assert StoreError.transient is False and DatabaseBusy.transient is True


def test_only_the_portals_faults_are_the_portals() -> None:
    portal = [PortalUnavailable("down", Stage.PAGE_LOAD), SyncTimeout("slow")]
    others = [
        DiskFull("full"),
        DatabaseBusy("busy"),
        NotAPdf("html"),
        BrowserFailure("chromedriver died", Stage.BROWSER),
        WrongCredentials("password", Stage.LOGIN),
        ZeroDivisionError("a bug"),
    ]
    assert [is_portal_fault(e) for e in portal] == [True] * len(portal)
    assert [is_portal_fault(e) for e in others] == [False] * len(others)


def test_a_database_locked_at_begin_fails_the_apply_as_busy_and_records_the_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.sqlite3"
    db = open_database(path)
    holder = apsw.Connection(str(path))
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock

    def give_up_and_release(tries: int) -> bool:
        # SQLite asks whether to wait longer: say no (the busy timeout is
        # over), and let the other writer go, as it would a moment later.
        holder.execute("ROLLBACK")
        return False

    db.connection.set_busy_handler(give_up_and_release)
    try:
        with pytest.raises(DatabaseBusy, match="database busy while applying the customers export"):
            apply_sync(db, C, many(C, 5))
        [run] = list_runs(db)
        assert (run["outcome"], run["error_class"], run["error_stage"]) == (
            "failed",
            "DatabaseBusy",
            "apply",
        )
        assert db.live_count(C) == 0
        assert apply_sync(db, C, many(C, 5)).outcome == "ok"
    finally:
        holder.close()
        db.close()


_FILL = textwrap.dedent(
    """
    import json, sys
    from archid.records import ExportType
    from archid.store import apply_sync, open_database
    from tests.store.synthetic import many
    db = open_database(sys.argv[1])
    try:
        apply_sync(db, ExportType.CUSTOMERS, many(ExportType.CUSTOMERS, 4000))
        print(json.dumps({"error": None}))
    except Exception as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc),
                          "transient": getattr(exc, "transient", None)}))
    """
)


def _file_size_limit(limit: int) -> None:
    # A write past the limit then fails with EFBIG instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_full_disk_is_a_transient_failure_said_as_such(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    open_database(path).close()  # migrated: the tables exist, the file is small
    limit = path.stat().st_size + 64 * 1024
    done = subprocess.run(
        [sys.executable, "-c", _FILL, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        preexec_fn=lambda: _file_size_limit(limit),
    )
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["error"] == "DiskFull", (outcome, done.stderr)
    assert outcome["message"].startswith("disk full while applying the customers export")
    assert "File too large" in outcome["message"]
    assert outcome["transient"] is True
    # Nothing half written: the file is sound and holds no customer.
    db = open_database(path)
    try:
        assert db.connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.live_count(C) == 0
    finally:
        db.close()
