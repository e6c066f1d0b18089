"""Every outcome a run can have, the runs that change no data
(:func:`record_run`), and who asked for a run (``requested_by``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import apsw
import pytest

from archid.records import ExportType
from archid.store import (
    OUTCOMES,
    Database,
    DatabaseBusy,
    Outcome,
    RunMeta,
    apply_sync,
    list_runs,
    open_database,
    record_failed_run,
    record_run,
)
from archid.store.runs import RECORDED_OUTCOMES
from archid.store.schema import RUN_COLUMNS
from tests.store.conftest import snapshot
from tests.store.synthetic import Table, many

C = ExportType.CUSTOMERS
P = ExportType.PRODUCTS


def test_the_outcome_type_and_the_list_agree() -> None:
    assert tuple(Outcome) == OUTCOMES
    assert OUTCOMES == (
        "ok",
        "unchanged",
        "rejected",
        "failed",
        "cancelled",
        "preempted",
        "interrupted",
    )
    assert set(RECORDED_OUTCOMES) == set(OUTCOMES) - {"ok", "rejected"}


@pytest.mark.parametrize("outcome", RECORDED_OUTCOMES)
def test_record_run_writes_one_row_and_nothing_else(db: Database, outcome: Outcome) -> None:
    apply_sync(db, C, many(C, 10))
    before = snapshot(db)
    meta = RunMeta(
        started_at=datetime(2026, 3, 20, 8, 0, tzinfo=UTC), stage_seconds={"survey": 0.75}
    )
    result = record_run(
        db,
        C,
        "full",
        "manual",
        outcome=outcome,
        message=f"the run was {outcome}",
        error_class="Cancelled" if outcome == "cancelled" else None,
        stage="download",
        meta=meta,
        requested_by="mrossi",
    )
    assert snapshot(db) == before  # no data, no feed, no mark
    assert (result.outcome, result.requested_by, result.reason) == (
        outcome,
        "mrossi",
        f"the run was {outcome}",
    )
    assert result.counts.changed == 0 and result.first_seq is None
    [run, _] = list_runs(db, C)
    assert list(run) == list(RUN_COLUMNS)
    assert run["id"] == result.run_id
    assert (run["outcome"], run["trigger"], run["requested_by"]) == (outcome, "manual", "mrossi")
    assert (run["error_stage"], run["error_message"]) == ("download", f"the run was {outcome}")
    assert run["error_class"] == ("Cancelled" if outcome == "cancelled" else None)
    assert run["started_at"] == "2026-03-20T08:00:00.000Z" == result.started_at
    assert run["stage_seconds"] == {"survey": 0.75}
    assert (run["first_seq"], run["last_seq"], run["inserted"]) == (None, None, 0)


def test_an_unchanged_run_needs_no_message(db: Database) -> None:
    result = record_run(db, P, "full", "schedule", outcome=Outcome.UNCHANGED)
    [run] = list_runs(db)
    assert run["id"] == result.run_id
    assert (run["outcome"], run["error_stage"], run["error_class"], run["error_message"]) == (
        "unchanged",
        None,
        None,
        None,
    )
    assert run["requested_by"] is None  # the schedule asked
    assert run["started_at"] == run["ended_at"]


@pytest.mark.parametrize("outcome", ["ok", "rejected", "skipped"])
def test_record_run_refuses_the_outcomes_of_an_apply(db: Database, outcome: str) -> None:
    with pytest.raises(ValueError, match="record_run records"):
        record_run(db, C, "full", "schedule", outcome=outcome)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode must be one of"):
        record_run(db, C, "partial", "schedule", outcome=Outcome.FAILED)  # type: ignore[arg-type]
    assert list_runs(db) == []


def test_record_failed_run_keeps_its_calls_and_takes_requested_by(db: Database) -> None:
    plain = record_failed_run(
        db, C, "full", "schedule", error_class="SyncTimeout", message="took 600 s", stage="download"
    )
    asked = record_failed_run(
        db,
        C,
        "recent",
        "session",
        error_class="PortalUnavailable",
        message="503",
        stage="login",
        requested_by="agente.bianchi",
    )
    assert (plain.outcome, asked.outcome) == ("failed", "failed")
    new, old = list_runs(db)
    assert (old["requested_by"], old["error_class"]) == (None, "SyncTimeout")
    assert (new["requested_by"], new["trigger"], new["mode"]) == (
        "agente.bianchi",
        "session",
        "recent",
    )
    assert new["id"] == asked.run_id


def test_record_run_on_a_busy_database_writes_nothing(db_path: Path) -> None:
    db = open_database(db_path, busy_timeout=0.05)
    other = apsw.Connection(str(db_path))
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(DatabaseBusy, match="recording a preempted customers run"):
            record_run(db, C, "full", "schedule", outcome=Outcome.PREEMPTED)
        other.execute("ROLLBACK")
        assert list_runs(db) == []
        assert db.connection.getautocommit()  # no transaction left open
    finally:
        other.close()
        db.close()


def test_apply_sync_stores_who_asked(db: Database) -> None:
    table = Table(C, 30)
    ok = apply_sync(db, C, table.records(), trigger="manual", requested_by="mrossi")
    assert (ok.outcome, ok.requested_by) == ("ok", "mrossi")
    rejected = apply_sync(db, C, [], trigger="manual", requested_by="mrossi")
    assert (rejected.outcome, rejected.requested_by) == ("rejected", "mrossi")
    recent = apply_sync(
        db, C, table.records()[:2], mode="recent", trigger="session", requested_by="agente.b"
    )
    scheduled = apply_sync(db, C, table.records())
    assert scheduled.requested_by is None
    runs = list_runs(db, C)
    assert [(r["id"], r["outcome"], r["requested_by"]) for r in runs] == [
        (scheduled.run_id, "ok", None),
        (recent.run_id, "ok", "agente.b"),
        (rejected.run_id, "rejected", "mrossi"),
        (ok.run_id, "ok", "mrossi"),
    ]


def test_a_failing_apply_records_who_asked(db: Database) -> None:
    apply_sync(db, C, many(C, 10))

    def refuse() -> None:
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        apply_sync(db, C, many(C, 11), requested_by="mrossi", before_commit=refuse)
    run = list_runs(db, C, 1)[0]
    assert (run["outcome"], run["error_class"], run["requested_by"]) == (
        "failed",
        "OSError",
        "mrossi",
    )
