"""What archid measures: figures from the database and from the running daemon.

Three kinds of figures, each read where it lives:

* :class:`RunTotals`, from ``sync_runs``: runs by outcome, changes, parse
  warnings, rejected exports, stage durations, last success and attempt.
  Every attempt has its row (:mod:`archid.store.runs`), so the counters
  are rebuilt from the table at start and survive restarts; afterwards
  only rows newer than the last one read are read.
* :class:`StoreFigures`, also read from disk: live records per type, dead
  letters, what is left of today's login budget.
* :class:`LiveFigures`, from the daemon in memory (on the event loop):
  queue, pauses, breaker, portal hold, failures in a row, sessions, logins.

:class:`ArchidCollector` turns the latest of each into Prometheus metric
families, every series labelled ``archid_instance``. The disk reads are
blocking: :class:`StoreReader` is called from a worker thread.
"""

from __future__ import annotations

import contextlib
import json
import math
import platform
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import apsw
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from archid import __version__
from archid.daemon.breaker import BreakerState
from archid.records import ExportType
from archid.runs import Outcome
from archid.store.database import open_reader
from archid.store.schema import TABLES, quote

if TYPE_CHECKING:
    from archid.daemon.service import Daemon
    from archid.portal.lanes import PortalLanes

#: the ``outcome`` label of ``archid_sync_runs_total``: ``sync_runs.outcome``
#: (rows from before the outcomes ``cancelled`` and ``interrupted`` existed are
#: carried over by the store's migration)
OUTCOMES: Final = tuple(Outcome)
#: the ``op`` label of ``archid_records_changed_total``: a change-feed entry each
OPS: Final = ("inserted", "updated", "deleted", "restored")
#: upper bounds (seconds) of the stage-duration buckets: a parse takes well
#: under a second, a large export through a slow portal many minutes
BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
#: rows of ``sync_runs`` read per query, so no read holds a snapshot long
BATCH: Final = 5000

TYPES: Final = tuple(str(t) for t in ExportType)


@dataclass
class Histogram:
    """Observations of one (type, stage): counts per bucket of :data:`BUCKETS`
    (not cumulative; the last one is above every bound), sum and count."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0

    def observe(self, value: float) -> None:
        index = next((i for i, bound in enumerate(BUCKETS) if value <= bound), len(BUCKETS))
        self.counts[index] += 1
        self.total += value

    def merge(self, other: Histogram) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.total += other.total

    def cumulative(self) -> list[tuple[str, float]]:
        """Buckets as the exposition format has them: ``le`` bound, running count."""
        running, out = 0, []
        for bound, count in zip((*BUCKETS, math.inf), self.counts, strict=True):
            running += count
            out.append(("+Inf" if bound == math.inf else repr(bound), float(running)))
        return out


@dataclass
class RunTotals:
    """What the rows of ``sync_runs`` up to ``last_id`` add up to.

    Durations are those of successful runs only (a failed run's stages end
    where it failed): each stage the run timed (``export``, its parts
    ``export_login``, ``export_download``…, ``parse``, ``apply``) and
    ``total``, from the attempt's start to its commit.
    """

    last_id: int = 0
    runs: Counter[tuple[str, str]] = field(default_factory=Counter)
    changed: Counter[tuple[str, str]] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    last_success: dict[str, float] = field(default_factory=dict)
    last_attempt: dict[str, float] = field(default_factory=dict)
    durations: dict[tuple[str, str], Histogram] = field(default_factory=dict)

    def add(self, row: Mapping[str, Any]) -> None:
        """Take one ``sync_runs`` row (a column → value mapping)."""
        export_type = str(row["type"])
        outcome = Outcome(row["outcome"])
        self.runs[export_type, outcome] += 1
        self.last_id = max(self.last_id, int(row["id"]))
        ended = _timestamp(row["ended_at"])
        if ended is not None:
            previous = self.last_attempt.get(export_type, ended)
            self.last_attempt[export_type] = max(previous, ended)
        self.warnings[export_type] += _warning_count(row["warnings"])
        if not outcome.succeeded:
            return
        if ended is not None:
            previous = self.last_success.get(export_type, ended)
            self.last_success[export_type] = max(previous, ended)
        if outcome is not Outcome.OK:
            return
        for op in OPS:
            self.changed[export_type, op] += int(row[op] or 0)
        stages = _stage_seconds(row["stage_seconds"])
        started = _timestamp(row["started_at"])
        if started is not None and ended is not None:
            stages["total"] = max(0.0, ended - started)
        for stage, seconds in stages.items():
            self.durations.setdefault((export_type, stage), Histogram()).observe(seconds)

    def merge(self, newer: RunTotals) -> None:
        """Add the totals of the rows after ours (``newer`` read since ``last_id``)."""
        self.last_id = max(self.last_id, newer.last_id)
        self.runs.update(newer.runs)
        self.changed.update(newer.changed)
        self.warnings.update(newer.warnings)
        for mine, theirs in (
            (self.last_success, newer.last_success),
            (self.last_attempt, newer.last_attempt),
        ):
            for key, at in theirs.items():
                mine[key] = max(mine.get(key, at), at)
        for series, histogram in newer.durations.items():
            self.durations.setdefault(series, Histogram()).merge(histogram)


def _timestamp(text: object) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _stage_seconds(text: object) -> dict[str, float]:
    try:
        data = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in data.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
    }


def _warning_count(text: object) -> int:
    """Messages plus unreadable cells the parse reported (``sync_runs.warnings``)."""
    if not isinstance(text, str):
        return 0
    try:
        data = json.loads(text)
    except ValueError:
        return 0
    if not isinstance(data, dict):
        return 0
    messages = data.get("messages")
    cells = data.get("bad_cell_count")
    return (len(messages) if isinstance(messages, list) else 0) + (
        cells if isinstance(cells, int) and cells > 0 else 0
    )


@dataclass(frozen=True, slots=True)
class StoreFigures:
    """What the database and the login ledger say now."""

    records: Mapping[str, int]
    dead_letters: int
    #: ``None`` when the daemon has no budget (never in ``archid run``)
    budget_remaining: int | None


_RUN_COLUMNS: Final = (
    "id",
    "type",
    "outcome",
    "error_class",
    "started_at",
    "ended_at",
    *OPS,
    "stage_seconds",
    "warnings",
)


class StoreReader:
    """Reads the figures from its own read-only connection to the mirror.

    Blocking; one call at a time (from a worker thread). The connection is
    opened at the first read and reopened after an error, so a database
    that was briefly unreadable is read again later.
    """

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self.path = path
        self._busy_timeout = busy_timeout
        self._connection: apsw.Connection | None = None
        #: live rows per type, recounted only after a type's successful run
        self._records: dict[str, int] = {}

    def read(self, since: int, budget_remaining: Any = None) -> tuple[RunTotals, StoreFigures]:
        """The totals of the runs after row ``since``, and the store's figures.

        ``budget_remaining`` is a callable returning the logins left today
        (a :meth:`~archid.portal.budget.LoginBudget.remaining`), or ``None``.
        Raises ``apsw`` errors and ``OSError`` (the reader closes its
        connection first).
        """
        try:
            return self._read(since, budget_remaining)
        except BaseException:
            self.close()
            raise

    def _read(self, since: int, budget_remaining: Any) -> tuple[RunTotals, StoreFigures]:
        connection = self._connect()
        totals = RunTotals(last_id=since)
        select = ", ".join(_RUN_COLUMNS)
        while True:
            rows = list(
                connection.execute(
                    f"SELECT {select} FROM sync_runs WHERE id > ? ORDER BY id LIMIT ?",
                    (totals.last_id, BATCH),
                )
            )
            for row in rows:
                totals.add(dict(zip(_RUN_COLUMNS, row, strict=True)))
            if len(rows) < BATCH:
                break
        recount = {t for (t, outcome) in totals.runs if outcome is Outcome.OK}
        for export_type in ExportType:
            name = str(export_type)
            if name in recount or name not in self._records:
                table = TABLES[export_type].name
                sql = f"SELECT count(*) FROM {quote(table)} WHERE deleted_at IS NULL"
                self._records[name] = _count(connection, sql)
        letters = _count(connection, "SELECT count(*) FROM dead_letters")
        remaining = None
        if budget_remaining is not None:
            # An unusable ledger folder is the portal's to report, when it logs in.
            with contextlib.suppress(OSError):
                remaining = int(budget_remaining())
        return totals, StoreFigures(dict(self._records), letters, remaining)

    def _connect(self) -> apsw.Connection:
        if self._connection is None:
            self._connection = open_reader(self.path, busy_timeout=self._busy_timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _count(connection: apsw.Connection, sql: str) -> int:
    (count,) = connection.execute(sql).fetchall()[0]
    assert isinstance(count, int)
    return count


@dataclass(frozen=True, slots=True)
class LiveFigures:
    """What the running daemon holds in memory."""

    queue_depth: int = 0
    paused: Mapping[str, bool] = field(default_factory=dict)
    breaker_open: bool = False
    portal_hold: bool = False
    consecutive_failures: Mapping[str, int] = field(default_factory=dict)
    sessions: int = 0
    logins: int = 0
    #: seconds between scheduled syncs, for the enabled types only
    intervals: Mapping[str, float] = field(default_factory=dict)


def live_figures(daemon: Daemon, portal: PortalLanes | None) -> LiveFigures:
    """Read the daemon's figures (on the event loop; no I/O beyond a ``stat``)."""
    status = daemon.status()
    schedules = daemon.config.schedules
    return LiveFigures(
        queue_depth=len(status.queue),
        paused={str(t): status.paused.covers(t) for t in ExportType},
        # Half-open lets one trial sync through: the portal is still not trusted.
        breaker_open=status.breaker is not BreakerState.CLOSED,
        portal_hold=status.portal_hold is not None,
        consecutive_failures={str(t): daemon.health.of(t).consecutive_failures for t in ExportType},
        sessions=status.sessions,
        logins=portal.logins if portal is not None else 0,
        intervals={str(t): daemon.scheduler.interval(t) for t, s in schedules.items() if s.enabled},
    )


class ArchidCollector(Collector):
    """The metric families of one daemon, from the figures last given to it.

    ``up`` is 1 while the daemon runs; the last file written at a clean
    stop says 0.
    """

    def __init__(self, instance: str, started: float) -> None:
        self.instance = instance
        self.started = started
        self.up = True
        self.totals = RunTotals()
        self.store: StoreFigures | None = None
        self.live = LiveFigures()

    def collect(self) -> Iterator[Metric]:
        i = self.instance
        totals, live, store = self.totals, self.live, self.store

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            family = GaugeMetricFamily(name, doc, labels=["archid_instance"])
            family.add_metric([i], value)
            return family

        def per_type(
            family: GaugeMetricFamily | CounterMetricFamily, values: Mapping[str, float]
        ) -> GaugeMetricFamily | CounterMetricFamily:
            for export_type, value in values.items():
                family.add_metric([i, export_type], value)
            return family

        typed = ["archid_instance", "type"]
        yield gauge("archid_up", "1 while archid runs; 0 in the file a clean stop leaves.", self.up)
        info = GaugeMetricFamily(
            "archid_build_info",
            "archid's version and Python's, as labels (the value is 1).",
            labels=["archid_instance", "version", "python"],
        )
        info.add_metric([i, __version__, platform.python_version()], 1)
        yield info
        yield gauge(
            "archid_start_time_seconds", "When the daemon started, Unix seconds.", self.started
        )

        runs = CounterMetricFamily(
            "archid_sync_runs",
            "Sync attempts recorded in sync_runs, by outcome (unchanged: checked, not exported;"
            " cancelled: cut off by a stop or an admin; preempted: gave the portal to a"
            " person's request and ran again).",
            labels=[*typed, "outcome"],
        )
        for export_type in TYPES:
            for outcome in OUTCOMES:
                runs.add_metric([i, export_type, outcome], totals.runs[export_type, outcome])
        yield runs
        yield per_type(
            CounterMetricFamily(
                "archid_export_rejected",
                "Exports the store's guard refused (too few rows, too many deletions).",
                labels=typed,
            ),
            {t: totals.runs[t, Outcome.REJECTED] for t in TYPES},
        )
        changed = CounterMetricFamily(
            "archid_records_changed",
            "Rows successful syncs wrote, one change-feed entry each, by operation.",
            labels=[*typed, "op"],
        )
        for export_type in TYPES:
            for op in OPS:
                changed.add_metric([i, export_type, op], totals.changed[export_type, op])
        yield changed
        yield per_type(
            CounterMetricFamily(
                "archid_parse_warnings",
                "Warnings and unreadable cells the parser reported.",
                labels=typed,
            ),
            {t: totals.warnings[t] for t in TYPES},
        )
        durations = HistogramMetricFamily(
            "archid_sync_duration_seconds",
            "Seconds each stage of a successful sync took (total: start to commit).",
            labels=[*typed, "stage"],
        )
        for (export_type, stage), histogram in sorted(totals.durations.items()):
            durations.add_metric(
                [i, export_type, stage], histogram.cumulative(), sum_value=histogram.total
            )
        yield durations
        yield per_type(
            GaugeMetricFamily(
                "archid_sync_last_success_timestamp_seconds",
                "When the type's last successful sync committed, Unix seconds.",
                labels=typed,
            ),
            totals.last_success,
        )
        yield per_type(
            GaugeMetricFamily(
                "archid_sync_last_attempt_timestamp_seconds",
                "When the type's last sync attempt ended, whatever its outcome, Unix seconds.",
                labels=typed,
            ),
            totals.last_attempt,
        )
        yield per_type(
            GaugeMetricFamily(
                "archid_sync_interval_seconds",
                "Seconds between scheduled syncs of each enabled type.",
                labels=typed,
            ),
            live.intervals,
        )

        if store is not None:
            yield per_type(
                GaugeMetricFamily(
                    "archid_records", "Live (not deleted) rows in the mirror.", labels=typed
                ),
                store.records,
            )
            yield gauge(
                "archid_dead_letters",
                "Sync requests that failed for good and wait for an admin.",
                store.dead_letters,
            )
            if store.budget_remaining is not None:
                yield gauge(
                    "archid_login_budget_remaining",
                    "Portal logins still allowed today (the day is Europe/Rome's).",
                    store.budget_remaining,
                )

        yield gauge("archid_queue_depth", "Sync requests waiting in the queue.", live.queue_depth)
        yield per_type(
            GaugeMetricFamily(
                "archid_paused", "1 while syncs of the type are paused.", labels=typed
            ),
            {t: float(p) for t, p in live.paused.items()},
        )
        yield gauge(
            "archid_breaker_open",
            "1 while the circuit breaker holds syncs back (open or half-open).",
            live.breaker_open,
        )
        yield gauge(
            "archid_portal_hold",
            "1 while a portal hold (wrong password, block, spent budget) stops all logins.",
            live.portal_hold,
        )
        yield per_type(
            GaugeMetricFamily(
                "archid_consecutive_failures",
                "Failed attempts in a row since the type's last success.",
                labels=typed,
            ),
            live.consecutive_failures,
        )
        yield gauge("archid_order_form_sessions", "Order-form sessions open now.", live.sessions)
        logins = CounterMetricFamily(
            "archid_portal_logins",
            "Portal logins this daemon process made (starts at 0 with the process).",
            labels=["archid_instance"],
        )
        logins.add_metric([i], live.logins)
        yield logins
