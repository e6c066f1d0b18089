"""``sync_runs``: one row per sync attempt, whatever its outcome.

A run's row is written in the same transaction as the run's changes, so a
row with ``outcome = 'ok'`` exists exactly when its changes are visible.
Every other outcome leaves only its row (:data:`OUTCOMES`):

* ``ok``: the export was applied (:func:`~archid.store.apply.apply_sync`);
* ``unchanged``: a scheduled check found the list as it was at the last
  full export (:mod:`archid.store.marks`) and exported nothing;
* ``rejected``: the store's guard refused the export (``apply_sync``);
* ``failed``: the portal, the parser or the apply failed, or the run took
  longer than its type's timeout;
* ``cancelled``: an admin cancelled the run, or archid stopped during it;
* ``preempted``: an interactive request (a manual sync, an order form) took
  the portal; the sync was queued again and runs right after it. Not a
  failure;
* ``interrupted``: archid ended during the run (killed, crashed, the power
  went), recorded at the next start.

:func:`record_run` records the runs that change no data (all but ``ok`` and
``rejected``). ``requested_by`` names who asked for the run (the control
peer's user for a manual sync, the order-form session's user), NULL for the
schedule's. Counts:

* ``parsed``: records handed to the apply (after the parser dropped any);
* ``inserted``, ``updated``, ``deleted``, ``restored``: rows written so,
  one change-feed entry each (``first_seq``..``last_seq``);
* ``unchanged``: rows seen whose stored values did not change;
* ``dropped``: rows the parser dropped plus duplicate keys in the export;
* ``missing``: live rows absent from this full export for the first time
  (deleted if still absent from the next full export);
* ``blanks_held``: fields that came empty for the first time and kept
  their stored value (cleared if the next export agrees).

``warnings`` holds what the parse reported beside its records (see
:func:`warnings_json`), NULL when it reported nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from archid.records import ExportType
from archid.runs import Mode as Mode
from archid.runs import Outcome as Outcome
from archid.runs import Trigger as Trigger
from archid.store.database import Database, utc_text
from archid.store.errors import sqlite_errors
from archid.store.schema import OUTCOMES as OUTCOMES  # re-exported: the schema's list

if TYPE_CHECKING:
    from archid.exports.layout import BadCell

MODES: Final = tuple(Mode)
TRIGGERS: Final = tuple(Trigger)

#: a mode or trigger as the store's callers may give it: the enum or its value
ModeValue: TypeAlias = Mode | Literal["full", "recent"]
TriggerValue: TypeAlias = Trigger | Literal["schedule", "manual", "session"]

#: The outcomes :func:`record_run` records: runs that change no data and
#: are not the guard's verdict (``ok`` and ``rejected`` are the apply's).
RECORDED_OUTCOMES: Final[tuple[Outcome, ...]] = (
    Outcome.UNCHANGED,
    Outcome.FAILED,
    Outcome.CANCELLED,
    Outcome.PREEMPTED,
    Outcome.INTERRUPTED,
)


@dataclass(frozen=True, slots=True)
class RunMeta:
    """What the caller knows about a run beyond its records.

    ``started_at`` defaults to the moment the apply starts; ``dropped`` is
    the parser's count of rows it could not read; ``stage_seconds`` maps a
    stage name (``"download"``, ``"parse"``, …) to its duration, and the
    store adds ``"apply"``. ``warnings``, ``bad_cells`` and
    ``bad_cell_count`` are the parse's (:class:`archid.exports.layout.ParseStats`):
    its sentences, the bad cells it kept and how many it met in all.
    """

    started_at: datetime | None = None
    bytes: int | None = None
    pages: int | None = None
    dropped: int = 0
    stage_seconds: Mapping[str, float] = field(default_factory=dict)
    warnings: Sequence[str] = ()
    bad_cells: Sequence[BadCell] = ()
    bad_cell_count: int = 0


def warnings_json(meta: RunMeta) -> str | None:
    """``sync_runs.warnings`` for *meta*: NULL (``None``) when the parse
    reported nothing, else a JSON object ``{"messages": [...], "bad_cells":
    [{"column", "field", "page", "row", "text", "reason"}, ...],
    "bad_cell_count": N}``; ``bad_cells`` lists the cells the parser kept
    (the first 100), ``bad_cell_count`` counts them all."""
    count = max(meta.bad_cell_count, len(meta.bad_cells))
    if not meta.warnings and not count:
        return None
    cells = [
        {
            "column": cell.column,
            "field": cell.field,
            "page": cell.page,
            "row": cell.row,
            "text": cell.text,
            "reason": cell.reason,
        }
        for cell in meta.bad_cells
    ]
    payload = {"messages": list(meta.warnings), "bad_cells": cells, "bad_cell_count": count}
    return json.dumps(payload, ensure_ascii=False)


#: How many bad cells and messages a summary line names before "and N more".
SUMMARY_ITEMS: Final = 3


def warnings_summary(export_type: ExportType, meta: RunMeta) -> str | None:
    """One log line for the parse's warnings and bad cells, ``None`` if none.

    For example ``orders export: 3 unreadable cells kept their stored
    values: APPLICA SCONTO %: page 6 row 2 '0,0x %', page 6 row 5 '…';
    CHIUSO: page 3 row 1 'ieri'; 1 warning: unknown column ignored: …``.
    At most :data:`SUMMARY_ITEMS` cells and messages are named; the rest
    are counted ("and 140 more"): the run's ``warnings`` keeps them.
    """
    count = max(meta.bad_cell_count, len(meta.bad_cells))
    if not meta.warnings and not count:
        return None
    parts: list[str] = []
    if count:
        by_column: dict[str, list[str]] = {}
        for cell in meta.bad_cells[:SUMMARY_ITEMS]:
            by_column.setdefault(cell.column, []).append(
                f"page {cell.page} row {cell.row} {cell.text!r}"
            )
        # A header's own trailing colon is not doubled ("APPLICA SCONTO %:").
        named = "; ".join(
            f"{column.rstrip(':')}: {', '.join(cells)}" for column, cells in by_column.items()
        )
        rest = count - min(len(meta.bad_cells), SUMMARY_ITEMS)
        named += f" and {rest} more" if rest else ""
        kept = "cell kept its stored value" if count == 1 else "cells kept their stored values"
        parts.append(f"{count} unreadable {kept}: {named}")
    if meta.warnings:
        shown = "; ".join(meta.warnings[:SUMMARY_ITEMS])
        rest = len(meta.warnings) - SUMMARY_ITEMS
        shown += f" and {rest} more" if rest > 0 else ""
        noun = "warning" if len(meta.warnings) == 1 else "warnings"
        parts.append(f"{len(meta.warnings)} {noun}: {shown}")
    return f"{export_type} export: " + "; ".join(parts)


@dataclass(frozen=True, slots=True)
class RunCounts:
    """The counts of one run (see the module docstring)."""

    parsed: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    restored: int = 0
    dropped: int = 0
    missing: int = 0
    blanks_held: int = 0

    @property
    def changed(self) -> int:
        """Rows written with a change-feed entry."""
        return self.inserted + self.updated + self.deleted + self.restored


@dataclass(frozen=True, slots=True)
class RunResult:
    """A run as recorded in ``sync_runs``.

    ``reason`` is the rejection reason or the error message; ``first_seq``
    and ``last_seq`` bound the run's change-feed entries (``None`` if none);
    ``requested_by`` is who asked for the run (``None``: the schedule).
    """

    run_id: int
    export_type: ExportType
    mode: Mode
    trigger: Trigger
    outcome: Outcome
    counts: RunCounts
    started_at: str
    ended_at: str
    stage_seconds: Mapping[str, float]
    reason: str | None = None
    first_seq: int | None = None
    last_seq: int | None = None
    requested_by: str | None = None


def check_mode_trigger(mode: str, trigger: str) -> None:
    """Raise ``ValueError`` for an unknown mode or trigger."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger must be one of {TRIGGERS}, not {trigger!r}")


def start_run(
    db: Database,
    export_type: ExportType,
    mode: ModeValue,
    trigger: TriggerValue,
    started_at: str,
    *,
    requested_by: str | None = None,
) -> int:
    """Insert a run's row (inside the caller's transaction); return its id.

    The row says ``failed`` until :func:`finish_run` overwrites it, which
    the same transaction always does before committing.
    """
    db.connection.execute(
        "INSERT INTO sync_runs (type, mode, trigger, started_at, ended_at, outcome, requested_by)"
        " VALUES (?, ?, ?, ?, ?, 'failed', ?)",
        (export_type.value, mode, trigger, started_at, started_at, requested_by),
    )
    run_id: int = db.connection.last_insert_rowid()
    return run_id


def finish_run(
    db: Database,
    result: RunResult,
    meta: RunMeta,
    *,
    error_stage: str | None = None,
    error_class: str | None = None,
) -> None:
    """Write a run's outcome and counts into its row (caller's transaction)."""
    counts = result.counts
    db.connection.execute(
        "UPDATE sync_runs SET ended_at = ?, outcome = ?, parsed = ?, inserted = ?,"
        " updated = ?, unchanged = ?, deleted = ?, restored = ?, dropped = ?, missing = ?,"
        " blanks_held = ?, bytes = ?, pages = ?, stage_seconds = ?, error_stage = ?,"
        " error_class = ?, error_message = ?, first_seq = ?, last_seq = ?, warnings = ?"
        " WHERE id = ?",
        (
            result.ended_at,
            result.outcome,
            counts.parsed,
            counts.inserted,
            counts.updated,
            counts.unchanged,
            counts.deleted,
            counts.restored,
            counts.dropped,
            counts.missing,
            counts.blanks_held,
            meta.bytes,
            meta.pages,
            json.dumps(dict(result.stage_seconds), sort_keys=True),
            error_stage,
            error_class,
            result.reason,
            result.first_seq,
            result.last_seq,
            warnings_json(meta),
            result.run_id,
        ),
    )


def record_run(
    db: Database,
    export_type: ExportType,
    mode: ModeValue,
    trigger: TriggerValue,
    *,
    outcome: Outcome,
    message: str | None = None,
    error_class: str | None = None,
    stage: str | None = None,
    meta: RunMeta | None = None,
    requested_by: str | None = None,
) -> RunResult:
    """Record a run that changed no data, in one transaction: its
    ``sync_runs`` row and nothing else. *outcome* is one of
    :data:`RECORDED_OUTCOMES` (``ok`` and ``rejected`` runs are recorded by
    :func:`~archid.store.apply.apply_sync`, with their data).

    *message* is the error message or what the run has to say (``"the list
    is as at run 41"``); *stage* where it stopped (``"login"``,
    ``"download"``, ``"parse"``, ``"apply"``, …); *error_class* the
    exception's class name, if an exception ended it; *requested_by* who
    asked for the run (``None``: the schedule). Returns the recorded run.

    Raises ``ValueError`` for an outcome, mode or trigger it does not
    record, before writing anything; SQLite's errors as the store's
    (:func:`~archid.store.errors.sqlite_error`): a busy database is
    :class:`~archid.store.errors.DatabaseBusy`, and nothing is written.
    """
    check_mode_trigger(mode, trigger)
    mode, trigger = Mode(mode), Trigger(trigger)
    if outcome not in RECORDED_OUTCOMES:
        raise ValueError(f"record_run records {RECORDED_OUTCOMES}, not {outcome!r}")
    meta = meta or RunMeta()
    ended_at = db.now()
    started_at = utc_text(meta.started_at) if meta.started_at else ended_at
    connection = db.connection
    with sqlite_errors(connection, f"recording a {outcome} {export_type} run"):
        connection.execute("BEGIN IMMEDIATE")
        try:
            run_id = start_run(
                db, export_type, mode, trigger, started_at, requested_by=requested_by
            )
            result = RunResult(
                run_id=run_id,
                export_type=export_type,
                mode=mode,
                trigger=trigger,
                outcome=outcome,
                counts=RunCounts(dropped=meta.dropped),
                started_at=started_at,
                ended_at=ended_at,
                stage_seconds=dict(meta.stage_seconds),
                reason=message,
                requested_by=requested_by,
            )
            finish_run(db, result, meta, error_stage=stage, error_class=error_class)
            connection.execute("COMMIT")
        except BaseException:
            if not connection.getautocommit():
                connection.execute("ROLLBACK")
            raise
    return result


def record_failed_run(
    db: Database,
    export_type: ExportType,
    mode: ModeValue,
    trigger: TriggerValue,
    *,
    error_class: str,
    message: str,
    stage: str,
    meta: RunMeta | None = None,
    requested_by: str | None = None,
) -> RunResult:
    """Record a run that failed before or during its apply (a portal error,
    a parse error, a database error): :func:`record_run` with ``outcome``
    ``"failed"``.

    ``stage`` names where it failed (``"login"``, ``"download"``,
    ``"parse"``, ``"apply"``, …); ``error_class`` is the exception's class
    name. Returns the recorded run. Raises as :func:`record_run` does.
    """
    return record_run(
        db,
        export_type,
        mode,
        trigger,
        outcome=Outcome.FAILED,
        message=message,
        error_class=error_class,
        stage=stage,
        meta=meta,
        requested_by=requested_by,
    )


def list_runs(
    db: Database, export_type: ExportType | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The latest runs, newest first, as column → value dicts, one key per
    column of ``sync_runs`` (:data:`~archid.store.schema.RUN_COLUMNS`, so
    ``requested_by`` too); ``stage_seconds`` and ``warnings`` decoded
    (``warnings`` is ``None`` when the parse reported nothing)."""
    where = "" if export_type is None else " WHERE type = ?"
    args: tuple[Any, ...] = () if export_type is None else (export_type.value,)
    cursor = db.connection.execute(
        f"SELECT * FROM sync_runs{where} ORDER BY id DESC LIMIT ?", (*args, limit)
    )
    names: list[str] = []
    out: list[dict[str, Any]] = []
    for row in cursor:
        if not names:
            names = [description[0] for description in cursor.getdescription()]
        item = dict(zip(names, row, strict=True))
        item["stage_seconds"] = json.loads(item["stage_seconds"])
        item["warnings"] = json.loads(item["warnings"]) if item["warnings"] else None
        out.append(item)
    return out
