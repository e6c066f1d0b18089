"""Cold and warm exports through the real client, against the fast and the real-timed simulator.

Run: ``.venv/bin/python -m tests.bench.bench_portal [--scale 0.2] [--repeat 1]
[--time-scale 10] [--profiles fast,real]``

For each type, a *cold* export starts a new browser, logs in and exports;
a *warm* one reuses that browser and session (no login). The ratio is
what session reuse saves per sync; the cold figure is also what a sync
pays after the browser was closed for idleness *minus* the login (the
session's cookies carry over), so the login's share is printed too.

Everything is measured once per ``--profiles`` entry, each against a
simulator of its own built from the same seed: ``fast`` (the simulator
answers at once, loading panels 0.15-0.8 s) and ``real`` (the real
portal's times from :mod:`archid.sim.timing` divided by ``--time-scale``
F; the client's timeouts get the room that needs, see
:mod:`tests.bench.profiles`). The figures are printed side by side, with
the real ones brought back to the portal's full speed: an *estimate*,
measured + (F - 1) × the simulator's waits. A login warms the portal up
first (not counted; in the real profile the portal's first login after
start is a cold one, 15-30 s). The simulator's file cache is shared:
files the first profile built are reused by the second.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from archid.portal.client import PortalClient, Timeouts
from archid.portal.errors import PortalError
from archid.records import ExportType
from archid.sim.cache import ExportCache, default_cache_dir
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.portal import Portal, PortalOptions
from archid.sim.server import SimServer
from tests.bench.profiles import (
    FULL_SPEED,
    Profile,
    Waits,
    add_arguments,
    client_timeouts,
    profiles,
)

#: the client's timeouts against the fast simulator; the real profile adds to them
FAST_TIMEOUTS = Timeouts(page=60, download=120, flake_pause=1.0)


@dataclass
class Row:
    """One type's medians under one profile; ``*_full`` the full-speed estimates."""

    size: int = 0
    cold: float = 0.0
    login: float = 0.0
    warm: float = 0.0
    cold_full: float = 0.0
    login_full: float = 0.0
    warm_full: float = 0.0
    #: why the type's exports failed under this profile, if they did
    failed: str = ""


@dataclass
class Run:
    profile: Profile
    options: PortalOptions
    timeouts: Timeouts
    warmup: float = 0.0
    rows: dict[ExportType, Row] = field(default_factory=dict)


def measure(profile: Profile, scale: float, repeat: int) -> Run:
    options = profile.options(PortalOptions(ddt_flake=0.0))
    portal = Portal(dataset=Dataset.generate(1, scale), options=options, seed=1)
    waits = Waits(portal)
    server = SimServer(portal, ExportCache(default_cache_dir(), load_font(None)))
    server.start()
    run = Run(profile, options, client_timeouts(FAST_TIMEOUTS, profile))

    def client() -> PortalClient:
        return PortalClient(
            server.url, options.user, lambda: options.password, timeouts=run.timeouts
        )

    try:
        with client() as warmup:
            started = time.perf_counter()
            warmup.login()
            run.warmup = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            for export_type in ExportType:
                cold: list[float] = []
                warm: list[float] = []
                login: list[float] = []
                cold_full: list[float] = []
                login_full: list[float] = []
                warm_full: list[float] = []
                size = 0
                failed = ""
                for _ in range(repeat):
                    portal.expire_sessions()
                    try:
                        with client() as c:
                            waited, logins = waits.total, waits.of("login")
                            started = time.perf_counter()
                            result = c.export(export_type, out)
                            cold.append(time.perf_counter() - started)
                            login.append(result.seconds["login"])
                            cold_full.append(profile.full_speed(cold[-1], waits.total - waited))
                            login_full.append(
                                profile.full_speed(login[-1], waits.of("login") - logins)
                            )
                            waited = waits.total
                            started = time.perf_counter()
                            result = c.export(export_type, out)
                            warm.append(time.perf_counter() - started)
                            warm_full.append(profile.full_speed(warm[-1], waits.total - waited))
                            assert result.logins == 0
                            size = result.bytes
                    except PortalError as exc:
                        # reported in the table; the other types still run
                        failed = f"{type(exc).__name__}: {exc}"
                        break
                m = statistics.median
                if failed:
                    run.rows[export_type] = Row(failed=failed)
                    print(f"  {profile.label} {export_type}: FAILED {failed}", flush=True)
                    continue
                run.rows[export_type] = Row(
                    size, m(cold), m(login), m(warm), m(cold_full), m(login_full), m(warm_full)
                )
                print(
                    f"  {profile.label} {export_type}: cold {m(cold):.1f} s, warm {m(warm):.1f} s",
                    flush=True,
                )
    finally:
        server.close()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=1, help="cold/warm pairs per type")
    add_arguments(parser)
    args = parser.parse_args()
    chosen = profiles(parser, args)

    fast = PortalOptions()
    print(
        f"simulator at scale {args.scale:g} (fast loading panels {fast.loading_min}-"
        f"{fast.loading_max} s), {args.repeat} cold/warm pair(s) per type"
    )
    runs: list[Run] = []
    for profile in chosen:
        t = client_timeouts(FAST_TIMEOUTS, profile)
        print(
            f"{profile.describe()}\n  client timeouts: login {t.login:.0f} s, page "
            f"{t.page:.0f} s, download {t.download:.0f} s",
            flush=True,
        )
        run = measure(profile, args.scale, args.repeat)
        runs.append(run)
        print(f"  {profile.label}: warm-up login (not counted) {run.warmup:.2f} s", flush=True)
    report(runs)


def report(runs: list[Run]) -> None:
    cells = f"{'cold s':>7} {'login s':>8} {'warm s':>7} {'ratio':>6}"
    width = len(cells)
    groups = [run.profile.label for run in runs]
    groups += [FULL_SPEED for run in runs if run.profile.real]
    print()
    print(f"{'':<10} {'':>6} " + " ".join(f"│ {g:<{width}}" for g in groups))
    print(f"{'type':<10} {'MB':>6} " + " ".join(f"│ {cells}" for _ in groups))

    def group(r: Row, cold: float, login: float, warm: float) -> str:
        if r.failed:
            return f"│ {'FAILED':^{width}}"
        return f"│ {cold:>7.2f} {login:>8.2f} {warm:>7.2f} {cold / warm:>5.1f}×"

    failures: list[str] = []
    for export_type in ExportType:
        rows = [run.rows[export_type] for run in runs]
        size = max(r.size for r in rows)
        line = f"{export_type:<10} {size / 1e6:>6.2f} "
        line += " ".join(group(r, r.cold, r.login, r.warm) for r in rows)
        for run, r in zip(runs, rows, strict=True):
            if run.profile.real:
                line += " " + group(r, r.cold_full, r.login_full, r.warm_full)
            if r.failed:
                failures.append(f"{run.profile.label} {export_type}: {r.failed}")
        print(line)
    for failure in failures:
        print(f"FAILED {failure}")


if __name__ == "__main__":
    main()
