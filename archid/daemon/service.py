"""The daemon: its task tree, and the commands an admin (or the app) can give it.

``Daemon.run`` is the whole of archid at work, one nursery::

    Daemon.run
    ├── state writer   keeps the queue, pauses, last runs, dead letters, failed runs
    └── the rest, stopped before the writer's last flush:
        ├── scheduler      queues syncs as they fall due
        ├── worker         the single slot: takes from the channel, runs one sync
        ├── breaker        probes the portal while the breaker is open
        ├── sessions       expires forgotten order-form sessions
        ├── watchdog       pings systemd from the event loop
        └── reporter       turns events into log lines and STATUS= (subscribed first)

No write of the daemon's state happens on the event loop, and none can
stop the daemon (:mod:`archid.daemon.persist`). At start the health is
rebuilt from the recorded runs and the sync that was running when the
process last stopped is queued first.

The command methods (``status``, ``pause``, ``sync_now``, …) are plain
methods called from the event loop; the control socket exposes them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from functools import partial
from typing import Any, Protocol

import trio

from archid import logs
from archid.config import Config
from archid.daemon.breaker import BreakerState, CircuitBreaker
from archid.daemon.clock import WallClock
from archid.daemon.events import Event, EventBus, EventKind
from archid.daemon.health import MAX_INTERVALS_SINCE_SUCCESS as HEALTH_STALE_INTERVALS
from archid.daemon.health import WINDOW as HEALTH_WINDOW
from archid.daemon.health import Health
from archid.daemon.notify import Notifier
from archid.daemon.persist import StateWriter
from archid.daemon.queue import Mode, PriorityChannel, Request, Trigger
from archid.daemon.scheduler import Scheduler, system_load
from archid.daemon.sessions import Sessions
from archid.daemon.state import DaemonState, FailedRun, Pauses
from archid.daemon.worker import CutOff, DeadLetter, SyncJob, Worker
from archid.portal.hold import PortalHold
from archid.records import ExportType
from archid.runs import Outcome
from archid.store.errors import StoreError

log = logging.getLogger("archid.daemon")

#: priority of requests from an admin or an order-form session
MANUAL_PRIORITY = 100
#: seconds the state writer has at stop to write what is left
FLUSH_LIMIT = 5.0


#: seconds between looks at a portal hold, so a next-day or password-file lift is seen
HOLD_CHECK_INTERVAL = 60.0
#: seconds between looks at how long ago each type last synced (the stale alert)
STALE_CHECK_INTERVAL = 60.0


class HeldPortal(Protocol):
    """What the daemon needs of the portal to honour a portal hold."""

    @property
    def hold(self) -> PortalHold | None: ...

    def resume(self, why: str) -> PortalHold | None: ...


class CommandError(Exception):
    """A command that cannot be carried out as given (unknown id, bad type)."""


class Daemon:
    """archid's scheduler, channel and worker around one sync job."""

    def __init__(
        self,
        config: Config,
        job: SyncJob,
        state: DaemonState,
        *,
        probe: Callable[[], Awaitable[bool]],
        clock: WallClock | None = None,
        notifier: Notifier | None = None,
        events: EventBus | None = None,
        load_average: Callable[[], float] = system_load,
        breaker_threshold: int = 5,
        writer: StateWriter | None = None,
        on_cut_off: Callable[[CutOff], None] = lambda cut: None,
        portal: HeldPortal | None = None,
        preempt: Callable[[], bool] = lambda: False,
    ) -> None:
        self.config = config
        self._portal = portal
        self._preempt = preempt
        self._held = self.portal_hold() is not None
        self._state = state
        self.writer = writer or StateWriter(state)
        if self.writer.state is not state:
            raise ValueError("the writer must write to the daemon's state")
        self.clock = clock or WallClock()
        self.notifier = notifier or Notifier({})
        self.events = events or EventBus()
        self._pauses = state.pauses()
        self._stage: str | None = None  # of the running sync, for the status line
        self.channel = PriorityChannel(on_change=self._save_queue)
        self.scheduler = Scheduler(
            self.channel,
            self.clock,
            config.schedules,
            config.quiet_hours,
            config.load,
            last_runs=state.last_runs(),
            on_last_run=self.writer.set_last_run,
            is_paused=self._pauses_cover,
            load_average=load_average,
        )
        self.health = Health(self.clock.now())
        self.health.replay(run for t in ExportType for run in state.history(t, HEALTH_WINDOW))
        self.breaker = CircuitBreaker(
            probe, threshold=breaker_threshold, on_change=self._breaker_changed
        )
        self._had_sessions = False
        self.sessions = Sessions(config.sessions.safety_timeout, on_change=self._sessions_changed)
        self.worker = Worker(
            self.channel,
            job,
            clock=self.clock,
            retry=config.retry,
            timeouts={t: s.timeout for t, s in config.schedules.items()},
            scheduler=self.scheduler,
            health=self.health,
            breaker=self.breaker,
            events=self.events,
            eligible=self._eligible,
            on_dead_letter=self._dead_letter,
            on_running=self._running_changed,
            on_attempt=self._attempt_started,
            on_cut_off=self._cut_off,
        )
        self._on_cut_off = on_cut_off
        self._running: Request | None = None
        # whether the running sync's latest attempt has its sync_runs row
        self._recorded = False
        self._stale: set[ExportType] = set()  # types the stale alert was raised for
        #: called with the request the worker starts, then with None when it is done
        #: (the control socket's ``sync`` with ``wait`` follows its request so)
        self.run_listeners: list[Callable[[Request | None], None]] = []
        self._queued_types: set[ExportType] = set()
        # A sync that was running when the process died runs again first.
        saved = state.queue()
        self.channel.restore(saved.pending, interrupted=saved.running)
        if saved.running is not None and not saved.recorded:
            self._record_interrupted(saved.running)

    def _record_interrupted(self, request: Request) -> None:
        """The attempt the last process died in (SIGKILL, a crash, power):
        its ``sync_runs`` row, written now, since nothing could then."""
        log.warning(
            "the last archid process ended during a %s sync without recording it"
            " (killed, crashed or the machine stopped): recorded as Interrupted,"
            " it runs again first",
            request.type,
        )
        self.writer.record_failed_run(
            FailedRun(
                request.type,
                request.mode,
                request.trigger,
                error="Interrupted",
                message="archid ended during this sync (killed, crashed or the machine stopped)",
                stage="unknown",
                outcome=Outcome.INTERRUPTED,
                requested_by=request.requested_by,
            )
        )
        self.writer.save_queue(self.channel.pending(), request, recorded=True)

    # -- the task tree ---------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled; ``task_status.started()`` once everything is up.

        Sends READY=1 once the scheduler and worker run (the database is
        open by then: the state was read when the daemon was made).
        """
        async with trio.open_nursery() as keeper:
            await keeper.start(self.writer.run)
            try:
                async with trio.open_nursery() as nursery:
                    # Subscribed before the first sync can start: no event is missed.
                    ready = trio.Event()
                    await nursery.start(self._report, ready)
                    await nursery.start(self.scheduler.run)
                    await nursery.start(self.worker.run)
                    await nursery.start(self.breaker.run)
                    await nursery.start(self.sessions.run)
                    nursery.start_soon(self._watch_hold)
                    nursery.start_soon(self._watch_staleness)
                    # READY first, then the watchdog and STATUS: systemd reads them in order.
                    self.notifier.ready()
                    await nursery.start(self.notifier.watchdog)
                    log.info("archid running: %s", self.status_line())
                    ready.set()
                    task_status.started()
            finally:
                # What the stopping tasks kept last (the interrupted sync's
                # run) is written before the process goes.
                with trio.CancelScope(shield=True), trio.move_on_after(FLUSH_LIMIT):
                    if not await self.writer.flush():
                        log.error("daemon state not saved at stop: the last changes are lost")
                keeper.cancel_scope.cancel()

    async def _watch_hold(self) -> None:
        """Look at the portal hold now and then: its lifts (the next portal
        day, a changed password file) happen when someone looks."""
        while True:
            await trio.sleep(HOLD_CHECK_INTERVAL)
            self._hold_changed()

    async def _watch_staleness(self) -> None:
        """Raise the stale alert once per type whose last success is three
        of its intervals old, and say when it is fresh again."""
        while True:
            await trio.sleep(STALE_CHECK_INTERVAL)
            self._check_staleness()

    def _check_staleness(self) -> None:
        now = self.clock.now()
        for export_type, schedule in self.config.schedules.items():
            interval = self.scheduler.interval(export_type)
            stale = schedule.enabled and self.health.is_stale(export_type, interval, now)
            if stale == (export_type in self._stale):
                continue
            if stale:
                self._stale.add(export_type)
                since = self.health.since_success(export_type, now)
                last = "the last success" if self.health.of(export_type).last_success else "start"
                message = (
                    f"{export_type} is stale: {_duration(since)} since {last}, "
                    f"more than {HEALTH_STALE_INTERVALS} intervals of {_duration(interval)}"
                )
                log.warning(
                    "ALERT: %s",
                    message,
                    extra=logs.fields(type=export_type, alert=logs.Alert.TYPE_STALE),
                )
                self.events.publish(
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

    def _hold_changed(self) -> None:
        held = self.portal_hold() is not None
        if held != self._held:
            self._held = held
            self.channel.wake()
            hold = self.portal_hold()
            self.events.publish(
                Event(
                    EventKind.HOLD,
                    message="lifted" if hold is None else f"{hold.kind}: lifts when {hold.lifts}",
                    data={"hold": None if hold is None else hold.describe()},
                    at=self.clock.now(),
                )
            )
            self.notifier.status(self.status_line())

    def portal_hold(self) -> PortalHold | None:
        """The portal hold in force (no sync starts while there is one), or ``None``."""
        try:
            return None if self._portal is None else self._portal.hold
        except Exception:  # a broken hold file must not stop the daemon
            log.exception("could not read the portal hold")
            return None

    async def _report(
        self, ready: trio.Event, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Log every event and update STATUS=, from when ``ready`` is set
        (READY=1 sent) on; events published before wait in the subscription."""
        with self.events.subscribe() as events:
            task_status.started()
            await ready.wait()
            self.notifier.status(self.status_line())
            async for event in events:
                try:
                    self._log_event(event)
                    if event.kind is EventKind.FAILED:
                        self._hold_changed()  # a failure may have put the portal on hold
                    self.notifier.status(self.status_line())
                except Exception:  # a report that fails must not stop the daemon
                    log.exception("could not report a %s event", event.kind)

    def _log_event(self, event: Event) -> None:
        """One log line for an event (the stage is kept for the status line)."""
        extra = logs.fields(type=event.type, run=event.run, stage=event.stage)
        if event.kind is EventKind.STARTED:
            self._stage = None
            log.info("%s sync started (%s)", event.type, event.message, extra=extra)
        elif event.kind is EventKind.STAGE:
            self._stage = event.stage
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
            stage = event.stage or self._stage
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

    # -- commands ------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        running = self.worker.current
        return {
            "running": None
            if running is None
            else {
                "type": str(running.request.type),
                "run": running.run_id,
                "attempt": running.attempt,
                "since": running.started,
                "mode": str(running.request.mode),
                "trigger": str(running.request.trigger),
                "stage": self._stage,
            },
            "queue": self.queue(),
            "paused": {
                "everything": self._pauses.everything,
                "types": sorted(str(t) for t in self._pauses.types),
            },
            "breaker": str(self.breaker.state),
            "portal_hold": None if (hold := self.portal_hold()) is None else hold.describe(),
            "sessions": len(self.sessions),
            "next_due": {
                str(t): self.scheduler.ready_at(t)
                for t, s in self.config.schedules.items()
                if s.enabled
            },
            "healthy": self.health_report()["healthy"],
        }

    def status_line(self) -> str:
        """One line for systemd's STATUS= and the log."""
        running = self.worker.current
        doing = "idle"
        if running is not None:
            doing = f"syncing {running.request.type}"
            if self._stage:
                doing += f" ({self._stage})"
        parts = [doing, f"queue {len(self.channel)}"]
        if self.breaker.state is not BreakerState.CLOSED:
            parts.append(f"breaker {self.breaker.state}")
        hold = self.portal_hold()
        if hold is not None:
            parts.append(f"portal hold ({hold.kind}): lifts when {hold.lifts}")
        if self._pauses.everything:
            parts.append("paused")
        elif self._pauses.types:
            parts.append("paused: " + ",".join(sorted(self._pauses.types)))
        if len(self.sessions):
            parts.append(f"{len(self.sessions)} order-form session(s)")
        return "; ".join(parts)

    def health_report(self) -> dict[str, Any]:
        intervals = {
            t: self.scheduler.interval(t) for t, s in self.config.schedules.items() if s.enabled
        }
        return self.health.report(intervals, self.clock.now())

    def queue(self) -> list[dict[str, Any]]:
        return [
            {
                "type": str(r.type),
                "priority": r.priority,
                "mode": str(r.mode),
                "trigger": str(r.trigger),
                "waiting": trio.current_time() - r.queued_at,
                "held": not self._eligible(r),
            }
            for r in self.channel.pending()
        ]

    def history(
        self, export_type: ExportType | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        return self._state.history(export_type, limit)

    def pause(self, export_type: ExportType | None = None) -> None:
        """Stop starting syncs (of one type, or all); a running one finishes."""
        if export_type is None:
            self._set_pauses(Pauses(True, self._pauses.types))
        else:
            self._set_pauses(Pauses(self._pauses.everything, self._pauses.types | {export_type}))

    def resume(self, export_type: ExportType | None = None) -> None:
        """Start syncs again (of one type, or all); resuming all also lifts a portal hold."""
        if export_type is None:
            if self._portal is not None:
                self._portal.resume("an admin resumed")  # nothing to do without a hold
                self._hold_changed()  # a lifted hold is announced
            self._set_pauses(Pauses())
        else:
            self._set_pauses(Pauses(self._pauses.everything, self._pauses.types - {export_type}))

    def sync_now(
        self,
        export_type: ExportType,
        mode: Mode = Mode.FULL,
        *,
        allow_large_change: bool = False,
        requested_by: str | None = None,
    ) -> Request:
        """Queue a sync at manual priority (quiet hours do not apply);
        ``allow_large_change`` lets its export through the store's guard.
        A scheduled sync still getting its export gives way to it
        (:meth:`_give_way`)."""
        entry = self.channel.put(
            Request(
                export_type,
                MANUAL_PRIORITY,
                mode,
                Trigger.MANUAL,
                allow_large_change=allow_large_change,
                requested_by=requested_by,
            )
        )
        self._give_way(entry)
        return entry

    def _give_way(self, request: Request) -> None:
        """A person's request is queued: a scheduled sync that is still
        getting its export is preempted, so the request takes the worker
        slot at once (it runs on the interactive portal session). A parse
        or an apply already running finishes first: they take seconds."""
        running = self.worker.current
        if running is None or running.request.interactive or not request.interactive:
            return
        if self._preempt():
            preempted = self.worker.preempt_current()
            if preempted is not None:
                log.info(
                    "%s sync preempted by a %s request for %s",
                    preempted.type,
                    request.trigger,
                    request.type,
                    extra=logs.fields(type=preempted.type),
                )

    def cancel(self, export_type: ExportType | None = None) -> dict[str, Any]:
        """Cancel the running sync (if of ``export_type``, when given) or drop a queued one."""
        running = self.worker.current
        if running is not None and export_type in (None, running.request.type):
            self.worker.cancel_current()
            return {"cancelled": str(running.request.type), "was": "running"}
        if export_type is not None and self.channel.remove(export_type) is not None:
            self.scheduler.dropped(export_type)
            return {"cancelled": str(export_type), "was": "queued"}
        raise CommandError("nothing to cancel")

    def session_open(self, user: str) -> dict[str, Any]:
        """An agent opened the order form: the newest customers are read from
        the portal's grid at once (a ``recent`` sync on the interactive
        session, preempting a scheduled export)."""
        session = self.sessions.open(user)
        entry = self.channel.put(
            Request(
                ExportType.CUSTOMERS,
                MANUAL_PRIORITY,
                Mode.RECENT,
                Trigger.SESSION,
                requested_by=user,
            )
        )
        self._give_way(entry)
        return {"session": session.id, "open": len(self.sessions), "request": entry}

    def session_close(self, session_id: str) -> dict[str, Any]:
        if not self.sessions.close(session_id):
            raise CommandError(f"no open session {session_id!r}")
        return {"closed": session_id, "open": len(self.sessions)}

    def _sessions_changed(self, count: int) -> None:
        """The last order form closed: the full customers export runs (the
        fast path saw only the newest customers), at the schedule's priority."""
        self.channel.wake()
        if count == 0 and self._had_sessions:
            schedule = self.config.schedules[ExportType.CUSTOMERS]
            self.channel.put(
                Request(ExportType.CUSTOMERS, schedule.priority, Mode.FULL, Trigger.SESSION)
            )
        self._had_sessions = count > 0

    def dead_letters(self) -> list[dict[str, Any]]:
        return [
            {
                "id": letter_id,
                "type": str(letter.request.type),
                "error": letter.error,
                "stage": letter.stage,
                "message": letter.message,
                "at": letter.at,
                "attempts": [asdict(a) for a in letter.attempts],
            }
            for letter_id, letter in self._state.dead_letters()
        ]

    async def retry_dead_letter(self, letter_id: int) -> Request:
        """Take the letter out and queue its sync again, at manual priority."""
        letter = await self._take_dead_letter(letter_id)
        return self.channel.put(
            Request(letter.request.type, MANUAL_PRIORITY, letter.request.mode, Trigger.MANUAL)
        )

    async def drop_dead_letter(self, letter_id: int) -> None:
        """Take the letter out for good."""
        await self._take_dead_letter(letter_id)

    async def _take_dead_letter(self, letter_id: int) -> DeadLetter:
        """The write off the event loop (SQLite may wait for a lock); a
        database that fails it is the admin's error, not the daemon's end."""
        take = partial(self._state.take_dead_letter, letter_id)
        try:
            letter = await trio.to_thread.run_sync(take) if self._state.blocking else take()
        except StoreError as exc:
            raise CommandError(f"dead letter {letter_id} not taken: {exc}") from exc
        if letter is None:
            raise CommandError(f"no dead letter {letter_id}")
        return letter

    def reconfigure(self, config: Config) -> None:
        """Adopt a new, already validated configuration (SIGHUP); the queue stays."""
        self.config = config
        self.scheduler.reconfigure(config.schedules, config.quiet_hours, config.load)
        self.worker.retry = config.retry
        self.worker.timeouts = {t: s.timeout for t, s in config.schedules.items()}
        self.sessions.safety_timeout = config.sessions.safety_timeout
        self.channel.wake()
        log.log(logs.NOTICE, "configuration reloaded from %s", config.source)

    # -- internals -------------------------------------------------------------------

    def _eligible(self, request: Request) -> bool:
        return not self._pauses_cover(request.type) and self.portal_hold() is None

    def _pauses_cover(self, export_type: ExportType) -> bool:
        return self._pauses.covers(export_type)

    def _set_pauses(self, pauses: Pauses) -> None:
        self._pauses = pauses
        self.writer.set_pauses(pauses)
        self.scheduler.wake()
        self.channel.wake()
        self.notifier.status(self.status_line())
        types = sorted(str(t) for t in pauses.types)
        what = "everything" if pauses.everything else ", ".join(types) or "nothing"
        self.events.publish(
            Event(
                EventKind.PAUSED,
                message=f"paused: {what}",
                data={"everything": pauses.everything, "types": types},
                at=self.clock.now(),
            )
        )

    def _save_queue(self, pending: list[Request]) -> None:
        self.writer.save_queue(pending, self._running, self._recorded)
        waiting = {r.type for r in pending}
        for request in pending:
            if request.type not in self._queued_types:
                self.events.publish(
                    Event(
                        EventKind.QUEUED,
                        request.type,
                        message=f"{request.mode} sync queued ({request.trigger})",
                        data={"priority": request.priority, "mode": str(request.mode)},
                        at=self.clock.now(),
                    )
                )
        self._queued_types = waiting

    def _running_changed(self, request: Request | None) -> None:
        self._running, self._recorded = request, False
        self.writer.save_queue(self.channel.pending(), request)
        for listener in list(self.run_listeners):
            try:
                listener(request)
            except Exception:  # a listener's bug must not stop the worker
                log.exception("a run listener failed")

    def _attempt_started(self, request: Request, attempt: int) -> None:
        """An attempt begins: it has no ``sync_runs`` row yet (a retry after a
        timeout's cut-off follows a recorded attempt), so a death from now on
        is recorded as interrupted at the next start."""
        if self._recorded:
            self._recorded = False
            self.writer.save_queue(self.channel.pending(), self._running)

    def _cut_off(self, cut: CutOff) -> None:
        """The worker cut an attempt off: its row is on its way, so a start
        after this stop must not record it again as interrupted."""
        self._on_cut_off(cut)
        if self._running is not None:
            self._recorded = True
            self.writer.save_queue(self.channel.pending(), self._running, recorded=True)

    def _dead_letter(self, letter: DeadLetter) -> None:
        self.writer.add_dead_letter(letter)

    def _breaker_changed(self, state: BreakerState) -> None:
        self.channel.wake()
        self.events.publish(Event(EventKind.BREAKER, message=str(state), at=self.clock.now()))


def _duration(seconds: float) -> str:
    """``45 s``, ``30 min``, ``2.5 h``: for a log line."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _counts(data: dict[str, Any]) -> str:
    """``908 records: 3 inserted, 1 updated (export 2.1 s, parse 0.6 s, apply 0.01 s),
    sync_runs id 18``."""
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
