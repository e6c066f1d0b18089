"""Following a sync's events live: a bar on a terminal, a line per change elsewhere."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, TextIO

from archid.config.durations import spoken_duration
from archid.ctl.stages import STAGE_LABELS, STAGES
from archid.ctl.tables import counts_text, timestamp
from archid.daemon.event_kinds import EventKind

#: the events after which the sync has no stage any more
_ENDS = (EventKind.FINISHED, EventKind.FAILED, EventKind.DEAD_LETTER)


def bar(fraction: float, width: int = 24) -> str:
    """``[#########...............]``: ``fraction`` (clamped to 0..1) of ``width``."""
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


class Follow:
    """Shows a stream of events (``Event.as_json()`` dicts) as they come.

    On a terminal the running stage is one bar line, redrawn in place, and
    the lines that stay (started, finished, failed, retrying…) are printed
    above it. Elsewhere each stage change is a line of its own and
    progress within a stage is not repeated. ``finished_lines=False``
    leaves out the ``finished`` line (``sync --wait`` prints the outcome).
    """

    def __init__(self, out: TextIO, *, finished_lines: bool = True) -> None:
        self._out = out
        self._tty = out.isatty()
        self._finished_lines = finished_lines
        self._bar = False
        self._stage: dict[str, str] = {}  # type → its current stage
        self._started: dict[str, float] = {}  # type → when its attempt started

    def close(self) -> None:
        """Take a bar that is still on screen away (the sync ended, or Ctrl-C)."""
        self._clear()
        self._out.flush()

    def event(self, event: Mapping[str, Any]) -> None:
        kind = event.get("kind")
        name = str(event.get("type") or "")
        at = timestamp(event.get("at")) or time.time()
        if kind in (EventKind.STAGE, EventKind.PROGRESS):
            self._progress(name, event, at)
            return
        line = self._line(kind, name, event)
        if kind in _ENDS:
            self._stage.pop(name, None)
            self._started.pop(name, None)
        if line is not None:
            self._say(f"{name:<10} {line}" if name else line)

    def _line(self, kind: object, name: str, event: Mapping[str, Any]) -> str | None:
        message = event.get("message") or ""
        data = event.get("data") or {}
        if kind == EventKind.STARTED:
            self._started[name] = timestamp(event.get("at")) or time.time()
            run = f", run {event['run']}" if event.get("run") is not None else ""
            return f"sync started ({message}{run})" if message else f"sync started{run}"
        if kind == EventKind.FINISHED:
            if not self._finished_lines:
                return None
            seconds = data.get("seconds") or {}
            stages = ", ".join(
                f"{s} {seconds[s]:.{2 if s == 'apply' else 1}f} s"
                for s in ("export", "parse", "apply")
                if isinstance(seconds.get(s), int | float)
            )
            store_run = data.get("store_run", event.get("run"))
            tail = f" ({stages})" if stages else ""
            return f"finished: {counts_text(data)}{tail}" + (
                f", run {store_run}" if store_run else ""
            )
        if kind == EventKind.FAILED:
            where = f" at {event['stage']}" if event.get("stage") else ""
            return f"failed{where}: {data.get('error', 'error')}: {message}"
        if kind == EventKind.DEAD_LETTER:
            return f"gave up (dead letter): {message}"
        if kind == EventKind.QUEUED:
            return f"queued{': ' + message if message else ''}"
        if kind == EventKind.PAUSED:
            return message or "pauses changed"
        if kind == EventKind.HOLD:
            return f"portal hold {message}" if message == "lifted" else f"portal hold: {message}"
        if kind == EventKind.BREAKER:
            return f"circuit breaker {message}"
        if kind == EventKind.ALERT:
            return f"ALERT: {message}"
        return f"{kind}{': ' + message if message else ''}"

    def _progress(self, name: str, event: Mapping[str, Any], at: float) -> None:
        stage = str(event.get("stage") or "")
        changed = self._stage.get(name) != stage
        self._stage[name] = stage
        text = progress_text(name, event, at - self._started.get(name, at))
        if self._tty:
            self._clear()
            self._out.write(text)
            self._out.flush()
            self._bar = True
        elif changed or _complete(event):
            self._say(text)

    def _say(self, line: str) -> None:
        self._clear()
        self._out.write(line + "\n")
        self._out.flush()

    def _clear(self) -> None:
        if self._bar:
            self._out.write("\r\x1b[K")
            self._bar = False


def _complete(event: Mapping[str, Any]) -> bool:
    """Whether a progress event says its stage's work is all done (a line worth
    keeping in a log): the parse's count, or ``current`` reaching ``total``."""
    current, total = event.get("current"), event.get("total")
    if not isinstance(current, int):
        return False
    return event.get("stage") == "parse" or (isinstance(total, int) and current >= total)


def progress_text(name: str, event: Mapping[str, Any], elapsed: float) -> str:
    """One stage's bar line: the stage's own progress where the event gives it
    (``current`` of ``total``, pages or rows), else the sync's place among its stages."""
    stage = str(event.get("stage") or "")
    current, total = event.get("current"), event.get("total")
    label = STAGE_LABELS.get(stage, stage)
    detail = ""
    fraction: float | None = None
    if stage == "parse" and isinstance(current, int):
        # The parse reports once, at its end: records out of a number of pages.
        detail = f"{current:,} records" + (f" from {total:,} pages" if total else "")
        fraction = 1.0
    elif stage == "apply" and isinstance(total, int):
        detail = f"{total:,} rows" if current is None else f"{current:,} of {total:,} rows"
        fraction = current / total if isinstance(current, int) and total else None
    elif isinstance(current, int) and isinstance(total, int) and total > 0:
        unit = str((event.get("data") or {}).get("unit") or "")
        detail = f"{current:,} of {total:,}" + (f" {unit}" if unit else "")
        fraction = current / total
    if fraction is None:
        place = STAGES.index(stage) + 1 if stage in STAGES else 0
        fraction = place / len(STAGES)
    text = f"{name:<10} {bar(fraction)} {label}"
    if detail:
        text += f": {detail}"
    if elapsed > 0:
        text += f"  {spoken_duration(elapsed)}"
    return text
