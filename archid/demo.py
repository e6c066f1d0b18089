"""``archid demo``: the simulated portal and a real browser exporting from it.

Until the daemon lands this shows the first half of the data flow: the
simulator on a free loopback port, headless Chromium logging in once and
exporting all six list views, and what each export took.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from archid.portal.client import PortalClient
from archid.portal.errors import PortalError
from archid.records import ExportType
from archid.sim.cache import ExportCache, default_cache_dir
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.portal import Portal, PortalOptions
from archid.sim.server import SimServer


def run_demo(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="archid-demo-"))
    print(f"archid demo: generating data (scale {args.scale:g}, seed {args.seed})…", flush=True)
    options = PortalOptions()
    dataset = Dataset.generate(args.seed, args.scale)
    portal = Portal(dataset=dataset, options=options, seed=args.seed)
    server = SimServer(portal, ExportCache(default_cache_dir(), load_font(None)))
    server.start()
    print(f"archid demo: simulated portal at {server.url}", flush=True)
    failures = 0
    rows = []
    try:
        with PortalClient(server.url, options.user, lambda: options.password) as client:
            for export_type in ExportType:
                started = time.monotonic()
                print(f"  exporting {export_type:<9} …", end="", flush=True)
                try:
                    result = client.export(export_type, out)
                except PortalError as exc:
                    failures += 1
                    print(f" failed: {type(exc).__name__}: {exc}", flush=True)
                    continue
                total = time.monotonic() - started
                records = len(dataset.records(export_type))
                print(f" {result.path.name} ({result.bytes:,} bytes) in {total:.1f} s", flush=True)
                rows.append((export_type, records, result.bytes, result.seconds, total))
            logins = client.logins
    finally:
        server.close()
    print()
    print(
        f"{'type':<10} {'records':>8} {'bytes':>11} {'login':>6} {'page':>6} "
        f"{'menu':>6} {'download':>9} {'total':>7}"
    )
    for export_type, records, size, seconds, total in rows:
        print(
            f"{export_type:<10} {records:>8,} {size:>11,} {seconds['login']:>6.1f} "
            f"{seconds['page_load']:>6.1f} {seconds['menu']:>6.1f} "
            f"{seconds['download']:>9.1f} {total:>7.1f}"
        )
    print(f"\nlogins: {logins}; files in {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(run_demo(argparse.Namespace(scale=0.2, seed=1, out=None)))
