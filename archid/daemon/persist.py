"""Writing the daemon's state off the event loop, so that no failure of a write stops it.

The daemon's components say what to keep (the queue, the pauses, the last
runs, a dead letter, a failed run) by calling :class:`StateWriter`, which
never blocks and never raises; :meth:`StateWriter.run` writes it in a
worker thread. A write that fails is kept and tried again: after 1 s,
then longer, up to a minute; a busy database (an apply holds the lock) is
an ordinary wait, a full disk or a failing one is one log line saying so,
and another when writes succeed again. The queue, the pauses and each
type's last run are kept as their latest value; dead letters and failed
runs are kept in order, each written once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Final

import trio

from archid.daemon.queue import Request
from archid.daemon.state import DaemonState, FailedRun, Pauses, SavedQueue
from archid.daemon.worker import DeadLetter
from archid.records import ExportType
from archid.store.errors import DatabaseBusy

log = logging.getLogger("archid.state")

#: seconds before trying a failed write again, the last one repeating
RETRY_DELAYS: Final = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


@dataclass
class _Batch:
    """The writes taken for one pass; ``done`` counts those that are on disk."""

    runs: list[FailedRun] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)
    last_runs: dict[ExportType, float] = field(default_factory=dict)
    pauses: Pauses | None = None
    queue: SavedQueue | None = None
    done: int = 0

    def __bool__(self) -> bool:
        return bool(
            self.runs or self.letters or self.last_runs or self.pauses or self.queue is not None
        )

    def write(self, state: DaemonState) -> None:
        """Write everything in order (what the next start needs most, last)."""
        steps: list[Callable[[], object]] = [
            *(partial(state.record_failed_run, run) for run in self.runs),
            *(partial(state.add_dead_letter, letter) for letter in self.letters),
            *(partial(state.set_last_run, t, at) for t, at in self.last_runs.items()),
        ]
        if self.pauses is not None:
            steps.append(partial(state.set_pauses, self.pauses))
        if self.queue is not None:
            queue = self.queue
            steps.append(
                partial(state.save_queue, list(queue.pending), queue.running, queue.recorded)
            )
        for step in steps[self.done :]:
            step()
            self.done += 1


class StateWriter:
    """Non-blocking, never-raising writes to a :class:`DaemonState`."""

    def __init__(self, state: DaemonState) -> None:
        self.state = state
        self._pending = _Batch()
        self._retry: _Batch | None = None  # a pass that failed part-way
        self._dirty = trio.Event()
        self._lock = trio.Lock()
        self._failing: str | None = None
        self.failed_writes = 0

    # -- what to keep (called from the event loop) ---------------------------------

    def set_last_run(self, export_type: ExportType, at: float) -> None:
        self._pending.last_runs[export_type] = at
        self._dirty.set()

    def set_pauses(self, pauses: Pauses) -> None:
        self._pending.pauses = pauses
        self._dirty.set()

    def save_queue(
        self, pending: list[Request], running: Request | None, recorded: bool = False
    ) -> None:
        self._pending.queue = SavedQueue(running, tuple(pending), recorded)
        self._dirty.set()

    def add_dead_letter(self, letter: DeadLetter) -> None:
        self._pending.letters.append(letter)
        self._dirty.set()

    def record_failed_run(self, run: FailedRun) -> None:
        self._pending.runs.append(run)
        self._dirty.set()

    @property
    def unsaved(self) -> bool:
        """Whether some write waits to be made (or made again)."""
        return bool(self._pending) or self._retry is not None

    # -- writing -------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Write whatever is kept, as it comes, forever; failures wait and try again."""
        task_status.started()
        tries = 0
        while True:
            if not self.unsaved:
                self._dirty = trio.Event()
                await self._dirty.wait()
            if await self._write_once():
                tries = 0
                continue
            await trio.sleep(RETRY_DELAYS[min(tries, len(RETRY_DELAYS) - 1)])
            tries += 1

    async def settled(self, limit: float) -> bool:
        """Wait until nothing waits to be written (what a sync's end kept,
        its failed run or dead letter, is on disk), for at most ``limit``
        seconds: writes may be failing. Whether it is all on disk."""
        with trio.move_on_after(limit):
            while self.unsaved:
                await trio.sleep(0.02)
        return not self.unsaved

    async def flush(self) -> bool:
        """Write everything kept, one try (at stop); whether it is all on disk."""
        while self.unsaved:
            if not await self._write_once():
                return False
        return True

    async def _write_once(self) -> bool:
        # One pass at a time: the stop's flush may start while run's pass
        # still waits for its thread.
        async with self._lock:
            if not self.unsaved:
                return True
            batch = self._retry if self._retry is not None else self._take()
            self._retry = batch
            try:
                if self.state.blocking:
                    await trio.to_thread.run_sync(batch.write, self.state)
                else:
                    batch.write(self.state)
            except Exception as exc:  # a failed write must never stop the daemon
                self._failed(exc)
                return False
            self._retry = None
        if self._failing is not None:
            log.warning("daemon state saved again after %d failed tries", self.failed_writes)
            self._failing, self.failed_writes = None, 0
        return True

    def _take(self) -> _Batch:
        batch, self._pending = self._pending, _Batch()
        return batch

    def _failed(self, exc: Exception) -> None:
        self.failed_writes += 1
        kind = type(exc).__name__
        if kind == self._failing:
            log.debug("daemon state still not saved: %s: %s", kind, exc)
            return
        self._failing = kind
        if isinstance(exc, DatabaseBusy):
            log.warning("daemon state not saved yet (%s); trying again", exc)
        elif getattr(exc, "transient", False):
            log.error("daemon state not saved: %s; trying again until it is", exc)
        else:
            log.error(
                "daemon state not saved: %s: %s; trying again until it is", kind, exc, exc_info=exc
            )
