"""The priority channel: one entry per type and mode, merging, ageing, FIFO, eligibility."""

from __future__ import annotations

import trio
import trio.testing

from archid.daemon.queue import Mode, PriorityChannel, Request, Trigger
from archid.records import ExportType

C, P, ORD = ExportType.CUSTOMERS, ExportType.PRODUCTS, ExportType.ORDERS


async def test_a_second_request_merges_into_the_waiting_one(
    autojump_clock: trio.testing.MockClock,
) -> None:
    channel = PriorityChannel()
    channel.put(Request(C, 5, Mode.FULL, Trigger.SCHEDULE))
    await trio.sleep(30)
    merged = channel.put(Request(C, 100, Mode.FULL, Trigger.MANUAL, requested_by="admin"))
    channel.put(Request(C, 1, Mode.FULL, Trigger.SCHEDULE))
    assert len(channel) == 1
    assert (merged.priority, merged.mode, merged.trigger) == (100, Mode.FULL, Trigger.MANUAL)
    taken = await channel.get()
    assert (taken.priority, taken.mode, taken.trigger) == (100, Mode.FULL, Trigger.MANUAL)
    assert taken.requested_by == "admin"
    assert taken.queued_at == 0.0  # kept its place in line


async def test_a_recent_and_a_full_request_of_one_type_wait_side_by_side(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Merged, the order form's seconds-long recent sync would wait for a full export.
    channel = PriorityChannel()
    channel.put(Request(C, 5, Mode.FULL, Trigger.SCHEDULE))
    channel.put(Request(C, 100, Mode.RECENT, Trigger.SESSION))
    assert len(channel) == 2
    first, second = await channel.get(), await channel.get()
    assert (first.mode, second.mode) == (Mode.RECENT, Mode.FULL)


async def test_a_preempted_request_goes_back_in_its_place(
    autojump_clock: trio.testing.MockClock,
) -> None:
    channel = PriorityChannel()
    channel.put(Request(ORD, 6, Mode.FULL, Trigger.SCHEDULE))
    await trio.sleep(10)
    channel.put(Request(P, 6, Mode.FULL, Trigger.SCHEDULE))
    taken = await channel.get()
    assert taken.type is ORD
    await trio.sleep(10)
    back = channel.put_back(taken)
    assert (back.seq, back.queued_at) == (taken.seq, taken.queued_at)
    # A scheduled sync of higher priority does not overtake it; a person's request does.
    channel.put(Request(C, 50, Mode.FULL, Trigger.SCHEDULE))
    channel.put(Request(C, 100, Mode.RECENT, Trigger.SESSION))
    order = [(r.type, r.mode) for r in channel.pending()]
    assert order[:2] == [(C, Mode.RECENT), (ORD, Mode.FULL)]
    assert (await channel.get()).trigger is Trigger.SESSION
    assert (await channel.get()).type is ORD
    assert (await channel.get()).type is C


async def test_a_preempted_request_put_back_onto_a_waiting_one_keeps_the_waiting_ones_seq(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The waiting entry is someone's (``sync --wait`` follows it by seq); the
    # preempted one lends it its age.
    channel = PriorityChannel()
    channel.put(Request(C, 6, Mode.FULL, Trigger.SCHEDULE))
    taken = await channel.get()
    await trio.sleep(10)
    waiting = channel.put(Request(C, 100, Mode.FULL, Trigger.MANUAL, requested_by="admin"))
    back = channel.put_back(taken)
    assert back.seq == waiting.seq != taken.seq
    assert back.queued_at == taken.queued_at
    assert (back.trigger, back.requested_by) == (Trigger.MANUAL, "admin")
    assert [r.seq for r in channel.pending()] == [waiting.seq]


async def test_recent_stays_recent_when_only_recent_is_asked(
    autojump_clock: trio.testing.MockClock,
) -> None:
    channel = PriorityChannel()
    channel.put(Request(C, 5, Mode.RECENT))
    channel.put(Request(C, 5, Mode.RECENT))
    assert (await channel.get()).mode is Mode.RECENT


async def test_higher_priority_first_and_fifo_among_equals(
    autojump_clock: trio.testing.MockClock,
) -> None:
    channel = PriorityChannel()
    for export_type, priority in ((ExportType.PRICES, 2), (C, 5), (P, 2), (ORD, 6)):
        channel.put(Request(export_type, priority))
        await trio.sleep(0.001)
    order = [(await channel.get()).type for _ in range(4)]
    assert order == [ORD, C, ExportType.PRICES, P]


async def test_waiting_entries_age_so_low_priorities_cannot_starve(
    autojump_clock: trio.testing.MockClock,
) -> None:
    channel = PriorityChannel(ageing=60.0)
    channel.put(Request(P, 1))
    await trio.sleep(6 * 60)  # worth six priority points: 1 + 6 > 6
    channel.put(Request(ORD, 6))
    assert (await channel.get()).type is P
    assert (await channel.get()).type is ORD


async def test_get_waits_for_an_eligible_entry_and_wakes_on_change(
    autojump_clock: trio.testing.MockClock,
) -> None:
    channel = PriorityChannel()
    held = {ORD}
    got: list[ExportType] = []

    async def consumer() -> None:
        got.append((await channel.get(lambda r: r.type not in held)).type)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consumer)
        channel.put(Request(ORD, 6))
        await trio.sleep(10)
        assert got == [] and len(channel) == 1
        held.clear()
        channel.wake()
    assert got == [ORD]


async def test_changes_are_reported_for_persistence_and_restored(
    autojump_clock: trio.testing.MockClock,
) -> None:
    snapshots: list[list[Request]] = []
    channel = PriorityChannel(on_change=snapshots.append)
    channel.put(Request(C, 5))
    channel.put(Request(ORD, 6, Mode.RECENT))
    assert {r.type for r in snapshots[-1]} == {C, ORD}
    assert channel.remove(C) is not None
    assert [r.type for r in snapshots[-1]] == [ORD]

    again = PriorityChannel()
    again.restore(snapshots[-1] + [Request(C, 5, seq=99)])
    assert [r.type for r in again.pending()] == [ORD, C]
    assert (await again.get()).mode is Mode.RECENT
