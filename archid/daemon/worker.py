"""The single worker slot: one sync at a time, with timeouts, retries and dead letters.

The worker takes the best eligible request from the priority channel and
runs the sync job for it. Each attempt runs under its own time limit (a
cancel scope). Transient failures are retried with exponential backoff and
jitter; permanent ones are not; the failure's class says which, and whether
the portal is to blame (the breaker counts only those): :mod:`archid.failures`.
A request that fails for good goes to the dead letters with its error,
stage and attempt history. Whatever happens, the scheduler, health
tracking and circuit breaker hear about it, and nothing a sync raises can
stop the worker.
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import trio

from archid import logs
from archid.config import RetryConfig
from archid.daemon.breaker import CircuitBreaker
from archid.daemon.clock import WallClock
from archid.daemon.events import Event, EventBus, EventKind
from archid.daemon.health import Health
from archid.daemon.queue import PriorityChannel, Request
from archid.daemon.scheduler import Scheduler
from archid.failures import ArchidError, holds_portal, is_portal_fault, is_transient, outcome_of
from archid.records import ExportType
from archid.runs import Outcome

log = logging.getLogger("archid.worker")


class SyncTimeout(ArchidError):
    """A sync attempt took longer than its type's timeout.

    Counted as the portal's fault: the timeouts are sized for the portal's
    slowness, and the store's own waits end long before (its busy timeout).
    """

    transient: ClassVar[bool] = True
    portal_fault: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What a successful sync reports back."""

    changed: bool
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: the list was as at its last full export: nothing was exported
    unchanged: bool = False
    #: a few words for the log line (what the change check saw)
    note: str = ""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One failed attempt, for the dead letter's history."""

    number: int
    at: float
    error: str
    stage: str | None
    message: str
    transient: bool


@dataclass(frozen=True, slots=True)
class DeadLetter:
    request: Request
    error: str
    stage: str | None
    message: str
    attempts: tuple[Attempt, ...]
    at: float


@dataclass(frozen=True, slots=True)
class CutOff:
    """An attempt the worker ended before it ended by itself: it ran over its
    time limit (``SyncTimeout``, outcome ``failed``), an admin cancelled it
    or archid stopped (``Cancelled``, outcome ``cancelled``), or a person's
    request took the portal (outcome ``preempted``). The job saw only a
    cancellation; this says why."""

    request: Request
    run_id: int
    attempt: int
    error: str
    message: str
    outcome: Outcome = Outcome.FAILED


class SyncJob(Protocol):
    """Runs one attempt of a sync; raises on failure.

    The job records the attempts that fail by themselves; an attempt the
    worker cuts off is reported through the worker's ``on_cut_off``.
    """

    def __call__(self, request: Request, run_id: int, attempt: int) -> Awaitable[SyncResult]: ...


def backoff(retry: RetryConfig, attempt: int, rng: random.Random) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based)."""
    delay = min(retry.max_delay, retry.base_delay * 2 ** (attempt - 1))
    return float(delay * (1 + rng.uniform(-retry.jitter, retry.jitter)))


@dataclass
class Running:
    request: Request
    run_id: int
    attempt: int
    started: float
    scope: trio.CancelScope
    preempted: bool = False


class Worker:
    """Runs syncs from the channel, one at a time, forever."""

    def __init__(
        self,
        channel: PriorityChannel,
        job: SyncJob,
        *,
        clock: WallClock,
        retry: RetryConfig,
        timeouts: Mapping[ExportType, float],
        scheduler: Scheduler,
        health: Health,
        breaker: CircuitBreaker,
        events: EventBus,
        eligible: Callable[[Request], bool] = lambda request: True,
        new_run_id: Callable[[Request, int], int] | None = None,
        on_dead_letter: Callable[[DeadLetter], None] = lambda letter: None,
        on_running: Callable[[Request | None], None] = lambda request: None,
        on_attempt: Callable[[Request, int], None] = lambda request, attempt: None,
        on_cut_off: Callable[[CutOff], None] = lambda cut: None,
        rng: random.Random | None = None,
    ) -> None:
        self._channel = channel
        self._job = job
        self._clock = clock
        self.retry = retry
        self.timeouts = dict(timeouts)
        self._scheduler = scheduler
        self._health = health
        self._breaker = breaker
        self._events = events
        self._eligible = eligible
        self._run_ids = itertools.count(1)
        self._new_run_id = new_run_id or (lambda request, attempt: next(self._run_ids))
        self._on_dead_letter = on_dead_letter
        self._on_running = on_running
        self._on_attempt = on_attempt
        self._on_cut_off = on_cut_off
        self._rng = rng or random.Random()
        self.current: Running | None = None

    def cancel_current(self) -> Request | None:
        """Cancel the running sync, if any; it is dropped, not retried."""
        if self.current is None:
            return None
        self.current.scope.cancel()
        return self.current.request

    def preempt_current(self) -> Request | None:
        """End the running sync at once to free the slot; it is queued again
        in its place (:meth:`PriorityChannel.put_back`) and recorded as
        ``preempted``: not a failure, no retry counted, not seen by the
        breaker. Returns the preempted request, if one ran."""
        running = self.current
        if running is None or running.scope.cancel_called:
            return None
        running.preempted = True
        running.scope.cancel()
        return running.request

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            request = await self._channel.get(self._may_start)
            await self.run_request(request)

    def _may_start(self, request: Request) -> bool:
        return self._breaker.allows() and self._eligible(request)

    async def run_request(self, request: Request) -> None:
        """All attempts of one request, then its bookkeeping."""
        self._breaker.started()
        started = self._clock.now()
        history: list[Attempt] = []
        self._on_running(request)
        with trio.CancelScope() as scope:
            for attempt in range(1, max(0, self.retry.retries) + 2):
                run_id = self._new_run_id(request, attempt)
                self.current = Running(request, run_id, attempt, self._clock.now(), scope)
                # Called, not published: the bookkeeping that a crash relies on
                # must not depend on an event bus that may drop events.
                self._on_attempt(request, attempt)
                self._publish(EventKind.STARTED, request, run_id, f"attempt {attempt}")
                try:
                    result = await self._attempt(request, run_id, attempt)
                except Exception as exc:  # a sync's failure must never stop the worker
                    failure = self._failure(exc, attempt)
                    if isinstance(exc, SyncTimeout):
                        self._on_cut_off(CutOff(request, run_id, attempt, failure.error, str(exc)))
                    history.append(failure)
                    self._publish(
                        EventKind.FAILED,
                        request,
                        run_id,
                        failure.message,
                        stage=failure.stage,
                        data={"error": failure.error, "outcome": outcome_of(exc)},
                    )
                    self._note_failure(request, failure)
                    self._breaker.failed(portal_fault=is_portal_fault(exc))
                    if holds_portal(exc):
                        # The portal is on hold (wrong password, blocked, budget
                        # spent): the request waits for the hold to lift.
                        self._channel.put(request)
                        break
                    if not failure.transient or attempt > self.retry.retries:
                        self._give_up(request, started, history, run_id)
                        break
                    if not self._breaker.allows():
                        # The portal is down: keep the request for when it is back.
                        self._channel.put(request)
                        break
                    delay = backoff(self.retry, attempt, self._rng)
                    self._publish(
                        EventKind.RETRYING,
                        request,
                        run_id,
                        f"retrying in {delay:.1f} s",
                        data={"delay": delay},
                    )
                    await trio.sleep(delay)
                except BaseException:
                    # trio.Cancelled: a preemption, an admin's cancel or archid stopping.
                    running = self.current
                    if running is not None and running.preempted and scope.cancel_called:
                        cut = CutOff(
                            request, run_id, attempt, "", "a person's request took the portal",
                            outcome=Outcome.PREEMPTED,
                        )  # fmt: skip
                    else:
                        why = "cancelled" if scope.cancel_called else "archid stopped"
                        # Recorded under the class of what the job saw: trio's Cancelled.
                        cancelled = trio.Cancelled.__name__
                        cut = CutOff(request, run_id, attempt, cancelled, why, Outcome.CANCELLED)
                    self._on_cut_off(cut)
                    raise
                else:
                    self._succeed(request, run_id, started, result)
                    break
        preempted = self.current is not None and self.current.preempted
        last_run = self.current.run_id if self.current else None
        if scope.cancelled_caught and preempted:
            self._breaker.abandoned()
            log.info(
                "%s sync preempted: queued again, it runs right after",
                request.type,
                extra=logs.fields(type=request.type, run=last_run),
            )
            self._channel.put_back(request)
            self._publish(EventKind.PREEMPTED, request, last_run, "preempted: queued again")
        elif scope.cancelled_caught:
            self._breaker.abandoned()
            log.warning(
                "%s sync cancelled",
                request.type,
                extra=logs.fields(type=request.type, run=last_run),
            )
            self._publish(
                EventKind.FAILED,
                request,
                last_run,
                "cancelled",
                data={"error": trio.Cancelled.__name__, "outcome": Outcome.CANCELLED},
            )
            self._scheduler.dropped(request.type)
        self.current = None
        self._on_running(None)

    async def _attempt(self, request: Request, run_id: int, attempt: int) -> SyncResult:
        timeout = self.timeouts.get(request.type, 900.0)
        with trio.move_on_after(timeout) as limit:
            return await self._job(request, run_id, attempt)
        assert limit.cancelled_caught
        raise SyncTimeout(f"{request.type} sync took longer than {timeout:.0f} s")

    def _failure(self, exc: Exception, attempt: int) -> Attempt:
        stage = getattr(exc, "stage", None)
        return Attempt(
            number=attempt,
            at=self._clock.now(),
            error=type(exc).__name__,
            stage=str(stage) if stage is not None else None,
            message=str(exc),
            transient=is_transient(exc),
        )

    def _note_failure(self, request: Request, failure: Attempt) -> None:
        """Health counts every failed attempt, as ``sync_runs`` does (so it can
        be rebuilt from there); the third in a row raises an alert."""
        error = f"{failure.error}: {failure.message}"
        if self._health.record(request.type, False, failure.at, error):
            self._publish(
                EventKind.ALERT,
                request,
                None,
                f"{request.type} failed 3 times in a row: {failure.error}",
                data={"alert": str(logs.Alert.FAILURES_IN_A_ROW)},
            )

    def _succeed(self, request: Request, run_id: int, started: float, result: SyncResult) -> None:
        now = self._clock.now()
        self._health.record(request.type, True, now)
        self._breaker.succeeded()
        self._scheduler.completed(request.type, started, result.changed)
        outcome = Outcome.UNCHANGED if result.unchanged else Outcome.OK
        self._publish(
            EventKind.FINISHED,
            request,
            run_id,
            result.note or outcome,
            data={
                "outcome": outcome,
                "changed": result.changed,
                **result.counts,
                "seconds": result.seconds,
            },
        )

    def _give_up(
        self, request: Request, started: float, history: list[Attempt], run_id: int
    ) -> None:
        last = history[-1]
        now = self._clock.now()
        letter = DeadLetter(request, last.error, last.stage, last.message, tuple(history), now)
        self._on_dead_letter(letter)
        self._publish(EventKind.DEAD_LETTER, request, None, f"{last.error}: {last.message}")
        log.error(
            "%s sync failed for good after %d attempt(s): %s: %s",
            request.type,
            len(history),
            last.error,
            last.message,
            extra=logs.fields(type=request.type, run=run_id, stage=last.stage),
        )
        self._scheduler.completed(request.type, started, False)

    def _publish(
        self,
        kind: EventKind,
        request: Request,
        run_id: int | None,
        message: str,
        *,
        stage: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self._events.publish(
            Event(
                kind,
                request.type,
                run_id,
                stage=stage,
                message=message,
                data=data or {},
                at=self._clock.now(),
            )
        )
