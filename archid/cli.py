"""The ``archid`` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from archid import __version__

Handler = Callable[[argparse.Namespace], int]


def _sim(args: argparse.Namespace) -> int:
    from archid.sim.main import run_sim

    return run_sim(args)


def _demo(args: argparse.Namespace) -> int:
    from archid.demo import run_demo

    return run_demo(args)


def _check_config(args: argparse.Namespace) -> int:
    from archid.config import check_config

    return check_config(args.config)


def _default_config() -> str:
    return os.environ.get("ARCHID_CONFIG", "config.toml")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archid",
        description="Keeps a local SQLite mirror of the Archibald ERP portal fresh.",
    )
    parser.add_argument("--version", action="version", version=f"archid {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (repeatable)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check-config",
        help="load and validate a configuration file",
        description="Load and validate a configuration file; exit 78 (EX_CONFIG) if it is bad.",
    )
    check.add_argument(
        "--config",
        default=_default_config(),
        help="config file (default: $ARCHID_CONFIG or ./config.toml)",
    )
    check.set_defaults(handler=_check_config)

    sim = commands.add_parser(
        "sim",
        help="serve the simulated Archibald portal",
        description="Serve a simulated Archibald portal on loopback, for tests and demos.",
    )
    from archid.sim.main import add_arguments

    add_arguments(sim)
    sim.set_defaults(handler=_sim)

    demo = commands.add_parser(
        "demo",
        help="run the simulator and export every list view with a real browser",
        description=(
            "Start the simulated portal on a free loopback port, log in with headless "
            "Chromium and export all six list views, showing what each took."
        ),
    )
    demo.add_argument("--scale", type=float, default=0.2, help="data volume (1 = real portal)")
    demo.add_argument("--seed", type=int, default=1, help="data seed")
    demo.add_argument("--out", help="folder for the exported files (default: a temporary one)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * args.verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
