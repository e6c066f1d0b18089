"""Faults a test can inject into the simulated portal through ``/_sim/faults``.

A fault is armed with a kind, an optional scope (an export type or a path
fragment) and a count of how many times it fires (``None``: until cleared).
The portal asks :meth:`FaultBoard.take` at the point where each kind applies;
a fault that fires uses up one of its times.
"""

from __future__ import annotations

import enum
import itertools
import threading
from dataclasses import dataclass
from typing import Any


class FaultKind(enum.StrEnum):
    """Every failure the simulator can produce on demand."""

    #: every login attempt fails as if the password were wrong
    WRONG_PASSWORD = "wrong_password"
    #: pages whose path contains ``path`` answer HTTP 500
    HTTP_500 = "http_500"
    #: the response to a matching page or export never arrives
    HANG = "hang"
    #: the export download trickles at ``rate`` bytes per second
    SLOW_DOWNLOAD = "slow_download"
    #: the export is cut off after ``keep`` of its bytes (default: half)
    TRUNCATED_PDF = "truncated_pdf"
    #: the export download is an HTML error page instead of a PDF
    NON_PDF = "non_pdf"
    #: the export has its headers but no rows
    EMPTY_EXPORT = "empty_export"
    #: the export download is a zero-byte file
    ZERO_BYTES = "zero_bytes"
    #: a saved filter shrinks the export to a tenth of its rows
    SHRUNKEN_EXPORT = "shrunken_export"
    #: every page answers with the maintenance page (HTTP 503)
    MAINTENANCE = "maintenance"
    #: the export prints ``text`` in the column headed ``column`` of its first
    #: ``rows`` rows (``null``: every row), as a portal whose format changed would
    BAD_CELLS = "bad_cells"
    #: the export download announces its full length but the connection closes
    #: after ``keep`` of its bytes: the browser's download is interrupted
    CUT_BODY = "cut_body"
    #: at the export the session ends and the answer is a redirect to the login page
    LOGIN_REDIRECT = "login_redirect"
    #: a grid callback whose command contains ``path`` (``ROWVALUES``, ``SORT``,
    #: ``PSI``…) answers with an error text (the page shows it as a banner)
    GRID_ERROR = "grid_error"


@dataclass
class Fault:
    """One armed fault; ``times`` counts down, ``None`` never runs out."""

    id: int
    kind: FaultKind
    type: str | None = None
    path: str | None = None
    times: int | None = 1
    rate: float = 50_000.0
    keep: float = 0.5
    seconds: float = 600.0
    column: str | None = None
    text: str = "?"
    rows: int | None = 1
    fired: int = 0

    def matches(self, export_type: str | None, path: str | None) -> bool:
        if self.type is not None and self.type != export_type:
            return False
        return self.path is None or (path is not None and self.path in path)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": str(self.kind),
            "type": self.type,
            "path": self.path,
            "times": self.times,
            "fired": self.fired,
            "rate": self.rate,
            "keep": self.keep,
            "seconds": self.seconds,
            "column": self.column,
            "text": self.text,
            "rows": self.rows,
        }


class FaultBoard:
    """The armed faults, safe to use from the server's handler threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        #: set when faults are cleared, so hung responses can end
        self.released = threading.Event()

    def arm(self, spec: dict[str, Any]) -> Fault:
        """Arm a fault from its JSON description; ``ValueError`` when invalid."""
        if not isinstance(spec, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(spec) - {
            "kind", "type", "path", "times", "rate", "keep", "seconds", "column", "text", "rows"
        }  # fmt: skip
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        try:
            kind = FaultKind(str(spec.get("kind")))
        except ValueError:
            known = ", ".join(k.value for k in FaultKind)
            raise ValueError(f"unknown fault kind {spec.get('kind')!r} (known: {known})") from None
        times = spec.get("times", 1)
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ValueError("times must be a positive integer or null")
        numbers: dict[str, float] = {}
        for name, low, high in (("rate", 1.0, 1e12), ("keep", 0.0, 1.0), ("seconds", 0.0, 1e5)):
            if name in spec:
                value = spec[name]
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise ValueError(f"{name} must be a number")
                if not low <= value <= high:
                    raise ValueError(f"{name} must be between {low} and {high}")
                numbers[name] = float(value)
        for name in ("type", "path", "column", "text"):
            if spec.get(name) is not None and not isinstance(spec[name], str):
                raise ValueError(f"{name} must be a string")
        rows = spec.get("rows", 1)
        if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 1):
            raise ValueError("rows must be a positive integer or null")
        if kind is FaultKind.BAD_CELLS and not spec.get("column"):
            raise ValueError("a bad_cells fault needs the column's header as printed")
        with self._lock:
            fault = Fault(
                id=next(self._ids),
                kind=kind,
                type=spec.get("type"),
                path=spec.get("path"),
                times=times,
                rate=numbers.get("rate", Fault.rate),
                keep=numbers.get("keep", Fault.keep),
                seconds=numbers.get("seconds", Fault.seconds),
                column=spec.get("column"),
                text=spec.get("text") or Fault.text,
                rows=rows,
            )
            self._faults.append(fault)
            self.released.clear()
        return fault

    def take(
        self, kind: FaultKind, export_type: str | None = None, path: str | None = None
    ) -> Fault | None:
        """The first armed fault of ``kind`` matching the scope, used up once."""
        with self._lock:
            for fault in self._faults:
                if fault.kind is kind and fault.matches(export_type, path):
                    fault.fired += 1
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        """Disarm everything and let hung responses finish."""
        with self._lock:
            self._faults.clear()
        self.released.set()

    def as_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.as_json() for fault in self._faults]
