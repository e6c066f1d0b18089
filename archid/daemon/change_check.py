"""Whether a scheduled full export can be skipped: the list looks as it did.

Before a scheduled full export of a list with modification times (every
type but customers), the portal client surveys the list's grid: its newest
``MODIFIEDDATETIME`` and its row count under the export's filter
(:class:`~archid.portal.grid.ListSurvey`). The store keeps the survey taken
at the start of the last full export that was applied
(:class:`~archid.store.ListMark`). If both figures are the same, nothing was
added, changed or deleted since that export started, and the sync ends as
``unchanged`` without asking the portal for a PDF.

Anything in doubt means a full export: no mark yet, a figure that could not
be read (now or then), a portal clock more than :data:`CLOCK_AHEAD_LIMIT`
ahead of ours (a modification "in the future" says nothing reliable), or
the last full export older than ``[schedule.<type>] max_unchanged_age``,
or stored rows waiting for a second full export to confirm their deletion
(a record absent once is deleted only when the next full export lacks it
too). A change made while an export ran is newer
than that export's mark, so the next check catches it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from archid.portal.grid import ListSurvey
from archid.records import ExportType
from archid.store import ListMark

#: the lists whose grid has a modification time (spec v3: all but customers)
CHECKED_TYPES: Final = frozenset(ExportType) - {ExportType.CUSTOMERS}
#: a newest modification further ahead of our clock than this is in doubt
CLOCK_AHEAD_LIMIT: Final = timedelta(seconds=30)


def export_reason(
    survey: ListSurvey, mark: ListMark | None, *, max_age: float, now: datetime
) -> str | None:
    """Why the list must be exported, or ``None`` if it is as at the last full export.

    ``now`` is this machine's clock (aware); ``max_age`` seconds is the
    type's ``max_unchanged_age``.
    """
    if mark is None:
        return "no full export of it is recorded"
    if survey.newest_modified is None or survey.row_count is None:
        return "its newest modification or row count could not be read"
    if mark.newest_modified is None or mark.row_count is None:
        return "the survey of its last full export is incomplete"
    if mark.awaiting:
        return (
            f"{mark.awaiting} stored rows wait for a second full export (to confirm their deletion)"
        )
    if survey.newest_modified > survey.read_at + CLOCK_AHEAD_LIMIT:
        ahead = (survey.newest_modified - survey.read_at).total_seconds()
        return f"the portal's clock is {ahead:.0f} s ahead of ours"
    age = (now - mark.export_started_at).total_seconds()
    if age > max_age:
        return f"its last full export is {_hours(age)} old (max_unchanged_age {_hours(max_age)})"
    if survey.newest_modified != mark.newest_modified:
        return (
            f"modified at {survey.newest_modified:%Y-%m-%d %H:%M:%S}"
            f" (last export saw {mark.newest_modified:%Y-%m-%d %H:%M:%S})"
        )
    if survey.row_count != mark.row_count:
        return f"{survey.row_count} rows (last export saw {mark.row_count})"
    return None


def mark_of(survey: ListSurvey | None) -> ListMark | None:
    """The mark an export that began with ``survey`` leaves once applied."""
    if survey is None:
        return None
    return ListMark(
        newest_modified=survey.newest_modified,
        row_count=survey.row_count,
        export_started_at=survey.read_at,
    )


def _hours(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
