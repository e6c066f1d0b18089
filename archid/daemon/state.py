"""What the daemon keeps across restarts, behind one small interface.

The SQLite implementation lives in :mod:`archid.daemon.sqlite_state`;
:class:`MemoryState` is the same contract in memory, for tests and for
``archid demo``'s throwaway runs. The daemon never writes to either from
its event loop: :class:`archid.daemon.persist.StateWriter` does, off it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from archid.daemon.queue import Mode, Request, Trigger
from archid.daemon.worker import DeadLetter
from archid.records import ExportType
from archid.runs import Outcome
from archid.store import RunMeta


@dataclass(frozen=True, slots=True)
class Pauses:
    """Paused globally and/or per type."""

    everything: bool = False
    types: frozenset[ExportType] = frozenset()

    def covers(self, export_type: ExportType) -> bool:
        return self.everything or export_type in self.types


@dataclass(frozen=True, slots=True)
class SavedQueue:
    """The persisted queue: the sync that was running (it runs again, first)
    and the waiting ones."""

    running: Request | None = None
    pending: tuple[Request, ...] = ()
    #: the running sync's last attempt has its ``sync_runs`` row (a clean stop
    #: cut it off); if not, the process died during it and the next start
    #: records it as ``Interrupted``
    recorded: bool = False


@dataclass(frozen=True, slots=True)
class FailedRun:
    """A sync attempt that wrote no data, for its ``sync_runs`` row: it failed,
    was cut off (``cancelled``, ``preempted``, ``interrupted``) or found its
    list ``unchanged``. ``error`` is the failure's class name ("" if none)."""

    type: ExportType
    mode: Mode
    trigger: Trigger
    error: str
    message: str
    stage: str
    meta: RunMeta = field(default_factory=RunMeta)
    outcome: Outcome = Outcome.FAILED
    requested_by: str | None = None


class DaemonState(Protocol):
    """Persistent daemon state. Every write is durable when the call returns.

    ``blocking`` says whether calls wait on I/O; the daemon then makes them
    in a worker thread. Writes raise the store's errors
    (:class:`archid.store.errors.DatabaseBusy`, ``DiskFull``, …).
    """

    blocking: ClassVar[bool]

    def last_runs(self) -> dict[ExportType, float]: ...

    def set_last_run(self, export_type: ExportType, at: float) -> None: ...

    def pauses(self) -> Pauses: ...

    def set_pauses(self, pauses: Pauses) -> None: ...

    def queue(self) -> SavedQueue: ...

    def save_queue(
        self, pending: list[Request], running: Request | None, recorded: bool = False
    ) -> None: ...

    def add_dead_letter(self, letter: DeadLetter) -> int: ...

    def dead_letters(self) -> list[tuple[int, DeadLetter]]: ...

    def take_dead_letter(self, letter_id: int) -> DeadLetter | None: ...

    def record_failed_run(self, run: FailedRun) -> None: ...

    def history(self, export_type: ExportType | None, limit: int) -> list[dict[str, Any]]:
        """The latest runs, newest first, as :func:`archid.store.list_runs` gives them."""
        ...


@dataclass
class MemoryState:
    """:class:`DaemonState` in memory."""

    blocking: ClassVar[bool] = False

    _last_runs: dict[ExportType, float] = field(default_factory=dict)
    _pauses: Pauses = field(default_factory=Pauses)
    _queue: SavedQueue = field(default_factory=SavedQueue)
    _letters: dict[int, DeadLetter] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    runs: list[dict[str, Any]] = field(default_factory=list)

    def last_runs(self) -> dict[ExportType, float]:
        return dict(self._last_runs)

    def set_last_run(self, export_type: ExportType, at: float) -> None:
        self._last_runs[export_type] = at

    def pauses(self) -> Pauses:
        return self._pauses

    def set_pauses(self, pauses: Pauses) -> None:
        self._pauses = pauses

    def queue(self) -> SavedQueue:
        return self._queue

    def save_queue(
        self, pending: list[Request], running: Request | None, recorded: bool = False
    ) -> None:
        self._queue = SavedQueue(running, tuple(pending), recorded)

    def add_dead_letter(self, letter: DeadLetter) -> int:
        letter_id = next(self._ids)
        self._letters[letter_id] = letter
        return letter_id

    def dead_letters(self) -> list[tuple[int, DeadLetter]]:
        return sorted(self._letters.items())

    def take_dead_letter(self, letter_id: int) -> DeadLetter | None:
        return self._letters.pop(letter_id, None)

    def record_failed_run(self, run: FailedRun) -> None:
        self.runs.append(
            {
                "id": len(self.runs) + 1,
                "type": str(run.type),
                "outcome": run.outcome,
                "requested_by": run.requested_by,
                "error_class": run.error or None,
                "error_message": run.message,
                "error_stage": run.stage,
                "ended_at": None,  # no clock here; a replay takes the order alone
            }
        )

    def history(self, export_type: ExportType | None, limit: int) -> list[dict[str, Any]]:
        runs = [r for r in self.runs if export_type is None or r.get("type") == export_type]
        return runs[-limit:][::-1]
