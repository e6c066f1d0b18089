"""The ``archid`` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import io
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from archid import __version__, exitstatus
from archid.logs import VERBOSE_HELP
from archid.logs import configure as configure_logging

Handler = Callable[[argparse.Namespace], int]


class UsageParser(argparse.ArgumentParser):
    """argparse with ``sysexits.h``'s status for bad arguments: 64, not 2.

    Subparsers are made of the parser's own class, so every subcommand's
    errors exit 64 too.
    """

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        hint = ""
        if message.startswith("unrecognized arguments:") and _GLOBAL_OPTIONS & set(
            message.split(":", 1)[1].split()
        ):
            # ``archid check-config -v``: the global options come first.
            hint = " (-v goes before the subcommand: archid -v COMMAND ...)"
        self.exit(os.EX_USAGE, f"{self.prog}: error: {message}{hint}\n")


#: options of ``archid`` itself, not of its subcommands
_GLOBAL_OPTIONS = frozenset({"-v", "-vv", "-vvv", "--verbose"})


def _run(args: argparse.Namespace) -> int:
    from archid.app import run_daemon

    return run_daemon(args.config)


def _sim(args: argparse.Namespace) -> int:
    from archid.sim.main import run_sim

    return run_sim(args)


def _demo(args: argparse.Namespace) -> int:
    from archid.demo import run_demo

    return run_demo(args)


def _export(args: argparse.Namespace) -> int:
    from archid.portal.command import run_export

    return run_export(args)


def _parse(args: argparse.Namespace) -> int:
    from archid.exports.command import run_parse

    return run_parse(args)


def _ctl(args: argparse.Namespace) -> int:
    from archid.ctl import run_ctl

    return run_ctl(args)


def _check_config(args: argparse.Namespace) -> int:
    from archid.config import check_config

    return check_config(args.config)


def _default_config() -> str:
    return os.environ.get("ARCHID_CONFIG", "config.toml")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, just that subcommand's own
    arguments in full (the others get their help line, not their options).

    The options of ``sim``, ``export`` and ``parse`` live in modules that
    take a fifth of a second to import: ``archid ctl status`` (run by
    scripts, often) need not pay for them.
    """

    def wanted(name: str) -> bool:
        return only is None or only == name

    parser = UsageParser(
        prog="archid",
        description="Keeps a local SQLite mirror of the Archibald ERP portal fresh.",
    )
    parser.add_argument("--version", action="version", version=f"archid {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run",
        help="run the daemon (under systemd, or by hand)",
        description=(
            "Keep the mirror fresh: sync every type on its schedule, one at a time. "
            "SIGTERM/SIGINT stop it, SIGHUP reloads the configuration."
        ),
    )
    run.add_argument(
        "--config",
        default=_default_config(),
        help="config file (default: $ARCHID_CONFIG or ./config.toml)",
    )
    run.set_defaults(handler=_run)

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
    if wanted("sim"):
        from archid.sim.main import add_arguments

        add_arguments(sim)
    sim.set_defaults(handler=_sim)

    demo = commands.add_parser(
        "demo",
        help="run the daemon against the simulated portal, with live progress",
        description=(
            "Start the simulated portal on a free loopback port and the archid daemon "
            "against it (headless Chromium, parsers, SQLite) with an accelerated schedule "
            "and a new state folder. Every type is synced --rounds times; before each "
            "round after the first, a few records of every type change in the simulator, "
            "so the deltas show. Prints each sync's progress, a table per round, the "
            "database's path (the folder is kept) and queries to look inside it: the runs, "
            "a few customers and orders. Exit 1 if a type failed for good, "
            "130 if interrupted."
        ),
    )
    demo.add_argument(
        "--scale",
        type=float,
        default=0.2,
        help="data volume; 1 = the real portal's (default 0.2)",
    )
    demo.add_argument("--seed", type=int, default=1, help="data seed (default 1)")
    demo.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="syncs of every type (default 3: deletions show in the third)",
    )
    demo.add_argument(
        "--every",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="the accelerated schedule: each type is due this often (default 30)",
    )
    demo.add_argument(
        "--state-dir",
        metavar="DIR",
        help="new or empty folder for config.toml and archid.sqlite3 "
        "(default: a new temporary folder; kept either way)",
    )
    demo.set_defaults(handler=_demo)

    export = commands.add_parser(
        "export",
        help="export one list view from the portal as PDF (for debugging the portal)",
        description=(
            "Log in to the configured portal (the login counts against the daily budget) "
            "and export one list view; print the file and the seconds per "
            "stage. Exit 75 for a transient failure, 77 for credentials/blocked/budget, "
            "78 for a bad configuration."
        ),
    )
    if wanted("export"):
        from archid.portal.command import add_arguments as add_export_arguments

        add_export_arguments(export)
    export.set_defaults(handler=_export)

    parse = commands.add_parser(
        "parse",
        help="parse an export PDF into records (JSON lines or CSV on stdout)",
        description=(
            "Parse one export file as archid would during a sync and print its records. "
            "Exit 65 (EX_DATAERR) for a file that is not a valid export of TYPE, "
            "66 for a missing file, 64 for bad arguments."
        ),
    )
    if wanted("parse"):
        from archid.exports.command import add_arguments as add_parse_arguments

        add_parse_arguments(parse)
    parse.set_defaults(handler=_parse)

    ctl = commands.add_parser(
        "ctl",
        help="talk to the running daemon over its control socket",
        description=(
            "Ask the running daemon (over [control] socket) for its status, health, history "
            "and queue; pause, resume, sync, cancel; order-form sessions and dead letters. "
            "Tables by default, --json for scripts. Exit 1 if the daemon refused or the sync "
            "failed, 64 for bad arguments, 69 if no daemon listens, 76 for a broken answer, "
            "77 if not authorised, 78 if the configuration naming the socket cannot be read."
        ),
    )
    from archid.ctl import add_arguments as add_ctl_arguments

    add_ctl_arguments(ctl)
    ctl.set_defaults(handler=_ctl)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status.

    Ctrl-C ends any command with 130 and no traceback. A reader that goes
    away (``archid ctl history | head -1``) ends it quietly with 0, as
    ``archid parse`` always has: the output it took was what it wanted.
    A fatal signal (SIGSEGV, SIGBUS, SIGABRT …) still prints every
    thread's Python stack to stderr, so journald shows where it came.
    """
    with contextlib.suppress(AttributeError, ValueError, io.UnsupportedOperation):
        faulthandler.enable()  # not when stderr is no file (captured in-process)
    try:
        status = _main(argv)
        sys.stdout.flush()  # here, so that a closed pipe shows while it can be handled
        return status
    except KeyboardInterrupt:
        return exitstatus.INTERRUPTED
    except BrokenPipeError:
        # Point stdout at /dev/null so that the interpreter's last flush of
        # what is still buffered does not fail (and print) again on the way out.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return os.EX_OK


def _command_in(argv: Sequence[str]) -> str:
    """The subcommand's name: the first word that is not an option (archid's own
    options take no value), or ``""`` when there is none (``archid --help``)."""
    return next((word for word in argv if not word.startswith("-")), "")


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser(only=_command_in(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    # The daemon reports each sync at INFO; one-shot commands stay quiet.
    configure_logging(args.verbose, daemon=args.command == "run")
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
