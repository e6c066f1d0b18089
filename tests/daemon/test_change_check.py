"""The change check's judgement: skipped only when nothing is in doubt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from archid.daemon.change_check import CHECKED_TYPES, export_reason, mark_of
from archid.portal.grid import ListSurvey
from archid.records import ExportType
from archid.store import ListMark

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
NEWEST = NOW - timedelta(minutes=20)
EXPORTED = NOW - timedelta(hours=1)
SIX_HOURS = 6 * 3600.0
MARK = ListMark(NEWEST, 1144, EXPORTED)


def survey(newest: datetime | None = NEWEST, rows: int | None = 1144) -> ListSurvey:
    return ListSurvey(ExportType.DDT, newest, rows, read_at=NOW)


def test_the_same_newest_change_and_row_count_skip_the_export() -> None:
    assert export_reason(survey(), MARK, max_age=SIX_HOURS, now=NOW) is None


@pytest.mark.parametrize(
    ("case", "seen", "mark", "words"),
    [
        ("no full export yet", survey(), None, "no full export"),
        ("newest unreadable", survey(newest=None), MARK, "could not be read"),
        ("row count unreadable", survey(rows=None), MARK, "could not be read"),
        ("mark without newest", survey(), ListMark(None, 1144, EXPORTED), "incomplete"),
        ("mark without count", survey(), ListMark(NEWEST, None, EXPORTED), "incomplete"),
        (
            "portal clock ahead",
            survey(newest=NOW + timedelta(seconds=31)),
            ListMark(NOW + timedelta(seconds=31), 1144, EXPORTED),
            "clock is 31 s ahead",
        ),
        ("a change", survey(newest=NEWEST + timedelta(seconds=1)), MARK, "modified at"),
        ("the newest record deleted", survey(newest=NEWEST - timedelta(hours=2)), MARK, "modified"),
        ("a deletion", survey(rows=1143), MARK, "1143 rows (last export saw 1144)"),
        ("an insertion", survey(rows=1145), MARK, "1145 rows"),
        ("too old", survey(), ListMark(NEWEST, 1144, NOW - timedelta(hours=7)), "7.0 h old"),
        (
            "a deletion to confirm",
            survey(),
            ListMark(NEWEST, 1144, EXPORTED, awaiting=2),
            "2 stored rows wait for a second full export",
        ),
    ],
)
def test_anything_in_doubt_means_a_full_export(
    case: str, seen: ListSurvey, mark: ListMark | None, words: str
) -> None:
    reason = export_reason(seen, mark, max_age=SIX_HOURS, now=NOW)
    assert reason is not None and words in reason, case


def test_a_portal_clock_up_to_30_s_ahead_is_no_doubt() -> None:
    ahead = NOW + timedelta(seconds=30)
    mark = ListMark(ahead, 1144, EXPORTED)
    assert export_reason(survey(newest=ahead), mark, max_age=SIX_HOURS, now=NOW) is None


def test_an_export_leaves_the_survey_it_began_with_as_its_mark() -> None:
    assert mark_of(survey()) == ListMark(NEWEST, 1144, NOW)
    assert mark_of(None) is None


def test_every_list_but_customers_is_checked() -> None:
    assert set(ExportType) - {ExportType.CUSTOMERS} == CHECKED_TYPES
