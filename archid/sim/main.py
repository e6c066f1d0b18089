"""``archid sim``: build a dataset, a portal and a server, and serve until stopped."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from archid.sim.cache import ExportCache, default_cache_dir
from archid.sim.dataset import Dataset
from archid.sim.filters import PREFIXES
from archid.sim.font import load_font
from archid.sim.layouts import EPOCHS, NEWEST
from archid.sim.portal import Portal, PortalOptions
from archid.sim.server import SimServer
from archid.sim.timing import PROFILES

log = logging.getLogger("archid.sim")

DEFAULTS = PortalOptions()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    parser.add_argument("--seed", type=int, default=1, help="data seed (default 1)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="data volume; 1 = the real portal's (default)"
    )
    parser.add_argument("--user", default=DEFAULTS.user, help=f"accepted user ({DEFAULTS.user})")
    parser.add_argument(
        "--password",
        default=None,
        help=f"accepted password ({DEFAULTS.password}); prefer --password-file",
    )
    parser.add_argument("--password-file", type=Path, help="file holding the accepted password")
    parser.add_argument(
        "--test-api", action="store_true", help="serve the /_sim/ test API (never in production)"
    )
    parser.add_argument(
        "--session-idle",
        type=float,
        default=DEFAULTS.session_idle,
        help=f"seconds until an idle session ends ({DEFAULTS.session_idle:g})",
    )
    parser.add_argument(
        "--login-cap",
        type=int,
        default=DEFAULTS.daily_login_cap,
        help=f"logins a day before the portal blocks ({DEFAULTS.daily_login_cap})",
    )
    parser.add_argument(
        "--ddt-flake",
        type=float,
        default=DEFAULTS.ddt_flake,
        help=f"chance that a session's first DDT export fails ({DEFAULTS.ddt_flake:g})",
    )
    parser.add_argument(
        "--layout",
        choices=EPOCHS,
        default=NEWEST,
        help=f"layout epoch of the exports (spec v2 layout history; default {NEWEST})",
    )
    parser.add_argument(
        "--timing",
        choices=PROFILES,
        default=DEFAULTS.timing,
        help="fast: answer at once (tests); real: the real portal's delays (spec v3)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=DEFAULTS.time_scale,
        help="divide the real timings by this (default 1)",
    )
    parser.add_argument(
        "--filter-prefix",
        choices=PREFIXES,
        default=DEFAULTS.filter_prefix,
        help=f"the a<m> of filter ids and values (default {DEFAULTS.filter_prefix})",
    )
    parser.add_argument("--cache-dir", type=Path, help="where generated exports are kept")
    parser.add_argument("--font", type=Path, help="TrueType font for the exports")


def build_server(args: argparse.Namespace) -> SimServer:
    """Everything ``archid sim`` serves, from parsed arguments (bad ones: ``ValueError``)."""
    if args.scale <= 0:
        raise ValueError("--scale must be positive")
    if not 0 <= args.port <= 65535:
        raise ValueError("--port must be 0 to 65535")
    password = args.password if args.password is not None else DEFAULTS.password
    if args.password_file is not None:
        password = args.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        if not password:
            raise ValueError(f"{args.password_file} is empty")
    options = PortalOptions(user=args.user, password=password)
    options.update(
        {
            "session_idle": args.session_idle,
            "daily_login_cap": args.login_cap,
            "ddt_flake": args.ddt_flake,
            "layout": args.layout,
            "timing": args.timing,
            "time_scale": args.time_scale,
            "filter_prefix": args.filter_prefix,
        }
    )
    dataset = Dataset.generate(args.seed, args.scale)
    portal = Portal(dataset=dataset, options=options, seed=args.seed)
    cache = ExportCache(args.cache_dir or default_cache_dir(), load_font(args.font))
    return SimServer(portal, cache, args.host, args.port, test_api=args.test_api)


def run_sim(args: argparse.Namespace) -> int:
    try:
        server = build_server(args)
    except (OSError, ValueError) as exc:
        print(f"archid sim: {exc}", file=sys.stderr)
        return 64  # EX_USAGE, as for every bad argument

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    api = ", test API on" if server.test_api else ""
    print(
        f"archid sim: serving {server.url} (user {args.user!r}, scale {args.scale:g}, "
        f"seed {args.seed}, layout {args.layout}, timing {args.timing}{api})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.portal.faults.clear()
        server.server_close()
    return 0
