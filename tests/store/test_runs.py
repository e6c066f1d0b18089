"""sync_runs: every attempt recorded; failed applies leave only their row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from archid.exports.layout import BadCell
from archid.records import ExportType, Record
from archid.store import (
    Database,
    RunMeta,
    apply_sync,
    list_runs,
    record_failed_run,
    warnings_summary,
)
from archid.store.apply import _Run
from tests.store.conftest import snapshot
from tests.store.synthetic import Table, many

C = ExportType.CUSTOMERS


def test_an_ok_run_is_recorded_with_its_meta(db: Database) -> None:
    records = many(C, 25)
    meta = RunMeta(
        started_at=datetime(2026, 3, 20, 8, 0, tzinfo=UTC),
        bytes=123456,
        pages=40,
        dropped=2,
        stage_seconds={"download": 3.5, "parse": 1.25},
    )
    result = apply_sync(db, C, records, trigger="manual", meta=meta)
    [run] = list_runs(db)
    assert run["id"] == result.run_id
    assert (run["type"], run["mode"], run["trigger"], run["outcome"]) == (
        "customers",
        "full",
        "manual",
        "ok",
    )
    assert run["started_at"] == "2026-03-20T08:00:00.000Z"
    assert run["ended_at"].endswith("Z") and run["ended_at"] > run["started_at"]
    assert (run["parsed"], run["inserted"], run["dropped"]) == (25, 25, 2)
    assert (run["bytes"], run["pages"]) == (123456, 40)
    assert run["stage_seconds"]["download"] == 3.5
    assert run["stage_seconds"]["apply"] >= 0
    assert run["error_class"] is None
    assert run["warnings"] is None  # the parse reported nothing


def test_a_failure_before_the_apply_is_recorded(db: Database) -> None:
    result = record_failed_run(
        db,
        ExportType.DDT,
        "full",
        "schedule",
        error_class="ExportFailed",
        message="Requested objects cannot be loaded",
        stage="download",
        meta=RunMeta(stage_seconds={"login": 2.0}),
    )
    [run] = list_runs(db, ExportType.DDT)
    assert run["id"] == result.run_id
    assert (run["outcome"], run["error_stage"], run["error_class"]) == (
        "failed",
        "download",
        "ExportFailed",
    )
    assert run["error_message"] == "Requested objects cannot be loaded"
    assert list_runs(db, C) == []


def test_a_failing_apply_leaves_only_a_failed_run(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = Table(C, 60)
    apply_sync(db, C, table.records())
    before = snapshot(db)
    table.mutate(3, 20)

    def broken(self: _Run) -> tuple[int | None, int | None]:
        raise OSError("disk full")

    monkeypatch.setattr(_Run, "_feed", broken)  # fails after the rows were written
    with pytest.raises(OSError, match="disk full"):
        apply_sync(db, C, table.records())
    assert snapshot(db) == before
    runs = list_runs(db)
    assert [r["outcome"] for r in runs] == ["failed", "ok"]
    assert (runs[0]["error_class"], runs[0]["error_stage"]) == ("OSError", "apply")
    monkeypatch.undo()
    assert apply_sync(db, C, table.records()).counts.changed > 0


def test_a_parser_error_writes_nothing(db: Database) -> None:
    def parse() -> Iterator[Record]:
        yield from many(C, 3)
        raise ValueError("page 4: bad cell")

    with pytest.raises(ValueError, match="bad cell"):
        apply_sync(db, C, parse())
    assert list_runs(db) == []
    assert db.live_count(C) == 0


def test_the_parse_warnings_and_bad_cells_are_stored(db: Database) -> None:
    cells = [
        BadCell("APPLICA SCONTO %:", "discount_percent", 6, row, f"0,0{row}x %", "not a percentage")
        for row in (2, 9)
    ]
    meta = RunMeta(
        warnings=["unknown column ignored: COLONNA NUOVA (page 7)"],
        bad_cells=cells,
        bad_cell_count=140,  # more than the parser keeps
    )
    apply_sync(db, ExportType.ORDERS, many(ExportType.ORDERS, 5), meta=meta)
    [run] = list_runs(db)
    assert run["warnings"] == {
        "messages": ["unknown column ignored: COLONNA NUOVA (page 7)"],
        "bad_cells": [
            {
                "column": "APPLICA SCONTO %:",
                "field": "discount_percent",
                "page": 6,
                "row": row,
                "text": f"0,0{row}x %",
                "reason": "not a percentage",
            }
            for row in (2, 9)
        ],
        "bad_cell_count": 140,
    }
    # Stored as JSON text, readable by any SQL client.
    [(text,)] = db.connection.execute("SELECT warnings FROM sync_runs").fetchall()
    assert '"bad_cell_count": 140' in text


def test_a_failed_run_keeps_the_warnings_of_its_parse(db: Database) -> None:
    record_failed_run(
        db,
        ExportType.INVOICES,
        "full",
        "schedule",
        error_class="LayoutChanged",
        message="required column missing: ID FATTURA",
        stage="parse",
        meta=RunMeta(warnings=["optional column absent: ID VENDITE"]),
    )
    [run] = list_runs(db)
    assert run["warnings"] == {
        "messages": ["optional column absent: ID VENDITE"],
        "bad_cells": [],
        "bad_cell_count": 0,
    }


def test_the_log_line_names_a_few_cells_and_counts_the_rest() -> None:
    assert warnings_summary(ExportType.ORDERS, RunMeta()) is None
    cells = [
        BadCell("APPLICA SCONTO %:", "discount_percent", 6, 2, "0,0x %", "not a percentage"),
        BadCell("APPLICA SCONTO %:", "discount_percent", 6, 5, "abc", "not a percentage"),
        BadCell("CHIUSO", "closed_on", 3, 1, "ieri", "not a date"),
        BadCell("CHIUSO", "closed_on", 3, 4, "domani", "not a date"),
    ]
    one = RunMeta(bad_cells=cells[:1], bad_cell_count=1)
    assert warnings_summary(ExportType.ORDERS, one) == (
        "orders export: 1 unreadable cell kept its stored value:"
        " APPLICA SCONTO %: page 6 row 2 '0,0x %'"
    )
    many_ = RunMeta(
        warnings=[f"unknown column ignored: COLONNA {n}" for n in range(5)],
        bad_cells=cells,
        bad_cell_count=143,
    )
    assert warnings_summary(ExportType.INVOICES, many_) == (
        "invoices export: 143 unreadable cells kept their stored values:"
        " APPLICA SCONTO %: page 6 row 2 '0,0x %', page 6 row 5 'abc'; CHIUSO: page 3 row 1"
        " 'ieri' and 140 more; 5 warnings: unknown column ignored: COLONNA 0; unknown column"
        " ignored: COLONNA 1; unknown column ignored: COLONNA 2 and 2 more"
    )
