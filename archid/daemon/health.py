"""Health of each sync type and of the whole daemon.

A type is healthy when, over its recent runs, at least 80 % succeeded,
fewer than 3 failed in a row, and its last success is younger than three
of its intervals. The daemon is healthy when every enabled type is.

A run is one attempt, as in ``sync_runs``: a sync retried twice before it
succeeds is two failed runs and one good one. So health is rebuilt from
``sync_runs`` at start (:meth:`Health.replay`) and says after a restart
what it said before. Attempts an admin cancelled or that archid's stop
cut off are no outcome (error class ``Cancelled``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archid import logs
from archid.records import ExportType
from archid.runs import Outcome

log = logging.getLogger("archid.health")

#: how many recent runs the success rate is taken over
WINDOW = 20
MIN_SUCCESS_RATE = 0.8
MAX_CONSECUTIVE_FAILURES = 3
MAX_INTERVALS_SINCE_SUCCESS = 3


@dataclass(slots=True)
class TypeHealth:
    """Recent outcomes of one type."""

    outcomes: deque[bool] = field(default_factory=lambda: deque(maxlen=WINDOW))
    last_success: float | None = None
    last_failure: float | None = None
    consecutive_failures: int = 0
    last_error: str | None = None

    @property
    def success_rate(self) -> float | None:
        if not self.outcomes:
            return None
        return sum(self.outcomes) / len(self.outcomes)


class Health:
    """Tracks outcomes and says whether each type, and the daemon, is healthy."""

    def __init__(self, started: float) -> None:
        self._started = started
        self._types = {t: TypeHealth() for t in ExportType}

    def record(
        self, export_type: ExportType, ok: bool, at: float, error: str | None = None
    ) -> bool:
        """Note a finished sync; returns True when this failure should raise an alert."""
        self.record_quietly(export_type, ok, at)
        health = self._types[export_type]
        health.last_error = None if ok else error
        if ok or health.consecutive_failures != MAX_CONSECUTIVE_FAILURES:
            return False
        log.error(
            "ALERT: %s failed %d times in a row, last: %s",
            export_type,
            health.consecutive_failures,
            error,
            extra=logs.fields(type=export_type, alert=logs.Alert.FAILURES_IN_A_ROW),
        )
        return True

    def record_quietly(self, export_type: ExportType, ok: bool, at: float) -> None:
        """Note an outcome without alerting."""
        health = self._types[export_type]
        health.outcomes.append(ok)
        if ok:
            health.last_success, health.consecutive_failures = at, 0
        else:
            health.last_failure = at
            health.consecutive_failures += 1

    def replay(self, runs: Iterable[Mapping[str, Any]]) -> None:
        """Take the outcomes of recorded runs, newest first as
        :func:`archid.store.list_runs` lists them; no alert is raised."""
        for run in reversed(list(runs)):
            outcome = Outcome(run["outcome"])
            if not outcome.attempted:
                continue
            export_type = ExportType(run["type"])
            ok = outcome.succeeded
            ended = run.get("ended_at")
            at = datetime.fromisoformat(ended).timestamp() if ended else None
            health = self._types[export_type]
            health.outcomes.append(ok)
            if ok:
                health.last_success, health.consecutive_failures = at, 0
                health.last_error = None
            else:
                health.last_failure = at
                health.consecutive_failures += 1
                health.last_error = f"{run.get('error_class')}: {run.get('error_message')}"

    def of(self, export_type: ExportType) -> TypeHealth:
        return self._types[export_type]

    def is_healthy(self, export_type: ExportType, interval: float, now: float) -> bool:
        health = self._types[export_type]
        rate = health.success_rate
        if rate is not None and rate < MIN_SUCCESS_RATE:
            return False
        if health.consecutive_failures >= MAX_CONSECUTIVE_FAILURES:
            return False
        return not self.is_stale(export_type, interval, now)

    def since_success(self, export_type: ExportType, now: float) -> float:
        """Seconds since the last success of ``export_type``, or since the start."""
        last = self._types[export_type].last_success
        return now - (last if last is not None else self._started)

    def is_stale(self, export_type: ExportType, interval: float, now: float) -> bool:
        """Whether the last success is three intervals old or more (an alert)."""
        return self.since_success(export_type, now) >= MAX_INTERVALS_SINCE_SUCCESS * interval

    def report(self, intervals: Mapping[ExportType, float], now: float) -> dict[str, object]:
        """Per-type and overall health as JSON-ready data (enabled types only)."""
        types: dict[str, object] = {}
        for export_type, interval in intervals.items():
            health = self._types[export_type]
            types[str(export_type)] = {
                "healthy": self.is_healthy(export_type, interval, now),
                "success_rate": health.success_rate,
                "last_success": health.last_success,
                "consecutive_failures": health.consecutive_failures,
                "last_error": health.last_error,
            }
        healthy = all(
            self.is_healthy(export_type, interval, now)
            for export_type, interval in intervals.items()
        )
        return {"healthy": healthy, "types": types}
