"""``list_marks``: a mark exists exactly when its full export's data is applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from archid.records import ExportType
from archid.store import (
    Database,
    ListMark,
    apply_sync,
    clear_mark,
    list_runs,
    read_mark,
    record_run,
)
from archid.store.runs import RECORDED_OUTCOMES
from tests.store.conftest import snapshot
from tests.store.synthetic import Table

C = ExportType.CUSTOMERS
P = ExportType.PRODUCTS
ROME = timezone(timedelta(hours=1))


def a_mark(rows: int, minute: int = 0) -> ListMark:
    return ListMark(
        newest_modified=datetime(2026, 3, 20, 7, minute, 30, 250_000, tzinfo=UTC),
        row_count=rows,
        export_started_at=datetime(2026, 3, 20, 8, minute, tzinfo=UTC),
    )


def stored_marks(db: Database) -> list[tuple[object, ...]]:
    return [tuple(row) for row in db.connection.execute("SELECT * FROM list_marks ORDER BY type")]


def test_an_ok_full_apply_writes_its_mark(db: Database) -> None:
    table = Table(C, 40)
    assert read_mark(db, C) is None
    result = apply_sync(db, C, table.records(), mark=a_mark(40))
    assert result.outcome == "ok"
    assert read_mark(db, C) == a_mark(40)
    assert read_mark(db, P) is None
    assert stored_marks(db) == [
        (
            "customers",
            "2026-03-20T07:00:30.250Z",
            40,
            "2026-03-20T08:00:00.000Z",
            result.run_id,
        )
    ]
    # The next one replaces it.
    table.mutate(1, 5)
    again = apply_sync(db, C, table.records(), mark=a_mark(41, minute=30))
    assert read_mark(db, C) == a_mark(41, minute=30)
    assert [row[-1] for row in stored_marks(db)] == [again.run_id]


def test_a_mark_is_stored_in_utc_to_the_millisecond(db: Database) -> None:
    mark = ListMark(
        newest_modified=datetime(2026, 3, 20, 9, 15, 0, 123_456, tzinfo=ROME),
        row_count=None,
        export_started_at=datetime(2026, 3, 20, 10, 0, tzinfo=ROME),
    )
    apply_sync(db, C, Table(C, 5).records(), mark=mark)
    assert read_mark(db, C) == ListMark(
        newest_modified=datetime(2026, 3, 20, 8, 15, 0, 123_000, tzinfo=UTC),
        row_count=None,
        export_started_at=datetime(2026, 3, 20, 9, 0, tzinfo=UTC),
    )
    unknown = ListMark(None, None, datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    apply_sync(db, C, Table(C, 5).records(), mark=unknown)
    found = read_mark(db, C)
    assert found == unknown and found is not None and found.export_started_at.tzinfo is not None


def test_a_rejected_apply_writes_no_mark_and_keeps_the_last(db: Database) -> None:
    table = Table(C, 40)
    assert apply_sync(db, C, [], mark=a_mark(0)).outcome == "rejected"
    assert read_mark(db, C) is None
    apply_sync(db, C, table.records(), mark=a_mark(40))
    shrunk = apply_sync(db, C, table.records()[:5], mark=a_mark(5, minute=30))
    assert shrunk.outcome == "rejected"
    # Still the mark of the data held.
    assert read_mark(db, C) == a_mark(40)


def test_a_failing_commit_leaves_no_mark(db: Database) -> None:
    """The mark is in the apply's transaction: refused at the last moment,
    neither the rows nor the mark are there."""

    class Cut(Exception):
        pass

    table = Table(C, 40)
    marks_inside: list[ListMark | None] = []

    def refuse() -> None:
        marks_inside.append(read_mark(db, C))  # written, not yet committed
        raise Cut

    with pytest.raises(Cut):
        apply_sync(db, C, table.records(), mark=a_mark(40), before_commit=refuse)
    assert marks_inside == [a_mark(40)]
    assert read_mark(db, C) is None and db.live_count(C) == 0
    apply_sync(db, C, table.records(), mark=a_mark(40))
    before = snapshot(db)
    table.mutate(2, 6)
    marks_inside.clear()
    with pytest.raises(Cut):
        apply_sync(db, C, table.records(), mark=a_mark(42, minute=30), before_commit=refuse)
    assert marks_inside == [a_mark(42, minute=30)]
    assert snapshot(db) == before  # the rows and the mark as they were
    assert read_mark(db, C) == a_mark(40)
    assert [r["outcome"] for r in list_runs(db, C)] == ["failed", "ok", "failed"]


def test_an_ok_full_apply_without_a_mark_removes_the_old_one(db: Database) -> None:
    """The data held is then no longer the marked export's."""
    table = Table(C, 40)
    apply_sync(db, C, table.records(), mark=a_mark(40))
    apply_sync(db, P, Table(P, 10).records(), mark=a_mark(10))
    apply_sync(db, C, table.records())
    assert read_mark(db, C) is None
    assert read_mark(db, P) == a_mark(10)  # other types keep theirs


def test_a_recent_apply_takes_no_mark_and_leaves_the_full_ones(db: Database) -> None:
    table = Table(C, 40)
    apply_sync(db, C, table.records(), mark=a_mark(40))
    with pytest.raises(ValueError, match="describes a full export"):
        apply_sync(db, C, table.records()[:3], mode="recent", mark=a_mark(3))
    assert len(list_runs(db)) == 1
    table.mutate(3, 4)
    assert apply_sync(db, C, table.records()[:3], mode="recent").outcome == "ok"
    assert read_mark(db, C) == a_mark(40)


def test_runs_without_data_leave_the_mark(db: Database) -> None:
    apply_sync(db, C, Table(C, 10).records(), mark=a_mark(10))
    for outcome in RECORDED_OUTCOMES:
        record_run(db, C, "full", "schedule", outcome=outcome)
    assert read_mark(db, C) == a_mark(10)


def test_a_naive_or_impossible_mark_is_refused_before_anything_is_written(db: Database) -> None:
    naive = ListMark(datetime(2026, 3, 20, 7, 0), 10, datetime(2026, 3, 20, 8, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="no time zone"):
        apply_sync(db, C, Table(C, 10).records(), mark=naive)
    negative = ListMark(None, -1, datetime(2026, 3, 20, 8, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="cannot have -1 rows"):
        apply_sync(db, C, Table(C, 10).records(), mark=negative)
    assert list_runs(db) == [] and db.live_count(C) == 0


def test_clear_mark_forgets_one_type(db: Database) -> None:
    apply_sync(db, C, Table(C, 10).records(), mark=a_mark(10))
    apply_sync(db, P, Table(P, 10).records(), mark=a_mark(10))
    clear_mark(db, C)
    clear_mark(db, C)  # nothing to forget: fine
    assert (read_mark(db, C), read_mark(db, P)) == (None, a_mark(10))
    assert db.connection.getautocommit()


def test_a_mark_counts_the_rows_waiting_for_a_second_full_export(db: Database) -> None:
    table = Table(C, 40)
    apply_sync(db, C, table.records(), mark=a_mark(40))
    assert read_mark(db, C) == a_mark(40)
    gone = table.delete(table.records()[0].key)
    apply_sync(db, C, table.records(), mark=a_mark(39, 1))
    # Absent once: deleted only if the next full export lacks it too.
    mark = read_mark(db, C)
    assert mark is not None and mark.awaiting == 1
    apply_sync(db, C, table.records(), mark=a_mark(39, 2))
    mark = read_mark(db, C)
    assert mark is not None and mark.awaiting == 0
    assert gone.key not in {r.key for r in table.records()}
