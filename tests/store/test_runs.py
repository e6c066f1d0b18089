"""sync_runs: every attempt recorded; failed applies leave only their row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from archid.records import ExportType, Record
from archid.sim.dataset import Dataset
from archid.store import Database, RunMeta, apply_sync, list_runs, record_failed_run
from archid.store.apply import _Run
from tests.store.conftest import snapshot

C = ExportType.CUSTOMERS


def test_an_ok_run_is_recorded_with_its_meta(db: Database, dataset: Dataset) -> None:
    meta = RunMeta(
        started_at=datetime(2026, 3, 20, 8, 0, tzinfo=UTC),
        bytes=123456,
        pages=40,
        dropped=2,
        stage_seconds={"download": 3.5, "parse": 1.25},
    )
    result = apply_sync(db, C, dataset.records(C), trigger="manual", meta=meta)
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
    assert (run["parsed"], run["inserted"], run["dropped"]) == (dataset.count(C),) * 2 + (2,)
    assert (run["bytes"], run["pages"]) == (123456, 40)
    assert run["stage_seconds"]["download"] == 3.5
    assert run["stage_seconds"]["apply"] >= 0
    assert run["error_class"] is None


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
    db: Database, dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_sync(db, C, dataset.records(C))
    before = snapshot(db)
    dataset.mutate(C, 3, 20)

    def broken(self: _Run) -> tuple[int | None, int | None]:
        raise OSError("disk full")

    monkeypatch.setattr(_Run, "_feed", broken)  # fails after the rows were written
    with pytest.raises(OSError, match="disk full"):
        apply_sync(db, C, dataset.records(C))
    assert snapshot(db) == before
    runs = list_runs(db)
    assert [r["outcome"] for r in runs] == ["failed", "ok"]
    assert (runs[0]["error_class"], runs[0]["error_stage"]) == ("OSError", "apply")
    monkeypatch.undo()
    assert apply_sync(db, C, dataset.records(C)).counts.changed > 0


def test_a_parser_error_writes_nothing(db: Database, dataset: Dataset) -> None:
    def parse() -> Iterator[Record]:
        yield from dataset.records(C)[:3]
        raise ValueError("page 4: bad cell")

    with pytest.raises(ValueError, match="bad cell"):
        apply_sync(db, C, parse())
    assert list_runs(db) == []
    assert db.live_count(C) == 0
