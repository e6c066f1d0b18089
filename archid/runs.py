"""What a sync run is: its :class:`Mode`, its :class:`Trigger` and how it
ended, its :class:`Outcome` (set once by the worker). The daemon, the store
(``sync_runs.mode``, ``trigger``, ``outcome``: ``docs/database.md``), the
control socket and the metrics share these names.
"""

from __future__ import annotations

import enum


class Mode(enum.StrEnum):
    """A full export (may delete rows) or a recent one (inserts and updates only)."""

    FULL = "full"
    RECENT = "recent"


class Trigger(enum.StrEnum):
    """Who asked for a sync."""

    SCHEDULE = "schedule"
    MANUAL = "manual"
    SESSION = "session"


class Outcome(enum.StrEnum):
    """How one sync attempt ended."""

    #: its export was applied
    OK = "ok"
    #: a scheduled check found the list as at its last full export: nothing exported
    UNCHANGED = "unchanged"
    #: the store's guard refused the export (too few rows, too many deletions)
    REJECTED = "rejected"
    #: the portal, the parser or the store failed (the error's class says which)
    FAILED = "failed"
    #: an admin cancelled it, or archid stopped
    CANCELLED = "cancelled"
    #: a person's request took the portal; it was queued again and ran after
    PREEMPTED = "preempted"
    #: archid ended during it (killed, crashed, the machine stopped)
    INTERRUPTED = "interrupted"

    @property
    def succeeded(self) -> bool:
        """The mirror of its type is fresh after it (health counts it a success)."""
        return self in (Outcome.OK, Outcome.UNCHANGED)

    @property
    def attempted(self) -> bool:
        """It says something of the portal's and the store's health: not cut
        off by a person or a stop."""
        return self not in (Outcome.CANCELLED, Outcome.PREEMPTED)
