"""The kinds of the daemon's events, as the event stream names them on the wire.

Apart from :mod:`archid.daemon.events` (which needs trio) so that a reader
of the stream, such as ``archid ctl``, can name them without loading the
daemon.
"""

from __future__ import annotations

import enum


class EventKind(enum.StrEnum):
    """What an :class:`~archid.daemon.events.Event` says happened."""

    QUEUED = "queued"
    STARTED = "started"
    STAGE = "stage"
    PROGRESS = "progress"
    FINISHED = "finished"
    FAILED = "failed"
    PREEMPTED = "preempted"
    RETRYING = "retrying"
    DEAD_LETTER = "dead_letter"
    BREAKER = "breaker"
    ALERT = "alert"
    PAUSED = "paused"
    HOLD = "hold"
