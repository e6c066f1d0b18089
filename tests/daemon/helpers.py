"""Helpers the daemon's tests share: a test config, a scripted sync job and a
running daemon under MockClock, and the worker harness (worker, breaker and
health wired as the daemon wires them, fed a scripted behaviour)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

import trio

from archid.config import (
    DEFAULT_SCHEDULES,
    Config,
    LoadConfig,
    PortalConfig,
    QuietHoursConfig,
    RetryConfig,
    Secret,
)
from archid.daemon.breaker import BreakerState, CircuitBreaker
from archid.daemon.clock import WallClock
from archid.daemon.events import Event, EventBus
from archid.daemon.health import Health
from archid.daemon.queue import Mode, PriorityChannel, Request, Trigger
from archid.daemon.scheduler import Scheduler
from archid.daemon.service import Daemon
from archid.daemon.state import MemoryState
from archid.daemon.worker import DeadLetter, SyncResult, Worker
from archid.exports.errors import LayoutChanged
from archid.records import ExportType

ANCHOR = 1_780_000_000.0  # a Wednesday, 2026-05-28 around noon in Rome

# -- a daemon with a scripted sync job -----------------------------------------------


def config(*, scheduled: bool = True) -> Config:
    """A local portal, no quiet hours, no load limit; the default schedules, or
    with ``scheduled=False`` none (each test queues its syncs by hand)."""
    portal = PortalConfig(url="http://127.0.0.1/Archibald/", username="agent", password=Secret("x"))
    settings = Config(
        portal=portal,
        quiet_hours=QuietHoursConfig(enabled=False),
        load=LoadConfig(max_load_average=None),
    )
    if scheduled:
        return settings
    unscheduled = {t: replace(s, enabled=False) for t, s in DEFAULT_SCHEDULES.items()}
    return replace(settings, schedules=unscheduled)


@dataclass
class Script:
    """The sync job: records calls, takes ``seconds`` per sync, fails for listed types."""

    seconds: float = 1.0
    failing: set[ExportType] = field(default_factory=set)
    calls: list[tuple[ExportType, Mode, Trigger, float]] = field(default_factory=list)

    async def __call__(self, request: Request, run_id: int, attempt: int) -> SyncResult:
        self.calls.append((request.type, request.mode, request.trigger, trio.current_time()))
        await trio.sleep(self.seconds)
        if request.type in self.failing:
            raise LayoutChanged("header changed")
        return SyncResult(changed=True)


async def always_up() -> bool:
    return True


@asynccontextmanager
async def running(
    script: Script, state: MemoryState | None = None, **kwargs: object
) -> AsyncIterator[Daemon]:
    daemon = Daemon(
        config(),
        script,
        state or MemoryState(),
        probe=always_up,
        clock=WallClock(ANCHOR),
        **kwargs,  # type: ignore[arg-type]
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.run)
        yield daemon
        nursery.cancel_scope.cancel()


async def wait_for(condition: Callable[[], bool], limit: float = 3600) -> None:
    with trio.fail_after(limit):
        while not condition():
            await trio.sleep(0.5)


# -- the worker harness --------------------------------------------------------------

NO_JITTER = RetryConfig(retries=2, base_delay=5.0, max_delay=300.0, jitter=0.0)


@dataclass
class Harness:
    channel: PriorityChannel
    worker: Worker
    breaker: CircuitBreaker
    health: Health
    events: list[Event] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)
    calls: list[tuple[ExportType, int, float]] = field(default_factory=list)
    states: list[BreakerState] = field(default_factory=list)


Behaviour = Callable[[Request, int], Awaitable[SyncResult]]


async def run_with(
    behaviour: Behaviour,
    requests: list[Request],
    *,
    retry: RetryConfig = NO_JITTER,
    timeout: float = 900.0,
    threshold: int = 5,
    probe: Callable[[], Awaitable[bool]] | None = None,
    until: float = 3600.0,
    during: Callable[[Harness], Awaitable[None]] | None = None,
) -> Harness:
    channel = PriorityChannel()
    clock = WallClock(1_780_000_000.0)
    scheduler = Scheduler(
        channel, clock, DEFAULT_SCHEDULES, QuietHoursConfig(enabled=False), LoadConfig(None)
    )
    bus = EventBus()
    health = Health(clock.now())

    async def never() -> bool:
        return False

    harness_ref: list[Harness] = []

    def breaker_changed(state: BreakerState) -> None:
        harness_ref[0].states.append(state)
        channel.wake()

    breaker = CircuitBreaker(
        probe or never,
        threshold=threshold,
        probe_interval=300.0,
        on_change=breaker_changed,
    )

    async def job(request: Request, run_id: int, attempt: int) -> SyncResult:
        harness_ref[0].calls.append((request.type, attempt, trio.current_time()))
        return await behaviour(request, attempt)

    worker = Worker(
        channel,
        job,
        clock=clock,
        retry=retry,
        timeouts=dict.fromkeys(ExportType, timeout),
        scheduler=scheduler,
        health=health,
        breaker=breaker,
        events=bus,
        on_dead_letter=lambda letter: harness_ref[0].letters.append(letter),
        rng=random.Random(1),
    )
    harness = Harness(channel, worker, breaker, health)
    harness_ref.append(harness)
    with bus.subscribe() as events, trio.move_on_after(until):
        async with trio.open_nursery() as nursery:
            await nursery.start(worker.run)
            await nursery.start(breaker.run)

            async def collect() -> None:
                async for event in events:
                    harness.events.append(event)

            nursery.start_soon(collect)
            for request in requests:
                channel.put(request)
            if during is not None:
                await during(harness)
    return harness
