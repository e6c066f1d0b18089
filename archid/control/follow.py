"""Following one queued sync to its end, for ``sync`` with ``wait``.

Requests of a type merge while they wait (:mod:`archid.daemon.queue`), and
the merged entry keeps its ``seq``: the request a client queued is done
when the worker has run the entry with that ``seq``. The daemon's run
listeners say exactly when the worker starts that entry and when it is
done with it (every attempt, every retry); the event bus carries what
happened meanwhile. Both happen on the event loop, so at the moment the
worker says "done" every event of the run is in this follower's
subscription, or on its way to the follower's task (a memory channel hands
a value straight to a task blocked in ``receive``): the follower takes
what is buffered there and then, closes the subscription, and reads the
in-flight event, if any, first. An event on its way when the run starts
came before it; the run's own events begin with its ``started``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import trio

from archid.daemon.events import Event, EventKind
from archid.daemon.queue import Request
from archid.daemon.service import Daemon
from archid.records import ExportType
from archid.runs import Outcome

#: seconds between looks at the queue while the request waits (an admin may drop it)
QUEUE_CHECK_INTERVAL = 0.5
_NOT_COUNTS = ("seconds", "changed", "store_run", "outcome")


@dataclass(frozen=True, slots=True)
class Followed:
    """What came of a followed request (``docs/control.md``, ``sync`` with ``wait``)."""

    #: how its last attempt ended, or ``dead_letter``: it failed for good
    #: (a guard's refusal says ``rejected`` even then)
    outcome: Outcome | Literal[EventKind.DEAD_LETTER]
    #: the ``sync_runs`` id of a finished run (the events of a failure do not name it)
    run: int | None
    type: ExportType
    #: a finished run's counts (records, inserted, …)
    counts: Mapping[str, Any]
    #: the last failure, ``Class: message``
    error: str | None
    #: from the worker's start of it to its end
    seconds: float


class _Phase(enum.Enum):
    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"


class Follower:
    """Collects the events of one request's run, from start to end, or, with
    ``first_commit``, to its first commit when the run commits more than once
    (an order-form session's sync: the newest customers, then the 200)."""

    def __init__(
        self,
        daemon: Daemon,
        request: Request,
        events: trio.MemoryReceiveChannel[Event],
        on_event: Callable[[Event], None],
        *,
        first_commit: bool = False,
    ) -> None:
        self._daemon = daemon
        #: end at the run's first commit (its ``progress`` event of ``apply``)
        self._first_commit = first_commit
        self._committed: Event | None = None
        self._request = request
        self._events = events
        self._on_event = on_event
        self._phase = _Phase.WAITING
        self._begun = False  # its first ``started`` seen
        self._seen: list[Event] = []
        self._backlog: list[Event] = []
        self._started_at: float | None = None

    def on_running(self, request: Request | None) -> None:
        """The daemon's run listener: the worker starts ``request``, or (``None``) is done."""
        if self._phase is _Phase.WAITING and request is not None:
            if request.type is self._request.type and request.seq == self._request.seq:
                self._phase = _Phase.RUNNING
                self._started_at = trio.current_time()
        elif self._phase is _Phase.RUNNING and request is None:
            while True:
                try:
                    self._backlog.append(self._events.receive_nowait())
                except (trio.WouldBlock, trio.ClosedResourceError, trio.EndOfChannel):
                    break
            self._phase = _Phase.DONE
            self._events.close()  # wakes :meth:`outcome`

    async def outcome(self) -> Followed:
        """Wait for the run's end; what came of it (see ``docs/control.md``)."""
        while self._phase is not _Phase.DONE and self._committed is None:
            try:
                with trio.move_on_after(QUEUE_CHECK_INTERVAL):
                    self._keep(await self._events.receive())
                    continue
            except (trio.ClosedResourceError, trio.EndOfChannel):
                break
            if self._phase is _Phase.WAITING and not self._still_queued():
                return self._result(Outcome.CANCELLED, None, "dropped from the queue before it ran")
        for event in self._backlog:
            self._keep(event)
        return self._decide()

    def _still_queued(self) -> bool:
        return any(
            r.type is self._request.type and r.seq == self._request.seq
            for r in self._daemon.channel.pending()
        )

    def _keep(self, event: Event) -> None:
        if self._phase is _Phase.WAITING or event.type is not self._request.type:
            return
        if not self._begun:
            if event.kind is not EventKind.STARTED:
                return  # from before the run (its queueing, an earlier run's end)
            self._begun = True
        self._seen.append(event)
        self._on_event(event)
        if (
            self._first_commit
            and event.kind is EventKind.PROGRESS
            and event.stage == "apply"
            and "store_run" in event.data
        ):
            self._committed = event

    def _decide(self) -> Followed:
        if self._committed is not None:
            # Followed to the first commit: the attempt that made it is the
            # last one; an earlier attempt's failure is history.
            return self._result(Outcome.OK, self._committed, None)
        ends = [
            e
            for e in self._seen
            if e.kind in (EventKind.FINISHED, EventKind.FAILED, EventKind.DEAD_LETTER)
        ]
        failures = [e for e in self._seen if e.kind is EventKind.FAILED]
        last_failure = failures[-1] if failures else None
        error = None
        if last_failure is not None:
            error = f"{last_failure.data.get('error', 'error')}: {last_failure.message}"
        if not ends:
            return self._result(Outcome.FAILED, None, error or "the run ended without a word")
        end = ends[-1]
        if end.kind is EventKind.FINISHED:
            return self._result(Outcome(end.data.get("outcome", Outcome.OK)), end, None)
        if end.kind is EventKind.DEAD_LETTER:
            rejected = (
                last_failure is not None and last_failure.data.get("outcome") is Outcome.REJECTED
            )
            return self._result(
                Outcome.REJECTED if rejected else EventKind.DEAD_LETTER, last_failure, error
            )
        if end.data.get("outcome") is Outcome.CANCELLED:
            return self._result(Outcome.CANCELLED, end, error)
        # Failed and put back in the queue (portal hold, breaker open).
        return self._result(Outcome.FAILED, end, error)

    def _result(
        self,
        outcome: Outcome | Literal[EventKind.DEAD_LETTER],
        event: Event | None,
        error: str | None,
    ) -> Followed:
        counts: dict[str, Any] = {}
        run = None  # the sync_runs row: the events of a failure do not name it
        if event is not None and (event.kind is EventKind.FINISHED or event is self._committed):
            counts = {k: v for k, v in event.data.items() if k not in _NOT_COUNTS}
            run = event.data.get("store_run")
        since = self._started_at
        return Followed(
            outcome=outcome,
            run=run,
            type=self._request.type,
            counts=counts,
            error=error,
            seconds=0.0 if since is None else trio.current_time() - since,
        )
