"""The scheduler under trio's MockClock: hours of schedule in milliseconds."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import trio
import trio.testing

from archid.config import DEFAULT_SCHEDULES, LoadConfig, QuietHoursConfig, ScheduleConfig
from archid.daemon.clock import WallClock
from archid.daemon.queue import PriorityChannel
from archid.daemon.scheduler import Scheduler, quiet_until
from archid.records import ExportType

ROME = ZoneInfo("Europe/Rome")
NO_QUIET = QuietHoursConfig(enabled=False)
NO_LOAD_LIMIT = LoadConfig(max_load_average=None)


def rome(year: int, month: int, day: int, hour: int, minute: int) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=ROME).timestamp()


def only(export_type: ExportType, **changes: object) -> dict[ExportType, ScheduleConfig]:
    """The default schedules with every other type disabled."""
    return {
        t: replace(s, enabled=t is export_type, **changes)  # type: ignore[arg-type]
        for t, s in DEFAULT_SCHEDULES.items()
    }


async def record_queue(
    anchor: float,
    until: float,
    *,
    schedules: Mapping[ExportType, ScheduleConfig] = DEFAULT_SCHEDULES,
    quiet: QuietHoursConfig = NO_QUIET,
    load: LoadConfig = NO_LOAD_LIMIT,
    last_runs: Mapping[ExportType, float] | None = None,
    changed: Callable[[ExportType, int], bool] = lambda t, n: True,
    load_average: Callable[[], float] = lambda: 0.0,
) -> list[tuple[ExportType, float]]:
    """Run a scheduler with a worker that finishes each sync at once.

    Returns (type, wall time) of every sync the scheduler queued before
    ``until`` seconds of wall time had passed.
    """
    channel = PriorityChannel()
    clock = WallClock(anchor)
    scheduler = Scheduler(
        channel, clock, schedules, quiet, load, last_runs=last_runs, load_average=load_average
    )
    seen: list[tuple[ExportType, float]] = []
    counts: dict[ExportType, int] = {}

    async def worker() -> None:
        while True:
            request = await channel.get()
            now = clock.now()
            seen.append((request.type, now))
            counts[request.type] = counts.get(request.type, 0) + 1
            scheduler.completed(request.type, now, changed(request.type, counts[request.type]))

    with trio.move_on_after(until):  # this wall clock moves with trio's
        async with trio.open_nursery() as nursery:
            await nursery.start(scheduler.run)
            nursery.start_soon(worker)
    return seen


def offsets(seen: list[tuple[ExportType, float]], anchor: float) -> list[tuple[str, float]]:
    return [(str(t), round((at - anchor) / 60, 3)) for t, at in seen]


async def test_types_are_staggered_by_their_offsets(autojump_clock: trio.testing.MockClock) -> None:
    anchor = rome(2026, 6, 1, 12, 0)
    seen = await record_queue(anchor, 31 * 60)
    assert offsets(seen, anchor) == [
        ("orders", 0.0),
        ("customers", 5.0),
        # Due together: the higher priority goes first.
        ("orders", 10.0),
        ("prices", 10.0),
        ("invoices", 15.0),
        ("orders", 20.0),
        ("ddt", 20.0),
        ("orders", 30.0),
        ("products", 30.0),
    ]


async def test_quiet_hours_hold_syncs_across_midnight(
    autojump_clock: trio.testing.MockClock,
) -> None:
    anchor = rome(2026, 6, 1, 23, 50)
    only_orders = only(ExportType.ORDERS)
    seen = await record_queue(anchor, 7 * 3600, schedules=only_orders, quiet=QuietHoursConfig())
    times = [datetime.fromtimestamp(at, ROME).strftime("%d %H:%M") for _, at in seen]
    assert times[:4] == ["01 23:50", "02 06:00", "02 06:10", "02 06:20"]


async def test_quiet_hours_follow_daylight_saving_changes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    only_orders = only(ExportType.ORDERS)
    quiet = QuietHoursConfig()
    # Spring forward (29 March 2026): the quiet night lasts five real hours.
    spring = rome(2026, 3, 28, 23, 55)
    seen = await record_queue(spring, 6 * 3600, schedules=only_orders, quiet=quiet)
    assert datetime.fromtimestamp(seen[1][1], UTC) == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)
    # Fall back (25 October 2026): it lasts seven.
    autumn = rome(2026, 10, 24, 23, 55)
    seen = await record_queue(autumn, 8 * 3600, schedules=only_orders, quiet=quiet)
    assert datetime.fromtimestamp(seen[1][1], UTC) == datetime(2026, 10, 25, 5, 0, tzinfo=UTC)


def test_quiet_until_outside_the_window_is_now() -> None:
    quiet = QuietHoursConfig()
    noon = rome(2026, 6, 1, 12, 0)
    assert quiet_until(quiet, noon) == noon
    assert quiet_until(quiet, rome(2026, 6, 1, 3, 0)) == rome(2026, 6, 1, 6, 0)
    evening = QuietHoursConfig(start=datetime(2026, 1, 1, 22, 0).time())
    assert quiet_until(evening, rome(2026, 6, 1, 23, 0)) == rome(2026, 6, 2, 6, 0)


async def test_unchanged_syncs_stretch_the_interval_and_changes_snap_it_back(
    autojump_clock: trio.testing.MockClock,
) -> None:
    anchor = rome(2026, 6, 1, 9, 0)
    only_orders = only(ExportType.ORDERS, max_stretch=3.0)
    # Runs 1-12 find nothing new, run 13 finds changes. The stretch starts at
    # run 7: the seventh unchanged sync, the first an hour after the first.
    seen = await record_queue(anchor, 5 * 3600, schedules=only_orders, changed=lambda t, n: n == 13)
    gaps = [round((b - a) / 60, 2) for (_, a), (_, b) in itertools.pairwise(seen)]
    assert gaps[:14] == [10.0] * 6 + [15.0, 22.5, 30.0, 30.0, 30.0, 30.0, 10.0, 10.0]


async def test_a_list_synced_every_few_seconds_stretches_only_after_an_hour_unchanged(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Ten seconds of quiet on a 10 s list say nothing: checked at its interval for an hour."""
    anchor = rome(2026, 6, 1, 9, 0)
    every_10s = only(ExportType.DDT, every=10.0, offset=0.0)
    seen = await record_queue(anchor, 3600 + 120, schedules=every_10s, changed=lambda t, n: False)
    gaps = [round(b - a, 2) for (_, a), (_, b) in itertools.pairwise(seen)]
    assert gaps[:360] == [10.0] * 360
    assert gaps[360:363] == [15.0, 22.5, 33.75]


async def test_restart_runs_a_missed_interval_once_and_keeps_what_is_not_due(
    autojump_clock: trio.testing.MockClock,
) -> None:
    anchor = rome(2026, 6, 1, 9, 0)
    last_runs = {
        ExportType.ORDERS: anchor - 5 * 3600,  # many intervals missed
        ExportType.CUSTOMERS: anchor - 60,  # ran a minute before the restart
    }
    seen = await record_queue(anchor, 40 * 60, last_runs=last_runs)
    first: dict[ExportType, float] = {}
    for export_type, at in seen:
        first.setdefault(export_type, round((at - anchor) / 60, 2))
    assert [at for t, at in offsets(seen, anchor) if t == "orders"][:2] == [0.0, 10.0]
    assert first[ExportType.CUSTOMERS] == 29.0


async def test_high_load_puts_scheduled_syncs_off(autojump_clock: trio.testing.MockClock) -> None:
    anchor = rome(2026, 6, 1, 9, 0)
    only_orders = only(ExportType.ORDERS)
    clock_start = trio.current_time()

    def load() -> float:
        # Busy for the first three minutes.
        return 9.0 if trio.current_time() - clock_start < 180 else 0.5

    seen = await record_queue(
        anchor, 10 * 60, schedules=only_orders, load=LoadConfig(4.0), load_average=load
    )
    assert offsets(seen, anchor)[0] == ("orders", 3.0)


class SteppedWall:
    """A wall clock that runs with trio's clock and can be stepped, as NTP or a
    suspended machine steps the real one while the monotonic clock does not follow."""

    def __init__(self, anchor: float) -> None:
        self.anchor = anchor
        self.start = trio.current_time()
        self.offset = 0.0

    def __call__(self) -> float:
        return self.anchor + (trio.current_time() - self.start) + self.offset

    def step(self, seconds: float) -> None:
        self.offset += seconds


async def queue_times_with_a_step(step: float, at: float, until: float) -> list[float]:
    """Trio times (from the start) at which orders, alone, every 10 min, were
    queued, the wall clock stepping by ``step`` seconds ``at`` seconds in."""
    wall = SteppedWall(rome(2026, 6, 1, 12, 0))
    clock = WallClock(wall=wall)
    channel = PriorityChannel()
    scheduler = Scheduler(channel, clock, only(ExportType.ORDERS), NO_QUIET, NO_LOAD_LIMIT)
    start = trio.current_time()
    seen: list[float] = []

    async def worker() -> None:
        while True:
            request = await channel.get()
            seen.append(trio.current_time() - start)
            scheduler.completed(request.type, clock.now(), True)

    async def stepper() -> None:
        await trio.sleep(at)
        wall.step(step)

    with trio.move_on_after(until):
        async with trio.open_nursery() as nursery:
            await nursery.start(scheduler.run)
            nursery.start_soon(worker)
            nursery.start_soon(stepper)
    return seen


async def test_a_wall_clock_step_forward_is_followed_within_a_minute(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # A suspend of an hour, 90 s after the first sync: the next is due at once.
    seen = await queue_times_with_a_step(3600, at=90, until=200)
    assert seen[0] == 0
    assert 90 < seen[1] <= 90 + 60, seen


async def test_a_wall_clock_step_back_postpones_by_one_interval_not_by_the_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # NTP sets the clock an hour back: the last run now lies in the future.
    seen = await queue_times_with_a_step(-3600, at=90, until=800)
    assert seen[0] == 0
    # One interval after the scheduler saw the step (within a minute of it),
    # not an hour and ten minutes later.
    assert 90 + 600 < seen[1] <= 90 + 60 + 600, seen


async def test_a_stored_last_run_in_the_future_is_taken_as_now(
    autojump_clock: trio.testing.MockClock,
) -> None:
    anchor = rome(2026, 6, 1, 9, 0)
    future = {ExportType.ORDERS: anchor + 24 * 3600}  # written by a clock a day ahead
    seen = await record_queue(anchor, 30 * 60, schedules=only(ExportType.ORDERS), last_runs=future)
    assert offsets(seen, anchor)[:2] == [("orders", 10.0), ("orders", 20.0)]
