"""The worker, breaker and health under MockClock: retries, dead letters, timeouts."""

from __future__ import annotations

import dataclasses
import random

import pytest
import trio
import trio.testing

from archid.config import RetryConfig
from archid.daemon.breaker import BreakerState, CircuitBreaker
from archid.daemon.queue import Request
from archid.daemon.worker import SyncResult, backoff
from archid.exports.errors import LayoutChanged
from archid.portal.errors import PortalUnavailable, Stage
from archid.records import ExportType
from archid.store.errors import DatabaseBusy, DiskFull
from tests.daemon.helpers import NO_JITTER, Harness, run_with

ORDERS, CUSTOMERS = ExportType.ORDERS, ExportType.CUSTOMERS


def kinds(harness: Harness) -> list[str]:
    return [str(e.kind) for e in harness.events]


async def test_transient_failures_are_retried_with_exponential_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def flaky(request: Request, attempt: int) -> SyncResult:
        if attempt < 3:
            raise PortalUnavailable("HTTP 503", Stage.PAGE_LOAD)
        return SyncResult(changed=True)

    harness = await run_with(flaky, [Request(ORDERS, 6)])
    assert [round(at, 3) for _, _, at in harness.calls] == [0.0, 5.0, 15.0]
    assert kinds(harness) == [
        "started", "failed", "retrying", "started", "failed", "retrying", "started", "finished",
    ]  # fmt: skip
    assert harness.letters == []
    assert harness.health.of(ORDERS).last_success is not None


async def test_by_default_three_retries_after_5_10_and_20_seconds(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def down(request: Request, attempt: int) -> SyncResult:
        raise PortalUnavailable("HTTP 503", Stage.PAGE_LOAD)

    defaults = dataclasses.replace(RetryConfig(), jitter=0.0)
    harness = await run_with(down, [Request(ORDERS, 6)], retry=defaults, threshold=10)
    assert [round(at, 3) for _, _, at in harness.calls] == [0.0, 5.0, 15.0, 35.0]
    [letter] = harness.letters
    assert [a.number for a in letter.attempts] == [1, 2, 3, 4]


def test_backoff_doubles_up_to_the_cap_with_bounded_jitter() -> None:
    retry = RetryConfig(retries=7, base_delay=5.0, max_delay=30.0, jitter=0.1)
    rng = random.Random(3)
    delays = [backoff(retry, n, rng) for n in range(1, 6)]
    for delay, nominal in zip(delays, (5, 10, 20, 30, 30), strict=True):
        assert nominal * 0.9 <= delay <= nominal * 1.1
    assert len({round(d, 6) for d in delays}) == 5


async def test_permanent_errors_are_not_retried_and_go_to_dead_letters(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def changed_layout(request: Request, attempt: int) -> SyncResult:
        raise LayoutChanged("header NOME missing")

    harness = await run_with(changed_layout, [Request(CUSTOMERS, 5)])
    assert len(harness.calls) == 1
    [letter] = harness.letters
    assert (letter.error, letter.message) == ("LayoutChanged", "header NOME missing")
    assert len(letter.attempts) == 1 and not letter.attempts[0].transient


async def test_exhausted_retries_keep_the_attempt_history(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def down(request: Request, attempt: int) -> SyncResult:
        raise PortalUnavailable("maintenance", Stage.LOGIN)

    harness = await run_with(down, [Request(ORDERS, 6)])
    [letter] = harness.letters
    assert [a.number for a in letter.attempts] == [1, 2, 3]
    assert letter.stage == "login"
    # Health counts attempts, as sync_runs does.
    assert harness.health.of(ORDERS).consecutive_failures == 3


async def test_a_sync_over_its_timeout_is_cut_off_and_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def slow_once(request: Request, attempt: int) -> SyncResult:
        if attempt == 1:
            await trio.sleep(10_000)
        return SyncResult(changed=False)

    harness = await run_with(slow_once, [Request(ORDERS, 6)], timeout=60.0)
    assert [round(at) for _, _, at in harness.calls] == [0, 65]
    assert harness.events[1].data["error"] == "SyncTimeout"
    assert kinds(harness)[-1] == "finished"


async def test_a_bug_in_a_sync_does_not_stop_the_worker(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def buggy(request: Request, attempt: int) -> SyncResult:
        if request.type is ORDERS:
            raise ZeroDivisionError("oops")
        return SyncResult(changed=True)

    harness = await run_with(buggy, [Request(ORDERS, 6), Request(CUSTOMERS, 5)])
    assert [letter.error for letter in harness.letters] == ["ZeroDivisionError"]
    assert [t for t, _, _ in harness.calls] == [ORDERS, CUSTOMERS]
    assert kinds(harness)[-1] == "finished"


async def test_three_failures_in_a_row_raise_an_alert(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def broken(request: Request, attempt: int) -> SyncResult:
        raise LayoutChanged("changed")

    async def resubmit(harness: Harness) -> None:
        for _ in range(2):
            await trio.sleep(1)
            harness.channel.put(Request(ORDERS, 6))

    harness = await run_with(broken, [Request(ORDERS, 6)], during=resubmit)
    assert kinds(harness).count("alert") == 1
    assert not harness.health.is_healthy(ORDERS, 600.0, 1_780_000_010.0)


async def test_cancel_drops_the_running_sync(autojump_clock: trio.testing.MockClock) -> None:
    async def long(request: Request, attempt: int) -> SyncResult:
        await trio.sleep(500)
        return SyncResult(changed=True)

    async def cancel(harness: Harness) -> None:
        await trio.sleep(10)
        assert harness.worker.cancel_current() is not None

    harness = await run_with(long, [Request(ORDERS, 6)], during=cancel)
    assert harness.events[-1].message == "cancelled"
    assert harness.letters == [] and harness.worker.current is None


async def test_breaker_opens_probes_lets_one_through_and_closes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    portal_up_at = 1000.0
    outcomes: list[str] = []

    async def probe() -> bool:
        return trio.current_time() >= portal_up_at

    async def sync(request: Request, attempt: int) -> SyncResult:
        if trio.current_time() < portal_up_at:
            outcomes.append("down")
            raise PortalUnavailable("unreachable", Stage.PAGE_LOAD)
        outcomes.append("up")
        return SyncResult(changed=True)

    harness = await run_with(
        sync,
        [Request(ORDERS, 6), Request(CUSTOMERS, 5)],
        threshold=2,
        probe=probe,
        until=2000.0,
    )
    # Two failures open the breaker; nothing runs until the probe succeeds
    # at the first 300 s tick after 1000 s; then one trial, then the rest.
    assert outcomes == ["down", "down", "up", "up"]
    assert harness.states == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]
    assert harness.breaker.state is BreakerState.CLOSED
    assert [round(at) for _, _, at in harness.calls][2] == 1205
    assert harness.letters == []


def test_breaker_rejects_a_zero_threshold() -> None:
    async def probe() -> bool:
        return True

    with pytest.raises(ValueError):
        CircuitBreaker(probe, threshold=0)


async def test_a_busy_or_full_database_is_retried_not_dead_lettered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def busy_then_full(request: Request, attempt: int) -> SyncResult:
        if attempt == 1:
            raise DatabaseBusy("database busy while applying the orders export")
        if attempt == 2:
            raise DiskFull("disk full while applying the orders export")
        return SyncResult(changed=True)

    harness = await run_with(busy_then_full, [Request(ORDERS, 6)])
    assert [a for _, a, _ in harness.calls] == [1, 2, 3]
    failed = [e.data["error"] for e in harness.events if str(e.kind) == "failed"]
    assert failed == ["DatabaseBusy", "DiskFull"]
    assert harness.letters == [] and kinds(harness)[-1] == "finished"


async def test_five_full_disks_in_a_row_leave_the_portal_breaker_closed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Transient, retried, but not the portal's fault: probing the portal
    # (which answered every export) would not help.
    async def full(request: Request, attempt: int) -> SyncResult:
        raise DiskFull("disk full while applying the export")

    harness = await run_with(
        full, [Request(ORDERS, 6), Request(CUSTOMERS, 5)], retry=NO_JITTER, threshold=5
    )
    assert len(harness.calls) == 6  # two requests, three attempts each
    assert harness.breaker.state is BreakerState.CLOSED and harness.states == []
    assert harness.breaker.failures == 0
    assert len(harness.letters) == 2


async def test_five_portal_failures_in_a_row_open_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def down(request: Request, attempt: int) -> SyncResult:
        raise PortalUnavailable("unreachable", Stage.PAGE_LOAD)

    harness = await run_with(
        down, [Request(ORDERS, 6), Request(CUSTOMERS, 5)], retry=NO_JITTER, threshold=5
    )
    assert harness.states[:1] == [BreakerState.OPEN]
    assert len(harness.calls) == 5
