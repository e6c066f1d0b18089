"""When each type is synced: intervals, offsets, quiet hours, adaptive stretching, load.

The scheduler only *queues* syncs on the priority channel; the worker runs
them and reports back through :meth:`Scheduler.completed`. A type is never
queued again by the scheduler while its previous sync is still waiting or
running, and a type whose interval passed several times while archid was
down is queued once, at its offset after start-up, so a restart neither
re-syncs everything at once nor forgets what is due.

Times are the daemon's one wall clock (:class:`~archid.daemon.clock.WallClock`),
read at every look: a step of the wall clock (NTP, a suspend) moves what is
due within a minute. No remembered time is later than now: a last run in
the future (stored by a clock that was ahead, or before a step back) is
taken as now, so it postpones a type by one interval at most.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import trio

from archid.config import LoadConfig, QuietHoursConfig, ScheduleConfig
from archid.daemon.clock import WallClock
from archid.daemon.queue import Mode, PriorityChannel, Request, Trigger
from archid.records import ExportType

log = logging.getLogger("archid.scheduler")

#: how long a sync put off by a high load average waits before the next look
LOAD_RETRY = 60.0
#: unchanged syncs in a row before the interval starts to stretch
STRETCH_AFTER = 2
#: and seconds since the first of them: a few quiet minutes of a list synced
#: every few seconds say nothing of how rarely it changes (the default
#: schedule's half-hourly lists reach both at their third unchanged sync)
STRETCH_QUIET = 3600.0
#: each further unchanged sync multiplies the interval by this much
STRETCH_STEP = 1.5


@dataclass(slots=True)
class TypeState:
    """What the scheduler remembers of one type (``last_run`` persists)."""

    last_run: float | None = None
    unchanged: int = 0
    #: when the first of the ``unchanged`` syncs in a row started
    quiet_since: float | None = None
    stretch: float = 1.0
    queued: bool = False
    deferred_until: float = 0.0


def quiet_until(quiet: QuietHoursConfig, wall: float) -> float:
    """The end of the quiet window ``wall`` falls in, or ``wall`` if it is outside.

    Computed in the window's time zone, so it stays right across DST changes.
    """
    moment = datetime.fromtimestamp(wall, UTC)
    if not quiet.is_quiet(moment):
        return wall
    local = moment.astimezone(quiet.timezone)
    end = datetime.combine(local.date(), quiet.end, tzinfo=quiet.timezone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=quiet.timezone)
    return end.timestamp()


def system_load() -> float:
    """The 1-minute load average of this machine."""
    return os.getloadavg()[0]


class Scheduler:
    """Queues scheduled syncs of every enabled type when they fall due."""

    def __init__(
        self,
        channel: PriorityChannel,
        clock: WallClock,
        schedules: Mapping[ExportType, ScheduleConfig],
        quiet: QuietHoursConfig,
        load: LoadConfig,
        *,
        last_runs: Mapping[ExportType, float] | None = None,
        on_last_run: Callable[[ExportType, float], None] = lambda t, at: None,
        is_paused: Callable[[ExportType], bool] = lambda t: False,
        load_average: Callable[[], float] = system_load,
    ) -> None:
        self._channel = channel
        self._clock = clock
        self._started = clock.now()
        self._is_paused = is_paused
        self._on_last_run = on_last_run
        self._load_average = load_average
        self._states = {t: TypeState(last_run=(last_runs or {}).get(t)) for t in ExportType}
        self._changed = trio.Event()
        self._clamp(self._started)
        self.reconfigure(schedules, quiet, load)

    def reconfigure(
        self,
        schedules: Mapping[ExportType, ScheduleConfig],
        quiet: QuietHoursConfig,
        load: LoadConfig,
    ) -> None:
        """Take a new configuration (SIGHUP); what is due is recomputed at once."""
        self._schedules = dict(schedules)
        self._quiet = quiet
        self._load = load
        self.wake()

    def wake(self) -> None:
        """Look again now (a type was resumed, a sync finished, config changed)."""
        self._changed.set()
        self._changed = trio.Event()

    def state(self, export_type: ExportType) -> TypeState:
        return self._states[export_type]

    def interval(self, export_type: ExportType) -> float:
        """The type's interval as stretched by its recent unchanged syncs."""
        return self._schedules[export_type].every * self._states[export_type].stretch

    def next_due(self, export_type: ExportType) -> float:
        """When the type is next due (wall time), before quiet hours and load."""
        schedule = self._schedules[export_type]
        state = self._states[export_type]
        first = self._started + schedule.offset
        if state.last_run is None:
            return first
        return max(state.last_run + self.interval(export_type), first)

    def ready_at(self, export_type: ExportType) -> float:
        """When the scheduler may queue the type: due, out of quiet hours, load allowing."""
        due = max(self.next_due(export_type), self._states[export_type].deferred_until)
        return quiet_until(self._quiet, due)

    def completed(self, export_type: ExportType, started: float, changed: bool) -> None:
        """The worker finished a sync of this type (successfully or for good).

        ``started`` is when that sync started; ``changed`` whether it changed
        any row. Unchanged syncs in a row stretch the interval, up to the
        type's ``max_stretch``, once there are :data:`STRETCH_AFTER` of them
        and the first started :data:`STRETCH_QUIET` ago; a sync with changes
        snaps it back. A check that found the list unchanged is an unchanged
        sync.
        """
        state = self._states[export_type]
        state.queued = False
        state.last_run = started
        self._on_last_run(export_type, started)
        if changed:
            state.unchanged, state.quiet_since, state.stretch = 0, None, 1.0
        else:
            state.unchanged += 1
            if state.quiet_since is None:
                state.quiet_since = started
            quiet = started - state.quiet_since
            if state.unchanged >= STRETCH_AFTER and quiet >= STRETCH_QUIET:
                cap = self._schedules[export_type].max_stretch
                state.stretch = min(cap, state.stretch * STRETCH_STEP)
        self.wake()

    def dropped(self, export_type: ExportType) -> None:
        """The type's sync was cancelled or dropped: this slot is skipped, not redone."""
        state = self._states[export_type]
        state.queued = False
        state.last_run = self._clock.now()
        self._on_last_run(export_type, state.last_run)
        self.wake()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Queue syncs as they fall due, forever."""
        task_status.started()
        while True:
            now = self._clock.now()
            self._clamp(now)
            waiting: list[float] = []
            for export_type, schedule in self._schedules.items():
                state = self._states[export_type]
                if not schedule.enabled or state.queued or self._is_paused(export_type):
                    continue
                ready = self.ready_at(export_type)
                if ready > now:
                    waiting.append(ready)
                    continue
                if self._overloaded():
                    state.deferred_until = now + LOAD_RETRY
                    log.info("%s sync put off: load average above the limit", export_type)
                    waiting.append(state.deferred_until)
                    continue
                state.queued = True
                self._channel.put(
                    Request(export_type, schedule.priority, Mode.FULL, Trigger.SCHEDULE)
                )
                log.debug("%s sync queued by the schedule", export_type)
            # Never trust the wall clock for longer than RECHECK: look again.
            wait = self._clock.seconds_until(min(waiting)) if waiting else math.inf
            with trio.move_on_after(wait):
                await self._changed.wait()

    def _clamp(self, now: float) -> None:
        """Bring remembered times that are later than ``now`` back to ``now``."""
        if self._started > now:
            self._started = now
        for export_type, state in self._states.items():
            if state.last_run is not None and state.last_run > now:
                log.warning(
                    "%s last ran %.0f s in the future by the clock now: taken as now",
                    export_type,
                    state.last_run - now,
                )
                state.last_run = now
                self._on_last_run(export_type, now)
            state.deferred_until = min(state.deferred_until, now + LOAD_RETRY)

    def _overloaded(self) -> bool:
        limit = self._load.max_load_average
        return limit is not None and self._load_average() > limit
