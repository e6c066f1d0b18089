"""What the daemon keeps across restarts, behind one small interface.

The SQLite implementation lives with the store; :class:`MemoryState` is the
same contract in memory, for tests and for ``archid demo``'s throwaway runs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Protocol

from archid.daemon.queue import Request
from archid.daemon.worker import DeadLetter
from archid.records import ExportType


@dataclass(frozen=True, slots=True)
class Pauses:
    """Paused globally and/or per type."""

    everything: bool = False
    types: frozenset[ExportType] = frozenset()

    def covers(self, export_type: ExportType) -> bool:
        return self.everything or export_type in self.types


class DaemonState(Protocol):
    """Persistent daemon state. Every write is durable when the call returns."""

    def last_runs(self) -> dict[ExportType, float]: ...

    def set_last_run(self, export_type: ExportType, at: float) -> None: ...

    def pauses(self) -> Pauses: ...

    def set_pauses(self, pauses: Pauses) -> None: ...

    def queue(self) -> list[Request]:
        """The persisted queue, the sync that was running first (it runs again)."""
        ...

    def save_queue(self, pending: list[Request], running: Request | None) -> None: ...

    def add_dead_letter(self, letter: DeadLetter) -> int: ...

    def dead_letters(self) -> list[tuple[int, DeadLetter]]: ...

    def take_dead_letter(self, letter_id: int) -> DeadLetter | None: ...

    def history(self, export_type: ExportType | None, limit: int) -> list[dict[str, Any]]: ...


@dataclass
class MemoryState:
    """:class:`DaemonState` in memory."""

    _last_runs: dict[ExportType, float] = field(default_factory=dict)
    _pauses: Pauses = field(default_factory=Pauses)
    _queue: list[Request] = field(default_factory=list)
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

    def queue(self) -> list[Request]:
        return list(self._queue)

    def save_queue(self, pending: list[Request], running: Request | None) -> None:
        self._queue = ([running] if running else []) + [r for r in pending if r != running]

    def add_dead_letter(self, letter: DeadLetter) -> int:
        letter_id = next(self._ids)
        self._letters[letter_id] = letter
        return letter_id

    def dead_letters(self) -> list[tuple[int, DeadLetter]]:
        return sorted(self._letters.items())

    def take_dead_letter(self, letter_id: int) -> DeadLetter | None:
        return self._letters.pop(letter_id, None)

    def history(self, export_type: ExportType | None, limit: int) -> list[dict[str, Any]]:
        runs = [r for r in self.runs if export_type is None or r.get("type") == export_type]
        return runs[-limit:][::-1]
