"""The change feed: gap-free, ordered, paged, consistent with the runs."""

from __future__ import annotations

import pytest

from archid.records import ExportType
from archid.store import Database, apply_sync, changes_since, latest_seq, list_runs
from tests.store.synthetic import Table


def test_the_feed_is_gap_free_ordered_and_matches_the_runs(db: Database) -> None:
    assert latest_seq(db) == 0
    tables = {export_type: Table(export_type, 50) for export_type in ExportType}
    for round_ in range(4):
        for export_type, table in tables.items():
            if round_:
                table.mutate(round_, 6)
            apply_sync(db, export_type, table.records())
    entries = changes_since(db, 0, 1_000_000)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert latest_seq(db) == len(entries)
    for run in list_runs(db, limit=100):
        mine = [e for e in entries if e.run_id == run["id"]]
        if not mine:
            assert run["first_seq"] is None
            continue
        assert (run["first_seq"], run["last_seq"]) == (mine[0].seq, mine[-1].seq)
        assert len(mine) == run["inserted"] + run["updated"] + run["deleted"] + run["restored"]
        assert {e.export_type.value for e in mine} == {run["type"]}


def test_paging_and_filtering(db: Database) -> None:
    apply_sync(db, ExportType.CUSTOMERS, Table(ExportType.CUSTOMERS, 30).records())
    apply_sync(db, ExportType.INVOICES, Table(ExportType.INVOICES, 30).records())
    everything = changes_since(db, 0, 1_000_000)
    pages = []
    seq = 0
    while page := changes_since(db, seq, 7):
        pages.extend(page)
        seq = page[-1].seq
    assert pages == everything
    invoices = changes_since(db, 0, 1_000_000, types=[ExportType.INVOICES])
    assert invoices == [e for e in everything if e.export_type is ExportType.INVOICES]
    assert changes_since(db, 0, 10, types=[]) == []
    with pytest.raises(ValueError, match="limit"):
        changes_since(db, 0, 0)


def test_a_rejected_run_adds_no_entries(db: Database) -> None:
    table = Table(ExportType.DDT, 40)
    apply_sync(db, ExportType.DDT, table.records())
    seq = latest_seq(db)
    result = apply_sync(db, ExportType.DDT, [])
    assert result.outcome == "rejected"
    assert latest_seq(db) == seq
    apply_sync(db, ExportType.DDT, table.records()[1:])
    table.mutate(9, 3)
    after = apply_sync(db, ExportType.DDT, table.records())
    assert after.first_seq == seq + 1  # no gap where the rejected run was
