"""Applying one export to its table: the rules that keep the mirror honest.

:func:`apply_sync` writes one sync in one transaction, together with its
``sync_runs`` row and its change-feed entries, so a reader sees all of a
run or none of it, and a crash at any moment leaves the previous state. It
compares content hashes and writes only what changed. The rules, each the
answer to a way earlier systems lost or corrupted data (spec section 3):

* **Deletions only from full exports, and only after two.** A live row
  absent from a full export is marked missing (``missing_count = 1``); it is
  deleted (``deleted_at`` set, never removed) only if the next full export
  lacks it too. A row that appears again is unmarked, and a deleted row that
  appears again is restored. A "recent" apply never marks or deletes.
* **A field that turns empty is cleared only when two exports agree.** The
  first time a stored value comes empty, the value is kept and the field
  noted in ``pending_blank``; the next export that holds the row clears it
  if still empty and forgets the note if not.
* **The guard.** A full export with zero rows, or with fewer rows than
  ``GuardConfig.min_export_share`` of the live rows, or that would delete
  more than ``GuardConfig.max_delete_share`` of them, is *rejected*:
  nothing is written but its ``sync_runs`` row, with the reason. A first
  load (no live rows) is exempt from the two shares.
* **Decimals are compared by value**: ``12.5`` and ``12.50`` are the same
  amount, and the stored text keeps its first form.
* **An unread field keeps its stored value.** A field in a record's
  ``unread`` set (its cell could not be read, or the export does not show
  its column) is unknown, not empty: the stored value stays, it is never
  cleared nor noted as a pending blank (a note it already has stays as it
  is), and a new row stores NULL for it. A key field or a required field
  cannot be unread (:class:`~archid.store.errors.UnreadFieldError`).
* **Keys are the records' stable keys** (:func:`archid.records.record_key`):
  business numbers, not the internal IDs the ERP renumbers, so a
  renumbering is a run of updates of ``id``. Duplicate keys in one export
  keep the first row and count the rest as dropped. The one key that
  changes is a pending order's (see :mod:`archid.store.rekey`): the row
  takes its new key in place, one ``update`` entry whose ``old_key`` says
  what it was.
"""

from __future__ import annotations

import json
import operator
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import apsw

from archid.config import GuardConfig
from archid.records import ExportType, Record
from archid.store.database import Database, SeenCache, utc_text
from archid.store.errors import ExportTypeError, UnreadFieldError, sqlite_errors
from archid.store.marks import ListMark, MarkRow, mark_row, write_mark
from archid.store.rekey import order_rekeys
from archid.store.runs import (
    Mode,
    ModeValue,
    Outcome,
    RunCounts,
    RunMeta,
    RunResult,
    Trigger,
    TriggerValue,
    check_mode_trigger,
    finish_run,
    record_failed_run,
    start_run,
)
from archid.store.schema import ATTENTION, TABLES, SqlRow, TableSpec, quote, row_hash

#: Keys per ``IN (…)`` lookup of stored rows (well under SQLite's limits).
_LOOKUP_CHUNK = 500

#: ``sync_runs.error_class`` of a run the guard refused. The outcome
#: (``rejected``) says what happened; this name is older than it and stays,
#: since stored rows, the alert rules and ``docs/database.md`` know it. No
#: exception of that name is raised here (the portal's ``ExportRejected`` is
#: another failure), so it is named once, not taken from a class.
_REFUSED_ERROR_CLASS = "ExportRejected"


@dataclass(slots=True)
class _Plan:
    """What a run will write, worked out before writing anything."""

    inserts: list[tuple[object, ...]] = field(default_factory=list)
    updates: list[tuple[object, ...]] = field(default_factory=list)
    unchanged_keys: list[str] = field(default_factory=list)
    mark_missing: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    rekeys: dict[str, str] = field(default_factory=dict)  # new key -> stored key
    # key, op, fields, old_key
    feed: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    cache: SeenCache = field(default_factory=dict)
    updated: int = 0
    restored: int = 0
    rewritten: int = 0  # known rows written without a change of their values
    blanks_held: int = 0
    first_load: bool = False


@dataclass(slots=True)
class _Stored:
    """The table's state at the start of the run."""

    clean: dict[str, bytes]  # live rows without pending state: key -> content hash
    attention: dict[str, tuple[bool, int]]  # other rows: key -> (deleted, missing_count)

    @property
    def live(self) -> int:
        return len(self.clean) + sum(1 for deleted, _ in self.attention.values() if not deleted)

    def __contains__(self, key: object) -> bool:
        return key in self.clean or key in self.attention


@dataclass(frozen=True, slots=True)
class _StoredRow:
    """One stored row, as :meth:`_Run._merge` needs it."""

    values: SqlRow
    pending: list[str]
    deleted: bool
    missing_count: int
    content_hash: bytes


def apply_sync(
    db: Database,
    export_type: ExportType,
    records: Iterable[Record],
    *,
    mode: ModeValue = Mode.FULL,
    trigger: TriggerValue = Trigger.SCHEDULE,
    meta: RunMeta | None = None,
    guard: GuardConfig | None = None,
    before_commit: Callable[[], None] | None = None,
    record_failure: bool = True,
    requested_by: str | None = None,
    mark: ListMark | None = None,
) -> RunResult:
    """Apply the records of one export of *export_type* and record the run.

    *before_commit*, if given, is called inside the transaction once every
    row is written, just before COMMIT (failure drills use it to hold an
    apply open); whatever it raises rolls the whole run back.

    *requested_by* is who asked for the run (``None``: the schedule), kept
    in its ``sync_runs`` row. *mark*, for a full export, is what the list
    looked like when the export started: it becomes the type's row of
    ``list_marks`` in the same transaction, if the run is ``ok``
    (:mod:`archid.store.marks`); an ``ok`` full apply without a mark
    removes the type's mark, a rejected or failed one leaves it as it was.

    *records* is everything the parser yielded (``mode="full"``) or the
    recently changed rows (``mode="recent"``, which inserts, updates and
    restores but never deletes). Returns the run with ``outcome`` ``"ok"``
    or ``"rejected"`` (see the module docstring).

    Raises :class:`~archid.store.errors.ExportTypeError` before writing
    anything if a record is not of *export_type*, ``ValueError`` for an
    unknown mode or trigger, a *mark* with a ``recent`` apply or a mark
    :func:`~archid.store.marks.mark_row` refuses, and whatever the parser raises while *records*
    is iterated (nothing is written then either: record the failure with
    :func:`~archid.store.runs.record_failed_run`). If the apply itself fails
    (from ``BEGIN IMMEDIATE`` to ``COMMIT``), the transaction is rolled back,
    a ``failed`` run is recorded if the database still allows it (unless
    *record_failure* is false: the caller records it, as the daemon does
    off its event loop, retrying while the database is busy), and the
    error is re-raised; SQLite's errors as the store's
    (:class:`~archid.store.errors.DatabaseBusy`, :class:`~archid.store.errors.DiskFull`,
    … see :func:`~archid.store.errors.sqlite_error`).
    """
    check_mode_trigger(mode, trigger)
    mode, trigger = Mode(mode), Trigger(trigger)
    if mark is not None and mode != "full":
        raise ValueError(f"a list mark describes a full export, not a {mode!r} one")
    marked = None if mark is None else mark_row(mark)
    meta = meta or RunMeta()
    guard = guard or GuardConfig()
    spec = TABLES[export_type]
    clock_start = time.perf_counter()
    started_at = utc_text(meta.started_at) if meta.started_at else db.now()
    # Read everything before taking the write lock: a parser feeding a
    # generator must not hold the database while it parses.
    incoming, parsed = _collect(spec, records)
    run = _Run(
        db,
        spec,
        mode,
        trigger,
        meta,
        guard,
        started_at,
        clock_start,
        requested_by=requested_by,
        mark=marked,
    )
    connection = db.connection
    try:
        # Inside the try: a lock held past the busy timeout is a failed run too.
        with sqlite_errors(connection, f"applying the {export_type} export"):
            connection.execute("BEGIN IMMEDIATE")
            result = run.apply(incoming, parsed)
            if before_commit is not None:
                before_commit()
            connection.execute("COMMIT")
    except Exception as exc:
        _roll_back(connection, exc)
        if not record_failure:
            raise
        try:
            record_failed_run(
                db,
                export_type,
                mode,
                trigger,
                error_class=type(exc).__name__,
                message=str(exc),
                stage="apply",
                meta=meta,
                requested_by=requested_by,
            )
        except Exception as also:  # the database may be unusable: keep the first error
            exc.add_note(f"recording the failed run failed too: {also!r}")
        raise
    except BaseException as exc:
        _roll_back(connection, exc)
        raise
    # Only now is the run's state the stored state.
    seen = db.seen_cache.setdefault(export_type, {})
    seen.update(run.plan.cache)
    if mode == Mode.FULL and result.outcome is Outcome.OK:
        # A key a full export lacks is missing or deleted: kept, its entry
        # would grow the process with every record the portal ever dropped.
        for key in seen.keys() - incoming.keys():
            del seen[key]
    return result


def _roll_back(connection: apsw.Connection, exc: BaseException) -> None:
    """End the failed transaction, if one is open; a ROLLBACK that fails too
    (the disk is gone) is noted on *exc*: SQLite rolls back at the next open."""
    try:
        if not connection.getautocommit():
            connection.execute("ROLLBACK")
    except Exception as also:
        exc.add_note(f"the rollback failed too: {also!r}")


def _collect(spec: TableSpec, records: Iterable[Record]) -> tuple[dict[str, Record], int]:
    """The records by key (the first of duplicates wins) and how many came;
    raises ExportTypeError on a record of another type."""
    records = list(records)
    record_type = spec.record_type
    # Whole-list operations run at C speed; this is on every sync's path.
    foreign = set(map(type, records)) - {record_type}
    if foreign:
        names = sorted(kind.__name__ for kind in foreign)
        raise ExportTypeError(f"{spec.name} holds {record_type.__name__} records, not {names}")
    key_of = spec.key_of
    incoming: dict[str, Record] = dict(zip(map(key_of, records), records, strict=True))
    if len(incoming) < len(records):
        # Duplicates: dict() kept the last of each; keep the first instead.
        incoming = {}
        for record in records:
            incoming.setdefault(key_of(record), record)
    _check_unread(spec, filter(_unread_of, records))
    return incoming, len(records)


_unread_of = operator.attrgetter("unread")


def _check_unread(spec: TableSpec, flagged: Iterable[Record]) -> None:
    """Raise UnreadFieldError for a record whose unread set names a field the
    store cannot keep unknown (a key field, a required one, or no field)."""
    optional = {column.name for column in spec.columns if not column.not_null}
    allowed = optional - spec.key_fields
    for record in flagged:
        bad = record.unread - allowed
        if not bad:
            continue
        what = [f"{name} ({_why_not_unread(spec, name)})" for name in sorted(bad)]
        raise UnreadFieldError(
            f"{spec.name} record {spec.key_of(record)!r} has unread fields the store cannot"
            f" keep unknown: {', '.join(what)}"
        )


def _why_not_unread(spec: TableSpec, name: str) -> str:
    if name in spec.key_fields:
        return "a key field"
    if name in spec.field_names:
        return "required"
    return "not a field"


class _Run:
    """One apply inside its transaction: read, plan, guard, write, record."""

    def __init__(
        self,
        db: Database,
        spec: TableSpec,
        mode: Mode,
        trigger: Trigger,
        meta: RunMeta,
        guard: GuardConfig,
        started_at: str,
        clock_start: float,
        *,
        requested_by: str | None = None,
        mark: MarkRow | None = None,
    ) -> None:
        self.db = db
        self.connection = db.connection
        self.spec = spec
        self.table = quote(spec.name)
        self.key = quote(spec.key_name)
        self.quoted_seen = quote(spec.seen_name)
        self.mode = mode
        self.trigger = trigger
        self.meta = meta
        self.guard = guard
        self.started_at = started_at
        self.clock_start = clock_start
        self.plan = _Plan()
        self.now = ""
        self.run_id = 0
        self.requested_by = requested_by
        self.mark = mark
        """The list mark an ok full apply writes (None: it removes the type's)."""

    def apply(self, incoming: dict[str, Record], parsed: int) -> RunResult:
        db, spec = self.db, self.spec
        self.run_id = start_run(
            db,
            spec.export_type,
            self.mode,
            self.trigger,
            self.started_at,
            requested_by=self.requested_by,
        )
        self.now = self.db.now()
        stored = self._read()
        live = stored.live
        plan = self.plan
        reason = _refuse_export(self.mode, len(incoming), live, self.guard)
        if reason is None:
            plan.first_load = not stored.clean and not stored.attention
            if plan.first_load:
                self._load(incoming)
            else:
                self._classify(incoming, stored)
            if self.mode == "full":
                self._absent(incoming, stored)
                if live and len(plan.deletes) > self.guard.max_delete_share * live:
                    reason = (
                        f"would delete {len(plan.deletes)} of {live} live rows,"
                        f" more than {self.guard.max_delete_share:.0%}"
                    )
        dropped = self.meta.dropped + parsed - len(incoming)
        first_seq = last_seq = None
        if reason is not None:
            outcome = Outcome.REJECTED
            counts = RunCounts(parsed=parsed, dropped=dropped)
            plan.cache.clear()
        else:
            outcome = Outcome.OK
            first_seq, last_seq = self._write()
            counts = RunCounts(
                parsed=parsed,
                inserted=len(plan.inserts),
                updated=plan.updated,
                unchanged=len(plan.unchanged_keys) + plan.rewritten,
                deleted=len(plan.deletes),
                restored=plan.restored,
                dropped=dropped,
                missing=len(plan.mark_missing),
                blanks_held=plan.blanks_held,
            )
        stages = dict(self.meta.stage_seconds)
        stages["apply"] = round(time.perf_counter() - self.clock_start, 6)
        result = RunResult(
            run_id=self.run_id,
            export_type=self.spec.export_type,
            mode=self.mode,
            trigger=self.trigger,
            outcome=outcome,
            counts=counts,
            started_at=self.started_at,
            ended_at=self.db.now(),
            stage_seconds=stages,
            reason=reason,
            first_seq=first_seq,
            last_seq=last_seq,
            requested_by=self.requested_by,
        )
        finish_run(
            self.db,
            result,
            self.meta,
            error_stage="apply" if reason else None,
            error_class=_REFUSED_ERROR_CLASS if reason else None,
        )
        if outcome is Outcome.OK and self.mode == Mode.FULL:
            # The mark goes with the data it describes: the same transaction.
            write_mark(db, spec.export_type, self.mark, self.run_id)
        return result

    def _read(self) -> _Stored:
        # dict() over the cursor builds the big map at C speed; the partial
        # index makes the second query touch only the few special rows.
        clean = dict(
            self.connection.execute(
                f"SELECT {self.key}, content_hash FROM {self.table} WHERE NOT ({ATTENTION})"
            )
        )
        attention = {
            key: (bool(deleted), missing_count)
            for key, deleted, missing_count in self.connection.execute(
                f"SELECT {self.key}, deleted_at IS NOT NULL, missing_count FROM {self.table}"
                f" WHERE {ATTENTION}"
            )
        }
        return _Stored(clean, attention)

    def _load(self, incoming: dict[str, Record]) -> None:
        """Plan a first load: every record is an insert (the fastest path;
        the feed entries are written by one statement in :meth:`_feed`)."""
        now = self.now
        cache = self.plan.cache
        inserts = self.plan.inserts
        for key, record in incoming.items():
            row, cacheable = self._new_row(record)
            content_hash = row_hash(row)
            inserts.append((key, *row, content_hash, now, now))
            if cacheable:
                cache[key] = (record, content_hash)

    def _new_row(self, record: Record) -> tuple[SqlRow, bool]:
        """The row a new record is stored as, and whether it is the record's own
        (an unread field is stored NULL, whatever the record holds)."""
        row = self.spec.to_row(record)
        if not record.unread:
            return row, True
        blanked = tuple(
            None if column.name in record.unread else value
            for column, value in zip(self.spec.columns, row, strict=True)
        )
        return blanked, blanked == row

    def _classify(self, incoming: dict[str, Record], stored: _Stored) -> None:
        """Sort the incoming records into inserts, unchanged rows and rows
        to compare field by field (:meth:`_merge`)."""
        spec = self.spec
        plan = self.plan
        to_row = spec.to_row
        values_of = spec.values
        cache = self.db.seen_cache.get(spec.export_type, {})
        fresh = plan.cache
        clean = stored.clean
        attention = stored.attention
        unchanged = plan.unchanged_keys
        # The common case first, as one comprehension: a record equal to
        # the one this process last stored under the same hash is unchanged,
        # with no conversion and no hashing.
        unchanged.extend(
            key
            for key, record in incoming.items()
            if (hit := cache.get(key)) is not None
            and hit[1] == clean.get(key)
            and values_of(hit[0]) == values_of(record)
        )
        known = set(unchanged)
        slow: list[str] = []
        new: list[str] = []
        for key, record in incoming.items():
            if key in known:
                continue
            stored_hash = clean.get(key)
            if stored_hash is not None:
                content_hash = row_hash(to_row(record))
                if content_hash == stored_hash:
                    fresh[key] = (record, content_hash)
                    unchanged.append(key)
                    continue
                slow.append(key)
            elif key in attention:
                slow.append(key)
            else:
                new.append(key)
        if new and spec.export_type is ExportType.ORDERS:
            plan.rekeys = order_rekeys(
                self.connection, spec, incoming, new, stored, full=self.mode == "full"
            )
        self._insert(incoming, new)
        slow += plan.rekeys
        for start in range(0, len(slow), _LOOKUP_CHUNK):
            chunk = slow[start : start + _LOOKUP_CHUNK]
            rows = self._stored_rows([plan.rekeys.get(key, key) for key in chunk])
            for key in chunk:
                old_key = plan.rekeys.get(key)
                self._merge(key, incoming[key], rows[old_key or key], old_key)

    def _insert(self, incoming: dict[str, Record], keys: list[str]) -> None:
        """Plan the insert of the records of *keys* that take no stored row's key."""
        plan = self.plan
        now = self.now
        for key in keys:
            if key in plan.rekeys:
                continue
            record = incoming[key]
            row, cacheable = self._new_row(record)
            content_hash = row_hash(row)
            plan.inserts.append((key, *row, content_hash, now, now))
            plan.feed.append((key, "insert", None, None))
            if cacheable:
                plan.cache[key] = (record, content_hash)

    def _stored_rows(self, keys: list[str]) -> dict[str, _StoredRow]:
        """The stored rows of *keys* (stored keys), with their bookkeeping."""
        spec = self.spec
        columns = ", ".join(quote(name) for name in spec.field_names)
        sql = (
            f"SELECT {self.key}, {columns}, pending_blank, deleted_at IS NOT NULL,"
            f" missing_count, content_hash FROM {self.table}"
            f" WHERE {self.key} IN ({', '.join('?' * len(keys))})"
        )
        end = len(spec.columns) + 1
        out: dict[str, _StoredRow] = {}
        for row in self.connection.execute(sql, keys):
            pending, deleted, missing_count, content_hash = row[end:]
            out[row[0]] = _StoredRow(
                values=tuple(row[1:end]),
                pending=json.loads(pending) if pending else [],
                deleted=bool(deleted),
                missing_count=missing_count,
                content_hash=content_hash,
            )
        return out

    def _merge(self, key: str, record: Record, stored: _StoredRow, old_key: str | None) -> None:
        """Work out the write of a known row whose hash or state differs
        (*old_key*: the row's stored key, when it takes the new *key*)."""
        spec = self.spec
        plan = self.plan
        old, pending = stored.values, stored.pending
        new = spec.to_row(record)
        unread = record.unread
        merged = list(new)
        notes: list[str] = []  # pending_blank after this run
        held = 0
        for index, column in enumerate(spec.columns):
            value, before, name = new[index], old[index], column.name
            if unread and name in unread:
                # Unknown, not empty: keep the value and whatever note it has.
                merged[index] = before
                if name in pending:
                    notes.append(name)
                continue
            if value == before:
                continue
            if value is None:
                if name not in pending:
                    # First export without it: keep the value until the next agrees.
                    merged[index] = before
                    notes.append(name)
                    held += 1
                # else: the second export in a row without it clears it
            elif (
                before is not None
                and column.python_type is Decimal
                and Decimal(str(value)) == Decimal(str(before))
            ):
                merged[index] = before  # the same amount, written differently
        row = tuple(merged)
        content_hash = row_hash(row)
        if row == new:
            # The stored row is exactly this record: the fast path may use it.
            plan.cache[key] = (record, content_hash)
        if (
            old_key is None
            and not stored.deleted
            and not stored.missing_count
            and content_hash == stored.content_hash
            and set(notes) == set(pending)
        ):
            # Nothing to write: the values kept (unread, or equal amounts) are the stored ones.
            plan.unchanged_keys.append(key)
            return
        changed = [c.name for c, a, b in zip(spec.columns, row, old, strict=True) if a != b]
        op: str | None
        if stored.deleted:
            op = "restore"
            plan.restored += 1
        elif changed or old_key is not None:
            op = "update"
            plan.updated += 1
        else:
            op = None
            plan.rewritten += 1
        plan.blanks_held += held
        plan.updates.append(
            (
                *row,
                content_hash,
                self.now if op else None,
                json.dumps(notes) if notes else None,
                key,
            )
        )
        if op is not None:
            fields = json.dumps(changed) if op == "update" else None
            plan.feed.append((key, op, fields, old_key))

    def _absent(self, incoming: dict[str, Record], stored: _Stored) -> None:
        """Mark live rows absent from a full export missing, or delete them
        if the previous full export lacked them too. A row that took a new
        key is not absent."""
        plan = self.plan
        moved = set(plan.rekeys.values())
        plan.mark_missing.extend(
            key for key in stored.clean if key not in incoming and key not in moved
        )
        for key, (deleted, missing_count) in stored.attention.items():
            if deleted or key in incoming or key in moved:
                continue
            if missing_count >= 1:
                plan.deletes.append(key)
                plan.feed.append((key, "delete", None, None))
            else:
                plan.mark_missing.append(key)

    def _write(self) -> tuple[int | None, int | None]:
        """Execute the plan; return the first and last change-feed ``seq``."""
        connection = self.connection
        plan = self.plan
        table, key, now = self.table, self.key, self.now
        names = [quote(name) for name in self.spec.field_names]
        if plan.inserts:
            width = len(names) + 4
            connection.executemany(
                f"INSERT INTO {table} ({key}, {', '.join(names)}, content_hash, first_seen,"
                f" last_changed) VALUES ({', '.join('?' * width)})",
                plan.inserts,
            )
        if plan.rekeys:
            # New keys are keys no row has: these cannot collide.
            moves = [(new, old) for new, old in plan.rekeys.items()]
            for name in (table, self.quoted_seen):
                connection.executemany(f"UPDATE {name} SET {key} = ? WHERE {key} = ?", moves)
        if plan.updates:
            assignments = ", ".join(f"{name} = ?" for name in names)
            connection.executemany(
                f"UPDATE {table} SET {assignments}, content_hash = ?,"
                " last_changed = coalesce(?, last_changed), pending_blank = ?,"
                f" deleted_at = NULL, missing_count = 0, missing_since_run = NULL"
                f" WHERE {key} = ?",
                plan.updates,
            )
        if plan.mark_missing:
            connection.executemany(
                f"UPDATE {table} SET missing_count = missing_count + 1,"
                f" missing_since_run = coalesce(missing_since_run, ?) WHERE {key} = ?",
                [(self.run_id, k) for k in plan.mark_missing],
            )
        if plan.deletes:
            connection.executemany(
                f"UPDATE {table} SET deleted_at = ?, last_changed = ?,"
                f" missing_count = missing_count + 1 WHERE {key} = ?",
                [(now, now, k) for k in plan.deletes],
            )
        self._touch()
        return self._feed()

    def _touch(self) -> None:
        """Set ``last_seen`` of every row this export held."""
        plan = self.plan
        seen = self.quoted_seen
        if plan.first_load:
            self.connection.execute(
                f"INSERT INTO {seen} ({self.key}, last_seen)"
                f" SELECT {self.key}, ? FROM {self.table}",
                (self.now,),
            )
            return
        if plan.inserts:
            self.connection.executemany(
                f"INSERT INTO {seen} ({self.key}, last_seen) VALUES (?, ?)",
                [(row[0], self.now) for row in plan.inserts],
            )
        known = len(plan.unchanged_keys) + len(plan.updates)
        if self.mode == "full" and known >= _BULK_TOUCH:
            # Every row not deleted or missing after this run was in this full
            # export: one statement beats one per key once there are many.
            self.connection.execute(
                f"UPDATE {seen} SET last_seen = ? WHERE {self.key} NOT IN"
                f" (SELECT {self.key} FROM {self.table} WHERE ({ATTENTION})"
                " AND (deleted_at IS NOT NULL OR missing_count > 0))",
                (self.now,),
            )
            return
        keys = [*plan.unchanged_keys, *(update[-1] for update in plan.updates)]
        self.connection.executemany(
            f"UPDATE {seen} SET last_seen = ? WHERE {self.key} = ?",
            [(self.now, key) for key in keys],
        )

    def _feed(self) -> tuple[int | None, int | None]:
        """Append the run's change-feed entries, in export order."""
        plan = self.plan
        if plan.first_load:
            # Every row is an insert of this run: copy the keys in one statement.
            self.connection.execute(
                f"INSERT INTO changes (type, key, op, run_id) SELECT ?, {self.key}, 'insert', ?"
                f" FROM {self.table} ORDER BY rowid",
                (self.spec.name, self.run_id),
            )
            count = len(plan.inserts)
        elif plan.feed:
            count = len(plan.feed)
            kind, run_id = self.spec.name, self.run_id
            self.connection.executemany(
                "INSERT INTO changes (type, key, op, run_id, fields, old_key)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(kind, k, op, run_id, fields, old) for k, op, fields, old in plan.feed],
            )
        else:
            return None, None
        last: int = self.connection.last_insert_rowid()
        # One statement under the write lock: the run's entries are consecutive.
        return last - count + 1, last


#: From this many rows seen on, one table-wide UPDATE sets last_seen.
_BULK_TOUCH = 2000


def _refuse_export(mode: Mode, unique: int, live: int, guard: GuardConfig) -> str | None:
    """The reason to reject a run from its size alone, or ``None``."""
    if mode != "full":
        # A recent export only adds and updates, and may well be empty.
        return None
    if unique == 0:
        return "empty export: 0 rows"
    if live and unique < guard.min_export_share * live:
        return (
            f"shrunken export: {unique} rows for {live} live rows,"
            f" fewer than {guard.min_export_share:.0%}"
        )
    return None
