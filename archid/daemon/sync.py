"""One sync: portal export → parse → apply → the run's record.

Each stage is announced on the event bus. The blocking stages run off the
event loop: parsing in a worker thread that is simply abandoned on
cancellation (it has no side effects), the apply in a thread that is
*interrupted* on cancellation (``Connection.interrupt``), so its
transaction rolls back instead of committing after archid was asked to
stop. Every attempt has its ``sync_runs`` row and leaves no file behind
(see :class:`SyncJob`).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Protocol, TypedDict, TypeVar

import outcome
import trio

from archid import logs
from archid.config import Config
from archid.daemon import failpoints
from archid.daemon.change_check import CHECKED_TYPES, export_reason, mark_of
from archid.daemon.clock import WallClock
from archid.daemon.events import Event, EventBus, EventKind
from archid.daemon.queue import Mode, Request, Trigger
from archid.daemon.state import FailedRun
from archid.daemon.worker import CutOff, SyncResult
from archid.exports import SPECS, parse_export
from archid.exports.layout import BadCell, ParseStats
from archid.failures import ArchidError
from archid.portal.client import ExportResult
from archid.portal.errors import Stage
from archid.portal.grid import ListSurvey, RecentRows, Unchanged
from archid.portal.lanes import Lane
from archid.records import ExportType, Record
from archid.runs import Outcome
from archid.store import (
    Database,
    ListMark,
    RunMeta,
    RunResult,
    apply_sync,
    read_mark,
    warnings_summary,
)

log = logging.getLogger("archid.sync")

T = TypeVar("T")


class Exporter(Protocol):
    """What a sync needs of the portal (:class:`~archid.portal.lanes.PortalLanes`)."""

    async def export(
        self,
        export_type: ExportType,
        out_dir: Path,
        on_stage: Callable[[Stage], None] | None = None,
        *,
        lane: Lane = Lane.BATCH,
        skip: Callable[[ListSurvey], bool] | None = None,
    ) -> ExportResult | Unchanged: ...

    async def recent_customers(
        self,
        on_stage: Callable[[Stage], None] | None = None,
        on_rows: Callable[[RecentRows], Awaitable[None]] | None = None,
    ) -> RecentRows: ...


class ApplyCancelled(ArchidError):
    """The apply was cancelled; its transaction rolled back."""


class GuardRejected(ArchidError):
    """The store refused the export (too few rows, too many deletions)."""

    outcome: ClassVar[Outcome] = Outcome.REJECTED


@dataclass
class _Progress:
    """How far one attempt got: what its ``sync_runs`` row says if it fails."""

    started: datetime
    stage: str = "export"
    download: ExportResult | None = None
    stats: ParseStats = field(default_factory=ParseStats)
    seconds: dict[str, float] = field(default_factory=dict)
    #: the attempt's row is written already (a rejected run's, by the apply)
    recorded: bool = False


class SyncJob:
    """The daemon's sync job (see :class:`archid.daemon.worker.SyncJob`).

    Every attempt leaves a ``sync_runs`` row, whatever stage fails: a
    success or a rejection is written by the apply with its changes; a
    failure (export, parse, apply's BEGIN, writes or COMMIT) is handed to
    ``record_failure`` at once; an attempt the worker cuts off (timeout,
    cancel, stop) when the worker says why (:meth:`cut_off`). Whatever
    happens, the attempt's export file is removed before it returns.
    ``record_failure`` must not block nor raise (the daemon's
    :class:`~archid.daemon.persist.StateWriter` writes it off the event
    loop, retrying while the database is busy).
    """

    def __init__(
        self,
        portal: Exporter,
        db: Database,
        config: Config,
        events: EventBus,
        workdir: Path,
        clock: WallClock,
        record_failure: Callable[[FailedRun], None],
    ) -> None:
        self._portal = portal
        self._db = db
        self.config = config
        self._events = events
        self._workdir = workdir
        self._clock = clock
        self._record = record_failure
        self._failpoints = failpoints.armed()
        self._cut: dict[int, tuple[Request, _Progress]] = {}
        #: an attempt is getting its data from the portal (not parsing, not applying)
        self.exporting = False
        #: the parse's layout sentences logged already (:func:`_parse_report`)
        self._said: set[tuple[ExportType, str]] = set()

    async def __call__(self, request: Request, run_id: int, attempt: int) -> SyncResult:
        progress = _Progress(started=self._clock.now_datetime())
        out = self._workdir / f"{request.type}-{run_id}-{attempt}"
        try:
            return await self._attempt(request, run_id, out, progress)
        except Exception as exc:
            stage = getattr(exc, "stage", None)
            self._record_failure(request, progress, type(exc).__name__, str(exc), stage)
            raise
        except BaseException:
            # Cancelled: the worker says why (cut_off); keep what it needs.
            self._cut[run_id] = (request, progress)
            raise
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def cut_off(self, cut: CutOff) -> None:
        """Record the attempt the worker cut off (``on_cut_off`` of the worker)."""
        request, progress = self._cut.pop(cut.run_id, (cut.request, None))
        if progress is None:
            # Cut off before it started (or after it ended): still an attempt.
            progress = _Progress(started=self._clock.now_datetime())
        self._record_failure(request, progress, cut.error, cut.message, None, cut.outcome)

    async def _attempt(
        self, request: Request, run_id: int, out: Path, progress: _Progress
    ) -> SyncResult:
        export_type = request.type
        seconds, stats = progress.seconds, progress.stats
        if request.mode is Mode.RECENT and export_type is ExportType.CUSTOMERS:
            return await self._recent(request, run_id, progress)

        self._stage(request, run_id, "export")
        mark = time.perf_counter()
        lane = Lane.INTERACTIVE if request.interactive else Lane.BATCH
        self.exporting = True
        try:
            got = await self._portal.export(
                export_type,
                out,
                self._on_stage(request, run_id, progress),
                lane=lane,
                skip=await self._skip(request),
            )
        finally:
            self.exporting = False
        seconds.update({f"export_{k}": v for k, v in got.seconds.items()})
        seconds["export"] = time.perf_counter() - mark
        if isinstance(got, Unchanged):
            return await self._unchanged(request, progress, got)
        progress.download = got

        progress.stage = "parse"
        self._stage(request, run_id, "parse", total=None)
        mark = time.perf_counter()
        records = await trio.to_thread.run_sync(
            lambda: list(parse_export(SPECS[export_type], got.path, stats=stats)),
            abandon_on_cancel=True,
        )
        seconds["parse"] = time.perf_counter() - mark
        self._stage(request, run_id, "parse", current=len(records), total=stats.pages)
        # The records are in memory: the file is of no more use.
        shutil.rmtree(out, ignore_errors=True)
        run = await self._apply(request, run_id, records, progress, mark_of(got.survey))
        return _result([run], seconds)

    async def _recent(self, request: Request, run_id: int, progress: _Progress) -> SyncResult:
        """The order form's fast path: the newest customers from the grid, each
        read applied as it comes (the agent's first page, then the 200), so
        that the newest are in the mirror before the page size callback."""
        seconds = progress.seconds
        self._stage(request, run_id, "export")
        began = time.perf_counter()
        applying = 0.0
        runs: list[RunResult] = []

        async def apply(rows: RecentRows) -> None:
            nonlocal applying
            self.exporting = False
            mark = time.perf_counter()
            seconds.update({f"export_{k}": v for k, v in rows.seconds.items()})
            seconds["export"] = mark - began - applying
            runs.append(await self._apply(request, run_id, list(rows.records), progress, None))
            applying += time.perf_counter() - mark
            if not rows.complete:
                # The newest customers are in the mirror: say so (session.open's
                # wait answers on it); the 200 follow.
                committed = _result(runs, seconds).counts
                self._events.publish(
                    Event(
                        EventKind.PROGRESS,
                        request.type,
                        run_id,
                        stage="apply",
                        current=len(rows.records),
                        total=len(rows.records),
                        data=dict(committed),
                        at=self._clock.now(),
                    )
                )
                progress.stage = str(Stage.GRID)
                self._stage(request, run_id, progress.stage)
                self.exporting = True  # back to the grid for the 200

        self.exporting = True
        try:
            rows = await self._portal.recent_customers(
                self._on_stage(request, run_id, progress), apply
            )
        finally:
            self.exporting = False
        if not runs:  # an exporter that handed nothing over as it read
            await apply(rows)
        return _result(runs, seconds)

    def _on_stage(
        self, request: Request, run_id: int, progress: _Progress
    ) -> Callable[[Stage], None]:
        def on_stage(step: Stage) -> None:
            progress.stage = str(step)  # where a cut-off finds it: "download", …
            self._stage(request, run_id, str(step))

        return on_stage

    async def _apply(
        self,
        request: Request,
        run_id: int,
        records: list[Record],
        progress: _Progress,
        survey_mark: ListMark | None,
    ) -> RunResult:
        """``records`` applied and committed with their ``sync_runs`` row, off the
        event loop and interrupted on cancellation; a rejection raises
        :class:`GuardRejected` (its row written)."""
        export_type = request.type
        progress.stage = "apply"
        self._stage(request, run_id, "apply", total=len(records))
        report = _parse_report(export_type, progress.stats, self._said)
        guard = self.config.guard
        if request.allow_large_change:
            # An admin vouched for this one export; an empty one is still refused.
            guard = replace(guard, min_export_share=0.0, max_delete_share=1.0)
            lifted = f"{export_type} guard lifted for this export: an admin allowed a large change"
            report["warnings"].append(lifted)
            log.warning("%s", lifted)
        download = progress.download
        meta = RunMeta(
            started_at=progress.started,
            bytes=download.bytes if download is not None else None,
            pages=progress.stats.pages,
            dropped=sum(progress.stats.dropped.values()),
            stage_seconds=dict(progress.seconds),
            **report,
        )
        cancelled = threading.Event()
        connection = self._db.connection

        def interrupt() -> None:
            cancelled.set()
            connection.interrupt()

        run = await run_interruptibly(
            lambda: apply_sync(
                self._db,
                export_type,
                records,
                mode=request.mode,
                trigger=request.trigger,
                meta=meta,
                guard=guard,
                requested_by=request.requested_by,
                mark=survey_mark if request.mode is Mode.FULL else None,
                before_commit=lambda: self._before_commit(cancelled),
                # Recorded here, off the event loop and retried while busy.
                record_failure=False,
            ),
            interrupt,
        )
        if run.outcome is Outcome.REJECTED:
            progress.recorded = True  # the apply wrote the rejected run's row
            raise GuardRejected(f"{export_type} export rejected: {run.reason}")
        return run

    async def _skip(self, request: Request) -> Callable[[ListSurvey], bool] | None:
        """What decides, from the list's survey, that this export can be skipped.

        ``None`` (no survey) for customers and recent syncs. A person's
        request always exports, surveyed only so that its export leaves a
        mark; a scheduled one is skipped when the survey matches the mark of
        the last full export (:mod:`archid.daemon.change_check`).
        """
        export_type = request.type
        if export_type not in CHECKED_TYPES or request.mode is not Mode.FULL:
            return None
        if request.trigger is not Trigger.SCHEDULE:
            return lambda survey: False
        mark = await trio.to_thread.run_sync(read_mark, self._db, export_type)
        max_age = self.config.schedules[export_type].max_unchanged_age

        def skip(survey: ListSurvey) -> bool:
            # Called in the portal client's thread, between the survey and the export.
            reason = export_reason(survey, mark, max_age=max_age, now=self._clock.now_datetime())
            if reason is not None:
                log.info(
                    "%s list checked: %s: exporting it",
                    export_type,
                    reason,
                    extra=logs.fields(type=export_type),
                )
            return reason is None

        return skip

    async def _unchanged(
        self, request: Request, progress: _Progress, unchanged: Unchanged
    ) -> SyncResult:
        """The list is as at its last full export: the run is recorded as
        ``unchanged``, nothing else is written."""
        survey = unchanged.survey
        progress.recorded = True
        self._record(
            FailedRun(
                request.type,
                request.mode,
                request.trigger,
                error="",
                message=_survey_text(survey),
                stage="survey",
                meta=RunMeta(started_at=progress.started, stage_seconds=dict(progress.seconds)),
                outcome=Outcome.UNCHANGED,
                requested_by=request.requested_by,
            )
        )
        return SyncResult(
            changed=False,
            counts={"rows": survey.row_count or 0},
            seconds=dict(progress.seconds),
            unchanged=True,
            note=_survey_text(survey),
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
        progress: _Progress,
        error: str,
        message: str,
        stage: object | None,
        outcome: Outcome = Outcome.FAILED,
    ) -> None:
        if progress.recorded:
            return
        progress.recorded = True
        download, stats = progress.download, progress.stats
        self._record(
            FailedRun(
                request.type,
                request.mode,
                request.trigger,
                error=error,
                message=message,
                stage=str(stage) if stage is not None else progress.stage,
                meta=RunMeta(
                    started_at=progress.started,
                    bytes=download.bytes if download else None,
                    pages=stats.pages or None,
                    dropped=sum(stats.dropped.values()),
                    stage_seconds=dict(progress.seconds),
                    warnings=list(stats.warnings),
                    bad_cells=list(stats.bad_cells),
                    bad_cell_count=stats.bad_cell_count,
                ),
                outcome=outcome,
                requested_by=request.requested_by,
            )
        )


def _survey_text(survey: ListSurvey) -> str:
    """``newest change 2026-12-06 09:12:03, 1,144 rows``."""
    newest = survey.newest_modified
    when = "unknown" if newest is None else f"{newest:%Y-%m-%d %H:%M:%S}"
    rows = "unknown" if survey.row_count is None else f"{survey.row_count:,}"
    return f"newest change {when}, {rows} rows"


class _ParseReport(TypedDict):
    warnings: list[str]
    bad_cells: list[BadCell]
    bad_cell_count: int


def _parse_report(
    export_type: ExportType, stats: ParseStats, said: set[tuple[ExportType, str]]
) -> _ParseReport:
    """What the parse reported beside its records, for the run's record.

    Unreadable cells are logged as a warning line every time (summarised
    when long). The parse's sentences (a column archid does not know,
    ignored) describe the layout, not this export: each is logged once per
    process and type, as information (``said`` keeps what was said); every
    run still stores them in its ``warnings``.
    """
    report = _ParseReport(
        warnings=list(stats.warnings),
        bad_cells=list(stats.bad_cells),
        bad_cell_count=stats.bad_cell_count,
    )
    cells = RunMeta(bad_cells=report["bad_cells"], bad_cell_count=report["bad_cell_count"])
    line = warnings_summary(export_type, cells)
    if line is not None:
        log.warning("%s", line)
    new = [w for w in report["warnings"] if (export_type, w) not in said]
    said.update((export_type, w) for w in new)
    line = warnings_summary(export_type, RunMeta(warnings=new))
    if line is not None:
        log.info("%s (said once; every run keeps it in sync_runs.warnings)", line)
    return report


async def run_interruptibly(fn: Callable[[], T], interrupt: Callable[[], None]) -> T:
    """Run ``fn`` in a thread; if cancelled meanwhile, call ``interrupt`` and wait.

    The thread is never abandoned: ``fn`` ends (interrupted, so it rolls
    back) before the cancellation propagates. What ``fn`` raises is raised
    as it is (not in an ExceptionGroup).
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
            # Captured, not raised here: the nursery would wrap the apply's
            # error in an ExceptionGroup, hiding its class from the worker.
            result = await outcome.acapture(trio.to_thread.run_sync, fn)
        finally:
            cancelled_outside = False
            nursery.cancel_scope.cancel()
    if isinstance(result, outcome.Error):
        # When the interrupt caused the failure, the cancellation wins.
        await trio.lowlevel.checkpoint()
    return result.unwrap()


def _result(runs: list[RunResult], seconds: dict[str, float]) -> SyncResult:
    """The worker's result of an attempt that committed ``runs`` (in order):
    their changes added up, the rows read as the last one counts them."""
    inserted = sum(r.counts.inserted for r in runs)
    updated = sum(r.counts.updated for r in runs)
    deleted = sum(r.counts.deleted for r in runs)
    restored = sum(r.counts.restored for r in runs)
    last = runs[-1]
    parsed = last.counts.parsed
    changed = inserted + updated + deleted + restored
    return SyncResult(
        changed=changed > 0,
        counts={
            "records": parsed,
            "inserted": inserted,
            "updated": updated,
            "deleted": deleted,
            "restored": restored,
            # A later read sees an earlier one's changes as unchanged rows.
            "unchanged": max(0, parsed - changed) if len(runs) > 1 else last.counts.unchanged,
            "store_run": last.run_id,
        },
        seconds={**seconds, "apply": sum(r.stage_seconds.get("apply", 0.0) for r in runs)},
    )
