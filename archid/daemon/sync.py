"""One sync: portal export → parse → apply → the run's record.

Each stage is announced on the event bus. The blocking stages run off the
event loop: parsing in a worker thread that is simply abandoned on
cancellation (it has no side effects), the apply in a thread that is
*interrupted* on cancellation (``Connection.interrupt``), so its
transaction rolls back instead of committing after archid was asked to
stop. A failure before the apply is recorded as a failed run; the apply
records its own run in the same transaction as its changes.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypedDict, TypeVar

import trio

from archid.config import Config
from archid.daemon import failpoints
from archid.daemon.clock import WallClock
from archid.daemon.events import Event, EventBus, EventKind
from archid.daemon.queue import Request
from archid.daemon.worker import SyncResult
from archid.exports import SPECS, parse_export
from archid.exports.errors import ExportParseError
from archid.exports.layout import BadCell, ParseStats
from archid.portal.client import ExportResult
from archid.portal.errors import PortalError, Stage
from archid.records import ExportType, Record
from archid.store import Database, RunMeta, apply_sync, record_failed_run, warnings_summary

log = logging.getLogger("archid.sync")

T = TypeVar("T")


class Exporter(Protocol):
    async def export(
        self,
        export_type: ExportType,
        out_dir: Path,
        on_stage: Callable[[Stage], None] | None = None,
    ) -> ExportResult: ...


class ApplyCancelled(Exception):
    """The apply was cancelled; its transaction rolled back."""


class GuardRejected(Exception):
    """The store refused the export (too few rows, too many deletions)."""


class SyncJob:
    """The daemon's sync job (see :class:`archid.daemon.worker.SyncJob`)."""

    def __init__(
        self,
        portal: Exporter,
        db: Database,
        config: Config,
        events: EventBus,
        workdir: Path,
        clock: WallClock,
    ) -> None:
        self._portal = portal
        self._db = db
        self.config = config
        self._events = events
        self._workdir = workdir
        self._clock = clock
        self._failpoints = failpoints.armed()

    async def __call__(self, request: Request, run_id: int, attempt: int) -> SyncResult:
        export_type = request.type
        started = datetime.fromtimestamp(self._clock.now(), UTC)
        seconds: dict[str, float] = {}
        stats = ParseStats()
        download: ExportResult | None = None
        out = self._workdir / f"{export_type}-{run_id}-{attempt}"
        stage = "export"
        try:
            self._stage(request, run_id, stage)
            mark = time.perf_counter()
            download = await self._portal.export(
                export_type, out, lambda step: self._stage(request, run_id, str(step))
            )
            seconds.update({f"export_{k}": v for k, v in download.seconds.items()})
            seconds["export"] = time.perf_counter() - mark

            stage = "parse"
            self._stage(request, run_id, stage, total=None)
            mark = time.perf_counter()
            path = download.path
            records: list[Record] = await trio.to_thread.run_sync(
                lambda: list(parse_export(SPECS[export_type], path, stats=stats)),
                abandon_on_cancel=True,
            )
            seconds["parse"] = time.perf_counter() - mark
            self._stage(request, run_id, stage, current=len(records), total=stats.pages)
        except (PortalError, ExportParseError) as exc:
            self._record_failure(
                request, exc, getattr(exc, "stage", stage), started, download, stats, seconds
            )
            raise
        finally:
            if stage != "parse" or download is None:
                shutil.rmtree(out, ignore_errors=True)

        stage = "apply"
        self._stage(request, run_id, stage, total=len(records))
        meta = RunMeta(
            started_at=started,
            bytes=download.bytes,
            pages=stats.pages,
            dropped=sum(stats.dropped.values()),
            stage_seconds=seconds,
            **_parse_report(export_type, stats),
        )
        cancelled = threading.Event()
        connection = self._db.connection

        def interrupt() -> None:
            cancelled.set()
            connection.interrupt()

        try:
            run = await run_interruptibly(
                lambda: apply_sync(
                    self._db,
                    export_type,
                    records,
                    mode=request.mode.value,
                    trigger=request.trigger.value,
                    meta=meta,
                    guard=self.config.guard,
                    before_commit=lambda: self._before_commit(cancelled),
                ),
                interrupt,
            )
        finally:
            shutil.rmtree(out, ignore_errors=True)
        counts = run.counts
        if run.outcome == "rejected":
            raise GuardRejected(f"{export_type} export rejected: {run.reason}")
        changed = counts.inserted + counts.updated + counts.deleted + counts.restored
        return SyncResult(
            changed=changed > 0,
            counts={
                "records": counts.parsed,
                "inserted": counts.inserted,
                "updated": counts.updated,
                "deleted": counts.deleted,
                "restored": counts.restored,
                "unchanged": counts.unchanged,
                "store_run": run.run_id,
            },
            seconds={**seconds, "apply": run.stage_seconds.get("apply", 0.0)},
        )

    def _before_commit(self, cancelled: threading.Event) -> None:
        """The last word before COMMIT: a cancellation that arrived between
        two statements (where ``interrupt`` does nothing) still rolls back."""
        if failpoints.STALL_BEFORE_COMMIT in self._failpoints:
            log.warning("failure drill: apply written, holding before COMMIT until cancelled")
            cancelled.wait()
        if cancelled.is_set():
            raise ApplyCancelled("the apply was cancelled before COMMIT")

    def _stage(
        self,
        request: Request,
        run_id: int,
        stage: str,
        *,
        current: int | None = None,
        total: int | None = None,
    ) -> None:
        kind = EventKind.STAGE if current is None else EventKind.PROGRESS
        self._events.publish(
            Event(
                kind,
                request.type,
                run_id,
                stage=stage,
                current=current,
                total=total,
                at=self._clock.now(),
            )
        )

    def _record_failure(
        self,
        request: Request,
        exc: Exception,
        stage: str,
        started: datetime,
        download: ExportResult | None,
        stats: ParseStats,
        seconds: dict[str, float],
    ) -> None:
        try:
            record_failed_run(
                self._db,
                request.type,
                request.mode.value,
                request.trigger.value,
                error_class=type(exc).__name__,
                message=str(exc),
                stage=str(stage),
                meta=RunMeta(
                    started_at=started,
                    bytes=download.bytes if download else None,
                    pages=stats.pages or None,
                    stage_seconds=seconds,
                    **_parse_report(request.type, stats),
                ),
            )
        except Exception:  # recording must not hide the sync's own error
            log.exception("could not record the failed %s run", request.type)


class _ParseReport(TypedDict):
    warnings: list[str]
    bad_cells: list[BadCell]
    bad_cell_count: int


def _parse_report(export_type: ExportType, stats: ParseStats) -> _ParseReport:
    """What the parse reported beside its records, for the run's record; logs
    it as one warning line (summarised when long)."""
    report = _ParseReport(
        warnings=list(stats.warnings),
        bad_cells=list(stats.bad_cells),
        bad_cell_count=stats.bad_cell_count,
    )
    line = warnings_summary(export_type, RunMeta(**report))
    if line is not None:
        log.warning("%s", line)
    return report


async def run_interruptibly(fn: Callable[[], T], interrupt: Callable[[], None]) -> T:
    """Run ``fn`` in a thread; if cancelled meanwhile, call ``interrupt`` and wait.

    The thread is never abandoned: ``fn`` ends (interrupted, so it rolls
    back) before the cancellation propagates.
    """

    async def interrupt_on_cancel() -> None:
        try:
            await trio.sleep_forever()
        finally:
            if cancelled_outside:
                interrupt()

    cancelled_outside = True
    async with trio.open_nursery() as nursery:
        nursery.start_soon(interrupt_on_cancel)
        try:
            return await trio.to_thread.run_sync(fn)
        except Exception:
            # When the interrupt caused the failure, the cancellation wins.
            await trio.lowlevel.checkpoint()
            raise
        finally:
            cancelled_outside = False
            nursery.cancel_scope.cancel()
