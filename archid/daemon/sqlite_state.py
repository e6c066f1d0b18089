"""The daemon's state in the mirror's database file, beside the data.

Its own connection, so that its small writes never join the transaction of
an apply running in the worker thread on the store's connection. Tables
(created by the store's migration 2, see
:data:`archid.store.ddl_history.V2`):

* ``daemon_last_runs``: when each type last synced (scheduling survives restarts);
* ``daemon_pauses``: ``*`` for "everything", else a paused type;
* ``daemon_queue``: the waiting requests, and the one running (``running = 1``);
* ``dead_letters``: requests that failed for good, with their attempt history.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from typing import Any

import apsw

from archid.daemon.queue import Mode, Request, Trigger
from archid.daemon.state import Pauses
from archid.daemon.worker import Attempt, DeadLetter
from archid.records import ExportType
from archid.store import Database, list_runs

_EVERYTHING = "*"


class SqliteState:
    """:class:`archid.daemon.state.DaemonState` in the mirror's file."""

    def __init__(self, db: Database, busy_timeout: float = 5.0) -> None:
        self._db = db
        self._connection = apsw.Connection(os.fspath(db.path))
        self._connection.set_busy_timeout(round(busy_timeout * 1000))
        self._connection.execute("PRAGMA synchronous = FULL")

    def close(self) -> None:
        self._connection.close()

    def _rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return list(self._connection.execute(sql, args))

    def last_runs(self) -> dict[ExportType, float]:
        return {
            ExportType(t): float(at)
            for t, at in self._rows("SELECT type, at FROM daemon_last_runs")
            if t in ExportType.__members__.values()
        }

    def set_last_run(self, export_type: ExportType, at: float) -> None:
        with self._connection:
            self._connection.execute(
                "INSERT OR REPLACE INTO daemon_last_runs (type, at) VALUES (?, ?)",
                (export_type.value, at),
            )

    def pauses(self) -> Pauses:
        scopes = {row[0] for row in self._rows("SELECT scope FROM daemon_pauses")}
        types = frozenset(ExportType(s) for s in scopes if s in ExportType.__members__.values())
        return Pauses(_EVERYTHING in scopes, types)

    def set_pauses(self, pauses: Pauses) -> None:
        scopes = [t.value for t in pauses.types] + ([_EVERYTHING] if pauses.everything else [])
        with self._connection:
            self._connection.execute("DELETE FROM daemon_pauses")
            self._connection.executemany(
                "INSERT INTO daemon_pauses (scope) VALUES (?)", [(s,) for s in scopes]
            )

    def queue(self) -> list[Request]:
        rows = self._rows(
            "SELECT type, priority, mode, trigger, seq FROM daemon_queue ORDER BY running DESC, seq"
        )
        return [
            Request(ExportType(t), priority, Mode(mode), Trigger(trigger), seq=seq)
            for t, priority, mode, trigger, seq in rows
        ]

    def save_queue(self, pending: list[Request], running: Request | None) -> None:
        rows = [(r, 0) for r in pending if running is None or r.type is not running.type]
        if running is not None:
            rows.append((running, 1))
        with self._connection:
            self._connection.execute("DELETE FROM daemon_queue")
            self._connection.executemany(
                "INSERT INTO daemon_queue (type, priority, mode, trigger, seq, running) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (r.type.value, r.priority, r.mode.value, r.trigger.value, r.seq, flag)
                    for r, flag in rows
                ],
            )

    def add_dead_letter(self, letter: DeadLetter) -> int:
        request = letter.request
        with self._connection:
            self._connection.execute(
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
            letter_id = int(self._connection.last_insert_rowid())
        return letter_id

    def dead_letters(self) -> list[tuple[int, DeadLetter]]:
        rows = self._rows(
            "SELECT id, type, priority, mode, trigger, error, stage, message, attempts, at "
            "FROM dead_letters ORDER BY id"
        )
        return [(row[0], _letter(row[1:])) for row in rows]

    def take_dead_letter(self, letter_id: int) -> DeadLetter | None:
        with self._connection:
            rows = self._rows(
                "SELECT type, priority, mode, trigger, error, stage, message, attempts, at "
                "FROM dead_letters WHERE id = ?",
                letter_id,
            )
            if not rows:
                return None
            self._connection.execute("DELETE FROM dead_letters WHERE id = ?", (letter_id,))
        return _letter(rows[0])

    def history(self, export_type: ExportType | None, limit: int) -> list[dict[str, Any]]:
        return list_runs(self._db, export_type, limit)


def _letter(row: tuple[Any, ...]) -> DeadLetter:
    t, priority, mode, trigger, error, stage, message, attempts, at = row
    request = Request(ExportType(t), priority, Mode(mode), Trigger(trigger))
    history = tuple(Attempt(**a) for a in json.loads(attempts))
    return DeadLetter(request, error, stage, message, history, at)
