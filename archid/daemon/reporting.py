"""What the daemon tells the people who run it: a log line per event, systemd's
STATUS= line, and the stale alert.

Two tasks of the daemon's nursery (:meth:`archid.daemon.service.Daemon.run`),
neither in a sync's way:

* :class:`Reporter` reads the event bus like any subscriber: one that falls
  behind loses events (the bus counts them), it never slows the worker, and
  nothing the daemon must remember depends on it;
* :class:`StaleAlert` looks at the health once a minute.

Their log lines are the daemon's (logger ``archid.daemon``), as the README
and the journal's alert ids show them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import trio

from archid import logs
from archid.config import ScheduleConfig
from archid.config.durations import spoken_duration
from archid.daemon.breaker import BreakerState
from archid.daemon.clock import WallClock
from archid.daemon.events import Event, EventBus, EventKind
from archid.daemon.health import MAX_INTERVALS_SINCE_SUCCESS, Health
from archid.daemon.notify import Notifier
from archid.daemon.queue import Request
from archid.daemon.scheduler import Scheduler
from archid.daemon.state import Pauses
from archid.portal.hold import PortalHold
from archid.records import ExportType
from archid.runs import Outcome

log = logging.getLogger("archid.daemon")

#: seconds between looks at how long ago each type last synced (the stale alert)
STALE_CHECK_INTERVAL = 60.0


class Reporter:
    """Logs every event and keeps STATUS= current.

    ``status_line`` makes the line STATUS= shows. :attr:`stage` is the
    running sync's stage as last announced, for that line and the status
    command (a lost event leaves it behind until the next one).
    """

    def __init__(
        self, events: EventBus, notifier: Notifier, status_line: Callable[[], str]
    ) -> None:
        self._events = events
        self._notifier = notifier
        self._status_line = status_line
        self.stage: str | None = None

    async def run(
        self, ready: trio.Event, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Subscribe, then ``task_status.started()``; from when ``ready`` is set
        (READY=1 sent) on, log every event and update STATUS=. Events
        published in between wait in the subscription. Runs until cancelled;
        an event that cannot be reported is logged and skipped."""
        with self._events.subscribe() as events:
            task_status.started()
            await ready.wait()
            self._notifier.status(self._status_line())
            async for event in events:
                try:
                    self.log_event(event)
                    self._notifier.status(self._status_line())
                except Exception:  # a report that fails must not stop the daemon
                    log.exception("could not report a %s event", event.kind)

    def log_event(self, event: Event) -> None:
        """One log line for an event (the stage is kept for the status line)."""
        extra = logs.fields(type=event.type, run=event.run, stage=event.stage)
        if event.kind is EventKind.STARTED:
            self.stage = None
            log.info("%s sync started (%s)", event.type, event.message, extra=extra)
        elif event.kind is EventKind.STAGE:
            self.stage = event.stage
            log.debug("%s sync: %s", event.type, event.stage, extra=extra)
        elif event.kind is EventKind.FINISHED and event.data.get("outcome") is Outcome.UNCHANGED:
            log.info(
                "%s unchanged since its last full export (%s): not exported",
                event.type,
                event.message,
                extra=extra,
            )
        elif event.kind is EventKind.FINISHED:
            log.info("%s sync finished: %s", event.type, _counts(event.data), extra=extra)
        elif event.kind is EventKind.FAILED:
            # A failure that does not say where happened at the last stage announced.
            stage = event.stage or self.stage
            where = f" at {stage}" if stage else ""
            error = event.data.get("error", "error")
            rejected = event.data.get("outcome") is Outcome.REJECTED
            log.warning(
                "%s sync failed%s: %s: %s",
                event.type,
                where,
                error,
                event.message,
                extra=logs.fields(
                    type=event.type,
                    run=event.run,
                    stage=stage,
                    alert=logs.Alert.EXPORT_REJECTED if rejected else None,
                ),
            )
        elif event.kind is EventKind.RETRYING:
            log.info("%s sync %s", event.type, event.message, extra=extra)


class StaleAlert:
    """Raises the stale alert once per enabled type whose last success is
    :data:`~archid.daemon.health.MAX_INTERVALS_SINCE_SUCCESS` of its
    intervals old (a log line and an ``alert`` event), and says when it is
    fresh again. ``schedules`` is replaced on a reload."""

    def __init__(
        self,
        schedules: Mapping[ExportType, ScheduleConfig],
        *,
        clock: WallClock,
        health: Health,
        scheduler: Scheduler,
        events: EventBus,
    ) -> None:
        self.schedules = schedules
        self._clock = clock
        self._health = health
        self._scheduler = scheduler
        self._events = events
        self._stale: set[ExportType] = set()  # the types the alert was raised for

    async def run(self) -> None:
        """Check every :data:`STALE_CHECK_INTERVAL` seconds, until cancelled."""
        while True:
            await trio.sleep(STALE_CHECK_INTERVAL)
            self.check()

    def check(self) -> None:
        now = self._clock.now()
        for export_type, schedule in self.schedules.items():
            interval = self._scheduler.interval(export_type)
            stale = schedule.enabled and self._health.is_stale(export_type, interval, now)
            if stale == (export_type in self._stale):
                continue
            if stale:
                self._stale.add(export_type)
                since = self._health.since_success(export_type, now)
                last = "the last success" if self._health.of(export_type).last_success else "start"
                message = (
                    f"{export_type} is stale: {spoken_duration(since)} since {last}, "
                    f"more than {MAX_INTERVALS_SINCE_SUCCESS} intervals of "
                    f"{spoken_duration(interval)}"
                )
                log.warning(
                    "ALERT: %s",
                    message,
                    extra=logs.fields(type=export_type, alert=logs.Alert.TYPE_STALE),
                )
                self._events.publish(
                    Event(
                        EventKind.ALERT,
                        export_type,
                        message=message,
                        data={"alert": str(logs.Alert.TYPE_STALE)},
                        at=now,
                    )
                )
            else:
                self._stale.discard(export_type)
                log.info("%s is fresh again", export_type, extra=logs.fields(type=export_type))


def status_line(
    *,
    running: Request | None,
    stage: str | None,
    queued: int,
    breaker: BreakerState,
    hold: PortalHold | None,
    pauses: Pauses,
    sessions: int,
) -> str:
    """One line for systemd's STATUS= and the log: what runs, what waits and
    what holds syncs back (``idle; queue 0`` when nothing does)."""
    doing = "idle"
    if running is not None:
        doing = f"syncing {running.type}"
        if stage:
            doing += f" ({stage})"
    parts = [doing, f"queue {queued}"]
    if breaker is not BreakerState.CLOSED:
        parts.append(f"breaker {breaker}")
    if hold is not None:
        parts.append(f"portal hold ({hold.kind}): lifts when {hold.lifts}")
    if pauses.everything:
        parts.append("paused")
    elif pauses.types:
        parts.append("paused: " + ",".join(sorted(pauses.types)))
    if sessions:
        parts.append(f"{sessions} order-form session(s)")
    return "; ".join(parts)


def _counts(data: Mapping[str, Any]) -> str:
    """A finished event's data in words: ``908 records: 3 inserted, 1 updated
    (export 2.1 s, parse 0.6 s, apply 0.01 s), sync_runs id 18``."""
    changes = ", ".join(
        f"{data[k]} {k}" for k in ("inserted", "updated", "deleted", "restored") if data.get(k)
    )
    text = f"{data.get('records', '?')} records: {changes or 'no change'}"
    seconds = data.get("seconds") or {}
    stages = ", ".join(
        f"{stage} {seconds[stage]:.2f} s"
        for stage in ("export", "parse", "apply")
        if stage in seconds
    )
    if stages:
        text += f" ({stages})"
    if "store_run" in data:
        text += f", sync_runs id {data['store_run']}"
    return text
