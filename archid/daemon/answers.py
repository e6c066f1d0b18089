"""What the daemon's commands answer: frozen dataclasses, read as they are.

The control socket turns them into JSON (:func:`archid.control.serialise.to_json`:
a field's name is its key, an enum its value, a set a sorted list), so a
field here is a key of the protocol (``docs/control.md``) and is renamed
only with it. The metrics read the same objects, typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from archid.daemon.breaker import BreakerState
from archid.daemon.queue import Request
from archid.daemon.state import Pauses
from archid.daemon.worker import Attempt
from archid.records import ExportType
from archid.runs import Mode, Trigger


@dataclass(frozen=True, slots=True)
class RunningSync:
    """The sync in the worker slot."""

    type: ExportType
    #: the worker's id of its current attempt (the events' ``run``)
    run: int
    attempt: int
    #: when the attempt started, Unix seconds
    since: float
    mode: Mode
    trigger: Trigger
    #: the stage last announced, ``None`` before the first
    stage: str | None


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A request waiting for the worker, in the order it will be taken."""

    type: ExportType
    priority: int
    mode: Mode
    trigger: Trigger
    #: seconds since it was queued
    waiting: float
    #: a pause or a portal hold keeps it from starting
    held: bool


@dataclass(frozen=True, slots=True)
class TypeHealthReport:
    """One enabled type's health (:mod:`archid.daemon.health`)."""

    healthy: bool
    #: of its recent attempts; ``None`` before the first
    success_rate: float | None
    #: Unix seconds
    last_success: float | None
    consecutive_failures: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The daemon is healthy when every enabled type is."""

    healthy: bool
    types: Mapping[ExportType, TypeHealthReport]


@dataclass(frozen=True, slots=True)
class Status:
    """What the daemon is doing now; cheap to make (no I/O beyond a ``stat``
    of the password file), so the metrics take it at every scrape."""

    running: RunningSync | None
    queue: tuple[QueueEntry, ...]
    paused: Pauses
    breaker: BreakerState
    #: the portal hold in force, in one line (:meth:`PortalHold.describe`), or ``None``
    portal_hold: str | None
    #: open order-form sessions
    sessions: int
    #: when each enabled type may next be queued, Unix seconds
    next_due: Mapping[ExportType, float]
    healthy: bool

    @property
    def state(self) -> str:
        """A word or two for what holds the daemon now, the most telling first:
        ``syncing``, ``portal hold``, ``paused``, ``breaker open``, ``idle``."""
        if self.running is not None:
            return "syncing"
        if self.portal_hold is not None:
            return "portal hold"
        if self.paused.everything:
            return "paused"
        if self.breaker is not BreakerState.CLOSED:
            return f"breaker {self.breaker}"
        return "idle"


@dataclass(frozen=True, slots=True)
class ListedDeadLetter:
    """A request that failed for good, with the id an admin retries or drops it by."""

    id: int
    type: ExportType
    #: the last failure's class name
    error: str
    stage: str | None
    message: str
    #: when it was given up, Unix seconds
    at: float
    attempts: tuple[Attempt, ...]


@dataclass(frozen=True, slots=True)
class Cancellation:
    """What :meth:`~archid.daemon.service.Daemon.cancel` stopped."""

    cancelled: ExportType
    was: Literal["running", "queued"]


@dataclass(frozen=True, slots=True)
class SessionOpened:
    """An order-form session and the sync its opening queued."""

    id: str
    #: sessions open now, this one included
    open: int
    request: Request


@dataclass(frozen=True, slots=True)
class SessionClosed:
    closed: str
    #: sessions still open
    open: int
