"""Tables and lines a person reads at a glance, from the control methods' results."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from archid.config.durations import spoken_duration
from archid.ctl.stages import STAGE_LABELS, TYPE_NAMES
from archid.runs import Outcome


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], right: str = "") -> str:
    """Aligned columns, a header row, two spaces between columns.

    ``right`` holds one character per column, ``r`` for a right-aligned
    one (numbers); values are shown with :func:`cell`. The last column is
    not padded (no trailing spaces).
    """
    cells = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    lines = []
    for row in [list(headers), *cells]:
        parts = []
        for i, value in enumerate(row):
            if right[i : i + 1] == "r":
                parts.append(value.rjust(widths[i]))
            elif i == len(row) - 1:
                parts.append(value)
            else:
                parts.append(value.ljust(widths[i]))
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def cell(value: object) -> str:
    """A value as a table shows it: ``-`` for nothing, thousands separators, yes/no."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def timestamp(value: object) -> float | None:
    """Unix seconds from a number or an ISO 8601 text (``2026-03-20T09:15:00.123Z``)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return None  # a local time of unknown zone: not comparable to now
        return parsed.timestamp()
    return None


def relative(value: object, now: float) -> str:
    """``3 min ago``, ``in 12 s``, ``just now``; ``-`` when there is no time."""
    at = timestamp(value)
    if at is None:
        return "-"
    delta = now - at
    if abs(delta) < 1:
        return "just now"
    span = spoken_duration(abs(delta))
    return f"{span} ago" if delta > 0 else f"in {span}"


def describe_pauses(paused: Mapping[str, Any]) -> str:
    if paused.get("everything"):
        types = paused.get("types") or []
        return "everything" + (f" (and {', '.join(types)} on their own)" if types else "")
    types = paused.get("types") or []
    return ", ".join(types) if types else "nothing"


def format_status(status: Mapping[str, Any], now: float) -> str:
    """The ``status`` result: what runs, what waits, what holds, then a row per type."""
    lines = []
    running = status.get("running")
    if isinstance(running, Mapping):
        doing = f"syncing {running.get('type')}"
        details = [str(running[k]) for k in ("mode", "trigger") if running.get(k)]
        if running.get("stage"):
            stage = str(running["stage"])
            details.insert(0, STAGE_LABELS.get(stage, stage))
        if details:
            doing += f" ({', '.join(details)})"
        if running.get("run") is not None:
            doing += f", run {running['run']}"
        if (running.get("attempt") or 1) > 1:
            doing += f", attempt {running['attempt']}"
        if running.get("since") is not None:
            doing += f", started {relative(running['since'], now)}"
    else:
        # The daemon's word for it: idle, paused, portal hold, breaker open…
        state = status.get("state")
        doing = state if isinstance(state, str) and state else "idle"
    lines.append(f"state:        {doing}")
    queue = status.get("queue")
    if isinstance(queue, list):
        names = ", ".join(str(r.get("type")) + (" (held)" if r.get("held") else "") for r in queue)
        lines.append(f"queue:        {len(queue)} waiting" + (f": {names}" if names else ""))
    paused = status.get("paused")
    if isinstance(paused, Mapping):
        lines.append(f"paused:       {describe_pauses(paused)}")
    if "breaker" in status:
        lines.append(f"breaker:      {status['breaker']}")
    if "portal_hold" in status:
        lines.append(f"portal hold:  {status['portal_hold'] or 'none'}")
    sessions = status.get("sessions")
    if sessions is not None:
        count = len(sessions) if isinstance(sessions, list) else sessions
        lines.append(f"sessions:     {count} open")
    letters = status.get("dead_letters")
    if letters is not None:
        count = len(letters) if isinstance(letters, list) else letters
        hint = " (archid ctl dlq list)" if count else ""
        lines.append(f"dead letters: {count}{hint}")
    if "healthy" in status:
        lines.append(f"healthy:      {cell(bool(status['healthy']))}")
    types = _per_type(status, now)
    if types:
        lines.append("")
        lines.append(types)
    return "\n".join(lines)


def _per_type(status: Mapping[str, Any], now: float) -> str:
    due = status.get("next_due")
    health = status.get("health")
    per_health = health.get("types") if isinstance(health, Mapping) else None
    due = due if isinstance(due, Mapping) else {}
    per_health = per_health if isinstance(per_health, Mapping) else {}
    names = [t for t in TYPE_NAMES if t in due or t in per_health]
    if not names:
        return ""
    # The next sync first: what a person looks for is "what happens next".
    names.sort(key=lambda t: timestamp(due.get(t)) or math.inf)
    rows = []
    for name in names:
        type_health = per_health.get(name)
        rows.append(
            (
                name,
                relative(due.get(name), now) if name in due else "-",
                _healthy(type_health),
                relative(type_health.get("last_success"), now)
                if isinstance(type_health, Mapping)
                else "-",
            )
        )
    return table(("type", "next sync", "healthy", "last success"), rows)


def _healthy(health: object) -> str:
    if not isinstance(health, Mapping) or "healthy" not in health:
        return "-"
    return "yes" if health["healthy"] else "NO"


def format_health(health: Mapping[str, Any], now: float) -> str:
    """The ``health`` result: the verdict, then a row per enabled type."""
    types = health.get("types") or {}
    rows = []
    for name in sorted(types, key=lambda t: TYPE_NAMES.index(t) if t in TYPE_NAMES else 99):
        info = types[name]
        rate = info.get("success_rate")
        rows.append(
            (
                name,
                _healthy(info),
                "-" if rate is None else f"{rate * 100:.0f} %",
                info.get("consecutive_failures", 0),
                relative(info.get("last_success"), now),
                info.get("last_error"),
            )
        )
    verdict = "healthy" if health.get("healthy") else "NOT healthy"
    lines = [f"archid is {verdict}"]
    if rows:
        headers = ("type", "healthy", "success", "failed in a row", "last success", "last error")
        lines += ["", table(headers, rows, right="..rr")]
    return "\n".join(lines)


def format_history(runs: Sequence[Mapping[str, Any]], now: float) -> str:
    """The ``history`` result: a row per run, newest first, as the daemon lists them."""
    if not runs:
        return "no syncs yet"
    rows = []
    for run in runs:
        started, ended = timestamp(run.get("started_at")), timestamp(run.get("ended_at"))
        took = (
            spoken_duration(ended - started) if started is not None and ended is not None else "-"
        )
        error = None
        outcome = run.get("outcome")
        if outcome in (Outcome.UNCHANGED, Outcome.PREEMPTED):
            # Not errors: what the check saw, or who took the portal.
            error = run.get("error_message")
        elif outcome != Outcome.OK:
            where = f" at {run['error_stage']}" if run.get("error_stage") else ""
            error = f"{run.get('error_class') or 'error'}{where}: {run.get('error_message')}"
        trigger = run.get("trigger")
        if run.get("requested_by"):
            trigger = f"{trigger} ({run['requested_by']})"
        rows.append(
            (
                run.get("id"),
                run.get("type"),
                run.get("mode"),
                trigger,
                relative(run.get("started_at"), now),
                took,
                run.get("outcome"),
                run.get("parsed"),
                run.get("inserted"),
                run.get("updated"),
                run.get("deleted"),
                run.get("missing"),
                error,
            )
        )
    headers = (
        "run",
        "type",
        "mode",
        "trigger",
        "started",
        "took",
        "outcome",
        "records",
        "inserted",
        "updated",
        "deleted",
        "missing",
        "detail",
    )
    return table(headers, rows, right="r....r.rrrrr")


def format_queue(queue: Sequence[Mapping[str, Any]]) -> str:
    """The ``queue`` result, in the order the worker will take it."""
    if not queue:
        return "the queue is empty"
    rows = [
        (
            r.get("type"),
            r.get("priority"),
            r.get("mode"),
            r.get("trigger"),
            spoken_duration(r["waiting"]) if isinstance(r.get("waiting"), int | float) else "-",
            "held" if r.get("held") else "ready",
        )
        for r in queue
    ]
    return table(("type", "priority", "mode", "trigger", "waiting", "state"), rows, right=".r..r")


def format_queued(result: Mapping[str, Any], export_type: str) -> str:
    return (
        f"{export_type} sync queued"
        + queued_what(result.get("queued"))
        + "; follow it with: archid ctl watch"
    )


def queued_what(request: object) -> str:
    if not isinstance(request, Mapping):
        return ""
    details = [str(request[k]) for k in ("mode", "trigger") if request.get(k)]
    if request.get("priority") is not None:
        details.append(f"priority {request['priority']}")
    return f" ({', '.join(details)})" if details else ""


def format_sessions(sessions: Sequence[Mapping[str, Any]]) -> str:
    """The ``session.list`` result, oldest first (``age`` and ``expires_in`` are seconds)."""
    if not sessions:
        return "no open order-form sessions"

    def seconds(session: Mapping[str, Any], key: str) -> float | None:
        value = session.get(key)
        return float(value) if isinstance(value, int | float) else None

    ordered = sorted(sessions, key=lambda s: -(seconds(s, "age") or 0.0))
    rows = []
    for session in ordered:
        age, left = seconds(session, "age"), seconds(session, "expires_in")
        rows.append(
            (
                session.get("id"),
                session.get("user"),
                "-" if age is None else f"{spoken_duration(age)} ago",
                "-" if left is None else f"in {spoken_duration(left)}",
            )
        )
    return table(("id", "user", "opened", "closes by itself"), rows)


def format_dead_letters(letters: Sequence[Mapping[str, Any]], now: float) -> str:
    if not letters:
        return "no dead letters"
    rows = [
        (
            letter.get("id"),
            letter.get("type"),
            relative(letter.get("at"), now),
            len(letter.get("attempts") or []),
            letter.get("stage"),
            f"{letter.get('error')}: {letter.get('message')}",
        )
        for letter in sorted(letters, key=lambda d: d.get("id") or 0)
    ]
    body = table(("id", "type", "failed", "attempts", "stage", "error"), rows, right="r..r")
    return body + "\n\nretry one with: archid ctl dlq retry ID (or drop it: dlq drop ID)"


def format_reload(result: Mapping[str, Any]) -> str:
    """The ``reload`` result: done, and which sections' changes wait for a restart."""
    restart = result.get("restart_needed")
    if not restart:
        return "configuration reloaded"
    names = ", ".join(f"[{s}]" for s in restart) if isinstance(restart, list) else str(restart)
    return f"configuration reloaded; changes to {names} take effect at the next restart"


def counts_text(counts: Mapping[str, Any]) -> str:
    """``1,000 records: 3 inserted, 12 updated`` (``no change`` when nothing changed)."""
    kinds = ("inserted", "updated", "deleted", "restored", "missing")
    changes = ", ".join(
        f"{counts[k]:,} {k}" for k in kinds if isinstance(counts.get(k), int) and counts[k]
    )
    records = counts.get("records", counts.get("parsed"))
    head = f"{records:,} records: " if isinstance(records, int) else ""
    return head + (changes or "no change")


def format_outcome(result: Mapping[str, Any]) -> str:
    """The line ``sync --wait`` ends with: the sync's outcome, counts or error."""
    name = result.get("type") or "sync"
    outcome = result.get("outcome") or "?"
    line = f"{name} sync {outcome}"
    seconds = result.get("seconds")
    if isinstance(seconds, int | float):
        line += f" in {spoken_duration(seconds)}"
    counts = result.get("counts")
    if outcome == Outcome.OK and isinstance(counts, Mapping):
        line += f": {counts_text(counts)}"
    elif result.get("error"):
        line += f": {result['error']}"
    if result.get("run") is not None:
        line += f" (run {result['run']})"
    return line
