"""The daemon's one clock: wall time read when asked, waits that notice it jumping.

Schedules need wall time (quiet hours are "00:00 in Rome", last runs are
persisted as UTC), while waiting must go through trio so that tests can
run hours in milliseconds under ``MockClock``. The wall clock is read, not
derived: an NTP step or a suspended laptop moves it without trio's
monotonic clock following, so a wait for a wall time never sleeps more
than :data:`RECHECK` seconds at once before reading the wall clock again.

``main`` makes one :class:`WallClock` and hands it down: the scheduler,
the worker, the health and the store (``now_datetime`` is the store's
``Clock``) read the same time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

import trio

#: the longest a wait trusts the wall clock not to have jumped (seconds of trio time)
RECHECK: Final = 60.0


class WallClock:
    """UTC wall time (Unix seconds) and waits for wall times.

    ``wall`` reads the wall clock (``time.time`` by default; tests pass one
    that jumps). ``anchor`` instead makes a clock that starts at ``anchor``
    and moves exactly as ``trio.current_time()`` does, for ``MockClock``
    tests and simulations; it must be created inside ``trio.run``.
    """

    def __init__(self, anchor: float | None = None, *, wall: Callable[[], float] | None = None):
        if anchor is not None and wall is not None:
            raise ValueError("give a wall clock or an anchor, not both")
        if anchor is not None:
            wall = _following_trio(anchor)
        self._wall = wall or time.time

    def now(self) -> float:
        """Unix seconds now."""
        return self._wall()

    def now_datetime(self) -> datetime:
        """Now as an aware UTC datetime (a :data:`archid.store.Clock`)."""
        return datetime.fromtimestamp(self.now(), UTC)

    def seconds_until(self, wall: float) -> float:
        """Seconds of trio time to wait before looking whether it is ``wall``:
        the distance, at most :data:`RECHECK`, never negative."""
        return max(0.0, min(wall - self.now(), RECHECK))

    async def sleep_until(self, wall: float) -> None:
        """Sleep until the wall clock reads ``wall`` (at once if it already has),
        following any step the wall clock takes meanwhile within :data:`RECHECK`."""
        while (left := self.seconds_until(wall)) > 0:
            await trio.sleep(left)


def _following_trio(anchor: float) -> Callable[[], float]:
    start = trio.current_time()
    return lambda: anchor + (trio.current_time() - start)
