"""The simulator's two timing profiles, for the benchmarks that time the portal client or a sync.

Each such benchmark measures twice in one run: against the ``fast``
simulator (it answers at once; short loading panels) and against
``timing="real"`` with ``time_scale`` F, the real portal's times
(:mod:`archid.sim.timing`: login 3-8 s warm, 15-30 s cold, a list page a
few seconds to idle, a grid callback about 0.5 s, an export 30-200 s by
type) divided by F. Both profiles get a simulator of their own built from
the same seed, so they see the same data and the same changes.

:class:`Waits` sums the delays the simulator hands out. A figure measured
against the real profile is brought back to the portal's full speed as
``measured + (F - 1) × waited``: the simulator's waits counted F times,
the machine's own work (browser, parser, store) once. That is an
*estimate*: the delays are random draws around the spec's times, and a
loading panel's linger after each callback is counted once per page.

The timeouts for the real profile are the fast run's plus 1.5 times the
real portal's worst case for that step divided by F (:func:`client_timeouts`,
:func:`real_config`): long enough for the slowest draw, no longer.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archid.config import load_config
from archid.portal.client import Timeouts
from archid.records import ExportType
from archid.sim.portal import Portal, PortalOptions
from archid.sim.timing import DDT_LONG, EXPORT_RANGE, TYPICAL_EXPORT

PROFILES = ("fast", "real")
#: the heading of the columns that bring the real profile back to full speed
FULL_SPEED = "≈ full speed, est."
DEFAULT_TIME_SCALE = 10.0

#: the real portal's worst seconds per step, unscaled (archid/sim/timing.py):
#: a cold login; a list page's answer plus its loading panel plus a callback
#: and its linger; the slowest export (a DDT in its long tail)
LOGIN_WORST = 30.0
PAGE_WORST = 2.0 + 4.0 + 0.88 + 0.3
EXPORT_WORST = max(DDT_LONG[1], *(high for _, high in EXPORT_RANGE.values()))
#: one sync: login, a few pages and callbacks (list page, filters, sort), the export
SYNC_WORST = LOGIN_WORST + 4 * PAGE_WORST + EXPORT_WORST
#: headroom over the worst draw
MARGIN = 1.5


@dataclass(frozen=True)
class Profile:
    """One timing profile of the simulator, as a benchmark runs it."""

    name: str
    time_scale: float

    @property
    def real(self) -> bool:
        return self.name == "real"

    @property
    def label(self) -> str:
        """A column group's heading: ``fast`` or ``real ÷10``."""
        return f"real ÷{self.time_scale:g}" if self.real else "fast"

    def options(self, base: PortalOptions) -> PortalOptions:
        """``base`` with this profile's timing."""
        if not self.real:
            return dataclasses.replace(base, timing="fast")
        return dataclasses.replace(base, timing="real", time_scale=self.time_scale)

    def extra(self, worst: float) -> float:
        """Seconds a timeout needs on top of the fast profile's for a step of ``worst`` s."""
        return MARGIN * worst / self.time_scale if self.real else 0.0

    def full_speed(self, measured: float, waited: float) -> float:
        """Estimate: ``measured`` with the simulator's ``waited`` seconds at full speed."""
        return measured + (self.time_scale - 1) * waited if self.real else measured

    def describe(self) -> str:
        if not self.real:
            return "fast: the simulator answers at once, but for its loading panels"
        typical = TYPICAL_EXPORT[ExportType.CUSTOMERS]
        return (
            f"real ÷{self.time_scale:g}: the real portal's times divided by {self.time_scale:g} "
            f"(a {typical:g} s customers export takes {typical / self.time_scale:.3g} s); "
            "'≈ full speed' figures are ESTIMATES "
            f"of the same at the portal's own speed: measured + ({self.time_scale:g} - 1) × the "
            "simulator's waits during it"
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--time-scale",
        type=float,
        default=DEFAULT_TIME_SCALE,
        metavar="F",
        help="the real profile's times divided by F (default %(default)g)",
    )
    parser.add_argument(
        "--profiles",
        default=",".join(PROFILES),
        help="comma-separated simulator timing profiles to run: fast, real (default both)",
    )


def profiles(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[Profile]:
    """The ``--profiles`` to run, in the order given, with ``--time-scale``."""
    if not args.time_scale > 0:
        parser.error("--time-scale must be above 0")
    names = [name.strip() for name in args.profiles.split(",") if name.strip()]
    unknown = [name for name in names if name not in PROFILES]
    if unknown or not names or len(set(names)) != len(names):
        parser.error(f"--profiles: a comma-separated list of {', '.join(PROFILES)}")
    return [Profile(name, args.time_scale) for name in names]


def client_timeouts(base: Timeouts, profile: Profile) -> Timeouts:
    """``base`` (the fast profile's) with room for the real portal's steps at ``profile``."""
    return dataclasses.replace(
        base,
        login=base.login + profile.extra(LOGIN_WORST),
        page=base.page + profile.extra(PAGE_WORST),
        download=base.download + profile.extra(EXPORT_WORST),
    )


def real_config(path: Path, profile: Profile) -> dict[str, float]:
    """Give the daemon's config at ``path`` the timeouts the profile needs, in place.

    The ``[portal]`` login/page/download timeouts and every ``[schedule.*]``
    timeout become the ones in effect plus :meth:`Profile.extra` of the real
    portal's worst step (nothing changes for the fast profile). Returns the
    new values, named as in the file, for the benchmark to print.
    """
    if not profile.real:
        return {}
    config = load_config(path)
    portal = config.portal
    values = {
        "login_timeout": portal.login_timeout + profile.extra(LOGIN_WORST),
        "page_timeout": portal.page_timeout + profile.extra(PAGE_WORST),
        "download_timeout": portal.download_timeout + profile.extra(EXPORT_WORST),
    }
    text = path.read_text()
    if text.count("[portal]\n") != 1:
        raise ValueError(f"{path}: no single [portal] table to extend")
    lines = "".join(f"{key} = {value:.1f}\n" for key, value in values.items())
    text = text.replace("[portal]\n", "[portal]\n" + lines)

    def schedule(match: re.Match[str]) -> str:
        t = ExportType(match.group(1))
        timeout = config.schedules[t].timeout + profile.extra(SYNC_WORST)
        values[f"schedule.{t}.timeout"] = timeout
        return f"{match.group(0)}timeout = {timeout:.1f}\n"

    text = re.sub(r"^\[schedule\.(\w+)\]\n", schedule, text, flags=re.MULTILINE)
    if len(values) != 3 + len(ExportType):
        raise ValueError(f"{path}: not every type has a [schedule.*] table to extend")
    path.write_text(text)
    written = load_config(path)
    assert abs(written.portal.download_timeout - values["download_timeout"]) < 0.1
    return values


def describe_timeouts(values: dict[str, float]) -> str:
    """One line of the timeouts :func:`real_config` wrote."""
    if not values:
        return ""
    portal = ", ".join(f"{k} {v:.0f} s" for k, v in values.items() if "." not in k)
    schedules = sorted({round(v) for k, v in values.items() if "." in k})
    return f"[portal] {portal}; [schedule.*] timeout {'/'.join(map(str, schedules))} s"


class Waits:
    """The seconds of delay the simulator's :class:`~archid.sim.timing.Timing` handed out.

    Wraps the portal's timing in place (every delay goes through it);
    :attr:`total` only grows. Delays drawn but not slept (a poll's quarter
    callback) are counted whole: a slight overcount, against the panels'
    linger counted once per page.
    """

    _NAMES = ("login", "page", "initial_loading", "callback", "panel_linger", "export")

    def __init__(self, portal: Portal) -> None:
        self._lock = threading.Lock()
        self._totals = dict.fromkeys(self._NAMES, 0.0)
        timing = portal.timing
        for name in self._NAMES:
            setattr(timing, name, self._counted(name, getattr(timing, name)))

    def _counted(self, name: str, draw: Callable[..., float]) -> Callable[..., float]:
        def counted(*args: Any) -> float:
            seconds = draw(*args)
            with self._lock:
                self._totals[name] += seconds
            return seconds

        return counted

    @property
    def total(self) -> float:
        """Every delay so far, seconds."""
        with self._lock:
            return sum(self._totals.values())

    def of(self, name: str) -> float:
        """The delays of one kind so far (``login``, ``export``…), seconds."""
        with self._lock:
            return self._totals[name]
