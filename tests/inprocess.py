"""The daemon in this process, as ``archid run`` runs it, for tests and benchmarks.

:func:`with_daemon` starts :func:`archid.app.serve` on a
configuration file, subscribed to its events before the first sync can
start; :func:`timed_sync` gives a command (``daemon.sync_now(...)``) and
waits for that type's sync to finish, retries included.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from archid.app import serve
from archid.config import DEFAULT_SCHEDULES, load_config
from archid.daemon.events import EventBus, EventKind
from archid.daemon.queue import Request
from archid.daemon.service import Daemon
from archid.records import ExportType
from archid.runs import Mode, Trigger

Events = trio.MemoryReceiveChannel[Any]


@dataclass
class Sync:
    """One successful sync as the benchmark saw it."""

    type: ExportType
    total: float  # command to the finished event
    data: dict[str, Any]
    failures: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> dict[str, float]:
        return dict(self.data.get("seconds") or {})

    def stage(self, name: str) -> float:
        return float(self.seconds.get(name, 0.0))

    @property
    def changes(self) -> str:
        """What the store did: ``+inserted ~updated -deleted`` (and ``↺restored``)."""
        d = self.data
        text = f"+{d.get('inserted', 0)} ~{d.get('updated', 0)} -{d.get('deleted', 0)}"
        return text + (f" ↺{d['restored']}" if d.get("restored") else "")

    @property
    def other(self) -> float:
        return self.total - sum(self.stage(s) for s in ("export", "parse", "apply"))


class SyncFailed(Exception):
    pass


async def timed_sync(
    events: Events, export_type: ExportType, command: Callable[[], object]
) -> Sync:
    """Give ``command`` and wait for ``export_type``'s sync to finish (retries included)."""
    started = time.time()
    command()
    failures: list[str] = []
    async for event in events:
        if event.type is not export_type:
            continue
        if event.kind is EventKind.FAILED:
            failures.append(f"{event.data.get('error', 'error')} at {event.stage}: {event.message}")
        elif event.kind is EventKind.DEAD_LETTER:
            raise SyncFailed(f"{export_type} sync failed for good: {event.message}")
        elif event.kind is EventKind.FINISHED:
            # event.at is the daemon's wall clock at publication, after the commit
            return Sync(export_type, event.at - started, dict(event.data), failures)
    raise SyncFailed("the event stream ended")


def queue_scheduled(daemon: Daemon, export_type: ExportType, priority: int | None = None) -> None:
    """Queue a full sync as the scheduler does (at the default schedule's priority)."""
    if priority is None:
        priority = DEFAULT_SCHEDULES[export_type].priority
    daemon.channel.put(Request(export_type, priority, Mode.FULL, Trigger.SCHEDULE))


async def with_daemon(config_path: Path, body: Callable[[Daemon, Events], Awaitable[None]]) -> None:
    """Start the daemon in-process (subscribed before it starts), run ``body``, stop it."""
    config = load_config(config_path)
    bus = EventBus(buffer=4096)
    interrupted = False
    with bus.subscribe() as events:
        async with trio.open_nursery() as nursery:

            async def daemon(*, task_status: trio.TaskStatus[Daemon]) -> None:
                nonlocal interrupted
                await serve(config, config_path, events=bus, task_status=task_status)
                interrupted = True  # serve returns by itself only on SIGINT/SIGTERM
                nursery.cancel_scope.cancel()

            running: Daemon = await nursery.start(daemon)
            await body(running, events)
            nursery.cancel_scope.cancel()
    if interrupted:
        raise KeyboardInterrupt
