"""One sync attempt, stage by stage: every way it can end leaves its ``sync_runs``
row and no export file, on a real SQLite file with the simulator's real exports."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apsw
import pytest
import trio
import trio.testing

from archid.config import DEFAULT_SCHEDULES, LoadConfig, QuietHoursConfig, RetryConfig
from archid.daemon.breaker import CircuitBreaker
from archid.daemon.clock import WallClock
from archid.daemon.events import EventBus, EventKind
from archid.daemon.health import Health
from archid.daemon.queue import Mode, PriorityChannel, Request, Trigger
from archid.daemon.scheduler import Scheduler
from archid.daemon.sqlite_state import SqliteState
from archid.daemon.state import FailedRun
from archid.daemon.sync import GuardRejected, SyncJob
from archid.daemon.worker import CutOff, Worker
from archid.exports.errors import NotAPdf
from archid.portal.client import ExportResult
from archid.portal.errors import PortalUnavailable, Stage
from archid.portal.grid import ListSurvey, RecentRows, Unchanged
from archid.portal.lanes import Lane
from archid.records import Customer, ExportType
from archid.sim.cache import Selection
from archid.sim.server import SimServer
from archid.store import Database, ListMark, list_runs, open_database, read_mark
from archid.store.errors import DatabaseError
from tests.daemon.helpers import config
from tests.store.synthetic import many

C = ExportType.CUSTOMERS
#: the wall clock of these syncs: what the runs' rows must say
WALL = datetime(2026, 6, 1, 10, 30, tzinfo=UTC)


@dataclass
class FileExporter:
    """The portal's half of a sync without a browser: puts ``content`` where the
    browser would download it, then fails or hangs if told to; with a
    ``survey``, answers a change check as the client does (the survey before
    the export, the caller's ``skip`` deciding). (The browser's half runs end
    to end in test_run_process.)"""

    content: bytes
    fail: Exception | None = None
    hang: bool = False
    folders: list[Path] = field(default_factory=list)
    survey: ListSurvey | None = None
    lanes: list[Lane] = field(default_factory=list)
    asked: list[bool] = field(default_factory=list)  # whether a skip came with each export

    async def export(
        self,
        export_type: ExportType,
        out_dir: Path,
        on_stage: Callable[[Stage], None] | None = None,
        *,
        lane: Lane = Lane.BATCH,
        skip: Callable[[ListSurvey], bool] | None = None,
    ) -> ExportResult | Unchanged:
        self.lanes.append(lane)
        self.asked.append(skip is not None)
        survey = self.survey if skip is not None else None
        if skip is not None and survey is not None and skip(survey):
            return Unchanged(survey, {"survey": 0.5})
        out_dir.mkdir(parents=True)
        self.folders.append(out_dir)
        target = out_dir / f"{export_type}.pdf"
        target.write_bytes(self.content)
        if self.hang:
            await trio.sleep_forever()
        if self.fail is not None:
            raise self.fail
        return ExportResult(
            export_type, target, len(self.content), {"download": 0.5}, survey=survey
        )

    async def recent_customers(
        self,
        on_stage: Callable[[Stage], None] | None = None,
        on_rows: Callable[[RecentRows], Awaitable[None]] | None = None,
    ) -> RecentRows:
        raise AssertionError("not asked of this exporter")


@dataclass
class GridExporter(FileExporter):
    """The order form's grid read without a browser: hands ``reads`` over one
    by one, as the portal session does (the agent's first page, then the 200)."""

    reads: list[RecentRows] = field(default_factory=list)

    async def recent_customers(
        self,
        on_stage: Callable[[Stage], None] | None = None,
        on_rows: Callable[[RecentRows], Awaitable[None]] | None = None,
    ) -> RecentRows:
        for rows in self.reads:
            if on_rows is not None:
                await on_rows(rows)
        return self.reads[-1]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "m.sqlite3", busy_timeout=0.05)
    yield database
    database.close()


@pytest.fixture
def customers_pdf(sim: SimServer) -> bytes:
    portal = sim.portal
    with portal.lock:
        records = list(portal.dataset.records(C))
        fingerprint = portal.dataset.fingerprint
    return sim.cache.get(C, fingerprint, records, portal.full_view()).read_bytes()


def job_for(exporter: FileExporter, db: Database, workdir: Path) -> tuple[SyncJob, list[FailedRun]]:
    recorded: list[FailedRun] = []
    clock = WallClock(wall=WALL.timestamp)
    job = SyncJob(exporter, db, config(), EventBus(), workdir, clock, recorded.append)
    return job, recorded


def stored_row(db: Database, run: FailedRun) -> dict[str, object]:
    """The row the daemon's state writer makes of ``run``."""
    state = SqliteState(db, 1.0)
    try:
        state.record_failed_run(run)
    finally:
        state.close()
    [row] = list_runs(db)
    return row


def leftovers(workdir: Path) -> list[Path]:
    return sorted(workdir.rglob("*")) if workdir.exists() else []


async def test_a_good_sync_is_recorded_by_its_apply_at_the_daemons_time(
    db: Database, tmp_path: Path, customers_pdf: bytes
) -> None:
    workdir = tmp_path / "downloads"
    job, recorded = job_for(FileExporter(customers_pdf), db, workdir)
    result = await job(Request(C, 5), 1, 1)
    assert result.changed and recorded == []
    [row] = list_runs(db)
    assert row["outcome"] == "ok" and row["started_at"] == "2026-06-01T10:30:00.000Z"
    assert leftovers(workdir) == []


def _hold_the_lock(db: Database) -> apsw.Connection:
    holder = apsw.Connection(db.path)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _failing_trigger(db: Database) -> None:
    db.connection.execute(
        "CREATE TEMP TRIGGER refuse BEFORE INSERT ON customers"
        " BEGIN SELECT RAISE(ABORT, 'no room for this row'); END"
    )


@pytest.mark.parametrize(
    ("case", "error", "stage"),
    [
        ("export fails", "PortalUnavailable", "download"),
        ("parse fails", "NotAPdf", "parse"),
        ("database locked at BEGIN", "DatabaseBusy", "apply"),
        ("a write of the apply fails", "DatabaseError", "apply"),
    ],
)
async def test_a_failed_attempt_at_any_stage_has_its_run_and_no_file(
    db: Database, tmp_path: Path, customers_pdf: bytes, case: str, error: str, stage: str
) -> None:
    exporter = FileExporter(customers_pdf)
    holder = None
    if case == "export fails":
        exporter.fail = PortalUnavailable("HTTP 503 halfway through", Stage.DOWNLOAD)
    elif case == "parse fails":
        exporter.content = b"<html>Manutenzione in corso</html>"
    elif case == "database locked at BEGIN":
        holder = _hold_the_lock(db)
    else:
        _failing_trigger(db)
    workdir = tmp_path / "downloads"
    job, recorded = job_for(exporter, db, workdir)
    try:
        with pytest.raises((PortalUnavailable, NotAPdf, DatabaseError)) as raised:
            await job(Request(C, 5), 7, 2)
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    assert type(raised.value).__name__ == error
    [run] = recorded
    assert (run.type, run.error, run.stage) == (C, error, stage)
    assert leftovers(workdir) == [] and exporter.folders  # it was there, and it is gone
    assert db.live_count(C) == 0
    row = stored_row(db, run)
    assert (row["outcome"], row["error_class"], row["error_stage"]) == ("failed", error, stage)
    assert row["started_at"] == "2026-06-01T10:30:00.000Z"
    if stage != "export" and case != "export fails":
        assert row["bytes"] == len(exporter.content)


async def test_a_cancelled_attempt_is_recorded_when_the_worker_says_why(
    db: Database, tmp_path: Path
) -> None:
    exporter = FileExporter(b"%PDF-1.4 half a file", hang=True)
    workdir = tmp_path / "downloads"
    job, recorded = job_for(exporter, db, workdir)
    request = Request(C, 5)
    with trio.move_on_after(0.2):
        await job(request, 3, 1)
    assert recorded == [] and leftovers(workdir) == []
    job.cut_off(CutOff(request, 3, 1, "Cancelled", "cancelled"))
    [run] = recorded
    assert (run.error, run.message, run.stage) == ("Cancelled", "cancelled", "export")


async def test_an_attempt_over_its_timeout_is_recorded_as_such(
    db: Database, tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    exporter = FileExporter(b"%PDF-1.4 a download that never ends", hang=True)
    workdir = tmp_path / "downloads"
    job, recorded = job_for(exporter, db, workdir)
    channel = PriorityChannel()
    clock = WallClock(WALL.timestamp())
    scheduler = Scheduler(
        channel, clock, DEFAULT_SCHEDULES, QuietHoursConfig(enabled=False), LoadConfig(None)
    )

    async def down() -> bool:
        return False

    worker = Worker(
        channel,
        job,
        clock=clock,
        retry=RetryConfig(retries=0),
        timeouts={C: 60.0},
        scheduler=scheduler,
        health=Health(clock.now()),
        breaker=CircuitBreaker(down),
        events=EventBus(),
        on_cut_off=job.cut_off,
        rng=random.Random(1),
    )
    await worker.run_request(Request(C, 5))
    [run] = recorded
    assert (run.error, run.stage) == ("SyncTimeout", "export")
    assert "longer than 60 s" in run.message
    assert leftovers(workdir) == []


async def test_a_rejected_export_has_the_apply_s_row_only(
    db: Database, tmp_path: Path, sim: SimServer
) -> None:
    portal = sim.portal
    with portal.lock:
        records = list(portal.dataset.records(C))
        fingerprint = portal.dataset.fingerprint
    empty = sim.cache.get(C, fingerprint, records, portal.full_view(), Selection(empty=True))
    workdir = tmp_path / "downloads"
    job, recorded = job_for(FileExporter(empty.read_bytes()), db, workdir)
    with pytest.raises(GuardRejected, match="empty export"):
        await job(Request(C, 5), 1, 1)
    assert recorded == []  # no second row beside the apply's
    assert [(r["outcome"], r["error_message"]) for r in list_runs(db)] == [
        ("rejected", "empty export: 0 rows")
    ]
    assert leftovers(workdir) == []


@pytest.fixture
def orders_pdf(sim: SimServer) -> bytes:
    portal = sim.portal
    with portal.lock:
        records = list(portal.dataset.records(ExportType.ORDERS))
        fingerprint = portal.dataset.fingerprint
    view = portal.full_view()
    return sim.cache.get(ExportType.ORDERS, fingerprint, records, view).read_bytes()


def survey_at(newest: datetime | None, rows: int | None) -> ListSurvey:
    return ListSurvey(ExportType.ORDERS, newest, rows, read_at=WALL)


async def test_a_scheduled_sync_of_an_unchanged_list_exports_nothing(
    db: Database, tmp_path: Path, orders_pdf: bytes
) -> None:
    newest = WALL - timedelta(minutes=5)
    exporter = FileExporter(orders_pdf, survey=survey_at(newest, 120))
    job, recorded = job_for(exporter, db, tmp_path / "downloads")
    scheduled = Request(ExportType.ORDERS, 6)
    # No full export recorded yet: exported, and its survey is the mark.
    first = await job(scheduled, 1, 1)
    assert not first.unchanged and len(exporter.folders) == 1
    assert read_mark(db, ExportType.ORDERS) == ListMark(newest, 120, WALL)
    # The same survey: nothing exported, the run recorded as unchanged.
    second = await job(scheduled, 2, 1)
    assert second.unchanged and not second.changed
    assert len(exporter.folders) == 1
    [run] = recorded
    assert (run.outcome, run.stage, run.error) == ("unchanged", "survey", "")
    state = SqliteState(db, 1.0)
    try:
        state.record_failed_run(run)
    finally:
        state.close()
    assert [r["outcome"] for r in list_runs(db)] == ["unchanged", "ok"]
    # A deletion in the portal: one row fewer, so exported again.
    exporter.survey = survey_at(newest, 119)
    third = await job(scheduled, 3, 1)
    assert not third.unchanged and len(exporter.folders) == 2
    # A change: a newer modification time, so exported again.
    exporter.survey = survey_at(newest + timedelta(seconds=1), 119)
    await job(scheduled, 4, 1)
    assert len(exporter.folders) == 3
    assert all(lane is Lane.BATCH for lane in exporter.lanes)


async def test_a_persons_sync_always_exports_and_customers_are_never_surveyed(
    db: Database, tmp_path: Path, orders_pdf: bytes, customers_pdf: bytes
) -> None:
    exporter = FileExporter(orders_pdf, survey=survey_at(WALL - timedelta(minutes=5), 120))
    job, _ = job_for(exporter, db, tmp_path / "downloads")
    await job(Request(ExportType.ORDERS, 6), 1, 1)
    manual = Request(ExportType.ORDERS, 100, trigger=Trigger.MANUAL, requested_by="admin")
    result = await job(manual, 2, 1)
    assert not result.unchanged and len(exporter.folders) == 2
    assert exporter.asked == [True, True]  # surveyed, so its export leaves a mark
    assert exporter.lanes == [Lane.BATCH, Lane.INTERACTIVE]
    assert list_runs(db)[0]["requested_by"] == "admin"
    customers = FileExporter(customers_pdf, survey=survey_at(None, None))
    job, _ = job_for(customers, db, tmp_path / "downloads")
    await job(Request(C, 5), 3, 1)
    await job(Request(C, 5), 4, 1)
    assert customers.asked == [False, False] and len(customers.folders) == 2


async def test_an_unchanged_list_is_exported_once_its_last_export_is_too_old(
    db: Database, tmp_path: Path, orders_pdf: bytes
) -> None:
    exporter = FileExporter(orders_pdf, survey=survey_at(WALL - timedelta(hours=1), 120))
    recorded: list[FailedRun] = []
    now = [WALL.timestamp()]
    job = SyncJob(
        exporter, db, config(), EventBus(), tmp_path / "d", WallClock(wall=lambda: now[0]),
        recorded.append,
    )  # fmt: skip
    scheduled = Request(ExportType.ORDERS, 6)
    await job(scheduled, 1, 1)
    max_age = config().schedules[ExportType.ORDERS].max_unchanged_age
    now[0] += max_age - 60
    assert (await job(scheduled, 2, 1)).unchanged
    now[0] += 120
    assert not (await job(scheduled, 3, 1)).unchanged
    assert len(exporter.folders) == 2


async def test_an_order_form_sync_commits_its_first_page_and_then_the_200(
    db: Database, tmp_path: Path
) -> None:
    customers = [c for c in many(C, 50) if isinstance(c, Customer)]
    first = RecentRows(customers[:20], {"page_load": 1.0, "grid": 0.5}, complete=False)
    whole = RecentRows(customers, {"page_load": 1.0, "grid": 0.5, "page_size": 0.6})
    events, recorded = EventBus(), list[FailedRun]()
    clock = WallClock(wall=WALL.timestamp)
    exporter = GridExporter(b"", reads=[first, whole])
    job = SyncJob(exporter, db, config(), events, tmp_path, clock, recorded.append)
    with events.subscribe() as seen:
        result = await job(Request(C, 100, Mode.RECENT, Trigger.SESSION), 7, 1)
        published = []
        with contextlib.suppress(trio.WouldBlock):
            while True:
                published.append(seen.receive_nowait())
    # Two recent runs: the first page committed by itself, then the 200.
    older, newer = sorted(list_runs(db, C), key=lambda r: int(r["id"]))
    assert [(r["mode"], r["trigger"], r["parsed"]) for r in (older, newer)] == [
        ("recent", "session", 20),
        ("recent", "session", 50),
    ]
    assert (older["inserted"], newer["inserted"], newer["unchanged"]) == (20, 30, 20)
    # The first commit is announced before the grid is read again.
    steps = [(e.kind, e.stage) for e in published]
    committed = steps.index((EventKind.PROGRESS, "apply"))
    assert steps[committed + 1] == (EventKind.STAGE, "grid")
    assert steps[committed + 2] == (EventKind.STAGE, "apply")
    announced = published[committed].data
    assert announced["store_run"] == older["id"] and announced["inserted"] == 20
    # The attempt's result adds the commits up.
    assert result.counts["store_run"] == newer["id"]
    assert (result.counts["records"], result.counts["inserted"], result.counts["unchanged"]) == (
        50,
        50,
        0,
    )
    assert recorded == []
