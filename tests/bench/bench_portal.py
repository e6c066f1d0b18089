"""Cold and warm exports through the real client against the simulator.

Run: ``.venv/bin/python -m tests.bench.bench_portal [--scale 0.2] [--repeat 1]``

For each type, a *cold* export starts a new browser, logs in and exports;
a *warm* one reuses that browser and session (no login). The ratio is
what session reuse saves per sync; the cold figure is also what a sync
pays after the browser was closed for idleness *minus* the login (the
session's cookies carry over), so the login's share is printed too.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from archid.portal.client import PortalClient, Timeouts
from archid.records import ExportType
from archid.sim.cache import ExportCache, default_cache_dir
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.portal import Portal, PortalOptions
from archid.sim.server import SimServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=1, help="cold/warm pairs per type")
    args = parser.parse_args()

    options = PortalOptions(ddt_flake=0.0)
    portal = Portal(dataset=Dataset.generate(1, args.scale), options=options, seed=1)
    server = SimServer(portal, ExportCache(default_cache_dir(), load_font(None)))
    server.start()
    timeouts = Timeouts(page=60, download=120, flake_pause=1.0)
    print(
        f"simulator at scale {args.scale:g} (loading panels {options.loading_min}-"
        f"{options.loading_max} s), {args.repeat} cold/warm pair(s) per type"
    )
    print(f"{'type':<10} {'MB':>6} {'cold s':>7} {'login s':>8} {'warm s':>7} {'ratio':>6}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            for export_type in ExportType:
                cold: list[float] = []
                warm: list[float] = []
                login: list[float] = []
                size = 0
                for _ in range(args.repeat):
                    portal.expire_sessions()
                    with PortalClient(
                        server.url, options.user, lambda: options.password, timeouts=timeouts
                    ) as client:
                        started = time.perf_counter()
                        result = client.export(export_type, out)
                        cold.append(time.perf_counter() - started)
                        login.append(result.seconds["login"])
                        started = time.perf_counter()
                        result = client.export(export_type, out)
                        warm.append(time.perf_counter() - started)
                        assert result.logins == 0
                        size = result.bytes
                c, w = statistics.median(cold), statistics.median(warm)
                print(
                    f"{export_type:<10} {size / 1e6:>6.2f} {c:>7.2f} "
                    f"{statistics.median(login):>8.2f} {w:>7.2f} {c / w:>5.1f}×"
                )
    finally:
        server.close()


if __name__ == "__main__":
    main()
