"""The daemon's state in the mirror's database file, beside the data.

Connections of its own, so that its small writes never join the
transaction of an apply running in the worker thread on the store's
connection: one for writes (used by one thread at a time, under a lock),
one for reads (WAL: a read never waits for a writer). Tables (created by
the store's migration 2, see :data:`archid.store.ddl_history.V2`):

* ``daemon_last_runs``: when each type last synced (scheduling survives restarts);
* ``daemon_pauses``: ``*`` for "everything", else a paused type;
* ``daemon_queue``: the waiting requests, and the one running (``running = 1``,
  or 2 once its cut-off attempt has its ``sync_runs`` row);
* ``dead_letters``: requests that failed for good, with their attempt history;

and the failed runs go to the store's ``sync_runs``. Errors of SQLite are
raised as the store's (:func:`archid.store.errors.sqlite_error`): a busy
database is :class:`~archid.store.errors.DatabaseBusy`, a full disk
:class:`~archid.store.errors.DiskFull`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, ClassVar

import apsw

from archid.daemon.queue import Mode, Request, Trigger
from archid.daemon.state import FailedRun, Pauses, SavedQueue
from archid.daemon.worker import Attempt, DeadLetter
from archid.records import ExportType
from archid.store import Database, list_runs, record_run
from archid.store.errors import sqlite_errors

_EVERYTHING = "*"
# daemon_queue.running: the sync in flight, and one whose cut-off is recorded
_RUNNING, _RECORDED = 1, 2


class SqliteState:
    """:class:`archid.daemon.state.DaemonState` in the mirror's file."""

    blocking: ClassVar[bool] = True

    def __init__(self, db: Database, busy_timeout: float = 5.0) -> None:
        self._lock = threading.Lock()
        self._writer = _connect(db.path, busy_timeout)
        self._reader = _connect(db.path, busy_timeout)
        # The store's functions (failed runs, history) on these connections.
        self._write_db = Database(self._writer, db.path, db.clock)
        self._read_db = Database(self._reader, db.path, db.clock)

    def close(self) -> None:
        with self._lock:
            self._writer.close()
        self._reader.close()

    @contextmanager
    def _writing(self, doing: str) -> Iterator[apsw.Connection]:
        """The write connection inside one transaction, SQLite's errors mapped."""
        with self._lock, sqlite_errors(self._writer, doing), self._writer:
            yield self._writer

    def _rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite_errors(self._reader, "reading the daemon's state"):
            return list(self._reader.execute(sql, args))

    def last_runs(self) -> dict[ExportType, float]:
        return {
            ExportType(t): float(at)
            for t, at in self._rows("SELECT type, at FROM daemon_last_runs")
            if t in ExportType.__members__.values()
        }

    def set_last_run(self, export_type: ExportType, at: float) -> None:
        with self._writing("saving the last run times") as connection:
            connection.execute(
                "INSERT OR REPLACE INTO daemon_last_runs (type, at) VALUES (?, ?)",
                (export_type.value, at),
            )

    def pauses(self) -> Pauses:
        scopes = {row[0] for row in self._rows("SELECT scope FROM daemon_pauses")}
        types = frozenset(ExportType(s) for s in scopes if s in ExportType.__members__.values())
        return Pauses(_EVERYTHING in scopes, types)

    def set_pauses(self, pauses: Pauses) -> None:
        scopes = [t.value for t in pauses.types] + ([_EVERYTHING] if pauses.everything else [])
        with self._writing("saving the pauses") as connection:
            connection.execute("DELETE FROM daemon_pauses")
            connection.executemany(
                "INSERT INTO daemon_pauses (scope) VALUES (?)", [(s,) for s in scopes]
            )

    def queue(self) -> SavedQueue:
        rows = self._rows(
            "SELECT type, priority, mode, trigger, seq, running FROM daemon_queue"
            " ORDER BY running DESC, seq"
        )
        running: Request | None = None
        recorded = False
        pending: list[Request] = []
        for t, priority, mode, trigger, seq, flag in rows:
            request = Request(ExportType(t), priority, Mode(mode), Trigger(trigger), seq=seq)
            if flag and running is None:
                running, recorded = request, flag == _RECORDED
            else:
                pending.append(request)
        return SavedQueue(running, tuple(pending), recorded)

    def save_queue(
        self, pending: list[Request], running: Request | None, recorded: bool = False
    ) -> None:
        # One row per type: a waiting "recent" sync beside a "full" one of its
        # type is not kept (it serves an order form, which a restart ends).
        by_type: dict[ExportType, Request] = {}
        for r in pending:
            if running is not None and r.type is running.type:
                continue
            if r.type not in by_type or r.mode is Mode.FULL:
                by_type[r.type] = r
        rows = [(r, 0) for r in by_type.values()]
        if running is not None:
            rows.append((running, _RECORDED if recorded else _RUNNING))
        with self._writing("saving the queue") as connection:
            connection.execute("DELETE FROM daemon_queue")
            connection.executemany(
                "INSERT INTO daemon_queue (type, priority, mode, trigger, seq, running) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (r.type.value, r.priority, r.mode.value, r.trigger.value, r.seq, flag)
                    for r, flag in rows
                ],
            )

    def add_dead_letter(self, letter: DeadLetter) -> int:
        request = letter.request
        with self._writing("saving a dead letter") as connection:
            connection.execute(
                "INSERT INTO dead_letters (type, priority, mode, trigger, error, stage, "
                "message, attempts, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    request.type.value,
                    request.priority,
                    request.mode.value,
                    request.trigger.value,
                    letter.error,
                    letter.stage,
                    letter.message,
                    json.dumps([asdict(a) for a in letter.attempts]),
                    letter.at,
                ),
            )
            letter_id = int(connection.last_insert_rowid())
        return letter_id

    def dead_letters(self) -> list[tuple[int, DeadLetter]]:
        rows = self._rows(
            "SELECT id, type, priority, mode, trigger, error, stage, message, attempts, at "
            "FROM dead_letters ORDER BY id"
        )
        return [(row[0], _letter(row[1:])) for row in rows]

    def take_dead_letter(self, letter_id: int) -> DeadLetter | None:
        # One writing statement: a read first would make the write an upgrade,
        # which SQLite refuses at once (no busy wait) while another writer works.
        with self._writing("taking a dead letter") as connection:
            rows = list(
                connection.execute(
                    "DELETE FROM dead_letters WHERE id = ? RETURNING"
                    " type, priority, mode, trigger, error, stage, message, attempts, at",
                    (letter_id,),
                )
            )
        return _letter(rows[0]) if rows else None

    def record_failed_run(self, run: FailedRun) -> None:
        with self._lock:
            record_run(
                self._write_db,
                run.type,
                run.mode,
                run.trigger,
                outcome=run.outcome,
                error_class=run.error or None,
                message=run.message,
                stage=run.stage,
                meta=run.meta,
                requested_by=run.requested_by,
            )

    def history(self, export_type: ExportType | None, limit: int) -> list[dict[str, Any]]:
        with sqlite_errors(self._reader, "reading the runs"):
            return list_runs(self._read_db, export_type, limit)


def _connect(path: str, busy_timeout: float) -> apsw.Connection:
    connection = apsw.Connection(os.fspath(path))
    connection.set_busy_timeout(round(busy_timeout * 1000))
    connection.execute("PRAGMA synchronous = FULL")
    return connection


def _letter(row: tuple[Any, ...]) -> DeadLetter:
    t, priority, mode, trigger, error, stage, message, attempts, at = row
    request = Request(ExportType(t), priority, Mode(mode), Trigger(trigger))
    history = tuple(Attempt(**a) for a in json.loads(attempts))
    return DeadLetter(request, error, stage, message, history, at)
