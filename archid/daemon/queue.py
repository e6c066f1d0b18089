"""The priority channel between the scheduler (and admins) and the one worker.

At most one entry waits per export type and mode: asking again for a type
that is already waiting merges into its entry (the higher priority wins),
so a burst of requests never turns into a burst of syncs. A "recent" sync
(the order form's newest customers, seconds) and a "full" one (the whole
export, minutes) of the same type wait side by side: merged, the full one
would make the order form wait for it.
Waiting entries age: their priority grows with the time they have waited,
so low priorities cannot starve. Among equals the oldest goes first.

A request restored as *interrupted* (the sync that was running when the
process stopped or died) is served before every other one, as soon as it
may run.

The channel does not decide *whether* a type may run now (paused, held by
an order-form session): the consumer passes a predicate to :meth:`get` and
calls :meth:`wake` when the answer may have changed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import trio

from archid.records import ExportType
from archid.runs import Mode, Trigger

__all__ = ["Mode", "PriorityChannel", "Request", "Trigger"]


@dataclass(frozen=True, slots=True)
class Request:
    """One pending sync of one type.

    ``queued_at`` is on trio's clock (seconds) and is kept through merges, so
    a merged entry keeps its place in line and its age.
    """

    type: ExportType
    priority: int
    mode: Mode = Mode.FULL
    trigger: Trigger = Trigger.SCHEDULE
    queued_at: float = 0.0
    seq: int = 0
    #: let this sync's export through the store's guard (an admin's decision, not persisted)
    allow_large_change: bool = False
    #: who asked: the control peer's user, the order-form session's user (None: the schedule)
    requested_by: str | None = None

    @property
    def interactive(self) -> bool:
        """Asked for by a person (an admin, an order form), not by the schedule:
        it runs on the interactive portal session and preempts scheduled exports."""
        return self.trigger is not Trigger.SCHEDULE

    def merged(self, other: Request) -> Request:
        """This entry after ``other`` (same type) was asked for as well."""
        mode = Mode.FULL if Mode.FULL in (self.mode, other.mode) else Mode.RECENT
        trigger = other.trigger if other.priority > self.priority else self.trigger
        return replace(
            self,
            priority=max(self.priority, other.priority),
            mode=mode,
            trigger=trigger,
            allow_large_change=self.allow_large_change or other.allow_large_change,
            requested_by=other.requested_by
            if other.priority > self.priority
            else self.requested_by,
        )

    def effective_priority(self, now: float, ageing: float) -> float:
        """Priority plus one for every ``ageing`` seconds spent waiting."""
        return self.priority + max(0.0, now - self.queued_at) / ageing


def _key(request: Request) -> tuple[ExportType, Mode]:
    return (request.type, request.mode)


class PriorityChannel:
    """Pending syncs, one per type, handed out by aged priority.

    ``ageing`` is the number of seconds of waiting that are worth one
    priority point. ``on_change`` is called (synchronously) with the
    pending entries after every change, for persistence.
    """

    def __init__(
        self,
        ageing: float = 60.0,
        on_change: Callable[[list[Request]], None] | None = None,
    ) -> None:
        if ageing <= 0:
            raise ValueError("ageing must be positive")
        self._ageing = ageing
        self._pending: dict[tuple[ExportType, Mode], Request] = {}
        self._seq = itertools.count()
        self._changed = trio.Event()
        self._on_change = on_change
        self._first: ExportType | None = None
        #: preempted entries put back: served right after people's requests
        self._resumed: set[tuple[ExportType, Mode]] = set()

    def __len__(self) -> int:
        return len(self._pending)

    def pending(self) -> list[Request]:
        """The waiting entries, in the order they would be served now."""
        now = trio.current_time()
        return sorted(self._pending.values(), key=lambda r: self._order(r, now))

    def put(self, request: Request) -> Request:
        """Queue a sync (merging with a waiting one of the same type); returns the entry."""
        current = self._pending.get(_key(request))
        if current is None:
            entry = replace(request, queued_at=trio.current_time(), seq=next(self._seq))
        else:
            entry = current.merged(request)
        self._pending[_key(entry)] = entry
        self._notify()
        return entry

    def put_back(self, request: Request) -> Request:
        """Queue again a request that was taken and preempted: it runs right
        after people's requests, before any other scheduled sync, keeping its
        ``seq`` and its age. Merged with a waiting entry of its type as
        :meth:`put` does, it lends that entry its age, and the entry keeps
        its own ``seq``: it may be a person's, followed by that ``seq``
        (``sync --wait``)."""
        current = self._pending.get(_key(request))
        entry = request if current is None else current.merged(request)
        if current is not None:
            entry = replace(entry, queued_at=min(current.queued_at, request.queued_at))
        self._pending[_key(entry)] = entry
        self._resumed.add(_key(entry))
        self._notify()
        return entry

    def restore(self, requests: Iterable[Request], interrupted: Request | None = None) -> None:
        """Refill from persisted entries (at start-up), keeping their order;
        ``interrupted`` goes first (merged with a waiting entry of its type)."""
        now = trio.current_time()
        requests = [*requests, *([interrupted] if interrupted else [])]
        if interrupted is not None:
            self._first = interrupted.type
        for request in sorted(requests, key=lambda r: r.seq):
            entry = replace(request, queued_at=now, seq=next(self._seq))
            current = self._pending.get(_key(entry))
            self._pending[_key(entry)] = current.merged(entry) if current else entry
        self._notify()

    def remove(self, export_type: ExportType) -> Request | None:
        """Drop the waiting entries of a type, if any; the full one is returned
        (else the recent one)."""
        entries = [
            self._pending.pop((export_type, mode), None) for mode in (Mode.FULL, Mode.RECENT)
        ]
        if export_type is self._first:
            self._first = None
        if any(entries):
            self._notify()
        return entries[0] or entries[1]

    def wake(self) -> None:
        """Make waiting :meth:`get` calls look again (eligibility changed)."""
        self._changed.set()
        self._changed = trio.Event()

    async def get(self, eligible: Callable[[Request], bool] = lambda r: True) -> Request:
        """Wait for and take the best entry that ``eligible`` accepts."""
        while True:
            now = trio.current_time()
            candidates = [r for r in self._pending.values() if eligible(r)]
            if candidates:
                best = min(candidates, key=lambda r: self._order(r, now))
                if best.type is self._first:
                    self._first = None
                self._resumed.discard(_key(best))
                del self._pending[_key(best)]
                self._notify()
                return best
            await self._changed.wait()

    def _rank(self, request: Request, now: float) -> tuple[float, int]:
        return (-request.effective_priority(now, self._ageing), request.seq)

    def _order(self, request: Request, now: float) -> tuple[int, float, int]:
        """Who goes first: the interrupted sync, then people's requests, then a
        preempted sync (right after the request that preempted it), then by
        aged priority."""
        if request.type is self._first:
            place = 0
        elif request.interactive:
            place = 1
        elif _key(request) in self._resumed:
            place = 2
        else:
            place = 3
        return (place, *self._rank(request, now))

    def _notify(self) -> None:
        if self._on_change is not None:
            self._on_change(list(self._pending.values()))
        self.wake()
