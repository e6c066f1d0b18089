"""The wall clock's default reading for the parts below the daemon: aware UTC.

The portal's parts take a ``now`` argument (tests pass their own clock);
this is what they read when none is given. The daemon's clock with waits
that notice the wall clock jumping is :mod:`archid.daemon.clock`.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The wall clock now, as an aware UTC datetime."""
    return datetime.now(UTC)
