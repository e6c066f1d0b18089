"""The daemon: its task tree, and the commands an admin (or the app) can give it.

``Daemon.run`` is the whole of archid at work, one nursery::

    Daemon.run
    ├── state writer   keeps the queue, pauses, last runs, dead letters, failed runs
    └── the rest, stopped before the writer's last flush:
        ├── reporter       turns events into log lines and STATUS= (subscribed first)
        ├── scheduler      queues syncs as they fall due
        ├── worker         the single slot: takes from the channel, runs one sync
        ├── breaker        probes the portal while the breaker is open
        ├── sessions       expires forgotten order-form sessions
        ├── hold watch     lifts a portal hold whose time has come, and says so
        ├── stale alert    raises the alert for a type that has not synced for long
        └── watchdog       pings systemd from the event loop

No write of the daemon's state happens on the event loop, and none can
stop the daemon (:mod:`archid.daemon.persist`). At start the health is
rebuilt from the recorded runs and the sync that was running when the
process last stopped is queued first.

The command methods (``status``, ``pause``, ``sync_now``, …) are plain
methods called from the event loop; the control socket exposes them. They
answer with frozen dataclasses (:mod:`archid.daemon.answers`). What the
daemon tells its operators (log lines, STATUS=, the stale alert) is
:mod:`archid.daemon.reporting`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, ClassVar, Protocol

import trio

from archid import logs
from archid.config import Config
from archid.daemon.answers import (
    Cancellation,
    HealthReport,
    ListedDeadLetter,
    QueueEntry,
    RunningSync,
    SessionClosed,
    SessionOpened,
    Status,
    TypeHealthReport,
)
from archid.daemon.breaker import BreakerState, CircuitBreaker
from archid.daemon.clock import WallClock
from archid.daemon.events import Event, EventBus, EventKind
from archid.daemon.health import WINDOW as HEALTH_WINDOW
from archid.daemon.health import Health
from archid.daemon.notify import Notifier
from archid.daemon.persist import StateWriter
from archid.daemon.queue import Mode, PriorityChannel, Request, Trigger
from archid.daemon.reporting import Reporter, StaleAlert, status_line
from archid.daemon.scheduler import Scheduler, system_load
from archid.daemon.sessions import Sessions
from archid.daemon.state import DaemonState, FailedRun, Pauses
from archid.daemon.worker import CutOff, DeadLetter, SyncJob, Worker
from archid.failures import ArchidError
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


class HeldPortal(Protocol):
    """What the daemon needs of the portal to honour a portal hold."""

    @property
    def hold(self) -> PortalHold | None:
        """The hold in force; only looks."""
        ...

    def lift_expired(self) -> PortalHold | None:
        """Lift a hold whose time has come; the one lifted."""
        ...

    def resume(self, why: str) -> PortalHold | None:
        """Lift the hold now; the one lifted."""
        ...


class CommandError(Exception):
    """A command that cannot be carried out as given (unknown id, bad type)."""


class Interrupted(ArchidError):
    """archid ended during a sync (killed, crashed, the machine stopped): the
    error of that attempt's ``sync_runs`` row, written at the next start."""

    outcome: ClassVar[Outcome] = Outcome.INTERRUPTED


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
        self.reporter = Reporter(self.events, self.notifier, self.status_line)
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
        self.stale_alert = StaleAlert(
            config.schedules,
            clock=self.clock,
            health=self.health,
            scheduler=self.scheduler,
            events=self.events,
        )
        self._running: Request | None = None
        # whether the running sync's latest attempt has its sync_runs row
        self._recorded = False
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
            " (killed, crashed or the machine stopped): recorded as %s,"
            " it runs again first",
            request.type,
            Interrupted.__name__,
        )
        error = Interrupted(
            "archid ended during this sync (killed, crashed or the machine stopped)"
        )
        self.writer.record_failed_run(
            FailedRun(
                request.type,
                request.mode,
                request.trigger,
                error=type(error).__name__,
                message=str(error),
                stage="unknown",
                outcome=error.outcome,
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
                    await nursery.start(self.reporter.run, ready)
                    await nursery.start(self.scheduler.run)
                    await nursery.start(self.worker.run)
                    await nursery.start(self.breaker.run)
                    await nursery.start(self.sessions.run)
                    nursery.start_soon(self._watch_hold)
                    nursery.start_soon(self.stale_alert.run)
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
        """Lift a portal hold whose time has come (the next portal day, a
        changed password file) within a minute, and say so, though no sync
        is due."""
        while True:
            await trio.sleep(HOLD_CHECK_INTERVAL)
            self._lift_expired_hold()

    def _lift_expired_hold(self) -> None:
        """The one place the daemon lifts an expired hold: by the hold watch
        and as a sync starts."""
        if self._portal is not None:
            try:
                self._portal.lift_expired()
            except Exception:  # a hold file that cannot be removed must not stop the daemon
                log.exception("could not lift the portal hold")
        self._hold_changed()

    def _hold_changed(self) -> None:
        """Announce a hold that began or lifted since the last look: an event,
        STATUS=, and a wake for the requests it held."""
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
        """The portal hold in force (no sync starts while there is one), or
        ``None``. Only looks: lifting is :meth:`_lift_expired_hold`'s."""
        try:
            return None if self._portal is None else self._portal.hold
        except Exception:  # a broken hold file must not stop the daemon
            log.exception("could not read the portal hold")
            return None

    # -- commands ------------------------------------------------------------------

    def status(self) -> Status:
        """What runs, what waits, what holds syncs back, and when each type is next due."""
        running = self.worker.current
        return Status(
            running=None
            if running is None
            else RunningSync(
                type=running.request.type,
                run=running.run_id,
                attempt=running.attempt,
                since=running.started,
                mode=running.request.mode,
                trigger=running.request.trigger,
                stage=self.reporter.stage,
            ),
            queue=self.queue(),
            paused=self._pauses,
            breaker=self.breaker.state,
            portal_hold=None if (hold := self.portal_hold()) is None else hold.describe(),
            sessions=len(self.sessions),
            next_due={
                t: self.scheduler.ready_at(t) for t, s in self.config.schedules.items() if s.enabled
            },
            healthy=self.health_report().healthy,
        )

    def status_line(self) -> str:
        """One line for systemd's STATUS= and the log."""
        running = self.worker.current
        return status_line(
            running=None if running is None else running.request,
            stage=self.reporter.stage,
            queued=len(self.channel),
            breaker=self.breaker.state,
            hold=self.portal_hold(),
            pauses=self._pauses,
            sessions=len(self.sessions),
        )

    def health_report(self) -> HealthReport:
        """Each enabled type's health and the daemon's (:mod:`archid.daemon.health`)."""
        now = self.clock.now()
        types: dict[ExportType, TypeHealthReport] = {}
        for export_type, schedule in self.config.schedules.items():
            if not schedule.enabled:
                continue
            interval = self.scheduler.interval(export_type)
            health = self.health.of(export_type)
            types[export_type] = TypeHealthReport(
                healthy=self.health.is_healthy(export_type, interval, now),
                success_rate=health.success_rate,
                last_success=health.last_success,
                consecutive_failures=health.consecutive_failures,
                last_error=health.last_error,
            )
        return HealthReport(all(t.healthy for t in types.values()), types)

    def queue(self) -> tuple[QueueEntry, ...]:
        """The waiting requests, in the order the worker will take them."""
        now = trio.current_time()
        return tuple(
            QueueEntry(
                type=r.type,
                priority=r.priority,
                mode=r.mode,
                trigger=r.trigger,
                waiting=now - r.queued_at,
                held=not self._eligible(r),
            )
            for r in self.channel.pending()
        )

    def history(
        self, export_type: ExportType | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        """The latest recorded runs, newest first, as the store lists them
        (:func:`archid.store.list_runs`: a key per column of ``sync_runs``,
        whose contract is the store's)."""
        return self._state.history(export_type, limit)

    def pause(self, export_type: ExportType | None = None) -> Pauses:
        """Stop starting syncs (of one type, or all); a running one finishes.
        Returns the pauses now in force."""
        if export_type is None:
            self._set_pauses(Pauses(True, self._pauses.types))
        else:
            self._set_pauses(Pauses(self._pauses.everything, self._pauses.types | {export_type}))
        return self._pauses

    def resume(self, export_type: ExportType | None = None) -> Pauses:
        """Start syncs again (of one type, or all); resuming all also lifts a
        portal hold. Returns the pauses now in force."""
        if export_type is None:
            if self._portal is not None:
                self._portal.resume("an admin resumed")  # nothing to do without a hold
                self._hold_changed()  # a lifted hold is announced
            self._set_pauses(Pauses())
        else:
            self._set_pauses(Pauses(self._pauses.everything, self._pauses.types - {export_type}))
        return self._pauses

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

    def cancel(self, export_type: ExportType | None = None) -> Cancellation:
        """Cancel the running sync (if of ``export_type``, when given) or drop a queued one."""
        running = self.worker.current
        if running is not None and export_type in (None, running.request.type):
            self.worker.cancel_current()
            return Cancellation(running.request.type, "running")
        if export_type is not None and self.channel.remove(export_type) is not None:
            self.scheduler.dropped(export_type)
            return Cancellation(export_type, "queued")
        raise CommandError("nothing to cancel")

    def session_open(self, user: str) -> SessionOpened:
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
        return SessionOpened(session.id, len(self.sessions), entry)

    def session_close(self, session_id: str) -> SessionClosed:
        """Close an order-form session; the last one's close queues the full customers export."""
        if not self.sessions.close(session_id):
            raise CommandError(f"no open session {session_id!r}")
        return SessionClosed(session_id, len(self.sessions))

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

    def dead_letters(self) -> tuple[ListedDeadLetter, ...]:
        """The requests that failed for good, oldest first."""
        return tuple(
            ListedDeadLetter(
                id=letter_id,
                type=letter.request.type,
                error=letter.error,
                stage=letter.stage,
                message=letter.message,
                at=letter.at,
                attempts=letter.attempts,
            )
            for letter_id, letter in self._state.dead_letters()
        )

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
        self.stale_alert.schedules = config.schedules
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
        if request is not None:
            self._lift_expired_hold()  # a sync starts: not with a stale hold on record
        else:
            self._hold_changed()  # its failure may have put the portal on hold
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
