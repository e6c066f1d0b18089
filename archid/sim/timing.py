"""How long the simulated portal takes: the server asks a :class:`Timing` for every delay.

Two profiles:

* ``fast`` (the default): as fast as tests want. Logins, pages and
  exports answer at once; loading panels and callbacks take the short
  random times of the ``loading_min``/``loading_max`` options, so that a
  client still has to wait for idle.
* ``real``: spec v3 "Where and how long", each delay with jitter and
  divided by ``time_scale`` (a test passes a large scale to keep the shape
  and lose the wait): login 3–8 s warm, 15–30 s cold (the first login after
  start or after :data:`COLD_AFTER` seconds without any request); a list
  page a few seconds to idle; a grid callback 0.25–0.88 s, about 0.5 s; a
  PDF export centred on :data:`TYPICAL_EXPORT` per type within
  :data:`EXPORT_RANGE`, DDT now and then several minutes.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from archid.records import ExportType

PROFILES = ("fast", "real")

#: seconds from the export click to the file, typical, per type (spec v3)
TYPICAL_EXPORT: Mapping[ExportType, float] = {
    ExportType.CUSTOMERS: 60.0,
    ExportType.ORDERS: 45.0,
    ExportType.DDT: 50.0,
    ExportType.INVOICES: 30.0,
    ExportType.PRODUCTS: 180.0,
    ExportType.PRICES: 200.0,
}
#: the range seen per type (seconds); DDT's long tail is drawn separately
EXPORT_RANGE: Mapping[ExportType, tuple[float, float]] = {
    ExportType.CUSTOMERS: (7.0, 75.0),
    ExportType.ORDERS: (25.0, 70.0),
    ExportType.DDT: (30.0, 90.0),
    ExportType.INVOICES: (15.0, 50.0),
    ExportType.PRODUCTS: (19.0, 230.0),
    ExportType.PRICES: (13.0, 250.0),
}
#: the share of DDT exports that take minutes (download limits of 120 s were hit)
DDT_LONG_SHARE = 0.05
DDT_LONG = (120.0, 320.0)
#: a portal idle this long (seconds, the simulator's clock) makes the next login cold
COLD_AFTER = 1800.0


@dataclass(frozen=True, slots=True)
class TimingSettings:
    """The part of the portal options a :class:`Timing` reads."""

    profile: str = "fast"
    time_scale: float = 1.0
    loading_min: float = 0.15
    loading_max: float = 0.8


class Timing:
    """Every delay of the simulated portal, drawn from ``settings()`` at each call.

    ``settings`` is a function so that option changes (``/_sim/options``)
    apply to the next delay. Safe to call from the handler threads.
    """

    def __init__(self, settings: Callable[[], TimingSettings], seed: int = 0) -> None:
        self._settings = settings
        self._rng = random.Random(seed ^ 0x71A1)
        self._lock = threading.Lock()

    def _draw(self, low: float, high: float, mode: float | None = None) -> float:
        with self._lock:
            if mode is None:
                return self._rng.uniform(low, high)
            return self._rng.triangular(low, high, mode)

    def _real(self) -> TimingSettings | None:
        settings = self._settings()
        return settings if settings.profile == "real" else None

    def _scaled(self, settings: TimingSettings, seconds: float) -> float:
        return seconds / max(settings.time_scale, 1e-9)

    def login(self, cold: bool) -> float:
        """Seconds the login callback takes before it answers."""
        real = self._real()
        if real is None:
            return 0.0
        return self._scaled(real, self._draw(15.0, 30.0) if cold else self._draw(3.0, 8.0))

    def page(self) -> float:
        """Seconds the server takes to answer a list view page."""
        real = self._real()
        return 0.0 if real is None else self._scaled(real, self._draw(0.5, 2.0))

    def initial_loading(self) -> float:
        """Seconds the loading panel stays up after a page's document has loaded."""
        settings = self._settings()
        if settings.profile != "real":
            return self._draw(settings.loading_min, settings.loading_max)
        return self._scaled(settings, self._draw(1.5, 4.0))

    def callback(self) -> float:
        """Seconds the server takes to answer one grid callback (sort, page, filter…)."""
        settings = self._settings()
        if settings.profile != "real":
            return self._draw(settings.loading_min, settings.loading_max) / 2
        return self._scaled(settings, self._draw(0.25, 0.88, 0.45))

    def panel_linger(self) -> float:
        """Seconds a loading panel stays up after a callback's answer has arrived."""
        settings = self._settings()
        if settings.profile != "real":
            return self._draw(settings.loading_min, settings.loading_max) / 2
        return self._scaled(settings, self._draw(0.05, 0.3))

    def export(self, t: ExportType) -> float:
        """Seconds of server work from the export click to the file, per type."""
        real = self._real()
        if real is None:
            return 0.0
        if t is ExportType.DDT and self._draw(0.0, 1.0) < DDT_LONG_SHARE:
            return self._scaled(real, self._draw(*DDT_LONG))
        low, high = EXPORT_RANGE[t]
        typical = TYPICAL_EXPORT[t]
        with self._lock:
            seconds = self._rng.gauss(typical, typical * 0.15)
        return self._scaled(real, min(max(seconds, low), high))
