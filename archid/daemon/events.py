"""The daemon's event stream: what happens to each sync, for logs, socket and metrics.

Producers call :meth:`EventBus.publish`, which never blocks: a subscriber
that does not keep up loses events (and is told how many), rather than
slowing down the worker.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import trio

from archid.daemon.event_kinds import EventKind
from archid.records import ExportType

__all__ = ["Event", "EventBus", "EventKind"]

log = logging.getLogger("archid.events")


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened; ``run`` ties the events of one sync together."""

    kind: EventKind
    type: ExportType | None = None
    run: int | None = None
    stage: str | None = None
    current: int | None = None
    total: int | None = None
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "type": str(self.type) if self.type else None,
            "run": self.run,
            "stage": self.stage,
            "current": self.current,
            "total": self.total,
            "message": self.message,
            "data": self.data,
            "at": self.at,
        }


class EventBus:
    """Fan-out of events to any number of subscribers, each with its own buffer."""

    def __init__(self, buffer: int = 256) -> None:
        self._buffer = buffer
        self._subscribers: dict[int, trio.MemorySendChannel[Event]] = {}
        self._ids = itertools.count()
        self.dropped = 0

    def publish(self, event: Event) -> None:
        for key, channel in list(self._subscribers.items()):
            try:
                channel.send_nowait(event)
            except trio.WouldBlock:
                self.dropped += 1
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                del self._subscribers[key]

    @contextmanager
    def subscribe(self) -> Iterator[trio.MemoryReceiveChannel[Event]]:
        """A channel receiving every event published while the block runs."""
        send, receive = trio.open_memory_channel[Event](self._buffer)
        key = next(self._ids)
        self._subscribers[key] = send
        try:
            yield receive
        finally:
            self._subscribers.pop(key, None)
            send.close()
            receive.close()
