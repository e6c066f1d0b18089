"""Wall-clock time derived from trio's clock.

Schedules need wall time (quiet hours are "00:00 in Rome", last runs are
persisted as UTC), while waiting must go through trio so that tests can
run hours in milliseconds under ``MockClock``. :class:`WallClock` ties the
two together: wall time advances exactly as trio's clock does from an
anchor taken at start-up.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import trio


class WallClock:
    """UTC wall time that moves with ``trio.current_time()``.

    Create it inside ``trio.run``. ``anchor`` is the wall time (Unix
    seconds) that corresponds to "now" at creation; tests pass a fixed one.
    """

    def __init__(self, anchor: float | None = None) -> None:
        self._wall0 = time.time() if anchor is None else anchor
        self._trio0 = trio.current_time()

    def now(self) -> float:
        """Unix seconds now."""
        return self._wall0 + (trio.current_time() - self._trio0)

    def now_datetime(self) -> datetime:
        """Now as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), UTC)

    def to_trio(self, wall: float) -> float:
        """The trio clock reading at which it will be ``wall``."""
        return self._trio0 + (wall - self._wall0)

    async def sleep_until(self, wall: float) -> None:
        """Sleep until the wall clock reads ``wall`` (at once if it already has)."""
        await trio.sleep_until(self.to_trio(wall))
