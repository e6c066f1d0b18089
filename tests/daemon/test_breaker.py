"""Every outcome of the breaker's half-open trial leads to a defined state (MockClock).

The portal is down until 1,000 s: two transient failures open the breaker
(threshold 2), the probe answers at the first 300 s tick after that (1,200 s)
and the trial sync starts at about 1,205 s. Each test makes that trial end
in one way and checks where the breaker goes and that syncs go on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio
import trio.testing

from archid.daemon.breaker import BreakerState, CircuitBreaker
from archid.daemon.queue import Request
from archid.daemon.worker import SyncResult
from archid.exports.errors import LayoutChanged
from archid.portal.errors import PortalUnavailable, Stage
from archid.records import ExportType
from tests.daemon.helpers import Harness, run_with

ORDERS, CUSTOMERS = ExportType.ORDERS, ExportType.CUSTOMERS
PORTAL_UP_AT = 1000.0


async def probe() -> bool:
    return trio.current_time() >= PORTAL_UP_AT


def portal(trial: Callable[[], Awaitable[SyncResult]]) -> Callable[..., Awaitable[SyncResult]]:
    """A sync that fails while the portal is down, runs ``trial`` once, then succeeds."""
    tried = False

    async def sync(request: Request, attempt: int) -> SyncResult:
        nonlocal tried
        if trio.current_time() < PORTAL_UP_AT:
            raise PortalUnavailable("unreachable", Stage.PAGE_LOAD)
        if not tried:
            tried = True
            return await trial()
        return SyncResult(changed=True)

    return sync


async def breaker_run(
    trial: Callable[[], Awaitable[SyncResult]],
    *,
    timeout: float = 900.0,
    during: Callable[[Harness], Awaitable[None]] | None = None,
    until: float = 5000.0,
) -> Harness:
    return await run_with(
        portal(trial),
        [Request(ORDERS, 6), Request(CUSTOMERS, 5)],
        threshold=2,
        probe=probe,
        timeout=timeout,
        until=until,
        during=during,
    )


def finished(harness: Harness) -> list[ExportType]:
    return [e.type for e in harness.events if str(e.kind) == "finished" and e.type is not None]


async def test_a_successful_trial_closes(autojump_clock: trio.testing.MockClock) -> None:
    async def ok() -> SyncResult:
        return SyncResult(changed=True)

    harness = await breaker_run(ok)
    assert harness.states == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]
    assert sorted(finished(harness)) == sorted([ORDERS, CUSTOMERS])


async def test_a_transient_trial_failure_opens_again_and_probing_resumes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def down_again() -> SyncResult:
        raise PortalUnavailable("unreachable again", Stage.PAGE_LOAD)

    harness = await breaker_run(down_again)
    # open, trial, open again, next probe, trial that works, closed
    assert harness.states == [
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.CLOSED,
    ]
    assert harness.breaker.state is BreakerState.CLOSED
    assert sorted(finished(harness)) == sorted([ORDERS, CUSTOMERS])


async def test_a_permanent_trial_failure_closes(autojump_clock: trio.testing.MockClock) -> None:
    async def layout_changed() -> SyncResult:
        raise LayoutChanged("a column is missing")

    harness = await breaker_run(layout_changed)
    assert harness.states == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]
    assert harness.breaker.allows()
    # the failed request is a dead letter; the other type syncs
    assert [letter.error for letter in harness.letters] == ["LayoutChanged"]
    assert len(finished(harness)) == 1


async def test_a_timed_out_trial_opens_again(autojump_clock: trio.testing.MockClock) -> None:
    async def hang() -> SyncResult:
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    harness = await breaker_run(hang, timeout=60.0)
    assert harness.states[:3] == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.OPEN]
    assert harness.breaker.state is BreakerState.CLOSED
    assert sorted(finished(harness)) == sorted([ORDERS, CUSTOMERS])


async def test_a_cancelled_trial_leaves_the_trial_available(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def slow() -> SyncResult:
        await trio.sleep(600)
        return SyncResult(changed=True)

    async def cancel_the_trial(harness: Harness) -> None:
        while harness.breaker.state is not BreakerState.HALF_OPEN or harness.worker.current is None:
            await trio.sleep(1)
        await trio.sleep(10)
        assert harness.worker.cancel_current() is not None

    harness = await breaker_run(slow, during=cancel_the_trial)
    assert harness.states[:2] == [BreakerState.OPEN, BreakerState.HALF_OPEN]
    # the next request became the trial, and its success closed the breaker
    assert harness.breaker.state is BreakerState.CLOSED
    assert len(finished(harness)) == 1


async def test_a_probe_that_raises_is_a_failed_probe(
    autojump_clock: trio.testing.MockClock,
) -> None:
    calls = 0

    async def broken_then_up() -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("no route to host")
        return True

    breaker = CircuitBreaker(broken_then_up, threshold=1, probe_interval=300.0)
    with trio.move_on_after(1000):
        async with trio.open_nursery() as nursery:
            await nursery.start(breaker.run)
            breaker.failed(portal_fault=True)
            assert breaker.state is BreakerState.OPEN
            await trio.sleep(301)
            assert breaker.state is BreakerState.OPEN  # the raising probe changed nothing
            await trio.sleep(300)
            assert breaker.state is not BreakerState.OPEN, "the next probe reopened the way"
            assert breaker.allows()
            nursery.cancel_scope.cancel()
    assert calls == 2
